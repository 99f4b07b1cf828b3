package openlineage

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dbtlink/dbtlink/artifacts"
)

var t0 = time.Date(2026, 3, 12, 6, 0, 0, 0, time.UTC)

func timing(startSec, endSec int) []artifacts.Timing {
	return []artifacts.Timing{
		{Name: "compile", StartedAt: t0.Add(time.Duration(startSec) * time.Second), CompletedAt: t0.Add(time.Duration(startSec) * time.Second)},
		{Name: "execute", StartedAt: t0.Add(time.Duration(startSec) * time.Second), CompletedAt: t0.Add(time.Duration(endSec) * time.Second)},
	}
}

// fixture is a small project built with dbt build on Postgres: a source,
// a seed, an ephemeral staging model, a table that passes two tests and
// fails one, a model that errors, a skipped model and a snapshot.
func fixture(command string) Input {
	node := func(rt artifacts.ResourceType, id, alias string, deps ...string) *artifacts.Node {
		return &artifacts.Node{UniqueID: id, ResourceType: rt, Name: alias, Alias: alias, Database: "analytics", Schema: "public",
			Materialized: "table", DependsOnNodes: deps, Language: "sql"}
	}
	src := node(artifacts.Source, "source.shop.raw.orders", "raw_orders")
	src.Schema, src.Description = "raw", "Orders as loaded"
	seed := node(artifacts.Seed, "seed.shop.countries", "countries")
	stg := node(artifacts.Model, "model.shop.stg_orders", "stg_orders", src.UniqueID)
	stg.Materialized = "ephemeral"
	orders := node(artifacts.Model, "model.shop.orders", "fct_orders", stg.UniqueID, seed.UniqueID)
	orders.Name = "orders"
	orders.Description = "One row per order"
	orders.CompiledCode = "select id, amount from raw.raw_orders"
	orders.Columns = []artifacts.Column{{Name: "id", Description: "Order id"}, {Name: "amount", DataType: "numeric"}}
	customers := node(artifacts.Model, "model.shop.customers", "customers", orders.UniqueID)
	customers.CompiledCode = "select * from nowhere"
	skipped := node(artifacts.Model, "model.shop.skipped", "skipped", customers.UniqueID)
	snap := node(artifacts.Snapshot, "snapshot.shop.orders_snapshot", "orders_snapshot", orders.UniqueID)
	snap.Schema = "snapshots"
	test := func(id, name, column string, sev string) *artifacts.Node {
		n := node(artifacts.Test, id, strings.TrimPrefix(id, "test.shop."), orders.UniqueID)
		n.Test = &artifacts.TestMetadata{Name: name, ColumnName: column, AttachedNode: orders.UniqueID, Severity: sev}
		return n
	}
	notNull := test("test.shop.not_null_orders_id", "not_null", "id", "ERROR")
	unique := test("test.shop.unique_orders_id", "unique", "id", "ERROR")
	singular := test("test.shop.assert_positive_amount", "", "", "warn")
	singular.Test.AttachedNode = "" // singular tests find their model through depends_on

	m := &artifacts.Manifest{
		Metadata: artifacts.Metadata{AdapterType: "postgres", DBTVersion: "1.9.1", ProjectName: "shop",
			InvocationID: "1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9"},
		Nodes: []*artifacts.Node{src, seed, stg, orders, customers, skipped, snap, notNull, unique, singular},
	}
	rr := &artifacts.RunResults{Command: command, Metadata: artifacts.Metadata{DBTVersion: "1.9.1", InvocationID: m.Metadata.InvocationID},
		Results: []artifacts.NodeResult{
			{UniqueID: seed.UniqueID, Status: "success", Timing: timing(1, 2)},
			{UniqueID: orders.UniqueID, Status: "success", Timing: timing(2, 5), AdapterResponse: map[string]any{"rows_affected": 42.0, "query_id": "q-17"}},
			{UniqueID: customers.UniqueID, Status: "error", Message: `relation "nowhere" does not exist`, Timing: timing(5, 6)},
			{UniqueID: skipped.UniqueID, Status: "skipped"},
			{UniqueID: snap.UniqueID, Status: "success", Timing: timing(6, 7)},
			{UniqueID: notNull.UniqueID, Status: "pass", Timing: timing(7, 8)},
			{UniqueID: unique.UniqueID, Status: "fail", Failures: new(3), Timing: timing(8, 9)},
			{UniqueID: singular.UniqueID, Status: "pass", Timing: timing(9, 10)},
		}}
	cat := &artifacts.Catalog{Nodes: []*artifacts.CatalogTable{{UniqueID: orders.UniqueID, Name: "fct_orders",
		Columns: []artifacts.CatalogColumn{{Name: "ID", Type: "integer", Index: 1}, {Name: "AMOUNT", Type: "numeric(10,2)", Index: 2}, {Name: "LOADED_AT", Type: "timestamp", Index: 3}},
		Stats:   []artifacts.CatalogStat{{ID: "row_count", Value: 40.0}}}}}
	return Input{
		Run: CloudRun{Host: "cloud.getdbt.com", AccountID: 1, ProjectID: 101, JobID: 301, RunID: 9001, ConnectionID: 77,
			Outcome: OutcomeError, StatusMessage: "1 of 8 nodes errored", StartedAt: t0, FinishedAt: t0.Add(11 * time.Second)},
		Steps:   []Step{{Index: 4, Name: "Invoke dbt with `dbt " + command + "`", StartedAt: t0, FinishedAt: t0.Add(10 * time.Second), Manifest: m, Results: rr}},
		Catalog: cat,
	}
}

// lineager is a fixed ColumnLineager.
type lineager map[string]map[string][]ColumnRef

func (l lineager) ColumnLineage(m *artifacts.Manifest, _ *artifacts.Catalog, n *artifacts.Node) (map[string][]ColumnRef, error) {
	if n.UniqueID == "model.shop.customers" {
		return nil, errors.New("cannot parse")
	}
	return l[n.UniqueID], nil
}

type brief struct{ Type, Job string }

func briefs(evs []RunEvent) []brief {
	var out []brief
	for _, e := range evs {
		out = append(out, brief{string(e.EventType), e.Job.Name})
	}
	return out
}

func TestBuild(t *testing.T) {
	in := fixture("build")
	res := Build(in, Options{ColumnLineage: lineager{"model.shop.orders": {"id": {{UniqueID: "source.shop.raw.orders", Column: "id"}}}}})
	parent := ParentJobName(1, 301)
	want := []brief{
		{"START", parent},
		{"START", "analytics.public.shop.countries.build.seed"}, {"COMPLETE", "analytics.public.shop.countries.build.seed"},
		{"START", "analytics.public.shop.orders.build.run"}, {"COMPLETE", "analytics.public.shop.orders.build.run"},
		{"START", "analytics.public.shop.customers.build.run"}, {"FAIL", "analytics.public.shop.customers.build.run"},
		{"START", "analytics.snapshots.shop.orders_snapshot.build.snapshot"}, {"COMPLETE", "analytics.snapshots.shop.orders_snapshot.build.snapshot"},
		{"START", "analytics.public.shop.orders.build.test"}, {"COMPLETE", "analytics.public.shop.orders.build.test"},
		{"FAIL", parent},
	}
	if d := cmp.Diff(want, briefs(res.Events)); d != "" {
		t.Fatalf("events (-want +got):\n%s", d)
	}
	ev := res.Events
	wrapperID := ev[0].Run.RunID
	for i, e := range ev[1 : len(ev)-1] {
		p := e.Run.Facets.Parent
		if p == nil || p.Run.RunID != wrapperID || p.Job.Name != parent || p.Job.Namespace != "dbt" || p.Root == nil {
			t.Errorf("event %d (%s %s): parent facet %+v, want the dbt Cloud run %s", i+1, e.EventType, e.Job.Name, p, wrapperID)
		}
		if e.Run.Facets.ProcessingEngine == nil || e.Run.Facets.ProcessingEngine.Version != "1.9.1" || e.Run.Facets.DbtRun == nil {
			t.Errorf("event %d: no processing_engine or dbt_run facet", i+1)
		}
	}
	if ev[0].Run.Facets.Parent != nil {
		t.Error("the dbt Cloud run has a parent")
	}
	if ev[len(ev)-1].Run.Facets.ErrorMessage == nil || ev[len(ev)-1].Run.Facets.ErrorMessage.Message != "1 of 8 nodes errored" {
		t.Errorf("the failed dbt Cloud run's FAIL has no status message: %+v", ev[len(ev)-1].Run.Facets.ErrorMessage)
	}
	if ev[3].Run.RunID != ev[4].Run.RunID || ev[3].Run.RunID == ev[5].Run.RunID {
		t.Error("START and COMPLETE of a model must share a run id, and two models must not")
	}

	// The model: inputs through the ephemeral model, output with schema
	// from the catalog, SQL, statistics, column lineage, query id.
	start := ev[3]
	var inputs []string
	for _, in := range start.Inputs {
		inputs = append(inputs, in.Namespace+" "+in.Name)
	}
	ns := "postgres://dbt-cloud-1-connection-77"
	if d := cmp.Diff([]string{ns + " analytics.raw.raw_orders", ns + " analytics.public.countries"}, inputs); d != "" {
		t.Errorf("inputs (-want +got):\n%s", d)
	}
	if start.Inputs[0].Facets.Documentation == nil || start.Inputs[0].Facets.Documentation.Description != "Orders as loaded" {
		t.Errorf("source input has no documentation facet: %+v", start.Inputs[0].Facets)
	}
	out := start.Outputs[0]
	if out.Name != "analytics.public.fct_orders" {
		t.Errorf("output named %q, want the relation analytics.public.fct_orders", out.Name)
	}
	wantFields := []SchemaField{{Name: "id", Type: "integer", Description: "Order id"}, {Name: "amount", Type: "numeric(10,2)"}, {Name: "LOADED_AT", Type: "timestamp"}}
	if d := cmp.Diff(wantFields, out.Facets.Schema.Fields); d != "" {
		t.Errorf("schema (-want +got):\n%s", d)
	}
	if q := start.Job.Facets.SQL; q == nil || q.Query != "select id, amount from raw.raw_orders" || q.Dialect != "postgres" {
		t.Errorf("sql facet %+v", q)
	}
	if s := out.OutputFacets.OutputStatistics; s == nil || s.RowCount != 40 {
		t.Errorf("outputStatistics %+v, want the catalog's 40 rows", s)
	}
	if cl := out.Facets.ColumnLineage; cl == nil || len(cl.Fields["id"].InputFields) != 1 || cl.Fields["id"].InputFields[0].Name != "analytics.raw.raw_orders" {
		t.Errorf("columnLineage %+v", cl)
	}
	if q := start.Run.Facets.ExternalQuery; q == nil || q.ExternalQueryID != "q-17" {
		t.Errorf("externalQuery %+v", q)
	}
	if start.EventTime != t0.Add(2*time.Second) || ev[4].EventTime != t0.Add(5*time.Second) {
		t.Errorf("model times %v..%v, want its execute timing", start.EventTime, ev[4].EventTime)
	}

	// The failed model: FAIL with dbt's message and no outputs.
	fail := ev[6]
	if fail.Run.Facets.ErrorMessage == nil || fail.Run.Facets.ErrorMessage.Message != `relation "nowhere" does not exist` || fail.Run.Facets.ErrorMessage.ProgrammingLanguage != "SQL" {
		t.Errorf("FAIL errorMessage %+v", fail.Run.Facets.ErrorMessage)
	}
	if len(fail.Outputs) != 0 {
		t.Errorf("FAIL has outputs %+v", fail.Outputs)
	}
	if !slices.ContainsFunc(res.Warnings, func(w string) bool {
		return strings.Contains(w, "no column lineage for model.shop.customers: cannot parse")
	}) {
		t.Errorf("no warning for the column lineage error: %q", res.Warnings)
	}

	// The tests of orders: one TEST job, one assertion per test.
	tj := ev[10]
	if tj.Job.Facets.JobType.JobType != "TEST" || len(tj.Inputs) != 1 || tj.Inputs[0].Name != "analytics.public.fct_orders" {
		t.Fatalf("test job %+v", tj)
	}
	wantA := []Assertion{
		{Assertion: "not_null", Success: true, Column: "id", Severity: "error", Name: "not_null_orders_id"},
		{Assertion: "unique", Success: false, Column: "id", Severity: "error", Name: "unique_orders_id"},
		{Assertion: "assert_positive_amount", Success: true, Severity: "warn", Name: "assert_positive_amount"},
	}
	if d := cmp.Diff(wantA, tj.Inputs[0].InputFacets.DataQualityAssertions.Assertions); d != "" {
		t.Errorf("assertions (-want +got):\n%s", d)
	}
	if tj.EventTime != t0.Add(10*time.Second) || ev[9].EventTime != t0.Add(7*time.Second) {
		t.Errorf("test job from %v to %v, want the span of its tests", ev[9].EventTime, tj.EventTime)
	}

	// Same run, same ids: a repeated delivery describes the same runs.
	again := Build(fixture("build"), Options{})
	for i := range ev {
		if ev[i].Run.RunID != again.Events[i].Run.RunID {
			t.Fatalf("event %d: run id %s then %s", i, ev[i].Run.RunID, again.Events[i].Run.RunID)
		}
	}
}

func TestBuildCommands(t *testing.T) {
	tests := []struct {
		command string
		want    []string // job names between the wrapper's events
	}{
		{"run", []string{"analytics.public.shop.countries.seed", "analytics.public.shop.orders", "analytics.public.shop.customers", "analytics.snapshots.shop.orders_snapshot.snapshot"}},
		{"test", []string{"analytics.public.shop.orders.test"}},
		{"compile", nil},
		{"docs", nil},
	}
	for _, tt := range tests {
		t.Run(tt.command, func(t *testing.T) {
			res := Build(fixture(tt.command), Options{})
			var got []string
			for _, e := range res.Events[1 : len(res.Events)-1] {
				if e.EventType == Start {
					got = append(got, e.Job.Name)
				}
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("jobs (-want +got):\n%s", d)
			}
		})
	}
}

// TestEventsValidate checks every kind of event dbtlink makes against the
// OpenLineage JSON schema and each facet against its own schema.
func TestEventsValidate(t *testing.T) {
	v := getValidator(t)
	types := map[EventType]bool{}
	facets := map[string]bool{}
	for _, outcome := range []string{OutcomeSuccess, OutcomeError, OutcomeCancelled} {
		for _, adapter := range []string{"postgres", "bigquery", "snowflake", "duckdb"} {
			in := fixture("build")
			in.Run.Outcome = outcome
			in.Steps[0].Manifest.Metadata.AdapterType = adapter
			res := Build(in, Options{ColumnLineage: lineager{"model.shop.orders": {"id": {{UniqueID: "source.shop.raw.orders", Column: "id"}}, "amount": nil}}})
			for _, ev := range res.Events {
				v.validate(t, ev)
				types[ev.EventType] = true
				b, _ := json.Marshal(ev)
				collectFacetKeys(t, b, facets)
			}
		}
	}
	for _, want := range []EventType{Start, Complete, Fail, Abort} {
		if !types[want] {
			t.Errorf("no %s event was validated", want)
		}
	}
	for _, want := range []string{"parent", "processing_engine", "dbt_run", "errorMessage", "externalQuery", "jobType", "sql",
		"dataSource", "documentation", "schema", "columnLineage", "dataQualityAssertions", "outputStatistics"} {
		if !facets[want] {
			t.Errorf("no %s facet was validated", want)
		}
	}
}

func collectFacetKeys(t *testing.T, b []byte, into map[string]bool) {
	t.Helper()
	var ev struct {
		Run, Job struct{ Facets map[string]json.RawMessage }
		Inputs   []struct{ Facets, InputFacets map[string]json.RawMessage }
		Outputs  []struct{ Facets, OutputFacets map[string]json.RawMessage }
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	add := func(m map[string]json.RawMessage) {
		for k := range m {
			into[k] = true
		}
	}
	add(ev.Run.Facets)
	add(ev.Job.Facets)
	for _, d := range ev.Inputs {
		add(d.Facets)
		add(d.InputFacets)
	}
	for _, d := range ev.Outputs {
		add(d.Facets)
		add(d.OutputFacets)
	}
}

func TestDatasetNamespace(t *testing.T) {
	tests := []struct {
		adapter, override string
		conn              int64
		want              string
	}{
		{"postgres", "", 77, "postgres://dbt-cloud-1-connection-77"},
		{"postgres", "postgres://db.internal:5432", 77, "postgres://db.internal:5432"},
		{"bigquery", "", 77, "bigquery"},
		{"sqlserver", "", 0, "mssql://dbt-cloud-1"},
		{"athena", "", 5, "awsathena://dbt-cloud-1-connection-5"},
		{"materialize", "", 5, "materialize://dbt-cloud-1-connection-5"},
		{"", "", 0, "dbt://dbt-cloud-1"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.adapter, tt.override, tt.conn), func(t *testing.T) {
			if got := DatasetNamespace(tt.adapter, tt.override, 1, tt.conn); got != tt.want {
				t.Errorf("DatasetNamespace = %q, want %q", got, tt.want)
			}
		})
	}
	if NeedsOverride("bigquery", "") || !NeedsOverride("postgres", "") || NeedsOverride("postgres", "postgres://h:1") {
		t.Error("NeedsOverride is wrong")
	}
	res := Build(fixture("run"), Options{})
	if !slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.Contains(w, "dataset namespace") }) {
		t.Errorf("no warning about the fallback namespace: %q", res.Warnings)
	}
}

func TestStepCommand(t *testing.T) {
	for name, want := range map[string]string{
		"Invoke dbt with `dbt build`":                                         "build",
		"Invoke dbt with `dbt build --select state:modified+`":                "build",
		"Invoke dbt with `dbt --warn-error run -s orders`":                    "run",
		"Invoke dbt with `dbt --log-format json test`":                        "test",
		"Invoke dbt with `dbt source freshness`":                              "source",
		"Invoke dbt with `dbt docs generate`":                                 "docs",
		"Clone git repository":                                                "",
		"Create profile from connection Snowflake":                            "",
		"Invoke dbt with `dbt --profiles-dir ./profiles seed --full-refresh`": "seed",
	} {
		if got := stepCommand(name); got != want {
			t.Errorf("stepCommand(%q) = %q, want %q", name, got, want)
		}
	}
}
