//go:build cgo

package web

import (
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dbtlink/dbtlink/internal/catalog"
	"github.com/dbtlink/dbtlink/internal/server"
	"github.com/dbtlink/dbtlink/internal/servetest"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/store/storetest"
)

// The emulator's manifest has no compiled SQL, so its catalog has no
// column lineage: this test's catalog is an upload of jaffle_shop 1.10
// (DuckDB, compiled; lineage/testdata, whose PROVENANCE.md says where it
// comes from) over a crawl of three of its tables, as catalog's own
// column lineage test builds it.
const jaffleManifest = "../../lineage/testdata/jaffle_shop_1.10.json"

func jaffleTable(schema, name string, cols ...string) store.CatalogTable {
	t := store.CatalogTable{TableKey: store.TableKey{Database: "jaffle_shop", Schema: schema, Name: name}, Kind: "table"}
	for i, c := range cols {
		t.Columns = append(t.Columns, store.CatalogColumn{Name: c, Position: i})
	}
	return t
}

// columnLineageUI serves the web UI over a catalog with column lineage and
// returns it, the catalog, and a read token.
// edit, when not nil, changes the manifest before it is uploaded.
func columnLineageUI(t *testing.T, edit func(t *testing.T, manifest []byte) []byte) (*httptest.Server, *catalog.Service, string) {
	t.Helper()
	manifest, err := os.ReadFile(jaffleManifest)
	if err != nil {
		t.Fatalf("read the test manifest: %v", err)
	}
	if edit != nil {
		manifest = edit(t, manifest)
	}
	ctx := t.Context()
	st := storetest.Open(t, storetest.Backends(t)[0])
	if _, err := st.ApplyCrawl(ctx, store.ApplyCrawlParams{Warehouse: "duck", CrawledAt: time.Now(), Tables: []store.CatalogTable{
		jaffleTable("raw", "raw_customers", "id", "name"),
		jaffleTable("main", "stg_customers", "customer_id", "customer_name"),
		jaffleTable("main", "customers", "customer_id", "customer_name", "count_lifetime_orders",
			"first_ordered_at", "last_ordered_at", "lifetime_spend_pretax", "lifetime_tax_paid", "lifetime_spend", "customer_type"),
	}}); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	svc := &catalog.Service{Store: st, Logger: log}
	res, err := svc.Upload(ctx, "jaffle", []catalog.UploadFile{{Name: "manifest.json", R: strings.NewReader(string(manifest))}}, catalog.SyncOptions{Warehouse: "duck"}, nil)
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	if cl := res.Report.ColumnLineage; cl == nil || cl.Edges == 0 || (edit == nil && cl.Complete != cl.Models) {
		t.Fatalf("the upload has no column lineage: %+v", cl)
	}
	ui, err := New(Config{Catalog: catalog.NewAPI(svc, nil, nil), Runs: newFakeRuns(), Tokens: st, HashToken: server.HashToken, Logger: log, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(ui)
	t.Cleanup(ts.Close)
	return ts, svc, servetest.Token(t, st, "reader", store.ScopeRead)
}

// TestBrowserColumnLineage opens a table page, follows a column to its
// lineage, checks that the graph draws the catalog's edges with their
// kinds, and clicks a column of the graph through to its own lineage.
func TestBrowserColumnLineage(t *testing.T) {
	ctx := newBrowser(t, 2*time.Minute)
	ts, svc, token := columnLineageUI(t, nil)
	tbl, err := svc.ResolveTable(t.Context(), "main.customers")
	if err != nil {
		t.Fatal(err)
	}
	// The page's defaults: both directions, depth 2.
	want, err := svc.ColumnLineage(t.Context(), strconv.FormatInt(tbl.ID, 10), "customer_name", catalog.Both, 2)
	if err != nil {
		t.Fatal(err)
	}
	var wantEdges []string
	for _, e := range want.Edges {
		wantEdges = append(wantEdges, e.From+" -> "+e.To+" "+e.Kind)
	}
	slices.Sort(wantEdges)
	if len(wantEdges) < 2 {
		t.Fatalf("too little lineage to test: %q", wantEdges)
	}

	login(t, ctx, ts.URL, token)
	do(t, ctx, "table page, then the column's lineage",
		chromedp.Navigate(fmt.Sprintf("%s/tables/%d", ts.URL, tbl.ID)),
		chromedp.WaitVisible(chromedp.CSS(`#col-customer_name a.col-lineage`)),
		chromedp.Click(chromedp.CSS(`#col-customer_name a.col-lineage`)),
		chromedp.WaitVisible(chromedp.CSS(`#graph[data-ready="1"]`)))
	if loc := get(t, ctx, "location", chromedp.Location()); !strings.HasSuffix(loc, fmt.Sprintf("/tables/%d/columns/customer_name/lineage", tbl.ID)) {
		t.Fatalf("the column link opened %s", loc)
	}
	drawn := get(t, ctx, "edges drawn", chromedp.Evaluate[[]string](`window.dbtlinkColumnLineage.edges().map(function (e) {
		return e.data("source") + " -> " + e.data("target") + " " + e.data("kind") + " " + e.style("line-style");
	})`))
	style := map[string]string{"copy": "solid", "transform": "dashed", "filter": "dotted", "join": "dotted"}
	var got []string
	for _, d := range drawn {
		f := strings.Fields(d)
		if len(f) != 5 {
			t.Fatalf("drawn edge %q", d)
		}
		if style[f[3]] != f[4] {
			t.Errorf("a %s edge is drawn %s, want %s", f[3], f[4], style[f[3]])
		}
		got = append(got, strings.Join(f[:4], " "))
	}
	slices.Sort(got)
	if !slices.Equal(got, wantEdges) {
		t.Fatalf("graph draws\n%q\nthe catalog has\n%q", got, wantEdges)
	}
	if n := get(t, ctx, "nodes", chromedp.Evaluate[string](`document.getElementById("graph").dataset.nodes`)); n != strconv.Itoa(len(want.Columns)) {
		t.Errorf("graph drew %s columns, the catalog has %d", n, len(want.Columns))
	}
	if p := pageProblems(t, ctx); len(p) > 0 {
		t.Errorf("page problems: %q", p)
	}

	// Click stg_customers.customer_name: its own column lineage opens.
	var up catalog.ColumnLineageItem
	for _, c := range want.Columns {
		if c.Depth == -1 && c.TableID != 0 && strings.EqualFold(c.Column, "customer_name") {
			up = c
		}
	}
	if up.Key == "" {
		t.Fatalf("no upstream customer_name column: %+v", want.Columns)
	}
	pos := get(t, ctx, "node position", chromedp.Evaluate[struct{ X, Y float64 }](fmt.Sprintf(`(function(){
		var n = window.dbtlinkColumnLineage.getElementById(%q), r = document.getElementById("graph").getBoundingClientRect(), p = n.renderedPosition();
		return {X: r.left + p.x, Y: r.top + p.y};
	})()`, up.Key)))
	do(t, ctx, "click the upstream column", chromedp.MouseClickXY(pos.X, pos.Y), chromedp.WaitVisible(chromedp.CSS(`#col-lineage-title`)))
	if loc := get(t, ctx, "location", chromedp.Location()); !strings.HasSuffix(loc, fmt.Sprintf("/tables/%d/columns/%s/lineage", up.TableID, up.Column)) {
		t.Fatalf("clicking %s opened %s", up.Key, loc)
	}
}
