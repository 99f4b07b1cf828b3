// Package storetest gives tests a fresh, empty database for each backend
// of package store, so that one test runs against SQLite and PostgreSQL
// alike:
//
//	for _, b := range storetest.Backends(t) {
//		t.Run(b.Name, func(t *testing.T) {
//			s := storetest.Open(t, b)
//			...
//		})
//	}
//
// SQLite always runs. PostgreSQL runs when DBTLINK_TEST_POSTGRES holds the
// URL of a database the tests may create schemas in, such as
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable; with
// DBTLINK_REQUIRE_POSTGRES=1 its absence fails the test instead of
// skipping PostgreSQL (for CI).
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/internal/store"
)

// Environment variables read by Backends.
const (
	EnvPostgres        = "DBTLINK_TEST_POSTGRES"
	EnvRequirePostgres = "DBTLINK_REQUIRE_POSTGRES"
)

// Backend is an empty database for one test.
type Backend struct {
	// Name is the dialect ("sqlite", "postgres"), fit for t.Run.
	Name string
	// DSN opens the database with store.Open.
	DSN string
}

var skipOnce sync.Once

// Backends returns a fresh SQLite file in t.TempDir(), plus, when
// DBTLINK_TEST_POSTGRES is set, a fresh schema in that PostgreSQL database
// (dropped with everything in it when t ends). Each call returns new
// databases.
func Backends(t testing.TB) []Backend {
	t.Helper()
	backends := []Backend{{
		Name: string(store.SQLite),
		DSN:  filepath.Join(t.TempDir(), "dbtlink.db"),
	}}
	dsn := os.Getenv(EnvPostgres)
	if dsn == "" {
		if os.Getenv(EnvRequirePostgres) == "1" {
			t.Fatalf("%s=1 but %s is not set; set it to a PostgreSQL URL such as postgres://postgres@127.0.0.1:5432/test?sslmode=disable", EnvRequirePostgres, EnvPostgres)
		}
		skipOnce.Do(func() {
			t.Logf("PostgreSQL store tests skipped: set %s to a PostgreSQL URL (such as postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run them", EnvPostgres)
		})
		return backends
	}
	return append(backends, Backend{Name: string(store.Postgres), DSN: postgresSchema(t, dsn)})
}

// postgresSchema creates a schema for t and returns dsn with search_path
// set to it; pgx sends unknown URL parameters as run-time parameters.
func postgresSchema(t testing.TB, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL", EnvPostgres)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := "dbtlink_test_" + hex.EncodeToString(b)

	// Package store registers the "pgx" driver.
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("%s: %v", EnvPostgres, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		_ = db.Close()
		t.Fatalf("create a test schema in the database of %s: %v", EnvPostgres, err)
	}
	t.Cleanup(func() {
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
		}
	})

	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Open opens b with default options and closes it when t ends.
func Open(t testing.TB, b Backend) *store.Store {
	t.Helper()
	return OpenWith(t, b, store.Options{})
}

// OpenWith opens b with opts and closes it when t ends.
func OpenWith(t testing.TB, b Backend, opts store.Options) *store.Store {
	t.Helper()
	s, err := store.Open(t.Context(), b.DSN, opts)
	if err != nil {
		t.Fatalf("open the %s store: %v", b.Name, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close the %s store: %v", b.Name, err)
		}
	})
	return s
}
