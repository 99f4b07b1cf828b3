package emulator

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestProjectWarehouse(t *testing.T) {
	w, err := ProjectWarehouse(WarehouseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if w.Database != "jaffle_shop" {
		t.Errorf("Database = %q", w.Database)
	}
	byName := map[string]Relation{}
	for _, r := range w.Relations {
		byName[r.Schema+"."+r.Identifier] = r
		if r.Database != "jaffle_shop" || len(r.Columns) == 0 {
			t.Errorf("%s.%s: database %q, %d columns", r.Schema, r.Identifier, r.Database, len(r.Columns))
		}
		for i, c := range r.Columns {
			if c.Position != i+1 || c.Name == "" || c.Type == "" {
				t.Errorf("%s.%s column %d = %+v", r.Schema, r.Identifier, i, c)
			}
		}
	}
	// 13 models (none ephemeral) and 6 source tables that are also seeds; raw_tweets has no known columns.
	if len(w.Relations) != 19 {
		t.Errorf("%d relations, want 19: %v", len(w.Relations), keys(byName))
	}
	if !slices.Equal(w.NoColumns, []string{"seed.jaffle_shop.raw_tweets"}) {
		t.Errorf("NoColumns = %v", w.NoColumns)
	}
	tests := []struct {
		rel, kind string
		nodes     []string
		firstCol  Column
	}{
		{"main.customers", "table", []string{"model.jaffle_shop.customers"}, Column{"customer_id", "VARCHAR", 1}},
		{"main.stg_orders", "view", []string{"model.jaffle_shop.stg_orders"}, Column{"order_id", "VARCHAR", 1}},
		{"raw.raw_customers", "table", []string{"seed.jaffle_shop.raw_customers", "source.jaffle_shop.ecom.raw_customers"}, Column{"id", "VARCHAR", 1}},
	}
	for _, tt := range tests {
		r, ok := byName[tt.rel]
		if !ok {
			t.Errorf("no relation %s", tt.rel)
			continue
		}
		if r.Kind != tt.kind || !slices.Equal(r.Nodes, tt.nodes) || r.Columns[0] != tt.firstCol {
			t.Errorf("%s = kind %s nodes %v first column %+v; want %s %v %+v", tt.rel, r.Kind, r.Nodes, r.Columns[0], tt.kind, tt.nodes, tt.firstCol)
		}
	}
	if c := byName["main.customers"].Columns; c[5].Type != "DECIMAL(38,2)" || len(c) != 9 {
		t.Errorf("customers columns = %+v", c)
	}
}

func TestProjectWarehouseOptions(t *testing.T) {
	extra := Relation{Schema: "raw", Identifier: "untracked_events", Columns: []Column{{Name: "id", Type: "BIGINT"}, {Name: "payload"}}}
	w, err := ProjectWarehouse(WarehouseOptions{Omit: []string{"model.jaffle_shop.orders", "source.jaffle_shop.ecom.raw_items"}, Extra: []Relation{extra}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range w.Relations {
		names = append(names, r.Schema+"."+r.Identifier)
	}
	if slices.Contains(names, "main.orders") || slices.Contains(names, "raw.raw_items") || !slices.Contains(names, "raw.untracked_events") {
		t.Errorf("relations = %v", names)
	}
	if len(w.Omitted) != 2 || w.Omitted[0].Identifier != "orders" || w.Omitted[1].Identifier != "raw_items" {
		t.Errorf("Omitted = %+v", w.Omitted)
	}
	for _, r := range w.Relations {
		if r.Identifier == "untracked_events" && (r.Database != "jaffle_shop" || r.Kind != "table" || r.Columns[1] != (Column{"payload", "text", 2})) {
			t.Errorf("extra relation = %+v", r)
		}
	}

	for _, bad := range []struct {
		name string
		opts WarehouseOptions
		want string
	}{
		{"unknown omit", WarehouseOptions{Omit: []string{"model.jaffle_shop.nope"}}, "no such node"},
		{"extra clashes", WarehouseOptions{Extra: []Relation{{Schema: "main", Identifier: "orders", Columns: extra.Columns}}}, "already builds"},
		{"extra without columns", WarehouseOptions{Extra: []Relation{{Schema: "raw", Identifier: "x"}}}, "at least one column"},
		{"extra claimed", WarehouseOptions{Extra: []Relation{{Schema: "raw", Identifier: "x", Nodes: []string{"a"}, Columns: extra.Columns}}}, "no node claims"},
		{"extra bad kind", WarehouseOptions{Extra: []Relation{{Schema: "raw", Identifier: "x", Kind: "index", Columns: extra.Columns}}}, "not table or view"},
	} {
		if _, err := ProjectWarehouse(bad.opts); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: err = %v, want %q", bad.name, err, bad.want)
		}
	}
}

func TestWarehouseDDL(t *testing.T) {
	w := &Warehouse{Database: "jaffle_shop",
		Relations: []Relation{
			{Schema: "main", Identifier: `we"ird`, Kind: "view", Columns: []Column{{"a", "HUGEINT", 1}, {"B", "VARCHAR", 2}}},
			{Schema: "raw", Identifier: "t", Kind: "table", Columns: []Column{{"x", "DOUBLE", 1}, {"y", "DECIMAL(38,2)", 2}}},
		},
		Omitted: []Relation{{Schema: "main", Identifier: "orders", Kind: "table"}},
	}
	tests := []struct {
		opts DDLOptions
		want []string
	}{
		{DDLOptions{Dialect: "duckdb"}, []string{
			`CREATE SCHEMA IF NOT EXISTS "main"`,
			`CREATE SCHEMA IF NOT EXISTS "raw"`,
			`DROP VIEW IF EXISTS "main"."we""ird"`,
			`DROP TABLE IF EXISTS "raw"."t"`,
			`DROP TABLE IF EXISTS "main"."orders"`,
			`CREATE VIEW "main"."we""ird" AS SELECT CAST(NULL AS HUGEINT) AS "a", CAST(NULL AS VARCHAR) AS "B" WHERE false`,
			`CREATE TABLE "raw"."t" ("x" DOUBLE, "y" DECIMAL(38,2))`,
		}},
		{DDLOptions{Dialect: "postgres", SchemaPrefix: "t1_"}, []string{
			`CREATE SCHEMA IF NOT EXISTS "t1_main"`,
			`CREATE SCHEMA IF NOT EXISTS "t1_raw"`,
			`DROP VIEW IF EXISTS "t1_main"."we""ird"`,
			`DROP TABLE IF EXISTS "t1_raw"."t"`,
			`DROP TABLE IF EXISTS "t1_main"."orders"`,
			`CREATE VIEW "t1_main"."we""ird" AS SELECT CAST(NULL AS numeric(38,0)) AS "a", CAST(NULL AS text) AS "B" WHERE false`,
			`CREATE TABLE "t1_raw"."t" ("x" double precision, "y" decimal(38,2))`,
		}},
	}
	for _, tt := range tests {
		got, err := w.DDL(tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s:\ngot  %q\nwant %q", tt.opts.Dialect, got, tt.want)
		}
	}
	if _, err := w.DDL(DDLOptions{Dialect: "mysql"}); err == nil {
		t.Error("unknown dialect accepted")
	}
}

// TestCatalogJobs checks what the demo's catalog sync relies on: "docs build" (304) writes catalog.json and
// sources.json, and "failing build" (302) fails a test in its run_results.json.
func TestCatalogJobs(t *testing.T) {
	b := setup(t)
	docs := b.trigger(t, DemoDocsJobID, nil)
	failing := b.trigger(t, DemoFailingJobID, nil)
	b.srv.Advance(30 * time.Minute)
	r := b.call(t, "GET", acctPath("runs/%d/artifacts/", docs), nil)
	wantCode(t, r, 200)
	var files []string
	for _, f := range r.list() {
		files = append(files, f.(string))
	}
	for _, f := range []string{"catalog.json", "sources.json", "manifest.json", "run_results.json"} {
		if !slices.Contains(files, f) {
			t.Errorf("docs build artifacts lack %s: %v", f, files)
		}
	}
	r = b.call(t, "GET", acctPath("runs/%d/artifacts/run_results.json", failing), nil)
	wantCode(t, r, 200)
	if !strings.Contains(string(r.raw), `"status": "fail"`) && !strings.Contains(string(r.raw), `"status":"fail"`) {
		t.Errorf("failing build's run_results has no failed test")
	}
}

func keys(m map[string]Relation) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
