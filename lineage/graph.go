package lineage

import (
	"slices"
	"sync"

	"github.com/dbtlink/dbtlink/artifacts"
)

// Graph is the node-level dependency graph of one manifest. Edges point from a
// parent (the node depended on) to a child (the dependent). A Graph is immutable
// once built and safe for concurrent use.
type Graph struct {
	ids   []string
	nodes []*artifacts.Node
	index map[string]int32

	// CSR adjacency: the parents of node i are parEdges[parOff[i]:parOff[i+1]],
	// its children chEdges[chOff[i]:chOff[i+1]]. Both are sorted by index, which is
	// manifest order, so every traversal is deterministic.
	parOff, parEdges []int32
	chOff, chEdges   []int32

	ephemeral []bool
	// testLike marks the tests and unit tests, which indirect selection adds,
	// and sources the sources, which buildable mode counts as built; kept
	// as bitsets so selection does not chase a node pointer per child.
	testLike, sources bitset
	dangling          []DanglingEdge
	project           string // the root project's name, for package:this

	scratch sync.Pool // *scratch

	fqnOnce   sync.Once
	fqnJoined []string

	nameOnce sync.Once
	nameIdx  map[string][]int32 // see fqnNameIndex
}

// DanglingEdge is a dependency on a unique id the manifest does not define, such
// as a disabled node or a node of a package that was not parsed. It is left out
// of the graph, and reported so callers can warn about it.
type DanglingEdge struct {
	// From is the missing parent (or, from child_map, the node that exists),
	// To the child; exactly one of them is not in the manifest.
	From, To string
}

// Build builds the graph of every member of m.Nodes: models, seeds, snapshots,
// tests, analyses, sources, exposures, metrics, semantic models, saved queries
// and unit tests. Edges come from each node's depends_on.nodes and, when the
// manifest has them, from dbt's parent_map and child_map; the union is
// deduplicated, because the maps normally repeat depends_on but are the only
// record of some edges in manifests written by older or patched dbt versions.
// Edges to ids the manifest does not define are counted in Dangling, not added.
// A node id that appears twice keeps its first definition.
func Build(m *artifacts.Manifest) *Graph {
	g := &Graph{index: map[string]int32{}}
	if m == nil {
		g.finish(nil)
		return g
	}
	g.project = m.Metadata.ProjectName
	g.ids = make([]string, 0, len(m.Nodes))
	g.nodes = make([]*artifacts.Node, 0, len(m.Nodes))
	g.index = make(map[string]int32, len(m.Nodes))
	for _, n := range m.Nodes {
		if n == nil || n.UniqueID == "" {
			continue
		}
		if _, dup := g.index[n.UniqueID]; dup {
			continue
		}
		g.index[n.UniqueID] = int32(len(g.ids))
		g.ids = append(g.ids, n.UniqueID)
		g.nodes = append(g.nodes, n)
	}

	// Each edge is packed as parent<<32|child so that one sort both deduplicates
	// the union of the three edge sources and yields the child CSR in order.
	var edges []uint64
	danglingSeen := map[DanglingEdge]bool{}
	add := func(parent, child string) {
		p, okp := g.index[parent]
		c, okc := g.index[child]
		if !okp || !okc {
			d := DanglingEdge{From: parent, To: child}
			if !danglingSeen[d] {
				danglingSeen[d] = true
				g.dangling = append(g.dangling, d)
			}
			return
		}
		edges = append(edges, uint64(uint32(p))<<32|uint64(uint32(c)))
	}
	for _, n := range g.nodes {
		for _, p := range n.DependsOnNodes {
			add(p, n.UniqueID)
		}
	}
	// Map iteration order is random, but edges are sorted below and dangling
	// edges are sorted too, so the graph does not depend on it.
	for child, parents := range m.ParentMap {
		for _, p := range parents {
			add(p, child)
		}
	}
	for parent, children := range m.ChildMap {
		for _, c := range children {
			add(parent, c)
		}
	}
	slices.Sort(edges)
	edges = slices.Compact(edges)
	slices.SortFunc(g.dangling, func(a, b DanglingEdge) int {
		if a.From != b.From {
			if a.From < b.From {
				return -1
			}
			return 1
		}
		if a.To < b.To {
			return -1
		}
		if a.To > b.To {
			return 1
		}
		return 0
	})
	g.finish(edges)
	return g
}

// finish builds both CSR directions from sorted, deduplicated packed edges.
func (g *Graph) finish(edges []uint64) {
	n := len(g.ids)
	g.chOff = make([]int32, n+1)
	g.parOff = make([]int32, n+1)
	g.chEdges = make([]int32, len(edges))
	g.parEdges = make([]int32, len(edges))
	for i, e := range edges {
		p, c := int32(e>>32), int32(uint32(e))
		g.chEdges[i] = c
		g.chOff[p+1]++
		g.parOff[c+1]++
	}
	for i := range n {
		g.chOff[i+1] += g.chOff[i]
		g.parOff[i+1] += g.parOff[i]
	}
	// Counting sort into the parent CSR; edges are in parent order, so each
	// child's parent list comes out sorted as well.
	fill := slices.Clone(g.parOff[:n])
	for _, e := range edges {
		p, c := int32(e>>32), int32(uint32(e))
		g.parEdges[fill[c]] = p
		fill[c]++
	}
	g.ephemeral = make([]bool, n)
	g.testLike, g.sources = newBitset(n), newBitset(n)
	for i, nd := range g.nodes {
		g.ephemeral[i] = nd.ResourceType == artifacts.Model && nd.Ephemeral()
		if canSelectIndirectly(nd) {
			g.testLike.add(int32(i))
		}
		if nd.ResourceType == artifacts.Source {
			g.sources.add(int32(i))
		}
	}
	g.scratch.New = func() any { return newScratch(n) }
}

// Len returns the number of nodes in the graph.
func (g *Graph) Len() int { return len(g.ids) }

// EdgeCount returns the number of distinct edges in the graph.
func (g *Graph) EdgeCount() int { return len(g.chEdges) }

// IDs returns every unique id in manifest order. The slice is shared: do not
// modify it.
func (g *Graph) IDs() []string { return g.ids }

// Has reports whether id is a node of the graph.
func (g *Graph) Has(id string) bool { _, ok := g.index[id]; return ok }

// Node returns the manifest node with the given unique id, or nil.
func (g *Graph) Node(id string) *artifacts.Node {
	if i, ok := g.index[id]; ok {
		return g.nodes[i]
	}
	return nil
}

// IsEphemeral reports whether id is an ephemeral model: it stays a node of the
// graph, but queries can pass through it (QueryOptions.PassThroughEphemeral).
func (g *Graph) IsEphemeral(id string) bool {
	i, ok := g.index[id]
	return ok && g.ephemeral[i]
}

// Dangling returns the edges dropped because one end is not in the manifest,
// sorted. The slice is shared: do not modify it.
func (g *Graph) Dangling() []DanglingEdge { return g.dangling }

// Parents returns the direct parents of id in manifest order, nil if id is unknown.
func (g *Graph) Parents(id string) []string {
	i, ok := g.index[id]
	if !ok {
		return nil
	}
	return g.names(g.parEdges[g.parOff[i]:g.parOff[i+1]])
}

// Children returns the direct children of id in manifest order, nil if id is unknown.
func (g *Graph) Children(id string) []string {
	i, ok := g.index[id]
	if !ok {
		return nil
	}
	return g.names(g.chEdges[g.chOff[i]:g.chOff[i+1]])
}

func (g *Graph) names(idx []int32) []string {
	out := make([]string, len(idx))
	for k, v := range idx {
		out[k] = g.ids[v]
	}
	return out
}

func (g *Graph) parents(i int32) []int32  { return g.parEdges[g.parOff[i]:g.parOff[i+1]] }
func (g *Graph) children(i int32) []int32 { return g.chEdges[g.chOff[i]:g.chOff[i+1]] }

// Roots returns the nodes without parents (typically sources, seeds and models
// that select from nothing), in manifest order.
func (g *Graph) Roots() []string {
	var out []string
	for i := range g.ids {
		if g.parOff[i] == g.parOff[i+1] {
			out = append(out, g.ids[i])
		}
	}
	return out
}

// Leaves returns the nodes without children (typically tests, exposures, saved
// queries and unused models), in manifest order.
func (g *Graph) Leaves() []string {
	var out []string
	for i := range g.ids {
		if g.chOff[i] == g.chOff[i+1] {
			out = append(out, g.ids[i])
		}
	}
	return out
}
