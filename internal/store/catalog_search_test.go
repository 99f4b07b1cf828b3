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

// benchWords is a vocabulary of made-up words of two or three syllables.
func benchWords(n int, rng *rand.Rand) []string {
	syllables := []string{"ka", "lo", "mi", "ne", "su", "ta", "ri", "do", "pe", "va", "zo", "qui", "bra", "sto", "fle", "gri", "mun", "tor", "pla", "der"}
	seen := map[string]bool{}
	var out []string
	for len(out) < n {
		w := ""
		for range 2 + rng.IntN(2) {
			w += syllables[rng.IntN(len(syllables))]
		}
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// benchDocs is n table documents whose words follow a Zipf law, as in real
// catalogs where a few words (id, date, order) are everywhere.
func benchDocs(n int) ([]store.SearchDoc, []string) {
	rng := rand.New(rand.NewPCG(1, 2))
	words := benchWords(3000, rng)
	zipf := rand.NewZipf(rng, 1.1, 2, uint64(len(words)-1))
	word := func() string { return words[zipf.Uint64()] }
	phrase := func(k int, sep string) string {
		p := make([]string, k)
		for i := range p {
			p[i] = word()
		}
		return strings.Join(p, sep)
	}
	docs := make([]store.SearchDoc, n)
	for i := range docs {
		cols := make([]string, 20)
		for j := range cols {
			cols[j] = phrase(2, "_") + " " + phrase(4, " ")
		}
		docs[i] = store.SearchDoc{
			Kind: "table", Ref: int64(i + 1),
			Name:        fmt.Sprintf("%s_%d", phrase(2, "_"), i),
			Description: phrase(12, " "),
			Columns:     strings.Join(cols, "\n"),
			Tags:        phrase(2, " "),
			Owners:      words[i%20],
		}
	}
	return docs, words
}

// BenchmarkSearch searches 50,000 table documents with queries as a user
// types them (prefixes of 2 to 6 letters of frequent and rare words, one
// or two words) and reports the p50 and p95 latency.
func BenchmarkSearch(b *testing.B) {
	docs, words := benchDocs(50_000)
	rng := rand.New(rand.NewPCG(3, 4))
	var queries []string
	for range 200 {
		// Frequent words are searched more, as they are typed first.
		w := words[rng.IntN(len(words))]
		if rng.IntN(2) == 0 {
			w = words[rng.IntN(30)]
		}
		q := w[:min(len(w), 2+rng.IntN(5))]
		if rng.IntN(3) == 0 {
			q = words[rng.IntN(len(words))] + " " + q
		}
		queries = append(queries, q)
	}
	for _, backend := range storetest.Backends(b) {
		b.Run(backend.Name, func(b *testing.B) {
			s := storetest.Open(b, backend)
			if err := s.PutSearchDocs(b.Context(), docs); err != nil {
				b.Fatal(err)
			}
			if s.Dialect() == store.Postgres {
				if _, err := s.DB().ExecContext(b.Context(), `ANALYZE catalog_search`); err != nil {
					b.Fatal(err)
				}
			}
			var took []time.Duration
			i := 0
			for b.Loop() {
				start := time.Now()
				if _, err := s.Search(b.Context(), store.SearchParams{Query: queries[i%len(queries)]}); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
				i++
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(took[len(took)*95/100].Microseconds())/1000, "p95-ms")
		})
	}
}
