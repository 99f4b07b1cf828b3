package catalog_test

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/internal/catalog"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/store/storetest"
)

func crawledTable(schema, name string, cols ...string) store.CatalogTable {
	t := store.CatalogTable{TableKey: store.TableKey{Database: "jaffle_shop", Schema: schema, Name: name}, Kind: "table"}
	for i, c := range cols {
		t.Columns = append(t.Columns, store.CatalogColumn{Name: c, Position: i})
	}
	return t
}

// TestSyncColumnLineage uploads jaffle_shop 1.10 (DuckDB, 13 compiled
// models) over a crawled warehouse and walks column lineage both ways.
// The expected edges were read off the models' SQL by hand.
func TestSyncColumnLineage(t *testing.T) {
	manifest, err := os.ReadFile("../../lineage/testdata/jaffle_shop_1.10.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := t.Context()
			st := storetest.Open(t, b)
			_, err := st.ApplyCrawl(ctx, store.ApplyCrawlParams{Warehouse: "duck", CrawledAt: time.Now(), Tables: []store.CatalogTable{
				crawledTable("raw", "raw_customers", "id", "name"),
				crawledTable("main", "stg_customers", "customer_id", "customer_name"),
				crawledTable("main", "customers", "customer_id", "customer_name", "count_lifetime_orders",
					"first_ordered_at", "last_ordered_at", "lifetime_spend_pretax", "lifetime_tax_paid", "lifetime_spend", "customer_type"),
			}})
			if err != nil {
				t.Fatal(err)
			}
			svc := &catalog.Service{Store: st}
			res, err := svc.Upload(ctx, "jaffle", []catalog.UploadFile{{Name: "manifest.json", R: strings.NewReader(string(manifest))}}, catalog.SyncOptions{Warehouse: "duck"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			cl := res.Report.ColumnLineage
			if cl == nil || cl.Dialect != "duckdb" || cl.Models != 13 || cl.Parsed != 13 || cl.Edges == 0 {
				t.Fatalf("column lineage report %+v", cl)
			}

			up, err := svc.ColumnLineage(ctx, "main.customers", "customer_name", catalog.Upstream, 0)
			if err != nil {
				t.Fatal(err)
			}
			links := linkSet(up)
			for _, want := range []string{
				"main.stg_customers.customer_name -> main.customers.customer_name copy",
				"raw.raw_customers.name -> main.stg_customers.customer_name copy",
				"main.stg_customers.customer_id -> main.customers.customer_name join",
			} {
				if !slices.Contains(links, want) {
					t.Errorf("upstream lacks %q; has %q", want, links)
				}
			}
			for _, l := range links {
				if strings.HasPrefix(l, "raw.raw_customers.id ") && !strings.HasSuffix(l, "join") {
					t.Errorf("customer_name does not read raw_customers.id: %q", l)
				}
			}

			down, err := svc.ColumnLineage(ctx, "raw.raw_customers", "name", catalog.Downstream, 1)
			if err != nil {
				t.Fatal(err)
			}
			if got := linkSet(down); !slices.Equal(got, []string{"raw.raw_customers.name -> main.stg_customers.customer_name copy"}) {
				t.Errorf("downstream depth 1: %q", got)
			}
			if _, err := svc.ColumnLineage(ctx, "main.customers", " ", catalog.Both, 0); err == nil {
				t.Error("no column: no error")
			}
		})
	}
}

// linkSet renders edges as "schema.table.column -> schema.table.column kind",
// sorted.
func linkSet(v *catalog.ColumnLineageView) []string {
	name := map[string]string{}
	for _, c := range v.Columns {
		n := c.Table
		if n == "" {
			n = c.UniqueID + c.Relation
		}
		n = strings.TrimPrefix(n, "jaffle_shop.")
		name[c.Key] = n + "." + strings.ToLower(c.Column)
	}
	var out []string
	for _, e := range v.Edges {
		out = append(out, name[e.From]+" -> "+name[e.To]+" "+e.Kind)
	}
	slices.Sort(out)
	return out
}

// TestSyncColumnLineageBudget gives one model SQL over the token budget:
// the sync still succeeds, that model is a gap saying it was cut off, and
// the other models resolve.
func TestSyncColumnLineageBudget(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../lineage/testdata/jaffle_shop_1.10.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	node := m["nodes"].(map[string]any)["model.jaffle_shop.orders"].(map[string]any)
	node["compiled_code"] = "select " + strings.Repeat("a + ", 300_000) + "a from t"
	big, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	st := storetest.Open(t, storetest.Backends(t)[0])
	svc := &catalog.Service{Store: st}
	res, err := svc.Upload(t.Context(), "jaffle", []catalog.UploadFile{{Name: "manifest.json", R: strings.NewReader(string(big))}}, catalog.SyncOptions{}, nil)
	if err != nil || res.Status != store.SyncOK {
		t.Fatalf("upload: %+v, %v", res, err)
	}
	cl := res.Report.ColumnLineage
	if cl.Models != 13 || cl.Parsed != 12 {
		t.Errorf("models %d parsed %d; want 13 and 12", cl.Models, cl.Parsed)
	}
	found := false
	for _, g := range cl.Unresolved {
		if g.UniqueID == "model.jaffle_shop.orders" && strings.Contains(g.Reason, "cut off") && strings.Contains(g.Reason, "tokens") {
			found = true
		}
	}
	if !found {
		t.Errorf("no cut-off gap for orders: %+v", cl.Unresolved)
	}
}
