package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"
)

// Options tunes [Open]. The zero value is ready to use.
type Options struct {
	// BusyTimeout is how long a SQLite statement waits for a lock held by
	// another process before it fails with SQLITE_BUSY. Within one process
	// the single connection already queues writers, so this only matters
	// when two processes share the file. Defaults to 10 seconds; ignored for
	// PostgreSQL.
	BusyTimeout time.Duration
	// Logger receives a line per applied migration. Nil: migrations are
	// silent.
	Logger *slog.Logger
	// MaxOpenConns caps the PostgreSQL connection pool, which the job queue
	// shares. Defaults to 10; ignored for SQLite, which always uses one.
	MaxOpenConns int
	// Now is the clock that stamps CreatedAt, UpdatedAt and the like.
	// Defaults to time.Now.
	Now func() time.Time
}

// Store is the database of dbtlink serve. It is safe for concurrent use.
// Its data methods are also methods of [Tx].
type Store struct {
	queries
	db *sql.DB
	// secrets are the forms of the DSN password, removed from errors that
	// the driver builds later (a failed reconnection in Ping).
	secrets []string
}

// Tx is a transaction opened by [Store.InTx]. It has the data methods of
// Store, run inside the transaction.
type Tx struct {
	queries
	tx *sql.Tx
}

// SQL returns the underlying transaction, so that other code sharing the
// database (the job queue) can write in the same transaction.
func (t *Tx) SQL() *sql.Tx { return t.tx }

// Close closes the database.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// DB returns the database handle, shared with the job queue. On SQLite it
// holds a single connection: a caller that keeps a transaction or a Rows
// open blocks every other use of the store until it is done.
func (s *Store) DB() *sql.DB { return s.db }

// Dialect reports which database the store uses.
func (s *Store) Dialect() Dialect { return s.dialect }

// InTx runs fn in a transaction, committed if fn returns nil and rolled
// back otherwise (also when fn panics); fn's error is returned as is.
//
// Inside fn use only tx, never the Store: on SQLite the transaction holds
// the only connection, so a call on the Store would wait for it forever.
// On PostgreSQL a failed statement aborts the transaction, so after a
// method of tx fails (even with ErrExists) fn should return.
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	// On PostgreSQL the transaction runs on a connection taken for it, so
	// that its bulk writes can use COPY (see atomicCopy).
	var (
		begin interface {
			BeginTx(context.Context, *sql.TxOptions) (*sql.Tx, error)
		} = s.db
		conn *sql.Conn
	)
	if s.dialect == Postgres {
		var err error
		if conn, err = s.db.Conn(ctx); err != nil {
			return redact(fmt.Errorf("store: get a connection: %w", err), s.secrets)
		}
		defer conn.Close()
		begin = conn
	}
	sqlTx, err := begin.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin transaction: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = sqlTx.Rollback()
		}
	}()
	tx := &Tx{queries: s.queries.in(sqlTx), tx: sqlTx}
	if conn != nil {
		tx.queries.cp = pgCopier(conn)
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	committed = true
	return nil
}

// Ping checks that the database answers, for readiness probes. On SQLite
// it waits for the single connection, so give ctx a deadline.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return redact(fmt.Errorf("store: ping %s: %w", s.dialect, err), s.secrets)
	}
	return nil
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// queries holds the data methods, written once for Store and Tx.
type queries struct {
	q       querier
	dialect Dialect
	now     func() time.Time
	// db is set outside a transaction, so that a method needing several
	// statements can open one; nil inside Tx, whose transaction it joins.
	db *sql.DB
	// cp is set in a PostgreSQL transaction opened on a connection of its
	// own (InTx, atomicCopy), for bulk writes by COPY.
	cp copier
}

// in returns q running in tx.
func (q queries) in(tx *sql.Tx) queries {
	q.q, q.db, q.cp = tx, nil, nil
	return q
}

// atomic runs fn in a transaction: a new one outside Tx, else the current.
func (q queries) atomic(ctx context.Context, fn func(q queries) error) error {
	if q.db == nil {
		return fn(q)
	}
	tx, err := q.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := fn(q.in(tx)); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (q queries) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return q.q.ExecContext(ctx, q.rebind(query), args...)
}

func (q queries) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return q.q.QueryContext(ctx, q.rebind(query), args...)
}

func (q queries) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return q.q.QueryRowContext(ctx, q.rebind(query), args...)
}

// execOne runs a statement that must change a row; none is ErrNotFound.
func (q queries) execOne(ctx context.Context, query string, args ...any) error {
	res, err := q.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
