package catalog

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/dbtlink/dbtlink/internal/store"
)

// ColumnLineageView is column-level lineage from one column of a table.
type ColumnLineageView struct {
	Start   string              `json:"start"` // key of the start vertex
	Columns []ColumnLineageItem `json:"columns"`
	Edges   []ColumnLineageLink `json:"edges"`
	// Gaps say why the lineage of a model on the way is incomplete (its
	// own gaps, and those of the columns walked).
	Gaps []store.ColumnGap `json:"gaps,omitempty"`
}

// ColumnLineageItem is a column of a node or of a relation outside the
// project. Depth is negative upstream, positive downstream, 0 at the start.
// Column is "" for the rows of a model (the end of a filter or join edge
// walked downstream).
type ColumnLineageItem struct {
	Key      string `json:"key"`
	ScopeID  int64  `json:"scope_id"`
	UniqueID string `json:"unique_id,omitempty"`
	// Relation is the relation as the SQL names it, for a vertex that is
	// no node; Table is database.schema.name of the node's table.
	Relation string `json:"relation,omitempty"`
	TableID  int64  `json:"table_id,omitempty"`
	Table    string `json:"table,omitempty"`
	Column   string `json:"column"`
	Depth    int    `json:"depth"`
}

// ColumnLineageLink is an edge: From feeds To.
type ColumnLineageLink struct {
	From string   `json:"from"`
	To   string   `json:"to"`
	Kind string   `json:"kind"`
	Via  []string `json:"via,omitempty"`
}

type colVertex struct {
	scope    int64
	uniqueID string
	relation string
	column   string
}

func (v colVertex) key() string {
	name := v.uniqueID
	if name == "" {
		name = v.relation
	}
	return fmt.Sprintf("%d:%s.%s", v.scope, name, strings.ToLower(v.column))
}

// maxColumnLineageDepth bounds a walk with no depth given.
const maxColumnLineageDepth = 100

// ColumnLineage walks column-level lineage from column of the table ref
// names, over every synced scope: upstream through copy and transform
// edges (filter and join edges of each model on the way are listed, not
// walked), downstream through every edge. A table that one scope builds
// and another reads as a source joins their lineage. depth 0 is no limit.
func (s *Service) ColumnLineage(ctx context.Context, ref, column string, dir Direction, depth int) (*ColumnLineageView, error) {
	column = strings.TrimSpace(column)
	if column == "" {
		return nil, &InputError{Err: fmt.Errorf("no column given: name one as TABLE.COLUMN")}
	}
	t, err := s.ResolveTable(ctx, ref)
	if err != nil {
		return nil, err
	}
	if depth <= 0 || depth > maxColumnLineageDepth {
		depth = maxColumnLineageDepth
	}
	nodeTables, err := s.nodeTables(ctx)
	if err != nil {
		return nil, err
	}
	byTable := map[int64][]store.NodeRef{}
	for n, r := range nodeTables {
		byTable[r.ID] = append(byTable[r.ID], n)
	}
	for _, ns := range byTable {
		sort.Slice(ns, func(i, j int) bool {
			if ns[i].ScopeID != ns[j].ScopeID {
				return ns[i].ScopeID < ns[j].ScopeID
			}
			return ns[i].UniqueID < ns[j].UniqueID
		})
	}
	w := &colWalk{s: s, nodeTables: nodeTables, byTable: byTable, seen: map[string]int{}, gapsSeen: map[string]bool{}, edgeSeen: map[string]bool{}}
	start := fmt.Sprintf("table:%d.%s", t.ID, strings.ToLower(column))
	w.view.Start = start
	w.view.Columns = append(w.view.Columns, ColumnLineageItem{Key: start, TableID: t.ID, Table: t.Database + "." + t.Schema + "." + t.Name, Column: column})
	w.seen[start] = 0
	var starts []colVertex
	for _, n := range byTable[t.ID] {
		starts = append(starts, colVertex{scope: n.ScopeID, uniqueID: n.UniqueID, column: column})
	}
	if dir != Downstream {
		if err := w.walk(ctx, starts, start, depth, -1); err != nil {
			return nil, err
		}
	}
	if dir != Upstream {
		if err := w.walk(ctx, starts, start, depth, 1); err != nil {
			return nil, err
		}
	}
	if w.view.Edges == nil {
		w.view.Edges = []ColumnLineageLink{}
	}
	return &w.view, nil
}

// colItem is a vertex to visit and the key it is shown under.
type colItem struct {
	v   colVertex
	key string
}

type colWalk struct {
	s          *Service
	nodeTables map[store.NodeRef]store.CatalogTableRef
	byTable    map[int64][]store.NodeRef
	view       ColumnLineageView
	seen       map[string]int
	gapsSeen   map[string]bool
	edgeSeen   map[string]bool
}

// vertex records v at depth d and returns its key; a node with a table is named by the table, so
// that the nodes of several scopes on one table meet.
func (w *colWalk) vertex(v colVertex, d int) string {
	var item ColumnLineageItem
	if v.uniqueID != "" {
		if r, ok := w.nodeTables[store.NodeRef{ScopeID: v.scope, UniqueID: v.uniqueID}]; ok {
			item = ColumnLineageItem{Key: fmt.Sprintf("table:%d.%s", r.ID, strings.ToLower(v.column)), TableID: r.ID,
				Table: r.Database + "." + r.Schema + "." + r.Name, Column: v.column, Depth: d}
		}
	}
	if item.Key == "" {
		item = ColumnLineageItem{Key: v.key(), ScopeID: v.scope, UniqueID: v.uniqueID, Relation: v.relation, Column: v.column, Depth: d}
	}
	if _, ok := w.seen[item.Key]; !ok {
		w.seen[item.Key] = d
		w.view.Columns = append(w.view.Columns, item)
	}
	return item.Key
}

func (w *colWalk) link(from, to string, e store.ColumnEdge) {
	k := from + "\x00" + to + "\x00" + e.Kind
	if w.edgeSeen[k] {
		return
	}
	w.edgeSeen[k] = true
	w.view.Edges = append(w.view.Edges, ColumnLineageLink{From: from, To: to, Kind: e.Kind, Via: e.Via})
}

func (w *colWalk) gaps(ctx context.Context, scope int64, uniqueID, column string) error {
	k := fmt.Sprintf("%d:%s", scope, uniqueID)
	if !w.gapsSeen[k] {
		w.gapsSeen[k] = true
		gs, err := w.s.Store.ColumnGaps(ctx, scope, uniqueID)
		if err != nil {
			return err
		}
		for _, g := range gs {
			if g.Column == "" || strings.EqualFold(g.Column, column) {
				w.view.Gaps = append(w.view.Gaps, g)
			}
		}
	}
	return nil
}

// walk goes breadth first from frontier (all at the vertex startKey) in
// direction sign (-1 up, +1 down) for at most depth steps.
func (w *colWalk) walk(ctx context.Context, frontier []colVertex, startKey string, depth, sign int) error {
	cur := make([]colItem, len(frontier))
	for i, v := range frontier {
		cur[i] = colItem{v, startKey}
	}
	visited := map[colVertex]bool{}
	for step := 1; step <= depth && len(cur) > 0; step++ {
		var next []colItem
		for _, it := range cur {
			if visited[it.v] || it.v.uniqueID == "" {
				continue
			}
			visited[it.v] = true
			if sign < 0 {
				if err := w.gaps(ctx, it.v.scope, it.v.uniqueID, it.v.column); err != nil {
					return err
				}
				edges, err := w.s.Store.ColumnParents(ctx, it.v.scope, it.v.uniqueID, it.v.column)
				if err != nil {
					return err
				}
				for _, e := range edges {
					p := colVertex{scope: it.v.scope, uniqueID: e.ParentID, relation: e.ParentRelation, column: e.ParentColumn}
					pk := w.vertex(p, -step)
					w.link(pk, it.key, e)
					if e.ChildColumn != "" {
						next = append(next, w.across(p, pk)...)
					}
				}
			} else {
				edges, err := w.s.Store.ColumnChildren(ctx, it.v.scope, it.v.uniqueID, it.v.column)
				if err != nil {
					return err
				}
				for _, e := range edges {
					c := colVertex{scope: it.v.scope, uniqueID: e.ChildID, column: e.ChildColumn}
					ck := w.vertex(c, step)
					w.link(it.key, ck, e)
					if e.ChildColumn != "" {
						next = append(next, w.across(c, ck)...)
					}
				}
			}
		}
		cur = next
	}
	return nil
}

// across returns v and, when v's node has a table, the nodes of other
// scopes on that table with the same column (a model built by one
// project and read as a source by another).
func (w *colWalk) across(v colVertex, key string) []colItem {
	out := []colItem{{v, key}}
	r, ok := w.nodeTables[store.NodeRef{ScopeID: v.scope, UniqueID: v.uniqueID}]
	if !ok {
		return out
	}
	for _, n := range w.byTable[r.ID] {
		if n.ScopeID == v.scope && n.UniqueID == v.uniqueID {
			continue
		}
		out = append(out, colItem{colVertex{scope: n.ScopeID, uniqueID: n.UniqueID, column: v.column}, key})
	}
	return out
}
