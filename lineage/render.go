package lineage

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/dbtlink/dbtlink/artifacts"
)

// Format is an output format of Render.
type Format int

const (
	FormatText    Format = iota // indented tree, one node per line
	FormatJSON                  // {"nodes":[...],"edges":[...]}
	FormatDOT                   // Graphviz
	FormatMermaid               // Mermaid flowchart, "graph LR"
)

var formatNames = []string{"text", "json", "dot", "mermaid"}

func (f Format) String() string {
	if f >= 0 && int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// ParseFormat maps a --format flag value to a Format.
func ParseFormat(s string) (Format, error) {
	if i := slices.Index(formatNames, strings.ToLower(strings.TrimSpace(s))); i >= 0 {
		return Format(i), nil
	}
	return 0, fmt.Errorf("lineage: unknown output format %q; use one of %s", s, strings.Join(formatNames, ", "))
}

// Subgraph is a set of nodes and the edges among them, ready to render.
type Subgraph struct {
	Nodes []*artifacts.Node // in the order the ids were given, unknown ids dropped
	Edges []Edge            // parent to child, sorted by From then To, at most one per pair
}

// Edge is a dependency: To depends on From.
type Edge struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Through, on an edge made by SubgraphThrough, lists the left-out nodes
	// the dependency runs through, in the order a breadth-first walk from From
	// meets them (path order for a single chain). It is empty for a direct
	// edge.
	Through []string `json:"through,omitempty"`
}

// Subgraph returns the given nodes and every graph edge whose two ends are both
// among them. Unknown and repeated ids are ignored.
func (g *Graph) Subgraph(ids []string) Subgraph {
	return g.SubgraphThrough(ids, nil)
}

// SubgraphThrough is Subgraph with edges contracted through left-out nodes
// for which through returns true, such as ephemeral models (pass
// g.IsEphemeral): a kept node gets an edge to each nearest kept descendant it
// reaches by a path whose inner nodes are all such pass-through nodes, so a
// dependency that ran through a hidden node is still drawn. Nodes in ids are
// always kept, whatever through says; left-out nodes for which through is
// false (or through is nil) break the path, as in Subgraph.
//
// A pair of kept nodes gets one edge: a direct edge when the graph has one
// (Through empty), otherwise one contracted edge whose Through lists every
// pass-through node on some path between them. Cycles among pass-through
// nodes are walked once; a cycle back to the node itself gives a self-edge.
func (g *Graph) SubgraphThrough(ids []string, through func(id string) bool) Subgraph {
	in := newBitset(len(g.ids))
	var idx []int32
	for _, id := range ids {
		if i, ok := g.index[id]; ok && !in.has(i) {
			in.add(i)
			idx = append(idx, i)
		}
	}
	// pass[v] caches through(v) for left-out nodes: 0 unknown, 1 yes, 2 no.
	var pass []uint8
	if through != nil {
		pass = make([]uint8, len(g.ids))
	}
	passes := func(v int32) bool {
		if pass == nil || in.has(v) {
			return false
		}
		if pass[v] == 0 {
			pass[v] = 2
			if through(g.ids[v]) {
				pass[v] = 1
			}
		}
		return pass[v] == 1
	}

	var sg Subgraph
	var s *scratch
	for _, i := range idx {
		sg.Nodes = append(sg.Nodes, g.nodes[i])
		direct := len(sg.Edges)
		hidden := false
		for _, c := range g.children(i) {
			if in.has(c) {
				sg.Edges = append(sg.Edges, Edge{From: g.ids[i], To: g.ids[c]})
			} else if passes(c) {
				hidden = true
			}
		}
		if hidden {
			if s == nil {
				s = g.getScratch()
				defer g.putScratch(s)
			}
			sg.Edges = g.contract(s, i, sg.Edges, direct, in, passes)
		}
	}
	slices.SortFunc(sg.Edges, func(a, b Edge) int {
		if c := strings.Compare(a.From, b.From); c != 0 {
			return c
		}
		return strings.Compare(a.To, b.To)
	})
	return sg
}

// contract appends the contracted edges from kept node i: it walks i's
// descendants breadth-first through pass-through nodes only, stopping at kept
// nodes, and for each kept node reached that is not already a direct child
// (edges[direct:] are i's direct edges) adds one edge whose Through is the
// pass-through nodes that lie on a path from i to it.
func (g *Graph) contract(s *scratch, i int32, edges []Edge, direct int, in bitset, passes func(int32) bool) []Edge {
	s.reset()
	// s.cur: the pass-through nodes reached from i, in BFS order (each once,
	// thanks to the marks, so cycles end). s.out: kept nodes reached, in order.
	for _, c := range g.children(i) {
		if !in.has(c) && passes(c) && s.mark[c] != s.gen {
			s.mark[c] = s.gen
			s.cur = append(s.cur, c)
		}
	}
	for k := 0; k < len(s.cur); k++ {
		for _, w := range g.children(s.cur[k]) {
			if s.mark[w] == s.gen {
				continue
			}
			if in.has(w) {
				s.mark[w] = s.gen
				s.out = append(s.out, w)
			} else if passes(w) {
				s.mark[w] = s.gen
				s.cur = append(s.cur, w)
			}
		}
	}
	if len(s.out) == 0 {
		return edges
	}
	// The pass-through nodes on a path from i to target t are those reached
	// from i (marked above) that reach t; find them by walking t's parents
	// back through reached pass-through nodes. pos orders them as met from i.
	reached := s.cur
	pos := make(map[int32]int, len(reached))
	for k, v := range reached {
		pos[v] = k
	}
	isDirect := func(t int32) bool {
		for _, e := range edges[direct:] {
			if e.To == g.ids[t] {
				return true
			}
		}
		return false
	}
	for _, t := range s.out {
		if isDirect(t) {
			continue
		}
		on := map[int32]bool{}
		stack := []int32{t}
		for len(stack) > 0 {
			v := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, p := range g.parents(v) {
				if _, ok := pos[p]; ok && !on[p] {
					on[p] = true
					stack = append(stack, p)
				}
			}
		}
		via := make([]int32, 0, len(on))
		for v := range on {
			via = append(via, v)
		}
		slices.SortFunc(via, func(a, b int32) int { return pos[a] - pos[b] })
		e := Edge{From: g.ids[i], To: g.ids[t], Through: make([]string, len(via))}
		for k, v := range via {
			e.Through[k] = g.ids[v]
		}
		edges = append(edges, e)
	}
	return edges
}

// Render writes the subgraph of g induced by ids in format f. It is
// RenderSubgraph(w, g.Subgraph(ids), f).
func Render(w io.Writer, g *Graph, ids []string, f Format) error {
	return RenderSubgraph(w, g.Subgraph(ids), f)
}

// RenderSubgraph writes sg in format f. Contracted edges (with Through) are
// drawn dashed in DOT, as "-.->" in Mermaid, with "through" in JSON and with
// "(through ...)" in text. Edges with an end that is not among sg.Nodes are
// left out, so a hand-made Subgraph cannot draw a node it does not describe.
func RenderSubgraph(w io.Writer, sg Subgraph, f Format) error {
	sg = sg.clean()
	bw := bufio.NewWriter(w)
	var err error
	switch f {
	case FormatText:
		renderText(bw, sg)
	case FormatJSON:
		err = renderJSON(bw, sg)
	case FormatDOT:
		renderDOT(bw, sg)
	case FormatMermaid:
		renderMermaid(bw, sg)
	default:
		return fmt.Errorf("lineage: cannot render format %v", f)
	}
	if err != nil {
		return fmt.Errorf("lineage: render %v: %w", f, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("lineage: render %v: %w", f, err)
	}
	return nil
}

// clean drops nil nodes and edges with an end outside Nodes, copying only
// when something has to go.
func (sg Subgraph) clean() Subgraph {
	ok := make(map[string]bool, len(sg.Nodes))
	for _, n := range sg.Nodes {
		if n != nil {
			ok[n.UniqueID] = true
		}
	}
	bad := func(e Edge) bool { return !ok[e.From] || !ok[e.To] }
	if slices.ContainsFunc(sg.Edges, bad) {
		sg.Edges = slices.DeleteFunc(slices.Clone(sg.Edges), bad)
	}
	if slices.Contains(sg.Nodes, nil) {
		sg.Nodes = slices.DeleteFunc(slices.Clone(sg.Nodes), func(n *artifacts.Node) bool { return n == nil })
	}
	return sg
}

// renderText prints each root of the subgraph (a node without a selected
// parent) followed by its descendants, indented two spaces a generation. A node
// reached a second time is printed with "(see above)" and not expanded again,
// which keeps diamonds short and makes cycles terminate; nodes only on a cycle
// are started as trees of their own after the roots. A child reached by a
// contracted edge is followed by "(through ids)".
func renderText(w *bufio.Writer, sg Subgraph) {
	children := map[string][]Edge{}
	hasParent := map[string]bool{}
	for _, e := range sg.Edges {
		children[e.From] = append(children[e.From], e)
		hasParent[e.To] = true
	}
	byID := make(map[string]*artifacts.Node, len(sg.Nodes))
	for _, n := range sg.Nodes {
		byID[n.UniqueID] = n
	}
	printed := map[string]bool{}
	var visit func(id string, through []string, depth int)
	visit = func(id string, through []string, depth int) {
		n := byID[id]
		fmt.Fprintf(w, "%s%s [%s] %s", strings.Repeat("  ", depth), displayName(n), n.ResourceType, id)
		if len(through) > 0 {
			fmt.Fprintf(w, " (through %s)", strings.Join(through, ", "))
		}
		if printed[id] {
			fmt.Fprintln(w, " (see above)")
			return
		}
		fmt.Fprintln(w)
		printed[id] = true
		for _, e := range children[id] {
			visit(e.To, e.Through, depth+1)
		}
	}
	for _, n := range sg.Nodes {
		if !hasParent[n.UniqueID] {
			visit(n.UniqueID, nil, 0)
		}
	}
	for _, n := range sg.Nodes {
		if !printed[n.UniqueID] {
			visit(n.UniqueID, nil, 0)
		}
	}
}

// displayName is the name a user knows a node by: source_name.table for
// sources, the plain name otherwise.
func displayName(n *artifacts.Node) string {
	if n.Source != nil && n.Source.SourceName != "" {
		return n.Source.SourceName + "." + n.Name
	}
	if n.Name == "" {
		return n.UniqueID
	}
	return n.Name
}

type jsonNode struct {
	UniqueID         string   `json:"unique_id"`
	Name             string   `json:"name"`
	ResourceType     string   `json:"resource_type"`
	PackageName      string   `json:"package_name,omitempty"`
	Materialized     string   `json:"materialized,omitempty"`
	OriginalFilePath string   `json:"original_file_path,omitempty"`
	Tags             []string `json:"tags,omitempty"`
}

func renderJSON(w io.Writer, sg Subgraph) error {
	out := struct {
		Nodes []jsonNode `json:"nodes"`
		Edges []Edge     `json:"edges"`
	}{Nodes: []jsonNode{}, Edges: sg.Edges}
	if out.Edges == nil {
		out.Edges = []Edge{}
	}
	for _, n := range sg.Nodes {
		out.Nodes = append(out.Nodes, jsonNode{
			UniqueID: n.UniqueID, Name: displayName(n), ResourceType: string(n.ResourceType),
			PackageName: n.PackageName, Materialized: n.Materialized,
			OriginalFilePath: n.OriginalFilePath, Tags: n.Tags,
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// dotQuote quotes s as a DOT string: only '"' and '\' need escaping, and line
// breaks become \n so a label stays on one line of the file.
func dotQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", "")
	return `"` + r.Replace(s) + `"`
}

var dotShapes = map[artifacts.ResourceType]string{
	artifacts.Source: "cds", artifacts.Seed: "cylinder", artifacts.Test: "note",
	artifacts.UnitTest: "note", artifacts.Exposure: "house", artifacts.Metric: "diamond",
	artifacts.SemanticModel: "component", artifacts.SavedQuery: "tab",
}

func renderDOT(w *bufio.Writer, sg Subgraph) {
	fmt.Fprintln(w, "digraph lineage {")
	fmt.Fprintln(w, "  rankdir=LR;")
	fmt.Fprintln(w, "  node [shape=box, fontname=\"Helvetica\"];")
	for _, n := range sg.Nodes {
		attrs := "label=" + dotQuote(displayName(n)+"\n"+string(n.ResourceType))
		if s, ok := dotShapes[n.ResourceType]; ok {
			attrs += ", shape=" + s
		}
		if n.ResourceType == artifacts.Model && n.Ephemeral() {
			attrs += ", style=dashed"
		}
		fmt.Fprintf(w, "  %s [%s];\n", dotQuote(n.UniqueID), attrs)
	}
	for _, e := range sg.Edges {
		if len(e.Through) > 0 {
			// A contracted edge: dashed, and the hidden nodes on hover.
			fmt.Fprintf(w, "  %s -> %s [style=dashed, tooltip=%s];\n", dotQuote(e.From), dotQuote(e.To),
				dotQuote("through "+strings.Join(e.Through, ", ")))
			continue
		}
		fmt.Fprintf(w, "  %s -> %s;\n", dotQuote(e.From), dotQuote(e.To))
	}
	fmt.Fprintln(w, "}")
}

// mermaidLabel escapes a label for a quoted Mermaid node text. Mermaid has no
// backslash escapes; it takes HTML entity codes written as #name; instead.
func mermaidLabel(s string) string {
	r := strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;", "#", "#35;", "\n", " ")
	return r.Replace(s)
}

func renderMermaid(w *bufio.Writer, sg Subgraph) {
	fmt.Fprintln(w, "graph LR")
	// Unique ids contain dots and may contain characters Mermaid reads as syntax,
	// so nodes get positional ids n0, n1, ... and the real id goes in the label.
	short := make(map[string]string, len(sg.Nodes))
	for i, n := range sg.Nodes {
		id := fmt.Sprintf("n%d", i)
		short[n.UniqueID] = id
		fmt.Fprintf(w, "  %s[\"%s<br/><small>%s</small>\"]\n", id, mermaidLabel(displayName(n)), mermaidLabel(string(n.ResourceType)))
	}
	for _, e := range sg.Edges {
		arrow := "-->"
		if len(e.Through) > 0 {
			arrow = "-.->" // a contracted edge: dotted
		}
		fmt.Fprintf(w, "  %s %s %s\n", short[e.From], arrow, short[e.To])
	}
}
