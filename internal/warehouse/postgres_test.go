package warehouse

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
)

// pgFixture creates, in a fresh schema, one of each kind of relation the
// crawl reports, and returns the schema.
func pgFixture(t *testing.T, conn *pgx.Conn) string {
	t.Helper()
	s := testSchema(t, conn, "wh_test_")
	exec(t, conn, fmt.Sprintf(`
		CREATE TABLE %[1]s.orders (
			id bigint PRIMARY KEY,
			customer text NOT NULL DEFAULT 'anon',
			amount numeric(12,2),
			dropped_later int,
			created_at timestamp with time zone DEFAULT now(),
			"MixedCase" character varying(20)
		);
		ALTER TABLE %[1]s.orders DROP COLUMN dropped_later;
		COMMENT ON TABLE %[1]s.orders IS 'All orders';
		COMMENT ON COLUMN %[1]s.orders.customer IS 'who ordered';
		INSERT INTO %[1]s.orders (id, customer, amount) VALUES (1, 'a', 50), (2, 'b', 150), (3, 'a', 250);
		ANALYZE %[1]s.orders;

		CREATE TABLE %[1]s.events (id int, at date NOT NULL) PARTITION BY RANGE (at);
		CREATE TABLE %[1]s.events_2024 PARTITION OF %[1]s.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
		CREATE TABLE %[1]s.events_2025 PARTITION OF %[1]s.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
		INSERT INTO %[1]s.events VALUES (1, '2024-05-01'), (2, '2025-05-01'), (3, '2025-06-01');
		ANALYZE %[1]s.events;

		CREATE VIEW %[1]s.big_orders AS SELECT id, amount FROM %[1]s.orders WHERE amount > 100;
		COMMENT ON VIEW %[1]s.big_orders IS 'Orders over 100';

		CREATE MATERIALIZED VIEW %[1]s.order_totals AS SELECT customer, sum(amount) AS total FROM %[1]s.orders GROUP BY customer;
		ANALYZE %[1]s.order_totals;

		CREATE TABLE %[1]s."Weird Name" (x int GENERATED ALWAYS AS IDENTITY, y int GENERATED ALWAYS AS (x * 2) STORED);
		CREATE TABLE %[1]s.empty_never_analyzed (a int);
	`, s))
	return s
}

// pgStatSize is what the crawl should report as a relation's size: its
// pages, its TOAST table's and all their indexes', times the block size.
func pgStatSize(t *testing.T, conn *pgx.Conn, rel string) int64 {
	t.Helper()
	var n int64
	err := conn.QueryRow(t.Context(), `SELECT (sum(relpages) * current_setting('block_size')::bigint)::bigint FROM pg_class
		WHERE oid IN ($1::regclass, (SELECT reltoastrelid FROM pg_class WHERE oid = $1::regclass))
		OR oid IN (SELECT indexrelid FROM pg_index WHERE indrelid IN ($1::regclass, (SELECT reltoastrelid FROM pg_class WHERE oid = $1::regclass)))`,
		rel).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPostgresCrawl(t *testing.T) {
	dsn, conn := testPostgres(t)
	s := pgFixture(t, conn)
	var db, user string
	if err := conn.QueryRow(t.Context(), `SELECT current_database(), current_user`).Scan(&db, &user); err != nil {
		t.Fatal(err)
	}
	ordersSize := pgStatSize(t, conn, s+".orders")
	eventsSize := pgStatSize(t, conn, s+".events_2024") + pgStatSize(t, conn, s+".events_2025")
	totalsSize := pgStatSize(t, conn, s+".order_totals")
	if ordersSize == 0 || eventsSize == 0 {
		t.Fatalf("fixture: orders %d bytes, events %d bytes: ANALYZE did not record pages", ordersSize, eventsSize)
	}

	cfg := Config{Name: "pg", Type: Postgres, DSN: dsn}
	got := crawlAll(t, cfg, "", Filter{IncludeSchemas: []string{s}})
	want := []Table{
		{Database: db, Schema: s, Name: "Weird Name", Kind: KindTable, Owner: user, Columns: []Column{
			{Name: "x", Position: 1, DataType: "integer", Nullable: false, Default: "GENERATED ALWAYS AS IDENTITY"},
			{Name: "y", Position: 2, DataType: "integer", Nullable: true, Default: "GENERATED ALWAYS AS ((x * 2)) STORED"},
		}},
		{Database: db, Schema: s, Name: "big_orders", Kind: KindView, Owner: user, Comment: "Orders over 100", Columns: []Column{
			{Name: "id", Position: 1, DataType: "bigint", Nullable: true},
			{Name: "amount", Position: 2, DataType: "numeric(12,2)", Nullable: true},
		}},
		{Database: db, Schema: s, Name: "empty_never_analyzed", Kind: KindTable, Owner: user, Columns: []Column{
			{Name: "a", Position: 1, DataType: "integer", Nullable: true},
		}},
		{Database: db, Schema: s, Name: "events", Kind: KindTable, Owner: user, RowEstimate: ptr[int64](3), SizeBytes: &eventsSize, Columns: []Column{
			{Name: "id", Position: 1, DataType: "integer", Nullable: true},
			{Name: "at", Position: 2, DataType: "date", Nullable: false},
		}},
		{Database: db, Schema: s, Name: "order_totals", Kind: KindMaterializedView, Owner: user, RowEstimate: ptr[int64](2), SizeBytes: &totalsSize, Columns: []Column{
			{Name: "customer", Position: 1, DataType: "text", Nullable: true},
			{Name: "total", Position: 2, DataType: "numeric", Nullable: true},
		}},
		{Database: db, Schema: s, Name: "orders", Kind: KindTable, Owner: user, Comment: "All orders", RowEstimate: ptr[int64](3), SizeBytes: &ordersSize, Columns: []Column{
			{Name: "id", Position: 1, DataType: "bigint", Nullable: false},
			{Name: "customer", Position: 2, DataType: "text", Nullable: false, Default: "'anon'::text", Comment: "who ordered"},
			{Name: "amount", Position: 3, DataType: "numeric(12,2)", Nullable: true},
			{Name: "created_at", Position: 5, DataType: "timestamp with time zone", Nullable: true, Default: "now()"},
			{Name: "MixedCase", Position: 6, DataType: "character varying(20)", Nullable: true},
		}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("crawl (-want +got):\n%s", diff)
	}
}

func TestPostgresForeignTable(t *testing.T) {
	dsn, conn := testPostgres(t)
	s := testSchema(t, conn, "wh_test_")
	server := s + "_files"
	if _, err := conn.Exec(t.Context(), `CREATE EXTENSION IF NOT EXISTS file_fdw`); err != nil {
		t.Skipf("file_fdw is not available, so no foreign table to crawl: %v", err)
	}
	exec(t, conn, `CREATE SERVER `+server+` FOREIGN DATA WRAPPER file_fdw`)
	t.Cleanup(func() { _, _ = conn.Exec(t.Context(), `DROP SERVER IF EXISTS `+server+` CASCADE`) })
	exec(t, conn, `CREATE FOREIGN TABLE `+s+`.ext (a int NOT NULL, b text) SERVER `+server+` OPTIONS (filename '/dev/null', format 'csv');
		COMMENT ON FOREIGN TABLE `+s+`.ext IS 'from a file'`)
	got := crawlAll(t, Config{Name: "pg", Type: Postgres, DSN: dsn}, "", Filter{IncludeSchemas: []string{s}})
	if len(got) != 1 {
		t.Fatalf("crawl found %v, want the foreign table", names(got))
	}
	g := got[0]
	if g.Name != "ext" || g.Kind != KindForeign || g.Comment != "from a file" || g.SizeBytes != nil || g.RowEstimate != nil {
		t.Errorf("foreign table = %+v", g)
	}
	wantCols := []Column{{Name: "a", Position: 1, DataType: "integer"}, {Name: "b", Position: 2, DataType: "text", Nullable: true}}
	if diff := cmp.Diff(wantCols, g.Columns); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
}

func TestPostgresFilter(t *testing.T) {
	dsn, conn := testPostgres(t)
	s1 := pgFixture(t, conn)
	s2 := testSchema(t, conn, "wh_test_")
	exec(t, conn, `CREATE TABLE `+s2+`.orders (id int); CREATE TABLE `+s2+`.customers (id int)`)
	var db string
	if err := conn.QueryRow(t.Context(), `SELECT current_database()`).Scan(&db); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Name: "pg", Type: Postgres, DSN: dsn}
	both := []string{s1, s2}
	tests := []struct {
		name string
		f    Filter
		want []string
	}{
		{"one schema", Filter{IncludeSchemas: []string{s2}}, []string{s2 + ".customers", s2 + ".orders"}},
		{"schema glob, upper case", Filter{IncludeSchemas: []string{strings.ToUpper(s2[:len(s2)-3]) + "*"}}, []string{s2 + ".customers", s2 + ".orders"}},
		{"database.schema", Filter{IncludeSchemas: []string{db + "." + s2}}, []string{s2 + ".customers", s2 + ".orders"}},
		{"other database", Filter{IncludeSchemas: []string{"no_such_db." + s2}}, nil},
		{"table name everywhere", Filter{IncludeSchemas: both, IncludeTables: []string{"orders"}}, []string{s1 + ".orders", s2 + ".orders"}},
		{"schema.table", Filter{IncludeSchemas: both, IncludeTables: []string{s2 + ".orders"}}, []string{s2 + ".orders"}},
		{"exclude wins", Filter{IncludeSchemas: both, IncludeTables: []string{"orders"}, ExcludeTables: []string{s1 + ".*"}}, []string{s2 + ".orders"}},
		{"exclude schema", Filter{IncludeSchemas: both, ExcludeSchemas: []string{s1}}, []string{s2 + ".customers", s2 + ".orders"}},
		{"? and *", Filter{IncludeSchemas: both, IncludeTables: []string{"*.?ig_*", "weird*"}}, []string{s1 + ".Weird Name", s1 + ".big_orders"}},
		{"partition children never", Filter{IncludeSchemas: both, IncludeTables: []string{"events*"}}, []string{s1 + ".events"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := names(crawlAll(t, cfg, "", tt.f))
			slices.Sort(tt.want) // schema names are random
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("crawl (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("system schemas never", func(t *testing.T) {
		for _, tb := range crawlAll(t, cfg, "", Filter{IncludeSchemas: []string{"pg_*", "information_schema"}}) {
			t.Errorf("crawled system relation %s.%s", tb.Schema, tb.Name)
		}
	})
}

func TestPostgresTest(t *testing.T) {
	dsn, conn := testPostgres(t)
	s := pgFixture(t, conn)
	a, _ := Lookup(Postgres)
	c, err := a.Open(t.Context(), Config{Name: "pg", Type: Postgres, DSN: dsn, Filter: Filter{IncludeSchemas: []string{s}}}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	info, err := c.Test(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var db, user string
	if err := conn.QueryRow(t.Context(), `SELECT current_database(), current_user`).Scan(&db, &user); err != nil {
		t.Fatal(err)
	}
	if info.Type != Postgres || !strings.HasPrefix(info.ServerVersion, "PostgreSQL ") || info.CurrentUser != user || info.CurrentDatabase != db {
		t.Errorf("info = %+v", info)
	}
	if !contains(info.Databases, db) || contains(info.Databases, "template0") {
		t.Errorf("databases = %v, want %s and no templates", info.Databases, db)
	}
	if info.Schemas != 1 || info.Tables != 6 {
		t.Errorf("schemas %d, tables %d; want 1 and 6", info.Schemas, info.Tables)
	}
}

func TestPostgresMoreDatabases(t *testing.T) {
	dsn, conn := testPostgres(t)
	s := pgFixture(t, conn)
	var db string
	if err := conn.QueryRow(t.Context(), `SELECT current_database()`).Scan(&db); err != nil {
		t.Fatal(err)
	}
	// "postgres" exists on every server; a crawl there finds nothing of s,
	// and a listed database equal to the current one is not crawled twice.
	cfg := Config{Name: "pg", Type: Postgres, DSN: dsn, Databases: []string{"postgres", db}}
	got := crawlAll(t, cfg, "", Filter{IncludeSchemas: []string{s}, IncludeTables: []string{"orders"}})
	if diff := cmp.Diff([]string{s + ".orders"}, names(got)); diff != "" {
		t.Errorf("crawl (-want +got):\n%s", diff)
	}

	cfg.Databases = []string{"no_such_database_wh"}
	a, _ := Lookup(Postgres)
	c, err := a.Open(t.Context(), cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Crawl(t.Context(), Filter{}, func(Table) error { return nil })
	if !errors.Is(err, ErrNoDatabase) {
		t.Errorf("crawl of a missing database: %v, want ErrNoDatabase", err)
	}
}

func TestPostgresCallbackError(t *testing.T) {
	dsn, conn := testPostgres(t)
	s := pgFixture(t, conn)
	a, _ := Lookup(Postgres)
	c, err := a.Open(t.Context(), Config{Name: "pg", Type: Postgres, DSN: dsn}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	stop := errors.New("stop here")
	n := 0
	err = c.Crawl(t.Context(), Filter{IncludeSchemas: []string{s}}, func(Table) error { n++; return stop })
	if err != stop || n != 1 {
		t.Errorf("crawl returned %v after %d calls, want the callback's error after 1", err, n)
	}
	// The connection is still usable.
	if _, err := c.Test(t.Context()); err != nil {
		t.Errorf("test after a stopped crawl: %v", err)
	}
}

func TestPostgresConnectErrors(t *testing.T) {
	dsn, _ := testPostgres(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	const secret = "s3cret-Pa55word!"
	with := func(f func(u *url.URL)) string {
		v := *u
		q := v.Query()
		v.RawQuery = q.Encode()
		f(&v)
		return v.String()
	}
	tests := []struct {
		name string
		dsn  string
		want error
	}{
		{"unknown user", with(func(u *url.URL) { u.User = url.User("no_such_role_wh") }), ErrAuth},
		{"wrong database", with(func(u *url.URL) { u.Path = "/no_such_database_wh" }), ErrNoDatabase},
		{"refused port", with(func(u *url.URL) { u.Host = "127.0.0.1:1" }), ErrRefused},
		{"unknown host", with(func(u *url.URL) { u.Host = "no-such-host.invalid:5432" }), ErrHostNotFound},
		{"untrusted certificate", with(func(u *url.URL) {
			q := u.Query()
			q.Set("sslmode", "verify-full")
			q.Set("sslrootcert", "system")
			u.RawQuery = q.Encode()
		}), ErrTLS},
	}
	a, _ := Lookup(Postgres)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := a.Open(t.Context(), Config{Name: "pg", Type: Postgres, DSN: tt.dsn}, secret)
			if err == nil {
				c.Close()
				t.Skip("the connection succeeded here (the server accepts it)")
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("error %q, want %v", err, tt.want)
			}
			for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				if strings.Contains(s, secret) || strings.Contains(s, url.QueryEscape(secret)) {
					t.Errorf("the error shows the secret: %s", s)
				}
			}
			for e := err; e != nil; e = errors.Unwrap(e) {
				if strings.Contains(e.Error(), secret) {
					t.Errorf("a wrapped error shows the secret: %s", e)
				}
			}
			t.Log(err)
		})
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
