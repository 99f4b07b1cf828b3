package emulator

import (
	"slices"

	art "github.com/dbtlink/dbtlink/artifacts"
)

// jobR is the job-level endpoint, job(id, runId): the nodes of one run, each with that run's result.
type jobR struct {
	d     *discoEnv
	r     *discoRun
	jobID int64
}

func (j *jobR) Id() bigInt    { return bigInt(j.jobID) }
func (j *jobR) RunId() bigInt { return bigInt(j.r.id) }

type uniqueIDsArgs struct{ UniqueIds *[]string }

func (j *jobR) nodes(args uniqueIDsArgs, types ...art.ResourceType) []*runNodeR {
	out := []*runNodeR{}
	for _, n := range j.d.nodesOf(types...) {
		if args.UniqueIds != nil && !slices.Contains(*args.UniqueIds, n.UniqueID) {
			continue
		}
		out = append(out, &runNodeR{d: j.d, n: n, r: j.r, x: j.r.results[n.UniqueID]})
	}
	return out
}

func (j *jobR) Models(args uniqueIDsArgs) []*runNodeR    { return j.nodes(args, art.Model) }
func (j *jobR) Seeds(args uniqueIDsArgs) []*runNodeR     { return j.nodes(args, art.Seed) }
func (j *jobR) Snapshots(args uniqueIDsArgs) []*runNodeR { return j.nodes(args, art.Snapshot) }
func (j *jobR) Sources(args uniqueIDsArgs) []*runNodeR   { return j.nodes(args, art.Source) }
func (j *jobR) Tests(args uniqueIDsArgs) []*runNodeR     { return j.nodes(args, art.Test, art.UnitTest) }

// runNodeR is ModelNode, SourceNode and TestNode: a node as one run saw it. x is the run's execution of it, nil
// when the run did not execute it.
type runNodeR struct {
	d *discoEnv
	n *art.Node
	r *discoRun
	x *discoExec
}

func (r *runNodeR) node() *nodeR { return &nodeR{d: r.d, n: r.n} }

func (r *runNodeR) RunId() *bigInt {
	if r.r == nil {
		return nil
	}
	return bigPtr(r.r.id)
}
func (r *runNodeR) JobId() *bigInt {
	if r.r == nil {
		return nil
	}
	return bigPtr(r.r.jobID)
}
func (r *runNodeR) AccountId() bigInt     { return bigInt(r.d.env.accountID) }
func (r *runNodeR) ProjectId() bigInt     { return bigInt(r.d.env.projectID) }
func (r *runNodeR) EnvironmentId() bigInt { return bigInt(r.d.env.id) }
func (r *runNodeR) ResourceType() string  { return string(r.n.ResourceType) }
func (r *runNodeR) UniqueId() string      { return r.n.UniqueID }
func (r *runNodeR) Name() *string         { return strPtr(r.n.Name) }
func (r *runNodeR) Description() *string  { return strPtr(r.n.Description) }
func (r *runNodeR) Meta() *jsonObject     { return objPtr(r.n.Meta) }
func (r *runNodeR) Tags() []string        { return nonNil(r.n.Tags) }
func (r *runNodeR) Database() *string     { return strPtr(r.n.Database) }
func (r *runNodeR) Schema() *string       { return strPtr(r.n.Schema) }
func (r *runNodeR) Alias() *string        { return strPtr(r.n.Alias) }
func (r *runNodeR) Identifier() *string   { return strPtr(r.n.Alias) }
func (r *runNodeR) PackageName() *string  { return strPtr(r.n.PackageName) }
func (r *runNodeR) MaterializedType() *string {
	return strPtr(r.n.Materialized)
}
func (r *runNodeR) DependsOn() []string        { return nonNil(slices.Clone(r.n.DependsOnNodes)) }
func (r *runNodeR) RawSql() *string            { return strPtr(r.n.RawCode) }
func (r *runNodeR) RawCode() *string           { return strPtr(r.n.RawCode) }
func (r *runNodeR) SourceName() *string        { return strPtr(r.node().SourceName()) }
func (r *runNodeR) SourceDescription() *string { return r.node().SourceDescription() }
func (r *runNodeR) Loader() *string            { return r.node().Loader() }
func (r *runNodeR) ColumnName() *string        { return r.node().ColumnName() }

func (r *runNodeR) DbtVersion() *string {
	if r.r != nil && r.r.dbtVersion != "" {
		return strPtr(r.r.dbtVersion)
	}
	return strPtr(r.d.manifest.Metadata.DBTVersion)
}

// CompiledCode is the manifest's, else what the run's results carry.
func (r *runNodeR) CompiledCode() *string {
	if r.n.CompiledCode != "" {
		return strPtr(r.n.CompiledCode)
	}
	if r.x != nil {
		return strPtr(r.x.compiledCode)
	}
	return nil
}
func (r *runNodeR) CompiledSql() *string { return r.CompiledCode() }

// The catalog fields are the run's own catalog.json, if the run generated docs.
func (r *runNodeR) table() *art.CatalogTable {
	if r.r == nil {
		return nil
	}
	return r.r.catalog.Table(r.n.UniqueID)
}
func (r *runNodeR) Type() *string {
	if t := r.table(); t != nil {
		return strPtr(t.Type)
	}
	return nil
}
func (r *runNodeR) Owner() *string {
	if t := r.table(); t != nil && t.Owner != "" {
		return strPtr(t.Owner)
	}
	return strPtr(r.n.Owner)
}
func (r *runNodeR) Comment() *string {
	if t := r.table(); t != nil {
		return strPtr(t.Comment)
	}
	return nil
}
func (r *runNodeR) Columns() []*catalogColumnR {
	if t := r.table(); t != nil {
		return catalogColumns(t, r.n)
	}
	return []*catalogColumnR{}
}

func (r *runNodeR) Status() *string {
	if r.x == nil {
		return nil
	}
	return strPtr(r.x.status)
}

// State is a test's status, and a source's freshness status (as DataHub's job-level query reads it).
func (r *runNodeR) State() *string {
	if r.n.ResourceType == art.Source {
		if f := r.fresh(); f != nil {
			return strPtr(f.Status)
		}
		return nil
	}
	return r.Status()
}
func (r *runNodeR) Error() *string {
	if r.x == nil || r.x.status == "success" || r.x.status == "pass" {
		return nil
	}
	return strPtr(r.x.message)
}
func (r *runNodeR) Failures() *int32 {
	if r.x == nil || r.x.failures == nil {
		return nil
	}
	v := int32(*r.x.failures)
	return &v
}
func (r *runNodeR) flag(status string) *bool {
	if r.x == nil {
		return nil
	}
	v := r.x.status == status
	return &v
}
func (r *runNodeR) Fail() *bool { return r.flag("fail") }
func (r *runNodeR) Warn() *bool { return r.flag("warn") }
func (r *runNodeR) Skip() *bool { return r.flag("skipped") }
func (r *runNodeR) ExecutionTime() *float64 {
	if r.x == nil {
		return nil
	}
	v := r.x.executionTime
	return &v
}
func (r *runNodeR) ExecuteStartedAt() *dateTime {
	if r.x == nil {
		return nil
	}
	return timePtr(r.x.executeStartedAt)
}
func (r *runNodeR) ExecuteCompletedAt() *dateTime {
	if r.x == nil {
		return nil
	}
	return timePtr(r.x.executeCompletedAt)
}
func (r *runNodeR) RunGeneratedAt() *dateTime {
	if r.x == nil {
		return nil
	}
	return timePtr(r.x.generatedAt)
}
func (r *runNodeR) RunElapsedTime() *float64 {
	if r.x == nil {
		return nil
	}
	v := r.x.runElapsed
	return &v
}

// Tests are the tests attached to the node, with this run's results.
func (r *runNodeR) Tests() []*runNodeR {
	out := []*runNodeR{}
	for _, t := range r.d.testsOf[r.n.UniqueID] {
		var x *discoExec
		if r.r != nil {
			x = r.r.results[t.UniqueID]
		}
		out = append(out, &runNodeR{d: r.d, n: t, r: r.r, x: x})
	}
	return out
}

// Source freshness as this run checked it.
func (r *runNodeR) fresh() *art.FreshnessResult {
	if r.r == nil || r.r.sources == nil {
		return nil
	}
	for i := range r.r.sources.Results {
		if r.r.sources.Results[i].UniqueID == r.n.UniqueID {
			return &r.r.sources.Results[i]
		}
	}
	return nil
}
func (r *runNodeR) MaxLoadedAt() *dateTime {
	if f := r.fresh(); f != nil {
		return timePtr(f.MaxLoadedAt)
	}
	return nil
}
func (r *runNodeR) SnapshottedAt() *dateTime {
	if f := r.fresh(); f != nil {
		return timePtr(f.SnapshottedAt)
	}
	return nil
}
func (r *runNodeR) MaxLoadedAtTimeAgoInS() *float64 {
	if f := r.fresh(); f != nil {
		v := f.MaxLoadedAtTimeAgoInS
		return &v
	}
	return nil
}
func (r *runNodeR) FreshnessChecked() *bool { v := r.fresh() != nil; return &v }
func (r *runNodeR) Criteria() *criteriaR {
	var run *discoFresh
	if f := r.fresh(); f != nil {
		run = &discoFresh{res: f}
	}
	return (&freshnessR{f: run, crit: r.node().Freshness().crit}).Criteria()
}
