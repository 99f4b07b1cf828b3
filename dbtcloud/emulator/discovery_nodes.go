package emulator

import (
	"slices"
	"strings"

	art "github.com/dbtlink/dbtlink/artifacts"
)

// nodeR resolves every applied, definition and lineage node type: they share most fields, and the schema decides
// which of them a type shows.
type nodeR struct {
	d     *discoEnv
	n     *art.Node
	group *art.GroupDef
}

func (r *nodeR) is(t art.ResourceType) (*nodeR, bool) { return r, r.n.ResourceType == t }

func (r *nodeR) ToModelAppliedStateNode() (*nodeR, bool)    { return r.is(art.Model) }
func (r *nodeR) ToSeedAppliedStateNode() (*nodeR, bool)     { return r.is(art.Seed) }
func (r *nodeR) ToSnapshotAppliedStateNode() (*nodeR, bool) { return r.is(art.Snapshot) }
func (r *nodeR) ToSourceAppliedStateNode() (*nodeR, bool)   { return r.is(art.Source) }
func (r *nodeR) ToTestAppliedStateNode() (*nodeR, bool) {
	return r, r.n.ResourceType == art.Test || r.n.ResourceType == art.UnitTest
}
func (r *nodeR) ToExposureAppliedStateNode() (*nodeR, bool) { return r.is(art.Exposure) }
func (r *nodeR) ToModelLineageNode() (*nodeR, bool)         { return r.is(art.Model) }
func (r *nodeR) ToSourceLineageNode() (*nodeR, bool)        { return r.is(art.Source) }
func (r *nodeR) ToSeedLineageNode() (*nodeR, bool)          { return r.is(art.Seed) }
func (r *nodeR) ToSnapshotLineageNode() (*nodeR, bool)      { return r.is(art.Snapshot) }
func (r *nodeR) ToTestLineageNode() (*nodeR, bool) {
	return r, r.n.ResourceType == art.Test || r.n.ResourceType == art.UnitTest
}
func (r *nodeR) ToExposureLineageNode() (*nodeR, bool)      { return r.is(art.Exposure) }
func (r *nodeR) ToMetricLineageNode() (*nodeR, bool)        { return r.is(art.Metric) }
func (r *nodeR) ToSemanticModelLineageNode() (*nodeR, bool) { return r.is(art.SemanticModel) }
func (r *nodeR) ToSavedQueryLineageNode() (*nodeR, bool)    { return r.is(art.SavedQuery) }
func (r *nodeR) ToMacroLineageNode() (*nodeR, bool)         { return r.is(art.MacroType) }
func (r *nodeR) ToLineageNodeWithParents() (*nodeR, bool) {
	switch r.n.ResourceType {
	case art.Source, art.Seed, art.MacroType:
		return r, false
	}
	return r, true
}

// dbtResourceType is the resourceType string the Discovery API writes: dbt's resource_type as in the manifest.
func (r *nodeR) ResourceType() string { return string(r.n.ResourceType) }
func (r *nodeR) UniqueId() string     { return r.n.UniqueID }
func (r *nodeR) Name() *string        { return strPtr(r.n.Name) }
func (r *nodeR) Description() *string { return strPtr(r.n.Description) }
func (r *nodeR) Tags() []string       { return nonNil(r.n.Tags) }
func (r *nodeR) Meta() *jsonObject    { return objPtr(r.n.Meta) }
func (r *nodeR) FilePath() string     { return cmpStr(r.n.OriginalFilePath, r.n.Path) }
func (r *nodeR) PackageName() *string { return strPtr(r.n.PackageName) }
func (r *nodeR) ProjectId() bigInt    { return bigInt(r.d.env.projectID) }
func (r *nodeR) AccountId() bigInt    { return bigInt(r.d.env.accountID) }
func (r *nodeR) EnvironmentId() bigInt {
	return bigInt(r.d.env.id)
}
func (r *nodeR) Fqn() []string         { return nonNil(r.n.FQN) }
func (r *nodeR) Database() *string     { return strPtr(r.n.Database) }
func (r *nodeR) Schema() *string       { return strPtr(r.n.Schema) }
func (r *nodeR) Alias() *string        { return strPtr(r.n.Alias) }
func (r *nodeR) RelationName() *string { return strPtr(r.n.RelationName) }
func (r *nodeR) MaterializedType() *string {
	return strPtr(r.n.Materialized)
}
func (r *nodeR) MaterializationType() *string { return strPtr(r.n.Materialized) }
func (r *nodeR) Access() *string              { return strPtr(r.n.Access) }
func (r *nodeR) Group() *string               { return strPtr(r.n.Group) }
func (r *nodeR) Owner() *string               { return strPtr(r.n.Owner) }
func (r *nodeR) Version() *string             { return strPtr(r.n.Version) }
func (r *nodeR) ContractEnforced() *bool      { v := r.n.ContractEnforced; return &v }
func (r *nodeR) Language() *string            { return strPtr(r.n.Language) }
func (r *nodeR) RawCode() *string             { return strPtr(r.n.RawCode) }
func (r *nodeR) CompiledCode() *string        { return strPtr(r.n.CompiledCode) }
func (r *nodeR) PatchPath() *string           { return strPtr(r.n.PatchPath) }
func (r *nodeR) DbtVersion() *string          { return strPtr(r.d.manifest.Metadata.DBTVersion) }
func (r *nodeR) MatchesMethod() *bool         { return nil }
func (r *nodeR) Label() *string               { return strPtr(r.n.Label) }

// Config holds the configured values dbt resolves into the node's fields, as far as package artifacts keeps them.
func (r *nodeR) Config() *jsonObject {
	c := map[string]any{}
	if r.n.Materialized != "" {
		c["materialized"] = r.n.Materialized
	}
	if r.n.ConfigSchema != "" {
		c["schema"] = r.n.ConfigSchema
	}
	if r.n.ConfigAlias != "" {
		c["alias"] = r.n.ConfigAlias
	}
	if r.n.ConfigDatabase != "" {
		c["database"] = r.n.ConfigDatabase
	}
	return objPtr(c)
}

func (r *nodeR) ParentIds() []string { return nonNil(slices.Clone(r.n.DependsOnNodes)) }

func (r *nodeR) Columns() []*docColumnR {
	out := make([]*docColumnR, len(r.n.Columns))
	for i := range r.n.Columns {
		out[i] = &docColumnR{c: &r.n.Columns[i]}
	}
	return out
}

// Catalog is the newest catalog.json entry of the node, nil when no docs run has described it.
func (r *nodeR) Catalog() *catalogR {
	t := r.d.catalog.Table(r.n.UniqueID)
	if t == nil {
		return nil
	}
	return &catalogR{t: t, n: r.n}
}

func (r *nodeR) ExecutionInfo() *execInfoR {
	return &execInfoR{x: r.d.last[r.n.UniqueID], ok: r.d.lastSuccess[r.n.UniqueID]}
}

func (r *nodeR) LastRunStatus() *string {
	if x := r.d.last[r.n.UniqueID]; x != nil {
		return strPtr(x.status)
	}
	return nil
}

func (r *nodeR) Tests() []*nodeR {
	out := []*nodeR{}
	for _, t := range r.d.testsOf[r.n.UniqueID] {
		out = append(out, &nodeR{d: r.d, n: t})
	}
	return out
}

// Source fields.
func (r *nodeR) Identifier() *string { return strPtr(r.n.Alias) }
func (r *nodeR) SourceName() string {
	if r.n.Source == nil {
		return ""
	}
	return r.n.Source.SourceName
}
func (r *nodeR) SourceDescription() *string {
	if r.n.Source == nil {
		return nil
	}
	return strPtr(r.n.Source.SourceDescription)
}
func (r *nodeR) Loader() *string {
	if r.n.Source == nil {
		return nil
	}
	return strPtr(r.n.Source.Loader)
}
func (r *nodeR) LoadedAtField() *string {
	if r.n.Source == nil {
		return nil
	}
	return strPtr(r.n.Source.LoadedAtField)
}
func (r *nodeR) Freshness() *freshnessR {
	var crit *art.Freshness
	if r.n.Source != nil {
		crit = r.n.Source.Freshness
	}
	return &freshnessR{f: r.d.fresh[r.n.UniqueID], crit: crit}
}

// Test fields.
func (r *nodeR) ColumnName() *string {
	if r.n.Test == nil {
		return nil
	}
	return strPtr(r.n.Test.ColumnName)
}
func (r *nodeR) TestType() *string {
	if r.n.Test == nil {
		return nil
	}
	if r.n.ResourceType == art.UnitTest {
		return strPtr("UNIT_TEST")
	}
	if r.n.Test.Name != "" {
		return strPtr("GENERIC_DATA_TEST")
	}
	return strPtr("SINGULAR_DATA_TEST")
}
func (r *nodeR) Severity() *string {
	if r.n.Test == nil {
		return nil
	}
	return strPtr(r.n.Test.Severity)
}
func (r *nodeR) TestedNodeUniqueId() *string {
	if r.n.Test == nil {
		return nil
	}
	return strPtr(r.n.Test.AttachedNode)
}
func (r *nodeR) TestMetadata() *testMetaR {
	if r.n.Test == nil || r.n.Test.Name == "" {
		return nil
	}
	return &testMetaR{t: r.n.Test}
}

// Exposure fields.
func (r *nodeR) exposure() *art.ExposureInfo {
	if r.n.Exposure == nil {
		return &art.ExposureInfo{}
	}
	return r.n.Exposure
}
func (r *nodeR) ExposureType() *string { return strPtr(r.exposure().Type) }
func (r *nodeR) Maturity() *string     { return strPtr(r.exposure().Maturity) }
func (r *nodeR) Url() *string          { return strPtr(r.exposure().URL) }
func (r *nodeR) OwnerName() *string {
	if r.group != nil {
		return strPtr(r.group.OwnerName)
	}
	return strPtr(r.exposure().OwnerName)
}
func (r *nodeR) OwnerEmail() *string {
	if r.group != nil {
		return strPtr(r.group.OwnerEmail)
	}
	return strPtr(r.exposure().OwnerEmail)
}

func cmpStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

type testMetaR struct{ t *art.TestMetadata }

func (t *testMetaR) Name() *string      { return strPtr(t.t.Name) }
func (t *testMetaR) Namespace() *string { return strPtr(t.t.Namespace) }
func (t *testMetaR) Kwargs() *jsonObject {
	return objPtr(t.t.Kwargs)
}
func (t *testMetaR) ColumnName() *string { return strPtr(t.t.ColumnName) }

type docColumnR struct{ c *art.Column }

func (c *docColumnR) Name() string         { return c.c.Name }
func (c *docColumnR) Description() *string { return strPtr(c.c.Description) }
func (c *docColumnR) Type() *string        { return strPtr(c.c.DataType) }
func (c *docColumnR) Tags() []string       { return nonNil(c.c.Tags) }
func (c *docColumnR) Meta() *jsonObject    { return objPtr(c.c.Meta) }

// catalogR is a node's catalog entry; its columns carry the documentation of the same column, as dbt Cloud's do.
type catalogR struct {
	t *art.CatalogTable
	n *art.Node
}

func (c *catalogR) Type() *string    { return strPtr(c.t.Type) }
func (c *catalogR) Owner() *string   { return strPtr(c.t.Owner) }
func (c *catalogR) Comment() *string { return strPtr(c.t.Comment) }
func (c *catalogR) Columns() *[]*catalogColumnR {
	out := catalogColumns(c.t, c.n)
	return &out
}

func catalogColumns(t *art.CatalogTable, n *art.Node) []*catalogColumnR {
	out := make([]*catalogColumnR, 0, len(t.Columns))
	for i := range t.Columns {
		cc := &catalogColumnR{c: &t.Columns[i]}
		if n != nil {
			for j := range n.Columns {
				if strings.EqualFold(n.Columns[j].Name, cc.c.Name) {
					cc.doc = &n.Columns[j]
					break
				}
			}
		}
		out = append(out, cc)
	}
	return out
}

type catalogColumnR struct {
	c   *art.CatalogColumn
	doc *art.Column
}

func (c *catalogColumnR) Name() string     { return c.c.Name }
func (c *catalogColumnR) Index() *int32    { v := int32(c.c.Index); return &v }
func (c *catalogColumnR) Type() *string    { return strPtr(c.c.Type) }
func (c *catalogColumnR) Comment() *string { return strPtr(c.c.Comment) }
func (c *catalogColumnR) Description() *string {
	if c.doc == nil {
		return nil
	}
	return strPtr(c.doc.Description)
}
func (c *catalogColumnR) Tags() []string {
	if c.doc == nil {
		return []string{}
	}
	return nonNil(c.doc.Tags)
}
func (c *catalogColumnR) Meta() *jsonObject {
	if c.doc == nil {
		return objPtr(nil)
	}
	return objPtr(c.doc.Meta)
}

// execInfoR is ModelExecutionInfoNode and TestExecutionInfoNode: the node's last execution (x, nil if it never ran)
// and its last successful one (ok).
type execInfoR struct{ x, ok *discoExec }

func (e *execInfoR) LastRunId() *bigInt {
	if e.x == nil {
		return nil
	}
	return bigPtr(e.x.runID)
}
func (e *execInfoR) LastJobDefinitionId() *bigInt {
	if e.x == nil {
		return nil
	}
	return bigPtr(e.x.jobID)
}
func (e *execInfoR) LastRunStatus() *string {
	if e.x == nil {
		return nil
	}
	return strPtr(e.x.status)
}
func (e *execInfoR) LastRunError() *string {
	if e.x == nil || e.x.status == "success" || e.x.status == "pass" {
		return nil
	}
	return strPtr(e.x.message)
}
func (e *execInfoR) LastRunFailures() *int32 {
	if e.x == nil || e.x.failures == nil {
		return nil
	}
	v := int32(*e.x.failures)
	return &v
}
func (e *execInfoR) LastRunGeneratedAt() *dateTime {
	if e.x == nil {
		return nil
	}
	return timePtr(e.x.generatedAt)
}
func (e *execInfoR) LastSuccessRunId() *bigInt {
	if e.ok == nil {
		return nil
	}
	return bigPtr(e.ok.runID)
}
func (e *execInfoR) LastSuccessJobDefinitionId() *bigInt {
	if e.ok == nil {
		return nil
	}
	return bigPtr(e.ok.jobID)
}
func (e *execInfoR) ExecuteStartedAt() *dateTime {
	if e.x == nil {
		return nil
	}
	return timePtr(e.x.executeStartedAt)
}
func (e *execInfoR) ExecuteCompletedAt() *dateTime {
	if e.x == nil {
		return nil
	}
	return timePtr(e.x.executeCompletedAt)
}
func (e *execInfoR) CompileStartedAt() *dateTime {
	if e.x == nil {
		return nil
	}
	return timePtr(e.x.compileStartedAt)
}
func (e *execInfoR) CompileCompletedAt() *dateTime {
	if e.x == nil {
		return nil
	}
	return timePtr(e.x.compileCompletedAt)
}
func (e *execInfoR) ExecutionTime() *float64 {
	if e.x == nil {
		return nil
	}
	v := e.x.executionTime
	return &v
}
func (e *execInfoR) RunElapsedTime() *float64 {
	if e.x == nil {
		return nil
	}
	v := e.x.runElapsed
	return &v
}

type freshnessR struct {
	f    *discoFresh
	crit *art.Freshness
}

func (f *freshnessR) MaxLoadedAt() *dateTime {
	if f.f == nil {
		return nil
	}
	return timePtr(f.f.res.MaxLoadedAt)
}
func (f *freshnessR) MaxLoadedAtTimeAgoInS() *float64 {
	if f.f == nil {
		return nil
	}
	v := f.f.res.MaxLoadedAtTimeAgoInS
	return &v
}
func (f *freshnessR) SnapshottedAt() *dateTime {
	if f.f == nil {
		return nil
	}
	return timePtr(f.f.res.SnapshottedAt)
}
func (f *freshnessR) FreshnessStatus() *string {
	if f.f == nil {
		return nil
	}
	return strPtr(f.f.res.Status)
}
func (f *freshnessR) FreshnessRunId() *bigInt {
	if f.f == nil {
		return nil
	}
	return bigPtr(f.f.runID)
}
func (f *freshnessR) FreshnessJobDefinitionId() *bigInt {
	if f.f == nil {
		return nil
	}
	return bigPtr(f.f.jobID)
}
func (f *freshnessR) FreshnessRunGeneratedAt() *dateTime {
	if f.f == nil {
		return nil
	}
	return timePtr(f.f.runGeneratedAt)
}
func (f *freshnessR) FreshnessChecked() *bool { v := f.f != nil; return &v }
func (f *freshnessR) Error() *string {
	if f.f == nil || f.f.res.Status == "pass" {
		return nil
	}
	return strPtr(cmpStr(f.f.res.Message, f.f.res.Error))
}

// Criteria are those the check applied, else those the project configures.
func (f *freshnessR) Criteria() *criteriaR {
	c := f.crit
	if f.f != nil && f.f.res.Criteria != nil {
		c = f.f.res.Criteria
	}
	if c == nil {
		return nil
	}
	return &criteriaR{c: c}
}

type criteriaR struct{ c *art.Freshness }

func (c *criteriaR) WarnAfter() *thresholdR  { return threshold(c.c.WarnAfter) }
func (c *criteriaR) ErrorAfter() *thresholdR { return threshold(c.c.ErrorAfter) }
func (c *criteriaR) Filter() *string         { return strPtr(c.c.Filter) }

func threshold(t *art.FreshnessThreshold) *thresholdR {
	if t == nil {
		return nil
	}
	return &thresholdR{t: t}
}

type thresholdR struct{ t *art.FreshnessThreshold }

func (t *thresholdR) Count() *int32 {
	if t.t.Count == 0 {
		return nil
	}
	v := int32(t.t.Count)
	return &v
}
func (t *thresholdR) Period() *string { return strPtr(t.t.Period) }
