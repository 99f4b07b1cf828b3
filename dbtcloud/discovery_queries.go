package dbtcloud

import (
	"context"
	"fmt"
	"iter"
	"time"
)

// The typed queries ask for the fields dbt's Discovery API documents for each node type (see the emulator's
// schema for the list and where the names come from). Each iterator pages with first/after until
// pageInfo.hasNextPage is false, and stops with an error if the server hands back the same cursor twice.

// DiscoveryPageSize is the page size the iterators ask for unless told otherwise.
const DiscoveryPageSize = 100

// PageInfo is a relay connection's pageInfo.
type PageInfo struct {
	HasNextPage bool   `json:"hasNextPage"`
	EndCursor   string `json:"endCursor"`
}

type connection[T any] struct {
	TotalCount int      `json:"totalCount"`
	PageInfo   PageInfo `json:"pageInfo"`
	Edges      []struct {
		Node T `json:"node"`
	} `json:"edges"`
}

// DiscoveryColumn is a catalog column with the documentation of the same column.
type DiscoveryColumn struct {
	Name        string         `json:"name"`
	Index       int            `json:"index"`
	Type        string         `json:"type"`
	Comment     string         `json:"comment"`
	Description string         `json:"description"`
	Tags        []string       `json:"tags"`
	Meta        map[string]any `json:"meta"`
}

// DiscoveryCatalog is a node's catalog entry (from the newest docs run).
type DiscoveryCatalog struct {
	Type    string            `json:"type"`
	Owner   string            `json:"owner"`
	Comment string            `json:"comment"`
	Columns []DiscoveryColumn `json:"columns"`
}

// DocColumn is a column as the project documents it.
type DocColumn struct {
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Type        string         `json:"type"`
	Tags        []string       `json:"tags"`
	Meta        map[string]any `json:"meta"`
}

// ExecutionInfo is a node's last execution in the environment.
type ExecutionInfo struct {
	LastRunID           int64      `json:"lastRunId"`
	LastJobDefinitionID int64      `json:"lastJobDefinitionId"`
	LastRunStatus       string     `json:"lastRunStatus"`
	LastRunError        string     `json:"lastRunError"`
	LastRunFailures     *int       `json:"lastRunFailures"`
	LastRunGeneratedAt  *time.Time `json:"lastRunGeneratedAt"`
	LastSuccessRunID    int64      `json:"lastSuccessRunId"`
	ExecuteStartedAt    *time.Time `json:"executeStartedAt"`
	ExecuteCompletedAt  *time.Time `json:"executeCompletedAt"`
	ExecutionTime       float64    `json:"executionTime"`
}

// FreshnessCriteria is a source's warn_after/error_after.
type FreshnessCriteria struct {
	WarnAfter  *FreshnessPeriod `json:"warnAfter"`
	ErrorAfter *FreshnessPeriod `json:"errorAfter"`
	Filter     string           `json:"filter"`
}

// FreshnessPeriod is "count period".
type FreshnessPeriod struct {
	Count  int    `json:"count"`
	Period string `json:"period"`
}

// SourceFreshness is a source's newest freshness check.
type SourceFreshness struct {
	MaxLoadedAt           *time.Time         `json:"maxLoadedAt"`
	MaxLoadedAtTimeAgoInS float64            `json:"maxLoadedAtTimeAgoInS"`
	SnapshottedAt         *time.Time         `json:"snapshottedAt"`
	FreshnessStatus       string             `json:"freshnessStatus"`
	FreshnessRunID        int64              `json:"freshnessRunId"`
	FreshnessChecked      bool               `json:"freshnessChecked"`
	Criteria              *FreshnessCriteria `json:"criteria"`
	Error                 string             `json:"error"`
}

// TestMetadata is a generic test's name, namespace and arguments.
type TestMetadata struct {
	Name       string         `json:"name"`
	Namespace  string         `json:"namespace"`
	Kwargs     map[string]any `json:"kwargs"`
	ColumnName string         `json:"columnName"`
}

// AppliedNode is a node of an environment's applied (or definition) state.
// One type serves every resource type; fields that do not apply stay empty.
type AppliedNode struct {
	UniqueID     string         `json:"uniqueId"`
	Name         string         `json:"name"`
	ResourceType string         `json:"resourceType"`
	Description  string         `json:"description"`
	Tags         []string       `json:"tags"`
	Meta         map[string]any `json:"meta"`
	FilePath     string         `json:"filePath"`
	PackageName  string         `json:"packageName"`
	FQN          []string       `json:"fqn"`
	ParentIDs    []string       `json:"parentIds"`

	Database         string            `json:"database"`
	Schema           string            `json:"schema"`
	Alias            string            `json:"alias"`
	Identifier       string            `json:"identifier"`
	RelationName     string            `json:"relationName"`
	MaterializedType string            `json:"materializedType"`
	Access           string            `json:"access"`
	Group            string            `json:"group"`
	Owner            string            `json:"owner"`
	Version          string            `json:"version"`
	ContractEnforced bool              `json:"contractEnforced"`
	Language         string            `json:"language"`
	RawCode          string            `json:"rawCode"`
	CompiledCode     string            `json:"compiledCode"`
	PatchPath        string            `json:"patchPath"`
	DbtVersion       string            `json:"dbtVersion"`
	Columns          []DocColumn       `json:"columns"`
	Catalog          *DiscoveryCatalog `json:"catalog"`
	ExecutionInfo    *ExecutionInfo    `json:"executionInfo"`

	SourceName        string           `json:"sourceName"`
	SourceDescription string           `json:"sourceDescription"`
	Loader            string           `json:"loader"`
	LoadedAtField     string           `json:"loadedAtField"`
	Freshness         *SourceFreshness `json:"freshness"`

	ColumnName         string        `json:"columnName"`
	TestType           string        `json:"testType"`
	Severity           string        `json:"severity"`
	TestedNodeUniqueID string        `json:"testedNodeUniqueId"`
	TestMetadata       *TestMetadata `json:"testMetadata"`

	Label        string `json:"label"`
	ExposureType string `json:"exposureType"`
	Maturity     string `json:"maturity"`
	URL          string `json:"url"`
	OwnerName    string `json:"ownerName"`
	OwnerEmail   string `json:"ownerEmail"`
}

const (
	fCommon    = `uniqueId name resourceType description tags meta filePath packageName fqn`
	fCatalog   = `catalog { type owner comment columns { name index type comment description tags meta } }`
	fDocCols   = `columns { name description type tags meta }`
	fExecution = `executionInfo { lastRunId lastJobDefinitionId lastRunStatus lastRunError lastRunGeneratedAt lastSuccessRunId executeStartedAt executeCompletedAt executionTime }`
	fModel     = fCommon + ` database schema alias relationName materializedType access group owner version contractEnforced language rawCode compiledCode patchPath dbtVersion parentIds ` + fDocCols + " " + fCatalog + " " + fExecution
	fSeed      = fCommon + ` database schema alias relationName materializedType group owner rawCode patchPath ` + fDocCols + " " + fCatalog + " " + fExecution
	fSnapshot  = fSeed + ` compiledCode parentIds`
	fSource    = fCommon + ` database schema identifier relationName sourceName sourceDescription loader loadedAtField owner ` + fDocCols + " " + fCatalog +
		` freshness { maxLoadedAt maxLoadedAtTimeAgoInS snapshottedAt freshnessStatus freshnessRunId freshnessChecked error criteria { warnAfter { count period } errorAfter { count period } filter } }`
	fTest = fCommon + ` columnName testType severity rawCode compiledCode testedNodeUniqueId parentIds testMetadata { name namespace kwargs columnName }
		executionInfo { lastRunId lastJobDefinitionId lastRunStatus lastRunError lastRunFailures lastRunGeneratedAt executeStartedAt executeCompletedAt executionTime }`
	fExposure   = fCommon + ` label exposureType maturity url ownerName ownerEmail parentIds`
	fDefinition = fCommon + ` label group owner parentIds`
)

// AppliedKind names one paged list of an environment: where it lives
// (applied or definition), its field and the fields asked for.
type AppliedKind struct {
	state, field, filterType, fields string
}

// The lists the iterators can walk.
var (
	AppliedModels        = AppliedKind{"applied", "models", "ModelAppliedFilter", fModel}
	AppliedSeeds         = AppliedKind{"applied", "seeds", "GenericMaterializedFilter", fSeed}
	AppliedSnapshots     = AppliedKind{"applied", "snapshots", "GenericMaterializedFilter", fSnapshot}
	AppliedSources       = AppliedKind{"applied", "sources", "SourceAppliedFilter", fSource}
	AppliedTests         = AppliedKind{"applied", "tests", "TestAppliedFilter", fTest}
	AppliedExposures     = AppliedKind{"applied", "exposures", "ExposureFilter", fExposure}
	DefinitionMetrics    = AppliedKind{"definition", "metrics", "GenericDefinitionFilter", fDefinition}
	DefinitionSemantic   = AppliedKind{"definition", "semanticModels", "GenericDefinitionFilter", fDefinition}
	DefinitionSavedQuery = AppliedKind{"definition", "savedQueries", "GenericDefinitionFilter", fDefinition}
	DefinitionGroups     = AppliedKind{"definition", "groups", "GenericDefinitionFilter", `uniqueId name ownerName ownerEmail`}
	DefinitionExposures  = AppliedKind{"definition", "exposures", "ExposureFilter", fExposure}
)

// String names the list ("applied.models").
func (k AppliedKind) String() string { return k.state + "." + k.field }

// AppliedFilter narrows a list; nil fields are not sent. Not every list
// takes every field (see dbt's filter input types).
type AppliedFilter struct {
	UniqueIDs  []string `json:"uniqueIds,omitempty"`
	Identifier string   `json:"identifier,omitempty"`
	Database   string   `json:"database,omitempty"`
	Schema     string   `json:"schema,omitempty"`
	Tags       []string `json:"tags,omitempty"`
}

// PageOptions sets the page size (0 means DiscoveryPageSize).
type PageOptions struct {
	First int
}

func (k AppliedKind) query() string {
	return fmt.Sprintf(`query %s($environmentId: BigInt!, $first: Int, $after: String, $filter: %s) {
  environment(id: $environmentId) { %s { %s(first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { %s } } } } } }`,
		opName(k), k.filterType, k.state, k.field, k.fields)
}

func opName(k AppliedKind) string {
	return "Environment_" + k.state + "_" + k.field
}

// List walks one list of environment envID, page by page.
func (d *DiscoveryClient) List(ctx context.Context, envID int64, k AppliedKind, f *AppliedFilter, po PageOptions) iter.Seq2[*AppliedNode, error] {
	q := k.query()
	return func(yield func(*AppliedNode, error) bool) {
		if err := checkID("environment", envID); err != nil {
			yield(nil, err)
			return
		}
		first := po.First
		if first <= 0 {
			first = DiscoveryPageSize
		}
		after := ""
		for {
			vars := map[string]any{"environmentId": envID, "first": first}
			if after != "" {
				vars["after"] = after
			}
			if f != nil {
				vars["filter"] = f
			}
			var data struct {
				Environment *map[string]map[string]connection[AppliedNode] `json:"environment"`
			}
			if err := d.Query(ctx, opName(k), q, vars, &data); err != nil {
				yield(nil, err)
				return
			}
			if data.Environment == nil {
				yield(nil, fmt.Errorf("dbtcloud: Discovery: environment %d: %w", envID, ErrNotFound))
				return
			}
			conn := (*data.Environment)[k.state][k.field]
			for i := range conn.Edges {
				if !yield(&conn.Edges[i].Node, nil) {
					return
				}
			}
			if !conn.PageInfo.HasNextPage {
				return
			}
			if conn.PageInfo.EndCursor == "" || conn.PageInfo.EndCursor == after {
				yield(nil, fmt.Errorf("dbtcloud: Discovery %s of environment %d: paging stuck at cursor %q", k, envID, after))
				return
			}
			after = conn.PageInfo.EndCursor
		}
	}
}

// ListAll collects a whole list.
func (d *DiscoveryClient) ListAll(ctx context.Context, envID int64, k AppliedKind, f *AppliedFilter, po PageOptions) ([]AppliedNode, error) {
	var out []AppliedNode
	for n, err := range d.List(ctx, envID, k, f, po) {
		if err != nil {
			return out, err
		}
		out = append(out, *n)
	}
	return out, nil
}

// DiscoveryEnvironment is what the environment itself reports.
type DiscoveryEnvironment struct {
	DbtProjectName string `json:"dbtProjectName"`
	AdapterType    string `json:"adapterType"`
	Applied        struct {
		LastUpdatedAt *time.Time `json:"lastUpdatedAt"`
	} `json:"applied"`
}

// Environment reads an environment's project name, adapter and when its
// applied state last changed.
func (d *DiscoveryClient) Environment(ctx context.Context, envID int64) (*DiscoveryEnvironment, error) {
	if err := checkID("environment", envID); err != nil {
		return nil, err
	}
	var data struct {
		Environment *DiscoveryEnvironment `json:"environment"`
	}
	err := d.Query(ctx, "Environment", `query Environment($environmentId: BigInt!) {
  environment(id: $environmentId) { dbtProjectName adapterType applied { lastUpdatedAt } } }`,
		map[string]any{"environmentId": envID}, &data)
	if err != nil {
		return nil, err
	}
	if data.Environment == nil {
		return nil, fmt.Errorf("dbtcloud: Discovery: environment %d: %w", envID, ErrNotFound)
	}
	return data.Environment, nil
}

// LineageNode is one member of the lineage graph with its parents.
type LineageNode struct {
	UniqueID     string   `json:"uniqueId"`
	Name         string   `json:"name"`
	ResourceType string   `json:"resourceType"`
	FilePath     string   `json:"filePath"`
	Tags         []string `json:"tags"`
	FQN          []string `json:"fqn"`
	ParentIDs    []string `json:"parentIds"`
}

// LineageFilter narrows Lineage: resource types as dbt names them ("Model",
// "Source", "SemanticModel", ...), unique ids, tags.
type LineageFilter struct {
	Types     []string `json:"types,omitempty"`
	UniqueIDs []string `json:"uniqueIds,omitempty"`
	Tags      []string `json:"tags,omitempty"`
}

// Lineage lists the environment's lineage graph (not paged: dbt returns it
// whole).
func (d *DiscoveryClient) Lineage(ctx context.Context, envID int64, f LineageFilter) ([]LineageNode, error) {
	if err := checkID("environment", envID); err != nil {
		return nil, err
	}
	var data struct {
		Environment *struct {
			Applied struct {
				Lineage []LineageNode `json:"lineage"`
			} `json:"applied"`
		} `json:"environment"`
	}
	err := d.Query(ctx, "Lineage", `query Lineage($environmentId: BigInt!, $filter: LineageFilter!) {
  environment(id: $environmentId) { applied { lineage(filter: $filter) {
    uniqueId name resourceType filePath tags fqn ... on LineageNodeWithParents { parentIds } } } } }`,
		map[string]any{"environmentId": envID, "filter": f}, &data)
	if err != nil {
		return nil, err
	}
	if data.Environment == nil {
		return nil, fmt.Errorf("dbtcloud: Discovery: environment %d: %w", envID, ErrNotFound)
	}
	return data.Environment.Applied.Lineage, nil
}

// RunNode is a node as one run saw it (the job-level endpoint and
// modelHistoricalRuns). Status is empty when the run did not execute it.
type RunNode struct {
	RunID              int64      `json:"runId"`
	JobID              int64      `json:"jobId"`
	UniqueID           string     `json:"uniqueId"`
	Name               string     `json:"name"`
	ResourceType       string     `json:"resourceType"`
	Status             string     `json:"status"`
	Error              string     `json:"error"`
	Failures           *int       `json:"failures"`
	ExecutionTime      float64    `json:"executionTime"`
	ExecuteStartedAt   *time.Time `json:"executeStartedAt"`
	ExecuteCompletedAt *time.Time `json:"executeCompletedAt"`
	RunGeneratedAt     *time.Time `json:"runGeneratedAt"`
	RunElapsedTime     float64    `json:"runElapsedTime"`
	CompiledCode       string     `json:"compiledCode"`
}

// JobRun is the job-level view of one run.
type JobRun struct {
	ID        int64     `json:"id"`
	RunID     int64     `json:"runId"`
	Models    []RunNode `json:"models"`
	Seeds     []RunNode `json:"seeds"`
	Snapshots []RunNode `json:"snapshots"`
	Tests     []RunNode `json:"tests"`
}

const fRunNode = `runId jobId uniqueId name resourceType status error executionTime executeStartedAt executeCompletedAt runGeneratedAt runElapsedTime`

// JobRun reads the results of run runID of job jobID (its latest finished
// run when runID is 0) through the job-level endpoint. dbt applies its
// complexity limit to this endpoint: only the result fields are asked for.
func (d *DiscoveryClient) JobRun(ctx context.Context, jobID, runID int64) (*JobRun, error) {
	if err := checkID("job", jobID); err != nil {
		return nil, err
	}
	vars := map[string]any{"jobId": jobID}
	if runID != 0 {
		vars["runId"] = runID
	}
	var data struct {
		Job *JobRun `json:"job"`
	}
	err := d.Query(ctx, "JobRun", `query JobRun($jobId: BigInt!, $runId: BigInt) {
  job(id: $jobId, runId: $runId) { id runId models { `+fRunNode+` compiledCode } seeds { `+fRunNode+` } snapshots { `+fRunNode+` compiledCode }
    tests { `+fRunNode+` failures compiledCode } } }`, vars, &data)
	if err != nil {
		return nil, err
	}
	if data.Job == nil {
		return nil, fmt.Errorf("dbtcloud: Discovery: job %d run %d: %w", jobID, runID, ErrNotFound)
	}
	return data.Job, nil
}

// ModelHistoricalRuns lists a model's executions, newest first (at most
// lastRunCount; 0 means the server's default).
func (d *DiscoveryClient) ModelHistoricalRuns(ctx context.Context, envID int64, uniqueID string, lastRunCount int) ([]RunNode, error) {
	if err := checkID("environment", envID); err != nil {
		return nil, err
	}
	vars := map[string]any{"environmentId": envID, "uniqueId": uniqueID}
	if lastRunCount > 0 {
		vars["lastRunCount"] = lastRunCount
	}
	var data struct {
		Environment *struct {
			Applied struct {
				Runs []RunNode `json:"modelHistoricalRuns"`
			} `json:"applied"`
		} `json:"environment"`
	}
	err := d.Query(ctx, "ModelHistoricalRuns", `query ModelHistoricalRuns($environmentId: BigInt!, $uniqueId: String!, $lastRunCount: Int) {
  environment(id: $environmentId) { applied { modelHistoricalRuns(uniqueId: $uniqueId, lastRunCount: $lastRunCount) { `+fRunNode+` } } } }`, vars, &data)
	if err != nil {
		return nil, err
	}
	if data.Environment == nil {
		return nil, fmt.Errorf("dbtcloud: Discovery: environment %d: %w", envID, ErrNotFound)
	}
	return data.Environment.Applied.Runs, nil
}
