package emulator

// discoverySchema is the part of dbt Cloud's Discovery API the emulator serves, in dbt's own type and field names.
// dbt publishes no schema file; the names come from the queries public clients send (dbt-labs/dbt-mcp's .gql
// files under src/dbt_mcp/discovery/graphql, DataHub's job-level query in
// metadata-ingestion/src/datahub/ingestion/source/dbt/dbt_cloud.py) and from docs.getdbt.com's Discovery API
// pages. A field a client asks for that is not here gets the usual GraphQL validation error, as dbt Cloud answers
// for a field it does not have; see the package doc for what is left out.
const discoverySchema = `
scalar BigInt
scalar DateTime
scalar JSONObject
scalar AnyScalar

schema { query: Query }

type Query {
	environment(id: BigInt!): Environment
	job(id: BigInt!, runId: BigInt): JobNode
}

enum AppliedNodeType { Model Source Seed Snapshot Test Exposure Metric SemanticModel SavedQuery }
enum ResourceNodeType { Model Source Seed Snapshot Test Exposure Metric SemanticModel SavedQuery Macro }
enum RunStatus { success error skipped }
enum FreshnessStatus { pass warn error }

input ModelAppliedFilter {
	uniqueIds: [String!]
	identifier: String
	database: String
	schema: String
	access: String
	lastRunStatus: RunStatus
	tags: [String!]
}
input GenericMaterializedFilter {
	uniqueIds: [String!]
	identifier: String
	database: String
	schema: String
	tags: [String!]
}
input SourceAppliedFilter {
	uniqueIds: [String!]
	sourceNames: [String!]
	identifier: String
	database: String
	schema: String
	freshnessStatus: FreshnessStatus
	tags: [String!]
}
input TestAppliedFilter {
	uniqueIds: [String!]
	status: String
	tags: [String!]
}
input ExposureFilter {
	uniqueIds: [String!]
	exposureType: String
	tags: [String!]
}
input GenericDefinitionFilter {
	uniqueIds: [String!]
	tags: [String!]
}
input AppliedResourcesFilter {
	types: [AppliedNodeType!]!
	uniqueIds: [String!]
	tags: [String!]
}
input LineageFilter {
	types: [ResourceNodeType!]
	uniqueIds: [String!]
	tags: [String!]
}

type PageInfo {
	hasNextPage: Boolean!
	hasPreviousPage: Boolean!
	startCursor: String
	endCursor: String
}

type Environment {
	dbtProjectName: String
	adapterType: String
	applied: AppliedState
	definition: DefinitionState
}

type AppliedState {
	lastUpdatedAt: DateTime
	models(filter: ModelAppliedFilter, first: Int, after: String): ModelAppliedStateNodeConnection!
	sources(filter: SourceAppliedFilter, first: Int, after: String): SourceAppliedStateNodeConnection!
	seeds(filter: GenericMaterializedFilter, first: Int, after: String): SeedAppliedStateNodeConnection!
	snapshots(filter: GenericMaterializedFilter, first: Int, after: String): SnapshotAppliedStateNodeConnection!
	tests(filter: TestAppliedFilter, first: Int, after: String): TestAppliedStateNodeConnection!
	exposures(filter: ExposureFilter, first: Int, after: String): ExposureAppliedStateNodeConnection!
	resources(filter: AppliedResourcesFilter!, first: Int, after: String): EnvironmentAppliedNodeConnection!
	lineage(filter: LineageFilter!): [LineageNode!]!
	modelHistoricalRuns(uniqueId: String!, lastRunCount: Int): [ModelNode!]!
}

type DefinitionState {
	lastUpdatedAt: DateTime
	exposures(filter: ExposureFilter, first: Int, after: String): ExposureDefinitionNodeConnection!
	metrics(filter: GenericDefinitionFilter, first: Int, after: String): MetricDefinitionNodeConnection!
	semanticModels(filter: GenericDefinitionFilter, first: Int, after: String): SemanticModelDefinitionNodeConnection!
	savedQueries(filter: GenericDefinitionFilter, first: Int, after: String): SavedQueryDefinitionNodeConnection!
	groups(filter: GenericDefinitionFilter, first: Int, after: String): GroupNodeConnection!
}

type ModelAppliedStateNodeConnection { totalCount: Int! pageInfo: PageInfo! edges: [ModelAppliedStateNodeEdge!]! }
type ModelAppliedStateNodeEdge { cursor: String! node: ModelAppliedStateNode! }
type SourceAppliedStateNodeConnection { totalCount: Int! pageInfo: PageInfo! edges: [SourceAppliedStateNodeEdge!]! }
type SourceAppliedStateNodeEdge { cursor: String! node: SourceAppliedStateNode! }
type SeedAppliedStateNodeConnection { totalCount: Int! pageInfo: PageInfo! edges: [SeedAppliedStateNodeEdge!]! }
type SeedAppliedStateNodeEdge { cursor: String! node: SeedAppliedStateNode! }
type SnapshotAppliedStateNodeConnection { totalCount: Int! pageInfo: PageInfo! edges: [SnapshotAppliedStateNodeEdge!]! }
type SnapshotAppliedStateNodeEdge { cursor: String! node: SnapshotAppliedStateNode! }
type TestAppliedStateNodeConnection { totalCount: Int! pageInfo: PageInfo! edges: [TestAppliedStateNodeEdge!]! }
type TestAppliedStateNodeEdge { cursor: String! node: TestAppliedStateNode! }
type ExposureAppliedStateNodeConnection { totalCount: Int! pageInfo: PageInfo! edges: [ExposureAppliedStateNodeEdge!]! }
type ExposureAppliedStateNodeEdge { cursor: String! node: ExposureAppliedStateNode! }
type EnvironmentAppliedNodeConnection { totalCount: Int! pageInfo: PageInfo! edges: [EnvironmentAppliedNodeEdge!]! }
type EnvironmentAppliedNodeEdge { cursor: String! node: EnvironmentAppliedNode! }
type ExposureDefinitionNodeConnection { totalCount: Int! pageInfo: PageInfo! edges: [ExposureDefinitionNodeEdge!]! }
type ExposureDefinitionNodeEdge { cursor: String! node: ExposureDefinitionNode! }
type MetricDefinitionNodeConnection { totalCount: Int! pageInfo: PageInfo! edges: [MetricDefinitionNodeEdge!]! }
type MetricDefinitionNodeEdge { cursor: String! node: MetricDefinitionNode! }
type SemanticModelDefinitionNodeConnection { totalCount: Int! pageInfo: PageInfo! edges: [SemanticModelDefinitionNodeEdge!]! }
type SemanticModelDefinitionNodeEdge { cursor: String! node: SemanticModelDefinitionNode! }
type SavedQueryDefinitionNodeConnection { totalCount: Int! pageInfo: PageInfo! edges: [SavedQueryDefinitionNodeEdge!]! }
type SavedQueryDefinitionNodeEdge { cursor: String! node: SavedQueryDefinitionNode! }
type GroupNodeConnection { totalCount: Int! pageInfo: PageInfo! edges: [GroupNodeEdge!]! }
type GroupNodeEdge { cursor: String! node: GroupNode! }

interface EnvironmentAppliedNode {
	uniqueId: String!
	name: String
	resourceType: String!
	description: String
	tags: [String!]!
	meta: JSONObject
	filePath: String!
	packageName: String
	projectId: BigInt!
	accountId: BigInt!
	environmentId: BigInt!
}

type CatalogColumn {
	name: String!
	index: Int
	type: String
	comment: String
	description: String
	tags: [String!]!
	meta: JSONObject
}
type CatalogNode {
	type: String
	owner: String
	comment: String
	columns: [CatalogColumn!]
}

type ModelExecutionInfoNode {
	lastRunId: BigInt
	lastJobDefinitionId: BigInt
	lastRunStatus: String
	lastRunError: String
	lastRunGeneratedAt: DateTime
	lastSuccessRunId: BigInt
	lastSuccessJobDefinitionId: BigInt
	executeStartedAt: DateTime
	executeCompletedAt: DateTime
	executionTime: Float
	compileStartedAt: DateTime
	compileCompletedAt: DateTime
	runElapsedTime: Float
}
type TestExecutionInfoNode {
	lastRunId: BigInt
	lastJobDefinitionId: BigInt
	lastRunStatus: String
	lastRunError: String
	lastRunFailures: Int
	lastRunGeneratedAt: DateTime
	executeStartedAt: DateTime
	executeCompletedAt: DateTime
	executionTime: Float
}

type DocColumn {
	name: String!
	description: String
	type: String
	tags: [String!]!
	meta: JSONObject
}

type TestMetadata {
	name: String
	namespace: String
	kwargs: JSONObject
	columnName: String
}

type FreshnessCriteria { count: Int period: String }
type SourceFreshnessCriteria { warnAfter: FreshnessCriteria errorAfter: FreshnessCriteria filter: String }
type SourceFreshnessNode {
	maxLoadedAt: DateTime
	maxLoadedAtTimeAgoInS: Float
	snapshottedAt: DateTime
	freshnessStatus: String
	freshnessRunId: BigInt
	freshnessJobDefinitionId: BigInt
	freshnessRunGeneratedAt: DateTime
	freshnessChecked: Boolean
	criteria: SourceFreshnessCriteria
	error: String
}

type TestAppliedStateNestedNode {
	uniqueId: String!
	name: String
	columnName: String
	testType: String
	description: String
	executionInfo: TestExecutionInfoNode!
}

type ModelAppliedStateNode implements EnvironmentAppliedNode {
	uniqueId: String!
	name: String
	resourceType: String!
	description: String
	tags: [String!]!
	meta: JSONObject
	filePath: String!
	packageName: String
	projectId: BigInt!
	accountId: BigInt!
	environmentId: BigInt!
	fqn: [String!]!
	database: String
	schema: String
	alias: String
	relationName: String
	materializedType: String
	access: String
	group: String
	owner: String
	version: String
	contractEnforced: Boolean
	language: String
	rawCode: String
	compiledCode: String
	patchPath: String
	dbtVersion: String
	config: JSONObject
	columns: [DocColumn!]!
	catalog: CatalogNode
	executionInfo: ModelExecutionInfoNode!
	tests: [TestAppliedStateNestedNode!]!
	parentIds: [String!]!
}
type SeedAppliedStateNode implements EnvironmentAppliedNode {
	uniqueId: String!
	name: String
	resourceType: String!
	description: String
	tags: [String!]!
	meta: JSONObject
	filePath: String!
	packageName: String
	projectId: BigInt!
	accountId: BigInt!
	environmentId: BigInt!
	fqn: [String!]!
	database: String
	schema: String
	alias: String
	relationName: String
	materializedType: String
	group: String
	owner: String
	rawCode: String
	patchPath: String
	config: JSONObject
	columns: [DocColumn!]!
	catalog: CatalogNode
	executionInfo: ModelExecutionInfoNode!
	tests: [TestAppliedStateNestedNode!]!
}
type SnapshotAppliedStateNode implements EnvironmentAppliedNode {
	uniqueId: String!
	name: String
	resourceType: String!
	description: String
	tags: [String!]!
	meta: JSONObject
	filePath: String!
	packageName: String
	projectId: BigInt!
	accountId: BigInt!
	environmentId: BigInt!
	fqn: [String!]!
	database: String
	schema: String
	alias: String
	relationName: String
	materializedType: String
	group: String
	owner: String
	rawCode: String
	compiledCode: String
	patchPath: String
	config: JSONObject
	columns: [DocColumn!]!
	catalog: CatalogNode
	executionInfo: ModelExecutionInfoNode!
	tests: [TestAppliedStateNestedNode!]!
	parentIds: [String!]!
}
type SourceAppliedStateNode implements EnvironmentAppliedNode {
	uniqueId: String!
	name: String
	resourceType: String!
	description: String
	tags: [String!]!
	meta: JSONObject
	filePath: String!
	packageName: String
	projectId: BigInt!
	accountId: BigInt!
	environmentId: BigInt!
	fqn: [String!]!
	database: String
	schema: String
	identifier: String
	relationName: String
	sourceName: String!
	sourceDescription: String
	loader: String
	loadedAtField: String
	owner: String
	columns: [DocColumn!]!
	catalog: CatalogNode
	freshness: SourceFreshnessNode!
	tests: [TestAppliedStateNestedNode!]!
}
type TestAppliedStateNode implements EnvironmentAppliedNode {
	uniqueId: String!
	name: String
	resourceType: String!
	description: String
	tags: [String!]!
	meta: JSONObject
	filePath: String!
	packageName: String
	projectId: BigInt!
	accountId: BigInt!
	environmentId: BigInt!
	fqn: [String!]!
	columnName: String
	testType: String
	severity: String
	rawCode: String
	compiledCode: String
	testedNodeUniqueId: String
	testMetadata: TestMetadata
	executionInfo: TestExecutionInfoNode!
	parentIds: [String!]!
}
type ExposureAppliedStateNode implements EnvironmentAppliedNode {
	uniqueId: String!
	name: String
	resourceType: String!
	description: String
	tags: [String!]!
	meta: JSONObject
	filePath: String!
	packageName: String
	projectId: BigInt!
	accountId: BigInt!
	environmentId: BigInt!
	fqn: [String!]!
	label: String
	exposureType: String
	maturity: String
	url: String
	ownerName: String
	ownerEmail: String
	parentIds: [String!]!
}

type ExposureDefinitionNode {
	uniqueId: String!
	name: String
	resourceType: String!
	description: String
	tags: [String!]!
	meta: JSONObject
	filePath: String!
	label: String
	exposureType: String
	maturity: String
	url: String
	ownerName: String
	ownerEmail: String
	parentIds: [String!]!
}
type MetricDefinitionNode {
	uniqueId: String!
	name: String
	resourceType: String!
	description: String
	tags: [String!]!
	meta: JSONObject
	filePath: String!
	packageName: String
	label: String
	group: String
	owner: String
	fqn: [String!]!
	parentIds: [String!]!
}
type SemanticModelDefinitionNode {
	uniqueId: String!
	name: String
	resourceType: String!
	description: String
	tags: [String!]!
	meta: JSONObject
	filePath: String!
	packageName: String
	label: String
	group: String
	owner: String
	fqn: [String!]!
	parentIds: [String!]!
}
type SavedQueryDefinitionNode {
	uniqueId: String!
	name: String
	resourceType: String!
	description: String
	tags: [String!]!
	meta: JSONObject
	filePath: String!
	packageName: String
	label: String
	group: String
	owner: String
	fqn: [String!]!
	parentIds: [String!]!
}
type GroupNode {
	uniqueId: String!
	name: String
	ownerName: String
	ownerEmail: String
}

interface LineageNode {
	uniqueId: String!
	name: String
	resourceType: String!
	filePath: String!
	tags: [String!]!
	projectId: BigInt!
	fqn: [String!]!
	matchesMethod: Boolean
}
interface LineageNodeWithParents { parentIds: [String!]! }

type ModelLineageNode implements LineageNode & LineageNodeWithParents {
	uniqueId: String! name: String resourceType: String! filePath: String! tags: [String!]! projectId: BigInt!
	fqn: [String!]! matchesMethod: Boolean parentIds: [String!]!
	database: String schema: String alias: String materializationType: String lastRunStatus: String access: String
}
type SourceLineageNode implements LineageNode {
	uniqueId: String! name: String resourceType: String! filePath: String! tags: [String!]! projectId: BigInt!
	fqn: [String!]! matchesMethod: Boolean
	database: String schema: String sourceName: String! lastRunStatus: String
}
type SeedLineageNode implements LineageNode {
	uniqueId: String! name: String resourceType: String! filePath: String! tags: [String!]! projectId: BigInt!
	fqn: [String!]! matchesMethod: Boolean
	database: String schema: String alias: String lastRunStatus: String
}
type SnapshotLineageNode implements LineageNode & LineageNodeWithParents {
	uniqueId: String! name: String resourceType: String! filePath: String! tags: [String!]! projectId: BigInt!
	fqn: [String!]! matchesMethod: Boolean parentIds: [String!]!
	database: String schema: String alias: String lastRunStatus: String
}
type TestLineageNode implements LineageNode & LineageNodeWithParents {
	uniqueId: String! name: String resourceType: String! filePath: String! tags: [String!]! projectId: BigInt!
	fqn: [String!]! matchesMethod: Boolean parentIds: [String!]! lastRunStatus: String
}
type ExposureLineageNode implements LineageNode & LineageNodeWithParents {
	uniqueId: String! name: String resourceType: String! filePath: String! tags: [String!]! projectId: BigInt!
	fqn: [String!]! matchesMethod: Boolean parentIds: [String!]!
}
type MetricLineageNode implements LineageNode & LineageNodeWithParents {
	uniqueId: String! name: String resourceType: String! filePath: String! tags: [String!]! projectId: BigInt!
	fqn: [String!]! matchesMethod: Boolean parentIds: [String!]!
}
type SemanticModelLineageNode implements LineageNode & LineageNodeWithParents {
	uniqueId: String! name: String resourceType: String! filePath: String! tags: [String!]! projectId: BigInt!
	fqn: [String!]! matchesMethod: Boolean parentIds: [String!]!
}
type SavedQueryLineageNode implements LineageNode & LineageNodeWithParents {
	uniqueId: String! name: String resourceType: String! filePath: String! tags: [String!]! projectId: BigInt!
	fqn: [String!]! matchesMethod: Boolean parentIds: [String!]!
}
type MacroLineageNode implements LineageNode {
	uniqueId: String! name: String resourceType: String! filePath: String! tags: [String!]! projectId: BigInt!
	fqn: [String!]! matchesMethod: Boolean
}

type JobNode {
	id: BigInt!
	runId: BigInt!
	models(uniqueIds: [String!]): [ModelNode!]!
	seeds(uniqueIds: [String!]): [ModelNode!]!
	snapshots(uniqueIds: [String!]): [ModelNode!]!
	sources(uniqueIds: [String!]): [SourceNode!]!
	tests(uniqueIds: [String!]): [TestNode!]!
}

type RunCatalogColumn {
	name: String!
	index: Int
	type: String
	comment: String
	description: String
	tags: [String!]!
	meta: JSONObject
}

type TestNode {
	runId: BigInt
	accountId: BigInt!
	projectId: BigInt!
	environmentId: BigInt!
	jobId: BigInt
	resourceType: String!
	uniqueId: String!
	name: String
	description: String
	meta: JSONObject
	dbtVersion: String
	tags: [String!]!
	state: String
	columnName: String
	status: String
	error: String
	failures: Int
	fail: Boolean
	warn: Boolean
	skip: Boolean
	dependsOn: [String!]!
	rawSql: String
	rawCode: String
	compiledSql: String
	compiledCode: String
	executionTime: Float
	executeStartedAt: DateTime
	executeCompletedAt: DateTime
	runGeneratedAt: DateTime
	runElapsedTime: Float
}

type ModelNode {
	runId: BigInt
	accountId: BigInt!
	projectId: BigInt!
	environmentId: BigInt!
	jobId: BigInt
	resourceType: String!
	uniqueId: String!
	name: String
	description: String
	meta: JSONObject
	dbtVersion: String
	tags: [String!]!
	database: String
	schema: String
	alias: String
	packageName: String
	type: String
	owner: String
	comment: String
	columns: [RunCatalogColumn!]!
	error: String
	status: String
	skip: Boolean
	rawSql: String
	rawCode: String
	compiledSql: String
	compiledCode: String
	dependsOn: [String!]!
	materializedType: String
	executionTime: Float
	executeStartedAt: DateTime
	executeCompletedAt: DateTime
	runGeneratedAt: DateTime
	runElapsedTime: Float
	tests: [TestNode!]!
}

type SourceNode {
	runId: BigInt
	accountId: BigInt!
	projectId: BigInt!
	environmentId: BigInt!
	jobId: BigInt
	resourceType: String!
	uniqueId: String!
	name: String
	description: String
	meta: JSONObject
	dbtVersion: String
	tags: [String!]!
	database: String
	schema: String
	identifier: String
	sourceName: String
	sourceDescription: String
	loader: String
	type: String
	owner: String
	comment: String
	columns: [RunCatalogColumn!]!
	maxLoadedAt: DateTime
	snapshottedAt: DateTime
	maxLoadedAtTimeAgoInS: Float
	state: String
	freshnessChecked: Boolean
	criteria: SourceFreshnessCriteria
}
`
