package warehouse

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Environment variables the PostgreSQL tests read, as in storetest.
const (
	envPostgres        = "DBTLINK_TEST_POSTGRES"
	envRequirePostgres = "DBTLINK_REQUIRE_POSTGRES"
)

// testPostgres returns the test server's URL and an admin connection, or
// skips the test when DBTLINK_TEST_POSTGRES is unset (fails with
// DBTLINK_REQUIRE_POSTGRES=1).
func testPostgres(t *testing.T) (string, *pgx.Conn) {
	t.Helper()
	dsn := os.Getenv(envPostgres)
	if dsn == "" {
		if os.Getenv(envRequirePostgres) == "1" {
			t.Fatalf("%s=1 but %s is not set", envRequirePostgres, envPostgres)
		}
		t.Skipf("set %s to a PostgreSQL URL (such as postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run this test", envPostgres)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to %s: %v", envPostgres, err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return dsn, conn
}

// testSchema creates a fresh schema, dropped with its contents when t ends.
func testSchema(t *testing.T, conn *pgx.Conn, prefix string) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := prefix + hex.EncodeToString(b)
	if _, err := conn.Exec(t.Context(), `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := conn.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

func exec(t *testing.T, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(t.Context(), sql); err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
}

// crawlAll opens cfg and returns everything a crawl with f reports.
func crawlAll(t *testing.T, cfg Config, secret string, f Filter) []Table {
	t.Helper()
	a, err := Lookup(cfg.Type)
	if err != nil {
		t.Fatal(err)
	}
	c, err := a.Open(t.Context(), cfg, secret)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer c.Close()
	var got []Table
	if err := c.Crawl(t.Context(), f, func(tb Table) error {
		got = append(got, tb)
		return nil
	}); err != nil {
		t.Fatalf("crawl: %v", err)
	}
	return got
}


func names(ts []Table) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Schema+"."+t.Name)
	}
	return out
}
