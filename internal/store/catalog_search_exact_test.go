package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/internal/store"
)

// TestSearchExactNameFirst: a table named as the query comes first even
// when more names hold the word than a pass ranks (nameCandidates, 300),
// and it is crawled after all of them, so that it is not among the first
// matches in index order. Case does not matter; the filters still apply.
func TestSearchExactNameFirst(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		var tables []store.CatalogTable
		for i := range 400 {
			tables = append(tables, table("main", fmt.Sprintf("stg_orders_%03d", i)))
		}
		tables = append(tables, table("main", "Orders"), table("archive", "orders"))
		crawl(t, s, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), tables...)
		exact := map[string]int64{
			"main":    tableByName(t, s, "main", "Orders").ID,
			"archive": tableByName(t, s, "archive", "orders").ID,
		}
		for _, tc := range []struct {
			name string
			p    store.SearchParams
			want []int64 // the first hits
		}{
			{"lower case", store.SearchParams{Query: "orders", Limit: 5}, []int64{exact["main"], exact["archive"]}},
			{"upper case, spaces", store.SearchParams{Query: "  ORDERS ", Limit: 5}, []int64{exact["main"], exact["archive"]}},
			{"schema filter", store.SearchParams{Query: "orders", Limit: 5, Schema: "archive"}, []int64{exact["archive"]}},
			{"limit one", store.SearchParams{Query: "orders", Limit: 1}, []int64{exact["main"]}},
		} {
			got := searchRefs(t, s, tc.p)
			if len(got) < len(tc.want) {
				t.Errorf("%s: %d hits %v, want %v first", tc.name, len(got), got, tc.want)
				continue
			}
			for i, id := range tc.want {
				if got[i] != id {
					t.Errorf("%s: hits %v, want %v first", tc.name, got, tc.want)
					break
				}
			}
		}
		// Only node documents wanted: the exact pass finds no table.
		for _, id := range searchRefs(t, s, store.SearchParams{Query: "orders", Kinds: []string{store.SearchNode}}) {
			t.Errorf("a search of node documents found %d", id)
		}
	})
}
