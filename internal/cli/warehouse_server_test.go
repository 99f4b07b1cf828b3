package cli

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
	"github.com/dbtlink/dbtlink/internal/catalog"
	"github.com/dbtlink/dbtlink/internal/connection"
	"github.com/dbtlink/dbtlink/internal/server"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/store/storetest"
	"github.com/dbtlink/dbtlink/internal/tracker"
)

// warehouseSecret is the password given to warehouses in these tests; no
// output may contain it.
const warehouseSecret = "wh-secret-pw-5e1f"

// newWarehouseServerBench is the real server with its catalog API over a
// store (no dbt Cloud connection: the warehouse routes need none), and a
// DuckDB file holding the emulator project's tables.
func newWarehouseServerBench(t *testing.T) (*serverBench, string) {
	t.Helper()
	st := storetest.Open(t, storetest.Backends(t)[0])
	keys, err := connection.NewStore(t.TempDir(), connection.WithGetenv(func(string) string { return "" }))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// The tracker is never started: the server needs it only as its
	// backend, and the warehouse routes go to the catalog.
	tr, err := tracker.New(ctx, tracker.Config{Store: st, Keys: keys, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	api := catalog.NewAPI(&catalog.Service{Store: st}, keys, nil)
	srv, err := server.New(server.Config{Backend: backend{tr, st}, Logger: slog.New(slog.DiscardHandler), Catalog: api})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	plain, prefix, hash, err := server.GenerateToken()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateAPIToken(ctx, store.APIToken{Name: "cli", Prefix: prefix, Hash: hash, Scope: store.ScopeAdmin}); err != nil {
		t.Fatal(err)
	}
	tp := &http.Transport{}
	t.Cleanup(tp.CloseIdleConnections)
	b := &serverBench{t: t, ts: ts, token: plain, hc: &http.Client{Transport: tp},
		env: map[string]string{"DBTLINK_HOME": t.TempDir(), EnvServerToken: plain, "DBTLINK_RETRY_FOR": "0s", "WHPW": warehouseSecret}}
	dir := t.TempDir()
	path := filepath.Join(dir, "jaffle_shop.duckdb")
	target, err := parseWarehouseDSN("duckdb:" + path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := buildEmulatorWarehouse(ctx, target, "", emulator.WarehouseOptions{}); err != nil {
		t.Fatal(err)
	}
	return b, path
}

// whRun runs a command and fails the test if it printed the password.
func whRun(t *testing.T, b *serverBench, args ...string) cloudResult {
	t.Helper()
	r := b.run(args...)
	if strings.Contains(r.stdout, warehouseSecret) || strings.Contains(r.stderr, warehouseSecret) {
		t.Fatalf("dbtlink %s printed the warehouse password:\n%s\n%s", strings.Join(args, " "), r.stdout, r.stderr)
	}
	return r
}

func wantOut(t *testing.T, r cloudResult, what string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(r.stdout+r.stderr, w) {
			t.Errorf("%s: no %q in\nstdout:\n%s\nstderr:\n%s", what, w, r.stdout, r.stderr)
		}
	}
}

func TestWarehouseThroughServer(t *testing.T) {
	b, path := newWarehouseServerBench(t)
	s := []string{"--server", b.ts.URL}
	run := func(args ...string) cloudResult {
		t.Helper()
		return whRun(t, b, append(append([]string{}, s...), args...)...)
	}

	r := run("warehouse", "add", "wh", "--type", "duckdb", "--path", path)
	wantCode(t, r, ExitOK, "add")
	wantOut(t, r, "add", "Connected: duckdb", "database:  jaffle_shop", "a crawl would read", `Stored warehouse "wh" (duckdb) on the dbtlink server`)
	wantCode(t, run("warehouse", "add", "wh", "--type", "duckdb", "--path", path), ExitUsage, "add again without --replace")
	wantCode(t, run("warehouse", "add", "wh", "--type", "duckdb", "--path", path, "--include-schemas", "main", "--replace"), ExitOK, "add --replace")

	missing := filepath.Join(t.TempDir(), "none.duckdb")
	r = run("warehouse", "add", "bad", "--type", "duckdb", "--path", missing)
	wantCode(t, r, ExitNotFound, "add a missing file")
	wantOut(t, r, "add a missing file", "does not exist", "Not stored on the dbtlink server")
	wantCode(t, run("warehouse", "show", "bad"), ExitNotFound, "a warehouse that failed its test is removed again")
	wantCode(t, run("warehouse", "add", "bad", "--type", "duckdb", "--path", missing, "--no-test"), ExitOK, "add --no-test")
	r = run("warehouse", "test", "bad", "--json")
	wantCode(t, r, ExitNotFound, "test a missing file")
	var failed struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &failed); err != nil || failed.OK || !strings.Contains(failed.Error, "does not exist") {
		t.Errorf("test --json of a failing warehouse: %+v (%v) from %s", failed, err, r.stdout)
	}
	wantCode(t, run("warehouse", "crawl", "bad"), ExitNotFound, "crawl a missing file")
	wantCode(t, run("warehouse", "remove", "bad"), ExitOK, "remove")
	wantCode(t, run("warehouse", "remove", "bad"), ExitNotFound, "remove again")
	wantCode(t, run("warehouse", "test", "nope"), ExitNotFound, "test an unknown warehouse")
	wantCode(t, run("warehouse", "add", "pw", "--type", "duckdb", "--path", path, "--password-env", "WHPW"), ExitUsage, "duckdb with a password")
	wantCode(t, run("warehouse", "add", "x", "--type", "oracle", "--dsn", "x"), ExitUsage, "unknown type")

	r = run("warehouse", "list")
	wantCode(t, r, ExitOK, "list")
	wantOut(t, r, "list", "wh", "duckdb", "never crawled")
	wantCode(t, run("warehouse", "list", "--db", "x.db"), ExitUsage, "list --db with --server")

	r = run("warehouse", "crawl", "wh")
	wantCode(t, r, ExitOK, "crawl")
	wantOut(t, r, "crawl", "Crawled wh in ", "tables and views;", "added, 0 changed, 0 removed")
	// The server's steps, as the local crawl prints them.
	wantOut(t, r, "crawl progress", "# connect to wh (duckdb)", "# read ", "# applied: ")

	// A replacement that fails its test leaves the stored warehouse as
	// it was (it used to be deleted first, and lost).
	r = run("warehouse", "add", "wh", "--type", "duckdb", "--path", missing, "--replace")
	wantCode(t, r, ExitNotFound, "replace with a missing file")
	wantOut(t, r, "replace with a missing file", "does not exist", `Not replaced: the dbtlink server keeps warehouse "wh" as it was`)
	wantOut(t, run("warehouse", "show", "wh"), "show after a failed replace", "include schemas: main", "crawl:      ok", path)
	r = run("warehouse", "crawl", "wh", "--json")
	wantCode(t, r, ExitOK, "crawl --json")
	var c warehouseCrawlJSON
	if err := json.Unmarshal([]byte(r.stdout), &c); err != nil || c.Status != "ok" || c.TablesSeen == 0 || c.Added != 0 || c.Warehouse != "wh" {
		t.Errorf("second crawl: %+v (%v)", c, err)
	}

	r = run("warehouse", "show", "wh")
	wantCode(t, r, ExitOK, "show")
	wantOut(t, r, "show", "Warehouse wh (duckdb)", "password:   none", "include schemas: main", "crawl:      ok")
	r = run("warehouse", "list", "--json")
	var list []warehouseJSON
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list) != 1 || list[0].Name != "wh" || list[0].LatestCrawl == nil {
		t.Fatalf("list --json: %v %s", err, r.stdout)
	}
	r = run("warehouse", "test", "wh", "--json")
	wantCode(t, r, ExitOK, "test --json")
	var ok struct {
		OK   bool          `json:"ok"`
		Info warehouseInfo `json:"info"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &ok); err != nil || !ok.OK || ok.Info.Type != "duckdb" || ok.Info.Tables == 0 {
		t.Errorf("test --json: %+v (%v)", ok, err)
	}
	wantCode(t, run("warehouse", "show", "nope"), ExitNotFound, "show an unknown warehouse")

	// $DBTLINK_SERVER sends the warehouse commands to the server too.
	b.env[EnvServer] = b.ts.URL
	wantOut(t, whRun(t, b, "warehouse", "list"), "list with $DBTLINK_SERVER", "wh")
	delete(b.env, EnvServer)
}

func TestWarehousePush(t *testing.T) {
	b, path := newWarehouseServerBench(t)
	// Stored locally (no --server).
	wantCode(t, whRun(t, b, "warehouse", "add", "loc", "--type", "duckdb", "--path", path), ExitOK, "local add")
	wantCode(t, whRun(t, b, "warehouse", "add", "gone", "--type", "duckdb", "--path", filepath.Join(t.TempDir(), "x.duckdb"), "--no-test"), ExitOK, "local add")
	s := []string{"--server", b.ts.URL, "warehouse", "push"}
	push := func(args ...string) cloudResult {
		t.Helper()
		return whRun(t, b, append(append([]string{}, s...), args...)...)
	}

	wantCode(t, whRun(t, b, "warehouse", "push", "loc"), ExitUsage, "push without a server")
	wantCode(t, push(), ExitUsage, "push without names")
	wantCode(t, push("loc", "--all"), ExitUsage, "names and --all")
	wantCode(t, push("loc", "nope"), ExitNotFound, "an unknown name copies nothing")
	wantCode(t, whRun(t, b, "--server", b.ts.URL, "warehouse", "show", "loc"), ExitNotFound, "nothing copied")

	r := push("loc")
	wantCode(t, r, ExitOK, "push")
	wantOut(t, r, "push", "loc: copied", "1 copied, 0 skipped, 0 failed.")
	wantOut(t, push("loc"), "push again", "loc: skipped", "0 copied, 1 skipped")
	r = push("--all", "--replace", "--test")
	wantCode(t, r, ExitNotFound, "push --all --test with a broken warehouse")
	wantOut(t, r, "push --all", "loc: replaced, tested OK by the server", "gone: not copied", "1 copied, 0 skipped, 1 failed.")
	r = whRun(t, b, "--server", b.ts.URL, "warehouse", "crawl", "loc")
	wantCode(t, r, ExitOK, "crawl the pushed warehouse")
	wantCode(t, whRun(t, b, "--server", b.ts.URL, "warehouse", "show", "gone"), ExitNotFound, "failed test removed")
}

// TestWarehouseThroughServerPostgres adds PostgreSQL warehouses through the
// server: the password is sealed there and never printed, and a missing
// database exits 6 as locally.
func TestWarehouseThroughServerPostgres(t *testing.T) {
	dsn := os.Getenv("DBTLINK_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("DBTLINK_REQUIRE_POSTGRES") == "1" {
			t.Fatal("DBTLINK_REQUIRE_POSTGRES=1 but DBTLINK_TEST_POSTGRES is unset")
		}
		t.Skip("DBTLINK_TEST_POSTGRES is unset: set it to a postgres:// URL to test PostgreSQL warehouses through the server")
	}
	b, _ := newWarehouseServerBench(t)
	s := []string{"--server", b.ts.URL}
	run := func(args ...string) cloudResult {
		t.Helper()
		return whRun(t, b, append(append([]string{}, s...), args...)...)
	}
	r := run("warehouse", "add", "pg", "--type", "postgres", "--dsn", dsn, "--password-env", "WHPW", "--include-schemas", "pg_catalog_none")
	wantCode(t, r, ExitOK, "add postgres")
	wantOut(t, r, "add postgres", "Connected: postgres", `Stored warehouse "pg" (postgres)`)
	wantOut(t, run("warehouse", "show", "pg"), "show postgres", "password:   sealed")
	wantCode(t, run("warehouse", "test", "pg"), ExitOK, "test postgres")

	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/dbtlink_no_such_database"
	r = run("warehouse", "add", "nodb", "--type", "postgres", "--dsn", u.String(), "--password-env", "WHPW")
	wantCode(t, r, ExitNotFound, "add a missing database")
	wantOut(t, r, "add a missing database", "does not exist on the server")
	u.Host = "127.0.0.1:1"
	wantCode(t, run("warehouse", "add", "noport", "--type", "postgres", "--dsn", u.String()), ExitUpstream, "add with nothing listening")
	wantCode(t, run("warehouse", "remove", "pg"), ExitOK, "remove postgres")
}
