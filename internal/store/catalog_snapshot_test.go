package store_test

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/store/storetest"
	"github.com/google/go-cmp/cmp"
)

// catalogAt is a time with nanoseconds and a zone, which the store drops.
var catalogAt = time.Date(2025, 5, 6, 7, 8, 9, 123456789, time.FixedZone("EST", -5*3600))

func fullScope(key string) store.CatalogScope {
	return store.CatalogScope{
		Key: key, Kind: store.ScopeDbtCloud, Connection: "prod", AccountID: 1, ProjectID: 2,
		ProjectName: "shop", EnvironmentID: 3, EnvironmentName: "Production", AdapterType: "postgres",
		DbtVersion: "1.9.1", Warehouse: "wh", Fingerprint: "runs:100,101",
		ManifestGeneratedAt: catalogAt, SyncedAt: catalogAt.Add(time.Minute),
	}
}

// fullNode has every field set; tableID may be 0.
func fullNode(uid string, tableID int64) store.CatalogNode {
	return store.CatalogNode{
		UniqueID: uid, ResourceType: "model", Name: "orders", PackageName: "shop",
		Database: "analytics", Schema: "marts", Identifier: "orders", RelationName: `"analytics"."marts"."orders"`,
		TableID: tableID, Materialized: "table", Description: "One row per order.", Owner: "alice",
		Tags: []string{"finance", "nightly"}, Meta: []byte(`{"owner":"alice"}`), Access: "public", Group: "finance",
		ContractEnforced: true, Version: "2", FilePath: "models/orders.sql", RawSQL: "select 1", CompiledSQL: "select 1 -- compiled",
		ExploreURL: "https://x/explore/orders", LastRunID: 100, LastRunStatus: "success", LastRunAt: catalogAt,
		FreshnessStatus: "pass", FreshnessMaxLoaded: catalogAt.Add(-time.Hour), FreshnessCheckedAt: catalogAt.Add(time.Second),
		Extra: []byte(`{"label":"Orders"}`),
		Columns: []store.NodeColumn{
			{Name: "id", Position: 0, Description: "The order.", DataType: "bigint", Tags: []string{"key", "pii"},
				Meta: []byte(`{"k":1}`), Constraints: []byte(`[{"type":"not_null"}]`)},
			{Name: "amount", Position: 1, DataType: "numeric"},
		},
	}
}

func fullTest(uid, attached, status string) store.CatalogTest {
	failures := int64(3)
	return store.CatalogTest{
		UniqueID: uid, Name: "not_null_orders_id", ResourceType: "test", TestName: "not_null", Namespace: "dbt",
		AttachedUniqueID: attached, ColumnName: "id", Severity: "ERROR", Kwargs: []byte(`{"column_name":"id"}`),
		CompiledSQL: "select * from orders where id is null", Status: status, Failures: &failures,
		Message: "Got 3 results", ExecutedAt: catalogAt, RunID: 100, JobID: 10,
	}
}

// fullSnapshot is a snapshot of scope key with every type and field used.
func fullSnapshot(key string, tableID int64) store.Snapshot {
	failures := int64(3)
	return store.Snapshot{
		Scope: fullScope(key),
		Nodes: []store.CatalogNode{
			fullNode("model.shop.orders", tableID),
			{UniqueID: "model.shop.stg_orders", ResourceType: "model", Name: "stg_orders", Materialized: "ephemeral"},
		},
		Tests: []store.CatalogTest{
			fullTest("test.shop.not_null_orders_id", "model.shop.orders", "fail"),
			{UniqueID: "test.shop.never_ran", Name: "never_ran", ResourceType: "unit_test", AttachedUniqueID: "model.shop.orders"},
		},
		TestResults: []store.TestResult{
			{UniqueID: "test.shop.not_null_orders_id", RunID: 100, Status: "fail", Failures: &failures, Message: "Got 3 results", ExecutedAt: catalogAt, ExecutionTime: 0.25},
			{UniqueID: "test.shop.not_null_orders_id", RunID: 99, Status: "pass", ExecutedAt: catalogAt.Add(-24 * time.Hour), ExecutionTime: 0.5},
		},
		Edges: []store.CatalogEdge{
			{ParentID: "model.shop.stg_orders", ChildID: "model.shop.orders", Kind: store.EdgeDirect},
			{ParentID: "source.shop.raw.orders", ChildID: "model.shop.orders", Kind: store.EdgeThroughEphemeral},
		},
		Jobs: []store.CatalogJob{
			{JobID: 10, Name: "nightly", Schedule: "0 2 * * *", GenerateDocs: true, RunFreshness: true,
				Steps: []string{"dbt source freshness", "dbt build"}, URL: "https://x/jobs/10", LastRunID: 100, LastRunStatus: "error"},
			{JobID: 11, Name: "ad hoc"},
		},
		Runs: []store.CatalogRun{
			{RunID: 100, JobID: 10, Status: "error", StartedAt: catalogAt, FinishedAt: catalogAt.Add(time.Hour), Duration: 3600.5, URL: "https://x/runs/100", GitSHA: "abc123"},
			{RunID: 101, JobID: 11, Status: "success"},
		},
		NodeRuns: []store.NodeRun{
			{UniqueID: "model.shop.orders", RunID: 100, Status: "success", ExecutionTime: 12.5, CompletedAt: catalogAt.Add(time.Minute)},
			{UniqueID: "model.shop.orders", RunID: 42, Status: "error"}, // a run no sync stored
		},
	}
}

// storedNode is n as read back from scope scopeID.
func storedNode(n store.CatalogNode, id, scopeID int64) store.CatalogNode {
	n.ID, n.ScopeID = id, scopeID
	for _, p := range []*time.Time{&n.LastRunAt, &n.FreshnessMaxLoaded, &n.FreshnessCheckedAt} {
		*p = stored(*p)
	}
	return n
}

func TestWriteSnapshotRoundTrip(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		tableID := insertCatalogTableRow(t, s, "marts", "orders")
		snap := fullSnapshot("cloud:prod:3", tableID)
		scope, err := s.WriteSnapshot(ctx, snap)
		must(t, err)

		wantScope := snap.Scope
		wantScope.ID = scope.ID
		wantScope.ManifestGeneratedAt, wantScope.SyncedAt = stored(wantScope.ManifestGeneratedAt), stored(wantScope.SyncedAt)
		if diff := cmp.Diff(wantScope, scope); diff != "" {
			t.Errorf("WriteSnapshot returned (-want +got):\n%s", diff)
		}
		got, err := s.GetScope(ctx, "cloud:prod:3")
		must(t, err)
		if diff := cmp.Diff(wantScope, got); diff != "" {
			t.Errorf("GetScope (-want +got):\n%s", diff)
		}

		// Nodes: every field, with columns and tags; NULLs read back as
		// zero values.
		for _, want := range snap.Nodes {
			got, err := s.GetNode(ctx, scope.ID, want.UniqueID)
			must(t, err)
			if got.ID == 0 {
				t.Errorf("node %s has no id", want.UniqueID)
			}
			if diff := cmp.Diff(storedNode(want, got.ID, scope.ID), got); diff != "" {
				t.Errorf("GetNode(%s) (-want +got):\n%s", want.UniqueID, diff)
			}
		}
		_, err = s.GetNode(ctx, scope.ID, "model.shop.missing")
		wantErr(t, err, store.ErrNotFound)

		// Tests with their latest result.
		tests, err := s.ListTests(ctx, store.ListTestsParams{ScopeID: scope.ID})
		must(t, err)
		if len(tests) != 2 {
			t.Fatalf("ListTests = %d tests, want 2", len(tests))
		}
		for i, want := range snap.Tests {
			want.ID, want.ScopeID, want.ExecutedAt = tests[i].ID, scope.ID, stored(want.ExecutedAt)
			if diff := cmp.Diff(want, tests[i]); diff != "" {
				t.Errorf("test %s (-want +got):\n%s", want.UniqueID, diff)
			}
		}

		history, err := s.TestHistory(ctx, scope.ID, "test.shop.not_null_orders_id", 0)
		must(t, err)
		wantHistory := snap.TestResults // already newest first
		for i := range wantHistory {
			wantHistory[i].ExecutedAt = stored(wantHistory[i].ExecutedAt)
		}
		if diff := cmp.Diff(wantHistory, history); diff != "" {
			t.Errorf("TestHistory (-want +got):\n%s", diff)
		}

		edges, err := s.Edges(ctx, scope.ID)
		must(t, err)
		wantEdges := []store.ScopedEdge{{scope.ID, snap.Edges[0]}, {scope.ID, snap.Edges[1]}}
		if diff := cmp.Diff(wantEdges, edges); diff != "" {
			t.Errorf("Edges (-want +got):\n%s", diff)
		}
		tables, err := s.NodeTables(ctx, scope.ID)
		must(t, err)
		if diff := cmp.Diff(map[store.NodeRef]int64{{scope.ID, "model.shop.orders"}: tableID}, tables); diff != "" {
			t.Errorf("NodeTables (-want +got):\n%s", diff)
		}

		jobs, err := s.ListCatalogJobs(ctx, scope.ID)
		must(t, err)
		if diff := cmp.Diff(snap.Jobs, jobs); diff != "" {
			t.Errorf("ListCatalogJobs (-want +got):\n%s", diff)
		}

		runs, err := s.ListCatalogRuns(ctx, store.ListCatalogRunsParams{ScopeID: scope.ID})
		must(t, err)
		wantRuns := []store.CatalogRun{snap.Runs[1], snap.Runs[0]} // newest first
		wantRuns[1].StartedAt, wantRuns[1].FinishedAt = stored(wantRuns[1].StartedAt), stored(wantRuns[1].FinishedAt)
		if diff := cmp.Diff(wantRuns, runs); diff != "" {
			t.Errorf("ListCatalogRuns (-want +got):\n%s", diff)
		}

		built, err := s.RunsForNode(ctx, scope.ID, "model.shop.orders", 0)
		must(t, err)
		nr := snap.NodeRuns[0]
		nr.CompletedAt = stored(nr.CompletedAt)
		wantBuilt := []store.NodeRunDetail{{NodeRun: nr, Run: wantRuns[1]}, {NodeRun: snap.NodeRuns[1]}}
		if diff := cmp.Diff(wantBuilt, built); diff != "" {
			t.Errorf("RunsForNode (-want +got):\n%s", diff)
		}
	})
}

func TestWriteSnapshotDefaults(t *testing.T) {
	t.Parallel()
	eachWithClock(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := t.Context()
		scope, err := s.WriteSnapshot(ctx, store.Snapshot{
			Scope: store.CatalogScope{Key: "upload:shop", Kind: store.ScopeUpload},
			Nodes: []store.CatalogNode{{UniqueID: "model.shop.a", ResourceType: "model", Name: "a"}},
			Tests: []store.CatalogTest{{UniqueID: "test.shop.t", Name: "t"}},
			Edges: []store.CatalogEdge{{ParentID: "model.shop.a", ChildID: "model.shop.b"}},
		})
		must(t, err)
		if !scope.SyncedAt.Equal(stored(clk.Now())) || !scope.ManifestGeneratedAt.IsZero() {
			t.Errorf("SyncedAt = %v, ManifestGeneratedAt = %v; want now and zero", scope.SyncedAt, scope.ManifestGeneratedAt)
		}
		tests, err := s.ListTests(ctx, store.ListTestsParams{ScopeID: scope.ID})
		must(t, err)
		if len(tests) != 1 || tests[0].ResourceType != "test" || tests[0].Failures != nil || tests[0].Kwargs != nil {
			t.Errorf("test with defaults = %+v, want resource type test, no failures, no kwargs", tests)
		}
		edges, err := s.Edges(ctx, scope.ID)
		must(t, err)
		if len(edges) != 1 || edges[0].Kind != store.EdgeDirect {
			t.Errorf("edges = %+v, want one of kind direct", edges)
		}
		n, err := s.GetNode(ctx, scope.ID, "model.shop.a")
		must(t, err)
		if n.Tags != nil || n.Columns != nil || n.Meta != nil || n.TableID != 0 {
			t.Errorf("bare node = %+v, want no tags, columns, meta or table", n)
		}

		// Bad scopes are refused with a reason.
		for _, sc := range []store.CatalogScope{{Kind: store.ScopeUpload}, {Key: "x:y", Kind: "other"}} {
			if _, err := s.WriteSnapshot(ctx, store.Snapshot{Scope: sc}); err == nil {
				t.Errorf("WriteSnapshot of scope %+v succeeded", sc)
			}
		}
	})
}

func TestWriteSnapshotResyncReplacesNodesKeepsHistory(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		tableID := insertCatalogTableRow(t, s, "marts", "orders")
		first := fullSnapshot("cloud:prod:3", tableID)
		scope, err := s.WriteSnapshot(ctx, first)
		must(t, err)

		before, err := s.GetNode(ctx, scope.ID, "model.shop.orders")
		must(t, err)

		// The same snapshot again: nothing doubles, nodes keep their ids.
		_, err = s.WriteSnapshot(ctx, first)
		must(t, err)
		after, err := s.GetNode(ctx, scope.ID, "model.shop.orders")
		must(t, err)
		if diff := cmp.Diff(before, after); diff != "" {
			t.Errorf("a node written again changed (-before +after):\n%s", diff)
		}
		for table, want := range map[string]int{
			"catalog_nodes": 2, "catalog_node_columns": 2, "catalog_node_tags": 4, "catalog_tests": 2,
			"catalog_test_results": 2, "catalog_edges": 2, "catalog_jobs": 2, "catalog_runs": 2, "catalog_node_runs": 2,
		} {
			if got := catalogRowCount(t, s, table); got != want {
				t.Errorf("after writing the same snapshot twice, %s has %d rows, want %d", table, got, want)
			}
		}

		// A later sync: other nodes, tests, edges and jobs; new history.
		second := store.Snapshot{
			Scope:       fullScope("cloud:prod:3"),
			Nodes:       []store.CatalogNode{{UniqueID: "model.shop.customers", ResourceType: "model", Name: "customers", Tags: []string{"crm"}}},
			Tests:       []store.CatalogTest{{UniqueID: "test.shop.unique_customers_id", Name: "u", AttachedUniqueID: "model.shop.customers", Status: "pass", RunID: 102}},
			TestResults: []store.TestResult{{UniqueID: "test.shop.not_null_orders_id", RunID: 102, Status: "pass", ExecutedAt: catalogAt.Add(24 * time.Hour)}},
			Edges:       []store.CatalogEdge{{ParentID: "source.shop.raw.customers", ChildID: "model.shop.customers"}},
			Jobs:        []store.CatalogJob{{JobID: 12, Name: "hourly"}},
			Runs:        []store.CatalogRun{{RunID: 102, JobID: 12, Status: "success"}, {RunID: 100, JobID: 10, Status: "changed?"}},
			NodeRuns:    []store.NodeRun{{UniqueID: "model.shop.customers", RunID: 102, Status: "success"}},
		}
		second.Scope.Fingerprint, second.Scope.DbtVersion = "runs:102", "1.10.0"
		again, err := s.WriteSnapshot(ctx, second)
		must(t, err)
		if again.ID != scope.ID || again.Fingerprint != "runs:102" || again.DbtVersion != "1.10.0" {
			t.Errorf("re-synced scope = %+v, want id %d with the new fingerprint and version", again, scope.ID)
		}
		_, err = s.GetNode(ctx, scope.ID, "model.shop.orders")
		wantErr(t, err, store.ErrNotFound)
		if _, err := s.GetNode(ctx, scope.ID, "model.shop.customers"); err != nil {
			t.Errorf("the new node: %v", err)
		}
		if got := catalogRowCount(t, s, "catalog_node_columns"); got != 0 {
			t.Errorf("the replaced node's columns remain: %d rows", got)
		}
		if got := catalogRowCount(t, s, "catalog_node_tags"); got != 1 {
			t.Errorf("catalog_node_tags has %d rows, want only the new node's tag", got)
		}
		jobs, err := s.ListCatalogJobs(ctx, scope.ID)
		must(t, err)
		if len(jobs) != 1 || jobs[0].JobID != 12 {
			t.Errorf("jobs = %+v, want only job 12", jobs)
		}

		// History: three results of the old test, three runs (run 100 as
		// first written), both node runs of the gone node.
		history, err := s.TestHistory(ctx, scope.ID, "test.shop.not_null_orders_id", 0)
		must(t, err)
		if len(history) != 3 || history[0].RunID != 102 || history[2].RunID != 99 {
			t.Errorf("history = %+v, want runs 102, 100, 99", history)
		}
		runs, err := s.ListCatalogRuns(ctx, store.ListCatalogRunsParams{ScopeID: scope.ID})
		must(t, err)
		if len(runs) != 3 || runs[0].RunID != 102 || runs[2].RunID != 100 || runs[2].Status != "error" {
			t.Errorf("runs = %+v, want 102, 101, 100 with 100 as first written", runs)
		}
		built, err := s.RunsForNode(ctx, scope.ID, "model.shop.orders", 0)
		must(t, err)
		if len(built) != 2 {
			t.Errorf("runs of the gone node = %+v, want its two", built)
		}
	})
}

// scopeDump is everything stored for a scope, to compare before and after
// a failed write.
func scopeDump(t *testing.T, s *store.Store, key string) []any {
	t.Helper()
	ctx := t.Context()
	scope, err := s.GetScope(ctx, key)
	must(t, err)
	nodes, err := s.ListNodes(ctx, store.ListNodesParams{ScopeID: scope.ID, WithColumns: true})
	must(t, err)
	for i := range nodes {
		nodes[i].ID = 0 // unchanged ids are checked by the row counts
	}
	tests, err := s.ListTests(ctx, store.ListTestsParams{ScopeID: scope.ID})
	must(t, err)
	edges, err := s.Edges(ctx, scope.ID)
	must(t, err)
	jobs, err := s.ListCatalogJobs(ctx, scope.ID)
	must(t, err)
	runs, err := s.ListCatalogRuns(ctx, store.ListCatalogRunsParams{ScopeID: scope.ID})
	must(t, err)
	history, err := s.TestHistory(ctx, scope.ID, "test.shop.not_null_orders_id", 0)
	must(t, err)
	built, err := s.RunsForNode(ctx, scope.ID, "model.shop.orders", 0)
	must(t, err)
	counts := map[string]int{}
	for _, table := range []string{"catalog_nodes", "catalog_node_columns", "catalog_node_tags", "catalog_tests",
		"catalog_test_results", "catalog_edges", "catalog_jobs", "catalog_runs", "catalog_node_runs"} {
		counts[table] = catalogRowCount(t, s, table)
	}
	return []any{scope, nodes, tests, edges, jobs, runs, history, built, counts}
}

func TestWriteSnapshotFailureChangesNothing(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		tableID := insertCatalogTableRow(t, s, "marts", "orders")
		_, err := s.WriteSnapshot(ctx, fullSnapshot("cloud:prod:3", tableID))
		must(t, err)
		before := scopeDump(t, s, "cloud:prod:3")

		// Each bad snapshot replaces the nodes and appends history before
		// it fails.
		bad := func(edit func(*store.Snapshot)) store.Snapshot {
			snap := bigSnapshot("cloud:prod:3", 300, 3, 200, 500)
			edit(&snap)
			return snap
		}
		cases := []struct {
			name    string
			snap    store.Snapshot
			wantErr error
		}{
			{"a job twice", bad(func(s *store.Snapshot) { s.Jobs = append(s.Jobs, s.Jobs[0]) }), store.ErrExists},
			{"a test twice", bad(func(s *store.Snapshot) { s.Tests = append(s.Tests, s.Tests[0]) }), store.ErrExists},
			{"a node twice", bad(func(s *store.Snapshot) { s.Nodes = append(s.Nodes, s.Nodes[0]) }), store.ErrExists},
			{"a missing table", bad(func(s *store.Snapshot) { s.Nodes[299].TableID = tableID + 1000 }), nil},
		}
		for _, c := range cases {
			_, err := s.WriteSnapshot(ctx, c.snap)
			if err == nil {
				t.Errorf("%s: WriteSnapshot succeeded", c.name)
				continue
			}
			if c.wantErr != nil {
				wantErr(t, err, c.wantErr)
			}
			if diff := cmp.Diff(before, scopeDump(t, s, "cloud:prod:3")); diff != "" {
				t.Errorf("%s: the scope changed (-before +after):\n%s", c.name, diff)
			}
		}

		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		_, err = s.WriteSnapshot(cancelled, bigSnapshot("cloud:prod:3", 300, 3, 200, 500))
		wantErr(t, err, context.Canceled)
		if diff := cmp.Diff(before, scopeDump(t, s, "cloud:prod:3")); diff != "" {
			t.Errorf("cancelled: the scope changed (-before +after):\n%s", diff)
		}
	})
}

// TestWriteSnapshotBatches writes more rows than one INSERT holds, so that
// rows span full and partial batches.
func TestWriteSnapshotBatches(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		snap := bigSnapshot("cloud:prod:3", 2500, 3, 2100, 7)
		scope, err := s.WriteSnapshot(ctx, snap)
		must(t, err)
		for table, want := range map[string]int{
			"catalog_nodes": 2500, "catalog_node_columns": 7500, "catalog_node_tags": 2500*2 + 250,
			"catalog_tests": 2100, "catalog_test_results": 2100, "catalog_edges": 2499, "catalog_node_runs": 2500,
		} {
			if got := catalogRowCount(t, s, table); got != want {
				t.Errorf("%s has %d rows, want %d", table, got, want)
			}
		}
		// Every node got its own columns, across batches.
		for _, i := range []int{0, 1128, 1129, 2499} {
			uid := fmt.Sprintf("model.shop.model_%05d", i)
			n, err := s.GetNode(ctx, scope.ID, uid)
			must(t, err)
			if len(n.Columns) != 3 || n.Name != fmt.Sprintf("model_%05d", i) || len(n.Tags) != 2 {
				t.Errorf("node %s = %d columns, name %q, tags %v", uid, len(n.Columns), n.Name, n.Tags)
			}
		}
	})
}

func TestDeleteScopeCascades(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		tableID := insertCatalogTableRow(t, s, "marts", "orders")
		_, err := s.WriteSnapshot(ctx, fullSnapshot("cloud:prod:3", tableID))
		must(t, err)
		other, err := s.WriteSnapshot(ctx, fullSnapshot("upload:other", tableID))
		must(t, err)
		sync, err := s.StartSync(ctx, "cloud:prod:3", "run 100")
		must(t, err)

		must(t, s.DeleteScope(ctx, "cloud:prod:3"))
		wantErr(t, s.DeleteScope(ctx, "cloud:prod:3"), store.ErrNotFound)
		_, err = s.GetScope(ctx, "cloud:prod:3")
		wantErr(t, err, store.ErrNotFound)
		// Only the other scope's rows remain, and the sync.
		for table, want := range map[string]int{
			"catalog_nodes": 2, "catalog_node_columns": 2, "catalog_node_tags": 4, "catalog_tests": 2,
			"catalog_test_results": 2, "catalog_edges": 2, "catalog_jobs": 2, "catalog_runs": 2, "catalog_node_runs": 2,
			"catalog_tables": 1,
		} {
			if got := catalogRowCount(t, s, table); got != want {
				t.Errorf("after deleting a scope, %s has %d rows, want %d", table, got, want)
			}
		}
		if _, err := s.GetNode(ctx, other.ID, "model.shop.orders"); err != nil {
			t.Errorf("the other scope's node: %v", err)
		}
		if _, err := s.GetSync(ctx, sync.ID); err != nil {
			t.Errorf("the deleted scope's sync: %v", err)
		}
	})
}

func TestNodeTableSetNullWhenTableDeleted(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		tableID := insertCatalogTableRow(t, s, "marts", "orders")
		scope, err := s.WriteSnapshot(ctx, fullSnapshot("cloud:prod:3", tableID))
		must(t, err)
		if _, err := s.DB().ExecContext(ctx, fmt.Sprintf(`DELETE FROM catalog_tables WHERE id = %d`, tableID)); err != nil {
			t.Fatal(err)
		}
		n, err := s.GetNode(ctx, scope.ID, "model.shop.orders")
		must(t, err)
		if n.TableID != 0 || len(n.Columns) != 2 {
			t.Errorf("after its table was deleted, the node has table %d and %d columns; want 0 and its columns", n.TableID, len(n.Columns))
		}
		tables, err := s.NodeTables(ctx)
		must(t, err)
		if len(tables) != 0 {
			t.Errorf("NodeTables = %v, want none", tables)
		}
	})
}

// insertCatalogTableRow adds a catalog_tables row with plain SQL, as a crawl would,
// and returns its id.
func insertCatalogTableRow(t testing.TB, s *store.Store, schema, name string) int64 {
	t.Helper()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var at any = now
	query := `INSERT INTO catalog_tables (warehouse, database_name, schema_name, name, kind, first_seen_at, last_seen_at, updated_at)
		VALUES ($1, $2, $3, $4, 'table', $5, $5, $5) RETURNING id`
	if s.Dialect() == store.SQLite {
		at = now.UnixMicro()
		query = strings.ReplaceAll(query, "$", "?")
	}
	var id int64
	if err := s.DB().QueryRowContext(t.Context(), query, "wh", "analytics", schema, name, at).Scan(&id); err != nil {
		t.Fatalf("insert catalog table %s.%s: %v", schema, name, err)
	}
	return id
}

// catalogRowCount counts the rows of a catalog table, for the checks that nothing
// was left behind or added.
func catalogRowCount(t testing.TB, s *store.Store, table string) int {
	t.Helper()
	var n int
	if err := s.DB().QueryRowContext(t.Context(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// bigSnapshot is the size of a 100 MB manifest: nodes nodes with cols
// columns each, tests tests, one run with a result per test and node.
// Every node claims table tableID when it is not 0.
func bigSnapshot(key string, nodes, cols, tests int, runID int64) store.Snapshot {
	at := time.Date(2025, 6, 1, 2, 0, 0, 0, time.UTC)
	snap := store.Snapshot{
		Scope: store.CatalogScope{Key: key, Kind: store.ScopeDbtCloud, Connection: "prod", AccountID: 1,
			ProjectID: 2, EnvironmentID: 3, Fingerprint: fmt.Sprint("run:", runID), SyncedAt: at},
		Runs: []store.CatalogRun{{RunID: runID, JobID: 10, Status: "success", StartedAt: at, FinishedAt: at.Add(time.Hour)}},
		Jobs: []store.CatalogJob{{JobID: 10, Name: "nightly", Steps: []string{"dbt build"}}},
	}
	sqlText := strings.Repeat("select id, amount, created_at from {{ ref('upstream') }} where amount > 0\n", 14)
	desc := strings.Repeat("The orders of a customer, one row per order. ", 4)
	snap.Nodes = make([]store.CatalogNode, nodes)
	for i := range snap.Nodes {
		uid := fmt.Sprintf("model.shop.model_%05d", i)
		n := store.CatalogNode{
			UniqueID: uid, ResourceType: "model", Name: fmt.Sprintf("model_%05d", i), PackageName: "shop",
			Database: "analytics", Schema: "marts", Identifier: fmt.Sprintf("model_%05d", i),
			RelationName: fmt.Sprintf(`"analytics"."marts"."model_%05d"`, i), Materialized: "table",
			Description: desc, Owner: fmt.Sprint("team", i%10), Tags: []string{"nightly", fmt.Sprint("domain", i%20)},
			Meta: []byte(`{"owner":"data"}`), FilePath: fmt.Sprintf("models/marts/model_%05d.sql", i),
			RawSQL: sqlText, CompiledSQL: sqlText + "-- compiled\n", LastRunID: runID, LastRunStatus: "success", LastRunAt: at,
		}
		n.Columns = make([]store.NodeColumn, cols)
		for j := range n.Columns {
			n.Columns[j] = store.NodeColumn{Name: fmt.Sprintf("column_%02d", j), Position: j, Description: "A column of the model, as documented.", DataType: "bigint"}
		}
		if i%10 == 0 {
			n.Columns[0].Tags = []string{"pii"}
		}
		snap.Nodes[i] = n
		snap.NodeRuns = append(snap.NodeRuns, store.NodeRun{UniqueID: uid, RunID: runID, Status: "success", ExecutionTime: 1.5, CompletedAt: at})
		if i > 0 {
			snap.Edges = append(snap.Edges, store.CatalogEdge{ParentID: fmt.Sprintf("model.shop.model_%05d", i/2), ChildID: uid, Kind: store.EdgeDirect})
		}
	}
	snap.Tests = make([]store.CatalogTest, tests)
	for i := range snap.Tests {
		uid := fmt.Sprintf("test.shop.not_null_model_%05d_column_00.%d", i%nodes, i)
		failures := int64(0)
		snap.Tests[i] = store.CatalogTest{
			UniqueID: uid, Name: fmt.Sprintf("not_null_model_%05d_column_00", i%nodes), TestName: "not_null",
			AttachedUniqueID: fmt.Sprintf("model.shop.model_%05d", i%nodes), ColumnName: "column_00", Severity: "ERROR",
			Kwargs: []byte(`{"column_name":"column_00"}`), CompiledSQL: "select * from t where column_00 is null",
			Status: "pass", Failures: &failures, ExecutedAt: at, RunID: runID, JobID: 10,
		}
		snap.TestResults = append(snap.TestResults, store.TestResult{UniqueID: uid, RunID: runID, Status: "pass", Failures: &failures, ExecutedAt: at, ExecutionTime: 0.2})
	}
	return snap
}

// BenchmarkWriteSnapshot writes a snapshot the size of a 100 MB manifest
// (23,000 nodes, 200,000 node columns, 15,000 tests) into a scope that
// already holds one, as a re-sync does.
func BenchmarkWriteSnapshot(b *testing.B) {
	for _, backend := range storetest.Backends(b) {
		b.Run(backend.Name, func(b *testing.B) {
			s := storetest.Open(b, backend)
			snap := bigSnapshot("cloud:prod:3", 23000, 9, 15000, 1)
			ctx := b.Context()
			if _, err := s.WriteSnapshot(ctx, snap); err != nil {
				b.Fatal(err)
			}
			before := benchCPUTime(b)
			b.ResetTimer()
			for i := range b.N {
				snap := snap
				snap.Runs = []store.CatalogRun{{RunID: int64(i + 2), JobID: 10, Status: "success"}}
				if _, err := s.WriteSnapshot(ctx, snap); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			// On a loaded machine wall time says little; this process's CPU
			// time says what the write costs here (PostgreSQL's own work is
			// in the server, not counted).
			b.ReportMetric((benchCPUTime(b)-before).Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}

// benchCPUTime is the user and system CPU time this process used so far.
func benchCPUTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestWriteSnapshotManyColumns writes more node columns than one
// PostgreSQL array statement carries (50,000), so that they take two.
func TestWriteSnapshotManyColumns(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		snap := bigSnapshot("cloud:prod:3", 6000, 9, 0, 7)
		scope, err := s.WriteSnapshot(ctx, snap)
		must(t, err)
		if got := catalogRowCount(t, s, "catalog_node_columns"); got != 54000 {
			t.Errorf("catalog_node_columns has %d rows, want 54000", got)
		}
		for _, i := range []int{0, 5555, 5556, 5999} {
			n, err := s.GetNode(ctx, scope.ID, fmt.Sprintf("model.shop.model_%05d", i))
			must(t, err)
			if len(n.Columns) != 9 || n.Columns[8].Name != "column_08" || n.Columns[8].Description == "" {
				t.Errorf("node %d: columns %+v", i, n.Columns)
			}
		}
	})
}
