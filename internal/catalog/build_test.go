package catalog

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/artifacts"
	"github.com/dbtlink/dbtlink/internal/store"
)

var t0 = time.Date(2026, 3, 12, 6, 0, 0, 0, time.UTC)

func timing(at time.Time) []artifacts.Timing {
	return []artifacts.Timing{{Name: "compile", StartedAt: at.Add(-2 * time.Second), CompletedAt: at.Add(-time.Second)},
		{Name: "execute", StartedAt: at.Add(-time.Second), CompletedAt: at}}
}

func ip(i int) *int { return &i }

// testManifest: source raw.orders -> stg (ephemeral) -> int (ephemeral) ->
// orders -> exposure dash; customers reads the source directly and int.
func testManifest() *artifacts.Manifest {
	return &artifacts.Manifest{
		Metadata: artifacts.Metadata{AdapterType: "postgres", DBTVersion: "1.9.0", ProjectName: "shop", GeneratedAt: t0},
		Nodes: []*artifacts.Node{
			{UniqueID: "source.shop.raw.orders", ResourceType: artifacts.Source, Name: "orders", Database: "db", Schema: "raw", Alias: "orders",
				RelationName: `"db"."raw"."orders"`, Source: &artifacts.SourceInfo{SourceName: "raw", Loader: "fivetran",
					Freshness: &artifacts.Freshness{WarnAfter: &artifacts.FreshnessThreshold{Count: 12, Period: "hour"}}}},
			{UniqueID: "model.shop.stg", ResourceType: artifacts.Model, Name: "stg", Materialized: "ephemeral", DependsOnNodes: []string{"source.shop.raw.orders"}},
			{UniqueID: "model.shop.int", ResourceType: artifacts.Model, Name: "int", Materialized: "ephemeral", DependsOnNodes: []string{"model.shop.stg"}},
			{UniqueID: "model.shop.orders", ResourceType: artifacts.Model, Name: "orders", Materialized: "table", Database: "db", Schema: "dbt", Alias: "orders",
				RelationName: `"db"."dbt"."orders"`, Description: "One row per order", Owner: "data@shop", Tags: []string{"core"},
				Meta: map[string]any{"owner": "data@shop"}, Access: "public", Group: "finance", ContractEnforced: true, Version: "",
				OriginalFilePath: "models/orders.sql", RawCode: "select * from {{ ref('int') }}",
				Columns: []artifacts.Column{{Name: "status", Description: "order status", Tags: []string{"pii"}},
					{Name: "order_id", Description: "key", Constraints: []artifacts.Constraint{{Type: "not_null"}}},
					{Name: "documented_only", Description: "not in the warehouse"}},
				DependsOnNodes: []string{"model.shop.int"}},
			{UniqueID: "model.shop.customers", ResourceType: artifacts.Model, Name: "customers", Materialized: "view", Database: "db", Schema: "dbt", Alias: "customers",
				RelationName: `"db"."dbt"."customers"`, DependsOnNodes: []string{"source.shop.raw.orders", "model.shop.int"}},
			{UniqueID: "exposure.shop.dash", ResourceType: artifacts.Exposure, Name: "dash", Label: "Dashboard",
				Exposure: &artifacts.ExposureInfo{Type: "dashboard", URL: "https://bi/1"}, DependsOnNodes: []string{"model.shop.orders"}},
			{UniqueID: "test.shop.not_null_orders_order_id.abc", ResourceType: artifacts.Test, Name: "not_null_orders_order_id",
				Test: &artifacts.TestMetadata{Name: "not_null", AttachedNode: "model.shop.orders", ColumnName: "order_id", Severity: "ERROR",
					Kwargs: map[string]any{"column_name": "order_id"}}, DependsOnNodes: []string{"model.shop.orders"}},
			{UniqueID: "test.shop.unique_orders_order_id.def", ResourceType: artifacts.Test, Name: "unique_orders_order_id",
				Test: &artifacts.TestMetadata{Name: "unique", AttachedNode: "model.shop.orders", ColumnName: "order_id"}, DependsOnNodes: []string{"model.shop.orders"}},
			{UniqueID: "analysis.shop.a", ResourceType: artifacts.Analysis, Name: "a"},
		},
		Groups: []*artifacts.GroupDef{{UniqueID: "group.shop.finance", Name: "finance", OwnerEmail: "fin@shop"}},
	}
}

func testInputs() *Inputs {
	const notNull, unique = "test.shop.not_null_orders_order_id.abc", "test.shop.unique_orders_order_id.def"
	// Run 11 (job 1, older) failed the not_null test; run 12 (job 2, newer)
	// passed it. Run 13 is a docs generate whose entries are compile-only.
	run11 := &artifacts.RunResults{Command: "build", Results: []artifacts.NodeResult{
		{UniqueID: "model.shop.orders", Status: "success", Message: "SELECT 3", ExecutionTime: 1.5, Timing: timing(t0.Add(time.Minute)), CompiledCode: "select 1 as order_id"},
		{UniqueID: notNull, Status: "fail", Failures: ip(3), Message: "Got 3 results", Timing: timing(t0.Add(2 * time.Minute))},
		{UniqueID: unique, Status: "fail", Failures: ip(1), Message: "Got 1 result", Timing: timing(t0.Add(2 * time.Minute))},
	}}
	run12 := &artifacts.RunResults{Command: "test", Results: []artifacts.NodeResult{
		{UniqueID: notNull, Status: "pass", Failures: ip(0), Timing: timing(t0.Add(time.Hour))},
		// A `dbt run`-style compiled-only entry for a test: not a result.
		{UniqueID: unique, Status: "success", Timing: timing(t0.Add(time.Hour))},
	}}
	run13 := &artifacts.RunResults{Command: "generate", Results: []artifacts.NodeResult{
		{UniqueID: "model.shop.orders", Status: "success", Timing: timing(t0.Add(2 * time.Hour))},
		{UniqueID: notNull, Status: "success", Timing: timing(t0.Add(2 * time.Hour))},
	}}
	return &Inputs{
		Manifest: testManifest(),
		Catalog: &artifacts.Catalog{Nodes: []*artifacts.CatalogTable{{UniqueID: "model.shop.orders", Type: "BASE TABLE",
			Columns: []artifacts.CatalogColumn{{Name: "ORDER_ID", Type: "integer", Index: 1}, {Name: "STATUS", Type: "text", Index: 2}, {Name: "amount", Type: "numeric", Index: 3}}}}},
		Sources: &artifacts.SourcesResults{Results: []artifacts.FreshnessResult{{UniqueID: "source.shop.raw.orders", Status: "warn",
			MaxLoadedAt: t0.Add(-13 * time.Hour), SnapshottedAt: t0}}},
		// Newest first on purpose: the order read must not matter.
		Results: []RunResultsInput{
			{RunID: 13, JobID: 3, Step: 4, RunFinishedAt: t0.Add(2 * time.Hour), Results: run13},
			{RunID: 12, JobID: 2, Step: 4, RunFinishedAt: t0.Add(time.Hour), Results: run12},
			{RunID: 11, JobID: 1, Step: 4, RunFinishedAt: t0.Add(3 * time.Minute), Results: run11},
		},
		Fingerprint: "fp1",
	}
}

func nodeByID(s store.Snapshot, id string) *store.CatalogNode {
	for i := range s.Nodes {
		if s.Nodes[i].UniqueID == id {
			return &s.Nodes[i]
		}
	}
	return nil
}

func testByID(s store.Snapshot, id string) *store.CatalogTest {
	for i := range s.Tests {
		if s.Tests[i].UniqueID == id {
			return &s.Tests[i]
		}
	}
	return nil
}

func TestBuildSnapshot(t *testing.T) {
	t.Parallel()
	scope := store.CatalogScope{Key: "cloud:c:201", Kind: store.ScopeDbtCloud, AccountID: 1, ProjectID: 101, EnvironmentID: 201}
	snap, err := BuildSnapshot(scope, testInputs(), BuildOptions{AccessURL: "https://cloud.getdbt.com/"})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Scope.AdapterType != "postgres" || snap.Scope.DbtVersion != "1.9.0" || snap.Scope.Fingerprint != "fp1" || !snap.Scope.ManifestGeneratedAt.Equal(t0) {
		t.Errorf("scope %+v", snap.Scope)
	}
	var ids []string
	for _, n := range snap.Nodes {
		ids = append(ids, n.UniqueID)
	}
	wantIDs := []string{"source.shop.raw.orders", "model.shop.stg", "model.shop.int", "model.shop.orders", "model.shop.customers", "exposure.shop.dash", "group.shop.finance"}
	if !slices.Equal(ids, wantIDs) {
		t.Errorf("nodes %v, want %v", ids, wantIDs)
	}

	o := nodeByID(snap, "model.shop.orders")
	if o.ExploreURL != "https://cloud.getdbt.com/explore/1/projects/101/environments/production/details/model.shop.orders" {
		t.Errorf("explore %q", o.ExploreURL)
	}
	// Newest execution: run 11 (run 13 is docs generate, compile-only).
	if o.LastRunID != 11 || o.LastRunStatus != "success" || !o.LastRunAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("last run %d %s %v", o.LastRunID, o.LastRunStatus, o.LastRunAt)
	}
	if o.CompiledSQL != "select 1 as order_id" || o.RawSQL == "" || o.FilePath != "models/orders.sql" || !o.ContractEnforced || o.Owner != "data@shop" {
		t.Errorf("node fields %+v", o)
	}
	if string(o.Meta) != `{"owner":"data@shop"}` {
		t.Errorf("meta %s", o.Meta)
	}
	var cols []string
	for _, c := range o.Columns {
		cols = append(cols, c.Name+":"+c.DataType+":"+c.Description)
	}
	wantCols := []string{"order_id:integer:key", "status:text:order status", "amount:numeric:", "documented_only::not in the warehouse"}
	if !slices.Equal(cols, wantCols) {
		t.Errorf("columns %v, want %v", cols, wantCols)
	}
	if string(o.Columns[0].Constraints) != `[{"type":"not_null"}]` || !slices.Equal(o.Columns[1].Tags, []string{"pii"}) || o.Columns[3].Position != 4 {
		t.Errorf("column details %+v", o.Columns)
	}

	src := nodeByID(snap, "source.shop.raw.orders")
	if src.FreshnessStatus != "warn" || !src.FreshnessMaxLoaded.Equal(t0.Add(-13*time.Hour)) || !src.FreshnessCheckedAt.Equal(t0) {
		t.Errorf("freshness %+v", src)
	}
	var extra map[string]any
	if err := json.Unmarshal(src.Extra, &extra); err != nil || extra["loader"] != "fivetran" || extra["freshness"] == nil {
		t.Errorf("source extra %s (%v)", src.Extra, err)
	}
	if g := nodeByID(snap, "group.shop.finance"); g.Owner != "fin@shop" {
		t.Errorf("group %+v", g)
	}

	nn := testByID(snap, "test.shop.not_null_orders_order_id.abc")
	if nn.Status != "pass" || nn.RunID != 12 || nn.JobID != 2 || *nn.Failures != 0 || nn.AttachedUniqueID != "model.shop.orders" || nn.ColumnName != "order_id" || nn.TestName != "not_null" {
		t.Errorf("not_null %+v", nn)
	}
	// The compile-only entry of run 12 does not hide run 11's failure.
	un := testByID(snap, "test.shop.unique_orders_order_id.def")
	if un.Status != "fail" || un.RunID != 11 || *un.Failures != 1 || un.Message != "Got 1 result" {
		t.Errorf("unique %+v", un)
	}
	var hist []string
	for _, r := range snap.TestResults {
		hist = append(hist, r.UniqueID[:10]+r.Status)
	}
	if want := []string{"test.shop.pass", "test.shop.fail", "test.shop.fail"}; !slices.Equal(hist, want) {
		t.Errorf("history %v, want %v", hist, want)
	}
	if len(snap.NodeRuns) != 1 || snap.NodeRuns[0].RunID != 11 || snap.NodeRuns[0].ExecutionTime != 1.5 {
		t.Errorf("node runs %+v", snap.NodeRuns)
	}

	var edges []string
	for _, e := range snap.Edges {
		edges = append(edges, e.ParentID+">"+e.ChildID+":"+e.Kind)
	}
	wantEdges := []string{
		"model.shop.int>model.shop.customers:direct",
		"model.shop.int>model.shop.orders:direct",
		"model.shop.orders>exposure.shop.dash:direct",
		"model.shop.stg>model.shop.int:direct",
		"source.shop.raw.orders>model.shop.customers:direct",
		"source.shop.raw.orders>model.shop.orders:through_ephemeral",
		"source.shop.raw.orders>model.shop.stg:direct",
	}
	if !slices.Equal(edges, wantEdges) {
		t.Errorf("edges\n%s\nwant\n%s", strings.Join(edges, "\n"), strings.Join(wantEdges, "\n"))
	}
}

func TestBuildSnapshotRejectsNoManifest(t *testing.T) {
	t.Parallel()
	if _, err := BuildSnapshot(store.CatalogScope{Key: "upload:x"}, &Inputs{}, BuildOptions{}); err == nil || !strings.Contains(err.Error(), "upload:x") {
		t.Errorf("err %v", err)
	}
}

func TestExecuted(t *testing.T) {
	t.Parallel()
	exec := timing(t0)
	compileOnly := []artifacts.Timing{{Name: "compile", CompletedAt: t0}}
	for _, tc := range []struct {
		name    string
		command string
		r       artifacts.NodeResult
		want    bool
	}{
		{"docs generate entry", "generate", artifacts.NodeResult{UniqueID: "model.p.m", Status: "success", Timing: exec}, false},
		{"compile entry", "compile", artifacts.NodeResult{UniqueID: "model.p.m", Status: "success", Message: "x", Timing: exec}, false},
		{"test with success status", "run", artifacts.NodeResult{UniqueID: "test.p.t", Status: "success", Timing: exec}, false},
		{"unit test with success status", "build", artifacts.NodeResult{UniqueID: "unit_test.p.m.t", Status: "success", Timing: exec}, false},
		{"model compiled, no message", "", artifacts.NodeResult{UniqueID: "model.p.m", Status: "success", Timing: compileOnly}, false},
		{"model built", "run", artifacts.NodeResult{UniqueID: "model.p.m", Status: "success", Message: "SELECT 5", Timing: exec}, true},
		{"model built, no message (emulator)", "build", artifacts.NodeResult{UniqueID: "model.p.m", Status: "success", Timing: exec}, true},
		{"model error before execute", "run", artifacts.NodeResult{UniqueID: "model.p.m", Status: "error", Message: "Compilation Error"}, true},
		{"skipped test", "build", artifacts.NodeResult{UniqueID: "test.p.t", Status: "skipped"}, true},
		{"failing test", "test", artifacts.NodeResult{UniqueID: "test.p.t", Status: "fail", Timing: exec}, true},
	} {
		if got := Executed(tc.command, &tc.r); got != tc.want {
			t.Errorf("%s: Executed = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestTableLineage(t *testing.T) {
	t.Parallel()
	snap, err := BuildSnapshot(store.CatalogScope{Key: "a"}, testInputs(), BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	Match("postgres", snap.Nodes, []TableCandidate{{1, "db", "raw", "orders"}, {2, "db", "dbt", "orders"}, {3, "db", "dbt", "customers"}})
	// A second project reads scope 1's orders table as a source.
	other := ScopeGraph{ScopeID: 2, Nodes: []store.CatalogNode{
		{UniqueID: "source.fin.dbt.orders", ResourceType: "source", TableID: 2},
		{UniqueID: "model.fin.revenue", ResourceType: "model", Materialized: "table", TableID: 9},
	}, Edges: []store.CatalogEdge{{ParentID: "source.fin.dbt.orders", ChildID: "model.fin.revenue", Kind: store.EdgeDirect}}}
	graphs := []ScopeGraph{{ScopeID: 1, Nodes: snap.Nodes, Edges: snap.Edges}, other}

	render := func(l Lineage) (vs, es []string) {
		for _, v := range l.Vertices {
			vs = append(vs, v.Key+"@"+itoa(v.Depth))
		}
		for _, e := range l.Edges {
			es = append(es, e.Parent+">"+e.Child)
		}
		return vs, es
	}
	for _, tc := range []struct {
		name      string
		req       LineageRequest
		wantV     []string
		wantE     []string
		wantError bool
	}{
		{"both ways from orders", LineageRequest{TableID: 2},
			[]string{"table:1@-1", "table:2@0", "node:1:exposure.shop.dash@1", "table:9@1"},
			[]string{"table:1>table:2", "table:2>node:1:exposure.shop.dash", "table:2>table:9"}, false},
		{"downstream of the source table, depth 1", LineageRequest{TableID: 1, Direction: Downstream, Depth: 1},
			[]string{"table:1@0", "table:2@1", "table:3@1"},
			[]string{"table:1>table:2", "table:1>table:3"}, false},
		{"upstream of revenue, by node", LineageRequest{ScopeID: 2, UniqueID: "model.fin.revenue", Direction: Upstream},
			[]string{"table:1@-2", "table:2@-1", "table:9@0"},
			[]string{"table:1>table:2", "table:2>table:9"}, false},
		{"ephemeral start", LineageRequest{ScopeID: 1, UniqueID: "model.shop.stg"}, nil, nil, true},
		{"unknown table", LineageRequest{TableID: 77}, nil, nil, true},
	} {
		l, err := TableLineage(graphs, tc.req)
		if (err != nil) != tc.wantError {
			t.Errorf("%s: err %v", tc.name, err)
			continue
		}
		vs, es := render(l)
		if !slices.Equal(vs, tc.wantV) || !slices.Equal(es, tc.wantE) {
			t.Errorf("%s:\nvertices %v\nwant     %v\nedges %v\nwant  %v", tc.name, vs, tc.wantV, es, tc.wantE)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
