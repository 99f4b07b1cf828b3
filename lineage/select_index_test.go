package lineage

import (
	"strings"
	"testing"

	"github.com/dbtlink/dbtlink/artifacts"
	"github.com/google/go-cmp/cmp"
)

// scanFQN is the fqn method without the name index: every node's fqn matched.
func scanFQN(g *Graph, v string) []string {
	fm := newFQNMatcher(v)
	joined := g.joinedFQNs()
	out := []string{}
	for i, n := range g.nodes {
		if inNodesSection(n) && fm.match(nodeFQN(n), joined[i], n.Version != "") {
			out = append(out, g.ids[i])
		}
	}
	return sorted(out...)
}

// oddFQNGraph has the fqn shapes the index must get right: versioned models
// with long and short fqns, one-part and missing fqns, dots and wildcard
// characters inside parts, empty parts, and non-"nodes" resources sharing
// names with models.
func oddFQNGraph() *Graph {
	node := func(id string, rt artifacts.ResourceType, name, version string, fqn ...string) *artifacts.Node {
		return &artifacts.Node{UniqueID: id, ResourceType: rt, Name: name, PackageName: "p", Version: version, FQN: fqn}
	}
	return Build(&artifacts.Manifest{Nodes: []*artifacts.Node{
		node("model.p.dim_customers.v2", artifacts.Model, "dim_customers", "2", "p", "marts", "dim_customers", "v2"),
		node("model.p.dim_customers.v1", artifacts.Model, "dim_customers", "1", "p", "marts", "dim_customers", "v1"),
		node("model.p.short.v3", artifacts.Model, "short", "3", "p", "v3"),
		node("model.p.shortest.v4", artifacts.Model, "shortest", "4", "v4"),
		node("model.p.one", artifacts.Model, "one", "", "one"),
		node("model.p.nofqn", artifacts.Model, "nofqn", ""),
		node("model.p.a.b", artifacts.Model, "a.b", "", "p", "dir.x", "a.b"),
		node("model.q.dotpkg", artifacts.Model, "dotpkg", "", "q.r", "dotpkg"),
		node("model.p.star", artifacts.Model, "st*r", "", "p", "st*r"),
		node("model.p.empty", artifacts.Model, "", "", "p", "", ""),
		node("model.p.staging", artifacts.Model, "staging", "", "p", "staging", "staging"),
		node("model.p.stg", artifacts.Model, "stg", "", "p", "staging", "stg"),
		node("seed.p.stg", artifacts.Seed, "stg", "", "p", "stg"),
		node("metric.p.stg", artifacts.Metric, "stg", "", "p", "stg"),
		node("source.p.raw.stg", artifacts.Source, "stg", "", "p", "raw", "stg"),
		node("semantic_model.p.one", artifacts.SemanticModel, "one", "", "p", "one"),
		node("exposure.p.v2", artifacts.Exposure, "v2", "", "p", "v2"),
		node("test.p.t", artifacts.Test, "t", "", "p", "marts", "t"),
	}})
}

// TestFQNNameIndexMatchesScan checks the fast path for plain names against
// the fqn scan it replaces, for every plain value taken from any fqn part,
// name or version suffix, on hand-made oddities and on the corpora.
func TestFQNNameIndexMatchesScan(t *testing.T) {
	graphs := map[string]*Graph{
		"odd":          oddFQNGraph(),
		"fixture":      fixture(t),
		"jaffle 1.10":  Build(loadManifestJSON(t, "testdata/jaffle_shop_1.10.json")),
		"jaffle 1.8":   Build(loadManifestJSON(t, "testdata/jaffle_shop_1.8.json")),
		"hubspot v12":  Build(loadManifestJSON(t, "testdata/hubspot_v12.json")),
		"synth (part)": Build(&artifacts.Manifest{Nodes: synthManifest().Nodes[:3000]}),
	}
	for name, g := range graphs {
		values := map[string]bool{"nothing_matches": true, "v2": true, "2": true}
		for _, n := range g.nodes {
			fqn := nodeFQN(n)
			cands := append([]string{n.Name, n.PackageName, n.Version, n.Name + "_v" + n.Version}, fqn...)
			if len(fqn) >= 2 {
				cands = append(cands, fqn[len(fqn)-2]+"_"+fqn[len(fqn)-1])
			}
			for _, c := range cands {
				values[c] = true
				for _, part := range strings.Split(c, ".") {
					values[part] = true
				}
			}
		}
		checked, matched := 0, 0
		for v := range values {
			if v == "" || strings.Contains(v, ".") || hasWildcard(v) {
				continue // not the fast path
			}
			set, err := g.matchMethod(criterion{raw: v, method: "fqn", value: v})
			if err != nil {
				t.Fatal(err)
			}
			got := g.sortedIDs(set)
			want := scanFQN(g, v)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: %q: index differs from the fqn scan (-scan +index)\n%s", name, v, diff)
			}
			checked++
			if len(want) > 0 {
				matched++
			}
		}
		if checked < 5 || matched < 3 {
			t.Errorf("%s: only %d values checked, %d matching something; the test lost its inputs", name, checked, matched)
		}
	}
}

// The index answers through Select, with dbt's semantics for the odd cases.
func TestSelectPlainNames(t *testing.T) {
	g := oddFQNGraph()
	for sel, want := range map[string][]string{
		"dim_customers":    {"model.p.dim_customers.v1", "model.p.dim_customers.v2"},
		"dim_customers_v2": {"model.p.dim_customers.v2"},
		"v2":               nil, // a version alone is not a name
		"v3":               {"model.p.short.v3"},
		"short":            nil,
		"p":                {"model.p.a.b", "model.p.nofqn", "model.p.dim_customers.v1", "model.p.dim_customers.v2", "model.p.empty", "model.p.short.v3", "model.p.staging", "model.p.star", "model.p.stg", "seed.p.stg", "test.p.t"},
		"q":                {"model.q.dotpkg"},
		"dir":              {"model.p.a.b"},
		"staging":          {"model.p.staging", "model.p.stg"},
		"stg":              {"model.p.stg", "seed.p.stg"},
		"one":              {"model.p.one"},
		"nofqn":            {"model.p.nofqn"},
		"marts":            {"model.p.dim_customers.v1", "model.p.dim_customers.v2", "test.p.t"},
		"fqn:stg+":         {"model.p.stg", "seed.p.stg"},
	} {
		checkSelect(t, g, sel, want)
	}
}
