package artifacts

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	tdV1      = "testdata/dbt-core-state/v1/manifest.json"
	tdV4      = "testdata/dbt-core-state/v4/manifest.json"
	tdV8      = "testdata/dbt-core-state/v8/manifest.json"
	tdV12     = "testdata/dbt-core-state/v12/manifest.json"
	tdRRv1    = "testdata/dap-run_results-v1-jaffle_shop/run_results.json"
	tdRRv6    = "testdata/dap-run_results-v6-jaffle_shop/run_results_1.12.json"
	tdDiy     = "testdata/diy9-dbt-mixed-0.20.2-1.0.1/"
	tdCatalog = "testdata/dap-catalog-v1-jaffle_shop/catalog_1.12.json"
)

func mustManifest(t *testing.T, path string, opts ...Option) *Manifest {
	t.Helper()
	m, err := ReadManifestFile(path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustNode(t *testing.T, m *Manifest, id string) *Node {
	t.Helper()
	n := m.Node(id)
	if n == nil {
		t.Fatalf("node %s missing", id)
	}
	return n
}

// TestManifestSpotChecks checks normalised fields of real manifests of several
// schema versions against values read off the files by hand.
func TestManifestSpotChecks(t *testing.T) {
	v12 := mustManifest(t, tdV12)
	v8 := mustManifest(t, tdV8)
	v4 := mustManifest(t, tdV4)
	v1 := mustManifest(t, tdV1)
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"v12 schema version", v12.Metadata.SchemaVersion, 12},
		{"v12 dbt version", v12.Metadata.DBTVersion, "1.11.0a1"},
		{"v12 project name", v12.Metadata.ProjectName, "test"},
		{"v12 adapter", v12.Metadata.AdapterType, "postgres"},
		{"v12 generated_at", v12.Metadata.GeneratedAt, time.Date(2025, 10, 2, 16, 48, 38, 578317000, time.UTC)},
		{"v12 description", mustNode(t, v12, "model.test.my_model").Description, "Example model"},
		{"v12 relation parts", mustNode(t, v12, "model.test.my_model").RelationParts,
			[]string{"dbt", "test17594237163467600387_test_previous_version_state", "my_model"}},
		{"v12 materialized", mustNode(t, v12, "model.test.my_model").Materialized, "view"},
		{"v12 access", mustNode(t, v12, "model.test.my_model").Access, "protected"},
		{"v12 column", mustNode(t, v12, "model.test.my_model").Columns[0].Name, "id"},
		{"v12 raw code", mustNode(t, v12, "model.test.my_model").RawCode, "select 1 as id"},
		{"v12 test name", mustNode(t, v12, "test.test.not_null_my_model_id.43e0e9183a").Test.Name, "not_null"},
		{"v12 test attached", mustNode(t, v12, "test.test.not_null_my_model_id.43e0e9183a").Test.AttachedNode, "model.test.my_model"},
		{"v12 test column", mustNode(t, v12, "test.test.not_null_my_model_id.43e0e9183a").Test.ColumnName, "id"},
		{"v12 singular test tags", mustNode(t, v12, "test.test.just_my").Tags, []string{"data_test_tag"}},
		{"v12 source alias", mustNode(t, v12, "source.test.my_source.my_table").Alias, "my_seed"},
		{"v12 source loader", mustNode(t, v12, "source.test.my_source.my_table").Source.Loader, "a_loader"},
		{"v12 source null freshness", mustNode(t, v12, "source.test.my_source.my_table").Source.Freshness == nil, true},
		{"v12 exposure owner", mustNode(t, v12, "exposure.test.simple_exposure").Exposure.OwnerEmail, "something@example.com"},
		{"v12 exposure owner as node owner", mustNode(t, v12, "exposure.test.simple_exposure").Owner, "something@example.com"},
		{"v12 exposure deps", mustNode(t, v12, "exposure.test.simple_exposure").DependsOnNodes,
			[]string{"source.test.my_source.my_table", "model.test.my_model"}},
		{"v12 analysis no relation", mustNode(t, v12, "analysis.test.a").RelationParts == nil, true},
		{"v8 severity", mustNode(t, v8, "test.test.just_my").Test.Severity, "ERROR"},
		{"v8 test kwargs", mustNode(t, v8, "test.test.not_null_my_model_id.43e0e9183a").Test.Kwargs["column_name"], "id"},
		{"v8 test attached from depends_on", mustNode(t, v8, "test.test.not_null_my_model_id.43e0e9183a").Test.AttachedNode, "model.test.my_model"},
		{"v8 raw_code", mustNode(t, v8, "analysis.test.a").RawCode, "select 4 as id"},
		{"v4 metric", mustNode(t, v4, "metric.test.my_metric").ResourceType, Metric},
		{"v4 raw_sql", mustNode(t, v4, "model.test.my_model").RawCode, "select 1 as id"},
		{"v1 raw_sql", mustNode(t, v1, "model.test.my_model").RawCode, "select 1 as id"},
		{"v1 schema version", v1.Metadata.SchemaVersion, 1},
		{"v1 parent map", hasKey(v1.ParentMap, "model.test.my_model"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSkipCode(t *testing.T) {
	full := mustManifest(t, tdV12)
	skip := mustManifest(t, tdV12, SkipCode())
	if len(full.Nodes) != len(skip.Nodes) {
		t.Fatalf("node count %d vs %d", len(full.Nodes), len(skip.Nodes))
	}
	withCode := 0
	for i, n := range skip.Nodes {
		if full.Nodes[i].RawCode != "" {
			withCode++
		}
		if n.RawCode != "" || n.CompiledCode != "" {
			t.Errorf("%s: code kept", n.UniqueID)
		}
		// Everything but code is identical.
		f := *full.Nodes[i]
		f.RawCode, f.CompiledCode = "", ""
		if diff := cmp.Diff(&f, n, cmp.AllowUnexported(Manifest{})); diff != "" {
			t.Errorf("%s differs beyond code:\n%s", n.UniqueID, diff)
		}
	}
	if withCode == 0 {
		t.Fatal("full read kept no code: the test cannot tell skipping from losing")
	}
	rr, err := ReadRunResultsFile(tdRRv6, SkipCode())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rr.Results {
		if r.CompiledCode != "" {
			t.Fatalf("%s: compiled code kept", r.UniqueID)
		}
	}
	rr, err = ReadRunResultsFile(tdRRv6)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rr.Results[0].CompiledCode, "with days as") {
		t.Fatalf("compiled code not read: %q", rr.Results[0].CompiledCode)
	}
}

func TestSplitRelation(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`"db"."schema"."table"`, []string{"db", "schema", "table"}},
		{"`project`.`dataset`.`table`", []string{"project", "dataset", "table"}},
		{"db.schema.table", []string{"db", "schema", "table"}},
		{"schema.table", []string{"schema", "table"}},
		{`"schema"."table"`, []string{"schema", "table"}},
		{`"my.db"."sch ema"."ta""ble"`, []string{"my.db", "sch ema", `ta"ble`}},
		{"`my-project.x`.ds.t", []string{"my-project.x", "ds", "t"}},
		{"[db].[dbo].[t]", []string{"db", "dbo", "t"}},
		{`db . schema . "T"`, []string{"db", "schema", "T"}},
		{`"a"b.c`, []string{"ab", "c"}},
		{"table", []string{"table"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, splitRelation(tt.in)); diff != "" {
			t.Errorf("splitRelation(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

// tolerantManifest exercises type changes between minor releases, metadata
// after the nodes, unknown keys and unknown resource types.
const tolerantManifest = `{
 "nodes": {
  "model.p.a": {"unique_id": "model.p.a", "resource_type": "model", "package_name": "p", "name": "a",
    "description": null, "columns": null, "tags": "nightly", "version": 2,
    "meta": {"owner": {"name": "Ada", "email": "ada@example.com"}},
    "config": {"materialized": "table", "tags": ["nightly", "finance"], "contract": {"enforced": true}, "future_key": [1,2]},
    "depends_on": {"macros": ["macro.p.m"]}, "relation_name": "\"DB\".\"S\".\"A\"", "raw_sql": "select 1",
    "brand_new_field": {"deep": [{"x": null}]}},
  "model.p.b": {"unique_id": "model.p.b", "resource_type": "model", "name": "b", "group": "finance",
    "version": "v3", "config": {"meta": {"owner": "config-owner"}, "enabled": false}, "depends_on": {"nodes": ["model.p.a"]},
    "columns": {"ID": {"name": "ID", "data_type": "int", "constraints": [{"type": "not_null"}], "meta": {"pii": true}}}},
  "model.p.c": {"unique_id": "model.p.c", "resource_type": "model", "name": "c", "group": "finance", "depends_on": ["model.p.b"]},
  "future_thing.p.x": {"unique_id": "future_thing.p.x", "resource_type": "future_thing", "name": "x"},
  "test.p.t": {"unique_id": "test.p.t", "resource_type": "test", "name": "t",
    "depends_on": {"nodes": ["macro.p.m", "model.p.a"]}, "config": {"severity": "warn"},
    "test_metadata": {"name": "unique", "namespace": null, "kwargs": {"column_name": "id"}}}
 },
 "sources": {"source.p.s.t": {"unique_id": "source.p.s.t", "name": "t", "source_name": "s", "identifier": "T_RAW",
    "freshness": {"warn_after": {"count": 12, "period": "hour"}, "error_after": {"count": null, "period": null}, "filter": null}}},
 "exposures": {"exposure.p.e": {"unique_id": "exposure.p.e", "name": "e", "owner": "Team BI", "type": "dashboard", "maturity": "brand-new-level"}},
 "unit_tests": {"unit_test.p.a.u": {"unique_id": "unit_test.p.a.u", "name": "u", "depends_on": {"nodes": ["model.p.a"]}}},
 "groups": {"group.p.finance": {"unique_id": "group.p.finance", "name": "finance", "owner": {"email": "fin@example.com"}}},
 "macros": {"macro.p.m": {"unique_id": "macro.p.m", "name": "m", "package_name": "p", "macro_sql": "{% macro m() %}{% endmacro %}", "depends_on": {"macros": []}}},
 "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json", "dbt_version": "2.0.0-preview",
    "generated_at": "2025-06-01T10:00:00.123Z", "project_name": "p", "unknown": {"a": 1}}
}`

func TestManifestTolerance(t *testing.T) {
	m, err := ReadManifest(strings.NewReader(tolerantManifest), WithName("tolerant.json"))
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := mustNode(t, m, "model.p.a"), mustNode(t, m, "model.p.b"), mustNode(t, m, "model.p.c")
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"metadata after nodes", m.Metadata.SchemaVersion, 12},
		{"project", m.Metadata.ProjectName, "p"},
		{"tags string unioned with config.tags", a.Tags, []string{"nightly", "finance"}},
		{"version number", a.Version, "2"},
		{"version string", b.Version, "v3"},
		{"null description", a.Description, ""},
		{"null columns", a.Columns, []Column(nil)},
		{"owner object", a.Owner, "Ada"},
		{"owner from config.meta", b.Owner, "config-owner"},
		{"owner from group", c.Owner, "fin@example.com"},
		{"missing depends_on.nodes", a.DependsOnNodes, []string(nil)},
		{"depends_on macros", a.DependsOnMacros, []string{"macro.p.m"}},
		{"depends_on as list", c.DependsOnNodes, []string{"model.p.b"}},
		{"contract", a.ContractEnforced, true},
		{"enabled false", b.Enabled, false},
		{"enabled default", a.Enabled, true},
		{"relation parts", a.RelationParts, []string{"DB", "S", "A"}},
		{"raw_sql", a.RawCode, "select 1"},
		{"column", b.Columns, []Column{{Name: "ID", DataType: "int", Meta: map[string]any{"pii": true},
			Constraints: []Constraint{{Type: "not_null"}}}}},
		{"unknown resource type kept", mustNode(t, m, "future_thing.p.x").ResourceType, ResourceType("future_thing")},
		{"test attached skips macros", mustNode(t, m, "test.p.t").Test.AttachedNode, "model.p.a"},
		{"test severity", mustNode(t, m, "test.p.t").Test.Severity, "warn"},
		{"source alias is identifier", mustNode(t, m, "source.p.s.t").Alias, "T_RAW"},
		{"freshness null counts", mustNode(t, m, "source.p.s.t").Source.Freshness,
			&Freshness{WarnAfter: &FreshnessThreshold{Count: 12, Period: "hour"}}},
		{"exposure owner string", mustNode(t, m, "exposure.p.e").Exposure.OwnerName, "Team BI"},
		{"unknown maturity kept", mustNode(t, m, "exposure.p.e").Exposure.Maturity, "brand-new-level"},
		{"unit test", mustNode(t, m, "unit_test.p.a.u").Test.AttachedNode, "model.p.a"},
		{"macro", len(m.Macros), 1},
		{"group", m.Groups[0].OwnerEmail, "fin@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestColumnConfigMerge reads dbt 1.10 columns, whose tags and meta moved
// under config: config.tags join tags, config.meta fills keys meta lacks, and
// empty blocks give nil.
func TestColumnConfigMerge(t *testing.T) {
	in := `{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"},
	"nodes": {"model.p.a": {"resource_type": "model", "name": "a", "columns": {
		"id": {"name": "id", "tags": ["pk"], "meta": {"owner": "top", "pii": false},
			"config": {"tags": ["pk", "core"], "meta": {"owner": "config", "sla": "1d"}}},
		"only_config": {"name": "only_config", "config": {"tags": ["x"], "meta": {"pii": true}}},
		"empty": {"name": "empty", "meta": {}, "config": {"meta": {}, "tags": []}}}}}}`
	m, err := ReadManifest(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Column{
		{Name: "id", Tags: []string{"pk", "core"}, Meta: map[string]any{"owner": "top", "pii": false, "sla": "1d"}},
		{Name: "only_config", Tags: []string{"x"}, Meta: map[string]any{"pii": true}},
		{Name: "empty"},
	}
	if diff := cmp.Diff(want, mustNode(t, m, "model.p.a").Columns); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
}

// TestPreV1Manifest reads a manifest from before dbt wrote dbt_schema_version.
func TestPreV1Manifest(t *testing.T) {
	in := `{"nodes": {"model.p.a": {"resource_type": "model", "name": "a", "raw_sql": "select 1"}},
		"macros": {}, "docs": {}, "generated_at": "2020-01-01T00:00:00Z",
		"metadata": {"dbt_version": "0.18.1", "adapter_type": "postgres"}}`
	m, err := ReadManifest(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if m.Metadata.SchemaVersion != 0 || len(m.Nodes) != 1 || m.Nodes[0].UniqueID != "model.p.a" ||
		m.Metadata.GeneratedAt.Year() != 2020 || m.Metadata.AdapterType != "postgres" {
		t.Fatalf("unexpected %+v %+v", m.Metadata, m.Nodes)
	}
	if k, v, err := Detect(strings.NewReader(in)); err != nil || k != KindManifest || v != 0 {
		t.Fatalf("Detect = %q %d %v", k, v, err)
	}
}

func TestRunResults(t *testing.T) {
	rr, err := ReadRunResultsFile(tdDiy + "run_results.json")
	if err != nil {
		t.Fatal(err)
	}
	if rr.Command != "build" || rr.Metadata.SchemaVersion != 4 || len(rr.Results) != 20 {
		t.Fatalf("command %q version %d results %d", rr.Command, rr.Metadata.SchemaVersion, len(rr.Results))
	}
	var snap *NodeResult
	for i := range rr.Results {
		if rr.Results[i].UniqueID == "snapshot.jaffle_shop.orders_snapshot" {
			snap = &rr.Results[i]
		}
	}
	if snap == nil || snap.Status != "error" || !strings.HasPrefix(snap.Message, "403 PATCH https://bigquery.googleapis.com") {
		t.Fatalf("failing snapshot: %+v", snap)
	}
	var first NodeResult
	for _, r := range rr.Results {
		if r.UniqueID == "seed.jaffle_shop.employees" {
			first = r
		}
	}
	if first.UniqueID == "" || first.ThreadID != "Thread-3" ||
		first.AdapterResponse["rows_affected"] != 5.0 || len(first.Timing) != 2 || first.Timing[1].Name != "execute" ||
		first.Failures != nil || first.ExecutionTime < 3.5 {
		t.Fatalf("first result: %+v", first)
	}

	v1, err := ReadRunResultsFile(tdRRv1)
	if err != nil {
		t.Fatal(err)
	}
	if v1.Command != "run" || v1.Results[0].UniqueID != "model.jaffle_shop.stg_payments" || v1.Results[0].Message != "OK" {
		t.Fatalf("v1: %+v", v1.Results[0])
	}

	// dbt Fusion capitalises statuses; failures may be a number or null.
	fusion := `{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json", "dbt_version": "2.0.0"},
		"results": [{"unique_id": "test.p.t", "status": "Fail", "failures": 3, "message": "Got 3 results", "execution_time": "0.5"},
		            {"unique_id": "model.p.a", "status": "Success", "failures": null, "thread_id": null, "timing": null}],
		"elapsed_time": 1.5, "args": {"which": "build"}}`
	f, err := ReadRunResults(strings.NewReader(fusion))
	if err != nil {
		t.Fatal(err)
	}
	if f.Results[0].Status != "fail" || *f.Results[0].Failures != 3 || f.Results[0].ExecutionTime != 0.5 ||
		f.Results[1].Status != "success" || f.Results[1].Failures != nil {
		t.Fatalf("fusion: %+v", f.Results)
	}
}

func TestCatalogAndSources(t *testing.T) {
	cat, err := ReadCatalogFile(tdDiy + "catalog.json")
	if err != nil {
		t.Fatal(err)
	}
	tb := cat.Table("seed.jaffle_shop.employees")
	if tb == nil || tb.Type != "table" || tb.Database != "striking-gadget-328313" || len(tb.Columns) != 3 ||
		tb.Columns[0].Name != "employee_id" || tb.Columns[0].Type != "INT64" || tb.Columns[0].Index != 1 {
		t.Fatalf("catalog table: %+v", tb)
	}
	if len(tb.Stats) == 0 || tb.Stats[0].ID != "num_bytes" || tb.Stats[0].Value != 196.0 || !tb.Stats[0].Include {
		t.Fatalf("stats: %+v", tb.Stats)
	}
	if len(cat.Sources) != 3 {
		t.Fatalf("sources: %d", len(cat.Sources))
	}

	src, err := ReadSourcesFile(tdDiy + "sources.json")
	if err != nil {
		t.Fatal(err)
	}
	want := FreshnessResult{
		UniqueID: "source.jaffle_shop.jaffle_shop.orders", Status: "warn", RawStatus: "warn",
		MaxLoadedAt:           time.Date(2021, 11, 23, 16, 23, 27, 62923000, time.UTC),
		SnapshottedAt:         time.Date(2021, 11, 24, 8, 23, 27, 62923000, time.UTC),
		MaxLoadedAtTimeAgoInS: 57600,
		Criteria: &Freshness{WarnAfter: &FreshnessThreshold{Count: 12, Period: "hour"},
			ErrorAfter: &FreshnessThreshold{Count: 24, Period: "hour"}},
	}
	if diff := cmp.Diff([]FreshnessResult{want}, src.Results, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Fatalf("sources (-want +got):\n%s", diff)
	}
	// v3 runtime errors carry error/message and no criteria.
	v3 := `{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/sources/v3.json"}, "elapsed_time": 1,
		"results": [{"unique_id": "source.p.s.t", "status": "runtime error", "error": "relation does not exist"}]}`
	s3, err := ReadSources(strings.NewReader(v3))
	if err != nil {
		t.Fatal(err)
	}
	if s3.Results[0].Message != "relation does not exist" || s3.Metadata.SchemaVersion != 3 {
		t.Fatalf("v3: %+v", s3.Results[0])
	}
}

func TestJoin(t *testing.T) {
	m := mustManifest(t, tdDiy+"manifest.json", SkipCode())
	rr, err := ReadRunResultsFile(tdDiy + "run_results.json")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := ReadCatalogFile(tdDiy + "catalog.json")
	if err != nil {
		t.Fatal(err)
	}
	src, err := ReadSourcesFile(tdDiy + "sources.json")
	if err != nil {
		t.Fatal(err)
	}
	j := Join(m, rr, cat, src)
	seed := j.Node("seed.jaffle_shop.employees")
	if seed == nil || seed.Result == nil || seed.Result.Message != "INSERT 5" || seed.Table == nil ||
		len(seed.Columns) != 3 || seed.Columns[0].Type() != "INT64" {
		t.Fatalf("seed: %+v", seed)
	}
	orders := j.Node("source.jaffle_shop.jaffle_shop.orders")
	if orders == nil || orders.Freshness == nil || orders.Freshness.Status != "warn" || orders.Table == nil {
		t.Fatalf("source: %+v", orders)
	}
	snap := j.Node("snapshot.jaffle_shop.orders_snapshot")
	if snap == nil || snap.Result == nil || snap.Result.Status != "error" {
		t.Fatalf("snapshot: %+v", snap)
	}
}

// TestJoinNilParts joins with every part missing: a nil manifest, a nil
// node, and no run results, catalog or freshness.
func TestJoinNilParts(t *testing.T) {
	j := Join(nil, nil, nil, nil)
	if len(j.Nodes) != 0 || j.Node("model.p.a") != nil {
		t.Fatalf("nil manifest: %+v", j)
	}
	rr := &RunResults{Results: []NodeResult{{UniqueID: "model.p.a", Status: "success"}}}
	j = Join(&Manifest{Nodes: []*Node{nil, {UniqueID: "model.p.a"}, nil}}, rr, nil, nil)
	if len(j.Nodes) != 1 || j.Node("model.p.a") == nil || j.Node("model.p.a").Result == nil ||
		j.Node("model.p.a").Table != nil || j.Node("model.p.a").Columns != nil {
		t.Fatalf("nil node: %+v", j.Nodes)
	}
}

const snowflakeManifest = `{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"},
	"nodes": {"model.p.orders": {"unique_id": "model.p.orders", "resource_type": "model", "name": "orders",
	"columns": {"order_id": {"name": "order_id", "description": "Primary key"}, "\"Amount\"": {"name": "\"Amount\""},
	            "note": {"name": "note", "data_type": "text"}}}}}`

const snowflakeCatalog = `{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog/v1.json"},
	"nodes": {"model.p.orders": {"unique_id": "model.p.orders",
	"metadata": {"type": "BASE TABLE", "schema": "ANALYTICS", "name": "ORDERS", "database": "DB", "comment": "Orders", "owner": "TRANSFORMER"},
	"columns": {"AMOUNT": {"type": "NUMBER(38,2)", "index": 2, "name": "AMOUNT", "comment": null},
	            "ORDER_ID": {"type": "NUMBER(38,0)", "index": 1, "name": "ORDER_ID", "comment": "pk"},
	            "LOADED_AT": {"type": "TIMESTAMP_NTZ", "index": 3, "name": "LOADED_AT"}},
	"stats": {"row_count": {"id": "row_count", "label": "Row Count", "value": 42, "include": true}}}}, "sources": {}, "errors": null}`

// TestJoinSnowflakeCase joins a lower-case manifest to an upper-case catalog,
// as Snowflake writes them.
func TestJoinSnowflakeCase(t *testing.T) {
	m, err := ReadManifest(strings.NewReader(snowflakeManifest))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := ReadCatalog(strings.NewReader(snowflakeCatalog))
	if err != nil {
		t.Fatal(err)
	}
	n := Join(m, nil, cat, nil).Node("model.p.orders")
	type col struct{ Name, Type, Comment, Desc string }
	var got []col
	for _, c := range n.Columns {
		g := col{Name: c.Name, Type: c.Type()}
		if c.Catalog != nil {
			g.Comment = c.Catalog.Comment
		}
		if c.Column != nil {
			g.Desc = c.Column.Description
		}
		got = append(got, g)
	}
	want := []col{
		{"order_id", "NUMBER(38,0)", "pk", "Primary key"},
		{`"Amount"`, "NUMBER(38,2)", "", ""},
		{"note", "text", "", ""},
		{"LOADED_AT", "TIMESTAMP_NTZ", "", ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("columns (-want +got):\n%s", diff)
	}
	if n.Table.Owner != "TRANSFORMER" || n.Table.Stats[0].Value != 42.0 {
		t.Fatalf("table: %+v", n.Table)
	}
}

// TestGzip reads gzip input detected by magic bytes, whatever the file name.
func TestGzip(t *testing.T) {
	raw, err := os.ReadFile(tdV12)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(raw)
	zw.Close()
	dir := t.TempDir()
	plain := mustManifest(t, tdV12)
	for _, name := range []string{"manifest.json.gz", "manifest.json"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		m := mustManifest(t, p)
		if diff := cmp.Diff(plain, m, cmp.AllowUnexported(Manifest{})); diff != "" {
			t.Fatalf("%s differs from plain read:\n%s", name, diff)
		}
		if f, err := ReadFile(p); err != nil || f.Kind != KindManifest {
			t.Fatalf("ReadFile(%s) = %v, %v", name, f, err)
		}
	}
	// The io.Reader entry points detect gzip too.
	if _, err := ReadManifest(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name string
		in   string
		kind Kind
		ver  int
	}{
		{"manifest by url", `{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v7.json"}}`, KindManifest, 7},
		{"run results by url", `{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json"}}`, KindRunResults, 6},
		{"manifest by shape", `{"nodes": {"model.a.b": {"resource_type": "model"}}}`, KindManifest, 0},
		{"manifest by section", `{"nodes": {}, "macros": {}}`, KindManifest, 0},
		{"catalog by shape", `{"nodes": {"model.a.b": {"metadata": {}, "columns": {}, "stats": {}}}, "sources": {}}`, KindCatalog, 0},
		{"sources by shape", `{"results": [{"unique_id": "source.a.b.c", "max_loaded_at": "x", "criteria": {}}]}`, KindSources, 0},
		{"run results by shape", `{"results": [{"unique_id": "model.a.b", "status": "success", "timing": []}], "elapsed_time": 1}`, KindRunResults, 0},
		{"metadata last", `{"nodes": {}, "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog/v1.json"}}`, KindCatalog, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, v, err := Detect(strings.NewReader(tt.in))
			if err != nil || k != tt.kind || v != tt.ver {
				t.Fatalf("Detect = %q, %d, %v; want %q, %d", k, v, err, tt.kind, tt.ver)
			}
		})
	}
	if _, _, err := Detect(strings.NewReader(`{"a": 1}`)); err == nil {
		t.Fatal("Detect accepted a non-artifact")
	}
}

func TestInspect(t *testing.T) {
	s, err := Inspect(tdDiy + "run_results.json")
	if err != nil {
		t.Fatal(err)
	}
	if s.Kind != KindRunResults || s.Counts["results"] != 20 || s.Tests == nil || s.Tests.Pass != 11 ||
		len(s.Failures) != 1 || s.Failures[0].UniqueID != "snapshot.jaffle_shop.orders_snapshot" ||
		len(s.Slowest) != 10 || s.Command != "build" {
		t.Fatalf("summary: %+v tests %+v", s, s.Tests)
	}
	for i := 1; i < len(s.Slowest); i++ {
		if s.Slowest[i].ExecutionTime > s.Slowest[i-1].ExecutionTime {
			t.Fatal("slowest not sorted")
		}
	}
	// counts is present in JSON even when empty.
	b, err := json.Marshal(&Summary{Counts: map[string]int{}})
	if err != nil || !strings.Contains(string(b), `"counts":{}`) {
		t.Fatalf("json: %s %v", b, err)
	}
	ms, err := Inspect(tdV12)
	if err != nil {
		t.Fatal(err)
	}
	if ms.Counts["model"] != 2 || ms.Counts["macro"] != 450 || ms.Adapter != "postgres" || ms.SchemaVersion != 12 {
		t.Fatalf("manifest summary: %+v", ms)
	}
}

func hasKey(m map[string][]string, k string) bool { _, ok := m[k]; return ok }
