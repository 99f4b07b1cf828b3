package store

import (
	"cmp"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations
var migrations embed.FS

// versionTable is goose's table, named after dbtlink so that it is not
// mistaken for another tool's in a shared database.
const versionTable = "dbtlink_schema_version"

const (
	defaultBusyTimeout  = 10 * time.Second
	defaultMaxOpenConns = 10
	// connectTimeout bounds the first connection to PostgreSQL, which
	// otherwise waits for the system's TCP timeout on an unroutable host.
	connectTimeout = 30 * time.Second
)

// Open opens the database named by dsn and migrates it to the schema this
// dbtlink knows.
//
// A dsn starting with postgres:// or postgresql:// is a PostgreSQL URL
// (https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING-URIS);
// anything else is the path of a SQLite file, optionally after "sqlite:"
// or "file:". The file and its directory are created (modes 0600 and
// 0700) when missing.
//
// Open refuses a database migrated by a newer dbtlink. Its errors say what
// was wrong and how to fix it, and never contain the DSN's password.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	var (
		db      *sql.DB
		dialect Dialect
		secrets []string
		path    string // of the SQLite file
		err     error
	)
	if isPostgresDSN(dsn) {
		dialect, secrets = Postgres, dsnSecrets(dsn)
		db, err = openPostgres(ctx, dsn, opts)
	} else {
		dialect = SQLite
		db, path, err = openSQLite(ctx, dsn, opts)
	}
	if err != nil {
		return nil, redact(err, secrets)
	}
	if err := migrate(ctx, db, dialect, path, opts.Logger); err != nil {
		_ = db.Close()
		return nil, redact(err, secrets)
	}
	return &Store{
		queries: queries{q: db, dialect: dialect, now: opts.Now, db: db},
		db:      db,
		secrets: secrets,
	}, nil
}

func isPostgresDSN(dsn string) bool {
	l := strings.ToLower(dsn)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

const pgDSNHelp = "write it as postgres://USER:PASSWORD@HOST:5432/DATABASE?sslmode=require (percent-encode special characters in the password)"

func openPostgres(ctx context.Context, dsn string, opts Options) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// Not wrapped: the parse error keeps the whole DSN in a field.
		return nil, fmt.Errorf("store: invalid PostgreSQL DSN: %s; %s", err, pgDSNHelp)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(cmp.Or(opts.MaxOpenConns, defaultMaxOpenConns))
	pingCtx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: cannot connect to PostgreSQL at %s (database %q, user %q): %w; check that the server is running and reachable from here, and the user, password, database and sslmode in the DSN",
			net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), cfg.Database, cfg.User, err)
	}
	return db, nil
}

func openSQLite(ctx context.Context, dsn string, opts Options) (db *sql.DB, path string, err error) {
	path, err = sqlitePath(dsn)
	if err != nil {
		return nil, "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, "", fmt.Errorf("store: create the database directory: %w", err)
	}
	// Create the file ourselves: SQLite would make it with the umask's
	// mode, readable by others, and it holds sealed tokens and run data.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, "", fmt.Errorf("store: open the database file: %w", err)
	}
	_ = f.Close()

	params := url.Values{}
	params.Set("_busy_timeout", strconv.FormatInt(cmp.Or(opts.BusyTimeout, defaultBusyTimeout).Milliseconds(), 10))
	params.Set("_foreign_keys", "1")
	params.Set("_journal_mode", "WAL")
	// Take the write lock at BEGIN: a deferred transaction that reads and
	// then writes can fail with SQLITE_BUSY, which busy_timeout cannot wait
	// out, when another process wrote in between.
	params.Set("_txlock", "immediate")
	// A page cache of 64 MB (SQLite's default is 2 MB): a sync rewrites
	// tens of megabytes of nodes, columns and search documents, and with
	// the default most of their index pages are read again from the OS at
	// every batch. Temporary b-trees (sorts, the FTS index's merges) stay
	// in memory.
	params.Add("_pragma", "cache_size(-65536)")
	params.Add("_pragma", "temp_store(memory)")
	db, err = sql.Open("sqlite", path+"?"+params.Encode())
	if err != nil {
		return nil, "", fmt.Errorf("store: open SQLite database %s: %w", path, err)
	}
	// SQLite has one writer at a time. One connection queues every caller
	// in the pool instead of failing them with SQLITE_BUSY, and the job
	// queue sharing this *sql.DB requires it.
	db.SetMaxOpenConns(1)
	// Switching a new database to WAL needs a lock that SQLite does not
	// wait for (the busy handler is not called for it), so two processes
	// opening a fresh file at once can see SQLITE_BUSY here: retry within
	// the busy timeout.
	wait := cmp.Or(opts.BusyTimeout, defaultBusyTimeout)
	deadline := time.Now().Add(wait)
	for delay := 5 * time.Millisecond; ; delay = min(2*delay, 200*time.Millisecond) {
		err := db.PingContext(ctx)
		if err == nil {
			break
		}
		if e, ok := errors.AsType[*sqlite.Error](err); !ok || e.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			_ = db.Close()
			return nil, "", sqliteOpenError(path, err)
		}
		select {
		case <-ctx.Done():
			_ = db.Close()
			return nil, "", sqliteOpenError(path, ctx.Err())
		case <-time.After(delay):
		}
	}
	return db, path, nil
}

// sqliteOpenError explains the failure to use the file at path.
func sqliteOpenError(path string, err error) error {
	if e, ok := errors.AsType[*sqlite.Error](err); ok && e.Code()&0xff == sqlite3.SQLITE_NOTADB {
		return fmt.Errorf("store: %s is not a SQLite database: give the path of dbtlink's database, or move this file away and dbtlink will create a new one there", path)
	}
	return fmt.Errorf("store: open SQLite database %s: %w", path, err)
}

// sqlitePath returns the absolute file path named by dsn.
func sqlitePath(dsn string) (string, error) {
	p := dsn
	for _, prefix := range []string{"sqlite:", "file:"} {
		if len(p) >= len(prefix) && strings.EqualFold(p[:len(prefix)], prefix) {
			p = p[len(prefix):]
			// sqlite:///abs/path and file:///abs/path are URLs with an
			// empty host.
			if strings.HasPrefix(p, "///") {
				p = p[2:]
			}
			break
		}
	}
	switch {
	case strings.TrimSpace(p) == "":
		return "", errors.New("store: no database given: pass a SQLite file path (such as /var/lib/dbtlink/dbtlink.db) or a postgres:// URL")
	case p == ":memory:":
		return "", errors.New("store: an in-memory SQLite database would lose every run at exit: pass a SQLite file path (such as /var/lib/dbtlink/dbtlink.db) or a postgres:// URL")
	case strings.HasPrefix(p, "//"):
		return "", fmt.Errorf("store: %q names a host, not a file: write sqlite:///absolute/path, sqlite:relative/path or just the path", dsn)
	case strings.Contains(p, "?"):
		return "", fmt.Errorf("store: SQLite path %q has a query string: dbtlink sets the SQLite options itself; pass only the file path", dsn)
	case looksLikeKeywordDSN(p):
		return "", errors.New("store: the database looks like a PostgreSQL keyword/value connection string, which dbtlink does not accept; " + pgDSNHelp)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("store: SQLite path %q: %w", dsn, err)
	}
	return abs, nil
}

// looksLikeKeywordDSN reports a libpq "host=... dbname=..." string, which
// would otherwise become an oddly named SQLite file.
func looksLikeKeywordDSN(s string) bool {
	for _, f := range strings.Fields(s) {
		k, _, ok := strings.Cut(f, "=")
		switch k {
		case "host", "hostaddr", "dbname", "user", "password", "port", "sslmode":
			if ok {
				return true
			}
		}
	}
	return false
}

// sqliteMigrations serializes the migrations of each SQLite file within
// the process (PostgreSQL has pgMigrationLock). goose decides what to
// apply before its transaction begins, so two Opens of a new file would
// both try to create the tables. Across processes, `dbtlink serve` holds a
// lock file so that one process alone owns a SQLite database, and migrate
// accepts a failure that left the schema up to date.
var sqliteMigrations sync.Map // path → *sync.Mutex

// migrate brings the schema to the newest version this dbtlink knows.
// path is the SQLite file; empty for PostgreSQL.
func migrate(ctx context.Context, db *sql.DB, dialect Dialect, path string, logger *slog.Logger) error {
	if dialect == SQLite {
		mu, _ := sqliteMigrations.LoadOrStore(path, new(sync.Mutex))
		mu.(*sync.Mutex).Lock()
		defer mu.(*sync.Mutex).Unlock()
	}
	fsys, err := fs.Sub(migrations, "migrations/"+string(dialect))
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	gooseDialect := goose.DialectSQLite3
	opts := []goose.ProviderOption{
		goose.WithTableName(versionTable),
		goose.WithDisableGlobalRegistry(true),
	}
	if dialect == Postgres {
		gooseDialect = goose.DialectPostgres
		opts = append(opts, goose.WithSessionLocker(pgMigrationLock{}))
	}
	if logger != nil {
		opts = append(opts, goose.WithSlog(logger), goose.WithVerbose(true))
	}
	p, err := goose.NewProvider(gooseDialect, db, fsys, opts...)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	sources := p.ListSources()
	known := sources[len(sources)-1].Version
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return migrateError(dialect, "read the schema version", err)
	}
	if current > known {
		return fmt.Errorf("store: the database has schema version %d, but this dbtlink knows versions up to %d: a newer dbtlink migrated it; upgrade dbtlink to that version or newer (downgrading is not supported)", current, known)
	}
	if _, err := p.Up(ctx); err != nil {
		// Another process may have applied the same migration first: each
		// runs in a transaction with its version row, so ours failed
		// whole, and the schema is complete if the version says so.
		if v, verr := p.GetDBVersion(ctx); verr == nil && v >= known {
			return nil
		}
		return migrateError(dialect, fmt.Sprintf("migrate the database from schema version %d to %d", current, known), err)
	}
	return nil
}

func migrateError(dialect Dialect, op string, err error) error {
	if e, ok := errors.AsType[*sqlite.Error](err); ok && dialect == SQLite && e.Code()&0xff == sqlite3.SQLITE_NOTADB {
		return errors.New("store: the database file is not a SQLite database: give the path of dbtlink's database, or move this file away and dbtlink will create a new one there")
	}
	if e, ok := errors.AsType[*pgconn.PgError](err); ok {
		switch e.Code {
		case "3F000": // invalid_schema_name
			return fmt.Errorf("store: %s: %w; the schema named by search_path does not exist: create it, or fix search_path in the DSN", op, err)
		case "42501": // insufficient_privilege
			return fmt.Errorf("store: %s: %w; the user may not create tables: grant it CREATE on the schema, or run dbtlink once as the schema's owner", op, err)
		}
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// pgMigrationLock keeps two dbtlink processes starting at once from
// migrating the same schema together. Unlike goose's own session locker,
// which polls every few seconds with one lock for the whole database, it
// waits on a lock keyed by the schema, so instances in different schemas
// (tests among them) do not queue behind each other.
type pgMigrationLock struct{}

const pgLockKey = `hashtext('dbtlink migrations'), hashtext(coalesce(current_schema(), ''))`

func (pgMigrationLock) SessionLock(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(`+pgLockKey+`)`); err != nil {
		return fmt.Errorf("take the migration lock: %w", err)
	}
	return nil
}

func (pgMigrationLock) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock(`+pgLockKey+`)`); err != nil {
		return fmt.Errorf("release the migration lock: %w", err)
	}
	return nil
}

// userinfoPassword finds the password of a URL that net/url cannot parse.
var userinfoPassword = regexp.MustCompile(`^[A-Za-z]+://[^/@:]*:([^@/]*)@`)

// dsnSecrets returns the password of a PostgreSQL DSN in the forms an
// error message may show it: as written and percent-decoded.
func dsnSecrets(dsn string) []string {
	var out []string
	addSecret := func(s string) {
		if s == "" {
			return
		}
		out = append(out, s)
		if d, err := url.PathUnescape(s); err == nil && d != s {
			out = append(out, d)
		}
		if e := url.QueryEscape(s); e != s {
			out = append(out, e)
		}
	}
	if m := userinfoPassword.FindStringSubmatch(dsn); m != nil {
		addSecret(m[1])
	}
	if u, err := url.Parse(dsn); err == nil {
		if pw, ok := u.User.Password(); ok {
			addSecret(pw)
		}
		addSecret(u.Query().Get("password"))
	}
	// A password given as a query parameter in a URL net/url rejects.
	for _, part := range strings.FieldsFunc(dsn, func(r rune) bool { return r == '?' || r == '&' }) {
		if v, ok := strings.CutPrefix(part, "password="); ok {
			addSecret(v)
		}
	}
	return out
}

// redactedError is err with the secrets removed from its message. It still
// unwraps to err, so errors.Is keeps matching (context.Canceled, say).
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact removes every secret from err's message.
func redact(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	changed := false
	for _, s := range secrets {
		if strings.Contains(msg, s) {
			msg = strings.ReplaceAll(msg, s, "xxxxx")
			changed = true
		}
	}
	if !changed {
		return err
	}
	return &redactedError{msg: msg, err: err}
}
