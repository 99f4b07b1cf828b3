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
	Edges []Edge            // parent to child, sorted
}

// Edge is a dependency: To depends on From.
type Edge struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Subgraph returns the given nodes and every graph edge whose two ends are both
// among them. Unknown and repeated ids are ignored.
func (g *Graph) Subgraph(ids []string) Subgraph {
	in := newBitset(len(g.ids))
	var idx []int32
	for _, id := range ids {
		if i, ok := g.index[id]; ok && !in.has(i) {
			in.add(i)
			idx = append(idx, i)
		}
	}
	var sg Subgraph
	for _, i := range idx {
		sg.Nodes = append(sg.Nodes, g.nodes[i])
		for _, c := range g.children(i) {
			if in.has(c) {
				sg.Edges = append(sg.Edges, Edge{From: g.ids[i], To: g.ids[c]})
			}
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

// Render writes the subgraph of g induced by ids in format f.
func Render(w io.Writer, g *Graph, ids []string, f Format) error {
	sg := g.Subgraph(ids)
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

// renderText prints each root of the subgraph (a node without a selected
// parent) followed by its descendants, indented two spaces a generation. A node
// reached a second time is printed with "(see above)" and not expanded again,
// which keeps diamonds short and makes cycles terminate; nodes only on a cycle
// are started as trees of their own after the roots.
func renderText(w *bufio.Writer, sg Subgraph) {
	children := map[string][]string{}
	hasParent := map[string]bool{}
	for _, e := range sg.Edges {
		children[e.From] = append(children[e.From], e.To)
		hasParent[e.To] = true
	}
	byID := make(map[string]*artifacts.Node, len(sg.Nodes))
	for _, n := range sg.Nodes {
		byID[n.UniqueID] = n
	}
	printed := map[string]bool{}
	var visit func(id string, depth int)
	visit = func(id string, depth int) {
		n := byID[id]
		fmt.Fprintf(w, "%s%s [%s] %s", strings.Repeat("  ", depth), displayName(n), n.ResourceType, id)
		if printed[id] {
			fmt.Fprintln(w, " (see above)")
			return
		}
		fmt.Fprintln(w)
		printed[id] = true
		for _, c := range children[id] {
			visit(c, depth+1)
		}
	}
	for _, n := range sg.Nodes {
		if !hasParent[n.UniqueID] {
			visit(n.UniqueID, 0)
		}
	}
	for _, n := range sg.Nodes {
		if !printed[n.UniqueID] {
			visit(n.UniqueID, 0)
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
		fmt.Fprintf(w, "  %s --> %s\n", short[e.From], short[e.To])
	}
}
