package lineage

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/dbtlink/dbtlink/artifacts"
)

const (
	synthLayers = 20
	synthWidth  = 1000 // 20 x 1000 = 20,000 nodes
)

func synthID(layer, pos int) string { return fmt.Sprintf("model.synth.m_%02d_%04d", layer, pos) }

// synthManifest is a layered DAG shaped like a large dbt project: layer 0 are
// sources, every other node has 3 distinct parents, mostly in the previous
// layer and sometimes two or three back, near its own position. Locality keeps
// closures at a realistic size (hundreds to a few thousand nodes) instead of
// the whole graph, which a uniformly random DAG of this density would give.
func synthManifest() *artifacts.Manifest {
	r := rand.New(rand.NewPCG(1, 2))
	m := &artifacts.Manifest{Nodes: make([]*artifacts.Node, 0, synthLayers*synthWidth)}
	for l := range synthLayers {
		for p := range synthWidth {
			n := &artifacts.Node{UniqueID: synthID(l, p), Name: fmt.Sprintf("m_%02d_%04d", l, p),
				PackageName: "synth", ResourceType: artifacts.Model, Materialized: "table"}
			if l == 0 {
				n.ResourceType = artifacts.Source
			}
			if l > 0 && p%50 == 0 {
				n.Materialized = "ephemeral"
			}
			for len(n.DependsOnNodes) < 3 && l > 0 {
				back := 1
				if x := r.IntN(10); x == 0 && l >= 3 {
					back = 3
				} else if x < 3 && l >= 2 {
					back = 2
				}
				pp := min(max(p+r.IntN(17)-8, 0), synthWidth-1)
				id := synthID(l-back, pp)
				dup := false
				for _, d := range n.DependsOnNodes {
					dup = dup || d == id
				}
				if !dup {
					n.DependsOnNodes = append(n.DependsOnNodes, id)
				}
			}
			m.Nodes = append(m.Nodes, n)
		}
	}
	return m
}

func BenchmarkBuild(b *testing.B) {
	m := synthManifest()
	b.ReportAllocs()
	for b.Loop() {
		Build(m)
	}
}

func benchClosure(b *testing.B, down bool, id string, opts QueryOptions) {
	g := Build(synthManifest())
	q := g.Upstream
	if down {
		q = g.Downstream
	}
	res, err := q(id, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, _ = q(id, opts)
	}
	b.ReportMetric(float64(len(res)), "nodes/op")
}

func BenchmarkUpstream(b *testing.B) {
	b.Run("leaf/all", func(b *testing.B) { benchClosure(b, false, synthID(synthLayers-1, 500), QueryOptions{}) })
	b.Run("mid/all", func(b *testing.B) { benchClosure(b, false, synthID(synthLayers/2, 500), QueryOptions{}) })
	b.Run("leaf/depth3", func(b *testing.B) { benchClosure(b, false, synthID(synthLayers-1, 500), QueryOptions{Depth: 3}) })
	b.Run("leaf/ephemeral", func(b *testing.B) {
		benchClosure(b, false, synthID(synthLayers-1, 500), QueryOptions{PassThroughEphemeral: true})
	})
}

func BenchmarkDownstream(b *testing.B) {
	b.Run("root/all", func(b *testing.B) { benchClosure(b, true, synthID(0, 500), QueryOptions{}) })
	b.Run("mid/all", func(b *testing.B) { benchClosure(b, true, synthID(synthLayers/2, 500), QueryOptions{}) })
	b.Run("root/depth3", func(b *testing.B) { benchClosure(b, true, synthID(0, 500), QueryOptions{Depth: 3}) })
}

func BenchmarkSelect(b *testing.B) {
	g := Build(synthManifest())
	for _, sel := range []string{"+m_19_0500", "m_10_0500+", "@m_15_0500", "config.materialized:ephemeral,+m_19_0500"} {
		b.Run(sel, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := g.Select(sel); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestSynthGraphShape keeps the benchmark honest: it must be the advertised
// size and fan-in, acyclic closures must be a fraction of the graph, and a
// query must allocate only its result.
func TestSynthGraphShape(t *testing.T) {
	g := Build(synthManifest())
	if g.Len() != 20000 || g.EdgeCount() != 3*(synthLayers-1)*synthWidth {
		t.Fatalf("Len %d EdgeCount %d", g.Len(), g.EdgeCount())
	}
	leaf := synthID(synthLayers-1, 500)
	up, _ := g.Upstream(leaf, QueryOptions{})
	if len(up) < 100 || len(up) > g.Len()/2 {
		t.Errorf("leaf upstream closure has %d nodes; the generator lost its locality", len(up))
	}
	if raceEnabled {
		t.Log("allocation count not checked under the race detector")
		return
	}
	// Enough runs that a pool refill after a garbage collection (a new
	// scratch: three allocations) cannot move the average.
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := g.Upstream(leaf, QueryOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 {
		t.Errorf("Upstream allocates %.0f times per query, want 1 (the result)", allocs)
	}
}

// BenchmarkSelectBareName is a plain node name, the most common selector: it
// is answered from the name index instead of a scan of every fqn.
func BenchmarkSelectBareName(b *testing.B) {
	g := Build(synthManifest())
	for _, sel := range []string{"m_10_0500", "m_10_0500+1", "no_such_model"} {
		b.Run(sel, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := g.Select(sel); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSelectWith is BenchmarkSelect with dbt's indirect selection,
// whose cost is the scan of the selection's children and, in buildable
// mode, one more upstream closure.
func BenchmarkSelectWith(b *testing.B) {
	g := Build(synthManifest())
	for _, mode := range []IndirectSelection{Eager, Buildable} {
		for _, sel := range []string{"+m_19_0500", "@m_15_0500"} {
			b.Run(mode.String()+"/"+sel, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := g.SelectWith(sel, SelectOptions{Indirect: mode}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
