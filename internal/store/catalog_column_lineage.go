package store

import (
	"context"
	"strings"
)

// Kinds of column lineage edges (ColumnEdge.Kind).
const (
	ColumnCopy      = "copy"
	ColumnTransform = "transform"
	ColumnFilter    = "filter"
	ColumnJoin      = "join"
)

// ColumnLineage is the column-level lineage of a scope's models, computed
// by a sync from their compiled SQL.
type ColumnLineage struct {
	Edges []ColumnEdge
	Gaps  []ColumnGap
}

// ColumnEdge says that column ChildColumn of node ChildID reads column
// ParentColumn of ParentRelation (node ParentID, "" when the relation is
// no node of the scope). Filter and join edges have ChildColumn "": they
// shape every column of the child. Via lists the ephemeral models the edge
// passed through, outermost first.
type ColumnEdge struct {
	ScopeID        int64    `json:"scope_id,omitempty"`
	ChildID        string   `json:"child_id"`
	ChildColumn    string   `json:"child_column"`
	ParentID       string   `json:"parent_id,omitempty"`
	ParentRelation string   `json:"parent_relation"`
	ParentColumn   string   `json:"parent_column"`
	Kind           string   `json:"kind"`
	Via            []string `json:"via,omitempty"`
}

// ColumnGap says why the lineage of a model (Column "") or one of its
// columns is incomplete.
type ColumnGap struct {
	ScopeID  int64  `json:"scope_id,omitempty"`
	UniqueID string `json:"unique_id"`
	Column   string `json:"column,omitempty"`
	Reason   string `json:"reason"`
}

// columnLineage is WriteSnapshot's step that replaces the scope's column
// lineage rows.
func (w snapshotWriter) columnLineage(ctx context.Context, snap Snapshot) error {
	for _, table := range []string{"catalog_column_lineage", "catalog_column_lineage_gaps"} {
		if _, err := w.q.exec(ctx, `DELETE FROM `+table+` WHERE scope_id = $1`, w.scopeID); err != nil {
			return wrap(err, "clear %s", table)
		}
	}
	cl := snap.ColumnLineage
	err := w.q.insertRows(ctx, `INSERT INTO catalog_column_lineage (scope_id, child_id, child_column, parent_id, parent_relation, parent_column, kind, via)`,
		"", []string{"bigint", "text", "text", "text", "text", "text", "text", "text"}, len(cl.Edges), func(i int, a []any) []any {
			e := &cl.Edges[i]
			return append(a, w.scopeID, e.ChildID, e.ChildColumn, e.ParentID, e.ParentRelation, e.ParentColumn, e.Kind, strings.Join(e.Via, ","))
		}, nil)
	if err != nil {
		return wrap(err, "insert column lineage")
	}
	err = w.q.insertRows(ctx, `INSERT INTO catalog_column_lineage_gaps (scope_id, unique_id, column_name, reason)`,
		"", []string{"bigint", "text", "text", "text"}, len(cl.Gaps), func(i int, a []any) []any {
			g := &cl.Gaps[i]
			return append(a, w.scopeID, g.UniqueID, g.Column, g.Reason)
		}, nil)
	if err != nil {
		return wrap(err, "insert column lineage gaps")
	}
	return nil
}

const columnEdgeColumns = `scope_id, child_id, child_column, parent_id, parent_relation, parent_column, kind, via`

func scanColumnEdge(sc interface{ Scan(...any) error }) (ColumnEdge, error) {
	var (
		e   ColumnEdge
		via string
	)
	err := sc.Scan(&e.ScopeID, &e.ChildID, &e.ChildColumn, &e.ParentID, &e.ParentRelation, &e.ParentColumn, &e.Kind, &via)
	if via != "" {
		e.Via = strings.Split(via, ",")
	}
	return e, err
}

// ColumnParents returns the edges into column column of node childID in
// scope scopeID (column matched without regard to case), with the node's
// filter and join edges (ChildColumn ""), ordered by parent.
func (q queries) ColumnParents(ctx context.Context, scopeID int64, childID, column string) ([]ColumnEdge, error) {
	rows, err := q.query(ctx, `SELECT `+columnEdgeColumns+` FROM catalog_column_lineage
		WHERE scope_id = $1 AND child_id = $2 AND (lower(child_column) = lower($3) OR child_column = '')
		ORDER BY parent_relation, parent_column, kind`, scopeID, childID, column)
	if err != nil {
		return nil, wrap(err, "list column lineage parents of %s.%s", childID, column)
	}
	list, err := collect(rows, scanColumnEdge)
	if err != nil {
		return nil, wrap(err, "list column lineage parents of %s.%s", childID, column)
	}
	return list, nil
}

// ColumnChildren returns the edges out of column column of node parentID
// in scope scopeID (column matched without regard to case), by child.
func (q queries) ColumnChildren(ctx context.Context, scopeID int64, parentID, column string) ([]ColumnEdge, error) {
	rows, err := q.query(ctx, `SELECT `+columnEdgeColumns+` FROM catalog_column_lineage
		WHERE scope_id = $1 AND parent_id = $2 AND lower(parent_column) = lower($3)
		ORDER BY child_id, child_column, kind`, scopeID, parentID, column)
	if err != nil {
		return nil, wrap(err, "list column lineage children of %s.%s", parentID, column)
	}
	list, err := collect(rows, scanColumnEdge)
	if err != nil {
		return nil, wrap(err, "list column lineage children of %s.%s", parentID, column)
	}
	return list, nil
}

// ColumnGaps returns why the lineage of node uniqueID in scope scopeID is
// incomplete: the model's gaps (Column "") and those of its columns.
func (q queries) ColumnGaps(ctx context.Context, scopeID int64, uniqueID string) ([]ColumnGap, error) {
	rows, err := q.query(ctx, `SELECT scope_id, unique_id, column_name, reason FROM catalog_column_lineage_gaps
		WHERE scope_id = $1 AND unique_id = $2 ORDER BY column_name, reason`, scopeID, uniqueID)
	if err != nil {
		return nil, wrap(err, "list column lineage gaps of %s", uniqueID)
	}
	list, err := collect(rows, func(sc interface{ Scan(...any) error }) (ColumnGap, error) {
		var g ColumnGap
		return g, sc.Scan(&g.ScopeID, &g.UniqueID, &g.Column, &g.Reason)
	})
	if err != nil {
		return nil, wrap(err, "list column lineage gaps of %s", uniqueID)
	}
	return list, nil
}

// PresentColumnNames returns the names of the present (not removed)
// columns of each table in tableIDs, in position order: what column
// lineage expands * with. Tables without columns are left out.
func (q queries) PresentColumnNames(ctx context.Context, tableIDs []int64) (map[int64][]string, error) {
	out := make(map[int64][]string, len(tableIDs))
	const batch = 500
	for start := 0; start < len(tableIDs); start += batch {
		ids := tableIDs[start:min(start+batch, len(tableIDs))]
		a := make([]any, len(ids))
		for i, id := range ids {
			a[i] = id
		}
		rows, err := q.query(ctx, `SELECT table_id, name FROM catalog_columns
			WHERE removed_at IS NULL AND table_id IN (`+placeholders(1, len(a))+`)
			ORDER BY table_id, position, name`, a...)
		if err != nil {
			return nil, wrap(err, "read column names of %d tables", len(ids))
		}
		err = eachRow(rows, func(sc interface{ Scan(...any) error }) error {
			var (
				id   int64
				name string
			)
			if err := sc.Scan(&id, &name); err != nil {
				return err
			}
			out[id] = append(out[id], name)
			return nil
		})
		if err != nil {
			return nil, wrap(err, "read column names of %d tables", len(ids))
		}
	}
	return out, nil
}
