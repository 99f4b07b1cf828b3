//go:build cgo

package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
	"github.com/dbtlink/dbtlink/internal/catalog"
)

// catalogBench is a cloudEnv with a DuckDB warehouse holding the emulator
// project's tables, stored as warehouse "wh", and a local catalog file.
func newCatalogBench(t *testing.T) (*cloudEnv, string) {
	t.Helper()
	e := newCloudEnv(t)
	dir := t.TempDir()
	e.env["DBTLINK_DB"] = filepath.Join(dir, "catalog.db")
	path := filepath.Join(dir, "jaffle_shop.duckdb")
	target, err := parseWarehouseDSN("duckdb:" + path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := buildEmulatorWarehouse(t.Context(), target, "", emulator.WarehouseOptions{
		Extra: []emulator.Relation{{Schema: "main", Identifier: "orphan_table", Columns: []emulator.Column{{Name: "id", Type: "bigint"}}}},
	}); err != nil {
		t.Fatal(err)
	}
	return e, path
}

func TestWarehouseAndCatalogLocal(t *testing.T) {
	e, path := newCatalogBench(t)

	r := e.mustRun("warehouse", "add", "wh", "--type", "duckdb", "--path", path)
	for _, want := range []string{"Connected: duckdb", "database:  jaffle_shop", "a crawl would read", `Stored warehouse "wh"`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("warehouse add: want %q in\n%s", want, r.stdout)
		}
	}
	wantCode(t, e.run("warehouse", "add", "wh", "--type", "duckdb", "--path", path), ExitUsage, "add again without --replace")
	wantCode(t, e.run("warehouse", "add", "bad", "--type", "duckdb", "--path", filepath.Join(t.TempDir(), "none.duckdb")), ExitNotFound, "add a missing file")

	r = e.mustRun("warehouse", "crawl", "wh")
	if !strings.Contains(r.stdout, "Crawled wh") || !strings.Contains(r.stderr, "# applied:") {
		t.Fatalf("crawl:\n%s\n%s", r.stdout, r.stderr)
	}
	r = e.mustRun("warehouse", "list")
	if !strings.Contains(r.stdout, "wh") || !strings.Contains(r.stdout, "ok ") {
		t.Errorf("list:\n%s", r.stdout)
	}
	wantCode(t, e.run("warehouse", "show", "nope"), ExitNotFound, "show missing")
	e.mustRun("warehouse", "test", "wh")

	// dbt Cloud: a succeeding and a failing build, then a sync.
	e.addDemo("demo")
	e.finishedRun(emulator.DemoDailyJobID)
	e.finishedRun(emulator.DemoFailingJobID)
	// Staging has no completed run: its scope is skipped (not a failure),
	// and Production is synced.
	r = e.mustRun("catalog", "sync", "demo", "--warehouse", "wh", "--project", "analytics")
	if !strings.Contains(r.stdout, "analytics / Staging (cloud:demo:202): skipped") || !strings.Contains(r.stdout, "analytics / Production (cloud:demo:201): ok") {
		t.Errorf("sync report lacks the skipped or the synced scope:\n%s", r.stdout)
	}
	r = e.mustRun("catalog", "sync", "demo", "--warehouse", "wh", "--project", "analytics", "--exclude-environment", "Staging", "--force")
	if !strings.Contains(r.stdout, "analytics / Production") || !strings.Contains(r.stdout, "matched ") || !strings.Contains(r.stdout, "unclaimed jaffle_shop.main.orphan_table") {
		t.Errorf("sync report:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "# list projects") {
		t.Errorf("sync progress:\n%s", r.stderr)
	}

	// The same artifacts again, for every stored connection: unchanged.
	r = e.mustRun("catalog", "sync", "--all", "--exclude-environment", "Staging", "--project", "analytics")
	if !strings.Contains(r.stdout, "analytics / Production (cloud:demo:201): unchanged") {
		t.Errorf("sync --all:\n%s", r.stdout)
	}
	wantCode(t, e.run("warehouse", "add", "pw", "--type", "duckdb", "--path", path, "--password-env", "X"), ExitUsage, "duckdb with a password")

	r = e.mustRun("catalog", "search", "orders")
	if !strings.Contains(r.stdout, "jaffle_shop.main.orders") {
		t.Errorf("search:\n%s", r.stdout)
	}
	r = e.mustRun("catalog", "show", "main.orders")
	for _, want := range []string{"jaffle_shop.main.orders", "dbt model model.", "Columns:", "order_id"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("show: want %q in\n%s", want, r.stdout)
		}
	}
	r = e.mustRun("catalog", "tests", "--failing", "--json")
	var tests []catalog.TestRow
	if err := json.Unmarshal([]byte(r.stdout), &tests); err != nil {
		t.Fatal(err)
	}
	if len(tests) == 0 {
		t.Fatalf("tests --failing: none; the failing build's test should fail")
	}
	for _, tr := range tests {
		if tr.Status != "fail" && tr.Status != "error" {
			t.Errorf("tests --failing listed %s with status %s", tr.Name, tr.Status)
		}
	}
	r = e.mustRun("catalog", "lineage", "main.orders", "--upstream")
	if !strings.Contains(r.stdout, " * ") && !strings.Contains(r.stdout, "*") {
		t.Errorf("lineage has no start mark:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "-1 <") {
		t.Errorf("lineage upstream has no depth -1:\n%s", r.stdout)
	}
	wantCode(t, e.run("catalog", "show", "no_such_table"), ExitNotFound, "show missing table")

	// Column lineage comes from compiled SQL: the emulator's build and run
	// steps write a manifest with it, so the sync above resolved it.
	r = e.mustRun("catalog", "lineage", "main.customers", "--column", "customer_id", "--upstream", "--depth", "1")
	if !strings.Contains(r.stdout, "main.stg_customers.customer_id  (copy") || !strings.Contains(r.stdout, "+0 *    jaffle_shop.main.customers.customer_id") {
		t.Errorf("column lineage after the emulator sync:\n%s", r.stdout)
	}
	// An uploaded manifest gets column lineage too: jaffle_shop 1.10's
	// stg_customers and customers are tables of the warehouse as well.
	r = e.mustRun("catalog", "upload", filepath.Join("..", "..", "lineage", "testdata", "jaffle_shop_1.10.json"), "--project", "jaffle110", "--warehouse", "wh")
	if !strings.Contains(r.stdout, "column lineage (duckdb): 13 of 13 models fully resolved, 13 parsed") {
		t.Errorf("upload report lacks column lineage:\n%s", r.stdout)
	}
	r = e.mustRun("catalog", "lineage", "main.customers.customer_id", "--upstream", "--depth", "1")
	if !strings.Contains(r.stdout, "main.stg_customers.customer_id  (copy") || !strings.Contains(r.stdout, "+0 *    jaffle_shop.main.customers.customer_id") {
		t.Errorf("column lineage:\n%s", r.stdout)
	}
	r = e.mustRun("catalog", "lineage", "main.customers", "--column", "customer_id", "--upstream", "--json")
	var cl catalog.ColumnLineageView
	if err := json.Unmarshal([]byte(r.stdout), &cl); err != nil || len(cl.Edges) == 0 {
		t.Errorf("column lineage --json: %v\n%s", err, r.stdout)
	}
	wantCode(t, e.run("catalog", "lineage", "main.no_such_table.id"), ExitNotFound, "column lineage of a missing table")

	// A user description survives a re-crawl.
	e.mustRun("catalog", "describe", "main.orders", "--text", "Every order, by the user")
	e.mustRun("catalog", "describe", "main.orders", "--column", "order_id", "--text", "The key")
	e.mustRun("warehouse", "crawl", "wh")
	r = e.mustRun("catalog", "show", "main.orders", "--json")
	var d catalog.TableDetail
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatal(err)
	}
	if d.Description != "Every order, by the user" || d.DescriptionSource != "user" {
		t.Errorf("after re-crawl: description %q from %q", d.Description, d.DescriptionSource)
	}
	found := false
	for _, c := range d.Columns {
		if c.Name == "order_id" {
			found = true
			if c.Description != "The key" || c.DescriptionSource != "user" {
				t.Errorf("after re-crawl: column order_id described %q from %q", c.Description, c.DescriptionSource)
			}
		}
	}
	if !found {
		t.Errorf("no column order_id in %+v", d.Columns)
	}

	r = e.mustRun("catalog", "status")
	if !strings.Contains(r.stdout, "Syncs:") || !strings.Contains(r.stdout, "wh (duckdb): ok") {
		t.Errorf("status:\n%s", r.stdout)
	}

	// Upload of the emulator's bundled artifacts.
	data := filepath.Join("..", "..", "dbtcloud", "emulator", "data")
	r = e.mustRun("catalog", "upload", filepath.Join(data, "manifest.json"), filepath.Join(data, "run_results.json"),
		filepath.Join(data, "catalog.json"), "--project", "jaffle", "--warehouse", "wh", "--json")
	var res catalog.SyncResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if res.ScopeKey != "upload:jaffle" || res.Status != "ok" || res.Report == nil || res.Report.Counts.Matched == 0 {
		t.Errorf("upload: %+v", res)
	}
	// Now two scopes claim orders: still one table, so show works.
	e.mustRun("catalog", "show", "orders")
	wantCode(t, e.run("catalog", "upload", filepath.Join(data, "PROVENANCE.md"), "--project", "jaffle"), ExitUsage, "upload a non-artifact")

	e.mustRun("warehouse", "remove", "wh")
	wantCode(t, e.run("warehouse", "remove", "wh"), ExitNotFound, "remove twice")
}
