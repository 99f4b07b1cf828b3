package web

import (
	"cmp"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/dbtlink/dbtlink/internal/catalog"
	"github.com/dbtlink/dbtlink/internal/store"
)

// The column lineage page (issue 11 drawn in issue 10's UI): the columns
// one column of a table reads from and feeds, from the catalog's
// ColumnLineage, the function GET /api/v1/catalog/tables/{ref}/columns/
// {column}/lineage answers with. collineage.js draws it with cytoscape;
// without JavaScript the page is the same columns as lists.

// colGraph is the column lineage as collineage.js draws it: a vertex per
// column, grouped under a vertex per table (or relation, or model
// without a table).
type colGraph struct {
	Start  string        `json:"start"`
	Tables []colGroup    `json:"tables"`
	Nodes  []colNode     `json:"nodes"`
	Edges  []colEdgeView `json:"edges"`
}

type colGroup struct {
	ID    string `json:"id"`
	Label string `json:"label"`
	URL   string `json:"url,omitempty"`
}

type colNode struct {
	ID    string `json:"id"`
	Table string `json:"table"` // colGroup.ID
	Label string `json:"label"` // the column name, "(rows)" for a model's rows
	Name  string `json:"name"`  // table.column, for lists and tooltips
	URL   string `json:"url,omitempty"`
	Depth int    `json:"depth"`
}

type colEdgeView struct {
	Source string   `json:"source"`
	Target string   `json:"target"`
	Kind   string   `json:"kind"`
	Via    []string `json:"via,omitempty"`
	// For the lists: the names of both ends.
	From string `json:"-"`
	To   string `json:"-"`
}

// colLineageURL is the page of column col of table id.
func colLineageURL(tableID int64, col string) string {
	return "/tables/" + strconv.FormatInt(tableID, 10) + "/columns/" + url.PathEscape(col) + "/lineage"
}

// columnGraph turns the catalog's view into what the page and
// collineage.js show.
func columnGraph(v *catalog.ColumnLineageView) *colGraph {
	g := &colGraph{Start: v.Start, Tables: []colGroup{}, Nodes: make([]colNode, 0, len(v.Columns)), Edges: make([]colEdgeView, 0, len(v.Edges))}
	seen := map[string]bool{}
	name := map[string]string{}
	for _, c := range v.Columns {
		var grp colGroup
		switch {
		case c.TableID != 0:
			grp = colGroup{ID: "t:" + strconv.FormatInt(c.TableID, 10), Label: c.Table, URL: "/tables/" + strconv.FormatInt(c.TableID, 10)}
		case c.UniqueID != "":
			grp = colGroup{ID: "n:" + strconv.FormatInt(c.ScopeID, 10) + ":" + c.UniqueID, Label: c.UniqueID}
		default:
			grp = colGroup{ID: "r:" + strconv.FormatInt(c.ScopeID, 10) + ":" + c.Relation, Label: c.Relation + " (not in the catalog)"}
		}
		if !seen[grp.ID] {
			seen[grp.ID] = true
			g.Tables = append(g.Tables, grp)
		}
		n := colNode{ID: c.Key, Table: grp.ID, Label: c.Column, Depth: c.Depth}
		if c.Column == "" {
			n.Label = "(rows)"
		}
		tbl := cmp.Or(c.Table, c.UniqueID, c.Relation)
		n.Name = tbl + "." + n.Label
		if c.TableID != 0 && c.Column != "" {
			n.URL = colLineageURL(c.TableID, c.Column)
		}
		name[c.Key] = n.Name
		g.Nodes = append(g.Nodes, n)
	}
	for _, e := range v.Edges {
		g.Edges = append(g.Edges, colEdgeView{Source: e.From, Target: e.To, Kind: e.Kind, Via: e.Via, From: name[e.From], To: name[e.To]})
	}
	return g
}

type colLineageData struct {
	T         *catalog.TableDetail
	Column    string
	Direction string
	Depth     int
	DataURL   string
	URL       string // this page without its query
	Upstream  []colNode
	Down      []colNode
	Edges     []colEdgeView
	Gaps      []store.ColumnGap
	Vertices  int
}

func (h *Handler) columnLineage(w http.ResponseWriter, r *http.Request, s *session) {
	cat, ok := h.catalogOr(w, r, s)
	if !ok {
		return
	}
	t, err := cat.Table(r.Context(), r.PathValue("ref"))
	if err != nil {
		h.fail(w, r, s, err)
		return
	}
	col := r.PathValue("column")
	dir, dirName, depth := lineageParams(r)
	v, err := cat.ColumnLineage(r.Context(), strconv.FormatInt(t.ID, 10), col, dir, depth)
	if err != nil {
		h.fail(w, r, s, err)
		return
	}
	g := columnGraph(v)
	u := colLineageURL(t.ID, col)
	d := colLineageData{T: t, Column: col, Direction: dirName, Depth: depth, URL: u, Edges: g.Edges, Gaps: v.Gaps, Vertices: len(g.Nodes),
		DataURL: u + ".json?direction=" + dirName + "&depth=" + strconv.Itoa(depth)}
	for _, n := range g.Nodes {
		switch {
		case n.Depth < 0:
			d.Upstream = append(d.Upstream, n)
		case n.Depth > 0:
			d.Down = append(d.Down, n)
		}
	}
	// Nearest first, as on the table lineage page.
	slices.SortStableFunc(d.Upstream, func(a, b colNode) int { return cmp.Compare(b.Depth, a.Depth) })
	h.render(w, r, http.StatusOK, "collineage", page{Title: "Lineage of " + t.Name + "." + col, Nav: "browse", Session: s, Data: d})
}

func (h *Handler) columnLineageJSON(w http.ResponseWriter, r *http.Request, s *session) {
	cat, ok := h.catalogOr(w, r, s)
	if !ok {
		return
	}
	dir, _, depth := lineageParams(r)
	v, err := cat.ColumnLineage(r.Context(), r.PathValue("ref"), r.PathValue("column"), dir, depth)
	if err != nil {
		h.fail(w, r, s, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(columnGraph(v))
}
