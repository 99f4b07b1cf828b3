package store_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/store/storetest"
	"github.com/google/go-cmp/cmp"
)

func searchRefs(t *testing.T, s *store.Store, p store.SearchParams) []int64 {
	t.Helper()
	hits, err := s.Search(t.Context(), p)
	if err != nil {
		t.Fatalf("Search(%+v): %v", p, err)
	}
	out := []int64{}
	for _, h := range hits {
		out = append(out, h.Ref)
	}
	return out
}

func TestSearchRanksAndMatchesAsYouType(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		docs := []store.SearchDoc{
			{Kind: "table", Ref: 1, Name: "customers", Tags: "orders"},
			{Kind: "table", Ref: 2, Name: "payments", Columns: "order_id The orders paid"},
			{Kind: "table", Ref: 3, Name: "fct_orders", Description: "One row per order"},
			{Kind: "table", Ref: 4, Name: "events", Description: "Clicks that lead to orders"},
			{Kind: "node", Ref: 4, Name: "größe_messung", Description: "Ünïcode (test) NEAR \"quoted\" OR: star*"},
			{Kind: "table", Ref: 5, Name: "unrelated", Owners: "someone"},
		}
		must(t, s.PutSearchDocs(ctx, docs))
		for _, tc := range []struct {
			query string
			want  []int64
		}{
			// The name first, then description, columns, tags.
			{"orders", []int64{3, 4, 2, 1}},
			{"ord", []int64{3, 4, 2, 1}},
			{"or", []int64{4}}, // too short for a prefix: the word or only
			{"fct ord", []int64{3}},
			{"FCT_ORDERS", []int64{3}},
			{"order row", []int64{3}},
			{"größe", []int64{4}},
			{"near", []int64{4}},
			{"", []int64{}},
			{"zzz", []int64{}},
		} {
			if diff := cmp.Diff(tc.want, searchRefs(t, s, store.SearchParams{Query: tc.query})); diff != "" {
				t.Errorf("Search(%q) (-want +got):\n%s", tc.query, diff)
			}
		}
		// Query syntax of either database is taken as words: no error, and
		// the word orders among syntax finds what orders finds.
		for _, q := range []string{`"`, `*`, `-`, `:`, `(`, `)`, `NEAR`, `OR`, `AND`, `NOT`, `NEAR(orders events)`,
			`orders & !events | x`, `{name}: x`, `%_\`} {
			if _, err := s.Search(ctx, store.SearchParams{Query: q}); err != nil {
				t.Errorf("Search(%q): %v", q, err)
			}
		}
		for _, q := range []string{`"orders`, `orders"`, `-orders`, `orders*`, `(orders`, `'orders'`, `orders:*`,
			`^orders`, "\x00orders", `😀 orders`, `orders:`, `"orders"*`, `!orders`, `orders\`} {
			if diff := cmp.Diff([]int64{3, 4, 2, 1}, searchRefs(t, s, store.SearchParams{Query: q})); diff != "" {
				t.Errorf("Search(%q) (-want +got):\n%s", q, diff)
			}
		}

		hits, err := s.Search(ctx, store.SearchParams{Query: "order", Limit: 10})
		must(t, err)
		byRef := map[int64]store.SearchHit{}
		for _, h := range hits {
			if h.Kind == "table" {
				byRef[h.Ref] = h
			}
		}
		if h := byRef[3]; h.Field != "name" || h.Snippet != "fct_orders" || h.Name != "fct_orders" {
			t.Errorf("hit fct_orders = %+v", h)
		}
		if h := byRef[2]; h.Field != "columns" || h.Snippet != "order_id The orders paid" {
			t.Errorf("hit payments = %+v", h)
		}
		if hits[0].Rank < hits[len(hits)-1].Rank {
			t.Errorf("ranks not in descending order: %+v", hits)
		}

		// Kinds, limits, upserts, deletes.
		if diff := cmp.Diff([]int64{4}, searchRefs(t, s, store.SearchParams{Query: "near", Kinds: []string{"node"}})); diff != "" {
			t.Errorf("nodes only (-want +got):\n%s", diff)
		}
		if got := searchRefs(t, s, store.SearchParams{Query: "orders", Limit: 2}); len(got) != 2 {
			t.Errorf("Limit 2 returned %v", got)
		}
		must(t, s.PutSearchDocs(ctx, []store.SearchDoc{{Kind: "table", Ref: 3, Name: "fct_orders_old"}, {Kind: "table", Ref: 3, Name: "fct_sales"}}))
		if diff := cmp.Diff([]int64{4, 2, 1}, searchRefs(t, s, store.SearchParams{Query: "orders"})); diff != "" {
			t.Errorf("after replacing doc 3 (-want +got):\n%s", diff)
		}
		must(t, s.DeleteSearchDocs(ctx, "table", []int64{1, 2, 99}))
		if diff := cmp.Diff([]int64{4}, searchRefs(t, s, store.SearchParams{Query: "orders"})); diff != "" {
			t.Errorf("after deleting docs 1, 2 (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]int64{4}, searchRefs(t, s, store.SearchParams{Query: "größe"})); diff != "" {
			t.Errorf("the node doc of the same ref as a deleted table doc (-want +got):\n%s", diff)
		}
		for _, bad := range []store.SearchDoc{{Kind: "column", Ref: 1}, {Kind: "table"}} {
			if err := s.PutSearchDocs(ctx, []store.SearchDoc{bad}); err == nil {
				t.Errorf("PutSearchDocs accepted %+v", bad)
			}
		}
	})
}

func TestRefreshTableSearch(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		at := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
		orders := table("sales", "orders", col("amount", 1, "int"))
		orders.Owner = "etl_user"
		orders.Comment = "Warehouse comment"
		stg := table("staging", "stg_payments", col("id", 1, "int"))
		crawl(t, s, at, orders, stg, table("sales", "misc"))
		ids := map[string]int64{}
		refs, err := s.CatalogTableKeys(ctx)
		must(t, err)
		for _, r := range refs {
			ids[r.Name] = r.ID
		}
		// A crawl indexes what it found.
		if diff := cmp.Diff([]int64{ids["orders"]}, searchRefs(t, s, store.SearchParams{Query: "warehouse comment"})); diff != "" {
			t.Errorf("crawled comment (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]int64{ids["orders"]}, searchRefs(t, s, store.SearchParams{Query: "etl_user"})); diff != "" {
			t.Errorf("crawled owner (-want +got):\n%s", diff)
		}

		node := dbtNode(t, s, ids["orders"], "fct_revenue", "finance", "fail", "pii")
		_, err = s.DB().ExecContext(ctx, fmt.Sprintf(`INSERT INTO catalog_node_columns (node_id, name, position, description)
			VALUES (%d, 'amount', 1, 'Gross amount in cents')`, node))
		must(t, err)
		dbtNode(t, s, ids["stg_payments"], "stg_payments", "platform", "pass")
		// Before the refresh, dbt's text is not in the index.
		if got := searchRefs(t, s, store.SearchParams{Query: "revenue"}); len(got) != 0 {
			t.Errorf("before RefreshTableSearch: %v", got)
		}
		must(t, s.RefreshTableSearch(ctx, []int64{ids["orders"], ids["stg_payments"], 12345}))
		must(t, s.SetColumnDescription(ctx, ids["orders"], "amount", "Reviewed by accounting"))
		for _, tc := range []struct {
			name string
			p    store.SearchParams
			want []int64
		}{
			{"node name", store.SearchParams{Query: "fct_revenue"}, []int64{ids["orders"]}},
			{"node description", store.SearchParams{Query: "the fct_revenue model"}, []int64{ids["orders"]}},
			{"node column", store.SearchParams{Query: "gross cents"}, []int64{ids["orders"]}},
			{"user column description", store.SearchParams{Query: "accounting"}, []int64{ids["orders"]}},
			{"tag", store.SearchParams{Query: "pii"}, []int64{ids["orders"]}},
			{"dbt owner", store.SearchParams{Query: "finance"}, []int64{ids["orders"]}},
			{"filter warehouse", store.SearchParams{Query: "model", Warehouse: "WH"}, []int64{ids["orders"], ids["stg_payments"]}},
			{"filter other warehouse", store.SearchParams{Query: "model", Warehouse: "lake"}, []int64{}},
			{"filter schema", store.SearchParams{Query: "model", Schema: "staging"}, []int64{ids["stg_payments"]}},
			{"filter resource type", store.SearchParams{Query: "model", ResourceType: "model"}, []int64{ids["orders"], ids["stg_payments"]}},
			{"filter resource type none", store.SearchParams{Query: "model", ResourceType: "source"}, []int64{}},
			{"filter tag", store.SearchParams{Query: "model", Tag: "pii"}, []int64{ids["orders"]}},
			{"filter dbt owner", store.SearchParams{Query: "model", Owner: "Platform"}, []int64{ids["stg_payments"]}},
			{"filter warehouse owner", store.SearchParams{Query: "model", Owner: "etl_user"}, []int64{ids["orders"]}},
			{"filter test status", store.SearchParams{Query: "model", TestStatus: "fail"}, []int64{ids["orders"]}},
			{"filters together", store.SearchParams{Query: "model", TestStatus: "pass", Schema: "staging", Kinds: []string{"table"}}, []int64{ids["stg_payments"]}},
		} {
			got := searchRefs(t, s, tc.p)
			slices.Sort(got) // equal ranks come in any order
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: Search(%+v) (-want +got):\n%s", tc.name, tc.p, diff)
			}
		}

		// A dbt node without a table has its own document, filtered on the
		// node itself.
		exposure := dbtNode(t, s, 0, "weekly_dashboard", "finance", "")
		must(t, s.PutSearchDocs(ctx, []store.SearchDoc{{Kind: "node", Ref: exposure, Name: "weekly_dashboard", Owners: "finance"}}))
		if diff := cmp.Diff([]int64{exposure}, searchRefs(t, s, store.SearchParams{Query: "weekly", Owner: "finance", Warehouse: "wh", Schema: "sales"})); diff != "" {
			t.Errorf("node document filtered (-want +got):\n%s", diff)
		}

		// A crawl that removes a table drops its document; RefreshTableSearch
		// of a removed table does too.
		crawl(t, s, at.Add(time.Hour), stg, table("sales", "misc"))
		if got := searchRefs(t, s, store.SearchParams{Query: "revenue"}); len(got) != 0 {
			t.Errorf("a removed table is still found: %v", got)
		}
		must(t, s.RefreshTableSearch(ctx, []int64{ids["orders"]}))
		if got := searchRefs(t, s, store.SearchParams{Query: "orders"}); len(got) != 0 {
			t.Errorf("RefreshTableSearch indexed a removed table: %v", got)
		}
		// Back, it is found again, descriptions and all.
		crawl(t, s, at.Add(2*time.Hour), orders, stg, table("sales", "misc"))
		if diff := cmp.Diff([]int64{ids["orders"]}, searchRefs(t, s, store.SearchParams{Query: "accounting revenue"})); diff != "" {
			t.Errorf("table back (-want +got):\n%s", diff)
		}
	})
}

// TestSearchPasses checks the order of the passes: names holding the
// words whole, then names matching as typed, then whole documents, even
// where bm25 or ts_rank_cd alone would rank a document matching the words
// many times above a name; and that a later pass does not repeat a hit.
func TestSearchPasses(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		docs := []store.SearchDoc{
			{Kind: "table", Ref: 1, Name: "orderly_things", Description: "orders orders orders orders orders"},
			{Kind: "table", Ref: 2, Name: "misc", Description: "order orders orders orders orders", Columns: "order\norders\norder_id"},
			{Kind: "table", Ref: 3, Name: "fct_order_items_daily_by_region_enriched"},
			{Kind: "node", Ref: 3, Name: "orders"},
			{Kind: "table", Ref: 4, Name: "customers", Description: "no match here", Tags: "order"},
		}
		must(t, s.PutSearchDocs(t.Context(), docs))
		// want is the hits of each pass, in any order within a pass.
		for _, tc := range []struct {
			query string
			want  [][]string
		}{
			// Whole word order in a name (the long one), then the names
			// with a word starting with order, then the rest.
			{"order", [][]string{{"table:3"}, {"node:3", "table:1"}, {"table:2", "table:4"}}},
			{"orders", [][]string{{"node:3"}, {}, {"table:1", "table:2"}}},
			{"order ite", [][]string{{}, {"table:3"}, {}}},
			{"misc ord", [][]string{{}, {}, {"table:2"}}},
		} {
			hits, err := s.Search(t.Context(), store.SearchParams{Query: tc.query})
			must(t, err)
			got := []string{}
			for i, h := range hits {
				got = append(got, fmt.Sprintf("%s:%d", h.Kind, h.Ref))
				if i > 0 && h.Rank > hits[i-1].Rank {
					t.Errorf("Search(%q): hit %d ranks above hit %d: %v", tc.query, i, i-1, hits)
				}
			}
			var want []string
			for _, pass := range tc.want {
				n := len(want)
				want = append(want, pass...)
				if len(got) >= len(want) {
					slices.Sort(got[n:len(want)])
				}
				slices.Sort(want[n:])
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Search(%q) (-want +got):\n%s", tc.query, diff)
			}
		}
	})
}

// Vocabularies of the benchmark's catalog, as in a dbt project's
// warehouse: entity nouns, model-layer prefixes and suffixes, column
// names and the words of descriptions.
var (
	benchEntities = []string{"orders", "order_items", "customers", "payments", "refunds", "invoices", "products",
		"inventory", "shipments", "sessions", "events", "page_views", "users", "accounts", "subscriptions", "plans",
		"campaigns", "ad_spend", "leads", "opportunities", "contacts", "tickets", "returns", "stores", "suppliers",
		"warehouses", "employees", "payroll", "budgets", "forecasts", "transactions", "ledger", "exchange_rates",
		"currencies", "countries", "regions", "channels", "devices", "experiments", "feature_flags", "signups",
		"churn", "revenue", "margins", "discounts", "coupons", "carts", "checkouts", "deliveries", "reviews"}
	benchLayers   = []string{"stg", "int", "fct", "dim", "rpt", "base", "raw", "snap", "mart", "agg"}
	benchSuffixes = []string{"", "", "", "", "_daily", "_weekly", "_monthly", "_v2", "_history", "_latest", "_summary", "_by_region", "_enriched", "_joined"}
	benchSources  = []string{"shopify", "stripe", "salesforce", "hubspot", "zendesk", "netsuite", "segment", "ga4", "postgres", "braze"}
	benchColumns  = []string{"id", "created_at", "updated_at", "deleted_at", "status", "amount", "amount_usd", "currency",
		"customer_id", "order_id", "product_id", "user_id", "account_id", "email", "name", "first_name", "last_name",
		"country_code", "region", "quantity", "unit_price", "discount", "tax", "total", "is_active", "is_deleted",
		"source", "channel", "campaign_id", "session_id", "event_type", "event_at", "loaded_at", "valid_from",
		"valid_to", "sku", "category", "subcategory", "plan_id", "mrr", "arr", "churned_at", "signup_date",
		"shipped_at", "delivered_at", "carrier", "tracking_number", "rating", "comment", "ticket_id", "priority"}
	benchDescWords = []string{"one", "row", "per", "the", "of", "each", "and", "with", "from", "daily", "latest",
		"cleaned", "deduplicated", "joined", "aggregated", "source", "data", "customer", "order", "payment", "revenue",
		"recognized", "net", "gross", "refunds", "excluding", "test", "accounts", "snapshot", "history", "changes",
		"used", "by", "finance", "marketing", "team", "dashboard", "reporting", "metrics", "attribution", "model",
		"staging", "incremental", "rebuilt", "nightly", "timezone", "utc", "converted", "currency", "lifetime", "value"}
	benchTags   = []string{"finance", "marketing", "pii", "core", "daily", "hourly", "deprecated", "certified", "sales", "product"}
	benchOwners = []string{"data-eng", "analytics", "finance-analytics", "growth", "platform"}
)

// benchDocs is n table documents as a warehouse of dbt models holds them:
// names like stg_shopify__orders, fct_order_items_daily or dim_customers_v2
// in a few schemas, 10 to 30 columns from a common list, a sentence or two
// of description from a small vocabulary, tags and owners. It returns the
// documents and the words worth typing: the name parts, the column names
// and the description words.
func benchDocs(n int) ([]store.SearchDoc, []string) {
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(list []string) string { return list[rng.IntN(len(list))] }
	sentence := func() string {
		w := make([]string, 6+rng.IntN(10))
		for i := range w {
			w[i] = pick(benchDescWords)
		}
		return strings.Join(w, " ") + "."
	}
	docs := make([]store.SearchDoc, n)
	for i := range docs {
		layer, entity := pick(benchLayers), pick(benchEntities)
		name := layer + "_" + entity + pick(benchSuffixes)
		if layer == "stg" || layer == "raw" || layer == "base" {
			name = layer + "_" + pick(benchSources) + "__" + entity
		}
		// Many schemas of many projects: the same model name recurs, as
		// does the dbt node's name after the table's.
		name += " " + name
		cols := make([]string, 10+rng.IntN(21))
		for j := range cols {
			cols[j] = pick(benchColumns)
		}
		desc := sentence()
		if rng.IntN(2) == 0 {
			desc += " " + sentence()
		}
		docs[i] = store.SearchDoc{
			Kind: "table", Ref: int64(i + 1),
			Name:        name,
			Description: desc,
			Columns:     strings.Join(cols, "\n"),
			Tags:        pick(benchTags) + " " + pick(benchTags),
			Owners:      pick(benchOwners),
		}
	}
	var words []string
	for _, list := range [][]string{benchEntities, benchLayers, benchSources, benchColumns, benchDescWords} {
		for _, w := range list {
			words = append(words, strings.Split(w, "_")...)
		}
	}
	return docs, words
}

// benchQueries is n queries as a user types them: one to three words, the
// last a prefix of three or more letters (or a whole word), from the
// catalog's vocabulary (common words that match most documents, such as
// "ord" or "cus", and rare ones) or misspelt (matching nothing).
func benchQueries(n int, words []string) []string {
	rng := rand.New(rand.NewPCG(3, 4))
	var out []string
	for range n {
		k := 1 + rng.IntN(3)
		q := make([]string, k)
		for i := range q {
			q[i] = words[rng.IntN(len(words))]
		}
		last := q[k-1]
		if len(last) > 3 && rng.IntN(3) > 0 {
			q[k-1] = last[:3+rng.IntN(len(last)-2)]
		}
		if rng.IntN(20) == 0 {
			q[k-1] += "xq"
		}
		out = append(out, strings.Join(q, " "))
	}
	return out
}

// BenchmarkSearch searches 50,000 table documents with 300 queries as a
// user types them and reports the p50, p95 and max latency.
func BenchmarkSearch(b *testing.B) {
	docs, words := benchDocs(benchSize(50_000))
	queries := benchQueries(300, words)
	for _, backend := range storetest.Backends(b) {
		b.Run(backend.Name, func(b *testing.B) {
			s := storetest.Open(b, backend)
			if err := s.PutSearchDocs(b.Context(), docs); err != nil {
				b.Fatal(err)
			}
			if s.Dialect() == store.Postgres {
				if _, err := s.DB().ExecContext(b.Context(), `VACUUM ANALYZE catalog_search`); err != nil {
					b.Fatal(err)
				}
			}
			var took []time.Duration
			i := 0
			for b.Loop() {
				start := time.Now()
				if _, err := s.Search(b.Context(), store.SearchParams{Query: queries[i%len(queries)], Limit: 60}); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
				i++
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(took[len(took)*95/100].Microseconds())/1000, "p95-ms")
			b.ReportMetric(float64(took[len(took)-1].Microseconds())/1000, "max-ms")
		})
	}
}

// A document larger than a PostgreSQL tsvector holds (over 1 MB of
// distinct words, a word of 3,000 letters) is stored and found by its
// first words on both backends, not refused.
func TestSearchHugeDocument(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("needle " + strings.Repeat("x", 3000) + " ")
	for i := range 150_000 {
		fmt.Fprintf(&b, "w%dq%d ", i, i*7)
	}
	each(t, func(t *testing.T, s *store.Store) {
		must(t, s.PutSearchDocs(t.Context(), []store.SearchDoc{{Kind: "table", Ref: 1, Name: "huge", Columns: b.String()}}))
		if got := searchRefs(t, s, store.SearchParams{Query: "needle"}); !slices.Equal(got, []int64{1}) {
			t.Errorf("Search(needle) = %v, want [1]", got)
		}
	})
}
