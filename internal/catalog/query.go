package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dbtlink/dbtlink/internal/store"
)

// The answers of the catalog's queries. They are the JSON of the server's
// API and of the CLI's --json alike, so `--server` prints what a local
// command prints.

// TableSummary is a table as listings and search results show it.
type TableSummary struct {
	ID        int64  `json:"id"`
	Warehouse string `json:"warehouse"`
	Database  string `json:"database"`
	Schema    string `json:"schema"`
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	// Description follows the rule of [Description].
	Description string    `json:"description,omitempty"`
	Owner       string    `json:"owner,omitempty"`
	Tags        []string  `json:"tags,omitempty"`
	Nodes       []string  `json:"nodes,omitempty"` // unique ids of the dbt nodes that claim it
	RemovedAt   time.Time `json:"removed_at,omitzero"`
}

// FullName is database.schema.name.
func (t TableSummary) FullName() string { return t.Database + "." + t.Schema + "." + t.Name }

// Description sources, in the order the rule prefers them.
const (
	FromUser      = "user"
	FromDbt       = "dbt"
	FromWarehouse = "warehouse"
)

// Description picks what a table or column shows: what a user wrote in
// dbtlink wins (it was written for this catalog, on purpose), then dbt's
// description (documented in the project, reviewed with the code), then the
// warehouse's comment (often a loader's boilerplate). The others are kept
// and shown beside it.
func Description(user, dbt, warehouse string) (text, source string) {
	switch {
	case strings.TrimSpace(user) != "":
		return user, FromUser
	case strings.TrimSpace(dbt) != "":
		return dbt, FromDbt
	case strings.TrimSpace(warehouse) != "":
		return warehouse, FromWarehouse
	}
	return "", ""
}

// TableDetail is everything the catalog knows of one table.
type TableDetail struct {
	TableSummary
	DescriptionSource string         `json:"description_source,omitempty"`
	UserDescription   string         `json:"user_description,omitempty"`
	Comment           string         `json:"comment,omitempty"`
	WarehouseOwner    string         `json:"warehouse_owner,omitempty"`
	RowEstimate       *int64         `json:"row_estimate,omitempty"`
	SizeBytes         *int64         `json:"size_bytes,omitempty"`
	FirstSeenAt       time.Time      `json:"first_seen_at"`
	LastSeenAt        time.Time      `json:"last_seen_at"`
	Columns           []ColumnDetail `json:"columns"`
	// Models are the dbt nodes (models, seeds, snapshots, sources) that
	// build or read this table, in any scope.
	Models []NodeDetail `json:"dbt"`
	Tests  []TestRow    `json:"tests"`
	Runs   []RunRow     `json:"runs"`
}

// ColumnDetail is a warehouse column with what dbt says of it. A column dbt
// documents but the warehouse lacks is listed with Missing set.
type ColumnDetail struct {
	Name              string   `json:"name"`
	Position          int      `json:"position,omitempty"`
	DataType          string   `json:"data_type,omitempty"`
	Nullable          bool     `json:"nullable"`
	Default           string   `json:"default,omitempty"`
	Description       string   `json:"description,omitempty"`
	DescriptionSource string   `json:"description_source,omitempty"`
	Comment           string   `json:"comment,omitempty"`
	DbtDescription    string   `json:"dbt_description,omitempty"`
	Tags              []string `json:"tags,omitempty"`
	Tests             []string `json:"tests,omitempty"` // "not_null: pass"
	Removed           bool     `json:"removed,omitempty"`
	// Missing: documented in dbt, not in the warehouse.
	Missing bool `json:"missing,omitempty"`
}

// NodeDetail is a dbt node that claims a table.
type NodeDetail struct {
	Scope            string          `json:"scope"`
	Project          string          `json:"project,omitempty"`
	Environment      string          `json:"environment,omitempty"`
	UniqueID         string          `json:"unique_id"`
	ResourceType     string          `json:"resource_type"`
	Name             string          `json:"name"`
	Package          string          `json:"package,omitempty"`
	Description      string          `json:"description,omitempty"`
	Owner            string          `json:"owner,omitempty"`
	Tags             []string        `json:"tags,omitempty"`
	Meta             json.RawMessage `json:"meta,omitempty"`
	Access           string          `json:"access,omitempty"`
	Group            string          `json:"group,omitempty"`
	ContractEnforced bool            `json:"contract_enforced,omitempty"`
	Materialized     string          `json:"materialized,omitempty"`
	Version          string          `json:"version,omitempty"`
	FilePath         string          `json:"file_path,omitempty"`
	RelationName     string          `json:"relation_name,omitempty"`
	ExploreURL       string          `json:"explore_url,omitempty"`
	LastRunID        int64           `json:"last_run_id,omitempty"`
	LastRunStatus    string          `json:"last_run_status,omitempty"`
	LastRunAt        time.Time       `json:"last_run_at,omitzero"`
	Freshness        *Freshness      `json:"freshness,omitempty"`
	RawSQL           string          `json:"raw_sql,omitempty"`
	CompiledSQL      string          `json:"compiled_sql,omitempty"`
	Extra            json.RawMessage `json:"extra,omitempty"`
}

// Freshness is a source's latest freshness check.
type Freshness struct {
	Status      string    `json:"status"`
	MaxLoadedAt time.Time `json:"max_loaded_at,omitzero"`
	CheckedAt   time.Time `json:"checked_at,omitzero"`
}

// TestRow is a test with its latest result.
type TestRow struct {
	Scope      string    `json:"scope"`
	ID         int64     `json:"id"`
	UniqueID   string    `json:"unique_id"`
	Name       string    `json:"name"`
	TestName   string    `json:"test_name,omitempty"`
	Attached   string    `json:"attached_to,omitempty"`
	Table      string    `json:"table,omitempty"` // database.schema.name of the attached node's table
	TableID    int64     `json:"table_id,omitempty"`
	Column     string    `json:"column,omitempty"`
	Severity   string    `json:"severity,omitempty"`
	Status     string    `json:"status"`
	Failures   *int64    `json:"failures,omitempty"`
	Message    string    `json:"message,omitempty"`
	ExecutedAt time.Time `json:"executed_at,omitzero"`
	RunID      int64     `json:"run_id,omitempty"`
	JobID      int64     `json:"job_id,omitempty"`
}

// RunRow is a dbt Cloud run that built (or tried to build) a table.
type RunRow struct {
	Scope      string    `json:"scope"`
	UniqueID   string    `json:"unique_id"`
	RunID      int64     `json:"run_id"`
	JobID      int64     `json:"job_id"`
	Job        string    `json:"job,omitempty"`
	Status     string    `json:"status"` // the node's status in the run
	RunStatus  string    `json:"run_status"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	Duration   float64   `json:"duration_seconds"`
	URL        string    `json:"url,omitempty"`
}

// ErrAmbiguous is matched by a table reference that names several tables.
var ErrAmbiguous = errors.New("ambiguous table")

// AmbiguousError lists the tables a reference could mean.
type AmbiguousError struct {
	Ref        string
	Candidates []string
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("%q names %d tables: %s; give more of the name (schema.table, database.schema.table or warehouse:database.schema.table) or the table id",
		e.Ref, len(e.Candidates), strings.Join(e.Candidates, ", "))
}

// Is makes errors.Is(err, ErrAmbiguous) true.
func (e *AmbiguousError) Is(target error) bool { return target == ErrAmbiguous }

// ResolveTable finds the table ref names: its id, "name", "schema.name",
// "database.schema.name" or "warehouse:database.schema.name", compared
// ignoring case. Removed tables are found too.
func (s *Service) ResolveTable(ctx context.Context, ref string) (store.CatalogTable, error) {
	ref = strings.TrimSpace(ref)
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil && id > 0 {
		t, err := s.Store.GetCatalogTable(ctx, id)
		if err == nil {
			return t, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return store.CatalogTable{}, err
		}
	}
	ts, err := s.Store.FindCatalogTables(ctx, ref)
	if err != nil {
		return store.CatalogTable{}, err
	}
	switch len(ts) {
	case 0:
		return store.CatalogTable{}, fmt.Errorf("no table %q in the catalog (crawl the warehouse with `dbtlink warehouse crawl`, or search with `dbtlink catalog search`): %w", ref, store.ErrNotFound)
	case 1:
		return s.Store.GetCatalogTable(ctx, ts[0].ID)
	}
	// One present table among removed namesakes is the one meant.
	var present []store.CatalogTable
	for _, t := range ts {
		if t.RemovedAt.IsZero() {
			present = append(present, t)
		}
	}
	if len(present) == 1 {
		return s.Store.GetCatalogTable(ctx, present[0].ID)
	}
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = fmt.Sprintf("%s:%s.%s.%s (id %d)", t.Warehouse, t.Database, t.Schema, t.Name, t.ID)
	}
	return store.CatalogTable{}, &AmbiguousError{Ref: ref, Candidates: names}
}

// scopes caches the scopes by id for one query.
type scopes map[int64]store.CatalogScope

func (s *Service) scopes(ctx context.Context) (scopes, error) {
	all, err := s.Store.ListScopes(ctx)
	if err != nil {
		return nil, err
	}
	out := make(scopes, len(all))
	for _, sc := range all {
		out[sc.ID] = sc
	}
	return out, nil
}

// Table returns everything the catalog knows of the table ref names (see
// [Service.ResolveTable]).
func (s *Service) Table(ctx context.Context, ref string) (*TableDetail, error) {
	t, err := s.ResolveTable(ctx, ref)
	if err != nil {
		return nil, err
	}
	sc, err := s.scopes(ctx)
	if err != nil {
		return nil, err
	}
	nodes, err := s.Store.NodesForTable(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	d := &TableDetail{
		TableSummary: summarize(t, nodes), UserDescription: t.UserDescription, Comment: t.Comment,
		WarehouseOwner: t.Owner, RowEstimate: t.RowEstimate, SizeBytes: t.SizeBytes,
		FirstSeenAt: t.FirstSeenAt, LastSeenAt: t.LastSeenAt, Columns: []ColumnDetail{}, Models: []NodeDetail{}, Tests: []TestRow{}, Runs: []RunRow{},
	}
	var dbtDesc string
	for _, n := range nodes {
		if dbtDesc == "" {
			dbtDesc = n.Description
		}
		d.Models = append(d.Models, nodeDetail(sc[n.ScopeID], n))
	}
	d.Description, d.DescriptionSource = Description(t.UserDescription, dbtDesc, t.Comment)

	tests, err := s.Store.ListTests(ctx, store.ListTestsParams{TableID: t.ID, Limit: 1000})
	if err != nil {
		return nil, err
	}
	for _, ts := range tests {
		row := testRow(sc[ts.ScopeID], ts)
		row.Table, row.TableID = d.FullName(), t.ID
		d.Tests = append(d.Tests, row)
	}
	d.Columns = columnDetails(t, nodes, d.Tests, sc)

	for _, n := range nodes {
		runs, err := s.Store.RunsForNode(ctx, n.ScopeID, n.UniqueID, 20)
		if err != nil {
			return nil, err
		}
		jobs, err := s.jobNames(ctx, n.ScopeID)
		if err != nil {
			return nil, err
		}
		for _, r := range runs {
			d.Runs = append(d.Runs, RunRow{
				Scope: sc[n.ScopeID].Key, UniqueID: n.UniqueID, RunID: r.RunID, JobID: r.Run.JobID, Job: jobs[r.Run.JobID],
				Status: r.Status, RunStatus: r.Run.Status, StartedAt: r.Run.StartedAt, FinishedAt: r.Run.FinishedAt,
				Duration: r.Run.Duration, URL: r.Run.URL,
			})
		}
	}
	slices.SortStableFunc(d.Runs, func(a, b RunRow) int { return b.FinishedAt.Compare(a.FinishedAt) })
	return d, nil
}

func (s *Service) jobNames(ctx context.Context, scopeID int64) (map[int64]string, error) {
	jobs, err := s.Store.ListCatalogJobs(ctx, scopeID)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]string, len(jobs))
	for _, j := range jobs {
		out[j.JobID] = j.Name
	}
	return out, nil
}

func summarize(t store.CatalogTable, nodes []store.CatalogNode) TableSummary {
	ts := TableSummary{ID: t.ID, Warehouse: t.Warehouse, Database: t.Database, Schema: t.Schema, Name: t.Name, Kind: t.Kind, Owner: t.Owner, RemovedAt: t.RemovedAt}
	var dbtDesc string
	for _, n := range nodes {
		ts.Nodes = append(ts.Nodes, n.UniqueID)
		for _, tag := range n.Tags {
			if !slices.Contains(ts.Tags, tag) {
				ts.Tags = append(ts.Tags, tag)
			}
		}
		if n.Owner != "" {
			ts.Owner = n.Owner
		}
		if dbtDesc == "" {
			dbtDesc = n.Description
		}
	}
	ts.Description, _ = Description(t.UserDescription, dbtDesc, t.Comment)
	return ts
}

func nodeDetail(sc store.CatalogScope, n store.CatalogNode) NodeDetail {
	nd := NodeDetail{
		Scope: sc.Key, Project: sc.ProjectName, Environment: sc.EnvironmentName,
		UniqueID: n.UniqueID, ResourceType: n.ResourceType, Name: n.Name, Package: n.PackageName, Description: n.Description,
		Owner: n.Owner, Tags: n.Tags, Meta: n.Meta, Access: n.Access, Group: n.Group, ContractEnforced: n.ContractEnforced,
		Materialized: n.Materialized, Version: n.Version, FilePath: n.FilePath, RelationName: n.RelationName,
		ExploreURL: n.ExploreURL, LastRunID: n.LastRunID, LastRunStatus: n.LastRunStatus, LastRunAt: n.LastRunAt,
		RawSQL: n.RawSQL, CompiledSQL: n.CompiledSQL, Extra: n.Extra,
	}
	if n.FreshnessStatus != "" {
		nd.Freshness = &Freshness{Status: n.FreshnessStatus, MaxLoadedAt: n.FreshnessMaxLoaded, CheckedAt: n.FreshnessCheckedAt}
	}
	return nd
}

func testRow(sc store.CatalogScope, t store.CatalogTest) TestRow {
	return TestRow{
		Scope: sc.Key, ID: t.ID, UniqueID: t.UniqueID, Name: t.Name, TestName: t.TestName, Attached: t.AttachedUniqueID,
		Column: t.ColumnName, Severity: t.Severity, Status: t.Status, Failures: t.Failures, Message: t.Message,
		ExecutedAt: t.ExecutedAt, RunID: t.RunID, JobID: t.JobID,
	}
}

// columnDetails pairs the warehouse's columns with dbt's, by the adapter's
// case rules, and attaches the tests on each.
func columnDetails(t store.CatalogTable, nodes []store.CatalogNode, tests []TestRow, sc scopes) []ColumnDetail {
	out := make([]ColumnDetail, 0, len(t.Columns))
	whNames := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		whNames[i] = c.Name
		out = append(out, ColumnDetail{
			Name: c.Name, Position: c.Position, DataType: c.DataType, Nullable: c.Nullable, Default: c.Default,
			Comment: c.Comment, Removed: !c.RemovedAt.IsZero(),
		})
	}
	// dbt's documentation of the first node that documents a column wins:
	// a model and the source another project reads it as rarely disagree,
	// and the model comes first (NodesForTable's order).
	userDesc := map[string]string{}
	for _, c := range t.Columns {
		userDesc[c.Name] = c.UserDescription
	}
	documented := make([]bool, len(out))
	for _, n := range nodes {
		dbtNames := make([]string, len(n.Columns))
		for i, c := range n.Columns {
			dbtNames[i] = c.Name
		}
		pairs := MatchColumns(sc[n.ScopeID].AdapterType, dbtNames, whNames)
		for i, c := range n.Columns {
			j := pairs[i]
			if j < 0 {
				out = append(out, ColumnDetail{Name: c.Name, DataType: c.DataType, DbtDescription: c.Description, Description: c.Description,
					DescriptionSource: descSource(c.Description, FromDbt), Tags: c.Tags, Missing: true})
				whNames = append(whNames, "")
				documented = append(documented, true)
				continue
			}
			if documented[j] {
				continue
			}
			documented[j] = true
			out[j].DbtDescription, out[j].Tags = c.Description, c.Tags
		}
	}
	for i := range out {
		if out[i].Missing {
			continue
		}
		out[i].Description, out[i].DescriptionSource = Description(userDesc[out[i].Name], out[i].DbtDescription, out[i].Comment)
	}
	for _, tr := range tests {
		if tr.Column == "" {
			continue
		}
		for i := range out {
			if strings.EqualFold(out[i].Name, tr.Column) {
				label := tr.TestName
				if label == "" {
					label = tr.Name
				}
				out[i].Tests = append(out[i].Tests, label+": "+statusOrNotRun(tr.Status))
				break
			}
		}
	}
	return out
}

func descSource(text, src string) string {
	if strings.TrimSpace(text) == "" {
		return ""
	}
	return src
}

func statusOrNotRun(s string) string {
	if s == "" {
		return "not run"
	}
	return s
}

// SearchResult is a search hit with what a result list shows.
type SearchResult struct {
	Kind    string        `json:"kind"` // table or node
	Table   *TableSummary `json:"table,omitempty"`
	Node    *NodeSummary  `json:"node,omitempty"`
	Field   string        `json:"matched"`
	Snippet string        `json:"snippet,omitempty"`
	Rank    float64       `json:"rank"`
}

// NodeSummary is a dbt node without a table in a search result: an
// exposure, a metric, an ephemeral model or a model whose table is missing.
type NodeSummary struct {
	Scope        string `json:"scope"`
	UniqueID     string `json:"unique_id"`
	ResourceType string `json:"resource_type"`
	Name         string `json:"name"`
	Description  string `json:"description,omitempty"`
}

// Search finds tables and dbt nodes by name, description, columns, tags and
// owners, best first.
func (s *Service) Search(ctx context.Context, p store.SearchParams) ([]SearchResult, error) {
	if strings.TrimSpace(p.Query) == "" {
		return nil, &InputError{Err: errors.New("the search text is empty")}
	}
	limit := p.Limit
	if limit <= 0 {
		limit = 20
	}
	// Ask for more than shown, so the re-ranking below can lift an exact
	// name that full-text ranking put lower.
	p.Limit = min(limit*3, 200)
	hits, err := s.Store.Search(ctx, p)
	if err != nil {
		return nil, err
	}
	out := make([]SearchResult, 0, len(hits))
	defer func() {
		rerank(out, p.Query)
		if len(out) > limit {
			out = out[:limit]
		}
	}()
	// The hits' tables in one query, without their columns (a summary
	// needs none): search answers as the user types.
	var ids []int64
	for _, h := range hits {
		if h.Kind == store.SearchTable {
			ids = append(ids, h.Ref)
		}
	}
	tables := map[int64]store.CatalogTable{}
	if len(ids) > 0 {
		ts, err := s.Store.ListCatalogTables(ctx, store.ListTablesParams{IDs: ids, IncludeRemoved: true, Limit: len(ids)})
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			tables[t.ID] = t
		}
	}
	var sc scopes
	for _, h := range hits {
		r := SearchResult{Kind: h.Kind, Field: h.Field, Snippet: h.Snippet, Rank: h.Rank}
		switch h.Kind {
		case store.SearchTable:
			t, ok := tables[h.Ref]
			if !ok {
				continue // dropped since it was indexed
			}
			nodes, err := s.Store.NodesForTable(ctx, t.ID)
			if err != nil {
				return nil, err
			}
			ts := summarize(t, nodes)
			r.Table = &ts
		case store.SearchNode:
			if sc == nil {
				if sc, err = s.scopes(ctx); err != nil {
					return nil, err
				}
			}
			n, err := s.Store.GetNodeByID(ctx, h.Ref)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			r.Node = &NodeSummary{Scope: sc[n.ScopeID].Key, UniqueID: n.UniqueID, ResourceType: n.ResourceType, Name: n.Name, Description: n.Description}
		}
		out = append(out, r)
	}
	return out, nil
}

// rerank orders results as a person looking for a name expects: the table
// (then node) named exactly what was typed, then names starting with it,
// then names containing it, then the rest; full-text rank orders each tier.
// bm25 alone favours short documents, so raw_customers (few columns) would
// outrank customers (documented at length) for "customers".
func rerank(rs []SearchResult, query string) {
	q := strings.ToLower(strings.TrimSpace(query))
	tier := func(r SearchResult) int {
		name, kind := "", 0
		switch {
		case r.Table != nil:
			name = r.Table.Name
		case r.Node != nil:
			name, kind = r.Node.Name, 1
		}
		name = strings.ToLower(name)
		switch {
		case name == q:
			return kind
		case strings.HasPrefix(name, q):
			return 2 + kind
		case strings.Contains(name, q):
			return 4 + kind
		}
		return 6
	}
	slices.SortStableFunc(rs, func(a, b SearchResult) int { return tier(a) - tier(b) })
}

// TestQuery selects tests for [Service.Tests].
type TestQuery struct {
	Failing      bool
	WithWarnings bool
	// Table, if set, is a table reference (see ResolveTable).
	Table string
	Limit int
}

// Tests lists tests with their latest result, failing ones first.
func (s *Service) Tests(ctx context.Context, f TestQuery) ([]TestRow, error) {
	p := store.ListTestsParams{Failing: f.Failing, WithWarnings: f.WithWarnings, Limit: f.Limit}
	if p.Limit <= 0 || p.Limit > 1000 {
		p.Limit = 1000
	}
	if f.Table != "" {
		t, err := s.ResolveTable(ctx, f.Table)
		if err != nil {
			return nil, err
		}
		p.TableID = t.ID
	}
	tests, err := s.Store.ListTests(ctx, p)
	if err != nil {
		return nil, err
	}
	sc, err := s.scopes(ctx)
	if err != nil {
		return nil, err
	}
	tables, err := s.nodeTables(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]TestRow, 0, len(tests))
	for _, t := range tests {
		row := testRow(sc[t.ScopeID], t)
		if tk, ok := tables[store.NodeRef{ScopeID: t.ScopeID, UniqueID: t.AttachedUniqueID}]; ok {
			row.TableID, row.Table = tk.ID, tk.Database+"."+tk.Schema+"."+tk.Name
		}
		out = append(out, row)
	}
	slices.SortStableFunc(out, func(a, b TestRow) int { return statusRank(a.Status) - statusRank(b.Status) })
	return out, nil
}

func statusRank(s string) int {
	switch s {
	case "error":
		return 0
	case "fail":
		return 1
	case "warn":
		return 2
	}
	return 3
}

// nodeTables maps every node of every scope to its table's key.
func (s *Service) nodeTables(ctx context.Context) (map[store.NodeRef]store.CatalogTableRef, error) {
	m, err := s.Store.NodeTables(ctx)
	if err != nil {
		return nil, err
	}
	refs, err := s.Store.CatalogTableKeys(ctx)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]store.CatalogTableRef, len(refs))
	for _, r := range refs {
		byID[r.ID] = r
	}
	out := make(map[store.NodeRef]store.CatalogTableRef, len(m))
	for n, id := range m {
		if r, ok := byID[id]; ok {
			out[n] = r
		}
	}
	return out, nil
}

// LineageView is table-level lineage with names to show.
type LineageView struct {
	Start    string        `json:"start"`
	Vertices []LineageItem `json:"vertices"`
	Edges    []LineageEdge `json:"edges"`
}

// LineageItem is a vertex of [LineageView].
type LineageItem struct {
	LineageVertex
	// Name is database.schema.name for a table, the node's name otherwise.
	Name         string `json:"name"`
	ResourceType string `json:"resource_type,omitempty"`
	Removed      bool   `json:"removed,omitempty"`
}

// Lineage walks table-level lineage from the table ref names, over every
// scope: a model of one project and the source another reads it as meet at
// their table.
func (s *Service) Lineage(ctx context.Context, ref string, dir Direction, depth int) (*LineageView, error) {
	t, err := s.ResolveTable(ctx, ref)
	if err != nil {
		return nil, err
	}
	all, err := s.Store.ListScopes(ctx)
	if err != nil {
		return nil, err
	}
	graphs := make([]ScopeGraph, 0, len(all))
	names := map[[2]string]store.CatalogNode{}
	for _, sc := range all {
		nodes, err := allNodes(ctx, s.Store, sc.ID, false)
		if err != nil {
			return nil, err
		}
		edges, err := s.Store.Edges(ctx, sc.ID)
		if err != nil {
			return nil, err
		}
		g := ScopeGraph{ScopeID: sc.ID, Nodes: nodes, Edges: make([]store.CatalogEdge, len(edges))}
		for i, e := range edges {
			g.Edges[i] = e.CatalogEdge
		}
		for _, n := range nodes {
			names[[2]string{strconv.FormatInt(sc.ID, 10), n.UniqueID}] = n
		}
		graphs = append(graphs, g)
	}
	lin, err := TableLineage(graphs, LineageRequest{TableID: t.ID, Direction: dir, Depth: depth})
	if err != nil {
		return nil, err
	}
	refs, err := s.Store.CatalogTableKeys(ctx)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]store.CatalogTableRef, len(refs))
	for _, r := range refs {
		byID[r.ID] = r
	}
	view := &LineageView{Start: fmt.Sprintf("table:%d", t.ID), Vertices: make([]LineageItem, 0, len(lin.Vertices)), Edges: lin.Edges}
	for _, v := range lin.Vertices {
		it := LineageItem{LineageVertex: v}
		if r, ok := byID[v.TableID]; ok && v.TableID != 0 {
			it.Name, it.Removed = r.Database+"."+r.Schema+"."+r.Name, r.Removed
		}
		if len(v.Nodes) > 0 {
			n := names[[2]string{strconv.FormatInt(v.Nodes[0].ScopeID, 10), v.Nodes[0].UniqueID}]
			it.ResourceType = n.ResourceType
			if it.Name == "" {
				it.Name = n.Name
			}
		}
		view.Vertices = append(view.Vertices, it)
	}
	return view, nil
}

// SyncStatus is the latest sync of a scope, with its report.
type SyncStatus struct {
	ScopeKey   string    `json:"scope"`
	ID         int64     `json:"id"`
	Source     string    `json:"source"`
	Status     string    `json:"status"`
	Error      string    `json:"error,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	Report     *Report   `json:"report,omitempty"`
}

// Syncs returns the latest sync of every scope. A sync that found its
// inputs unchanged has no report of its own: the report of the last sync
// that read them is shown.
func (s *Service) Syncs(ctx context.Context) ([]SyncStatus, error) {
	latest, err := s.Store.LatestSyncs(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]SyncStatus, 0, len(latest))
	for _, l := range latest {
		st := SyncStatus{ScopeKey: l.ScopeKey, ID: l.ID, Source: l.Source, Status: l.Status, Error: l.Error, StartedAt: l.StartedAt, FinishedAt: l.FinishedAt}
		body := l.Report
		if body == nil && l.Status == store.SyncUnchanged {
			prev, err := s.Store.ListSyncs(ctx, l.ScopeKey, 20)
			if err != nil {
				return nil, err
			}
			for _, p := range prev {
				if p.Report != nil {
					body = p.Report
					break
				}
			}
		}
		if body != nil {
			var rep Report
			if err := json.Unmarshal(body, &rep); err != nil {
				return nil, fmt.Errorf("sync %d: stored report: %w", l.ID, err)
			}
			st.Report = &rep
		}
		out = append(out, st)
	}
	return out, nil
}

// SetDescription sets the user's description of a table, or of one of its
// columns when column is not empty. It survives every crawl and sync.
func (s *Service) SetDescription(ctx context.Context, ref, column, text string) error {
	t, err := s.ResolveTable(ctx, ref)
	if err != nil {
		return err
	}
	if column == "" {
		err = s.Store.SetTableDescription(ctx, t.ID, text)
	} else {
		err = s.Store.SetColumnDescription(ctx, t.ID, column, text)
	}
	if err != nil {
		return err
	}
	return s.Store.RefreshTableSearch(ctx, []int64{t.ID})
}
