package web

import (
	"cmp"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/dbtlink/dbtlink/internal/catalog"
	"github.com/dbtlink/dbtlink/internal/store"
)

// errNoCatalog is shown by catalog pages of a server without a catalog.
var errNoCatalog = &catalog.InputError{Err: errors.New("this server has no catalog (it was started without one)")}

func (h *Handler) catalogOr(w http.ResponseWriter, r *http.Request, s *session) (Catalog, bool) {
	if h.cat == nil {
		h.fail(w, r, s, errNoCatalog)
		return nil, false
	}
	return h.cat, true
}

type homeData struct {
	Failing []catalog.TestRow
	Runs    []runView
	Counts  []catalog.SchemaCount
	Tables  int
}

func (h *Handler) home(w http.ResponseWriter, r *http.Request, s *session) {
	var d homeData
	if h.cat != nil {
		var err error
		if d.Failing, err = h.cat.Tests(r.Context(), catalog.TestQuery{Failing: true, Limit: 10}); err != nil {
			h.fail(w, r, s, err)
			return
		}
		if d.Counts, err = h.cat.SchemaCounts(r.Context()); err != nil {
			h.fail(w, r, s, err)
			return
		}
		for _, c := range d.Counts {
			d.Tables += c.Tables
		}
	}
	runs, err := h.runs.ListRuns(r.Context(), store.RunFilter{Limit: 10})
	if err != nil {
		h.fail(w, r, s, err)
		return
	}
	for _, run := range runs {
		d.Runs = append(d.Runs, newRunView(run))
	}
	h.render(w, r, http.StatusOK, "home", page{Title: "dbtlink", Nav: "home", Session: s, Data: d})
}

// searchData is the search page: the query, its facets and the results.
type searchData struct {
	Params  store.SearchParams
	Results []catalog.SearchResult
	// Facet choices.
	Warehouses    []string
	Schemas       []string
	ResourceTypes []string
	TestStatuses  []string
	// Quick is set for the header box's drop-down.
	Quick bool
}

var resourceTypes = []string{"model", "source", "seed", "snapshot", "exposure", "metric", "semantic_model", "saved_query", "analysis"}

// search answers the search page, or, for htmx, only its results: the
// page's own list (HX-Target "results") or the header box's drop-down
// ("quick"). Results are the catalog's Search, ranked as the API ranks
// them.
func (h *Handler) search(w http.ResponseWriter, r *http.Request, s *session) {
	cat, ok := h.catalogOr(w, r, s)
	if !ok {
		return
	}
	q := r.URL.Query()
	d := searchData{
		Params: store.SearchParams{Query: strings.TrimSpace(q.Get("q")), Warehouse: q.Get("warehouse"), Schema: q.Get("schema"),
			ResourceType: q.Get("resource_type"), Tag: strings.TrimSpace(q.Get("tag")), Owner: strings.TrimSpace(q.Get("owner")), TestStatus: q.Get("test_status"), Limit: 20},
		ResourceTypes: resourceTypes,
		TestStatuses:  []string{"pass", "fail", "error", "warn"},
	}
	target := ""
	if r.Header.Get("HX-Request") == "true" {
		target = r.Header.Get("HX-Target")
	}
	if target == "quick" {
		d.Quick = true
		d.Params.Limit = 8
	}
	if d.Params.Query != "" {
		var err error
		if d.Results, err = cat.Search(r.Context(), d.Params); err != nil {
			h.fail(w, r, s, err)
			return
		}
	}
	pg := page{Title: "Search", Nav: "search", Session: s, Query: d.Params.Query, Data: d}
	if target == "quick" || target == "results" {
		h.renderTemplate(w, r, http.StatusOK, "search", "results", pg)
		return
	}
	counts, err := cat.SchemaCounts(r.Context())
	if err != nil {
		h.fail(w, r, s, err)
		return
	}
	for _, c := range counts {
		if !slices.Contains(d.Warehouses, c.Warehouse) {
			d.Warehouses = append(d.Warehouses, c.Warehouse)
		}
		if !slices.Contains(d.Schemas, c.Schema) {
			d.Schemas = append(d.Schemas, c.Schema)
		}
	}
	slices.Sort(d.Schemas)
	pg.Data = d
	h.render(w, r, http.StatusOK, "search", pg)
}

// browseLevel is one row of a browse listing: a warehouse, database or
// schema, with the sums of the schemas under it.
type browseLevel struct {
	Name                   string
	URL                    string
	Tables, Failing, Stale int
}

type browseData struct {
	Warehouse, Database string
	Level               string // "warehouse", "database" or "schema": what the rows are
	Rows                []browseLevel
}

func (h *Handler) browse(w http.ResponseWriter, r *http.Request, s *session) {
	cat, ok := h.catalogOr(w, r, s)
	if !ok {
		return
	}
	counts, err := cat.SchemaCounts(r.Context())
	if err != nil {
		h.fail(w, r, s, err)
		return
	}
	d := browseData{Warehouse: r.PathValue("warehouse"), Database: r.PathValue("database"), Level: "warehouse"}
	if d.Warehouse != "" {
		d.Level = "database"
	}
	if d.Database != "" {
		d.Level = "schema"
	}
	rows := map[string]*browseLevel{}
	for _, c := range counts {
		var name, u string
		switch {
		case d.Warehouse == "":
			name, u = c.Warehouse, "/browse/"+pathEscape(c.Warehouse)
		case c.Warehouse != d.Warehouse:
			continue
		case d.Database == "":
			name, u = c.Database, "/browse/"+pathEscape(c.Warehouse)+"/"+pathEscape(c.Database)
		case c.Database != d.Database:
			continue
		default:
			name, u = c.Schema, "/browse/"+pathEscape(c.Warehouse)+"/"+pathEscape(c.Database)+"/"+pathEscape(c.Schema)
		}
		row := rows[name]
		if row == nil {
			row = &browseLevel{Name: name, URL: u}
			rows[name] = row
		}
		row.Tables += c.Tables
		row.Failing += c.Failing
		row.Stale += c.Stale
	}
	if len(rows) == 0 && d.Warehouse != "" {
		h.fail(w, r, s, &catalog.InputError{Err: errors.New("nothing in the catalog under " + strings.Trim(r.URL.Path[len("/browse"):], "/") + "; go back to Browse")})
		return
	}
	for _, row := range rows {
		d.Rows = append(d.Rows, *row)
	}
	slices.SortFunc(d.Rows, func(a, b browseLevel) int { return cmp.Compare(a.Name, b.Name) })
	h.render(w, r, http.StatusOK, "browse", page{Title: "Browse", Nav: "browse", Session: s, Data: d})
}

type schemaData struct {
	Warehouse, Database, Schema string
	Tables                      []catalog.TableSummary
	Failing                     map[int64]int
	Next                        int64 // AfterID of the next page, 0 for none
}

// browseSchema lists the tables of one schema, a page of 200 at a time,
// with a failing-tests badge on each.
func (h *Handler) browseSchema(w http.ResponseWriter, r *http.Request, s *session) {
	cat, ok := h.catalogOr(w, r, s)
	if !ok {
		return
	}
	d := schemaData{Warehouse: r.PathValue("warehouse"), Database: r.PathValue("database"), Schema: r.PathValue("schema"), Failing: map[int64]int{}}
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	const pageSize = 200
	tables, err := cat.ListTables(r.Context(), store.ListTablesParams{Warehouse: d.Warehouse, Database: d.Database, Schema: d.Schema, AfterID: after, Limit: pageSize + 1})
	if err != nil {
		h.fail(w, r, s, err)
		return
	}
	if len(tables) > pageSize {
		tables = tables[:pageSize]
		d.Next = tables[pageSize-1].ID
	}
	d.Tables = tables
	failing, err := cat.Tests(r.Context(), catalog.TestQuery{Failing: true})
	if err != nil {
		h.fail(w, r, s, err)
		return
	}
	for _, t := range failing {
		d.Failing[t.TableID]++
	}
	h.render(w, r, http.StatusOK, "schema", page{Title: d.Schema, Nav: "browse", Session: s, Data: d})
}

type tableData struct {
	T *catalog.TableDetail
	// FailingColumns counts the failing tests of each column.
	Failing int
}

func (h *Handler) table(w http.ResponseWriter, r *http.Request, s *session) {
	cat, ok := h.catalogOr(w, r, s)
	if !ok {
		return
	}
	t, err := cat.Table(r.Context(), r.PathValue("ref"))
	if err != nil {
		h.fail(w, r, s, err)
		return
	}
	d := tableData{T: t}
	for _, tr := range t.Tests {
		if tr.Status == "fail" || tr.Status == "error" {
			d.Failing++
		}
	}
	h.render(w, r, http.StatusOK, "table", page{Title: t.Name, Nav: "browse", Session: s, Data: d})
}

type testHistoryData struct {
	Scope, UniqueID string
	Results         []catalog.TestResultRow
}

func (h *Handler) testHistory(w http.ResponseWriter, r *http.Request, s *session) {
	cat, ok := h.catalogOr(w, r, s)
	if !ok {
		return
	}
	d := testHistoryData{Scope: r.PathValue("scope"), UniqueID: r.PathValue("id")}
	var err error
	if d.Results, err = cat.TestHistory(r.Context(), d.Scope, d.UniqueID, 50); err != nil {
		h.fail(w, r, s, err)
		return
	}
	h.render(w, r, http.StatusOK, "testhistory", page{Title: d.UniqueID, Nav: "browse", Session: s, Data: d})
}

// lineageParams reads depth (1 to 20, default 2) and direction.
func lineageParams(r *http.Request) (dir catalog.Direction, dirName string, depth int) {
	depth, err := strconv.Atoi(r.URL.Query().Get("depth"))
	if err != nil || depth < 1 {
		depth = 2
	}
	depth = min(depth, 20)
	switch dirName = r.URL.Query().Get("direction"); dirName {
	case "upstream":
		dir = catalog.Upstream
	case "downstream":
		dir = catalog.Downstream
	default:
		dir, dirName = catalog.Both, "both"
	}
	return dir, dirName, depth
}

type lineageData struct {
	T         *catalog.TableDetail
	Direction string
	Depth     int
	DataURL   string
	Upstream  []graphNode
	Down      []graphNode
	Vertices  int
}

func (h *Handler) lineage(w http.ResponseWriter, r *http.Request, s *session) {
	cat, ok := h.catalogOr(w, r, s)
	if !ok {
		return
	}
	t, err := cat.Table(r.Context(), r.PathValue("ref"))
	if err != nil {
		h.fail(w, r, s, err)
		return
	}
	dir, dirName, depth := lineageParams(r)
	g, err := h.lineageGraph(r, cat, strconv.FormatInt(t.ID, 10), dir, depth)
	if err != nil {
		h.fail(w, r, s, err)
		return
	}
	d := lineageData{T: t, Direction: dirName, Depth: depth, Vertices: len(g.Nodes),
		DataURL: "/tables/" + strconv.FormatInt(t.ID, 10) + "/lineage.json?direction=" + dirName + "&depth=" + strconv.Itoa(depth)}
	// Without JavaScript the graph is two lists, nearest first.
	for _, n := range g.Nodes {
		switch {
		case n.Depth < 0:
			d.Upstream = append(d.Upstream, n)
		case n.Depth > 0:
			d.Down = append(d.Down, n)
		}
	}
	slices.SortStableFunc(d.Upstream, func(a, b graphNode) int { return cmp.Compare(b.Depth, a.Depth) })
	h.render(w, r, http.StatusOK, "lineage", page{Title: "Lineage of " + t.Name, Nav: "browse", Session: s, Data: d})
}

// graph is the lineage as lineage.js draws it.
type graph struct {
	Start string      `json:"start"`
	Nodes []graphNode `json:"nodes"`
	Edges []graphEdge `json:"edges"`
}

type graphNode struct {
	ID           string `json:"id"`
	Label        string `json:"label"`
	ResourceType string `json:"resource_type"`
	// TestStatus is "fail" when a test on the table fails (or errors),
	// "pass" when it has passing tests only, "" without tests.
	TestStatus string `json:"test_status,omitempty"`
	URL        string `json:"url,omitempty"`
	Depth      int    `json:"depth"`
	Removed    bool   `json:"removed,omitempty"`
}

type graphEdge struct {
	Source string `json:"source"`
	Target string `json:"target"`
}

func (h *Handler) lineageGraph(r *http.Request, cat Catalog, ref string, dir catalog.Direction, depth int) (*graph, error) {
	v, err := cat.Lineage(r.Context(), ref, dir, depth)
	if err != nil {
		return nil, err
	}
	tests, err := cat.Tests(r.Context(), catalog.TestQuery{Limit: 1000})
	if err != nil {
		return nil, err
	}
	status := map[int64]string{}
	for _, t := range tests {
		if t.TableID == 0 {
			continue
		}
		switch {
		case t.Status == "fail" || t.Status == "error":
			status[t.TableID] = "fail"
		case status[t.TableID] == "" && t.Status == "pass":
			status[t.TableID] = "pass"
		}
	}
	g := &graph{Start: v.Start, Nodes: make([]graphNode, 0, len(v.Vertices)), Edges: make([]graphEdge, 0, len(v.Edges))}
	for _, it := range v.Vertices {
		n := graphNode{ID: it.Key, Label: it.Name, ResourceType: cmp.Or(it.ResourceType, "table"), Depth: it.Depth, Removed: it.Removed}
		if it.TableID != 0 {
			n.URL = "/tables/" + strconv.FormatInt(it.TableID, 10)
			n.TestStatus = status[it.TableID]
		}
		g.Nodes = append(g.Nodes, n)
	}
	for _, e := range v.Edges {
		g.Edges = append(g.Edges, graphEdge{Source: e.Parent, Target: e.Child})
	}
	return g, nil
}

func (h *Handler) lineageJSON(w http.ResponseWriter, r *http.Request, s *session) {
	cat, ok := h.catalogOr(w, r, s)
	if !ok {
		return
	}
	dir, _, depth := lineageParams(r)
	g, err := h.lineageGraph(r, cat, r.PathValue("ref"), dir, depth)
	if err != nil {
		h.fail(w, r, s, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(g)
}

type syncsData struct {
	Syncs      []catalog.SyncStatus
	Warehouses []catalog.WarehouseView
}

func (h *Handler) syncs(w http.ResponseWriter, r *http.Request, s *session) {
	cat, ok := h.catalogOr(w, r, s)
	if !ok {
		return
	}
	var d syncsData
	var err error
	if d.Syncs, err = cat.Syncs(r.Context()); err != nil {
		h.fail(w, r, s, err)
		return
	}
	if d.Warehouses, err = cat.ListWarehouses(r.Context()); err != nil {
		h.fail(w, r, s, err)
		return
	}
	h.render(w, r, http.StatusOK, "syncs", page{Title: "Sync status", Nav: "syncs", Session: s, Data: d})
}

func pathEscape(s string) string { return url.PathEscape(s) }
