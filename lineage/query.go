package lineage

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dbtlink/dbtlink/artifacts"
)

// QueryOptions narrow an Upstream or Downstream query.
type QueryOptions struct {
	// Depth is the number of generations to follow; 0 or less means no limit.
	Depth int
	// ResourceTypes, when not empty, keeps only nodes of these types in the
	// result. Traversal still goes through every node, so a model reached only
	// through a test-free chain of other types is still found.
	ResourceTypes []artifacts.ResourceType
	// PassThroughEphemeral leaves ephemeral models out of the result while still
	// following their edges, and does not count them as a generation: dbt inlines
	// an ephemeral model into its children as a CTE, so in the warehouse its
	// parents are direct parents of its children.
	PassThroughEphemeral bool
}

// Reached is one node of a closure and its distance from the start, in
// generations (1 = direct parent or child).
type Reached struct {
	ID       string
	Distance int
}

// NotFoundError reports a unique id or name that is not in the graph.
type NotFoundError struct {
	Query string
	// Suggestions are ids or names close to Query, possibly empty.
	Suggestions []string
}

func (e *NotFoundError) Error() string {
	msg := fmt.Sprintf("lineage: no node %q in the manifest", e.Query)
	if len(e.Suggestions) > 0 {
		msg += "; did you mean " + strings.Join(e.Suggestions, ", ") + "?"
	}
	return msg
}

// AmbiguousError reports a name that matches more than one node.
type AmbiguousError struct {
	Query      string
	Candidates []string // unique ids, sorted
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("lineage: %q matches %d nodes (%s); use a unique id or package.name to pick one",
		e.Query, len(e.Candidates), strings.Join(e.Candidates, ", "))
}

// ErrNoPath is returned by ShortestPath when neither node is reachable from the other.
var ErrNoPath = errors.New("lineage: no path between the nodes in either direction")

// scratch is the per-query working memory. mark[v] == gen means v was visited
// in the current query, so starting a query is a counter increment instead of
// clearing an n-sized array.
type scratch struct {
	mark      []uint32
	gen       uint32
	pred      []int32 // BFS predecessor, valid only where mark == gen
	cur, next []int32
	out       []int32
	outDist   []int32
}

func newScratch(n int) *scratch {
	return &scratch{mark: make([]uint32, n), pred: make([]int32, n)}
}

func (g *Graph) getScratch() *scratch {
	s := g.scratch.Get().(*scratch)
	s.reset()
	return s
}

// reset starts a new visited set and empties the work lists.
func (s *scratch) reset() {
	s.gen++
	if s.gen == 0 { // wrapped: stamps from 2^32 queries ago would look current
		clear(s.mark)
		s.gen = 1
	}
	s.cur, s.next, s.out, s.outDist = s.cur[:0], s.next[:0], s.out[:0], s.outDist[:0]
}

func (g *Graph) putScratch(s *scratch) { g.scratch.Put(s) }

type direction bool

const (
	up   direction = false
	down direction = true
)

func (g *Graph) adj(v int32, dir direction) []int32 {
	if dir == down {
		return g.children(v)
	}
	return g.parents(v)
}

// walk runs a breadth-first search from starts in one direction and appends
// every reached node other than the starts to s.out with its distance to
// s.outDist. maxDepth < 0 means unlimited. With passEph, ephemeral models cost no
// generation: they join the layer that reached them, so their neighbours get
// the distance they would have if the ephemeral were inlined. Marks make cycles
// harmless: each node is expanded once.
func (g *Graph) walk(s *scratch, starts []int32, dir direction, maxDepth int, passEph bool) {
	for _, v := range starts {
		if s.mark[v] != s.gen {
			s.mark[v] = s.gen
			s.pred[v] = -1
			s.cur = append(s.cur, v)
		}
	}
	for d := int32(0); len(s.cur) > 0; d++ {
		if maxDepth >= 0 && int(d) >= maxDepth {
			// Nodes already in the frontier are recorded; only their neighbours are
			// out of range. Ephemeral neighbours would be at this same distance, but
			// they are never part of the result, and their own neighbours are not.
			break
		}
		s.next = s.next[:0]
		for k := 0; k < len(s.cur); k++ { // s.cur may grow while we iterate
			v := s.cur[k]
			for _, w := range g.adj(v, dir) {
				if s.mark[w] == s.gen {
					continue
				}
				s.mark[w] = s.gen
				s.pred[w] = v
				if passEph && g.ephemeral[w] {
					s.cur = append(s.cur, w)
					s.out = append(s.out, w)
					s.outDist = append(s.outDist, d) // filtered out by the callers
					continue
				}
				s.next = append(s.next, w)
				s.out = append(s.out, w)
				s.outDist = append(s.outDist, d+1)
			}
		}
		s.cur, s.next = s.next, s.cur
	}
	s.cur = s.cur[:0]
}

// Upstream returns the ancestors of id (not id itself), nearest first.
func (g *Graph) Upstream(id string, opts QueryOptions) ([]Reached, error) {
	return g.closure(id, up, opts)
}

// Downstream returns the descendants of id (not id itself), nearest first.
func (g *Graph) Downstream(id string, opts QueryOptions) ([]Reached, error) {
	return g.closure(id, down, opts)
}

func (g *Graph) closure(id string, dir direction, opts QueryOptions) ([]Reached, error) {
	start, ok := g.index[id]
	if !ok {
		return nil, g.notFound(id)
	}
	depth := opts.Depth
	if depth <= 0 {
		depth = -1
	}
	s := g.getScratch()
	defer g.putScratch(s)
	g.walk(s, []int32{start}, dir, depth, opts.PassThroughEphemeral)

	keep := func(v int32) bool {
		if opts.PassThroughEphemeral && g.ephemeral[v] {
			return false
		}
		return len(opts.ResourceTypes) == 0 || slices.Contains(opts.ResourceTypes, g.nodes[v].ResourceType)
	}
	n := 0
	for _, v := range s.out {
		if keep(v) {
			n++
		}
	}
	res := make([]Reached, 0, n)
	for k, v := range s.out {
		if keep(v) {
			res = append(res, Reached{ID: g.ids[v], Distance: int(s.outDist[k])})
		}
	}
	return res, nil
}

// Path is a shortest directed path between two nodes.
type Path struct {
	// IDs runs from the first argument of ShortestPath to the second, both included.
	IDs []string
	// Downstream is true when each id is a child of the one before it (the
	// second node depends on the first), false when each is a parent.
	Downstream bool
}

// ShortestPath returns a shortest directed path from one node to another. It
// first follows child edges (is `to` downstream of `from`?) and, failing that,
// parent edges (is `to` upstream?); dbt graphs are acyclic, so at most one
// direction can succeed for two distinct nodes. It returns ErrNoPath when the
// nodes are unrelated. from == to yields a one-node path.
func (g *Graph) ShortestPath(from, to string) (Path, error) {
	f, ok := g.index[from]
	if !ok {
		return Path{}, g.notFound(from)
	}
	t, ok := g.index[to]
	if !ok {
		return Path{}, g.notFound(to)
	}
	if f == t {
		return Path{IDs: []string{from}, Downstream: true}, nil
	}
	for _, dir := range []direction{down, up} {
		if p := g.bfsPath(f, t, dir); p != nil {
			return Path{IDs: p, Downstream: dir == down}, nil
		}
	}
	return Path{}, fmt.Errorf("%w: %s and %s", ErrNoPath, from, to)
}

func (g *Graph) bfsPath(f, t int32, dir direction) []string {
	s := g.getScratch()
	defer g.putScratch(s)
	s.mark[f] = s.gen
	s.pred[f] = -1
	s.cur = append(s.cur, f)
	for k := 0; k < len(s.cur); k++ {
		v := s.cur[k]
		for _, w := range g.adj(v, dir) {
			if s.mark[w] == s.gen {
				continue
			}
			s.mark[w] = s.gen
			s.pred[w] = v
			if w == t {
				var rev []string
				for x := t; x != -1; x = s.pred[x] {
					rev = append(rev, g.ids[x])
				}
				slices.Reverse(rev)
				return rev
			}
			s.cur = append(s.cur, w)
		}
	}
	return nil
}

// refable are the resource types ref() can point at; a bare name is looked up
// among them first, because that is what a user typing a model name means.
var refable = map[artifacts.ResourceType]bool{
	artifacts.Model: true, artifacts.Seed: true, artifacts.Snapshot: true,
}

// Resolve maps what a user typed to a unique id: a unique id as is; a bare name
// ("orders") to the model, seed or snapshot of that name, else to any other node
// of that name; "package.name" likewise within one package; and
// "source_name.table" to a source. It returns *AmbiguousError with the
// candidates when several nodes match, and *NotFoundError otherwise.
func (g *Graph) Resolve(q string) (string, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return "", errors.New("lineage: empty node name; give a unique id, a model name or source_name.table")
	}
	if _, ok := g.index[q]; ok {
		return q, nil
	}
	var pkg, name string
	parts := strings.Split(q, ".")
	switch len(parts) {
	case 1:
		name = q
	case 2:
		pkg, name = parts[0], parts[1]
	}
	var ref, other []string
	for i, n := range g.nodes {
		if name != "" && n.Name == name && (pkg == "" || n.PackageName == pkg) {
			if refable[n.ResourceType] {
				ref = append(ref, g.ids[i])
			} else {
				other = append(other, g.ids[i])
			}
		}
		// source_name.table, and package.source_name.table.
		if n.Source != nil && len(parts) >= 2 && len(parts) <= 3 && n.Name == parts[len(parts)-1] &&
			n.Source.SourceName == parts[len(parts)-2] && (len(parts) == 2 || n.PackageName == parts[0]) {
			ref = append(ref, g.ids[i])
		}
	}
	cands := ref
	if len(cands) == 0 {
		cands = other
	}
	slices.Sort(cands)
	cands = slices.Compact(cands)
	switch len(cands) {
	case 1:
		return cands[0], nil
	case 0:
		return "", g.notFound(q)
	}
	return "", &AmbiguousError{Query: q, Candidates: cands}
}

// notFound builds a NotFoundError with up to five ids that contain q's last
// dotted segment, which catches the usual mistakes (wrong package or prefix).
func (g *Graph) notFound(q string) error {
	last := q
	if i := strings.LastIndexByte(q, '.'); i >= 0 && i+1 < len(q) {
		last = q[i+1:]
	}
	var sug []string
	for i, n := range g.nodes {
		if n.Name == last || (len(last) >= 4 && strings.Contains(n.Name, last)) {
			sug = append(sug, g.ids[i])
			if len(sug) == 5 {
				break
			}
		}
	}
	return &NotFoundError{Query: q, Suggestions: sug}
}
