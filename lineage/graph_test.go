package lineage

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/dbtlink/dbtlink/artifacts"
	"github.com/google/go-cmp/cmp"
)

// Fixture ids. The project "p" is:
//
//	raw.orders ──> stg_orders ──> int_orders (ephemeral) ──> orders ──> customers ──> dashboard (exposure)
//	raw.customers ─> stg_customers ─────────────────────────^   ^─────────┘ │
//	country_codes (seed) ─^      └──────────────────────────────────────────┘ (stg_customers -> customers)
//	orders -> not_null_orders_id, assert_positive (also on customers), unit test, semantic model "orders" -> metric revenue
//
// plus package "q" with an unconnected model also named stg_orders.
const (
	srcO  = "source.p.raw.orders"
	srcC  = "source.p.raw.customers"
	seed  = "seed.p.country_codes"
	stgO  = "model.p.stg_orders"
	stgC  = "model.p.stg_customers"
	intO  = "model.p.int_orders"
	ord   = "model.p.orders"
	cust  = "model.p.customers"
	tNN   = "test.p.not_null_orders_id.abc123"
	tSing = "test.p.assert_positive"
	expo  = "exposure.p.dashboard"
	sm    = "semantic_model.p.orders"
	met   = "metric.p.revenue"
	ut    = "unit_test.p.orders.test_x"
	qStg  = "model.q.stg_orders"
)

func fixtureManifest() *artifacts.Manifest {
	n := func(id string, rt artifacts.ResourceType, name, ofp, mat string, fqn []string, deps ...string) *artifacts.Node {
		pkg := strings.Split(id, ".")[1]
		return &artifacts.Node{UniqueID: id, ResourceType: rt, Name: name, PackageName: pkg,
			OriginalFilePath: ofp, Materialized: mat, FQN: fqn, DependsOnNodes: deps, Enabled: true}
	}
	src := func(id, source, table string) *artifacts.Node {
		x := n(id, artifacts.Source, table, "models/staging/sources.yml", "", []string{"p", "staging", source, table})
		x.Source = &artifacts.SourceInfo{SourceName: source}
		return x
	}
	nodes := []*artifacts.Node{
		src(srcO, "raw", "orders"),
		src(srcC, "raw", "customers"),
		n(seed, artifacts.Seed, "country_codes", "seeds/country_codes.csv", "seed", []string{"p", "country_codes"}),
		n(stgO, artifacts.Model, "stg_orders", "models/staging/stg_orders.sql", "view", []string{"p", "staging", "stg_orders"}, srcO),
		n(stgC, artifacts.Model, "stg_customers", "models/staging/stg_customers.sql", "view", []string{"p", "staging", "stg_customers"}, srcC, seed),
		n(intO, artifacts.Model, "int_orders", "models/intermediate/int_orders.sql", "ephemeral", []string{"p", "intermediate", "int_orders"}, stgO),
		n(ord, artifacts.Model, "orders", "models/marts/orders.sql", "table", []string{"p", "marts", "orders"}, intO, stgC),
		n(cust, artifacts.Model, "customers", "models/marts/customers.sql", "table", []string{"p", "marts", "customers"}, ord, stgC, "model.other.missing"),
		n(tNN, artifacts.Test, "not_null_orders_id", "models/marts/schema.yml", "test", []string{"p", "marts", "not_null_orders_id"}, ord),
		n(tSing, artifacts.Test, "assert_positive", "tests/assert_positive.sql", "test", []string{"p", "assert_positive"}, ord, cust),
		n(expo, artifacts.Exposure, "dashboard", "models/exposures.yml", "", []string{"p", "dashboard"}, cust),
		n(sm, artifacts.SemanticModel, "orders", "models/marts/orders.yml", "", []string{"p", "marts", "orders"}, ord),
		n(met, artifacts.Metric, "revenue", "models/marts/orders.yml", "", []string{"p", "marts", "revenue"}, sm),
		n(ut, artifacts.UnitTest, "test_x", "models/marts/orders.yml", "", []string{"p", "marts", "orders", "test_x"}, ord),
		n(qStg, artifacts.Model, "stg_orders", "models/stg_orders.sql", "view", []string{"q", "stg_orders"}),
	}
	nodes[3].Tags = []string{"nightly"}
	nodes[4].Tags = []string{"nightly", "pii"}
	nodes[6].Tags = []string{"finance"}
	nodes[8].Test = &artifacts.TestMetadata{Name: "not_null", ColumnName: "id"}
	nodes[9].Test = &artifacts.TestMetadata{}
	return &artifacts.Manifest{Nodes: nodes}
}

func fixture(t testing.TB) *Graph {
	t.Helper()
	return Build(fixtureManifest())
}

func distances(r []Reached) map[string]int {
	m := map[string]int{}
	for _, x := range r {
		if _, dup := m[x.ID]; dup {
			m[x.ID] = -1 // a repeated id is a bug; make it show in the diff
			continue
		}
		m[x.ID] = x.Distance
	}
	return m
}

func TestBuildEdgesAndFlags(t *testing.T) {
	g := fixture(t)
	if g.Len() != 15 {
		t.Errorf("Len = %d, want 15", g.Len())
	}
	if g.EdgeCount() != 15 {
		t.Errorf("EdgeCount = %d, want 15", g.EdgeCount())
	}
	if d := g.Dangling(); !cmp.Equal(d, []DanglingEdge{{From: "model.other.missing", To: cust}}) {
		t.Errorf("Dangling = %v", d)
	}
	if got := g.Parents(cust); !cmp.Equal(got, []string{stgC, ord}) {
		t.Errorf("Parents(customers) = %v", got)
	}
	if got := g.Children(ord); !cmp.Equal(got, []string{cust, tNN, tSing, sm, ut}) {
		t.Errorf("Children(orders) = %v", got)
	}
	if !g.IsEphemeral(intO) || g.IsEphemeral(ord) || g.IsEphemeral("nope") {
		t.Error("IsEphemeral wrong")
	}
	if g.Node(ord).Name != "orders" || g.Node("nope") != nil || !g.Has(seed) || g.Has("nope") {
		t.Error("Node/Has wrong")
	}
	if got, want := g.Roots(), []string{srcO, srcC, seed, qStg}; !cmp.Equal(got, want) {
		t.Errorf("Roots = %v, want %v", got, want)
	}
	if got, want := g.Leaves(), []string{tNN, tSing, expo, met, ut, qStg}; !cmp.Equal(got, want) {
		t.Errorf("Leaves = %v, want %v", got, want)
	}
}

func TestBuildUnionsParentAndChildMaps(t *testing.T) {
	m := &artifacts.Manifest{
		Nodes: []*artifacts.Node{
			{UniqueID: "a", Name: "a"}, {UniqueID: "b", Name: "b", DependsOnNodes: []string{"a", "a"}},
			{UniqueID: "c", Name: "c"},
			{UniqueID: "a", Name: "duplicate definition, ignored", DependsOnNodes: []string{"c"}},
		},
		// a->b repeats depends_on; b->c exists only in parent_map, a->c only in child_map.
		ParentMap: map[string][]string{"b": {"a"}, "c": {"b", "ghost"}},
		ChildMap:  map[string][]string{"a": {"b", "c"}, "ghost2": {"a"}},
	}
	g := Build(m)
	if g.Len() != 3 || g.EdgeCount() != 3 {
		t.Fatalf("Len, EdgeCount = %d, %d; want 3, 3", g.Len(), g.EdgeCount())
	}
	if got := g.Parents("c"); !cmp.Equal(got, []string{"a", "b"}) {
		t.Errorf("Parents(c) = %v", got)
	}
	want := []DanglingEdge{{From: "ghost", To: "c"}, {From: "ghost2", To: "a"}}
	if !cmp.Equal(g.Dangling(), want) {
		t.Errorf("Dangling = %v, want %v", g.Dangling(), want)
	}
}

func TestBuildNilAndEmpty(t *testing.T) {
	for _, m := range []*artifacts.Manifest{nil, {}} {
		g := Build(m)
		if g.Len() != 0 || len(g.Roots()) != 0 {
			t.Errorf("empty graph has nodes")
		}
		if _, err := g.Upstream("x", QueryOptions{}); err == nil {
			t.Error("Upstream on empty graph: want error")
		}
		if ids, err := g.Select("*"); err != nil || len(ids) != 0 {
			t.Errorf("Select(*) = %v, %v", ids, err)
		}
	}
}

func TestClosures(t *testing.T) {
	g := fixture(t)
	tests := []struct {
		name string
		down bool
		id   string
		opts QueryOptions
		want map[string]int
	}{
		{"upstream all", false, cust, QueryOptions{},
			map[string]int{ord: 1, stgC: 1, intO: 2, srcC: 2, seed: 2, stgO: 3, srcO: 4}},
		{"upstream depth 1", false, cust, QueryOptions{Depth: 1}, map[string]int{ord: 1, stgC: 1}},
		{"upstream through ephemeral", false, cust, QueryOptions{PassThroughEphemeral: true},
			map[string]int{ord: 1, stgC: 1, stgO: 2, srcC: 2, seed: 2, srcO: 3}},
		{"upstream through ephemeral depth 2", false, cust, QueryOptions{PassThroughEphemeral: true, Depth: 2},
			map[string]int{ord: 1, stgC: 1, stgO: 2, srcC: 2, seed: 2}},
		{"upstream sources only", false, cust, QueryOptions{ResourceTypes: []artifacts.ResourceType{artifacts.Source}},
			map[string]int{srcC: 2, srcO: 4}},
		{"upstream of a root", false, srcO, QueryOptions{}, map[string]int{}},
		{"downstream all", true, stgO, QueryOptions{},
			map[string]int{intO: 1, ord: 2, cust: 3, tNN: 3, tSing: 3, sm: 3, ut: 3, expo: 4, met: 4}},
		{"downstream through ephemeral", true, stgO, QueryOptions{PassThroughEphemeral: true},
			map[string]int{ord: 1, cust: 2, tNN: 2, tSing: 2, sm: 2, ut: 2, expo: 3, met: 3}},
		{"downstream from the ephemeral itself", true, intO, QueryOptions{PassThroughEphemeral: true, Depth: 1},
			map[string]int{ord: 1}},
		{"downstream tests only depth 2", true, stgC, QueryOptions{Depth: 2, ResourceTypes: []artifacts.ResourceType{artifacts.Test, artifacts.UnitTest}},
			map[string]int{tNN: 2, tSing: 2, ut: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := g.Upstream
			if tt.down {
				q = g.Downstream
			}
			got, err := q(tt.id, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, distances(got)); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
			if !slices.IsSortedFunc(got, func(a, b Reached) int { return a.Distance - b.Distance }) {
				t.Errorf("not nearest first: %v", got)
			}
		})
	}
	var nf *NotFoundError
	if _, err := g.Downstream("model.p.order", QueryOptions{}); !errors.As(err, &nf) || !slices.Contains(nf.Suggestions, ord) {
		t.Errorf("unknown id: err = %v, want NotFoundError suggesting %s", err, ord)
	}
}

func cycleGraph() *Graph {
	return Build(&artifacts.Manifest{Nodes: []*artifacts.Node{
		{UniqueID: "model.x.a", Name: "a", PackageName: "x", ResourceType: artifacts.Model, DependsOnNodes: []string{"model.x.c"}},
		{UniqueID: "model.x.b", Name: "b", PackageName: "x", ResourceType: artifacts.Model, DependsOnNodes: []string{"model.x.a"}},
		{UniqueID: "model.x.c", Name: "c", PackageName: "x", ResourceType: artifacts.Model, DependsOnNodes: []string{"model.x.b", "model.x.c"}},
		{UniqueID: "model.x.d", Name: "d", PackageName: "x", ResourceType: artifacts.Model, DependsOnNodes: []string{"model.x.c"}},
	}})
}

// dbt rejects cycles, but a hand-edited or corrupt manifest can have them; every
// query must still terminate with each node once.
func TestCyclesTerminate(t *testing.T) {
	g := cycleGraph()
	up, _ := g.Upstream("model.x.a", QueryOptions{})
	if diff := cmp.Diff(map[string]int{"model.x.c": 1, "model.x.b": 2}, distances(up)); diff != "" {
		t.Errorf("Upstream (-want +got)\n%s", diff)
	}
	down, _ := g.Downstream("model.x.a", QueryOptions{})
	if diff := cmp.Diff(map[string]int{"model.x.b": 1, "model.x.c": 2, "model.x.d": 3}, distances(down)); diff != "" {
		t.Errorf("Downstream (-want +got)\n%s", diff)
	}
	for _, sel := range []string{"+a", "a+", "@a", "2+b+2"} {
		ids, err := g.Select(sel)
		if err != nil || len(ids) < 3 {
			t.Errorf("Select(%q) = %v, %v", sel, ids, err)
		}
	}
	p, err := g.ShortestPath("model.x.a", "model.x.d")
	if err != nil || !cmp.Equal(p.IDs, []string{"model.x.a", "model.x.b", "model.x.c", "model.x.d"}) {
		t.Errorf("ShortestPath = %v, %v", p, err)
	}
	if len(g.Roots()) != 0 {
		t.Errorf("Roots = %v, want none", g.Roots())
	}
	var sb strings.Builder
	if err := Render(&sb, g, g.IDs(), FormatText); err != nil || strings.Count(sb.String(), "\n") != 6 {
		t.Errorf("text render of a cycle:\n%s (err %v)", sb.String(), err)
	}
}

func TestShortestPath(t *testing.T) {
	g := fixture(t)
	tests := []struct {
		from, to string
		want     []string
		down     bool
		err      error
	}{
		{srcO, cust, []string{srcO, stgO, intO, ord, cust}, true, nil},
		{cust, srcC, []string{cust, stgC, srcC}, false, nil},
		{seed, met, []string{seed, stgC, ord, sm, met}, true, nil},
		{ord, ord, []string{ord}, true, nil},
		{srcO, srcC, nil, false, ErrNoPath},
		{qStg, ord, nil, false, ErrNoPath},
	}
	for _, tt := range tests {
		p, err := g.ShortestPath(tt.from, tt.to)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("ShortestPath(%s, %s) err = %v, want %v", tt.from, tt.to, err, tt.err)
			}
			continue
		}
		if err != nil || !cmp.Equal(p.IDs, tt.want) || p.Downstream != tt.down {
			t.Errorf("ShortestPath(%s, %s) = %+v, %v; want %v downstream=%v", tt.from, tt.to, p, err, tt.want, tt.down)
		}
	}
	var nf *NotFoundError
	if _, err := g.ShortestPath(ord, "model.p.nope"); !errors.As(err, &nf) {
		t.Errorf("unknown to: err = %v", err)
	}
}

func TestResolve(t *testing.T) {
	g := fixture(t)
	tests := []struct {
		q, want    string
		candidates []string // non-nil: expect AmbiguousError with these
		notFound   bool
	}{
		{q: ord, want: ord},
		{q: "orders", want: ord}, // the model, not the semantic model of the same name
		{q: " customers ", want: cust},
		{q: "q.stg_orders", want: qStg},
		{q: "p.stg_orders", want: stgO},
		{q: "raw.orders", want: srcO},
		{q: "p.raw.customers", want: srcC},
		{q: "revenue", want: met},
		{q: "dashboard", want: expo},
		{q: "stg_orders", candidates: []string{stgO, qStg}},
		{q: "nope", notFound: true},
		{q: "raw.nope", notFound: true},
	}
	for _, tt := range tests {
		got, err := g.Resolve(tt.q)
		var amb *AmbiguousError
		var nf *NotFoundError
		switch {
		case tt.candidates != nil:
			if !errors.As(err, &amb) || !cmp.Equal(amb.Candidates, tt.candidates) {
				t.Errorf("Resolve(%q) = %q, %v; want ambiguity %v", tt.q, got, err, tt.candidates)
			}
		case tt.notFound:
			if !errors.As(err, &nf) {
				t.Errorf("Resolve(%q) = %q, %v; want NotFoundError", tt.q, got, err)
			}
		default:
			if err != nil || got != tt.want {
				t.Errorf("Resolve(%q) = %q, %v; want %q", tt.q, got, err, tt.want)
			}
		}
	}
	if _, err := g.Resolve("  "); err == nil {
		t.Error("Resolve of blank: want error")
	}
}

func TestScratchGenerationWrap(t *testing.T) {
	s := newScratch(4)
	s.gen = ^uint32(0) // the next reset wraps to 0
	for i := range s.mark {
		s.mark[i] = 1 // stale stamps equal to the first generation after the wrap
	}
	s.reset()
	if s.gen != 1 || slices.Contains(s.mark, 1) {
		t.Errorf("reset after wrap: gen %d, marks %v; want gen 1 and marks cleared", s.gen, s.mark)
	}

	// Through a query: hand a scratch about to wrap back to the pool. Whether or
	// not the pool returns it, the closure must be complete.
	g := fixture(t)
	s = g.getScratch()
	s.gen = ^uint32(0)
	for i := range s.mark {
		s.mark[i] = 1
	}
	g.putScratch(s)
	got, err := g.Downstream(stgO, QueryOptions{})
	if err != nil || len(got) != 9 {
		t.Errorf("Downstream after wrap = %v, %v", got, err)
	}
}
