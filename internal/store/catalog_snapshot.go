package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// WriteSnapshot writes what a sync learned about snap.Scope, in one
// transaction, and returns the scope as stored. It upserts the scope by
// Key (every field but ID; a zero SyncedAt is now), replaces the scope's
// nodes (with their columns and tags), tests, edges and jobs, and appends
// the test results, runs and node runs it does not have yet: history
// survives re-syncs, and writing the same run twice adds nothing.
//
// The ScopeID and ID fields of the nodes and tests are ignored; the nodes
// get new ids at every write. A node's TableID must name a catalog_tables
// row (0: none). A unique id twice among the nodes or the tests, or a job
// id twice, is ErrExists; repeated tags and edges count once. On any
// error, ctx cancelled included, the scope is left as it was.
//
// A 100 MB manifest (23,000 nodes, 200,000 columns, 15,000 tests) takes
// about two seconds: rows go in multi-row INSERTs as large as the
// databases' parameter limits allow. On SQLite the transaction holds the
// only connection for that long.
func (q queries) WriteSnapshot(ctx context.Context, snap Snapshot) (CatalogScope, error) {
	if err := checkScope(snap.Scope); err != nil {
		return CatalogScope{}, fmt.Errorf("store: write catalog snapshot: %w", err)
	}
	var scope CatalogScope
	err := q.atomic(ctx, func(q queries) error {
		var err error
		if scope, err = q.upsertScope(ctx, snap.Scope); err != nil {
			return fmt.Errorf("scope: %w", err)
		}
		w := snapshotWriter{q: q, scopeID: scope.ID}
		// The nodes' columns and tags go with them (ON DELETE CASCADE).
		for _, table := range []string{"catalog_nodes", "catalog_tests", "catalog_edges", "catalog_jobs"} {
			if _, err := q.exec(ctx, `DELETE FROM `+table+` WHERE scope_id = $1`, scope.ID); err != nil {
				return fmt.Errorf("clear %s: %w", table, err)
			}
		}
		for _, step := range []struct {
			what  string
			write func(context.Context, Snapshot) error
		}{
			{"nodes", w.nodes},
			{"tests", w.tests},
			{"test results", w.testResults},
			{"edges", w.edges},
			{"jobs", w.jobs},
			{"runs", w.runs},
			{"node runs", w.nodeRuns},
		} {
			if err := step.write(ctx, snap); err != nil {
				return fmt.Errorf("%s: %w", step.what, err)
			}
		}
		return nil
	})
	if err != nil {
		return CatalogScope{}, wrap(err, "write catalog snapshot of scope %q", snap.Scope.Key)
	}
	return scope, nil
}

func (q queries) upsertScope(ctx context.Context, s CatalogScope) (CatalogScope, error) {
	syncedAt := q.t(s.SyncedAt)
	if s.SyncedAt.IsZero() {
		syncedAt, _ = q.nowArg()
	}
	return scanScope(q.queryRow(ctx, `INSERT INTO catalog_scopes (
			key, kind, connection, account_id, project_id, project_name,
			environment_id, environment_name, adapter_type, dbt_version, warehouse,
			fingerprint, manifest_generated_at, synced_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT (key) DO UPDATE SET
			kind = excluded.kind, connection = excluded.connection,
			account_id = excluded.account_id, project_id = excluded.project_id,
			project_name = excluded.project_name, environment_id = excluded.environment_id,
			environment_name = excluded.environment_name, adapter_type = excluded.adapter_type,
			dbt_version = excluded.dbt_version, warehouse = excluded.warehouse,
			fingerprint = excluded.fingerprint, manifest_generated_at = excluded.manifest_generated_at,
			synced_at = excluded.synced_at
		RETURNING `+scopeColumns,
		s.Key, s.Kind, s.Connection, s.AccountID, s.ProjectID, s.ProjectName,
		s.EnvironmentID, s.EnvironmentName, s.AdapterType, s.DbtVersion, s.Warehouse,
		s.Fingerprint, q.t(s.ManifestGeneratedAt), syncedAt))
}

// snapshotWriter inserts the rows of one snapshot into scope scopeID.
type snapshotWriter struct {
	q       queries
	scopeID int64
}

func (w snapshotWriter) nodes(ctx context.Context, snap Snapshot) error {
	ids := make(map[string]int64, len(snap.Nodes))
	err := w.q.insertRows(ctx, `INSERT INTO catalog_nodes (
			scope_id, unique_id, resource_type, name, package_name, database_name, schema_name,
			identifier, relation_name, table_id, materialized, description, owner, meta,
			access, group_name, contract_enforced, version, file_path, raw_sql, compiled_sql,
			explore_url, last_run_id, last_run_status, last_run_at,
			freshness_status, freshness_max_loaded, freshness_checked_at, extra)`,
		`RETURNING id, unique_id`, 29, len(snap.Nodes),
		func(i int, a []any) []any {
			n := &snap.Nodes[i]
			return append(a, w.scopeID, n.UniqueID, n.ResourceType, n.Name, n.PackageName, n.Database, n.Schema,
				n.Identifier, n.RelationName, nullZero(n.TableID), n.Materialized, n.Description, n.Owner, nullBytes(n.Meta),
				n.Access, n.Group, n.ContractEnforced, n.Version, n.FilePath, n.RawSQL, n.CompiledSQL,
				n.ExploreURL, nullZero(n.LastRunID), n.LastRunStatus, w.q.t(n.LastRunAt),
				n.FreshnessStatus, w.q.t(n.FreshnessMaxLoaded), w.q.t(n.FreshnessCheckedAt), nullBytes(n.Extra))
		},
		func(rows *sql.Rows) error {
			var (
				id  int64
				uid string
			)
			if err := rows.Scan(&id, &uid); err != nil {
				return err
			}
			ids[uid] = id
			return nil
		})
	if err != nil {
		return err
	}

	type column struct {
		nodeID int64
		c      *NodeColumn
	}
	type tag struct {
		nodeID      int64
		column, tag string
	}
	var (
		columns []column
		tags    []tag
	)
	for i := range snap.Nodes {
		n := &snap.Nodes[i]
		id := ids[n.UniqueID]
		for _, t := range n.Tags {
			tags = append(tags, tag{id, "", t})
		}
		for j := range n.Columns {
			c := &n.Columns[j]
			columns = append(columns, column{id, c})
			for _, t := range c.Tags {
				tags = append(tags, tag{id, c.Name, t})
			}
		}
	}
	err = w.q.insertRows(ctx, `INSERT INTO catalog_node_columns (node_id, name, position, description, data_type, meta, constraints)`,
		``, 7, len(columns), func(i int, a []any) []any {
			c := columns[i]
			return append(a, c.nodeID, c.c.Name, c.c.Position, c.c.Description, c.c.DataType, nullBytes(c.c.Meta), nullBytes(c.c.Constraints))
		}, nil)
	if err != nil {
		return fmt.Errorf("columns: %w", err)
	}
	err = w.q.insertRows(ctx, `INSERT INTO catalog_node_tags (node_id, column_name, tag)`,
		`ON CONFLICT DO NOTHING`, 3, len(tags), func(i int, a []any) []any {
			return append(a, tags[i].nodeID, tags[i].column, tags[i].tag)
		}, nil)
	if err != nil {
		return fmt.Errorf("tags: %w", err)
	}
	return nil
}

func (w snapshotWriter) tests(ctx context.Context, snap Snapshot) error {
	return w.q.insertRows(ctx, `INSERT INTO catalog_tests (
			scope_id, unique_id, name, resource_type, test_name, namespace, attached_unique_id,
			column_name, severity, kwargs, compiled_sql, status, failures, message, executed_at, run_id, job_id)`,
		``, 17, len(snap.Tests), func(i int, a []any) []any {
			t := &snap.Tests[i]
			return append(a, w.scopeID, t.UniqueID, t.Name, cmp.Or(t.ResourceType, "test"), t.TestName, t.Namespace, t.AttachedUniqueID,
				t.ColumnName, t.Severity, nullBytes(t.Kwargs), t.CompiledSQL, t.Status, t.Failures, t.Message,
				w.q.t(t.ExecutedAt), nullZero(t.RunID), nullZero(t.JobID))
		}, nil)
}

func (w snapshotWriter) testResults(ctx context.Context, snap Snapshot) error {
	return w.q.insertRows(ctx, `INSERT INTO catalog_test_results (
			scope_id, unique_id, run_id, status, failures, message, executed_at, execution_time)`,
		`ON CONFLICT DO NOTHING`, 8, len(snap.TestResults), func(i int, a []any) []any {
			r := &snap.TestResults[i]
			return append(a, w.scopeID, r.UniqueID, r.RunID, r.Status, r.Failures, r.Message, w.q.t(r.ExecutedAt), r.ExecutionTime)
		}, nil)
}

func (w snapshotWriter) edges(ctx context.Context, snap Snapshot) error {
	return w.q.insertRows(ctx, `INSERT INTO catalog_edges (scope_id, parent_id, child_id, kind)`,
		`ON CONFLICT DO NOTHING`, 4, len(snap.Edges), func(i int, a []any) []any {
			e := &snap.Edges[i]
			return append(a, w.scopeID, e.ParentID, e.ChildID, cmp.Or(e.Kind, EdgeDirect))
		}, nil)
}

func (w snapshotWriter) jobs(ctx context.Context, snap Snapshot) error {
	steps := make([][]byte, len(snap.Jobs))
	for i, j := range snap.Jobs {
		if j.Steps == nil {
			continue
		}
		b, err := json.Marshal(j.Steps)
		if err != nil {
			return fmt.Errorf("steps of job %d: %w", j.JobID, err)
		}
		steps[i] = b
	}
	return w.q.insertRows(ctx, `INSERT INTO catalog_jobs (
			scope_id, job_id, name, schedule, generate_docs, run_freshness, steps, url, last_run_id, last_run_status)`,
		``, 10, len(snap.Jobs), func(i int, a []any) []any {
			j := &snap.Jobs[i]
			return append(a, w.scopeID, j.JobID, j.Name, j.Schedule, j.GenerateDocs, j.RunFreshness, nullBytes(steps[i]),
				j.URL, nullZero(j.LastRunID), j.LastRunStatus)
		}, nil)
}

func (w snapshotWriter) runs(ctx context.Context, snap Snapshot) error {
	return w.q.insertRows(ctx, `INSERT INTO catalog_runs (
			scope_id, run_id, job_id, status, started_at, finished_at, duration_s, url, git_sha)`,
		`ON CONFLICT DO NOTHING`, 9, len(snap.Runs), func(i int, a []any) []any {
			r := &snap.Runs[i]
			return append(a, w.scopeID, r.RunID, r.JobID, r.Status, w.q.t(r.StartedAt), w.q.t(r.FinishedAt), r.Duration, r.URL, r.GitSHA)
		}, nil)
}

func (w snapshotWriter) nodeRuns(ctx context.Context, snap Snapshot) error {
	return w.q.insertRows(ctx, `INSERT INTO catalog_node_runs (
			scope_id, unique_id, run_id, status, execution_time, completed_at)`,
		`ON CONFLICT DO NOTHING`, 6, len(snap.NodeRuns), func(i int, a []any) []any {
			r := &snap.NodeRuns[i]
			return append(a, w.scopeID, r.UniqueID, r.RunID, r.Status, r.ExecutionTime, w.q.t(r.CompletedAt))
		}, nil)
}

// maxParams is how many placeholders one statement may hold: SQLite's
// SQLITE_MAX_VARIABLE_NUMBER is 32,766 since 3.32, PostgreSQL's protocol
// counts them in 16 bits.
func (q queries) maxParams() int {
	if q.dialect == SQLite {
		return 32766
	}
	return 65535
}

// maxBatchRows caps the rows of one INSERT below the parameter limit:
// past a few thousand rows a larger statement costs more to parse and
// plan than the round trips it saves.
const maxBatchRows = 2000

// insertRows inserts n rows of width values each, which row appends to a
// for row i, in multi-row INSERTs: head is "INSERT INTO t (columns)", tail
// what follows the VALUES (ON CONFLICT, RETURNING). When tail returns
// rows, scan reads each of them.
func (q queries) insertRows(ctx context.Context, head, tail string, width, n int,
	row func(i int, a []any) []any, scan func(*sql.Rows) error,
) error {
	per := min(q.maxParams()/width, maxBatchRows, n)
	var (
		full     string // the statement of a batch of per rows, built once
		fullRows int
		a        = make([]any, 0, per*width)
	)
	for start := 0; start < n; start += per {
		count := min(per, n-start)
		a = a[:0]
		for i := start; i < start+count; i++ {
			a = row(i, a)
		}
		if len(a) != count*width {
			return fmt.Errorf("internal error: %d values for %d rows of %d columns", len(a), count, width)
		}
		query := full
		if fullRows != count {
			query = valuesStatement(head, tail, width, count)
			if fullRows == 0 {
				full, fullRows = query, count
			}
		}
		if scan == nil {
			if _, err := q.exec(ctx, query, a...); err != nil {
				return err
			}
			continue
		}
		rows, err := q.query(ctx, query, a...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				_ = rows.Close()
				return err
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// valuesStatement is head VALUES ($1, ...), ... tail for rows rows.
func valuesStatement(head, tail string, width, rows int) string {
	var b strings.Builder
	b.Grow(len(head) + len(tail) + rows*width*8)
	b.WriteString(head)
	b.WriteString(" VALUES ")
	p := 1
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range width {
			if c > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(p))
			p++
		}
		b.WriteByte(')')
	}
	if tail != "" {
		b.WriteByte(' ')
		b.WriteString(tail)
	}
	return b.String()
}
