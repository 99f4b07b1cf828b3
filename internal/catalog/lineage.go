package catalog

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/dbtlink/dbtlink/internal/store"
)

// ScopeGraph is one scope's lineage: its nodes, with TableID set by Match,
// and its edges.
type ScopeGraph struct {
	ScopeID int64
	Nodes   []store.CatalogNode
	Edges   []store.CatalogEdge
}

// Direction says which way TableLineage walks.
type Direction int

// Directions.
const (
	Both Direction = iota
	Upstream
	Downstream
)

// LineageRequest says where to start and how far to go. Start at a table
// (TableID) or at a node (ScopeID and UniqueID); Depth 0 means no limit.
type LineageRequest struct {
	TableID   int64
	ScopeID   int64
	UniqueID  string
	Direction Direction
	Depth     int
}

// NodeRef names a dbt node of a scope.
type NodeRef struct {
	ScopeID      int64  `json:"scope_id"`
	UniqueID     string `json:"unique_id"`
	ResourceType string `json:"resource_type"`
}

// LineageVertex is a table, or a dbt node without a table (an exposure, a
// metric, a model whose table is missing). A table is one vertex however
// many nodes name it: a model of one project and the source another
// project reads it as join their lineages there.
type LineageVertex struct {
	// Key is "table:ID" or "node:SCOPE:UNIQUE_ID".
	Key     string    `json:"key"`
	TableID int64     `json:"table_id,omitempty"`
	Nodes   []NodeRef `json:"nodes"`
	// Depth is the distance from the start: negative upstream, positive
	// downstream, 0 for the start.
	Depth int `json:"depth"`
}

// LineageEdge is an edge between two vertices, by key.
type LineageEdge struct {
	Parent string `json:"parent"`
	Child  string `json:"child"`
}

// Lineage is the part of the graph TableLineage walked, vertices sorted by
// depth then key, edges by parent then child.
type Lineage struct {
	Vertices []LineageVertex `json:"vertices"`
	Edges    []LineageEdge   `json:"edges"`
}

// TableLineage walks table-level lineage over the graphs of one or more
// scopes from a table or node, upstream, downstream or both, up to
// req.Depth steps. Ephemeral models never appear: their own edges are
// dropped and the through_ephemeral edges that BuildSnapshot adds connect
// what they connected. Sources appear as the tables they read, exposures
// and metrics as nodes downstream.
func TableLineage(graphs []ScopeGraph, req LineageRequest) (Lineage, error) {
	type vert struct {
		key     string
		tableID int64
		nodes   []NodeRef
	}
	verts := map[string]*vert{}
	keyOf := map[[2]string]string{} // (scope, unique id) -> vertex key; absent for ephemerals
	scopeKey := func(s int64) string { return fmt.Sprint(s) }
	for _, g := range graphs {
		for _, n := range g.Nodes {
			if n.ResourceType == "model" && n.Materialized == "ephemeral" {
				continue
			}
			k := fmt.Sprintf("node:%d:%s", g.ScopeID, n.UniqueID)
			if n.TableID != 0 {
				k = fmt.Sprintf("table:%d", n.TableID)
			}
			v := verts[k]
			if v == nil {
				v = &vert{key: k, tableID: n.TableID}
				verts[k] = v
			}
			v.nodes = append(v.nodes, NodeRef{ScopeID: g.ScopeID, UniqueID: n.UniqueID, ResourceType: n.ResourceType})
			keyOf[[2]string{scopeKey(g.ScopeID), n.UniqueID}] = k
		}
	}
	up := map[string][]string{}
	down := map[string][]string{}
	seenEdge := map[[2]string]bool{}
	for _, g := range graphs {
		for _, e := range g.Edges {
			p, okp := keyOf[[2]string{scopeKey(g.ScopeID), e.ParentID}]
			c, okc := keyOf[[2]string{scopeKey(g.ScopeID), e.ChildID}]
			if !okp || !okc || p == c || seenEdge[[2]string{p, c}] {
				continue
			}
			seenEdge[[2]string{p, c}] = true
			up[c] = append(up[c], p)
			down[p] = append(down[p], c)
		}
	}
	var start string
	switch {
	case req.TableID != 0:
		start = fmt.Sprintf("table:%d", req.TableID)
		if verts[start] == nil {
			return Lineage{}, fmt.Errorf("lineage: table %d is not matched to any dbt node", req.TableID)
		}
	case req.UniqueID != "":
		k, ok := keyOf[[2]string{scopeKey(req.ScopeID), req.UniqueID}]
		if !ok {
			return Lineage{}, fmt.Errorf("lineage: no node %q in scope %d (ephemeral models have no lineage of their own: start from a table next to it)", req.UniqueID, req.ScopeID)
		}
		start = k
	default:
		return Lineage{}, fmt.Errorf("lineage: give a table id or a node's unique id to start from")
	}
	depth := map[string]int{start: 0}
	edges := map[[2]string]bool{}
	walk := func(next map[string][]string, sign int, edge func(from, to string) [2]string) {
		frontier := []string{start}
		for d := 1; len(frontier) > 0 && (req.Depth <= 0 || d <= req.Depth); d++ {
			var nf []string
			for _, v := range frontier {
				for _, w := range next[v] {
					edges[edge(v, w)] = true
					if _, ok := depth[w]; !ok {
						depth[w] = sign * d
						nf = append(nf, w)
					}
				}
			}
			frontier = nf
		}
	}
	if req.Direction != Downstream {
		walk(up, -1, func(v, w string) [2]string { return [2]string{w, v} })
	}
	if req.Direction != Upstream {
		walk(down, 1, func(v, w string) [2]string { return [2]string{v, w} })
	}
	var out Lineage
	for k, d := range depth {
		v := verts[k]
		nodes := slices.Clone(v.nodes)
		slices.SortFunc(nodes, func(a, b NodeRef) int {
			return cmp.Or(cmp.Compare(a.ScopeID, b.ScopeID), strings.Compare(a.UniqueID, b.UniqueID))
		})
		out.Vertices = append(out.Vertices, LineageVertex{Key: k, TableID: v.tableID, Nodes: nodes, Depth: d})
	}
	for e := range edges {
		if _, ok := depth[e[0]]; !ok {
			continue
		}
		if _, ok := depth[e[1]]; !ok {
			continue
		}
		out.Edges = append(out.Edges, LineageEdge{Parent: e[0], Child: e[1]})
	}
	slices.SortFunc(out.Vertices, func(a, b LineageVertex) int {
		return cmp.Or(cmp.Compare(a.Depth, b.Depth), strings.Compare(a.Key, b.Key))
	})
	slices.SortFunc(out.Edges, func(a, b LineageEdge) int {
		return cmp.Or(strings.Compare(a.Parent, b.Parent), strings.Compare(a.Child, b.Child))
	})
	return out, nil
}
