package catalog

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/dbtlink/dbtlink/internal/store"
)

// SchemaCount is one schema of the browse tree (warehouse, database,
// schema) with how many present tables it holds, how many of them have a
// failing test (latest result fail or error), and how many are sources
// whose latest freshness check is stale (warn or error).
type SchemaCount struct {
	Warehouse string `json:"warehouse"`
	Database  string `json:"database"`
	Schema    string `json:"schema"`
	Tables    int    `json:"tables"`
	Failing   int    `json:"failing"`
	Stale     int    `json:"stale"`
}

// SchemaCounts counts the present tables of every schema, by warehouse,
// database and schema. It reads the table keys, not the tables, so that a
// catalog of 50,000 tables is counted in one query, plus one for the
// failing tests and a page of sources per thousand.
func (s *Service) SchemaCounts(ctx context.Context) ([]SchemaCount, error) {
	keys, err := s.Store.CatalogTableKeys(ctx)
	if err != nil {
		return nil, err
	}
	failing, err := s.Store.TableIDsMatching(ctx, store.TableFilter{FailingTests: true})
	if err != nil {
		return nil, err
	}
	bad := make(map[int64]bool, len(failing))
	for _, id := range failing {
		bad[id] = true
	}
	stale := map[int64]bool{}
	for after := int64(0); ; {
		nodes, err := s.Store.ListNodes(ctx, store.ListNodesParams{ResourceTypes: []string{"source"}, Limit: 1000, AfterID: after})
		if err != nil {
			return nil, err
		}
		for _, n := range nodes {
			if n.TableID != 0 && (n.FreshnessStatus == "warn" || n.FreshnessStatus == "error") {
				stale[n.TableID] = true
			}
		}
		if len(nodes) < 1000 {
			break
		}
		after = nodes[len(nodes)-1].ID
	}
	type key struct{ w, d, s string }
	counts := map[key]*SchemaCount{}
	for _, k := range keys {
		if k.Removed {
			continue
		}
		c := counts[key{k.Warehouse, k.Database, k.Schema}]
		if c == nil {
			c = &SchemaCount{Warehouse: k.Warehouse, Database: k.Database, Schema: k.Schema}
			counts[key{k.Warehouse, k.Database, k.Schema}] = c
		}
		c.Tables++
		if bad[k.ID] {
			c.Failing++
		}
		if stale[k.ID] {
			c.Stale++
		}
	}
	out := make([]SchemaCount, 0, len(counts))
	for _, c := range counts {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b SchemaCount) int {
		return cmp.Or(cmp.Compare(a.Warehouse, b.Warehouse), cmp.Compare(a.Database, b.Database), cmp.Compare(a.Schema, b.Schema))
	})
	return out, nil
}

// TestResultRow is one past result of a data test.
type TestResultRow struct {
	RunID      int64     `json:"run_id"`
	Status     string    `json:"status"`
	Failures   *int64    `json:"failures,omitempty"`
	Message    string    `json:"message,omitempty"`
	ExecutedAt time.Time `json:"executed_at,omitzero"`
	Seconds    float64   `json:"execution_seconds"`
}

// TestHistory returns the latest results of test uniqueID of the scope
// keyed scopeKey, newest first, at most limit (default 20, at most 200).
func (s *Service) TestHistory(ctx context.Context, scopeKey, uniqueID string, limit int) ([]TestResultRow, error) {
	if limit <= 0 {
		limit = 20
	}
	limit = min(limit, 200)
	sc, err := s.Store.GetScope(ctx, scopeKey)
	if err != nil {
		return nil, err
	}
	rs, err := s.Store.TestHistory(ctx, sc.ID, uniqueID, limit)
	if err != nil {
		return nil, err
	}
	out := make([]TestResultRow, len(rs))
	for i, r := range rs {
		out[i] = TestResultRow{RunID: r.RunID, Status: r.Status, Failures: r.Failures, Message: r.Message, ExecutedAt: r.ExecutedAt, Seconds: r.ExecutionTime}
	}
	return out, nil
}
