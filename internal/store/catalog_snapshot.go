package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// WriteSnapshot writes what a sync learned about snap.Scope, in one
// transaction, and returns the scope as stored. It upserts the scope by
// Key (every field but ID; a zero SyncedAt is now), replaces the scope's
// nodes (with their columns and tags), tests, edges and jobs, and appends
// the test results, runs and node runs it does not have yet: history
// survives re-syncs, and writing the same run twice adds nothing.
//
// The ScopeID and ID fields of the nodes and tests are ignored; a node
// keeps its id as long as the scope has it, a test gets a new one. A
// node's TableID must name a catalog_tables row (0: none). A unique id twice among the nodes or the tests, or a job
// id twice, is ErrExists; repeated tags and edges count once. On any
// error, ctx cancelled included, the scope is left as it was.
//
// On SQLite rows go in multi-row INSERTs of up to 500 rows. On
// PostgreSQL, rows that cannot conflict with stored ones (node columns and
// tags, tests, edges, and the nodes of a scope's first sync) are copied
// when the transaction has a copier (InTx, or WriteSnapshot's own), the
// rest go in one INSERT ... SELECT FROM unnest of text arrays per table and
// 50,000 rows; a large write ends with ANALYZE of the node tables (see
// analyzeAfterWrite). bench/catalogbench times it in a whole sync: for
// 18,000 nodes (200,000 node columns) of a 100 MB manifest, about 0.7 s of
// CPU on SQLite, most of it rewriting the nodes' rows (their SQL makes
// them ~2.5 KB each) and the columns; on PostgreSQL 0.2 s of client CPU
// and 1.3 s of the server's. On SQLite the transaction holds the only
// connection for that long.
func (q queries) WriteSnapshot(ctx context.Context, snap Snapshot) (CatalogScope, error) {
	if err := checkScope(snap.Scope); err != nil {
		return CatalogScope{}, fmt.Errorf("store: write catalog snapshot: %w", err)
	}
	var scope CatalogScope
	err := q.atomicCopy(ctx, func(q queries, _ copier) error {
		var err error
		if scope, err = q.upsertScope(ctx, snap.Scope); err != nil {
			return fmt.Errorf("scope: %w", err)
		}
		w := snapshotWriter{q: q, scopeID: scope.ID}
		for _, table := range []string{"catalog_tests", "catalog_edges", "catalog_jobs"} {
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
			{"column lineage", w.columnLineage},
		} {
			if err := step.write(ctx, snap); err != nil {
				return fmt.Errorf("%s: %w", step.what, err)
			}
		}
		return q.analyzeAfterWrite(ctx, len(snap.Nodes)+len(snap.Tests))
	})
	if err != nil {
		return CatalogScope{}, wrap(err, "write catalog snapshot of scope %q", snap.Scope.Key)
	}
	return scope, nil
}

// analyzeRows is how many rows a snapshot writes before PostgreSQL's
// statistics of the node tables are brought up to date in its transaction.
const analyzeRows = 2000

// analyzeAfterWrite runs ANALYZE on the dbt tables on PostgreSQL after a
// write of rows nodes and tests. The planner otherwise plans the reads
// that follow in the same transaction (the search refresh: nodes by
// table_id, their columns and tags) with the statistics of before the
// write, which for a first sync are none: it scanned the whole tables for
// every batch of 500 tables, 12 s for 18,000 nodes. ANALYZE samples at
// most 30,000 rows per table and sees the transaction's own rows; it takes
// a lock that only another ANALYZE or VACUUM of these tables waits for.
// Only the columns those reads filter and join on are sampled: the whole
// rows would detoast every node's SQL (0.4 s of 0.07 s for 18,000 nodes).
func (q queries) analyzeAfterWrite(ctx context.Context, rows int) error {
	if q.dialect != Postgres || rows < analyzeRows {
		return nil
	}
	if _, err := q.exec(ctx, `ANALYZE catalog_nodes (id, scope_id, table_id), catalog_node_columns (node_id),
		catalog_node_tags (node_id), catalog_tests (scope_id, attached_unique_id, status)`); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return nil
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

// nodeColumnNames are the columns nodes writes, after scope_id.
var nodeColumnNames = []string{"unique_id", "resource_type", "name", "package_name", "database_name", "schema_name",
	"identifier", "relation_name", "table_id", "materialized", "description", "owner", "meta",
	"access", "group_name", "contract_enforced", "version", "file_path", "raw_sql", "compiled_sql",
	"explore_url", "last_run_id", "last_run_status", "last_run_at",
	"freshness_status", "freshness_max_loaded", "freshness_checked_at", "extra"}

// nodeColumnTypes are the PostgreSQL types of scope_id and nodeColumnNames.
var nodeColumnTypes = []string{"bigint", "text", "text", "text", "text", "text", "text",
	"text", "text", "bigint", "text", "text", "text", "bytea",
	"text", "text", "boolean", "text", "text", "text", "text",
	"text", "bigint", "text", "timestamptz",
	"text", "timestamptz", "timestamptz", "bytea"}

// upsertNodesSQL updates a node the scope has in place, so that a node
// keeps its id across syncs (the search index and links refer to it) and
// a re-sync rewrites each row once instead of deleting and inserting it.
var upsertNodesHead, upsertNodesTail = func() (string, string) {
	set := make([]string, 0, len(nodeColumnNames))
	for _, c := range nodeColumnNames[1:] {
		set = append(set, c+" = excluded."+c)
	}
	return `INSERT INTO catalog_nodes (scope_id, ` + strings.Join(nodeColumnNames, ", ") + `)`,
		`ON CONFLICT (scope_id, unique_id) DO UPDATE SET ` + strings.Join(set, ", ") + ` RETURNING id, unique_id`
}()

func (w snapshotWriter) nodes(ctx context.Context, snap Snapshot) error {
	ids := make(map[string]int64, len(snap.Nodes))
	for _, n := range snap.Nodes {
		// An upsert would silently keep the last of two.
		if _, dup := ids[n.UniqueID]; dup {
			return fmt.Errorf("node %q twice: %w", n.UniqueID, ErrExists)
		}
		ids[n.UniqueID] = 0
	}
	row := func(i int, a []any) []any {
		n := &snap.Nodes[i]
		return append(a, w.scopeID, n.UniqueID, n.ResourceType, n.Name, n.PackageName, n.Database, n.Schema,
			n.Identifier, n.RelationName, nullZero(n.TableID), n.Materialized, n.Description, n.Owner, nullBytes(n.Meta),
			n.Access, n.Group, n.ContractEnforced, n.Version, n.FilePath, n.RawSQL, n.CompiledSQL,
			n.ExploreURL, nullZero(n.LastRunID), n.LastRunStatus, w.q.t(n.LastRunAt),
			n.FreshnessStatus, w.q.t(n.FreshnessMaxLoaded), w.q.t(n.FreshnessCheckedAt), nullBytes(n.Extra))
	}
	// A scope's first sync copies its nodes (nothing to update in place)
	// and reads their ids back below; later ones upsert, keeping ids.
	first := false
	if w.q.cp != nil {
		if err := w.q.queryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM catalog_nodes WHERE scope_id = $1)`, w.scopeID).Scan(&first); err != nil {
			return fmt.Errorf("look for the scope's nodes: %w", err)
		}
	}
	var err error
	if first {
		err = w.q.insertNew(ctx, "catalog_nodes", append([]string{"scope_id"}, nodeColumnNames...), nodeColumnTypes, len(snap.Nodes), row)
	} else {
		err = w.q.insertRows(ctx, upsertNodesHead, upsertNodesTail, nodeColumnTypes, len(snap.Nodes), row,
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
	}
	if err != nil {
		return err
	}

	// The nodes the snapshot no longer has go; usually few. A first sync
	// learns its nodes' ids here.
	rows, err := w.q.query(ctx, `SELECT id, unique_id FROM catalog_nodes WHERE scope_id = $1`, w.scopeID)
	if err != nil {
		return err
	}
	var stale []any
	err = eachRow(rows, func(sc interface{ Scan(...any) error }) error {
		var (
			id  int64
			uid string
		)
		if err := sc.Scan(&id, &uid); err != nil {
			return err
		}
		switch old, ok := ids[uid]; {
		case !ok:
			stale = append(stale, id)
		case old == 0:
			ids[uid] = id
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list the nodes to remove: %w", err)
	}
	// The columns and tags of the nodes are replaced, those of the nodes
	// removed go: they have no foreign key to cascade along.
	for _, table := range []string{"catalog_node_columns", "catalog_node_tags"} {
		if _, err := w.q.exec(ctx, `DELETE FROM `+table+` WHERE node_id IN (SELECT id FROM catalog_nodes WHERE scope_id = $1)`, w.scopeID); err != nil {
			return fmt.Errorf("clear %s: %w", table, err)
		}
	}
	for start := 0; start < len(stale); start += idChunk {
		chunk := stale[start:min(start+idChunk, len(stale))]
		if _, err := w.q.exec(ctx, `DELETE FROM catalog_nodes WHERE id IN (`+placeholders(1, len(chunk))+`)`, chunk...); err != nil {
			return fmt.Errorf("remove %d nodes: %w", len(stale), err)
		}
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
		// A tag repeated on a node or column counts once: the rows are
		// copied, with no ON CONFLICT to drop the repeats.
		seenTag = map[tag]bool{}
	)
	addTag := func(t tag) {
		if !seenTag[t] {
			seenTag[t] = true
			tags = append(tags, t)
		}
	}
	for i := range snap.Nodes {
		n := &snap.Nodes[i]
		id := ids[n.UniqueID]
		for _, t := range n.Tags {
			addTag(tag{id, "", t})
		}
		for j := range n.Columns {
			c := &n.Columns[j]
			columns = append(columns, column{id, c})
			for _, t := range c.Tags {
				addTag(tag{id, c.Name, t})
			}
		}
	}
	err = w.q.insertNew(ctx, "catalog_node_columns", []string{"node_id", "name", "position", "description", "data_type", "meta", "constraints"},
		[]string{"bigint", "text", "bigint", "text", "text", "bytea", "bytea"}, len(columns), func(i int, a []any) []any {
			c := columns[i]
			return append(a, c.nodeID, c.c.Name, int64(c.c.Position), c.c.Description, c.c.DataType, nullBytes(c.c.Meta), nullBytes(c.c.Constraints))
		})
	if err != nil {
		return fmt.Errorf("columns: %w", err)
	}
	err = w.q.insertNew(ctx, "catalog_node_tags", []string{"node_id", "column_name", "tag"},
		[]string{"bigint", "text", "text"}, len(tags), func(i int, a []any) []any {
			return append(a, tags[i].nodeID, tags[i].column, tags[i].tag)
		})
	if err != nil {
		return fmt.Errorf("tags: %w", err)
	}
	return nil
}

func (w snapshotWriter) tests(ctx context.Context, snap Snapshot) error {
	seen := make(map[string]bool, len(snap.Tests))
	for _, t := range snap.Tests {
		// Copied rows have no unique violation to report a repeat.
		if seen[t.UniqueID] {
			return fmt.Errorf("test %q twice: %w", t.UniqueID, ErrExists)
		}
		seen[t.UniqueID] = true
	}
	return w.q.insertNew(ctx, "catalog_tests", []string{
		"scope_id", "unique_id", "name", "resource_type", "test_name", "namespace", "attached_unique_id",
		"column_name", "severity", "kwargs", "compiled_sql", "status", "failures", "message", "executed_at", "run_id", "job_id"},
		[]string{"bigint", "text", "text", "text", "text", "text", "text",
			"text", "text", "bytea", "text", "text", "bigint", "text", "timestamptz", "bigint", "bigint"}, len(snap.Tests), func(i int, a []any) []any {
			t := &snap.Tests[i]
			return append(a, w.scopeID, t.UniqueID, t.Name, cmp.Or(t.ResourceType, "test"), t.TestName, t.Namespace, t.AttachedUniqueID,
				t.ColumnName, t.Severity, nullBytes(t.Kwargs), t.CompiledSQL, t.Status, t.Failures, t.Message,
				w.q.t(t.ExecutedAt), nullZero(t.RunID), nullZero(t.JobID))
		})
}

func (w snapshotWriter) testResults(ctx context.Context, snap Snapshot) error {
	return w.q.insertRows(ctx, `INSERT INTO catalog_test_results (
			scope_id, unique_id, run_id, status, failures, message, executed_at, execution_time)`,
		`ON CONFLICT DO NOTHING`, []string{"bigint", "text", "bigint", "text", "bigint", "text", "timestamptz", "double precision"}, len(snap.TestResults), func(i int, a []any) []any {
			r := &snap.TestResults[i]
			return append(a, w.scopeID, r.UniqueID, r.RunID, r.Status, r.Failures, r.Message, w.q.t(r.ExecutedAt), r.ExecutionTime)
		}, nil)
}

func (w snapshotWriter) edges(ctx context.Context, snap Snapshot) error {
	// An edge repeated counts once, the first with its kind: the rows are
	// copied, with no ON CONFLICT to drop the repeats.
	type pair struct{ parent, child string }
	seen := make(map[pair]bool, len(snap.Edges))
	edges := make([]*CatalogEdge, 0, len(snap.Edges))
	for i := range snap.Edges {
		e := &snap.Edges[i]
		if p := (pair{e.ParentID, e.ChildID}); !seen[p] {
			seen[p] = true
			edges = append(edges, e)
		}
	}
	return w.q.insertNew(ctx, "catalog_edges", []string{"scope_id", "parent_id", "child_id", "kind"},
		[]string{"bigint", "text", "text", "text"}, len(edges), func(i int, a []any) []any {
			e := edges[i]
			return append(a, w.scopeID, e.ParentID, e.ChildID, cmp.Or(e.Kind, EdgeDirect))
		})
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
		``, []string{"bigint", "bigint", "text", "text", "boolean", "boolean", "bytea", "text", "bigint", "text"}, len(snap.Jobs), func(i int, a []any) []any {
			j := &snap.Jobs[i]
			return append(a, w.scopeID, j.JobID, j.Name, j.Schedule, j.GenerateDocs, j.RunFreshness, nullBytes(steps[i]),
				j.URL, nullZero(j.LastRunID), j.LastRunStatus)
		}, nil)
}

func (w snapshotWriter) runs(ctx context.Context, snap Snapshot) error {
	return w.q.insertRows(ctx, `INSERT INTO catalog_runs (
			scope_id, run_id, job_id, status, started_at, finished_at, duration_s, url, git_sha)`,
		`ON CONFLICT DO NOTHING`, []string{"bigint", "bigint", "bigint", "text", "timestamptz", "timestamptz", "double precision", "text", "text"}, len(snap.Runs), func(i int, a []any) []any {
			r := &snap.Runs[i]
			return append(a, w.scopeID, r.RunID, r.JobID, r.Status, w.q.t(r.StartedAt), w.q.t(r.FinishedAt), r.Duration, r.URL, r.GitSHA)
		}, nil)
}

func (w snapshotWriter) nodeRuns(ctx context.Context, snap Snapshot) error {
	return w.q.insertRows(ctx, `INSERT INTO catalog_node_runs (
			scope_id, unique_id, run_id, status, execution_time, completed_at)`,
		`ON CONFLICT DO NOTHING`, []string{"bigint", "text", "bigint", "text", "double precision", "timestamptz"}, len(snap.NodeRuns), func(i int, a []any) []any {
			r := &snap.NodeRuns[i]
			return append(a, w.scopeID, r.UniqueID, r.RunID, r.Status, r.ExecutionTime, w.q.t(r.CompletedAt))
		}, nil)
}

// copyRows is the least rows insertNew copies: below it a COPY's round
// trips cost more than the INSERT.
const copyRows = 100

// insertNew inserts n rows, which cannot conflict with rows already there,
// into table's columns, whose PostgreSQL types are types: by COPY when the
// transaction has a copier (PostgreSQL), else by insertRows. COPY reads
// the values in pgx's binary encoding, without the unnest of text arrays
// an INSERT needs: for a first sync's 200,000 node columns, about half the
// server's time.
func (q queries) insertNew(ctx context.Context, table string, columns, types []string, n int, row func(i int, a []any) []any) error {
	if q.cp == nil || n < copyRows {
		return q.insertRows(ctx, "INSERT INTO "+table+" ("+strings.Join(columns, ", ")+")", "", types, n, row, nil)
	}
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = row(i, make([]any, 0, len(columns)))
		if len(rows[i]) != len(columns) {
			return fmt.Errorf("internal error: %d values for the %d columns of %s", len(rows[i]), len(columns), table)
		}
	}
	return q.cp(ctx, table, columns, rows)
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

// maxBatchRows caps the rows of one INSERT below the parameter limits:
// past a few hundred rows a larger statement saves no time (SQLite parses
// every statement anew; a PostgreSQL round trip on a local network costs
// less than the rows it carries) and holds more memory.
const maxBatchRows = 500

// insertRows inserts n rows of len(types) values each, which row appends
// to a for row i: head is "INSERT INTO t (columns)", tail what follows the
// rows (ON CONFLICT, RETURNING). When tail returns rows, scan reads each
// of them. types are the columns' PostgreSQL types. SQLite gets multi-row
// INSERTs; PostgreSQL one statement per pgArrayRows rows, whose columns
// are text arrays unnested (insertArrays).
func (q queries) insertRows(ctx context.Context, head, tail string, types []string, n int,
	row func(i int, a []any) []any, scan func(*sql.Rows) error,
) error {
	if n == 0 {
		return nil
	}
	if q.dialect == Postgres {
		return q.insertArrays(ctx, head, tail, types, n, row, scan)
	}
	width := len(types)
	per := min(q.maxParams()/width, maxBatchRows, n)
	// The statement of a full batch is prepared once: SQLite would parse
	// it again at every batch (pgx caches it anyway).
	var full *sql.Stmt
	if p, ok := q.q.(interface {
		PrepareContext(context.Context, string) (*sql.Stmt, error)
	}); ok && n >= 2*per {
		var err error
		if full, err = p.PrepareContext(ctx, q.rebind(valuesStatement(q.dialect, head, tail, width, per))); err != nil {
			return err
		}
		defer full.Close()
	}
	a := make([]any, 0, per*width)
	for start := 0; start < n; start += per {
		count := min(per, n-start)
		a = a[:0]
		for i := start; i < start+count; i++ {
			a = row(i, a)
		}
		if len(a) != count*width {
			return fmt.Errorf("internal error: %d values for %d rows of %d columns", len(a), count, width)
		}
		var (
			rows *sql.Rows
			err  error
		)
		switch {
		case full != nil && count == per && scan == nil:
			_, err = full.ExecContext(ctx, a...)
		case full != nil && count == per:
			rows, err = full.QueryContext(ctx, a...)
		case scan == nil:
			_, err = q.exec(ctx, valuesStatement(q.dialect, head, tail, width, count), a...)
		default:
			rows, err = q.query(ctx, valuesStatement(q.dialect, head, tail, width, count), a...)
		}
		if err != nil {
			return err
		}
		if rows == nil {
			continue
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

// pgArrayRows caps the rows of one PostgreSQL statement of insertArrays:
// enough that a snapshot takes a few statements, few enough that the
// arrays of one stay within tens of megabytes.
const pgArrayRows = 50_000

// insertArrays is insertRows on PostgreSQL: each statement binds one text
// array per column and inserts SELECT v0::type, ... FROM unnest(...), so
// that the server parses and plans one short statement per pgArrayRows
// rows instead of one with thousands of placeholders per 500 rows (which
// costs more than inserting the rows).
func (q queries) insertArrays(ctx context.Context, head, tail string, types []string, n int,
	row func(i int, a []any) []any, scan func(*sql.Rows) error,
) error {
	width := len(types)
	names := make([]string, width)
	casts := make([]string, width)
	unnest := make([]string, width)
	for j, typ := range types {
		names[j] = "v" + strconv.Itoa(j)
		casts[j] = names[j] + "::" + typ
		unnest[j] = "$" + strconv.Itoa(j+1) + "::text[]"
	}
	stmt := head + " SELECT " + strings.Join(casts, ", ") + " FROM unnest(" + strings.Join(unnest, ", ") +
		") AS v (" + strings.Join(names, ", ") + ")"
	if tail != "" {
		stmt += " " + tail
	}
	cols := make([][]*string, width)
	a := make([]any, 0, width)
	for start := 0; start < n; start += pgArrayRows {
		count := min(pgArrayRows, n-start)
		for j := range cols {
			cols[j] = make([]*string, count)
		}
		for i := range count {
			a = row(start+i, a[:0])
			if len(a) != width {
				return fmt.Errorf("internal error: %d values for a row of %d columns", len(a), width)
			}
			for j, v := range a {
				t, err := pgArrayText(v)
				if err != nil {
					return fmt.Errorf("column %d: %w", j+1, err)
				}
				cols[j][i] = t
			}
		}
		params := make([]any, width)
		for j := range cols {
			params[j] = cols[j]
		}
		if scan == nil {
			if _, err := q.exec(ctx, stmt, params...); err != nil {
				return err
			}
			continue
		}
		rows, err := q.query(ctx, stmt, params...)
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

// pgArrayText is v in the text form PostgreSQL casts from (bytea as \x
// and hex digits); nil is NULL.
func pgArrayText(v any) (*string, error) {
	var s string
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		s = v
	case []byte:
		s = `\x` + hex.EncodeToString(v)
	case int64:
		s = strconv.FormatInt(v, 10)
	case int:
		s = strconv.Itoa(v)
	case *int64:
		if v == nil {
			return nil, nil
		}
		s = strconv.FormatInt(*v, 10)
	case float64:
		s = strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		s = strconv.FormatBool(v)
	case time.Time:
		s = v.Format(time.RFC3339Nano)
	default:
		return nil, fmt.Errorf("internal error: no text form for %T", v)
	}
	return &s, nil
}

// valuesStatement is head VALUES ($1, ...), ... tail for rows rows. SQLite
// gets plain ? placeholders: the driver looks up the name of every
// parameter it binds, and a numbered one costs a walk through the list of
// all of them, which for thousands is most of the time of the insert.
func valuesStatement(dialect Dialect, head, tail string, width, rows int) string {
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
			if dialect == SQLite {
				b.WriteByte('?')
				continue
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
