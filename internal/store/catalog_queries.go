package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The reads over what WriteSnapshot wrote. Nodes and tests are named by
// scope id and unique id: their row ids change at every sync.

const nodeColumns = `n.id, n.scope_id, n.unique_id, n.resource_type, n.name, n.package_name,
	n.database_name, n.schema_name, n.identifier, n.relation_name, n.table_id, n.materialized,
	n.description, n.owner, n.meta, n.access, n.group_name, n.contract_enforced, n.version,
	n.file_path, n.raw_sql, n.compiled_sql, n.explore_url, n.last_run_id, n.last_run_status,
	n.last_run_at, n.freshness_status, n.freshness_max_loaded, n.freshness_checked_at, n.extra`

func scanNode(sc interface{ Scan(...any) error }) (CatalogNode, error) {
	var (
		n                  CatalogNode
		tableID, lastRunID sql.Null[int64]
	)
	err := sc.Scan(&n.ID, &n.ScopeID, &n.UniqueID, &n.ResourceType, &n.Name, &n.PackageName,
		&n.Database, &n.Schema, &n.Identifier, &n.RelationName, &tableID, &n.Materialized,
		&n.Description, &n.Owner, &n.Meta, &n.Access, &n.Group, &n.ContractEnforced, &n.Version,
		&n.FilePath, &n.RawSQL, &n.CompiledSQL, &n.ExploreURL, &lastRunID, &n.LastRunStatus,
		scanTime(&n.LastRunAt), &n.FreshnessStatus, scanTime(&n.FreshnessMaxLoaded), scanTime(&n.FreshnessCheckedAt), &n.Extra)
	n.TableID, n.LastRunID = tableID.V, lastRunID.V
	return n, err
}

// Limits of the listings of nodes, tests and runs.
const (
	defaultCatalogLimit = 100
	maxCatalogLimit     = 1000
)

func catalogLimit(n int) int {
	switch {
	case n <= 0:
		return defaultCatalogLimit
	case n > maxCatalogLimit:
		return maxCatalogLimit
	}
	return n
}

// idChunk is how many ids go in one IN (...) list, well within both
// databases' parameter limits.
const idChunk = 500

// NodesForTable returns the nodes that claim warehouse table tableID, with
// their columns and tags, ordered by scope and unique id. Several scopes
// may claim one table: a source in one project and the model that builds
// it in another.
func (q queries) NodesForTable(ctx context.Context, tableID int64) ([]CatalogNode, error) {
	nodes, err := q.listNodes(ctx, `SELECT `+nodeColumns+` FROM catalog_nodes n
		WHERE n.table_id = $1 ORDER BY n.scope_id, n.unique_id`, []any{tableID}, true)
	if err != nil {
		return nil, wrap(err, "list the nodes of catalog table %d", tableID)
	}
	return nodes, nil
}

// GetNode returns node uniqueID of scope scopeID with its columns and
// tags, or ErrNotFound.
func (q queries) GetNode(ctx context.Context, scopeID int64, uniqueID string) (CatalogNode, error) {
	nodes, err := q.listNodes(ctx, `SELECT `+nodeColumns+` FROM catalog_nodes n
		WHERE n.scope_id = $1 AND n.unique_id = $2`, []any{scopeID, uniqueID}, true)
	if err == nil && len(nodes) == 0 {
		err = sql.ErrNoRows
	}
	if err != nil {
		return CatalogNode{}, wrap(err, "get node %q of catalog scope %d", uniqueID, scopeID)
	}
	return nodes[0], nil
}

// ListNodesParams selects nodes for ListNodes; every field set must hold.
type ListNodesParams struct {
	ScopeID       int64    // 0: every scope
	ResourceTypes []string // model, source, ...; empty: every type
	Tag           string   // a tag of the node itself (not of a column)
	Owner         string   // the dbt owner, exactly
	TableID       int64    // nodes that claim this table
	WithoutTable  bool     // only the nodes that claim no table
	WithColumns   bool     // also read each node's columns (tags are always read)
	// Limit defaults to 100 and is capped at 1000. Page on by passing the
	// ID of the last node returned as AfterID.
	Limit   int
	AfterID int64
}

// ListNodes returns the nodes p selects, with their tags, in id order
// (within a scope, the order of the snapshot).
func (q queries) ListNodes(ctx context.Context, p ListNodesParams) ([]CatalogNode, error) {
	var (
		a    args
		cond []string
	)
	if p.ScopeID != 0 {
		cond = append(cond, "n.scope_id = "+a.add(p.ScopeID))
	}
	if len(p.ResourceTypes) > 0 {
		ph := make([]string, len(p.ResourceTypes))
		for i, rt := range p.ResourceTypes {
			ph[i] = a.add(rt)
		}
		cond = append(cond, "n.resource_type IN ("+strings.Join(ph, ", ")+")")
	}
	if p.Tag != "" {
		cond = append(cond, "EXISTS (SELECT 1 FROM catalog_node_tags g WHERE g.node_id = n.id AND g.column_name = '' AND g.tag = "+a.add(p.Tag)+")")
	}
	if p.Owner != "" {
		cond = append(cond, "n.owner = "+a.add(p.Owner))
	}
	if p.TableID != 0 {
		cond = append(cond, "n.table_id = "+a.add(p.TableID))
	}
	if p.WithoutTable {
		cond = append(cond, "n.table_id IS NULL")
	}
	if p.AfterID != 0 {
		cond = append(cond, "n.id > "+a.add(p.AfterID))
	}
	query := `SELECT ` + nodeColumns + ` FROM catalog_nodes n`
	if len(cond) > 0 {
		query += ` WHERE ` + strings.Join(cond, " AND ")
	}
	query += ` ORDER BY n.id LIMIT ` + a.add(catalogLimit(p.Limit))
	nodes, err := q.listNodes(ctx, query, a, p.WithColumns)
	if err != nil {
		return nil, wrap(err, "list nodes")
	}
	return nodes, nil
}

// ScopeTableIDs returns the ids of the tables the nodes of a scope claim,
// sorted, each once. It reads only the ids: a sync wants them for the
// search refresh, and listing the nodes reads their SQL too (~5 KB each).
func (q queries) ScopeTableIDs(ctx context.Context, scopeID int64) ([]int64, error) {
	rows, err := q.query(ctx, `SELECT DISTINCT table_id FROM catalog_nodes
		WHERE scope_id = $1 AND table_id IS NOT NULL ORDER BY table_id`, scopeID)
	if err != nil {
		return nil, wrap(err, "list the tables of scope %d", scopeID)
	}
	ids, err := collect(rows, func(sc interface{ Scan(...any) error }) (int64, error) {
		var id int64
		err := sc.Scan(&id)
		return id, err
	})
	if err != nil {
		return nil, wrap(err, "list the tables of scope %d", scopeID)
	}
	return ids, nil
}

// listNodes runs a query of nodeColumns and reads the nodes' tags, and
// their columns when withColumns is set.
func (q queries) listNodes(ctx context.Context, query string, a []any, withColumns bool) ([]CatalogNode, error) {
	rows, err := q.query(ctx, query, a...)
	if err != nil {
		return nil, err
	}
	nodes, err := collect(rows, scanNode)
	if err != nil || len(nodes) == 0 {
		return nodes, err
	}
	byID := make(map[int64]*CatalogNode, len(nodes))
	ids := make([]any, len(nodes))
	for i := range nodes {
		byID[nodes[i].ID] = &nodes[i]
		ids[i] = nodes[i].ID
	}
	for start := 0; start < len(ids); start += idChunk {
		chunk := ids[start:min(start+idChunk, len(ids))]
		in := placeholders(1, len(chunk))
		if withColumns {
			if err := q.readNodeColumns(ctx, in, chunk, byID); err != nil {
				return nil, fmt.Errorf("columns: %w", err)
			}
		}
		// Column tags only matter with the columns.
		tagQuery := `SELECT node_id, column_name, tag FROM catalog_node_tags WHERE node_id IN (` + in + `)`
		if !withColumns {
			tagQuery += ` AND column_name = ''`
		}
		rows, err := q.query(ctx, tagQuery+` ORDER BY node_id, column_name, tag`, chunk...)
		if err != nil {
			return nil, fmt.Errorf("tags: %w", err)
		}
		err = eachRow(rows, func(sc interface{ Scan(...any) error }) error {
			var (
				id          int64
				column, tag string
			)
			if err := sc.Scan(&id, &column, &tag); err != nil {
				return err
			}
			n := byID[id]
			if column == "" {
				n.Tags = append(n.Tags, tag)
				return nil
			}
			for i := range n.Columns {
				if n.Columns[i].Name == column {
					n.Columns[i].Tags = append(n.Columns[i].Tags, tag)
					break
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("tags: %w", err)
		}
	}
	return nodes, nil
}

func (q queries) readNodeColumns(ctx context.Context, in string, ids []any, byID map[int64]*CatalogNode) error {
	rows, err := q.query(ctx, `SELECT node_id, name, position, description, data_type, meta, constraints
		FROM catalog_node_columns WHERE node_id IN (`+in+`) ORDER BY node_id, position, name`, ids...)
	if err != nil {
		return err
	}
	return eachRow(rows, func(sc interface{ Scan(...any) error }) error {
		var (
			id int64
			c  NodeColumn
		)
		if err := sc.Scan(&id, &c.Name, &c.Position, &c.Description, &c.DataType, &c.Meta, &c.Constraints); err != nil {
			return err
		}
		n := byID[id]
		n.Columns = append(n.Columns, c)
		return nil
	})
}

// placeholders is "$from, $from+1, ..." for n arguments.
func placeholders(from, n int) string {
	ph := make([]string, n)
	for i := range ph {
		ph[i] = "$" + strconv.Itoa(from+i)
	}
	return strings.Join(ph, ", ")
}

// eachRow calls fn on every row and closes rows.
func eachRow(rows *sql.Rows, fn func(interface{ Scan(...any) error }) error) error {
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

const testColumns = `t.id, t.scope_id, t.unique_id, t.name, t.resource_type, t.test_name, t.namespace,
	t.attached_unique_id, t.column_name, t.severity, t.kwargs, t.compiled_sql, t.status,
	t.failures, t.message, t.executed_at, t.run_id, t.job_id`

func scanTest(sc interface{ Scan(...any) error }) (CatalogTest, error) {
	var (
		t            CatalogTest
		runID, jobID sql.Null[int64]
		failures     sql.Null[int64]
	)
	err := sc.Scan(&t.ID, &t.ScopeID, &t.UniqueID, &t.Name, &t.ResourceType, &t.TestName, &t.Namespace,
		&t.AttachedUniqueID, &t.ColumnName, &t.Severity, &t.Kwargs, &t.CompiledSQL, &t.Status,
		&failures, &t.Message, scanTime(&t.ExecutedAt), &runID, &jobID)
	t.RunID, t.JobID = runID.V, jobID.V
	if failures.Valid {
		t.Failures = &failures.V
	}
	return t, err
}

// TestsForNodes returns the tests of scope scopeID attached to any of the
// nodes uniqueIDs, ordered by node and test unique id.
func (q queries) TestsForNodes(ctx context.Context, scopeID int64, uniqueIDs []string) ([]CatalogTest, error) {
	tests := []CatalogTest{}
	for start := 0; start < len(uniqueIDs); start += idChunk {
		chunk := uniqueIDs[start:min(start+idChunk, len(uniqueIDs))]
		a := make([]any, 0, len(chunk)+1)
		a = append(a, scopeID)
		for _, id := range chunk {
			a = append(a, id)
		}
		rows, err := q.query(ctx, `SELECT `+testColumns+` FROM catalog_tests t
			WHERE t.scope_id = $1 AND t.attached_unique_id IN (`+placeholders(2, len(chunk))+`)`, a...)
		if err != nil {
			return nil, wrap(err, "list the tests of %d nodes of catalog scope %d", len(uniqueIDs), scopeID)
		}
		list, err := collect(rows, scanTest)
		if err != nil {
			return nil, wrap(err, "list the tests of %d nodes of catalog scope %d", len(uniqueIDs), scopeID)
		}
		tests = append(tests, list...)
	}
	// Sorted here, not in SQL: the chunks come in the order of uniqueIDs,
	// and PostgreSQL's collation may not order bytes as Go does.
	sortTests(tests)
	return tests, nil
}

func sortTests(tests []CatalogTest) {
	slices.SortFunc(tests, func(a, b CatalogTest) int {
		return cmp.Or(strings.Compare(a.AttachedUniqueID, b.AttachedUniqueID), strings.Compare(a.UniqueID, b.UniqueID))
	})
}

// Test statuses that ListTests counts as failing: dbt's fail and error,
// and warn when asked.
var (
	failingStatusesSQL          = `'fail', 'error'`
	failingOrWarningStatusesSQL = `'fail', 'error', 'warn'`
)

// ListTestsParams selects tests for ListTests; every field set must hold.
type ListTestsParams struct {
	ScopeID          int64  // 0: every scope
	AttachedUniqueID string // the tests of this node
	// TableID: the tests attached to a node that claims this table.
	TableID int64
	// Failing: tests whose latest status is fail or error, or warn too
	// with WithWarnings.
	Failing      bool
	WithWarnings bool
	// Limit defaults to 100 and is capped at 1000. Page on by passing the
	// ID of the last test returned as AfterID.
	Limit   int
	AfterID int64
}

// ListTests returns the tests p selects, in id order.
func (q queries) ListTests(ctx context.Context, p ListTestsParams) ([]CatalogTest, error) {
	var (
		a    args
		cond []string
	)
	if p.ScopeID != 0 {
		cond = append(cond, "t.scope_id = "+a.add(p.ScopeID))
	}
	if p.AttachedUniqueID != "" {
		cond = append(cond, "t.attached_unique_id = "+a.add(p.AttachedUniqueID))
	}
	if p.TableID != 0 {
		cond = append(cond, `EXISTS (SELECT 1 FROM catalog_nodes n WHERE n.scope_id = t.scope_id
			AND n.unique_id = t.attached_unique_id AND n.table_id = `+a.add(p.TableID)+`)`)
	}
	if p.Failing {
		cond = append(cond, "t.status IN ("+failingSQL(p.WithWarnings)+")")
	}
	if p.AfterID != 0 {
		cond = append(cond, "t.id > "+a.add(p.AfterID))
	}
	query := `SELECT ` + testColumns + ` FROM catalog_tests t`
	if len(cond) > 0 {
		query += ` WHERE ` + strings.Join(cond, " AND ")
	}
	query += ` ORDER BY t.id LIMIT ` + a.add(catalogLimit(p.Limit))
	rows, err := q.query(ctx, query, a...)
	if err != nil {
		return nil, wrap(err, "list tests")
	}
	list, err := collect(rows, scanTest)
	if err != nil {
		return nil, wrap(err, "list tests")
	}
	return list, nil
}

func failingSQL(withWarnings bool) string {
	if withWarnings {
		return failingOrWarningStatusesSQL
	}
	return failingStatusesSQL
}

// TestHistory returns up to limit results of test uniqueID of scope
// scopeID (limit as ListTests), newest first; results without a time
// come last.
func (q queries) TestHistory(ctx context.Context, scopeID int64, uniqueID string, limit int) ([]TestResult, error) {
	rows, err := q.query(ctx, `SELECT unique_id, run_id, status, failures, message, executed_at, execution_time
		FROM catalog_test_results WHERE scope_id = $1 AND unique_id = $2
		ORDER BY executed_at DESC NULLS LAST, run_id DESC LIMIT $3`, scopeID, uniqueID, catalogLimit(limit))
	if err != nil {
		return nil, wrap(err, "get the history of test %q of catalog scope %d", uniqueID, scopeID)
	}
	list, err := collect(rows, func(sc interface{ Scan(...any) error }) (TestResult, error) {
		var (
			r        TestResult
			failures sql.Null[int64]
		)
		err := sc.Scan(&r.UniqueID, &r.RunID, &r.Status, &failures, &r.Message, scanTime(&r.ExecutedAt), &r.ExecutionTime)
		if failures.Valid {
			r.Failures = &failures.V
		}
		return r, err
	})
	if err != nil {
		return nil, wrap(err, "get the history of test %q of catalog scope %d", uniqueID, scopeID)
	}
	return list, nil
}

// ScopedEdge is an edge of the graph of scope ScopeID.
type ScopedEdge struct {
	ScopeID int64
	CatalogEdge
}

// NodeRef names a node across scopes.
type NodeRef struct {
	ScopeID  int64
	UniqueID string
}

// scopeCondition is "column IN (...)" for scopeIDs, or true for none.
func scopeCondition(column string, scopeIDs []int64) (string, []any) {
	if len(scopeIDs) == 0 {
		return "1 = 1", nil
	}
	a := make([]any, len(scopeIDs))
	for i, id := range scopeIDs {
		a[i] = id
	}
	return column + " IN (" + placeholders(1, len(a)) + ")", a
}

// Edges returns the graph edges of the scopes scopeIDs (none: of every
// scope), ordered by scope, parent and child. With [Store.NodeTables] it
// is what table-level lineage is computed from.
func (q queries) Edges(ctx context.Context, scopeIDs ...int64) ([]ScopedEdge, error) {
	cond, a := scopeCondition("scope_id", scopeIDs)
	rows, err := q.query(ctx, `SELECT scope_id, parent_id, child_id, kind FROM catalog_edges
		WHERE `+cond+` ORDER BY scope_id, parent_id, child_id`, a...)
	if err != nil {
		return nil, wrap(err, "list catalog edges")
	}
	list, err := collect(rows, func(sc interface{ Scan(...any) error }) (ScopedEdge, error) {
		var e ScopedEdge
		return e, sc.Scan(&e.ScopeID, &e.ParentID, &e.ChildID, &e.Kind)
	})
	if err != nil {
		return nil, wrap(err, "list catalog edges")
	}
	return list, nil
}

// NodeTables maps each node of the scopes scopeIDs (none: of every scope)
// that claims a warehouse table to that table's id.
func (q queries) NodeTables(ctx context.Context, scopeIDs ...int64) (map[NodeRef]int64, error) {
	cond, a := scopeCondition("scope_id", scopeIDs)
	rows, err := q.query(ctx, `SELECT scope_id, unique_id, table_id FROM catalog_nodes
		WHERE table_id IS NOT NULL AND `+cond, a...)
	if err != nil {
		return nil, wrap(err, "map catalog nodes to tables")
	}
	m := map[NodeRef]int64{}
	err = eachRow(rows, func(sc interface{ Scan(...any) error }) error {
		var (
			ref NodeRef
			id  int64
		)
		if err := sc.Scan(&ref.ScopeID, &ref.UniqueID, &id); err != nil {
			return err
		}
		m[ref] = id
		return nil
	})
	if err != nil {
		return nil, wrap(err, "map catalog nodes to tables")
	}
	return m, nil
}

// ListCatalogJobs returns the dbt Cloud jobs of scope scopeID, by job id.
func (q queries) ListCatalogJobs(ctx context.Context, scopeID int64) ([]CatalogJob, error) {
	rows, err := q.query(ctx, `SELECT job_id, name, schedule, generate_docs, run_freshness, steps, url,
			last_run_id, last_run_status
		FROM catalog_jobs WHERE scope_id = $1 ORDER BY job_id`, scopeID)
	if err != nil {
		return nil, wrap(err, "list the jobs of catalog scope %d", scopeID)
	}
	list, err := collect(rows, func(sc interface{ Scan(...any) error }) (CatalogJob, error) {
		var (
			j         CatalogJob
			steps     []byte
			lastRunID sql.Null[int64]
		)
		if err := sc.Scan(&j.JobID, &j.Name, &j.Schedule, &j.GenerateDocs, &j.RunFreshness, &steps, &j.URL,
			&lastRunID, &j.LastRunStatus); err != nil {
			return j, err
		}
		j.LastRunID = lastRunID.V
		if steps != nil {
			if err := json.Unmarshal(steps, &j.Steps); err != nil {
				return j, fmt.Errorf("job %d: steps column: %w", j.JobID, err)
			}
		}
		return j, nil
	})
	if err != nil {
		return nil, wrap(err, "list the jobs of catalog scope %d", scopeID)
	}
	return list, nil
}

const catalogRunColumns = `r.run_id, r.job_id, r.status, r.started_at, r.finished_at, r.duration_s, r.url, r.git_sha`

func scanCatalogRun(sc interface{ Scan(...any) error }) (CatalogRun, error) {
	var r CatalogRun
	err := sc.Scan(&r.RunID, &r.JobID, &r.Status, scanTime(&r.StartedAt), scanTime(&r.FinishedAt), &r.Duration, &r.URL, &r.GitSHA)
	return r, err
}

// ListCatalogRunsParams selects runs for ListCatalogRuns.
type ListCatalogRunsParams struct {
	ScopeID int64 // required
	JobID   int64 // 0: every job
	// Limit defaults to 100 and is capped at 1000. Page backwards by
	// passing the RunID of the last run returned as BeforeRunID.
	Limit       int
	BeforeRunID int64
}

// ListCatalogRuns returns the runs of a scope whose artifacts syncs read,
// newest (highest run id) first.
func (q queries) ListCatalogRuns(ctx context.Context, p ListCatalogRunsParams) ([]CatalogRun, error) {
	var a args
	query := `SELECT ` + catalogRunColumns + ` FROM catalog_runs r WHERE r.scope_id = ` + a.add(p.ScopeID)
	if p.JobID != 0 {
		query += ` AND r.job_id = ` + a.add(p.JobID)
	}
	if p.BeforeRunID != 0 {
		query += ` AND r.run_id < ` + a.add(p.BeforeRunID)
	}
	query += ` ORDER BY r.run_id DESC LIMIT ` + a.add(catalogLimit(p.Limit))
	rows, err := q.query(ctx, query, a...)
	if err != nil {
		return nil, wrap(err, "list the runs of catalog scope %d", p.ScopeID)
	}
	list, err := collect(rows, scanCatalogRun)
	if err != nil {
		return nil, wrap(err, "list the runs of catalog scope %d", p.ScopeID)
	}
	return list, nil
}

// NodeRunDetail is a run that built a node: how the node ended, and the
// run. Run is the zero value when no sync stored the run itself.
type NodeRunDetail struct {
	NodeRun
	Run CatalogRun
}

// RunsForNode returns up to limit runs (limit as ListCatalogRuns) that
// built (or tried to build) node uniqueID of scope scopeID, newest (highest
// run id) first.
func (q queries) RunsForNode(ctx context.Context, scopeID int64, uniqueID string, limit int) ([]NodeRunDetail, error) {
	rows, err := q.query(ctx, `SELECT nr.unique_id, nr.run_id, nr.status, nr.execution_time, nr.completed_at,
			COALESCE(r.run_id, 0), COALESCE(r.job_id, 0), COALESCE(r.status, ''), r.started_at, r.finished_at,
			COALESCE(r.duration_s, 0), COALESCE(r.url, ''), COALESCE(r.git_sha, '')
		FROM catalog_node_runs nr
		LEFT JOIN catalog_runs r ON r.scope_id = nr.scope_id AND r.run_id = nr.run_id
		WHERE nr.scope_id = $1 AND nr.unique_id = $2
		ORDER BY nr.run_id DESC LIMIT $3`, scopeID, uniqueID, catalogLimit(limit))
	if err != nil {
		return nil, wrap(err, "list the runs of node %q of catalog scope %d", uniqueID, scopeID)
	}
	list, err := collect(rows, func(sc interface{ Scan(...any) error }) (NodeRunDetail, error) {
		var d NodeRunDetail
		err := sc.Scan(&d.UniqueID, &d.RunID, &d.Status, &d.ExecutionTime, scanTime(&d.CompletedAt),
			&d.Run.RunID, &d.Run.JobID, &d.Run.Status, scanTime(&d.Run.StartedAt), scanTime(&d.Run.FinishedAt),
			&d.Run.Duration, &d.Run.URL, &d.Run.GitSHA)
		return d, err
	})
	if err != nil {
		return nil, wrap(err, "list the runs of node %q of catalog scope %d", uniqueID, scopeID)
	}
	return list, nil
}

// TableFilter selects warehouse tables by what dbt says of them. A table
// matches when one node that claims it meets every condition set; the
// zero filter matches every table some node claims.
type TableFilter struct {
	ScopeID   int64  // only nodes of this scope (0: any)
	Tag       string // a tag of the node itself
	ColumnTag string // a tag of one of the node's columns
	Owner     string // the node's dbt owner, exactly
	// FailingTests: a test attached to the node has the latest status fail
	// or error, or warn too with WithWarnings.
	FailingTests bool
	WithWarnings bool
}

// TableIDsMatching returns the ids of the warehouse tables f selects, in
// ascending order, for the table listing to intersect with its own
// filters.
func (q queries) TableIDsMatching(ctx context.Context, f TableFilter) ([]int64, error) {
	var a args
	cond := []string{"n.table_id IS NOT NULL"}
	if f.ScopeID != 0 {
		cond = append(cond, "n.scope_id = "+a.add(f.ScopeID))
	}
	if f.Tag != "" {
		cond = append(cond, "EXISTS (SELECT 1 FROM catalog_node_tags g WHERE g.node_id = n.id AND g.column_name = '' AND g.tag = "+a.add(f.Tag)+")")
	}
	if f.ColumnTag != "" {
		cond = append(cond, "EXISTS (SELECT 1 FROM catalog_node_tags g WHERE g.node_id = n.id AND g.column_name <> '' AND g.tag = "+a.add(f.ColumnTag)+")")
	}
	if f.Owner != "" {
		cond = append(cond, "n.owner = "+a.add(f.Owner))
	}
	if f.FailingTests {
		cond = append(cond, `EXISTS (SELECT 1 FROM catalog_tests t WHERE t.scope_id = n.scope_id
			AND t.attached_unique_id = n.unique_id AND t.status IN (`+failingSQL(f.WithWarnings)+`))`)
	}
	rows, err := q.query(ctx, `SELECT DISTINCT n.table_id FROM catalog_nodes n
		WHERE `+strings.Join(cond, " AND ")+` ORDER BY n.table_id`, a...)
	if err != nil {
		return nil, wrap(err, "select catalog tables by their dbt nodes")
	}
	ids, err := collect(rows, func(sc interface{ Scan(...any) error }) (int64, error) {
		var id int64
		return id, sc.Scan(&id)
	})
	if err != nil {
		return nil, wrap(err, "select catalog tables by their dbt nodes")
	}
	return ids, nil
}
