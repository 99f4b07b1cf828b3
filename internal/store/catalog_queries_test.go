package store_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/google/go-cmp/cmp"
)

// twoScopes writes a project whose model builds table orders and another
// whose source reads it, plus a model of table customers.
func twoScopes(t *testing.T, s *store.Store) (cloud, upload store.CatalogScope, orders, customers int64) {
	t.Helper()
	ctx := t.Context()
	orders = insertCatalogTableRow(t, s, "marts", "orders")
	customers = insertCatalogTableRow(t, s, "marts", "customers")
	insertCatalogTableRow(t, s, "marts", "unclaimed")

	snap := fullSnapshot("cloud:prod:3", orders)
	snap.Nodes = append(snap.Nodes,
		store.CatalogNode{UniqueID: "model.shop.customers", ResourceType: "model", Name: "customers", TableID: customers,
			Owner: "bob", Tags: []string{"crm"}},
		store.CatalogNode{UniqueID: "exposure.shop.dashboard", ResourceType: "exposure", Name: "dashboard", Owner: "alice", Tags: []string{"finance"}},
	)
	snap.Tests = append(snap.Tests,
		store.CatalogTest{UniqueID: "test.shop.unique_customers_id", Name: "unique_customers_id", AttachedUniqueID: "model.shop.customers", Status: "warn"},
		store.CatalogTest{UniqueID: "test.shop.accepted_values", Name: "accepted_values", AttachedUniqueID: "model.shop.customers", Status: "pass"},
	)
	var err error
	cloud, err = s.WriteSnapshot(ctx, snap)
	must(t, err)
	upload, err = s.WriteSnapshot(ctx, store.Snapshot{
		Scope: store.CatalogScope{Key: "upload:downstream", Kind: store.ScopeUpload},
		Nodes: []store.CatalogNode{{UniqueID: "source.downstream.shop.orders", ResourceType: "source", Name: "orders",
			TableID: orders, Owner: "carol", Tags: []string{"upstream"},
			Columns: []store.NodeColumn{{Name: "id", Tags: []string{"pii"}}}}},
		Tests: []store.CatalogTest{{UniqueID: "test.downstream.source_not_null", Name: "source_not_null",
			AttachedUniqueID: "source.downstream.shop.orders", Status: "error"}},
		Edges: []store.CatalogEdge{{ParentID: "source.downstream.shop.orders", ChildID: "model.downstream.report"}},
	})
	must(t, err)
	return cloud, upload, orders, customers
}

func nodeUniqueIDs(nodes []store.CatalogNode) []string {
	ids := make([]string, len(nodes))
	for i, n := range nodes {
		ids[i] = n.UniqueID
	}
	return ids
}

func TestNodesForTable(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		cloud, upload, orders, _ := twoScopes(t, s)
		nodes, err := s.NodesForTable(ctx, orders)
		must(t, err)
		if len(nodes) != 2 || nodes[0].ScopeID != cloud.ID || nodes[1].ScopeID != upload.ID {
			t.Fatalf("NodesForTable(orders) = %v, want the model of one scope and the source of the other", nodeUniqueIDs(nodes))
		}
		want := storedNode(fullNode("model.shop.orders", orders), nodes[0].ID, cloud.ID)
		if diff := cmp.Diff(want, nodes[0]); diff != "" {
			t.Errorf("NodesForTable: the model (-want +got):\n%s", diff)
		}
		if c := nodes[1].Columns; len(c) != 1 || !slices.Equal(c[0].Tags, []string{"pii"}) {
			t.Errorf("the source's columns = %+v, want id tagged pii", c)
		}
		none, err := s.NodesForTable(ctx, 999999)
		must(t, err)
		if none == nil || len(none) != 0 {
			t.Errorf("NodesForTable of no table = %#v, want an empty list", none)
		}
	})
}

func TestListNodes(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		cloud, upload, orders, customers := twoScopes(t, s)
		cases := []struct {
			name string
			p    store.ListNodesParams
			want []string
		}{
			{"all", store.ListNodesParams{}, []string{"model.shop.orders", "model.shop.stg_orders", "model.shop.customers", "exposure.shop.dashboard", "source.downstream.shop.orders"}},
			{"scope", store.ListNodesParams{ScopeID: upload.ID}, []string{"source.downstream.shop.orders"}},
			{"types", store.ListNodesParams{ScopeID: cloud.ID, ResourceTypes: []string{"exposure", "source"}}, []string{"exposure.shop.dashboard"}},
			{"tag", store.ListNodesParams{Tag: "finance"}, []string{"model.shop.orders", "exposure.shop.dashboard"}},
			{"column tags are not node tags", store.ListNodesParams{Tag: "pii"}, []string{}},
			{"owner", store.ListNodesParams{Owner: "alice", ResourceTypes: []string{"model"}}, []string{"model.shop.orders"}},
			{"table", store.ListNodesParams{TableID: orders}, []string{"model.shop.orders", "source.downstream.shop.orders"}},
			{"without table", store.ListNodesParams{ScopeID: cloud.ID, WithoutTable: true}, []string{"model.shop.stg_orders", "exposure.shop.dashboard"}},
			{"limit", store.ListNodesParams{Limit: 2}, []string{"model.shop.orders", "model.shop.stg_orders"}},
		}
		for _, c := range cases {
			nodes, err := s.ListNodes(ctx, c.p)
			must(t, err)
			if got := nodeUniqueIDs(nodes); !slices.Equal(got, c.want) {
				t.Errorf("%s: ListNodes(%+v) = %v, want %v", c.name, c.p, got, c.want)
			}
		}

		for _, c := range []struct {
			scope int64
			want  []int64
		}{{cloud.ID, []int64{min(orders, customers), max(orders, customers)}}, {upload.ID, []int64{orders}}, {999999, []int64{}}} {
			ids, err := s.ScopeTableIDs(ctx, c.scope)
			must(t, err)
			if !slices.Equal(ids, c.want) {
				t.Errorf("ScopeTableIDs(%d) = %v, want %v", c.scope, ids, c.want)
			}
		}

		// Tags always, columns when asked; pages follow on.
		page, err := s.ListNodes(ctx, store.ListNodesParams{ScopeID: cloud.ID, Limit: 1})
		must(t, err)
		if !slices.Equal(page[0].Tags, []string{"finance", "nightly"}) || page[0].Columns != nil {
			t.Errorf("without WithColumns: tags %v, columns %+v; want the tags only", page[0].Tags, page[0].Columns)
		}
		withCols, err := s.ListNodes(ctx, store.ListNodesParams{ScopeID: cloud.ID, Limit: 1, WithColumns: true})
		must(t, err)
		if len(withCols[0].Columns) != 2 || !slices.Equal(withCols[0].Columns[0].Tags, []string{"key", "pii"}) {
			t.Errorf("WithColumns: columns %+v", withCols[0].Columns)
		}
		next, err := s.ListNodes(ctx, store.ListNodesParams{ScopeID: cloud.ID, Limit: 2, AfterID: page[0].ID})
		must(t, err)
		if got := nodeUniqueIDs(next); !slices.Equal(got, []string{"model.shop.stg_orders", "model.shop.customers"}) {
			t.Errorf("the next page = %v", got)
		}
	})
}

func TestListTests(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		cloud, upload, orders, customers := twoScopes(t, s)
		testIDs := func(tests []store.CatalogTest) []string {
			ids := make([]string, len(tests))
			for i, t := range tests {
				ids[i] = t.UniqueID
			}
			return ids
		}
		cases := []struct {
			name string
			p    store.ListTestsParams
			want []string
		}{
			{"all", store.ListTestsParams{}, []string{"test.shop.not_null_orders_id", "test.shop.never_ran", "test.shop.unique_customers_id", "test.shop.accepted_values", "test.downstream.source_not_null"}},
			{"failing", store.ListTestsParams{Failing: true}, []string{"test.shop.not_null_orders_id", "test.downstream.source_not_null"}},
			{"failing or warning", store.ListTestsParams{Failing: true, WithWarnings: true}, []string{"test.shop.not_null_orders_id", "test.shop.unique_customers_id", "test.downstream.source_not_null"}},
			{"failing in a scope", store.ListTestsParams{ScopeID: upload.ID, Failing: true}, []string{"test.downstream.source_not_null"}},
			{"attached", store.ListTestsParams{ScopeID: cloud.ID, AttachedUniqueID: "model.shop.customers"}, []string{"test.shop.unique_customers_id", "test.shop.accepted_values"}},
			{"table, through the nodes of every scope", store.ListTestsParams{TableID: orders}, []string{"test.shop.not_null_orders_id", "test.shop.never_ran", "test.downstream.source_not_null"}},
			{"table and failing", store.ListTestsParams{TableID: customers, Failing: true}, []string{}},
			{"limit", store.ListTestsParams{Limit: 1}, []string{"test.shop.not_null_orders_id"}},
		}
		for _, c := range cases {
			tests, err := s.ListTests(ctx, c.p)
			must(t, err)
			if got := testIDs(tests); !slices.Equal(got, c.want) {
				t.Errorf("%s: ListTests(%+v) = %v, want %v", c.name, c.p, got, c.want)
			}
		}
		first, err := s.ListTests(ctx, store.ListTestsParams{Limit: 1})
		must(t, err)
		next, err := s.ListTests(ctx, store.ListTestsParams{Limit: 1, AfterID: first[0].ID})
		must(t, err)
		if got := testIDs(next); !slices.Equal(got, []string{"test.shop.never_ran"}) {
			t.Errorf("the next page = %v", got)
		}

		byNode, err := s.TestsForNodes(ctx, cloud.ID, []string{"model.shop.customers", "model.shop.orders", "model.shop.none"})
		must(t, err)
		want := []string{"test.shop.accepted_values", "test.shop.unique_customers_id", "test.shop.never_ran", "test.shop.not_null_orders_id"}
		if got := testIDs(byNode); !slices.Equal(got, want) {
			t.Errorf("TestsForNodes = %v, want %v (by node, then test)", got, want)
		}
		none, err := s.TestsForNodes(ctx, cloud.ID, nil)
		must(t, err)
		if none == nil || len(none) != 0 {
			t.Errorf("TestsForNodes of no node = %#v, want an empty list", none)
		}
	})
}

// TestTestsForManyNodes asks for more nodes than one IN list holds.
func TestTestsForManyNodes(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		scope, err := s.WriteSnapshot(ctx, bigSnapshot("cloud:prod:3", 1200, 1, 1200, 1))
		must(t, err)
		ids := make([]string, 1200)
		for i := range ids {
			ids[len(ids)-1-i] = fmt.Sprintf("model.shop.model_%05d", i) // reversed: the result is sorted anyway
		}
		tests, err := s.TestsForNodes(ctx, scope.ID, ids)
		must(t, err)
		if len(tests) != 1200 || tests[0].AttachedUniqueID != "model.shop.model_00000" || tests[1199].AttachedUniqueID != "model.shop.model_01199" {
			t.Errorf("TestsForNodes of 1200 nodes = %d tests, first %q", len(tests), tests[0].AttachedUniqueID)
		}
	})
}

func TestTableIDsMatching(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		cloud, _, orders, customers := twoScopes(t, s)
		cases := []struct {
			name string
			f    store.TableFilter
			want []int64
		}{
			{"claimed by any node", store.TableFilter{}, []int64{orders, customers}},
			{"tag", store.TableFilter{Tag: "crm"}, []int64{customers}},
			{"tag of an exposure without table", store.TableFilter{Tag: "finance"}, []int64{orders}},
			{"column tag", store.TableFilter{ColumnTag: "pii"}, []int64{orders}},
			{"owner", store.TableFilter{Owner: "carol"}, []int64{orders}},
			{"failing tests", store.TableFilter{FailingTests: true}, []int64{orders}},
			{"failing or warning tests", store.TableFilter{FailingTests: true, WithWarnings: true}, []int64{orders, customers}},
			{"one node meets every condition", store.TableFilter{Owner: "carol", Tag: "finance"}, []int64{}},
			{"scope", store.TableFilter{ScopeID: cloud.ID, Owner: "carol"}, []int64{}},
		}
		for _, c := range cases {
			got, err := s.TableIDsMatching(ctx, c.f)
			must(t, err)
			if !slices.Equal(got, c.want) {
				t.Errorf("%s: TableIDsMatching(%+v) = %v, want %v", c.name, c.f, got, c.want)
			}
		}
	})
}

func TestLineageInputs(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		cloud, upload, orders, customers := twoScopes(t, s)
		all, err := s.Edges(ctx)
		must(t, err)
		if len(all) != 3 || all[2].ScopeID != upload.ID {
			t.Errorf("Edges() = %+v, want both scopes' three", all)
		}
		one, err := s.Edges(ctx, upload.ID)
		must(t, err)
		if len(one) != 1 || one[0].ChildID != "model.downstream.report" {
			t.Errorf("Edges(upload) = %+v", one)
		}
		tables, err := s.NodeTables(ctx)
		must(t, err)
		want := map[store.NodeRef]int64{
			{cloud.ID, "model.shop.orders"}:              orders,
			{cloud.ID, "model.shop.customers"}:           customers,
			{upload.ID, "source.downstream.shop.orders"}: orders,
		}
		if diff := cmp.Diff(want, tables); diff != "" {
			t.Errorf("NodeTables() (-want +got):\n%s", diff)
		}
		tables, err = s.NodeTables(ctx, cloud.ID, upload.ID)
		must(t, err)
		if diff := cmp.Diff(want, tables); diff != "" {
			t.Errorf("NodeTables(both) (-want +got):\n%s", diff)
		}
	})
}

func TestCatalogRunsAndHistoryLimits(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		snap := fullSnapshot("cloud:prod:3", 0)
		for i := range int64(5) {
			snap.Runs = append(snap.Runs, store.CatalogRun{RunID: 200 + i, JobID: 12, Status: "success"})
			snap.NodeRuns = append(snap.NodeRuns, store.NodeRun{UniqueID: "model.shop.orders", RunID: 200 + i, Status: "success"})
			snap.TestResults = append(snap.TestResults, store.TestResult{UniqueID: "test.shop.not_null_orders_id", RunID: 200 + i, Status: "pass"})
		}
		scope, err := s.WriteSnapshot(ctx, snap)
		must(t, err)

		runs, err := s.ListCatalogRuns(ctx, store.ListCatalogRunsParams{ScopeID: scope.ID, JobID: 12, Limit: 2})
		must(t, err)
		if len(runs) != 2 || runs[0].RunID != 204 || runs[1].RunID != 203 {
			t.Errorf("ListCatalogRuns(job 12, 2) = %+v, want 204, 203", runs)
		}
		runs, err = s.ListCatalogRuns(ctx, store.ListCatalogRunsParams{ScopeID: scope.ID, BeforeRunID: 201})
		must(t, err)
		if len(runs) != 3 || runs[0].RunID != 200 || runs[2].RunID != 100 {
			t.Errorf("ListCatalogRuns(before 201) = %+v, want 200, 101, 100", runs)
		}
		built, err := s.RunsForNode(ctx, scope.ID, "model.shop.orders", 3)
		must(t, err)
		if len(built) != 3 || built[0].RunID != 204 || built[0].Run.JobID != 12 {
			t.Errorf("RunsForNode(3) = %+v, want runs 204, 203, 202 with their jobs", built)
		}
		// Results with a time first, newest first; then the others by run.
		history, err := s.TestHistory(ctx, scope.ID, "test.shop.not_null_orders_id", 4)
		must(t, err)
		var got []int64
		for _, r := range history {
			got = append(got, r.RunID)
		}
		if !slices.Equal(got, []int64{100, 99, 204, 203}) {
			t.Errorf("TestHistory(4) runs = %v, want 100, 99 (timed), then 204, 203", got)
		}
		none, err := s.ListCatalogJobs(ctx, 999999)
		must(t, err)
		if none == nil || len(none) != 0 {
			t.Errorf("ListCatalogJobs of no scope = %#v, want an empty list", none)
		}
	})
}
