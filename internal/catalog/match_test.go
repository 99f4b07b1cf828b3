package catalog

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/dbtlink/dbtlink/internal/store"
)

func TestSplitRelation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in    string
		quote byte
		want  []identPart
	}{
		{`"analytics"."dbt"."orders"`, '"', []identPart{{"analytics", true}, {"dbt", true}, {"orders", true}}},
		{`analytics.dbt.orders`, '"', []identPart{{"analytics", false}, {"dbt", false}, {"orders", false}}},
		{`"My.Db"."s"."Say ""hi"""`, '"', []identPart{{"My.Db", true}, {"s", true}, {`Say "hi"`, true}}},
		{"`proj-1`.`Dataset`.`Orders`", '`', []identPart{{"proj-1", true}, {"Dataset", true}, {"Orders", true}}},
		{"`hive`.`t`", '`', []identPart{{"hive", true}, {"t", true}}},
		{`RAW."Mixed"`, '"', []identPart{{"RAW", false}, {"Mixed", true}}},
	} {
		if got := splitRelation(tc.in, tc.quote); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitRelation(%s) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestMatch(t *testing.T) {
	t.Parallel()
	model := func(id, db, schema, alias, rel string) store.CatalogNode {
		return store.CatalogNode{UniqueID: id, ResourceType: "model", Materialized: "table", Database: db, Schema: schema, Identifier: alias, RelationName: rel}
	}
	type want struct {
		matched   map[string]int64 // unique id -> table id
		missing   []string
		ambiguous []string
		unclaimed []int64
	}
	for _, tc := range []struct {
		name    string
		adapter string
		nodes   []store.CatalogNode
		tables  []TableCandidate
		want    want
	}{
		{
			name:    "snowflake upper-case warehouse, lower-case dbt config",
			adapter: "snowflake",
			nodes:   []store.CatalogNode{model("model.p.orders", "analytics", "dbt", "orders", "analytics.dbt.orders")},
			tables:  []TableCandidate{{1, "ANALYTICS", "DBT", "ORDERS"}, {2, "ANALYTICS", "DBT", "CUSTOMERS"}},
			want:    want{matched: map[string]int64{"model.p.orders": 1}, unclaimed: []int64{2}},
		},
		{
			name:    "snowflake without relation_name folds database, schema and alias",
			adapter: "snowflake",
			nodes:   []store.CatalogNode{model("model.p.orders", "analytics", "dbt", "orders", "")},
			tables:  []TableCandidate{{1, "ANALYTICS", "DBT", "ORDERS"}},
			want:    want{matched: map[string]int64{"model.p.orders": 1}},
		},
		{
			name:    "snowflake quoted lower-case identifier is exact",
			adapter: "snowflake",
			nodes:   []store.CatalogNode{model("model.p.orders", "analytics", "dbt", "orders", `ANALYTICS.DBT."orders"`)},
			tables:  []TableCandidate{{1, "ANALYTICS", "DBT", "ORDERS"}, {2, "ANALYTICS", "DBT", "orders"}},
			want:    want{matched: map[string]int64{"model.p.orders": 2}, ambiguous: []string{"model.p.orders"}, unclaimed: []int64{1}},
		},
		{
			name:    "snowflake quoted name with no table of that case is missing",
			adapter: "snowflake",
			nodes:   []store.CatalogNode{model("model.p.orders", "analytics", "dbt", "orders", `"ANALYTICS"."DBT"."orders"`)},
			tables:  []TableCandidate{{1, "ANALYTICS", "DBT", "ORDERS"}},
			want:    want{missing: []string{"model.p.orders"}},
		},
		{
			name:    "postgres quoted relation, two tables folding to one key: exact case chosen",
			adapter: "postgres",
			nodes:   []store.CatalogNode{model("model.p.orders", "db", "public", "orders", `"db"."public"."orders"`)},
			tables:  []TableCandidate{{1, "db", "public", "Orders"}, {2, "db", "public", "orders"}},
			want:    want{matched: map[string]int64{"model.p.orders": 2}, ambiguous: []string{"model.p.orders"}, unclaimed: []int64{1}},
		},
		{
			name:    "postgres unquoted mixed case folds to lower",
			adapter: "postgres",
			nodes:   []store.CatalogNode{model("model.p.orders", "DB", "Public", "Orders", "")},
			tables:  []TableCandidate{{7, "db", "public", "orders"}},
			want:    want{matched: map[string]int64{"model.p.orders": 7}},
		},
		{
			name:    "redshift ignores quotes",
			adapter: "redshift",
			nodes:   []store.CatalogNode{model("model.p.orders", "dev", "dbt", "Orders", `"dev"."dbt"."Orders"`)},
			tables:  []TableCandidate{{3, "dev", "dbt", "orders"}},
			want:    want{matched: map[string]int64{"model.p.orders": 3}},
		},
		{
			name:    "bigquery is case-sensitive",
			adapter: "bigquery",
			nodes: []store.CatalogNode{
				model("model.p.a", "proj", "Sales", "orders", "`proj`.`Sales`.`orders`"),
				model("model.p.b", "proj", "sales", "orders", "`proj`.`sales`.`orders`"),
			},
			tables: []TableCandidate{{1, "proj", "Sales", "orders"}},
			want:   want{matched: map[string]int64{"model.p.a": 1}, missing: []string{"model.p.b"}},
		},
		{
			name:    "versioned model uses its relation name",
			adapter: "duckdb",
			nodes: []store.CatalogNode{{UniqueID: "model.p.dim_customers.v2", ResourceType: "model", Materialized: "table", Name: "dim_customers",
				Version: "2", Database: "jaffle", Schema: "main", Identifier: "dim_customers_v2", RelationName: `"jaffle"."main"."dim_customers_v2"`}},
			tables: []TableCandidate{{1, "jaffle", "main", "dim_customers"}, {2, "jaffle", "main", "dim_customers_v2"}},
			want:   want{matched: map[string]int64{"model.p.dim_customers.v2": 2}, unclaimed: []int64{1}},
		},
		{
			name:    "snapshot in its target schema",
			adapter: "postgres",
			nodes: []store.CatalogNode{{UniqueID: "snapshot.p.orders_snap", ResourceType: "snapshot", Materialized: "snapshot",
				Database: "db", Schema: "snapshots", Identifier: "orders_snap", RelationName: `"db"."snapshots"."orders_snap"`}},
			tables: []TableCandidate{{1, "db", "dbt", "orders_snap"}, {2, "db", "snapshots", "orders_snap"}},
			want:   want{matched: map[string]int64{"snapshot.p.orders_snap": 2}},
		},
		{
			name:    "source with identifier, upstream in another database",
			adapter: "snowflake",
			nodes: []store.CatalogNode{
				{UniqueID: "source.p.raw.orders", ResourceType: "source", Name: "orders", Database: "raw", Schema: "shop", Identifier: "orders_v1", RelationName: "raw.shop.orders_v1"},
				model("model.p.stg_orders", "analytics", "dbt", "stg_orders", "analytics.dbt.stg_orders"),
			},
			tables: []TableCandidate{{1, "RAW", "SHOP", "ORDERS_V1"}, {2, "RAW", "SHOP", "ORDERS"}, {3, "ANALYTICS", "DBT", "STG_ORDERS"}},
			want:   want{matched: map[string]int64{"source.p.raw.orders": 1, "model.p.stg_orders": 3}, unclaimed: []int64{2}},
		},
		{
			name:    "databricks two-part names match without a database",
			adapter: "databricks",
			nodes:   []store.CatalogNode{model("model.p.orders", "", "dbt", "orders", "`dbt`.`orders`")},
			tables:  []TableCandidate{{5, "hive_metastore", "dbt", "orders"}},
			want:    want{matched: map[string]int64{"model.p.orders": 5}},
		},
		{
			name:    "ephemeral models and exposures are not relations",
			adapter: "postgres",
			nodes: []store.CatalogNode{
				{UniqueID: "model.p.eph", ResourceType: "model", Materialized: "ephemeral", Schema: "dbt", Identifier: "eph"},
				{UniqueID: "exposure.p.dash", ResourceType: "exposure"},
				model("model.p.orders", "db", "dbt", "orders", `"db"."dbt"."orders"`),
			},
			tables: []TableCandidate{{1, "db", "dbt", "eph"}, {2, "db", "dbt", "orders"}},
			want:   want{matched: map[string]int64{"model.p.orders": 2}, unclaimed: []int64{1}},
		},
		{
			name:    "missing table; no unclaimed in schemas without a match",
			adapter: "postgres",
			nodes:   []store.CatalogNode{model("model.p.orders", "db", "dbt", "orders", `"db"."dbt"."orders"`)},
			tables:  []TableCandidate{{1, "db", "dbt_old", "orders"}, {2, "db", "dbt", "ordres"}, {3, "other", "dbt", "orders"}},
			want:    want{missing: []string{"model.p.orders"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			nodes := slices.Clone(tc.nodes)
			rep := Match(tc.adapter, nodes, tc.tables)
			got := map[string]int64{}
			for _, n := range nodes {
				if n.TableID != 0 {
					got[n.UniqueID] = n.TableID
				}
				if m, ok := rep.Matched[n.UniqueID]; ok != (n.TableID != 0) || (ok && m.ID != n.TableID) {
					t.Errorf("%s: TableID %d but report says %+v", n.UniqueID, n.TableID, m)
				}
			}
			if len(got) == 0 {
				got = nil
			}
			if !reflect.DeepEqual(got, tc.want.matched) {
				t.Errorf("matched %v, want %v", got, tc.want.matched)
			}
			var missing, ambiguous []string
			for _, m := range rep.Missing {
				missing = append(missing, m.UniqueID)
			}
			for _, a := range rep.Ambiguous {
				ambiguous = append(ambiguous, a.UniqueID)
			}
			var unclaimed []int64
			for _, u := range rep.Unclaimed {
				unclaimed = append(unclaimed, u.ID)
			}
			if !slices.Equal(missing, tc.want.missing) || !slices.Equal(ambiguous, tc.want.ambiguous) || !slices.Equal(unclaimed, tc.want.unclaimed) {
				t.Errorf("missing %v ambiguous %v unclaimed %v; want %v %v %v", missing, ambiguous, unclaimed, tc.want.missing, tc.want.ambiguous, tc.want.unclaimed)
			}
			if rep.Counts.Matched != len(tc.want.matched) || rep.Counts.Missing != len(tc.want.missing) {
				t.Errorf("counts %+v", rep.Counts)
			}
			if _, err := json.Marshal(rep); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestMatchMissingCandidates(t *testing.T) {
	t.Parallel()
	nodes := []store.CatalogNode{{UniqueID: "model.p.orders", ResourceType: "model", Materialized: "view", Database: "db", Schema: "dbt", Identifier: "orders"}}
	tables := []TableCandidate{
		{1, "db", "dbt", "order"}, {2, "db", "dbt", "ordres"}, {3, "db", "dbt_dev", "orders"}, {4, "db", "x", "customers"},
		{5, "other", "dbt", "orders"},
	}
	rep := Match("postgres", nodes, tables)
	if len(rep.Missing) != 1 {
		t.Fatalf("missing %+v", rep.Missing)
	}
	m := rep.Missing[0]
	if m.Expected != "db.dbt.orders" {
		t.Errorf("expected %q", m.Expected)
	}
	var ids []int64
	for _, c := range m.Candidates {
		ids = append(ids, c.ID)
	}
	// Distances: order 1, ordres 2, dbt_dev.orders 4; customers is far and
	// other.dbt.orders is in another database.
	if !slices.Equal(ids, []int64{1, 2, 3}) {
		t.Errorf("candidates %v, want [1 2 3]", ids)
	}
	if rep.Ephemeral == nil || rep.Unclaimed == nil {
		t.Error("empty report lists must marshal as [], not null")
	}
}

func TestMatchColumns(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		adapter string
		dbt, wh []string
		want    []int
	}{
		{"snowflake", []string{"order_id", "amount", "gone"}, []string{"ORDER_ID", "AMOUNT"}, []int{0, 1, -1}},
		{"snowflake", []string{`"Mixed"`, "mixed"}, []string{"MIXED", "Mixed"}, []int{1, 0}},
		{"bigquery", []string{"Order_ID"}, []string{"order_id"}, []int{0}},
		{"postgres", []string{"id", "ID"}, []string{"id"}, []int{0, -1}},
		{"postgres", nil, []string{"id"}, []int{}},
	} {
		got := MatchColumns(tc.adapter, tc.dbt, tc.wh)
		if !slices.Equal(got, tc.want) {
			t.Errorf("MatchColumns(%s, %v, %v) = %v, want %v", tc.adapter, tc.dbt, tc.wh, got, tc.want)
		}
	}
}
