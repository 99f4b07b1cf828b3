package lineage

import (
	"strings"
	"testing"

	"github.com/dbtlink/dbtlink/artifacts"
	"github.com/google/go-cmp/cmp"
)

// throughNode is a model of package p; ephemeral when eph.
func throughNode(name string, eph bool, parents ...string) *artifacts.Node {
	n := &artifacts.Node{UniqueID: "model.p." + name, Name: name, PackageName: "p",
		ResourceType: artifacts.Model, Materialized: "table"}
	if eph {
		n.Materialized = "ephemeral"
	}
	for _, p := range parents {
		n.DependsOnNodes = append(n.DependsOnNodes, "model.p."+p)
	}
	return n
}

func mp(names ...string) []string { return pre("model.p.", names...) }

// a -> e1 (ephemeral) -> e2 (ephemeral) -> b, and a -> c.
func chainGraph() *Graph {
	return Build(&artifacts.Manifest{Nodes: []*artifacts.Node{
		throughNode("a", false),
		throughNode("e1", true, "a"),
		throughNode("e2", true, "e1"),
		throughNode("b", false, "e2"),
		throughNode("c", false, "a"),
	}})
}

func TestSubgraphThroughChain(t *testing.T) {
	g := chainGraph()
	ids := mp("a", "b", "c")

	plain := g.Subgraph(ids)
	if diff := cmp.Diff([]Edge{{From: "model.p.a", To: "model.p.c"}}, plain.Edges); diff != "" {
		t.Errorf("Subgraph edges (-want +got)\n%s", diff)
	}
	// A nil predicate is Subgraph.
	if diff := cmp.Diff(plain, g.SubgraphThrough(ids, nil)); diff != "" {
		t.Errorf("SubgraphThrough(nil) differs from Subgraph (-want +got)\n%s", diff)
	}

	sg := g.SubgraphThrough(ids, g.IsEphemeral)
	want := []Edge{
		{From: "model.p.a", To: "model.p.b", Through: mp("e1", "e2")},
		{From: "model.p.a", To: "model.p.c"},
	}
	if diff := cmp.Diff(want, sg.Edges); diff != "" {
		t.Errorf("SubgraphThrough edges (-want +got)\n%s", diff)
	}
	var names []string
	for _, n := range sg.Nodes {
		names = append(names, n.UniqueID)
	}
	if diff := cmp.Diff(ids, names); diff != "" {
		t.Errorf("nodes (-want +got)\n%s", diff)
	}

	// A kept ephemeral is a node like any other; contraction starts after it.
	sg = g.SubgraphThrough(mp("a", "e1", "b"), g.IsEphemeral)
	want = []Edge{
		{From: "model.p.a", To: "model.p.e1"},
		{From: "model.p.e1", To: "model.p.b", Through: mp("e2")},
	}
	if diff := cmp.Diff(want, sg.Edges); diff != "" {
		t.Errorf("with e1 kept (-want +got)\n%s", diff)
	}
}

func TestRenderSubgraphThrough(t *testing.T) {
	g := chainGraph()
	sg := g.SubgraphThrough(mp("a", "b", "c"), g.IsEphemeral)
	tests := []struct {
		f    Format
		want string
	}{
		{FormatText, `a [model] model.p.a
  b [model] model.p.b (through model.p.e1, model.p.e2)
  c [model] model.p.c
`},
		{FormatDOT, `digraph lineage {
  rankdir=LR;
  node [shape=box, fontname="Helvetica"];
  "model.p.a" [label="a\nmodel"];
  "model.p.b" [label="b\nmodel"];
  "model.p.c" [label="c\nmodel"];
  "model.p.a" -> "model.p.b" [style=dashed, tooltip="through model.p.e1, model.p.e2"];
  "model.p.a" -> "model.p.c";
}
`},
		{FormatMermaid, `graph LR
  n0["a<br/><small>model</small>"]
  n1["b<br/><small>model</small>"]
  n2["c<br/><small>model</small>"]
  n0 -.-> n1
  n0 --> n2
`},
		{FormatJSON, `{
  "nodes": [
    {
      "unique_id": "model.p.a",
      "name": "a",
      "resource_type": "model",
      "package_name": "p",
      "materialized": "table"
    },
    {
      "unique_id": "model.p.b",
      "name": "b",
      "resource_type": "model",
      "package_name": "p",
      "materialized": "table"
    },
    {
      "unique_id": "model.p.c",
      "name": "c",
      "resource_type": "model",
      "package_name": "p",
      "materialized": "table"
    }
  ],
  "edges": [
    {
      "from": "model.p.a",
      "to": "model.p.b",
      "through": [
        "model.p.e1",
        "model.p.e2"
      ]
    },
    {
      "from": "model.p.a",
      "to": "model.p.c"
    }
  ]
}
`},
	}
	for _, tt := range tests {
		var sb strings.Builder
		if err := RenderSubgraph(&sb, sg, tt.f); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, sb.String()); diff != "" {
			t.Errorf("%v (-want +got)\n%s", tt.f, diff)
		}
	}

	// Edges to nodes the subgraph does not list are not drawn.
	sg.Edges = append(sg.Edges, Edge{From: "model.p.a", To: "model.p.nowhere"})
	sg.Nodes = append(sg.Nodes, nil)
	var sb strings.Builder
	if err := RenderSubgraph(&sb, sg, FormatMermaid); err != nil {
		t.Fatal(err)
	}
	if strings.Count(sb.String(), "->") != 2 {
		t.Errorf("dangling edge drawn:\n%s", sb.String())
	}
}

func TestSubgraphThroughShapes(t *testing.T) {
	g := Build(&artifacts.Manifest{Nodes: []*artifacts.Node{
		throughNode("a", false),
		// Two ephemeral routes to d: one edge listing both.
		throughNode("e3", true, "a"),
		throughNode("e4", true, "a"),
		throughNode("d", false, "e3", "e4"),
		// A direct edge wins over a route through e5.
		throughNode("e5", true, "a"),
		throughNode("c", false, "a", "e5"),
		// A cycle among ephemerals is walked once.
		throughNode("e6", true, "a", "e7"),
		throughNode("e7", true, "e6"),
		throughNode("f", false, "e7"),
		// A left-out node that is not ephemeral blocks the route.
		throughNode("x", false, "a"),
		throughNode("y", false, "x"),
		// Contraction stops at the nearest kept node.
		throughNode("e8", true, "a"),
		throughNode("g", false, "e8"),
		throughNode("h", false, "g"),
		// A cycle back to a kept node through an ephemeral is a self-edge.
		throughNode("z", false, "e9"),
		throughNode("e9", true, "z"),
	}})
	sg := g.SubgraphThrough(mp("a", "d", "c", "f", "y", "g", "h", "z"), g.IsEphemeral)
	want := []Edge{
		{From: "model.p.a", To: "model.p.c"},
		{From: "model.p.a", To: "model.p.d", Through: mp("e3", "e4")},
		{From: "model.p.a", To: "model.p.f", Through: mp("e6", "e7")},
		{From: "model.p.a", To: "model.p.g", Through: mp("e8")},
		{From: "model.p.g", To: "model.p.h"},
		{From: "model.p.z", To: "model.p.z", Through: mp("e9")},
	}
	if diff := cmp.Diff(want, sg.Edges); diff != "" {
		t.Errorf("edges (-want +got)\n%s", diff)
	}
	// Text output terminates on the self-edge.
	var sb strings.Builder
	if err := RenderSubgraph(&sb, sg, FormatText); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sb.String(), "z [model] model.p.z\n  z [model] model.p.z (through model.p.e9) (see above)\n") {
		t.Errorf("text:\n%s", sb.String())
	}
}

// The edges below were written by hand from the depends_on lists of the
// hubspot manifest (read with python): hubspot__email_sends reads
// hubspot__email_event_sent and the ephemeral int_hubspot__email_event_aggregates
// (on stg_hubspot__email_event) and int_hubspot__email_aggregate_status_change
// (on hubspot__email_event_status_change).
func TestCorpusHubspotSubgraphThrough(t *testing.T) {
	g := Build(loadManifestJSON(t, "testdata/hubspot_v12.json"))
	const h = "model.hubspot."
	sends := h + "hubspot__email_sends"
	closure := func(depth int) []string {
		up, err := g.Upstream(sends, QueryOptions{Depth: depth, PassThroughEphemeral: true})
		if err != nil {
			t.Fatal(err)
		}
		ids := []string{sends}
		for _, r := range up {
			ids = append(ids, r.ID)
		}
		return ids
	}
	aggr := []string{h + "int_hubspot__email_event_aggregates"}
	status := []string{h + "int_hubspot__email_aggregate_status_change"}
	e := func(from, to string, through ...string) Edge {
		return Edge{From: from, To: to, Through: through}
	}
	m := func(name string) string { return h + name }
	src := func(name string) string { return "source.hubspot.hubspot." + name }

	depth1 := []Edge{
		e(m("hubspot__email_event_sent"), sends),
		e(m("hubspot__email_event_status_change"), sends, status...),
		e(m("stg_hubspot__email_event"), m("hubspot__email_event_sent")),
		e(m("stg_hubspot__email_event"), m("hubspot__email_event_status_change")),
		e(m("stg_hubspot__email_event"), sends, aggr...),
	}
	if diff := cmp.Diff(depth1, g.SubgraphThrough(closure(1), g.IsEphemeral).Edges); diff != "" {
		t.Errorf("depth 1 (-want +got)\n%s", diff)
	}

	all := []Edge{
		e(m("hubspot__email_event_sent"), sends),
		e(m("hubspot__email_event_status_change"), sends, status...),
		e(m("int_hubspot__contact_merge_adjust"), m("hubspot__email_event_sent")),
		e(m("int_hubspot__contact_merge_adjust"), m("hubspot__email_event_status_change")),
		e(m("stg_hubspot__contact"), m("int_hubspot__contact_merge_adjust")),
		e(m("stg_hubspot__contact_merge_audit"), m("int_hubspot__contact_merge_adjust")),
		e(m("stg_hubspot__contact_merge_audit_tmp"), m("stg_hubspot__contact_merge_audit")),
		e(m("stg_hubspot__contact_tmp"), m("stg_hubspot__contact")),
		e(m("stg_hubspot__email_event"), m("hubspot__email_event_sent")),
		e(m("stg_hubspot__email_event"), m("hubspot__email_event_status_change")),
		e(m("stg_hubspot__email_event"), sends, aggr...),
		e(m("stg_hubspot__email_event_sent"), m("hubspot__email_event_sent")),
		e(m("stg_hubspot__email_event_sent_tmp"), m("stg_hubspot__email_event_sent")),
		e(m("stg_hubspot__email_event_status_change"), m("hubspot__email_event_status_change")),
		e(m("stg_hubspot__email_event_status_change_tmp"), m("stg_hubspot__email_event_status_change")),
		e(m("stg_hubspot__email_event_tmp"), m("stg_hubspot__email_event")),
		e(src("contact"), m("stg_hubspot__contact_tmp")),
		e(src("contact_merge_audit"), m("stg_hubspot__contact_merge_audit_tmp")),
		e(src("email_event"), m("stg_hubspot__email_event_tmp")),
		e(src("email_event_sent"), m("stg_hubspot__email_event_sent_tmp")),
		e(src("email_event_status_change"), m("stg_hubspot__email_event_status_change_tmp")),
	}
	sg := g.SubgraphThrough(closure(0), g.IsEphemeral)
	if len(sg.Nodes) != 19 {
		t.Errorf("%d nodes, want 19 (21 in the closure less 2 ephemerals)", len(sg.Nodes))
	}
	if diff := cmp.Diff(all, sg.Edges); diff != "" {
		t.Errorf("whole upstream (-want +got)\n%s", diff)
	}
}
