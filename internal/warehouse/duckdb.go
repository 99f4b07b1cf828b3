//go:build cgo

package warehouse

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver
)

func init() { register(duckAdapter{}) }

// duckAdapter reads a DuckDB database file with the official driver
// (cgo). The file is opened read-only, so a crawl never takes DuckDB's
// write lock; it still fails while another process holds the file open
// for writing (DuckDB locks the whole file), which the error says.
type duckAdapter struct{}

func (duckAdapter) Type() Type { return DuckDB }

func (duckAdapter) Open(ctx context.Context, cfg Config, secret string) (Conn, error) {
	if cfg.Type != DuckDB {
		return nil, fmt.Errorf("warehouse %s: is of type %q, not %q", cfg.Name, cfg.Type, DuckDB)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	fail := func(reason error, msg string, err error) error {
		ce := &ConnectError{Warehouse: cfg.Name, Reason: reason, Message: msg}
		if err != nil {
			ce.Detail = redactWith(err.Error(), secret)
		}
		return ce
	}
	st, err := os.Stat(cfg.DSN)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fail(ErrFileNotFound, fmt.Sprintf("DuckDB file %q does not exist: check the path (dbt-duckdb's profiles.yml names it as path)", cfg.DSN), nil)
	case errors.Is(err, fs.ErrPermission):
		return nil, fail(ErrPermission, fmt.Sprintf("DuckDB file %q cannot be read: check its permissions", cfg.DSN), err)
	case err != nil:
		return nil, fail(ErrUnknownFailure, fmt.Sprintf("DuckDB file %q cannot be read", cfg.DSN), err)
	case st.IsDir():
		return nil, fail(ErrFileNotFound, fmt.Sprintf("%q is a directory, not a DuckDB file: give the database file's path", cfg.DSN), nil)
	}
	db, err := sql.Open("duckdb", cfg.DSN+"?access_mode=read_only")
	if err == nil {
		err = db.PingContext(ctx)
	}
	if err != nil {
		if db != nil {
			_ = db.Close()
		}
		msg := err.Error()
		switch {
		case strings.Contains(msg, "lock"):
			return nil, fail(ErrFileLocked, fmt.Sprintf("DuckDB file %q is open for writing in another process (DuckDB allows one writer and no readers beside it): retry when it is done, for example after dbt run", cfg.DSN), err)
		default:
			return nil, fail(ErrUnknownFailure, fmt.Sprintf("DuckDB could not open %q (is it a DuckDB database of a version this dbtlink reads?)", cfg.DSN), err)
		}
	}
	// One connection: DuckDB runs each query in parallel itself.
	db.SetMaxOpenConns(1)
	return &duckConn{cfg: cfg, db: db}, nil
}

type duckConn struct {
	cfg Config
	db  *sql.DB
}

func (c *duckConn) Close() error { return c.db.Close() }

func (c *duckConn) fail(what string, err error) error {
	return fmt.Errorf("warehouse %s: %s: %w", c.cfg.Name, what, err)
}

// duckSystemDatabases are DuckDB's own catalogs, never crawled.
var duckSystemDatabases = map[string]bool{"system": true, "temp": true}

func (c *duckConn) Test(ctx context.Context) (Info, error) {
	m, err := compileFilter(c.cfg.Filter)
	if err != nil {
		return Info{}, fmt.Errorf("warehouse %s: %w", c.cfg.Name, err)
	}
	info := Info{Type: DuckDB}
	if err := c.db.QueryRowContext(ctx, `SELECT version(), current_database()`).Scan(&info.ServerVersion, &info.CurrentDatabase); err != nil {
		return Info{}, c.fail("read the version", err)
	}
	info.ServerVersion = "DuckDB " + info.ServerVersion
	rows, err := c.db.QueryContext(ctx, `SELECT database_name FROM duckdb_databases() WHERE NOT internal ORDER BY database_name`)
	if err != nil {
		return Info{}, c.fail("list databases", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return Info{}, c.fail("list databases", err)
		}
		if !duckSystemDatabases[d] {
			info.Databases = append(info.Databases, d)
		}
	}
	if err := rows.Err(); err != nil {
		return Info{}, c.fail("list databases", err)
	}
	srows, err := c.db.QueryContext(ctx, `SELECT database_name, schema_name FROM duckdb_schemas() WHERE NOT internal`)
	if err != nil {
		return Info{}, c.fail("list schemas", err)
	}
	defer srows.Close()
	for srows.Next() {
		var d, s string
		if err := srows.Scan(&d, &s); err != nil {
			return Info{}, c.fail("list schemas", err)
		}
		if !duckSystemDatabases[d] && m.schema(d, s) {
			info.Schemas++
		}
	}
	if err := srows.Err(); err != nil {
		return Info{}, c.fail("list schemas", err)
	}
	err = c.tables(ctx, m, func(t *Table) { info.Tables++ })
	if err != nil {
		return Info{}, err
	}
	return info, nil
}

type duckKey struct{ db, schema, name string }

// tables calls add for each table and view m admits, without columns.
func (c *duckConn) tables(ctx context.Context, m *matcher, add func(*Table)) error {
	rows, err := c.db.QueryContext(ctx, `
		SELECT database_name, schema_name, table_name, 'table', comment, estimated_size
		FROM duckdb_tables() WHERE NOT internal AND NOT temporary
		UNION ALL
		SELECT database_name, schema_name, view_name, 'view', comment, NULL
		FROM duckdb_views() WHERE NOT internal AND NOT temporary`)
	if err != nil {
		return c.fail("list tables", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			t       Table
			kind    string
			comment sql.NullString
			rowsEst sql.NullInt64
		)
		if err := rows.Scan(&t.Database, &t.Schema, &t.Name, &kind, &comment, &rowsEst); err != nil {
			return c.fail("list tables", err)
		}
		if duckSystemDatabases[t.Database] || !m.table(t.Database, t.Schema, t.Name) {
			continue
		}
		t.Kind = Kind(kind)
		t.Comment = comment.String
		if rowsEst.Valid {
			t.RowEstimate = &rowsEst.Int64
		}
		add(&t)
	}
	if err := rows.Err(); err != nil {
		return c.fail("list tables", err)
	}
	return nil
}

// Crawl reads duckdb_tables(), duckdb_views() and duckdb_columns(). DuckDB
// keeps no owners and no per-table sizes (estimated_size is its row
// estimate), so Owner is "" and SizeBytes nil.
func (c *duckConn) Crawl(ctx context.Context, f Filter, fn func(Table) error) error {
	m, err := compileFilter(f)
	if err != nil {
		return fmt.Errorf("warehouse %s: %w", c.cfg.Name, err)
	}
	byKey := map[duckKey]*Table{}
	var order []*Table
	err = c.tables(ctx, m, func(t *Table) {
		byKey[duckKey{t.Database, t.Schema, t.Name}] = t
		order = append(order, t)
	})
	if err != nil {
		return err
	}
	rows, err := c.db.QueryContext(ctx, `
		SELECT database_name, schema_name, table_name, column_name, column_index, data_type, is_nullable, column_default, comment
		FROM duckdb_columns() WHERE NOT internal AND NOT temporary`)
	if err != nil {
		return c.fail("list columns", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k       duckKey
			col     Column
			def     sql.NullString
			comment sql.NullString
		)
		if err := rows.Scan(&k.db, &k.schema, &k.name, &col.Name, &col.Position, &col.DataType, &col.Nullable, &def, &comment); err != nil {
			return c.fail("list columns", err)
		}
		t, ok := byKey[k]
		if !ok {
			continue
		}
		col.Default, col.Comment = def.String, comment.String
		t.Columns = append(t.Columns, col)
	}
	if err := rows.Err(); err != nil {
		return c.fail("list columns", err)
	}
	slices.SortFunc(order, func(a, b *Table) int {
		return cmp.Or(strings.Compare(a.Database, b.Database), strings.Compare(a.Schema, b.Schema), strings.Compare(a.Name, b.Name))
	})
	for _, t := range order {
		slices.SortFunc(t.Columns, func(a, b Column) int { return cmp.Compare(a.Position, b.Position) })
		if err := fn(*t); err != nil {
			return err
		}
	}
	return nil
}
