package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// rebind turns the PostgreSQL placeholders $1, $2 the queries are written
// with into SQLite's ?1, ?2, which keep their numbers so an argument can
// be used twice. Quoted text is left alone.
func (q queries) rebind(query string) string {
	if q.dialect != SQLite || !strings.Contains(query, "$") {
		return query
	}
	b := []byte(query)
	quoted := false
	for i, c := range b {
		switch {
		case c == '\'':
			quoted = !quoted
		case c == '$' && !quoted && i+1 < len(b) && b[i+1] >= '0' && b[i+1] <= '9':
			b[i] = '?'
		}
	}
	return string(b)
}

// args collects the arguments of a query built piece by piece, numbering
// the placeholders from their position so values never enter the SQL.
type args []any

// add appends v and returns its placeholder.
func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// activeStatesSQL is the SQL list of ActiveStates, for `state IN (...)`.
// The states are constants, so they may appear as literals.
var activeStatesSQL = func() string {
	quoted := make([]string, len(ActiveStates))
	for i, s := range ActiveStates {
		quoted[i] = "'" + string(s) + "'"
	}
	return strings.Join(quoted, ", ")
}()

// t is the argument for a time column: NULL for the zero time, otherwise
// UTC to the microsecond, the precision of both databases, so a time reads
// back equal to what was written. SQLite gets unix microseconds.
func (q queries) t(v time.Time) any {
	if v.IsZero() {
		return nil
	}
	v = v.UTC().Truncate(time.Microsecond)
	if q.dialect == SQLite {
		return v.UnixMicro()
	}
	return v
}

// nowArg returns the current time as stored and as a time.Time equal to
// what a read returns.
func (q queries) nowArg() (any, time.Time) {
	now := q.now().UTC().Truncate(time.Microsecond)
	return q.t(now), now
}

// timeScanner reads a time column of either database into dst; NULL is
// the zero time.
type timeScanner struct{ dst *time.Time }

func (s timeScanner) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*s.dst = time.Time{}
	case int64:
		*s.dst = time.UnixMicro(v).UTC()
	case time.Time:
		*s.dst = v.UTC()
	default:
		return fmt.Errorf("cannot read %T as a time", src)
	}
	return nil
}

func scanTime(dst *time.Time) timeScanner { return timeScanner{dst} }

// nullZero stores 0 as NULL, for ids that are unknown until later.
func nullZero(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

// nullBytes stores nil as NULL (a driver may bind it as an empty value).
func nullBytes(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// wrap adds the operation to err and maps the drivers' errors for a
// missing row and a unique violation to ErrNotFound and ErrExists.
func wrap(err error, format string, a ...any) error {
	op := fmt.Sprintf(format, a...)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("store: %s: %w", op, ErrNotFound)
	case isUniqueViolation(err):
		return fmt.Errorf("store: %s: %w", op, ErrExists)
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// pgUniqueViolation is PostgreSQL's SQLSTATE unique_violation.
const pgUniqueViolation = "23505"

func isUniqueViolation(err error) bool {
	if e, ok := errors.AsType[*sqlite.Error](err); ok {
		c := e.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	if e, ok := errors.AsType[*pgconn.PgError](err); ok {
		return e.Code == pgUniqueViolation
	}
	return false
}
