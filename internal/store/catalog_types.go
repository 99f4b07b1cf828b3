package store

import "time"

// The catalog's types. Two halves meet at CatalogTable: what a warehouse
// crawl found (CatalogTable, CatalogColumn) and what a dbt sync says about
// it (Scope and the Snapshot it writes). The catalog package builds these
// values; the store keeps them and answers queries over them. The schema is
// in migrations/*/00002_catalog.sql.

// Warehouse is a warehouse connection of dbtlink serve. Config is the JSON
// of internal/warehouse's Config, which holds no secret; SealedSecret is the
// password sealed by internal/connection, bound to the name (nil: none).
type Warehouse struct {
	Name         string
	Type         string
	Config       []byte
	SealedSecret []byte
	KeyID        string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// TableKey names a warehouse table as the warehouse stores it.
type TableKey struct {
	Warehouse string
	Database  string
	Schema    string
	Name      string
}

// CatalogTable is a table, view or materialized view found by a crawl.
// UserDescription is written by a user, never by a crawl or a sync.
type CatalogTable struct {
	ID int64
	TableKey
	Kind            string // table, view, materialized_view, external, foreign, ...
	Comment         string
	Owner           string
	RowEstimate     *int64
	SizeBytes       *int64
	UserDescription string
	FirstSeenAt     time.Time
	LastSeenAt      time.Time
	RemovedAt       time.Time // zero: present at the last crawl
	UpdatedAt       time.Time
	Columns         []CatalogColumn
}

// CatalogColumn is a column of a crawled table.
type CatalogColumn struct {
	Name            string
	Position        int
	DataType        string
	Nullable        bool
	Default         string
	Comment         string
	UserDescription string
	LastSeenAt      time.Time
	RemovedAt       time.Time
}

// Crawl is one crawl of a warehouse, with what it changed.
type Crawl struct {
	ID         int64
	Warehouse  string
	StartedAt  time.Time
	FinishedAt time.Time
	Status     string // running, ok, error
	Error      string
	TablesSeen int
	Added      int
	Changed    int
	Removed    int
}

// Scope kinds.
const (
	ScopeDbtCloud = "dbt_cloud"
	ScopeUpload   = "upload"
)

// CatalogScope is one source of dbt metadata: an environment of a dbt Cloud
// connection (Key "cloud:CONNECTION:ENVIRONMENT_ID") or an uploaded dbt Core
// project (Key "upload:NAME"). Fingerprint names the inputs of its last
// sync, so that a sync of unchanged inputs can stop after the listing.
type CatalogScope struct {
	ID                  int64
	Key                 string
	Kind                string
	Connection          string
	AccountID           int64
	ProjectID           int64
	ProjectName         string
	EnvironmentID       int64
	EnvironmentName     string
	AdapterType         string
	DbtVersion          string
	Warehouse           string
	Fingerprint         string
	ManifestGeneratedAt time.Time
	SyncedAt            time.Time
}

// Snapshot is everything a sync learned about one scope. Writing it
// replaces the scope's nodes, tests, edges and jobs, and appends to the
// history of test results, runs and node runs.
type Snapshot struct {
	Scope       CatalogScope
	Nodes       []CatalogNode
	Tests       []CatalogTest
	TestResults []TestResult
	Edges       []CatalogEdge
	Jobs        []CatalogJob
	Runs        []CatalogRun
	NodeRuns    []NodeRun
	// ColumnLineage replaces the scope's column lineage (see
	// catalog_column_lineage.go).
	ColumnLineage ColumnLineage
}

// CatalogNode is a model, seed, snapshot, source, exposure, metric,
// semantic model, saved query or group of a scope. TableID is the
// warehouse table it was matched to (0: none: ephemeral, not a relation,
// or no such table).
type CatalogNode struct {
	ID               int64
	ScopeID          int64
	UniqueID         string
	ResourceType     string
	Name             string
	PackageName      string
	Database         string
	Schema           string
	Identifier       string
	RelationName     string
	TableID          int64
	Materialized     string
	Description      string
	Owner            string
	Tags             []string
	Meta             []byte // JSON object, nil when empty
	Access           string
	Group            string
	ContractEnforced bool
	Version          string
	FilePath         string
	RawSQL           string
	CompiledSQL      string
	ExploreURL       string
	LastRunID        int64
	LastRunStatus    string
	LastRunAt        time.Time
	// Freshness of a source, from the latest freshness check.
	FreshnessStatus    string
	FreshnessMaxLoaded time.Time
	FreshnessCheckedAt time.Time
	// Extra is the JSON of fields only one resource type has (a source's
	// freshness criteria, an exposure's url and maturity, a metric's label).
	Extra   []byte
	Columns []NodeColumn
}

// NodeColumn is a column as dbt documents it.
type NodeColumn struct {
	Name        string
	Position    int
	Description string
	DataType    string
	Tags        []string
	Meta        []byte // JSON object
	Constraints []byte // JSON array
}

// CatalogTest is a data test or unit test with its latest result.
type CatalogTest struct {
	ID               int64
	ScopeID          int64
	UniqueID         string
	Name             string
	ResourceType     string // test, unit_test
	TestName         string // generic test name (not_null, unique, ...); empty for singular tests
	Namespace        string
	AttachedUniqueID string
	ColumnName       string
	Severity         string
	Kwargs           []byte // JSON object
	CompiledSQL      string
	// The latest result; Status is empty when the test never ran.
	Status     string
	Failures   *int64
	Message    string
	ExecutedAt time.Time
	RunID      int64
	JobID      int64
}

// TestResult is one result of a test in the history.
type TestResult struct {
	UniqueID      string
	RunID         int64
	Status        string
	Failures      *int64
	Message       string
	ExecutedAt    time.Time
	ExecutionTime float64 // seconds
}

// Edge kinds.
const (
	EdgeDirect           = "direct"
	EdgeThroughEphemeral = "through_ephemeral"
)

// CatalogEdge is an edge of dbt's graph between two unique ids.
type CatalogEdge struct {
	ParentID string
	ChildID  string
	Kind     string
}

// CatalogJob is a dbt Cloud job of a scope's environment.
type CatalogJob struct {
	JobID         int64
	Name          string
	Schedule      string // cron, empty when not scheduled
	GenerateDocs  bool
	RunFreshness  bool
	Steps         []string
	URL           string
	LastRunID     int64
	LastRunStatus string
}

// CatalogRun is a dbt Cloud run whose artifacts a sync read.
type CatalogRun struct {
	RunID      int64
	JobID      int64
	Status     string
	StartedAt  time.Time
	FinishedAt time.Time
	Duration   float64 // seconds
	URL        string
	GitSHA     string
}

// NodeRun says that a run built (or tried to build) a node, and how it
// ended.
type NodeRun struct {
	UniqueID      string
	RunID         int64
	Status        string
	ExecutionTime float64
	CompletedAt   time.Time
}

// Sync statuses.
const (
	SyncRunning   = "running"
	SyncOK        = "ok"
	SyncUnchanged = "unchanged"
	SyncError     = "error"
)

// CatalogSync is one sync attempt of a scope. Report is the catalog
// package's match report as JSON.
type CatalogSync struct {
	ID         int64
	ScopeKey   string
	Source     string
	StartedAt  time.Time
	FinishedAt time.Time
	Status     string
	Error      string
	Report     []byte
}

// SearchDoc is one document of the full-text index: a table (Kind "table",
// Ref its id) or a dbt node with no table (Kind "node", Ref its id).
type SearchDoc struct {
	Kind        string
	Ref         int64
	Name        string
	Description string
	Columns     string
	Tags        string
	Owners      string
}
