package openlineage

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/dbtlink/dbtlink/artifacts"
)

// sqlManifest is a small Postgres project with compiled SQL: a source, a
// staging model over it, a model over the staging model (with *), and a
// model reading a table the project does not know.
const sqlManifest = `{
 "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json", "adapter_type": "postgres",
   "dbt_version": "1.9.1", "project_name": "shop", "invocation_id": "5f0c8c3e-0d7f-4d8e-9d55-3a4d0d3d8b21"},
 "sources": {
  "source.shop.raw.orders": {"resource_type": "source", "unique_id": "source.shop.raw.orders", "name": "orders",
    "database": "analytics", "schema": "raw", "identifier": "orders", "relation_name": "\"analytics\".\"raw\".\"orders\"",
    "columns": {"id": {"name": "id"}, "amount": {"name": "amount"}, "customer_id": {"name": "customer_id"}}}
 },
 "nodes": {
  "model.shop.stg_orders": {"resource_type": "model", "unique_id": "model.shop.stg_orders", "name": "stg_orders",
    "database": "analytics", "schema": "public", "alias": "stg_orders", "relation_name": "\"analytics\".\"public\".\"stg_orders\"",
    "config": {"materialized": "view"}, "depends_on": {"nodes": ["source.shop.raw.orders"]},
    "compiled_code": "select id as order_id, amount * 100 as cents from \"analytics\".\"raw\".\"orders\" where customer_id > 0"},
  "model.shop.orders": {"resource_type": "model", "unique_id": "model.shop.orders", "name": "orders",
    "database": "analytics", "schema": "public", "alias": "orders", "relation_name": "\"analytics\".\"public\".\"orders\"",
    "config": {"materialized": "table"}, "depends_on": {"nodes": ["model.shop.stg_orders"]},
    "compiled_code": "with s as (select * from \"analytics\".\"public\".\"stg_orders\") select order_id, sum(cents) as total from s group by 1"},
  "model.shop.legacy": {"resource_type": "model", "unique_id": "model.shop.legacy", "name": "legacy",
    "database": "analytics", "schema": "public", "alias": "legacy", "relation_name": "\"analytics\".\"public\".\"legacy\"",
    "config": {"materialized": "table"},
    "compiled_code": "select code from analytics.archive.old_codes"},
  "model.shop.broken": {"resource_type": "model", "unique_id": "model.shop.broken", "name": "broken",
    "database": "analytics", "schema": "public", "alias": "broken", "relation_name": "\"analytics\".\"public\".\"broken\"",
    "config": {"materialized": "table"},
    "compiled_code": "select from where ("}
 }
}`

const sqlRunResults = `{
 "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json", "dbt_version": "1.9.1",
   "invocation_id": "5f0c8c3e-0d7f-4d8e-9d55-3a4d0d3d8b21"},
 "args": {"which": "run"},
 "results": [
  {"unique_id": "model.shop.stg_orders", "status": "success", "timing": [], "adapter_response": {}},
  {"unique_id": "model.shop.orders", "status": "success", "timing": [], "adapter_response": {}},
  {"unique_id": "model.shop.legacy", "status": "success", "timing": [], "adapter_response": {}},
  {"unique_id": "model.shop.broken", "status": "success", "timing": [], "adapter_response": {}}
 ]
}`

// TestSQLColumnLineage: compiled SQL gives each output column the columns
// its value comes from (not the ones that only filter), through CTEs and
// *, to the source and models by their dataset names, and to a table the
// project does not know by its name; an unreadable model gets no facet and
// one warning; the facets validate against their schema.
func TestSQLColumnLineage(t *testing.T) {
	v := getValidator(t)
	m, err := artifacts.ReadManifest(strings.NewReader(sqlManifest))
	if err != nil {
		t.Fatal(err)
	}
	rr, err := artifacts.ReadRunResults(strings.NewReader(sqlRunResults))
	if err != nil {
		t.Fatal(err)
	}
	in := Input{Run: CloudRun{Host: "cloud.getdbt.com", AccountID: 1, JobID: 2, RunID: 3, Outcome: OutcomeSuccess,
		WarehouseNamespace: "postgres://db:5432", WarehouseAdapter: "postgres"},
		Steps: []Step{{Index: 4, Name: "Invoke dbt with `dbt run`", Manifest: m, Results: rr}}}
	res := Build(in, Options{ColumnLineage: &SQLColumnLineage{}})
	got := map[string]map[string][]string{}
	for _, ev := range res.Events {
		v.validate(t, ev)
		for _, o := range ev.Outputs {
			if cl := o.Facets.ColumnLineage; cl != nil {
				got[o.Name] = map[string][]string{}
				for col, f := range cl.Fields {
					for _, i := range f.InputFields {
						if i.Namespace != "postgres://db:5432" {
							t.Errorf("%s.%s input namespace %q", o.Name, col, i.Namespace)
						}
						got[o.Name][col] = append(got[o.Name][col], i.Name+"."+i.Field)
					}
				}
			}
		}
	}
	want := map[string]map[string][]string{
		"analytics.public.stg_orders": {"order_id": {"analytics.raw.orders.id"}, "cents": {"analytics.raw.orders.amount"}},
		"analytics.public.orders":     {"order_id": {"analytics.public.stg_orders.order_id"}, "total": {"analytics.public.stg_orders.cents"}},
		"analytics.public.legacy":     {"code": {"analytics.archive.old_codes.code"}},
	}
	for ds, cols := range want {
		for col, ins := range cols {
			if g := got[ds][col]; !slices.Equal(g, ins) {
				t.Errorf("%s.%s from %v, want %v", ds, col, g, ins)
			}
		}
		if len(got[ds]) != len(cols) {
			t.Errorf("%s has columns %v, want %v", ds, got[ds], cols)
		}
	}
	if _, ok := got["analytics.public.broken"]; ok {
		t.Error("the unreadable model has column lineage")
	}
	n := 0
	for _, w := range res.Warnings {
		if strings.Contains(w, "no column lineage") {
			n++
			if !strings.Contains(w, "model.shop.broken") {
				t.Errorf("warning %q does not name the model", w)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d column lineage warnings, want 1: %q", n, res.Warnings)
	}
	b, _ := json.Marshal(res.Events)
	if !strings.Contains(string(b), `"columnLineage"`) {
		t.Error("no columnLineage facet in the events")
	}
}

// TestSQLColumnLineageUnknownAdapter: an adapter sqllineage has no dialect
// for gives no facets and says why.
func TestSQLColumnLineageUnknownAdapter(t *testing.T) {
	m, err := artifacts.ReadManifest(strings.NewReader(strings.Replace(sqlManifest, `"adapter_type": "postgres"`, `"adapter_type": "teradata"`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	s := &SQLColumnLineage{}
	_, err = s.ColumnLineage(m, nil, m.Node("model.shop.orders"))
	if err == nil || !strings.Contains(err.Error(), `adapter "teradata"`) {
		t.Errorf("err = %v", err)
	}
}

// TestSQLColumnLineageConcurrent: deliveries running at once share one
// SQLColumnLineage; each gets its own manifest's answers.
func TestSQLColumnLineageConcurrent(t *testing.T) {
	s := &SQLColumnLineage{}
	read := func(invocation string) *artifacts.Manifest {
		m, err := artifacts.ReadManifest(strings.NewReader(strings.Replace(sqlManifest, "5f0c8c3e-0d7f-4d8e-9d55-3a4d0d3d8b21", invocation, 1)))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	ms := []*artifacts.Manifest{read("a"), read("b"), read("c"), read("d"), read("e"), read("f")}
	nodes := make([]*artifacts.Node, len(ms)) // looked up first: Manifest.Node indexes lazily
	for i, m := range ms {
		nodes[i] = m.Node("model.shop.stg_orders")
	}
	errs := make(chan error, len(ms)*3)
	for i := range len(ms) * 3 {
		go func() {
			cols, err := s.ColumnLineage(ms[i%len(ms)], nil, nodes[i%len(ms)])
			if err == nil && (len(cols["order_id"]) != 1 || cols["order_id"][0].UniqueID != "source.shop.raw.orders") {
				err = fmt.Errorf("manifest %d: %v", i%len(ms), cols)
			}
			errs <- err
		}()
	}
	for range len(ms) * 3 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n := len(s.recent); n > recentManifests {
		t.Errorf("%d manifests remembered, want at most %d", n, recentManifests)
	}
}
