package openlineage

import (
	"time"
)

// SpecURL is the version of the OpenLineage object model the events follow.
const SpecURL = "https://openlineage.io/spec/2-0-2/OpenLineage.json"

// RunEventSchemaURL is every event's schemaURL.
const RunEventSchemaURL = SpecURL + "#/$defs/RunEvent"

// The facet schemas the events use, each the published URL of the facet
// version the fields below follow (see testdata/schema).
const (
	columnLineageSchema  = "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet"
	dataQualitySchema    = "https://openlineage.io/spec/facets/1-1-0/DataQualityAssertionsDatasetFacet.json#/$defs/DataQualityAssertionsDatasetFacet"
	dataSourceSchema     = "https://openlineage.io/spec/facets/1-0-1/DatasourceDatasetFacet.json#/$defs/DatasourceDatasetFacet"
	documentationSchema  = "https://openlineage.io/spec/facets/1-1-0/DocumentationDatasetFacet.json#/$defs/DocumentationDatasetFacet"
	errorMessageSchema   = "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet"
	externalQuerySchema  = "https://openlineage.io/spec/facets/1-0-2/ExternalQueryRunFacet.json#/$defs/ExternalQueryRunFacet"
	jobTypeSchema        = "https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet"
	outputStatsSchema    = "https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet"
	parentSchema         = "https://openlineage.io/spec/facets/1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet"
	processingEngSchema  = "https://openlineage.io/spec/facets/1-1-1/ProcessingEngineRunFacet.json#/$defs/ProcessingEngineRunFacet"
	schemaFacetSchema    = "https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet"
	sqlSchema            = "https://openlineage.io/spec/facets/1-1-0/SQLJobFacet.json#/$defs/SQLJobFacet"
	dbtRunFacetSchemaURL = "https://raw.githubusercontent.com/OpenLineage/OpenLineage/main/integration/common/openlineage/common/schema/dbt-run-run-facet.json#/$defs/DbtRunRunFacet"
)

// EventType is a run's state transition.
type EventType string

// The event types of the spec.
const (
	Start    EventType = "START"
	Running  EventType = "RUNNING"
	Complete EventType = "COMPLETE"
	Abort    EventType = "ABORT"
	Fail     EventType = "FAIL"
	Other    EventType = "OTHER"
)

// RunEvent is an OpenLineage run event: a job's run changed state, with
// the datasets it read and wrote.
type RunEvent struct {
	EventType EventType       `json:"eventType"`
	EventTime time.Time       `json:"eventTime"`
	Run       Run             `json:"run"`
	Job       Job             `json:"job"`
	Inputs    []InputDataset  `json:"inputs,omitempty"`
	Outputs   []OutputDataset `json:"outputs,omitempty"`
	Producer  string          `json:"producer"`
	SchemaURL string          `json:"schemaURL"`
}

// Run is a run of a job; RunID is a UUID shared by all events of the run.
type Run struct {
	RunID  string    `json:"runId"`
	Facets RunFacets `json:"facets,omitzero"`
}

// Job is a job by namespace and name.
type Job struct {
	Namespace string    `json:"namespace"`
	Name      string    `json:"name"`
	Facets    JobFacets `json:"facets,omitzero"`
}

// InputDataset is a dataset a run read.
type InputDataset struct {
	Namespace   string             `json:"namespace"`
	Name        string             `json:"name"`
	Facets      DatasetFacets      `json:"facets,omitzero"`
	InputFacets InputDatasetFacets `json:"inputFacets,omitzero"`
}

// OutputDataset is a dataset a run wrote.
type OutputDataset struct {
	Namespace    string              `json:"namespace"`
	Name         string              `json:"name"`
	Facets       DatasetFacets       `json:"facets,omitzero"`
	OutputFacets OutputDatasetFacets `json:"outputFacets,omitzero"`
}

// Facet is what every facet carries: who produced it and the schema it
// follows.
type Facet struct {
	Producer  string `json:"_producer"`
	SchemaURL string `json:"_schemaURL"`
}

// RunFacets are the run facets dbtlink emits; nil ones are left out.
type RunFacets struct {
	Parent           *ParentRunFacet        `json:"parent,omitempty"`
	ProcessingEngine *ProcessingEngineFacet `json:"processing_engine,omitempty"`
	DbtRun           *DbtRunFacet           `json:"dbt_run,omitempty"`
	ErrorMessage     *ErrorMessageFacet     `json:"errorMessage,omitempty"`
	ExternalQuery    *ExternalQueryFacet    `json:"externalQuery,omitempty"`
}

// ParentRunFacet points a run at the run that started it; for dbtlink the
// dbt Cloud run. Root is the top of the chain.
type ParentRunFacet struct {
	Facet
	Run  ParentRun  `json:"run"`
	Job  ParentJob  `json:"job"`
	Root *ParentRef `json:"root,omitempty"`
}

// ParentRun identifies the parent run.
type ParentRun struct {
	RunID string `json:"runId"`
}

// ParentJob identifies the parent job.
type ParentJob struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// ParentRef is a run and its job, as the parent facet's root.
type ParentRef struct {
	Run ParentRun `json:"run"`
	Job ParentJob `json:"job"`
}

// ProcessingEngineFacet names the engine that ran the job: dbt and its
// version.
type ProcessingEngineFacet struct {
	Facet
	Version                   string `json:"version"`
	Name                      string `json:"name,omitempty"`
	OpenlineageAdapterVersion string `json:"openlineageAdapterVersion,omitempty"`
}

// DbtRunFacet is the OpenLineage dbt integration's custom facet: the dbt
// invocation and, for dbt Cloud, the account.
type DbtRunFacet struct {
	Facet
	InvocationID string `json:"invocation_id"`
	ProjectName  string `json:"project_name,omitempty"`
	DbtRuntime   string `json:"dbt_runtime,omitempty"`
	AccountID    string `json:"account_id,omitempty"`
}

// ErrorMessageFacet says why a run failed.
type ErrorMessageFacet struct {
	Facet
	Message             string `json:"message"`
	ProgrammingLanguage string `json:"programmingLanguage"`
	StackTrace          string `json:"stackTrace,omitempty"`
}

// ExternalQueryFacet is the warehouse's id of the query a model ran.
type ExternalQueryFacet struct {
	Facet
	ExternalQueryID string `json:"externalQueryId"`
	Source          string `json:"source"`
}

// JobFacets are the job facets dbtlink emits.
type JobFacets struct {
	JobType *JobTypeFacet `json:"jobType,omitempty"`
	SQL     *SQLFacet     `json:"sql,omitempty"`
}

// JobTypeFacet classifies a job: integration DBT, jobType MODEL, SEED,
// SNAPSHOT, TEST or JOB (the dbt Cloud run).
type JobTypeFacet struct {
	Facet
	ProcessingType string `json:"processingType"`
	Integration    string `json:"integration"`
	JobType        string `json:"jobType,omitempty"`
}

// SQLFacet is a job's compiled SQL.
type SQLFacet struct {
	Facet
	Query   string `json:"query"`
	Dialect string `json:"dialect,omitempty"`
}

// DatasetFacets are the dataset facets dbtlink emits.
type DatasetFacets struct {
	DataSource    *DataSourceFacet    `json:"dataSource,omitempty"`
	Documentation *DocumentationFacet `json:"documentation,omitempty"`
	Schema        *SchemaFacet        `json:"schema,omitempty"`
	ColumnLineage *ColumnLineageFacet `json:"columnLineage,omitempty"`
}

// DataSourceFacet names the warehouse a dataset lives in.
type DataSourceFacet struct {
	Facet
	Name string `json:"name,omitempty"`
	URI  string `json:"uri,omitempty"`
}

// DocumentationFacet is a dataset's description.
type DocumentationFacet struct {
	Facet
	Description string `json:"description"`
}

// SchemaFacet lists a dataset's columns.
type SchemaFacet struct {
	Facet
	Fields []SchemaField `json:"fields"`
}

// SchemaField is one column.
type SchemaField struct {
	Name        string `json:"name"`
	Type        string `json:"type,omitempty"`
	Description string `json:"description,omitempty"`
}

// ColumnLineageFacet maps each output column to the input columns it is
// computed from.
type ColumnLineageFacet struct {
	Facet
	Fields map[string]ColumnLineageField `json:"fields"`
}

// ColumnLineageField lists one output column's sources.
type ColumnLineageField struct {
	InputFields []ColumnLineageInput `json:"inputFields"`
}

// ColumnLineageInput is one source column.
type ColumnLineageInput struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Field     string `json:"field"`
}

// InputDatasetFacets are the input facets dbtlink emits.
type InputDatasetFacets struct {
	DataQualityAssertions *DataQualityAssertionsFacet `json:"dataQualityAssertions,omitempty"`
}

// DataQualityAssertionsFacet holds the outcome of the tests run on a
// dataset.
type DataQualityAssertionsFacet struct {
	Facet
	Assertions []Assertion `json:"assertions"`
}

// Assertion is one test: Assertion is its kind (not_null, unique, or the
// test's name for a singular test), Name the dbt test node.
type Assertion struct {
	Assertion string `json:"assertion"`
	Success   bool   `json:"success"`
	Column    string `json:"column,omitempty"`
	Severity  string `json:"severity,omitempty"`
	Name      string `json:"name,omitempty"`
}

// OutputDatasetFacets are the output facets dbtlink emits.
type OutputDatasetFacets struct {
	OutputStatistics *OutputStatisticsFacet `json:"outputStatistics,omitempty"`
}

// OutputStatisticsFacet is what a run wrote.
type OutputStatisticsFacet struct {
	Facet
	RowCount int64 `json:"rowCount,omitempty"`
	Size     int64 `json:"size,omitempty"`
}
