package catalog

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/dbtlink/dbtlink/artifacts"
	"github.com/dbtlink/dbtlink/dbtcloud"
)

// Sources a dbt Cloud sync reads dbt's metadata from.
const (
	// SourceArtifacts downloads manifest.json, run_results.json,
	// catalog.json and sources.json of the planned runs (Fetch).
	SourceArtifacts = "artifacts"
	// SourceDiscovery asks the Discovery (GraphQL) API instead
	// (FetchDiscovery).
	SourceDiscovery = "discovery"
)

// ParseSource checks a --source value.
func ParseSource(s string) (string, error) {
	switch s {
	case "", SourceArtifacts:
		return SourceArtifacts, nil
	case SourceDiscovery:
		return SourceDiscovery, nil
	}
	return "", fmt.Errorf("source %q: use %q (download the runs' artifacts) or %q (ask dbt Cloud's Discovery API)", s, SourceArtifacts, SourceDiscovery)
}

// NewCloudSource is the source of connection name, reading through the
// Admin API's artifacts or, with source SourceDiscovery, through the
// Discovery API at discoveryURL ("" derives it from the client's host).
func NewCloudSource(name string, accountID int64, client *dbtcloud.Client, source, discoveryURL string) (CloudSource, error) {
	src := CloudSource{Name: name, AccountID: accountID, Client: client}
	kind, err := ParseSource(source)
	if err != nil {
		return src, &InputError{Err: err}
	}
	if kind == SourceArtifacts {
		if discoveryURL != "" {
			return src, &InputError{Err: errors.New("a Discovery endpoint was given but the source is artifacts: add --source discovery, or drop the endpoint")}
		}
		return src, nil
	}
	var opts []dbtcloud.DiscoveryOption
	if discoveryURL != "" {
		opts = append(opts, dbtcloud.WithDiscoveryEndpoint(discoveryURL))
	}
	if src.Discovery, err = client.Discovery(opts...); err != nil {
		return src, &InputError{Err: fmt.Errorf("connection %s: %w", name, err)}
	}
	return src, nil
}

// fingerprint names a plan's inputs as read from this source: the same runs
// read through the other API are other inputs, so switching sources syncs
// again instead of reporting the scope unchanged.
func (src CloudSource) fingerprint(planned string) string {
	if src.Discovery != nil && planned != "" {
		return SourceDiscovery + ":" + planned
	}
	return planned
}

// fetch reads one environment's inputs from the source's chosen API.
func (src CloudSource) fetch(ctx context.Context, ep EnvPlan) (*Inputs, error) {
	if src.Discovery != nil {
		return FetchDiscovery(ctx, src.Client, src.Discovery, ep)
	}
	return Fetch(ctx, src.Client, ep)
}

// FetchDiscovery builds the Inputs Fetch would build from the same plan, but
// reads dbt's metadata through the Discovery API instead of downloading
// artifacts: the environment's applied state (models, seeds, snapshots,
// sources, tests with their catalog entries and freshness), its definition
// state (exposures, metrics, semantic models, groups) and, for every run the
// plan chose, the job-level results of that run, so that the history of
// node runs and test results is that of the same runs. The plan itself
// (projects, environments, jobs, runs) still comes from the Admin API.
//
// What the Discovery API does not carry is left empty, and is the only
// difference from a sync of the same runs' artifacts: the manifest's
// generated_at (the environment's lastUpdatedAt stands in), column
// constraints, saved queries, macros, and the compiled SQL a `dbt test`
// manifest lacks (taken from the run's results by the artifact path).
func FetchDiscovery(ctx context.Context, client *dbtcloud.Client, disco *dbtcloud.DiscoveryClient, ep EnvPlan) (*Inputs, error) {
	envID := ep.Environment.ID
	where := fmt.Sprintf("environment %q (%d) through the Discovery API (%s)", ep.Environment.Name, envID, disco.Endpoint())
	in := &Inputs{Fingerprint: CloudSource{Discovery: disco}.fingerprint(ep.Fingerprint)}
	in.Jobs, in.Runs = jobsAndRuns(client, ep)
	if len(ep.Manifests) == 0 {
		return nil, fmt.Errorf("fetch %s: %w (%d job(s) looked at); run a job of this environment, or exclude it", where, ErrNoRuns, len(ep.Jobs))
	}
	in.ManifestRunID = ep.Manifests[0].RunID
	env, err := disco.Environment(ctx, envID)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", where, err)
	}
	m := &artifacts.Manifest{Metadata: artifacts.Metadata{ProjectName: env.DbtProjectName, AdapterType: env.AdapterType}}
	if t := env.Applied.LastUpdatedAt; t != nil {
		m.Metadata.GeneratedAt = *t
	}
	cat := &artifacts.Catalog{}
	src := &artifacts.SourcesResults{}
	kinds := []dbtcloud.AppliedKind{dbtcloud.AppliedModels, dbtcloud.AppliedSeeds, dbtcloud.AppliedSnapshots, dbtcloud.AppliedSources,
		dbtcloud.AppliedTests, dbtcloud.AppliedExposures, dbtcloud.DefinitionMetrics, dbtcloud.DefinitionSemantic, dbtcloud.DefinitionSavedQuery}
	for _, k := range kinds {
		for a, err := range disco.List(ctx, envID, k, nil, dbtcloud.PageOptions{}) {
			if err != nil {
				return nil, fmt.Errorf("fetch %s: %s: %w", where, k, err)
			}
			n := nodeFromDiscovery(a)
			m.Nodes = append(m.Nodes, n)
			if a.DbtVersion != "" && m.Metadata.DBTVersion == "" {
				m.Metadata.DBTVersion = a.DbtVersion
			}
			if t := catalogTableFromDiscovery(a); t != nil {
				if n.ResourceType == artifacts.Source {
					cat.Sources = append(cat.Sources, t)
				} else {
					cat.Nodes = append(cat.Nodes, t)
				}
			}
			if fr := freshnessFromDiscovery(a); fr != nil {
				src.Results = append(src.Results, *fr)
				if a.Freshness.FreshnessRunID > in.SourcesRunID {
					in.SourcesRunID = a.Freshness.FreshnessRunID
				}
			}
		}
	}
	for g, err := range disco.List(ctx, envID, dbtcloud.DefinitionGroups, nil, dbtcloud.PageOptions{}) {
		if err != nil {
			return nil, fmt.Errorf("fetch %s: %s: %w", where, dbtcloud.DefinitionGroups, err)
		}
		m.Groups = append(m.Groups, &artifacts.GroupDef{UniqueID: g.UniqueID, Name: g.Name, OwnerName: g.OwnerName, OwnerEmail: g.OwnerEmail})
	}
	// A model's owner falls back to its group's owner, as the manifest reader does.
	owners := map[string]string{}
	for _, g := range m.Groups {
		owners[g.Name] = cmp.Or(g.OwnerName, g.OwnerEmail)
	}
	for _, n := range m.Nodes {
		if n.Owner == "" && n.Group != "" {
			n.Owner = owners[n.Group]
		}
	}
	in.Manifest = m
	if len(cat.Nodes)+len(cat.Sources) > 0 {
		in.Catalog = cat
	} else if len(ep.Catalogs) > 0 {
		in.Warnings = append(in.Warnings, "the Discovery API has no catalog for this environment yet (docs were not generated)")
	}
	if len(ep.Catalogs) == 0 {
		in.Warnings = append(in.Warnings, "no job generates docs: column types are the documented ones only (turn on \"Generate docs on run\" for a job)")
	}
	if len(src.Results) > 0 {
		in.Sources = src
	}
	// One job-level query per planned run: the results of all its steps at once.
	type runKey struct{ run, job int64 }
	seen := map[runKey]bool{}
	for _, ref := range ep.RunResults {
		k := runKey{ref.RunID, ref.JobID}
		if seen[k] {
			continue
		}
		seen[k] = true
		jr, err := disco.JobRun(ctx, ref.JobID, ref.RunID)
		if err != nil {
			return nil, fmt.Errorf("fetch %s: results of run %d (job %d): %w", where, ref.RunID, ref.JobID, err)
		}
		rr := &artifacts.RunResults{}
		for _, list := range [][]dbtcloud.RunNode{jr.Models, jr.Seeds, jr.Snapshots, jr.Tests} {
			for _, x := range list {
				if x.Status == "" {
					continue // in the run's manifest, not executed by it
				}
				rr.Results = append(rr.Results, resultFromDiscovery(x))
				if x.RunGeneratedAt != nil && x.RunGeneratedAt.After(rr.Metadata.GeneratedAt) {
					rr.Metadata.GeneratedAt = *x.RunGeneratedAt
				}
			}
		}
		in.Results = append(in.Results, RunResultsInput{RunID: ref.RunID, JobID: ref.JobID, RunFinishedAt: ref.RunFinishedAt, Results: rr})
	}
	return in, nil
}

func emptyNil[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

func nodeFromDiscovery(a *dbtcloud.AppliedNode) *artifacts.Node {
	n := &artifacts.Node{
		UniqueID: a.UniqueID, ResourceType: artifacts.ResourceType(a.ResourceType), PackageName: a.PackageName, Name: a.Name,
		Alias: cmp.Or(a.Alias, a.Identifier), Database: a.Database, Schema: a.Schema, RelationName: a.RelationName,
		Materialized: a.MaterializedType, Description: a.Description, Tags: emptyNil(a.Tags), Meta: a.Meta, Owner: a.Owner,
		Access: a.Access, Group: a.Group, Version: a.Version, ContractEnforced: a.ContractEnforced, Language: a.Language,
		RawCode: a.RawCode, CompiledCode: a.CompiledCode, OriginalFilePath: a.FilePath, PatchPath: a.PatchPath,
		FQN: emptyNil(a.FQN), DependsOnNodes: emptyNil(slices.Clone(a.ParentIDs)), Label: a.Label, Enabled: true,
	}
	for _, c := range a.Columns {
		n.Columns = append(n.Columns, artifacts.Column{Name: c.Name, Description: c.Description, DataType: c.Type, Tags: emptyNil(c.Tags), Meta: c.Meta})
	}
	switch n.ResourceType {
	case artifacts.Test, artifacts.UnitTest:
		t := &artifacts.TestMetadata{ColumnName: a.ColumnName, AttachedNode: a.TestedNodeUniqueID, Severity: a.Severity}
		if tm := a.TestMetadata; tm != nil {
			t.Name, t.Namespace, t.Kwargs = tm.Name, tm.Namespace, tm.Kwargs
		}
		n.Test = t
	case artifacts.Source:
		s := &artifacts.SourceInfo{SourceName: a.SourceName, SourceDescription: a.SourceDescription, Loader: a.Loader,
			Identifier: a.Identifier, LoadedAtField: a.LoadedAtField}
		if a.Freshness != nil {
			s.Freshness = freshnessCriteria(a.Freshness.Criteria)
		}
		n.Source = s
	case artifacts.Exposure:
		n.Exposure = &artifacts.ExposureInfo{Type: a.ExposureType, URL: a.URL, Maturity: a.Maturity, OwnerName: a.OwnerName, OwnerEmail: a.OwnerEmail}
	}
	return n
}

func freshnessCriteria(c *dbtcloud.FreshnessCriteria) *artifacts.Freshness {
	if c == nil {
		return nil
	}
	th := func(p *dbtcloud.FreshnessPeriod) *artifacts.FreshnessThreshold {
		if p == nil {
			return nil
		}
		return &artifacts.FreshnessThreshold{Count: p.Count, Period: p.Period}
	}
	return &artifacts.Freshness{WarnAfter: th(c.WarnAfter), ErrorAfter: th(c.ErrorAfter), Filter: c.Filter}
}

func catalogTableFromDiscovery(a *dbtcloud.AppliedNode) *artifacts.CatalogTable {
	c := a.Catalog
	if c == nil {
		return nil
	}
	t := &artifacts.CatalogTable{UniqueID: a.UniqueID, Type: c.Type, Database: a.Database, Schema: a.Schema,
		Name: cmp.Or(a.Alias, a.Identifier, a.Name), Comment: c.Comment, Owner: c.Owner}
	for _, col := range c.Columns {
		t.Columns = append(t.Columns, artifacts.CatalogColumn{Name: col.Name, Type: col.Type, Index: col.Index, Comment: col.Comment})
	}
	return t
}

func freshnessFromDiscovery(a *dbtcloud.AppliedNode) *artifacts.FreshnessResult {
	f := a.Freshness
	if f == nil || !f.FreshnessChecked || f.FreshnessStatus == "" {
		return nil
	}
	fr := &artifacts.FreshnessResult{UniqueID: a.UniqueID, Status: f.FreshnessStatus, RawStatus: f.FreshnessStatus,
		MaxLoadedAtTimeAgoInS: f.MaxLoadedAtTimeAgoInS, Criteria: freshnessCriteria(f.Criteria), Message: f.Error, Error: f.Error}
	if f.MaxLoadedAt != nil {
		fr.MaxLoadedAt = *f.MaxLoadedAt
	}
	if f.SnapshottedAt != nil {
		fr.SnapshottedAt = *f.SnapshottedAt
	}
	return fr
}

func resultFromDiscovery(x dbtcloud.RunNode) artifacts.NodeResult {
	r := artifacts.NodeResult{UniqueID: x.UniqueID, Status: x.Status, RawStatus: x.Status, Message: x.Error,
		Failures: x.Failures, ExecutionTime: x.ExecutionTime, CompiledCode: x.CompiledCode}
	if x.ExecuteCompletedAt != nil {
		t := artifacts.Timing{Name: "execute", CompletedAt: *x.ExecuteCompletedAt}
		if x.ExecuteStartedAt != nil {
			t.StartedAt = *x.ExecuteStartedAt
		}
		r.Timing = []artifacts.Timing{t}
	}
	return r
}
