package cli

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/internal/connection"
	"github.com/dbtlink/dbtlink/internal/warehouse"
)

func testPostgresDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("DBTLINK_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("DBTLINK_REQUIRE_POSTGRES") == "1" {
			t.Fatal("DBTLINK_REQUIRE_POSTGRES=1 but DBTLINK_TEST_POSTGRES is not set")
		}
		t.Skip("set DBTLINK_TEST_POSTGRES (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to test warehouse add on PostgreSQL")
	}
	return dsn
}

// TestWarehouseAddPostgres adds, tests and crawls a PostgreSQL warehouse
// (trust auth: a password is accepted and ignored), checking that the
// password is sealed and never printed.
func TestWarehouseAddPostgres(t *testing.T) {
	dsn := testPostgresDSN(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	schema := fmt.Sprintf("whcli%d", time.Now().UnixNano())
	if _, err := db.ExecContext(t.Context(), `CREATE SCHEMA "`+schema+`"; CREATE TABLE "`+schema+`".t1 (id int, name text); CREATE VIEW "`+schema+`".v1 AS SELECT id FROM "`+schema+`".t1`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := db.ExecContext(context.WithoutCancel(t.Context()), `DROP SCHEMA IF EXISTS "`+schema+`" CASCADE`); err != nil {
			t.Errorf("drop test schema: %v", err)
		}
	})
	const secret = "s3cret-Pa55word"
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	withPW := *u
	withPW.User = url.UserPassword(u.User.Username(), secret)

	e := newCloudEnv(t)
	e.secrets = append(e.secrets, secret)
	e.env["DBTLINK_DB"] = t.TempDir() + "/catalog.db"

	r := e.mustRun("warehouse", "add", "pg", "--type", "postgres", "--dsn", withPW.String(), "--include-schemas", schema)
	if !strings.Contains(r.stderr, "moved out of the DSN into the sealed store") {
		t.Errorf("no word about the moved password:\n%s", r.stderr)
	}
	if !strings.Contains(r.stdout, "a crawl would read 2 table(s) and view(s) in 1 schema(s)") || !strings.Contains(r.stdout, "Connected: postgres") {
		t.Errorf("add output:\n%s", r.stdout)
	}
	st, err := connection.NewStore(e.env["DBTLINK_HOME"])
	if err != nil {
		t.Fatal(err)
	}
	w, err := st.GetWarehouse("pg")
	if err != nil {
		t.Fatal(err)
	}
	if w.Password.Reveal() != secret || strings.Contains(string(w.Config), secret) {
		t.Errorf("password %q sealed; config %s", w.Password.Reveal(), w.Config)
	}
	raw, err := os.ReadFile(st.WarehousesPath())
	if err != nil || strings.Contains(string(raw), secret) {
		t.Fatalf("warehouses file holds the password (%v)", err)
	}

	// --password-env, fields form.
	e.env["PGPW"] = secret
	r = e.mustRun("warehouse", "add", "pg2", "--type", "postgres", "--host", u.Hostname(), "--port", u.Port(), "--database", strings.TrimPrefix(u.Path, "/"),
		"--user", u.User.Username(), "--sslmode", "disable", "--password-env", "PGPW", "--include-schemas", schema, "--json")
	var got warehouseAddJSON
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	if !got.Tested || !got.HasPassword || got.Info == nil || got.Info.Tables != 2 || got.Config.Type != warehouse.Postgres {
		t.Errorf("add --json: %+v", got)
	}
	wantCode(t, e.run("warehouse", "add", "pg3", "--type", "postgres", "--dsn", dsn, "--password-env", "UNSET_VAR"), ExitUsage, "unset --password-env")

	r = e.mustRun("warehouse", "crawl", "pg")
	if !strings.Contains(r.stdout, "2 tables and views; 2 added, 0 changed, 0 removed") {
		t.Errorf("crawl:\n%s", r.stdout)
	}
	// The same tables under two warehouses: a bare name is ambiguous (6),
	// with both candidates named.
	e.mustRun("warehouse", "crawl", "pg2")
	r = e.run("catalog", "show", schema+".t1")
	wantCode(t, r, ExitNotFound, "ambiguous table")
	if !strings.Contains(r.stderr, "pg:") || !strings.Contains(r.stderr, "pg2:") {
		t.Errorf("ambiguity lists no candidates:\n%s", r.stderr)
	}
	e.mustRun("catalog", "show", "pg2:"+strings.TrimPrefix(u.Path, "/")+"."+schema+".t1")

	// A database that does not exist: 6; a port nobody listens on: 7.
	bad := *u
	bad.Path = "/no_such_db_dbtlink"
	r = e.run("warehouse", "add", "nodb", "--type", "postgres", "--dsn", bad.String())
	wantCode(t, r, ExitNotFound, "missing database")
	if !strings.Contains(r.stderr, "Not stored") {
		t.Errorf("missing database:\n%s", r.stderr)
	}
	bad = *u
	bad.Host = "127.0.0.1:1"
	wantCode(t, e.run("warehouse", "add", "nohost", "--type", "postgres", "--dsn", bad.String()), ExitUpstream, "refused connection")
	e.mustRun("warehouse", "add", "nohost", "--type", "postgres", "--dsn", bad.String(), "--no-test")
	wantCode(t, e.run("warehouse", "test", "nohost"), ExitUpstream, "test a refused connection")
	wantCode(t, e.run("warehouse", "crawl", "nohost"), ExitUpstream, "crawl a refused connection")
	wantCode(t, e.run("warehouse", "test", "absent"), ExitNotFound, "test an unknown warehouse")
}
