package artifacts

import "time"

// ResourceType is dbt's resource_type string. It is kept as an open string type,
// not a closed enum, because dbt adds resource types in minor releases (unit_test
// in 1.8, function in 1.11) and a reader that rejected them would break on the
// next dbt release.
type ResourceType string

// The resource types dbt has written so far. Others may appear and are kept as read.
const (
	Analysis      ResourceType = "analysis"
	Exposure      ResourceType = "exposure"
	Function      ResourceType = "function"
	GroupType     ResourceType = "group"
	MacroType     ResourceType = "macro"
	Metric        ResourceType = "metric"
	Model         ResourceType = "model"
	Operation     ResourceType = "operation"
	RPC           ResourceType = "rpc"
	SavedQuery    ResourceType = "saved_query"
	Seed          ResourceType = "seed"
	SemanticModel ResourceType = "semantic_model"
	Snapshot      ResourceType = "snapshot"
	Source        ResourceType = "source"
	SQLOperation  ResourceType = "sql_operation"
	Test          ResourceType = "test"
	UnitTest      ResourceType = "unit_test"
)

// Metadata is the metadata block every artifact carries.
type Metadata struct {
	// SchemaVersion is the version number taken from dbt_schema_version
	// (".../manifest/v12.json" gives 12); 0 for files from before dbt wrote one.
	SchemaVersion int
	// SchemaURL is dbt_schema_version as written.
	SchemaURL    string
	DBTVersion   string
	GeneratedAt  time.Time
	InvocationID string
	ProjectName  string
	ProjectID    string
	AdapterType  string
}

// Manifest is the normalised content of a manifest.json of any schema version.
type Manifest struct {
	Metadata Metadata
	// Nodes holds every graph member in file order: the entries of "nodes"
	// (models, seeds, snapshots, tests, analyses, operations), "unit_tests",
	// "sources", "exposures", "metrics", "semantic_models" and "saved_queries".
	// One slice rather than one per section, because lineage, search and counts
	// treat them alike and tell them apart by ResourceType.
	Nodes []*Node
	// Macros are kept apart: they are not lineage members, and a large project
	// has thousands of them.
	Macros []*Macro
	Groups []*GroupDef
	// ParentMap and ChildMap are dbt's own adjacency maps when the file has them
	// (v2 and later); nil otherwise.
	ParentMap map[string][]string
	ChildMap  map[string][]string

	index map[string]*Node
}

// Node returns the node, source, exposure, metric, semantic model or saved query
// with the given unique id, or nil.
func (m *Manifest) Node(uniqueID string) *Node {
	if m.index == nil {
		m.index = make(map[string]*Node, len(m.Nodes))
		for _, n := range m.Nodes {
			m.index[n.UniqueID] = n
		}
	}
	return m.index[uniqueID]
}

// Node is one member of the manifest graph, normalised across schema versions.
// Fields that do not apply to a resource type are left empty.
type Node struct {
	UniqueID     string
	ResourceType ResourceType
	PackageName  string
	Name         string
	// Alias is the relation identifier: alias for models, seeds and snapshots,
	// identifier for sources.
	Alias    string
	Database string
	Schema   string
	// RelationName is relation_name as written, quotes included.
	RelationName string
	// RelationParts is RelationName split into unquoted database, schema and
	// identifier parts (two parts on adapters without databases).
	RelationParts []string
	Materialized  string
	Description   string
	// Columns keep the order of the file.
	Columns          []Column
	Tags             []string
	Meta             map[string]any
	Owner            string // meta.owner, else the group's owner name or email
	Access           string
	Group            string
	Version          string // model version ("2", "v2"), empty when unversioned
	ContractEnforced bool
	Enabled          bool
	Language         string
	// RawCode and CompiledCode are empty when the reader was told to skip code.
	RawCode          string
	CompiledCode     string
	Path             string
	OriginalFilePath string
	// PatchPath is the project-relative yml file that documents the node
	// (patch_path without its "package://" prefix), empty when none.
	PatchPath string
	// ConfigSchema, ConfigAlias and ConfigDatabase are config.schema, alias
	// and database as configured ("marts"), before dbt resolves them into
	// Schema, Alias and Database ("analytics_marts"); empty when not set.
	// dbt's config.schema:marts selector compares these.
	ConfigSchema    string
	ConfigAlias     string
	ConfigDatabase  string
	FQN             []string
	DependsOnNodes  []string
	DependsOnMacros []string
	// Test is set for data tests (generic and singular) and unit tests.
	Test *TestMetadata
	// Source is set for sources.
	Source *SourceInfo
	// Exposure is set for exposures.
	Exposure *ExposureInfo
	// Label is the label of metrics, semantic models, saved queries and exposures.
	Label string
}

// Ephemeral reports whether the node is an ephemeral model: a graph member with
// no relation in the warehouse, which lineage callers often pass through.
func (n *Node) Ephemeral() bool { return n.Materialized == "ephemeral" }

// Column is a column as described in the project (the catalog adds warehouse types).
type Column struct {
	Name        string
	Description string
	DataType    string
	Tags        []string
	Meta        map[string]any
	Constraints []Constraint
}

// Constraint is a column or model constraint (dbt 1.5+).
type Constraint struct {
	Type       string
	Name       string
	Expression string
}

// TestMetadata describes a test node.
type TestMetadata struct {
	// Name is the generic test name (unique, not_null, relationships, ...);
	// empty for singular tests.
	Name      string
	Namespace string
	Kwargs    map[string]any
	// ColumnName is the column the test is attached to, if any.
	ColumnName string
	// AttachedNode is the unique id of the model, seed, snapshot or source the
	// test is attached to, if dbt recorded it (attached_node, dbt 1.3+) or it
	// can be told from the ref() or source() in kwargs.model (a unit test's
	// model) matched against depends_on, or from a single parent.
	AttachedNode string
	Severity     string
}

// SourceInfo holds what only sources have.
type SourceInfo struct {
	SourceName        string
	SourceDescription string
	Loader            string
	Identifier        string
	LoadedAtField     string
	Freshness         *Freshness
}

// Freshness is a source's freshness criteria.
type Freshness struct {
	WarnAfter  *FreshnessThreshold
	ErrorAfter *FreshnessThreshold
	Filter     string
}

// FreshnessThreshold is "count period", e.g. 12 hour.
type FreshnessThreshold struct {
	Count  int
	Period string
}

// ExposureInfo holds what only exposures have.
type ExposureInfo struct {
	Type       string
	URL        string
	Maturity   string
	OwnerName  string
	OwnerEmail string
}

// Macro is a macro definition; only what lineage and search use.
type Macro struct {
	UniqueID        string
	Name            string
	PackageName     string
	DependsOnMacros []string
}

// GroupDef is a dbt group (1.5+), whose owner becomes the owner of its members.
type GroupDef struct {
	UniqueID   string
	Name       string
	OwnerName  string
	OwnerEmail string
}
