package lineage

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dbtlink/dbtlink/artifacts"
	"github.com/google/go-cmp/cmp"
)

func renderGraph() *Graph {
	return Build(&artifacts.Manifest{Nodes: []*artifacts.Node{
		{UniqueID: "source.p.raw.orders", ResourceType: artifacts.Source, Name: "orders", PackageName: "p",
			Source: &artifacts.SourceInfo{SourceName: "raw"}},
		{UniqueID: "model.p.stg", ResourceType: artifacts.Model, Name: `we"ird<#>\`, PackageName: "p",
			Materialized: "ephemeral", DependsOnNodes: []string{"source.p.raw.orders"}},
		{UniqueID: "model.p.orders", ResourceType: artifacts.Model, Name: "orders", PackageName: "p",
			Materialized: "table", Tags: []string{"finance"}, OriginalFilePath: "models/orders.sql",
			DependsOnNodes: []string{"model.p.stg", "source.p.raw.orders", "model.p.not_selected"}},
		{UniqueID: "model.p.not_selected", ResourceType: artifacts.Model, Name: "not_selected"},
	}})
}

var renderIDs = []string{"source.p.raw.orders", "model.p.stg", "model.p.orders", "model.p.unknown", "model.p.stg"}

func TestRenderFormats(t *testing.T) {
	g := renderGraph()
	tests := []struct {
		f    Format
		want string
	}{
		{FormatText, `raw.orders [source] source.p.raw.orders
  orders [model] model.p.orders
  we"ird<#>\ [model] model.p.stg
    orders [model] model.p.orders (see above)
`},
		{FormatDOT, `digraph lineage {
  rankdir=LR;
  node [shape=box, fontname="Helvetica"];
  "source.p.raw.orders" [label="raw.orders\nsource", shape=cds];
  "model.p.stg" [label="we\"ird<#>\\\nmodel", style=dashed];
  "model.p.orders" [label="orders\nmodel"];
  "model.p.stg" -> "model.p.orders";
  "source.p.raw.orders" -> "model.p.orders";
  "source.p.raw.orders" -> "model.p.stg";
}
`},
		{FormatMermaid, `graph LR
  n0["raw.orders<br/><small>source</small>"]
  n1["we#quot;ird#lt;#35;#gt;\<br/><small>model</small>"]
  n2["orders<br/><small>model</small>"]
  n1 --> n2
  n0 --> n2
  n0 --> n1
`},
	}
	for _, tt := range tests {
		var sb strings.Builder
		if err := Render(&sb, g, renderIDs, tt.f); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, sb.String()); diff != "" {
			t.Errorf("%v (-want +got)\n%s", tt.f, diff)
		}
	}
}

func TestRenderJSON(t *testing.T) {
	g := renderGraph()
	var sb strings.Builder
	if err := Render(&sb, g, renderIDs, FormatJSON); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Nodes []map[string]any `json:"nodes"`
		Edges []Edge           `json:"edges"`
	}
	if err := json.Unmarshal([]byte(sb.String()), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, sb.String())
	}
	wantNodes := []map[string]any{
		{"unique_id": "source.p.raw.orders", "name": "raw.orders", "resource_type": "source", "package_name": "p"},
		{"unique_id": "model.p.stg", "name": `we"ird<#>\`, "resource_type": "model", "package_name": "p", "materialized": "ephemeral"},
		{"unique_id": "model.p.orders", "name": "orders", "resource_type": "model", "package_name": "p", "materialized": "table",
			"original_file_path": "models/orders.sql", "tags": []any{"finance"}},
	}
	if diff := cmp.Diff(wantNodes, got.Nodes); diff != "" {
		t.Errorf("nodes (-want +got)\n%s", diff)
	}
	wantEdges := []Edge{{From: "model.p.stg", To: "model.p.orders"}, {From: "source.p.raw.orders", To: "model.p.orders"}, {From: "source.p.raw.orders", To: "model.p.stg"}}
	if diff := cmp.Diff(wantEdges, got.Edges); diff != "" {
		t.Errorf("edges (-want +got)\n%s", diff)
	}

	// An empty selection is still a valid document with empty arrays, so
	// consumers need no null checks.
	sb.Reset()
	if err := Render(&sb, g, nil, FormatJSON); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(strings.Fields(sb.String()), ""); got != `{"nodes":[],"edges":[]}` {
		t.Errorf("empty JSON = %s", got)
	}
}

func TestParseFormat(t *testing.T) {
	for s, want := range map[string]Format{"text": FormatText, "JSON": FormatJSON, " dot ": FormatDOT, "mermaid": FormatMermaid} {
		if got, err := ParseFormat(s); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %v, %v", s, got, err)
		}
		if want.String() != strings.ToLower(strings.TrimSpace(s)) {
			t.Errorf("%v.String() round trip", want)
		}
	}
	if _, err := ParseFormat("svg"); err == nil || !strings.Contains(err.Error(), "mermaid") {
		t.Errorf("ParseFormat(svg) err = %v, want the list of formats", err)
	}
	if err := Render(&strings.Builder{}, renderGraph(), nil, Format(9)); err == nil {
		t.Error("Render with unknown format: want error")
	}
}
