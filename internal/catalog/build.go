package catalog

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dbtlink/dbtlink/artifacts"
	"github.com/dbtlink/dbtlink/internal/store"
)

// BuildOptions are what BuildSnapshot needs besides the artifacts.
type BuildOptions struct {
	// AccessURL is the dbt Cloud host ("https://cloud.getdbt.com"), for
	// Explore links; empty for uploads, which get none.
	AccessURL string
	// ExploreEnvironment is the environment segment of Explore links:
	// "production" for a production environment (the form Explore and
	// DataHub use); empty means "production".
	ExploreEnvironment string
}

// memberTypes are the resource types that become CatalogNodes and lineage
// members; tests become CatalogTests, and analyses, operations and macros
// are left out.
var memberTypes = map[artifacts.ResourceType]bool{
	artifacts.Model: true, artifacts.Seed: true, artifacts.Snapshot: true, artifacts.Source: true,
	artifacts.Exposure: true, artifacts.Metric: true, artifacts.SemanticModel: true, artifacts.SavedQuery: true,
}

// compileOnlyCommands are dbt commands whose run_results list nodes that
// were compiled, not executed (see the package doc).
var compileOnlyCommands = map[string]bool{
	"compile": true, "generate": true, "docs": true, "list": true, "ls": true, "parse": true, "show": true,
}

// execution is one result of a node in one run_results file, with the time
// it finished.
type execution struct {
	res   *artifacts.NodeResult
	runID int64
	jobID int64
	at    time.Time
}

// Executed reports whether a run_results entry is an execution rather than
// a compile-only entry, given the file's command (args.which); see the
// package doc for where the rule comes from.
func Executed(command string, r *artifacts.NodeResult) bool {
	if compileOnlyCommands[strings.ToLower(command)] {
		return false
	}
	if r.Status == "success" && (strings.HasPrefix(r.UniqueID, "test.") || strings.HasPrefix(r.UniqueID, "unit_test.")) {
		return false
	}
	if r.Status == "success" && r.Message == "" && !hasExecute(r) {
		return false
	}
	return true
}

func hasExecute(r *artifacts.NodeResult) bool {
	for _, t := range r.Timing {
		if t.Name == "execute" && !t.CompletedAt.IsZero() {
			return true
		}
	}
	return false
}

// executedAt is when an execution finished: the execute timing's
// completed_at, else the run's finish time, else the file's generated_at.
func executedAt(r *artifacts.NodeResult, in *RunResultsInput) time.Time {
	for _, t := range r.Timing {
		if t.Name == "execute" && !t.CompletedAt.IsZero() {
			return t.CompletedAt
		}
	}
	if !in.RunFinishedAt.IsZero() {
		return in.RunFinishedAt
	}
	return in.Results.Metadata.GeneratedAt
}

// BuildSnapshot builds the snapshot of one scope from its inputs. The scope
// is copied into the snapshot with the manifest's adapter, dbt version and
// generation time filled in when empty; TableIDs are left for Match.
func BuildSnapshot(scope store.CatalogScope, in *Inputs, opts BuildOptions) (store.Snapshot, error) {
	if in == nil || in.Manifest == nil {
		return store.Snapshot{}, fmt.Errorf("build snapshot of %s: no manifest", scope.Key)
	}
	m := in.Manifest
	md := m.Metadata
	if scope.AdapterType == "" {
		scope.AdapterType = md.AdapterType
	}
	if scope.DbtVersion == "" {
		scope.DbtVersion = md.DBTVersion
	}
	if scope.ManifestGeneratedAt.IsZero() {
		scope.ManifestGeneratedAt = md.GeneratedAt
	}
	if scope.ProjectName == "" {
		scope.ProjectName = md.ProjectName
	}
	if in.Fingerprint != "" {
		scope.Fingerprint = in.Fingerprint
	}
	snap := store.Snapshot{Scope: scope, Jobs: slices.Clone(in.Jobs), Runs: slices.Clone(in.Runs)}

	// Executions per node: newest first after sorting. Per (node, run) only
	// the newest is kept, for the history (one entry per run).
	execs := map[string][]execution{}
	for i := range in.Results {
		ri := &in.Results[i]
		if ri.Results == nil {
			continue
		}
		for j := range ri.Results.Results {
			r := &ri.Results.Results[j]
			if r.UniqueID == "" || !Executed(ri.Results.Command, r) {
				continue
			}
			execs[r.UniqueID] = append(execs[r.UniqueID], execution{res: r, runID: ri.RunID, jobID: ri.JobID, at: executedAt(r, ri)})
		}
	}
	for id, es := range execs {
		// Newest first; ties by run id then status, so the choice never
		// depends on the order files were read (#24883).
		slices.SortStableFunc(es, func(a, b execution) int {
			if c := b.at.Compare(a.at); c != 0 {
				return c
			}
			if c := cmp.Compare(b.runID, a.runID); c != 0 {
				return c
			}
			return strings.Compare(a.res.Status, b.res.Status)
		})
		perRun := es[:0:0]
		seen := map[int64]bool{}
		for _, e := range es {
			if e.runID != 0 && seen[e.runID] {
				continue
			}
			seen[e.runID] = true
			perRun = append(perRun, e)
		}
		execs[id] = perRun
	}

	fresh := map[string]*artifacts.FreshnessResult{}
	if in.Sources != nil {
		for i := range in.Sources.Results {
			fresh[in.Sources.Results[i].UniqueID] = &in.Sources.Results[i]
		}
	}
	explore := ""
	if opts.AccessURL != "" && scope.AccountID != 0 && scope.ProjectID != 0 {
		env := cmp.Or(opts.ExploreEnvironment, "production")
		explore = fmt.Sprintf("%s/explore/%d/projects/%d/environments/%s/details/", strings.TrimRight(opts.AccessURL, "/"), scope.AccountID, scope.ProjectID, env)
	}

	members := map[string]*artifacts.Node{}
	for _, n := range m.Nodes {
		if n == nil {
			continue
		}
		switch {
		case memberTypes[n.ResourceType]:
			members[n.UniqueID] = n
			snap.Nodes = append(snap.Nodes, buildNode(n, in.Catalog, execs[n.UniqueID], fresh[n.UniqueID], explore))
		case n.ResourceType == artifacts.Test || n.ResourceType == artifacts.UnitTest:
			t, hist := buildTest(n, execs[n.UniqueID])
			snap.Tests = append(snap.Tests, t)
			snap.TestResults = append(snap.TestResults, hist...)
		}
	}
	for _, g := range m.Groups {
		if g == nil {
			continue
		}
		owner := cmp.Or(g.OwnerName, g.OwnerEmail)
		snap.Nodes = append(snap.Nodes, store.CatalogNode{
			UniqueID: g.UniqueID, ResourceType: string(artifacts.GroupType), Name: g.Name, Owner: owner,
			Extra: marshalObject(map[string]any{"owner_name": g.OwnerName, "owner_email": g.OwnerEmail}),
		})
	}
	snap.Edges = buildEdges(m, members)
	for id, es := range execs {
		n := members[id]
		if n == nil || n.ResourceType == artifacts.Source {
			continue
		}
		for _, e := range es {
			snap.NodeRuns = append(snap.NodeRuns, store.NodeRun{UniqueID: id, RunID: e.runID, Status: e.res.Status,
				ExecutionTime: e.res.ExecutionTime, CompletedAt: e.at})
		}
	}
	slices.SortFunc(snap.NodeRuns, func(a, b store.NodeRun) int {
		return cmp.Or(strings.Compare(a.UniqueID, b.UniqueID), b.CompletedAt.Compare(a.CompletedAt))
	})
	return snap, nil
}

func buildNode(n *artifacts.Node, cat *artifacts.Catalog, es []execution, fr *artifacts.FreshnessResult, explore string) store.CatalogNode {
	cn := store.CatalogNode{
		UniqueID: n.UniqueID, ResourceType: string(n.ResourceType), Name: n.Name, PackageName: n.PackageName,
		Database: n.Database, Schema: n.Schema, Identifier: n.Alias, RelationName: n.RelationName,
		Materialized: n.Materialized, Description: n.Description, Owner: n.Owner, Tags: n.Tags,
		Meta: marshalObject(n.Meta), Access: n.Access, Group: n.Group, ContractEnforced: n.ContractEnforced,
		Version: n.Version, FilePath: cmp.Or(n.OriginalFilePath, n.Path), RawSQL: n.RawCode, CompiledSQL: n.CompiledCode,
	}
	if cn.Identifier == "" && hasRelation(n) {
		cn.Identifier = n.Name
	}
	if explore != "" {
		cn.ExploreURL = explore + n.UniqueID
	}
	if len(es) > 0 {
		e := es[0]
		cn.LastRunID, cn.LastRunStatus, cn.LastRunAt = e.runID, e.res.Status, e.at
		if cn.CompiledSQL == "" {
			// A manifest written by `dbt test` lacks models' compiled code;
			// the run that built the node has it.
			for _, e := range es {
				if e.res.CompiledCode != "" {
					cn.CompiledSQL = e.res.CompiledCode
					break
				}
			}
		}
	}
	t := cat.Table(n.UniqueID)
	if t != nil && cn.Description == "" {
		cn.Description = t.Comment
	}
	cn.Columns = mergeColumns(n.Columns, t)
	extra := map[string]any{}
	switch {
	case n.Source != nil:
		s := n.Source
		extra["source_name"] = s.SourceName
		if s.SourceDescription != "" {
			extra["source_description"] = s.SourceDescription
		}
		if s.Loader != "" {
			extra["loader"] = s.Loader
		}
		if s.LoadedAtField != "" {
			extra["loaded_at_field"] = s.LoadedAtField
		}
		crit := s.Freshness
		if fr != nil {
			cn.FreshnessStatus, cn.FreshnessMaxLoaded, cn.FreshnessCheckedAt = fr.Status, fr.MaxLoadedAt, fr.SnapshottedAt
			if fr.Criteria != nil {
				crit = fr.Criteria
			}
			if msg := cmp.Or(fr.Message, fr.Error); msg != "" && fr.Status != "pass" {
				extra["freshness_message"] = msg
			}
		}
		if c := freshnessJSON(crit); c != nil {
			extra["freshness"] = c
		}
	case n.Exposure != nil:
		x := n.Exposure
		for k, v := range map[string]string{"type": x.Type, "url": x.URL, "maturity": x.Maturity, "owner_name": x.OwnerName, "owner_email": x.OwnerEmail} {
			if v != "" {
				extra[k] = v
			}
		}
	}
	if n.Label != "" {
		extra["label"] = n.Label
	}
	if t != nil {
		if t.Type != "" {
			extra["catalog_type"] = t.Type
		}
		if t.Owner != "" {
			extra["catalog_owner"] = t.Owner
		}
	}
	cn.Extra = marshalObject(extra)
	return cn
}

// hasRelation reports whether a node is (or should be) a warehouse
// relation: models other than ephemeral ones, seeds, snapshots, sources.
func hasRelation(n *artifacts.Node) bool {
	switch n.ResourceType {
	case artifacts.Model:
		return !n.Ephemeral()
	case artifacts.Seed, artifacts.Snapshot, artifacts.Source:
		return true
	}
	return false
}

func freshnessJSON(f *artifacts.Freshness) map[string]any {
	if f == nil || (f.WarnAfter == nil && f.ErrorAfter == nil && f.Filter == "") {
		return nil
	}
	out := map[string]any{}
	th := func(k string, t *artifacts.FreshnessThreshold) {
		if t != nil && t.Count > 0 {
			out[k] = map[string]any{"count": t.Count, "period": t.Period}
		}
	}
	th("warn_after", f.WarnAfter)
	th("error_after", f.ErrorAfter)
	if f.Filter != "" {
		out["filter"] = f.Filter
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// mergeColumns lists the warehouse's columns in catalog order, each with
// the manifest's documentation of the same column (compared ignoring case:
// Snowflake catalogs are upper case, manifests lower), then the documented
// columns the catalog does not have, in manifest order.
func mergeColumns(doc []artifacts.Column, t *artifacts.CatalogTable) []store.NodeColumn {
	if len(doc) == 0 && (t == nil || len(t.Columns) == 0) {
		return nil
	}
	byName := make(map[string]int, len(doc))
	for i, c := range doc {
		k := strings.ToLower(c.Name)
		if _, dup := byName[k]; !dup {
			byName[k] = i
		}
	}
	used := make([]bool, len(doc))
	var out []store.NodeColumn
	if t != nil {
		for _, cc := range t.Columns {
			nc := store.NodeColumn{Name: cc.Name, Position: len(out) + 1, DataType: cc.Type, Description: cc.Comment}
			if i, ok := byName[strings.ToLower(cc.Name)]; ok && !used[i] {
				used[i] = true
				fillDoc(&nc, &doc[i])
			}
			out = append(out, nc)
		}
	}
	for i := range doc {
		if used[i] {
			continue
		}
		nc := store.NodeColumn{Name: doc[i].Name, Position: len(out) + 1, DataType: doc[i].DataType}
		fillDoc(&nc, &doc[i])
		out = append(out, nc)
	}
	return out
}

func fillDoc(nc *store.NodeColumn, c *artifacts.Column) {
	// The documented name is what the project's users wrote; the warehouse
	// spelling is what MatchColumns pairs it with.
	nc.Name = c.Name
	if c.Description != "" {
		nc.Description = c.Description
	}
	if nc.DataType == "" {
		nc.DataType = c.DataType
	}
	nc.Tags = c.Tags
	nc.Meta = marshalObject(c.Meta)
	if len(c.Constraints) > 0 {
		cs := make([]map[string]string, len(c.Constraints))
		for i, k := range c.Constraints {
			cs[i] = map[string]string{"type": k.Type}
			if k.Name != "" {
				cs[i]["name"] = k.Name
			}
			if k.Expression != "" {
				cs[i]["expression"] = k.Expression
			}
		}
		nc.Constraints, _ = json.Marshal(cs)
	}
}

func buildTest(n *artifacts.Node, es []execution) (store.CatalogTest, []store.TestResult) {
	t := store.CatalogTest{UniqueID: n.UniqueID, Name: n.Name, ResourceType: string(n.ResourceType), CompiledSQL: n.CompiledCode}
	if tm := n.Test; tm != nil {
		t.TestName, t.Namespace, t.AttachedUniqueID, t.ColumnName, t.Severity = tm.Name, tm.Namespace, tm.AttachedNode, tm.ColumnName, tm.Severity
		t.Kwargs = marshalObject(tm.Kwargs)
	}
	var hist []store.TestResult
	for i, e := range es {
		r := e.res
		var failures *int64
		if r.Failures != nil {
			f := int64(*r.Failures)
			failures = &f
		}
		if i == 0 {
			t.Status, t.Failures, t.Message, t.ExecutedAt, t.RunID, t.JobID = r.Status, failures, r.Message, e.at, e.runID, e.jobID
			if t.CompiledSQL == "" {
				t.CompiledSQL = r.CompiledCode
			}
		}
		hist = append(hist, store.TestResult{UniqueID: n.UniqueID, RunID: e.runID, Status: r.Status, Failures: failures,
			Message: r.Message, ExecutedAt: e.at, ExecutionTime: r.ExecutionTime})
	}
	return t, hist
}

// buildEdges returns the direct edges between lineage members and the
// through_ephemeral edges that contract ephemeral models, sorted.
func buildEdges(m *artifacts.Manifest, members map[string]*artifacts.Node) []store.CatalogEdge {
	parents := map[string][]string{}
	direct := map[[2]string]bool{}
	var edges []store.CatalogEdge
	for _, n := range m.Nodes {
		if n == nil || members[n.UniqueID] == nil {
			continue
		}
		for _, p := range n.DependsOnNodes {
			if members[p] == nil || p == n.UniqueID || direct[[2]string{p, n.UniqueID}] {
				continue
			}
			direct[[2]string{p, n.UniqueID}] = true
			parents[n.UniqueID] = append(parents[n.UniqueID], p)
			edges = append(edges, store.CatalogEdge{ParentID: p, ChildID: n.UniqueID, Kind: store.EdgeDirect})
		}
	}
	ephemeral := func(id string) bool { return members[id].ResourceType == artifacts.Model && members[id].Ephemeral() }
	for id, ps := range parents {
		if ephemeral(id) {
			continue
		}
		// Walk up through ephemeral parents only; every non-ephemeral node
		// met on the way is an upstream reached through ephemerals.
		seen := map[string]bool{}
		stack := []string{}
		for _, p := range ps {
			if ephemeral(p) {
				stack = append(stack, p)
			}
		}
		reached := map[string]bool{}
		for len(stack) > 0 {
			e := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[e] {
				continue
			}
			seen[e] = true
			for _, up := range parents[e] {
				if ephemeral(up) {
					stack = append(stack, up)
				} else {
					reached[up] = true
				}
			}
		}
		for up := range reached {
			if !direct[[2]string{up, id}] {
				edges = append(edges, store.CatalogEdge{ParentID: up, ChildID: id, Kind: store.EdgeThroughEphemeral})
			}
		}
	}
	slices.SortFunc(edges, func(a, b store.CatalogEdge) int {
		return cmp.Or(strings.Compare(a.ParentID, b.ParentID), strings.Compare(a.ChildID, b.ChildID), strings.Compare(a.Kind, b.Kind))
	})
	return edges
}

// marshalObject is the JSON of a non-empty object, nil when empty.
func marshalObject[M ~map[string]V, V any](m M) []byte {
	if len(m) == 0 {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		// Values come from JSON, so they marshal; keep the field empty
		// rather than fail a whole sync on one odd value.
		return nil
	}
	return b
}
