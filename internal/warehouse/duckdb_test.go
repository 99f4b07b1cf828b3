//go:build cgo

package warehouse

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// duckFixture writes a DuckDB file with tables, views, comments, defaults
// and two schemas, and returns its path.
func duckFixture(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jaffle.duckdb")
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`CREATE SCHEMA staging`,
		`CREATE TABLE main.orders (id BIGINT NOT NULL, customer VARCHAR DEFAULT 'anon', amount DECIMAL(12,2), "MixedCase" INTEGER)`,
		`COMMENT ON TABLE main.orders IS 'All orders'`,
		`COMMENT ON COLUMN main.orders.customer IS 'who ordered'`,
		`INSERT INTO main.orders VALUES (1, 'a', 50, 1), (2, 'b', 150, 2), (3, 'a', 250, 3)`,
		`CREATE VIEW main.big_orders AS SELECT id, amount FROM main.orders WHERE amount > 100`,
		`COMMENT ON VIEW main.big_orders IS 'Orders over 100'`,
		`CREATE TABLE staging.stg_customers (id INTEGER, name VARCHAR NOT NULL, created DATE DEFAULT current_date)`,
		`CREATE TEMP TABLE scratch (x INTEGER)`,
		`CREATE TABLE staging.calc (a INTEGER, b INTEGER GENERATED ALWAYS AS (a * 2) VIRTUAL)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return path
}

func TestDuckDBCrawl(t *testing.T) {
	path := duckFixture(t)
	cfg := Config{Name: "duck", Type: DuckDB, DSN: path}
	got := crawlAll(t, cfg, "", Filter{})
	want := []Table{
		{Database: "jaffle", Schema: "main", Name: "big_orders", Kind: KindView, Comment: "Orders over 100", Columns: []Column{
			{Name: "id", Position: 1, DataType: "BIGINT", Nullable: true},
			{Name: "amount", Position: 2, DataType: "DECIMAL(12,2)", Nullable: true},
		}},
		{Database: "jaffle", Schema: "main", Name: "orders", Kind: KindTable, Comment: "All orders", RowEstimate: ptr[int64](3), Columns: []Column{
			{Name: "id", Position: 1, DataType: "BIGINT", Nullable: false},
			{Name: "customer", Position: 2, DataType: "VARCHAR", Nullable: true, Default: "'anon'", Comment: "who ordered"},
			{Name: "amount", Position: 3, DataType: "DECIMAL(12,2)", Nullable: true},
			{Name: "MixedCase", Position: 4, DataType: "INTEGER", Nullable: true},
		}},
		{Database: "jaffle", Schema: "staging", Name: "calc", Kind: KindTable, RowEstimate: ptr[int64](0), Columns: []Column{
			{Name: "a", Position: 1, DataType: "INTEGER", Nullable: true},
			{Name: "b", Position: 2, DataType: "INTEGER", Nullable: true, Default: "GENERATED ALWAYS AS (CAST((a * 2) AS INTEGER)) VIRTUAL"},
		}},
		{Database: "jaffle", Schema: "staging", Name: "stg_customers", Kind: KindTable, RowEstimate: ptr[int64](0), Columns: []Column{
			{Name: "id", Position: 1, DataType: "INTEGER", Nullable: true},
			{Name: "name", Position: 2, DataType: "VARCHAR", Nullable: false},
			{Name: "created", Position: 3, DataType: "DATE", Nullable: true, Default: "current_date"},
		}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("crawl (-want +got):\n%s", diff)
	}

	got = crawlAll(t, cfg, "", Filter{IncludeSchemas: []string{"jaffle.STAGING"}})
	if diff := cmp.Diff([]string{"staging.calc", "staging.stg_customers"}, names(got)); diff != "" {
		t.Errorf("filtered crawl (-want +got):\n%s", diff)
	}
	got = crawlAll(t, cfg, "", Filter{ExcludeTables: []string{"main.big_*"}})
	if diff := cmp.Diff([]string{"main.orders", "staging.calc", "staging.stg_customers"}, names(got)); diff != "" {
		t.Errorf("filtered crawl (-want +got):\n%s", diff)
	}
}

func TestDuckDBTest(t *testing.T) {
	path := duckFixture(t)
	a, _ := Lookup(DuckDB)
	c, err := a.Open(t.Context(), Config{Name: "duck", Type: DuckDB, DSN: path}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	info, err := c.Test(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if info.Type != DuckDB || !strings.HasPrefix(info.ServerVersion, "DuckDB v") || info.CurrentDatabase != "jaffle" {
		t.Errorf("info = %+v", info)
	}
	if diff := cmp.Diff([]string{"jaffle"}, info.Databases); diff != "" {
		t.Errorf("databases (-want +got):\n%s", diff)
	}
	if info.Schemas != 2 || info.Tables != 4 {
		t.Errorf("schemas %d, tables %d; want 2 and 4", info.Schemas, info.Tables)
	}
}

// TestDuckDBReadOnly checks that two crawls may read the file at once
// (read-only opens share it), and that a writer's lock is explained.
func TestDuckDBReadOnly(t *testing.T) {
	path := duckFixture(t)
	a, _ := Lookup(DuckDB)
	cfg := Config{Name: "duck", Type: DuckDB, DSN: path}
	c1, err := a.Open(t.Context(), cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	c2, err := a.Open(t.Context(), cfg, "")
	if err != nil {
		t.Fatalf("second read-only open: %v", err)
	}
	c2.Close()
	c1.Close()

	w, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Exec(`CREATE TABLE main.more (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	// In another process DuckDB reports the writer's file lock; in this
	// one, the writer's different configuration. Both are explained.
	c, err := a.Open(t.Context(), cfg, "")
	if err == nil {
		c.Close()
		t.Fatal("read-only open beside a writer succeeded")
	}
	if !errors.Is(err, ErrFileLocked) {
		t.Errorf("open beside a writer: %v, want ErrFileLocked", err)
	}
}

func TestDuckDBOpenErrors(t *testing.T) {
	a, _ := Lookup(DuckDB)
	dir := t.TempDir()
	notDuck := filepath.Join(dir, "notes.txt")
	if err := writeFile(notDuck, "not a database"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dsn string
		want      error
	}{
		{"missing file", filepath.Join(dir, "missing.duckdb"), ErrFileNotFound},
		{"directory", dir, ErrFileNotFound},
		{"not a DuckDB file", notDuck, ErrUnknownFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := a.Open(t.Context(), Config{Name: "duck", Type: DuckDB, DSN: tt.dsn}, "")
			if err == nil {
				c.Close()
				t.Fatal("open succeeded")
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("error %q, want %v", err, tt.want)
			}
		})
	}
}

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }
