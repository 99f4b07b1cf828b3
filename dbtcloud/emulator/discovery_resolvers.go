package emulator

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	art "github.com/dbtlink/dbtlink/artifacts"
)

// ---- scalars ----

// bigInt is dbt's BigInt: ids travel as JSON numbers, and are accepted as numbers or numeric strings.
type bigInt int64

func (bigInt) ImplementsGraphQLType(name string) bool { return name == "BigInt" }

func (b *bigInt) UnmarshalGraphQL(input any) error {
	switch v := input.(type) {
	case int32:
		*b = bigInt(v)
	case int64:
		*b = bigInt(v)
	case int:
		*b = bigInt(v)
	case float64:
		if v != float64(int64(v)) {
			return fmt.Errorf("BigInt cannot represent non-integer value: %v", v)
		}
		*b = bigInt(v)
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("BigInt cannot represent value: %q", v)
		}
		*b = bigInt(n)
	default:
		return fmt.Errorf("BigInt cannot represent value: %v", input)
	}
	return nil
}

func (b bigInt) MarshalJSON() ([]byte, error) { return strconv.AppendInt(nil, int64(b), 10), nil }

func bigPtr(v int64) *bigInt {
	if v == 0 {
		return nil
	}
	b := bigInt(v)
	return &b
}

// dateTime is dbt's DateTime: RFC 3339 in UTC with microseconds, as the Discovery API writes it.
type dateTime time.Time

func (dateTime) ImplementsGraphQLType(name string) bool { return name == "DateTime" }

func (d *dateTime) UnmarshalGraphQL(input any) error {
	s, ok := input.(string)
	if !ok {
		return fmt.Errorf("DateTime must be a string, got %v", input)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("DateTime cannot represent %q: %v", s, err)
	}
	*d = dateTime(t)
	return nil
}

func (d dateTime) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Time(d).UTC().Format("2006-01-02T15:04:05.000000Z"))
}

func timePtr(t time.Time) *dateTime {
	if t.IsZero() {
		return nil
	}
	d := dateTime(t)
	return &d
}

// jsonObject is dbt's JSONObject (meta, config, kwargs).
type jsonObject map[string]any

func (jsonObject) ImplementsGraphQLType(name string) bool {
	return name == "JSONObject" || name == "AnyScalar"
}

func (j *jsonObject) UnmarshalGraphQL(input any) error {
	m, ok := input.(map[string]any)
	if !ok {
		return fmt.Errorf("JSONObject must be an object, got %v", input)
	}
	*j = m
	return nil
}

func (j jsonObject) MarshalJSON() ([]byte, error) { return json.Marshal(map[string]any(j)) }

func objPtr(m map[string]any) *jsonObject {
	if m == nil {
		m = map[string]any{}
	}
	o := jsonObject(m)
	return &o
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ---- paging ----

const (
	discoveryDefaultPage = 100
	// discoveryMaxPage is the most a page may hold: docs.getdbt.com's Discovery API "Reasonable use" said a user
	// can paginate up to 500 items per query.
	discoveryMaxPage = 500
)

type pageArgs struct {
	First *int32
	After *string
}

func encodeCursor(offset int) string {
	return base64.StdEncoding.EncodeToString([]byte("arrayconnection:" + strconv.Itoa(offset)))
}

func decodeCursor(c string) (int, error) {
	b, err := base64.StdEncoding.DecodeString(c)
	if err == nil {
		if rest, ok := strings.CutPrefix(string(b), "arrayconnection:"); ok {
			if n, err := strconv.Atoi(rest); err == nil && n >= 0 {
				return n, nil
			}
		}
	}
	return 0, discoveryError("BAD_USER_INPUT", fmt.Sprintf("Invalid cursor %q: pass the endCursor of a previous page", c))
}

type pageInfoR struct {
	hasNext, hasPrev bool
	start, end       string
}

func (p *pageInfoR) HasNextPage() bool     { return p.hasNext }
func (p *pageInfoR) HasPreviousPage() bool { return p.hasPrev }
func (p *pageInfoR) StartCursor() *string  { return strPtr(p.start) }
func (p *pageInfoR) EndCursor() *string    { return strPtr(p.end) }

type edgeR struct {
	cursor string
	node   *nodeR
}

func (e *edgeR) Cursor() string { return e.cursor }
func (e *edgeR) Node() *nodeR   { return e.node }

// connR is every *Connection type: they differ only in their node type, which nodeR serves for all.
type connR struct {
	total int
	edges []*edgeR
	info  *pageInfoR
}

func (c *connR) TotalCount() int32    { return int32(c.total) }
func (c *connR) PageInfo() *pageInfoR { return c.info }
func (c *connR) Edges() []*edgeR      { return c.edges }

func paginate(nodes []*nodeR, a pageArgs) (*connR, error) {
	size := discoveryDefaultPage
	if a.First != nil {
		if *a.First < 0 || *a.First > discoveryMaxPage {
			return nil, discoveryError("BAD_USER_INPUT", fmt.Sprintf("first must be between 0 and %d, got %d", discoveryMaxPage, *a.First))
		}
		size = int(*a.First)
	}
	start := 0
	if a.After != nil && *a.After != "" {
		n, err := decodeCursor(*a.After)
		if err != nil {
			return nil, err
		}
		start = n + 1
	}
	start = min(start, len(nodes))
	end := min(start+size, len(nodes))
	c := &connR{total: len(nodes), edges: make([]*edgeR, 0, end-start), info: &pageInfoR{hasNext: end < len(nodes), hasPrev: start > 0}}
	for i := start; i < end; i++ {
		c.edges = append(c.edges, &edgeR{cursor: encodeCursor(i), node: nodes[i]})
	}
	if len(c.edges) > 0 {
		c.info.start, c.info.end = c.edges[0].cursor, c.edges[len(c.edges)-1].cursor
	} else if a.After != nil {
		c.info.end = *a.After // an empty last page keeps the cursor where it was
	}
	return c, nil
}

// ---- root ----

type discoRoot struct{ e *Emulator }

type envArgs struct{ ID bigInt }

func (q *discoRoot) Environment(ctx context.Context, args envArgs) (*envR, error) {
	ti, _ := ctx.Value(tokenKey{}).(tokenInfo)
	d, ok, err := q.e.discoveryEnv(ti.accountID, int64(args.ID))
	if err != nil {
		return nil, err
	}
	if !ok || !ti.mayDiscovery(d.env.projectID) {
		// dbt Cloud does not tell an environment of another account (or outside the token's projects) from one
		// that does not exist.
		return nil, discoveryError("NOT_FOUND", fmt.Sprintf("Environment %d not found or not accessible with this token", args.ID))
	}
	if err := checkComplexity(ctx, d, nil); err != nil {
		return nil, err
	}
	return &envR{d: d}, nil
}

type jobArgs struct {
	ID    bigInt
	RunID *bigInt
}

func (q *discoRoot) Job(ctx context.Context, args jobArgs) (*jobR, error) {
	ti, _ := ctx.Value(tokenKey{}).(tokenInfo)
	q.e.mu.Lock()
	j := q.e.jobs[int64(args.ID)]
	q.e.mu.Unlock()
	if j == nil || j.accountID != ti.accountID || !ti.mayDiscovery(j.projectID) {
		return nil, discoveryError("NOT_FOUND", fmt.Sprintf("Job %d not found or not accessible with this token", args.ID))
	}
	d, _, err := q.e.discoveryEnv(ti.accountID, j.envID)
	if err != nil {
		return nil, err
	}
	var r *discoRun
	if args.RunID != nil {
		r = d.runOf(int64(*args.RunID))
		if r == nil || r.jobID != j.id {
			return nil, discoveryError("NOT_FOUND", fmt.Sprintf("Run %d of job %d not found or not finished", *args.RunID, args.ID))
		}
	} else if r = d.latestRunOfJob(j.id); r == nil {
		return nil, discoveryError("NOT_FOUND", fmt.Sprintf("Job %d has no finished run", args.ID))
	}
	if err := checkComplexity(ctx, d, r); err != nil {
		return nil, err
	}
	return &jobR{d: d, r: r, jobID: j.id}, nil
}

// ---- environment ----

type envR struct{ d *discoEnv }

func (e *envR) DbtProjectName() *string { return strPtr(e.d.manifest.Metadata.ProjectName) }
func (e *envR) AdapterType() *string    { return strPtr(e.d.manifest.Metadata.AdapterType) }
func (e *envR) Applied() *appliedR      { return &appliedR{d: e.d} }
func (e *envR) Definition() *definitionR {
	return &definitionR{d: e.d}
}

type appliedR struct{ d *discoEnv }

func (a *appliedR) LastUpdatedAt() *dateTime { return timePtr(a.d.updatedAt) }

type nodeFilter struct {
	UniqueIds       *[]string
	Identifier      *string
	Database        *string
	Schema          *string
	Access          *string
	LastRunStatus   *string
	Tags            *[]string
	SourceNames     *[]string
	FreshnessStatus *string
	Status          *string
	ExposureType    *string
}

type filteredPage struct {
	Filter *nodeFilter
	First  *int32
	After  *string
}

func (f *nodeFilter) admits(n *nodeR) bool {
	if f == nil {
		return true
	}
	if f.UniqueIds != nil && !slices.Contains(*f.UniqueIds, n.n.UniqueID) {
		return false // case-sensitive, as dbt's uniqueIds filter is
	}
	if f.Identifier != nil && !strings.EqualFold(*f.Identifier, identifierOf(n.n)) {
		return false
	}
	if f.Database != nil && !strings.EqualFold(*f.Database, n.n.Database) {
		return false
	}
	if f.Schema != nil && !strings.EqualFold(*f.Schema, n.n.Schema) {
		return false
	}
	if f.Access != nil && !strings.EqualFold(*f.Access, n.n.Access) {
		return false
	}
	if f.Tags != nil && !slices.ContainsFunc(*f.Tags, func(t string) bool { return slices.Contains(n.n.Tags, t) }) {
		return false
	}
	if f.SourceNames != nil && (n.n.Source == nil || !slices.Contains(*f.SourceNames, n.n.Source.SourceName)) {
		return false
	}
	if f.LastRunStatus != nil || f.Status != nil {
		want := *cmpPtr(f.LastRunStatus, f.Status)
		x := n.d.last[n.n.UniqueID]
		if x == nil || x.status != want {
			return false
		}
	}
	if f.FreshnessStatus != nil {
		fr := n.d.fresh[n.n.UniqueID]
		if fr == nil || fr.res.Status != *f.FreshnessStatus {
			return false
		}
	}
	if f.ExposureType != nil && (n.n.Exposure == nil || !strings.EqualFold(n.n.Exposure.Type, *f.ExposureType)) {
		return false
	}
	return true
}

func cmpPtr(a, b *string) *string {
	if a != nil {
		return a
	}
	return b
}

func identifierOf(n *art.Node) string {
	if n.Alias != "" {
		return n.Alias
	}
	return n.Name
}

func (d *discoEnv) list(f *nodeFilter, a pageArgs, types ...art.ResourceType) (*connR, error) {
	var out []*nodeR
	for _, n := range d.nodesOf(types...) {
		nr := &nodeR{d: d, n: n}
		if f.admits(nr) {
			out = append(out, nr)
		}
	}
	return paginate(out, a)
}

func (a *appliedR) Models(args filteredPage) (*connR, error) {
	return a.d.list(args.Filter, pageArgs{args.First, args.After}, art.Model)
}
func (a *appliedR) Sources(args filteredPage) (*connR, error) {
	return a.d.list(args.Filter, pageArgs{args.First, args.After}, art.Source)
}
func (a *appliedR) Seeds(args filteredPage) (*connR, error) {
	return a.d.list(args.Filter, pageArgs{args.First, args.After}, art.Seed)
}
func (a *appliedR) Snapshots(args filteredPage) (*connR, error) {
	return a.d.list(args.Filter, pageArgs{args.First, args.After}, art.Snapshot)
}
func (a *appliedR) Tests(args filteredPage) (*connR, error) {
	return a.d.list(args.Filter, pageArgs{args.First, args.After}, art.Test, art.UnitTest)
}
func (a *appliedR) Exposures(args filteredPage) (*connR, error) {
	return a.d.list(args.Filter, pageArgs{args.First, args.After}, art.Exposure)
}

// nodeTypes maps dbt's AppliedNodeType / ResourceNodeType names to resource types.
var nodeTypes = map[string]art.ResourceType{
	"Model": art.Model, "Source": art.Source, "Seed": art.Seed, "Snapshot": art.Snapshot, "Test": art.Test,
	"Exposure": art.Exposure, "Metric": art.Metric, "SemanticModel": art.SemanticModel, "SavedQuery": art.SavedQuery,
	"Macro": art.MacroType,
}

type resourcesFilter struct {
	Types     []string
	UniqueIds *[]string
	Tags      *[]string
}

type lineageFilter struct {
	Types     *[]string
	UniqueIds *[]string
	Tags      *[]string
}

type resourcesArgs struct {
	Filter resourcesFilter
	First  *int32
	After  *string
}

func (a *appliedR) Resources(args resourcesArgs) (*connR, error) {
	var types []art.ResourceType
	for _, t := range args.Filter.Types {
		types = append(types, nodeTypes[t])
	}
	if len(types) == 0 {
		return nil, discoveryError("BAD_USER_INPUT", "filter.types must name at least one resource type")
	}
	return a.d.list(&nodeFilter{UniqueIds: args.Filter.UniqueIds, Tags: args.Filter.Tags}, pageArgs{args.First, args.After}, types...)
}

type lineageArgs struct{ Filter lineageFilter }

// Lineage lists every graph member (or those of filter.types) with its parents; macros are left out unless asked
// for, since a project has thousands.
func (a *appliedR) Lineage(args lineageArgs) ([]*nodeR, error) {
	types := []art.ResourceType{art.Model, art.Source, art.Seed, art.Snapshot, art.Test, art.Exposure, art.Metric, art.SemanticModel, art.SavedQuery}
	if args.Filter.Types != nil && len(*args.Filter.Types) > 0 {
		types = types[:0]
		for _, t := range *args.Filter.Types {
			types = append(types, nodeTypes[t])
		}
	}
	f := &nodeFilter{UniqueIds: args.Filter.UniqueIds, Tags: args.Filter.Tags}
	var out []*nodeR
	for _, n := range a.d.nodesOf(types...) {
		if nr := (&nodeR{d: a.d, n: n}); f.admits(nr) {
			out = append(out, nr)
		}
	}
	if slices.Contains(types, art.MacroType) {
		for _, m := range a.d.manifest.Macros {
			mn := &art.Node{UniqueID: m.UniqueID, Name: m.Name, PackageName: m.PackageName, ResourceType: art.MacroType}
			if nr := (&nodeR{d: a.d, n: mn}); f.admits(nr) {
				out = append(out, nr)
			}
		}
	}
	return out, nil
}

type historyArgs struct {
	UniqueId     string
	LastRunCount *int32
}

// ModelHistoricalRuns lists a model's executions across the environment's runs, newest first.
func (a *appliedR) ModelHistoricalRuns(args historyArgs) ([]*runNodeR, error) {
	n := a.d.manifest.Node(args.UniqueId)
	if n == nil {
		return []*runNodeR{}, nil
	}
	count := 10
	if args.LastRunCount != nil {
		count = int(*args.LastRunCount)
		if count < 1 || count > 100 {
			return nil, discoveryError("BAD_USER_INPUT", fmt.Sprintf("lastRunCount must be between 1 and 100, got %d", count))
		}
	}
	var out []*runNodeR
	for _, x := range a.d.historyOf(args.UniqueId, count) {
		out = append(out, &runNodeR{d: a.d, n: n, x: x, r: a.d.runOf(x.runID)})
	}
	return out, nil
}

type definitionR struct{ d *discoEnv }

func (f *definitionR) LastUpdatedAt() *dateTime { return timePtr(f.d.updatedAt) }
func (f *definitionR) Exposures(args filteredPage) (*connR, error) {
	return f.d.list(args.Filter, pageArgs{args.First, args.After}, art.Exposure)
}
func (f *definitionR) Metrics(args filteredPage) (*connR, error) {
	return f.d.list(args.Filter, pageArgs{args.First, args.After}, art.Metric)
}
func (f *definitionR) SemanticModels(args filteredPage) (*connR, error) {
	return f.d.list(args.Filter, pageArgs{args.First, args.After}, art.SemanticModel)
}

func (f *definitionR) SavedQueries(args filteredPage) (*connR, error) {
	return f.d.list(args.Filter, pageArgs{args.First, args.After}, art.SavedQuery)
}

func (f *definitionR) Groups(args filteredPage) (*connR, error) {
	var out []*nodeR
	for _, g := range f.d.manifest.Groups {
		nr := &nodeR{d: f.d, n: &art.Node{UniqueID: g.UniqueID, Name: g.Name, ResourceType: art.GroupType}, group: g}
		if args.Filter.admits(nr) {
			out = append(out, nr)
		}
	}
	slices.SortFunc(out, func(a, b *nodeR) int { return strings.Compare(a.n.UniqueID, b.n.UniqueID) })
	return paginate(out, pageArgs{args.First, args.After})
}
