package store_test

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/store/storetest"
)

// insertTable adds a catalog_tables row with plain SQL, as a crawl would,
// and returns its id.
func insertTable(t testing.TB, s *store.Store, schema, name string) int64 {
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

// count counts the rows of a catalog table, for the checks that nothing
// was left behind or added.
func count(t testing.TB, s *store.Store, table string) int {
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
			before := cpuTime(b)
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
			b.ReportMetric((cpuTime(b)-before).Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}

// cpuTime is the user and system CPU time this process used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
