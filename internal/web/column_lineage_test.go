package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/dbtlink/dbtlink/internal/catalog"
	"github.com/dbtlink/dbtlink/internal/store"
)

// colCall records the last ColumnLineage call of the fake catalog.
type colCall struct {
	ref, column string
	dir         catalog.Direction
	depth       int
}

var lastColCall colCall

// ColumnLineage answers for db.main.orders.id (table 7): read by copy
// from stg_orders.order_id (table 8), by transform from a relation
// outside the catalog, feeding the rows of a model by filter, with a gap.
func (f *fakeCatalog) ColumnLineage(ctx context.Context, ref, column string, dir catalog.Direction, depth int) (*catalog.ColumnLineageView, error) {
	lastColCall = colCall{ref, column, dir, depth}
	if strings.TrimSpace(column) == "" {
		return nil, &catalog.InputError{Err: errNoColumn}
	}
	return &catalog.ColumnLineageView{Start: "table:7.id",
		Columns: []catalog.ColumnLineageItem{
			{Key: "table:7.id", TableID: 7, Table: "db.main.orders", Column: column},
			{Key: "table:8.order_id", TableID: 8, Table: "db.main.stg_orders", Column: "order_id", Depth: -1},
			{Key: "1:raw.payments.amount", ScopeID: 1, Relation: "raw.payments", Column: "amount", Depth: -1},
			{Key: "1:model.p.big_orders.", ScopeID: 1, UniqueID: "model.p.big_orders", Column: "", Depth: 1},
		},
		Edges: []catalog.ColumnLineageLink{
			{From: "table:8.order_id", To: "table:7.id", Kind: "copy"},
			{From: "1:raw.payments.amount", To: "table:7.id", Kind: "transform", Via: []string{"sum"}},
			{From: "table:7.id", To: "1:model.p.big_orders.", Kind: "filter"},
		},
		Gaps: []store.ColumnGap{{ScopeID: 1, UniqueID: "model.p.orders", Reason: "select * from a relation whose columns are unknown"}},
	}, nil
}

var errNoColumn = errString("no column given: name one as TABLE.COLUMN")

type errString string

func (e errString) Error() string { return string(e) }

func TestColumnLineagePage(t *testing.T) {
	b := newBench(t, false)
	c := b.client(t)
	b.logIn(t, c, readToken)

	// The table page links each column to its lineage.
	resp, body := httpGet(t, c, b.ts.URL+"/tables/7")
	if resp.StatusCode != 200 || !strings.Contains(body, `href="/tables/7/columns/id/lineage"`) {
		t.Fatalf("table page: %d, no link to the column lineage of id:\n%s", resp.StatusCode, body)
	}

	resp, body = httpGet(t, c, b.ts.URL+"/tables/7/columns/id/lineage?direction=upstream&depth=3")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d\n%s", resp.StatusCode, body)
	}
	if want := (colCall{"7", "id", catalog.Upstream, 3}); lastColCall != want {
		t.Errorf("catalog called with %+v, want %+v", lastColCall, want)
	}
	for _, want := range []string{
		`Lineage of orders.id`,
		// The graph's data, with the same controls.
		`data-url="/tables/7/columns/id/lineage.json?direction=upstream&amp;depth=3"`,
		`<option value="upstream" selected>`, `<option selected>3</option>`,
		// Without JavaScript: the columns, linked to their own lineage, and the edges with their kinds.
		`<a href="/tables/8/columns/order_id/lineage">db.main.stg_orders.order_id</a>`,
		`raw.payments.amount`, `model.p.big_orders.(rows)`,
		`<td>db.main.stg_orders.order_id</td><td>db.main.orders.id</td><td><span class="edge-key copy">copy</span></td>`,
		`<span class="edge-key transform">transform</span></td><td>sum</td>`,
		`<span class="edge-key filter">filter</span>`,
		// The gaps of the model.
		`Incomplete lineage`, `<code>model.p.orders</code>: select * from a relation whose columns are unknown`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}

	// The graph's JSON.
	resp, body = httpGet(t, c, b.ts.URL+"/tables/7/columns/id/lineage.json?direction=downstream&depth=1")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("json: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if want := (colCall{"7", "id", catalog.Downstream, 1}); lastColCall != want {
		t.Errorf("catalog called with %+v, want %+v", lastColCall, want)
	}
	var g colGraph
	if err := json.Unmarshal([]byte(body), &g); err != nil {
		t.Fatal(err)
	}
	if g.Start != "table:7.id" || len(g.Nodes) != 4 || len(g.Edges) != 3 || len(g.Tables) != 4 {
		t.Fatalf("graph %+v", g)
	}
	groups := map[string]colGroup{}
	for _, grp := range g.Tables {
		groups[grp.ID] = grp
	}
	for _, n := range g.Nodes {
		grp, ok := groups[n.Table]
		if !ok {
			t.Errorf("node %s in no table group", n.ID)
		}
		switch n.ID {
		case "table:8.order_id":
			if n.URL != "/tables/8/columns/order_id/lineage" || grp.URL != "/tables/8" || grp.Label != "db.main.stg_orders" {
				t.Errorf("stg_orders.order_id: %+v in %+v", n, grp)
			}
		case "1:raw.payments.amount":
			if n.URL != "" || !strings.Contains(grp.Label, "not in the catalog") {
				t.Errorf("relation column: %+v in %+v", n, grp)
			}
		case "1:model.p.big_orders.":
			if n.URL != "" || n.Label != "(rows)" {
				t.Errorf("rows of a model: %+v", n)
			}
		}
	}
	if e := g.Edges[1]; e.Source != "1:raw.payments.amount" || e.Target != "table:7.id" || e.Kind != "transform" {
		t.Errorf("edge %+v", e)
	}
}

func TestColumnLineagePageErrors(t *testing.T) {
	b := newBench(t, false)
	c := b.client(t)
	b.logIn(t, c, readToken)
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/tables/7/columns/%20/lineage", http.StatusBadRequest, "no column given"},
		{"/tables/7/columns/%20/lineage.json", http.StatusBadRequest, ""},
	} {
		resp, body := httpGet(t, c, b.ts.URL+tc.path)
		if resp.StatusCode != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d, want %d with %q\n%.400s", tc.path, resp.StatusCode, tc.status, tc.want, body)
		}
	}
	// Without a session: the login page.
	resp, _ := httpGet(t, b.client(t), b.ts.URL+"/tables/7/columns/id/lineage")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Errorf("no session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// A column name with a slash or a space round-trips through its link.
func TestColumnLineageURLEscapes(t *testing.T) {
	b := newBench(t, false)
	c := b.client(t)
	b.logIn(t, c, readToken)
	for _, col := range []string{"a/b", "order id", "Amount%"} {
		u := colLineageURL(7, col)
		resp, body := httpGet(t, c, b.ts.URL+u)
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d\n%.300s", u, resp.StatusCode, body)
			continue
		}
		if lastColCall.column != col {
			t.Errorf("%s: the catalog was asked for column %q, want %q", u, lastColCall.column, col)
		}
	}
}
