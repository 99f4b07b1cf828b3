package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
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
// ParentColumn of node ParentID, or, when the relation is no node of the
// scope (ParentID ""), of ParentRelation as the SQL names it; a sync
// leaves ParentRelation "" when ParentID is set. Filter and join edges have ChildColumn "": they
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

// storedEdge is an edge in a model's edges document.
type storedEdge struct {
	ChildColumn    string   `json:"c"`
	ParentID       string   `json:"p,omitempty"`
	ParentRelation string   `json:"r,omitempty"`
	ParentColumn   string   `json:"pc"`
	Kind           string   `json:"k"`
	Via            []string `json:"v,omitempty"`
}

// WriteColumnLineage replaces the column lineage of scope scopeID, as
// WriteSnapshot does with Snapshot.ColumnLineage: the sync computes it
// while the rest of its snapshot is written, in the same transaction.
func (q queries) WriteColumnLineage(ctx context.Context, scopeID int64, cl ColumnLineage) error {
	err := q.atomic(ctx, func(q queries) error {
		return snapshotWriter{q: q, scopeID: scopeID}.columnLineage(ctx, Snapshot{ColumnLineage: cl})
	})
	if err != nil {
		return wrap(err, "write the column lineage of scope %d", scopeID)
	}
	return nil
}

// storedGap is a gap in a model's gaps document.
type storedGap struct {
	Column string `json:"c"`
	Reason string `json:"r"`
}

// columnLineage is WriteSnapshot's step that replaces the scope's column
// lineage: one edges document per model, the models each node feeds, and
// the gaps.
func (w snapshotWriter) columnLineage(ctx context.Context, snap Snapshot) error {
	for _, table := range []string{"catalog_column_lineage", "catalog_column_lineage_parents", "catalog_column_lineage_gaps"} {
		if _, err := w.q.exec(ctx, `DELETE FROM `+table+` WHERE scope_id = $1`, w.scopeID); err != nil {
			return fmt.Errorf("clear %s: %w", table, err)
		}
	}
	cl := snap.ColumnLineage
	// Group by child, keeping the first-seen order of children.
	var children []string
	byChild := map[string][]storedEdge{}
	type pair struct{ parent, child string }
	var pairs []pair
	seenPair := map[pair]bool{}
	for _, e := range cl.Edges {
		if _, ok := byChild[e.ChildID]; !ok {
			children = append(children, e.ChildID)
		}
		byChild[e.ChildID] = append(byChild[e.ChildID], storedEdge{ChildColumn: e.ChildColumn, ParentID: e.ParentID,
			ParentRelation: e.ParentRelation, ParentColumn: e.ParentColumn, Kind: e.Kind, Via: e.Via})
		if p := (pair{e.ParentID, e.ChildID}); e.ParentID != "" && !seenPair[p] {
			seenPair[p] = true
			pairs = append(pairs, p)
		}
	}
	docs := make([][]byte, len(children))
	for i, c := range children {
		b, err := json.Marshal(byChild[c])
		if err != nil {
			return fmt.Errorf("encode the column lineage of %s: %w", c, err)
		}
		docs[i] = b
	}
	// The scope's rows were deleted above and children and pairs hold no
	// repeats, so all three tables take copied rows on PostgreSQL.
	err := w.q.insertNew(ctx, "catalog_column_lineage", []string{"scope_id", "child_id", "edges"},
		[]string{"bigint", "text", "bytea"}, len(children), func(i int, a []any) []any {
			return append(a, w.scopeID, children[i], docs[i])
		})
	if err != nil {
		return fmt.Errorf("insert column lineage: %w", err)
	}
	err = w.q.insertNew(ctx, "catalog_column_lineage_parents", []string{"scope_id", "parent_id", "child_id"},
		[]string{"bigint", "text", "text"}, len(pairs), func(i int, a []any) []any {
			return append(a, w.scopeID, pairs[i].parent, pairs[i].child)
		})
	if err != nil {
		return fmt.Errorf("insert column lineage parents: %w", err)
	}
	var gapNodes []string
	gaps := map[string][]storedGap{}
	for _, g := range cl.Gaps {
		if _, ok := gaps[g.UniqueID]; !ok {
			gapNodes = append(gapNodes, g.UniqueID)
		}
		gaps[g.UniqueID] = append(gaps[g.UniqueID], storedGap{Column: g.Column, Reason: g.Reason})
	}
	gapDocs := make([][]byte, len(gapNodes))
	for i, id := range gapNodes {
		b, err := json.Marshal(gaps[id])
		if err != nil {
			return fmt.Errorf("encode the column lineage gaps of %s: %w", id, err)
		}
		gapDocs[i] = b
	}
	err = w.q.insertNew(ctx, "catalog_column_lineage_gaps", []string{"scope_id", "unique_id", "gaps"},
		[]string{"bigint", "text", "bytea"}, len(gapNodes), func(i int, a []any) []any {
			return append(a, w.scopeID, gapNodes[i], gapDocs[i])
		})
	if err != nil {
		return fmt.Errorf("insert column lineage gaps: %w", err)
	}
	return nil
}

// modelEdges reads the edges document of model childID.
func (q queries) modelEdges(ctx context.Context, scopeID int64, childID string) ([]ColumnEdge, error) {
	var doc []byte
	err := q.queryRow(ctx, `SELECT edges FROM catalog_column_lineage WHERE scope_id = $1 AND child_id = $2`, scopeID, childID).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var stored []storedEdge
	if err := json.Unmarshal(doc, &stored); err != nil {
		return nil, fmt.Errorf("decode the column lineage of %s: %w", childID, err)
	}
	out := make([]ColumnEdge, len(stored))
	for i, e := range stored {
		out[i] = ColumnEdge{ScopeID: scopeID, ChildID: childID, ChildColumn: e.ChildColumn, ParentID: e.ParentID,
			ParentRelation: e.ParentRelation, ParentColumn: e.ParentColumn, Kind: e.Kind, Via: e.Via}
	}
	return out, nil
}

// ColumnParents returns the edges into column column of node childID in
// scope scopeID (column matched without regard to case), with the node's
// filter and join edges (ChildColumn ""), ordered by parent. A node
// without lineage has none.
func (q queries) ColumnParents(ctx context.Context, scopeID int64, childID, column string) ([]ColumnEdge, error) {
	all, err := q.modelEdges(ctx, scopeID, childID)
	if err != nil {
		return nil, wrap(err, "list column lineage parents of %s.%s", childID, column)
	}
	var out []ColumnEdge
	for _, e := range all {
		if e.ChildColumn == "" || strings.EqualFold(e.ChildColumn, column) {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.ParentID+a.ParentRelation != b.ParentID+b.ParentRelation {
			return a.ParentID+a.ParentRelation < b.ParentID+b.ParentRelation
		}
		if a.ParentColumn != b.ParentColumn {
			return a.ParentColumn < b.ParentColumn
		}
		return a.Kind < b.Kind
	})
	return out, nil
}

// ColumnChildren returns the edges out of column column of node parentID
// in scope scopeID (column matched without regard to case), by child.
func (q queries) ColumnChildren(ctx context.Context, scopeID int64, parentID, column string) ([]ColumnEdge, error) {
	rows, err := q.query(ctx, `SELECT child_id FROM catalog_column_lineage_parents
		WHERE scope_id = $1 AND parent_id = $2 ORDER BY child_id`, scopeID, parentID)
	if err != nil {
		return nil, wrap(err, "list column lineage children of %s.%s", parentID, column)
	}
	children, err := collect(rows, func(sc interface{ Scan(...any) error }) (string, error) {
		var c string
		return c, sc.Scan(&c)
	})
	if err != nil {
		return nil, wrap(err, "list column lineage children of %s.%s", parentID, column)
	}
	var out []ColumnEdge
	for _, c := range children {
		all, err := q.modelEdges(ctx, scopeID, c)
		if err != nil {
			return nil, wrap(err, "list column lineage children of %s.%s", parentID, column)
		}
		for _, e := range all {
			if e.ParentID == parentID && strings.EqualFold(e.ParentColumn, column) {
				out = append(out, e)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].ChildColumn != out[j].ChildColumn {
			return out[i].ChildColumn < out[j].ChildColumn
		}
		return out[i].Kind < out[j].Kind
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].ChildID < out[j].ChildID })
	return out, nil
}

// ColumnGaps returns why the lineage of node uniqueID in scope scopeID is
// incomplete: the model's gaps (Column "") and those of its columns.
func (q queries) ColumnGaps(ctx context.Context, scopeID int64, uniqueID string) ([]ColumnGap, error) {
	var doc []byte
	err := q.queryRow(ctx, `SELECT gaps FROM catalog_column_lineage_gaps WHERE scope_id = $1 AND unique_id = $2`,
		scopeID, uniqueID).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap(err, "list column lineage gaps of %s", uniqueID)
	}
	var stored []storedGap
	if err := json.Unmarshal(doc, &stored); err != nil {
		return nil, fmt.Errorf("store: decode the column lineage gaps of %s: %w", uniqueID, err)
	}
	list := make([]ColumnGap, len(stored))
	for i, g := range stored {
		list[i] = ColumnGap{ScopeID: scopeID, UniqueID: uniqueID, Column: g.Column, Reason: g.Reason}
	}
	slices.SortFunc(list, func(a, b ColumnGap) int {
		return cmp.Or(strings.Compare(a.Column, b.Column), strings.Compare(a.Reason, b.Reason))
	})
	return list, nil
}

// PresentColumnNames returns the names of the present (not removed)
// columns of each table in tableIDs, in position order: what column
// lineage expands * with. Tables without columns are left out.
func (q queries) PresentColumnNames(ctx context.Context, tableIDs []int64) (map[int64][]string, error) {
	out := make(map[int64][]string, len(tableIDs))
	// PostgreSQL takes the ids as one array, in one query: thousands of
	// placeholders cost it more to plan than the query costs to run.
	batch := 500
	if q.dialect == Postgres {
		batch = max(len(tableIDs), 1)
	}
	for start := 0; start < len(tableIDs); start += batch {
		ids := tableIDs[start:min(start+batch, len(tableIDs))]
		var (
			a  []any
			in string
		)
		if q.dialect == Postgres {
			a, in = []any{ids}, `(SELECT unnest($1::bigint[]))`
		} else {
			a = make([]any, len(ids))
			for i, id := range ids {
				a[i] = id
			}
			in = `(` + placeholders(1, len(a)) + `)`
		}
		rows, err := q.query(ctx, `SELECT table_id, name FROM catalog_columns
			WHERE removed_at IS NULL AND table_id IN `+in+`
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
