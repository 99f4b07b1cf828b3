package lineage

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dbtlink/dbtlink/artifacts"
)

// IndirectSelection is dbt's --indirect-selection mode: which tests (and unit
// tests) that sit on selected nodes are added to a selection. The zero value is
// dbt's default, eager.
type IndirectSelection int

const (
	// Eager adds every test with at least one selected parent.
	Eager IndirectSelection = iota
	// Cautious adds a test only when all its parents are selected.
	Cautious
	// Buildable adds a test when each parent is selected, an ancestor of a
	// selected node, or a source.
	Buildable
	// Empty adds no test: only what the selector itself matches.
	Empty
)

var indirectNames = [...]string{Eager: "eager", Cautious: "cautious", Buildable: "buildable", Empty: "empty"}

func (m IndirectSelection) String() string {
	if m >= 0 && int(m) < len(indirectNames) {
		return indirectNames[m]
	}
	return fmt.Sprintf("IndirectSelection(%d)", int(m))
}

// ParseIndirectSelection reads a mode as dbt spells it: eager, cautious,
// buildable or empty (case-insensitive).
func ParseIndirectSelection(s string) (IndirectSelection, error) {
	for i, n := range indirectNames {
		if strings.EqualFold(strings.TrimSpace(s), n) {
			return IndirectSelection(i), nil
		}
	}
	return 0, fmt.Errorf("unknown indirect selection %q; use eager (dbt's default), cautious, buildable or empty", s)
}

// DefaultResourceTypes are the types `dbt ls` lists when --resource-type is
// not given (dbt-core's ListTask.DEFAULT_RESOURCE_VALUES): not analyses, and
// never hooks (operation) or RPC and SQL operation nodes.
var DefaultResourceTypes = []artifacts.ResourceType{
	artifacts.Exposure, artifacts.Function, artifacts.Metric, artifacts.Model, artifacts.SavedQuery,
	artifacts.Seed, artifacts.SemanticModel, artifacts.Snapshot, artifacts.Source, artifacts.Test,
	artifacts.UnitTest,
}

// ListableResourceTypes are the types `dbt ls --resource-type all` lists: the
// default ones and analyses.
var ListableResourceTypes = append(slices.Clone(DefaultResourceTypes), artifacts.Analysis)

// ResourceTypesFromArgs turns --resource-type and --exclude-resource-type
// values into a set of types the way dbt does: no include means the default
// types, "default" and "all" stand for DefaultResourceTypes and
// ListableResourceTypes, and the excluded types are removed last. Values are
// case-insensitive and may be comma-separated. The result is sorted.
func ResourceTypesFromArgs(include, exclude []string) ([]artifacts.ResourceType, error) {
	parse := func(flag string, raw []string, keywords bool) ([]artifacts.ResourceType, error) {
		var out []artifacts.ResourceType
		for _, r := range raw {
			for _, v := range strings.Split(r, ",") {
				v = strings.ToLower(strings.TrimSpace(v))
				switch {
				case v == "":
				case keywords && v == "default":
					out = append(out, DefaultResourceTypes...)
				case keywords && v == "all":
					out = append(out, ListableResourceTypes...)
				case slices.Contains(ListableResourceTypes, artifacts.ResourceType(v)):
					out = append(out, artifacts.ResourceType(v))
				default:
					names := make([]string, 0, len(ListableResourceTypes)+2)
					for _, t := range ListableResourceTypes {
						names = append(names, string(t))
					}
					slices.Sort(names)
					if keywords {
						names = append(names, "default", "all")
					}
					hint := ""
					if s, ok := strings.CutSuffix(v, "s"); ok && slices.Contains(ListableResourceTypes, artifacts.ResourceType(s)) {
						hint = fmt.Sprintf(" (did you mean %s?)", s)
					}
					return nil, fmt.Errorf("%s: unknown resource type %q%s; use one of %s", flag, v, hint, strings.Join(names, ", "))
				}
			}
		}
		return out, nil
	}
	inc, err := parse("--resource-type", include, true)
	if err != nil {
		return nil, err
	}
	if len(inc) == 0 {
		inc = slices.Clone(DefaultResourceTypes)
	}
	exc, err := parse("--exclude-resource-type", exclude, false)
	if err != nil {
		return nil, err
	}
	inc = slices.DeleteFunc(inc, func(t artifacts.ResourceType) bool { return slices.Contains(exc, t) })
	slices.Sort(inc)
	return slices.Compact(inc), nil
}

// SelectOptions are the flags of `dbt ls` besides --select. The zero value is
// --exclude unset, eager indirect selection and every resource type.
type SelectOptions struct {
	// Exclude is a selector whose nodes are removed, like dbt's --exclude;
	// as in dbt it gets indirect selection too, so excluding a model also
	// excludes its tests (in eager mode).
	Exclude string
	// Indirect is the --indirect-selection mode.
	Indirect IndirectSelection
	// ResourceTypes, when not nil, keeps only nodes of these types, after
	// selection, like dbt's --resource-type; pass DefaultResourceTypes for
	// what `dbt ls` lists without that flag.
	ResourceTypes []artifacts.ResourceType
}

// SelectWith evaluates selector as `dbt ls --select selector` does with the
// given options, indirect selection included, and returns the selected
// unique ids sorted. An empty selector selects every node, as dbt does when
// --select is not given.
//
// Indirect selection follows dbt-core's NodeSelector: each term of the
// selector adds the tests and unit tests that are direct children of what it
// selected (in cautious and buildable modes it keeps the others aside);
// unions, intersections and --exclude combine both the selected sets and the
// sets kept aside, and a test kept aside is added back when its parents are
// all in the combined result (cautious), or are there, or are their
// ancestors (buildable).
func (g *Graph) SelectWith(selector string, opts SelectOptions) ([]string, error) {
	if opts.Indirect < Eager || opts.Indirect > Empty {
		return nil, fmt.Errorf("lineage: %v is not an indirect selection mode", opts.Indirect)
	}
	var inc sel
	if strings.TrimSpace(selector) == "" {
		all := newBitset(len(g.ids))
		for i := range g.ids {
			all.add(int32(i))
		}
		inc = sel{direct: all, indirect: all.clone()}
	} else {
		s, err := g.selectIndirect(selector, opts.Indirect)
		if err != nil {
			return nil, err
		}
		inc = s
	}
	if strings.TrimSpace(opts.Exclude) != "" {
		ex, err := g.selectIndirect(opts.Exclude, opts.Indirect)
		if err != nil {
			return nil, fmt.Errorf("--exclude: %w", err)
		}
		inc = g.combine([]sel{inc, ex}, opDifference, opts.Indirect)
	}
	return g.filteredIDs(inc.direct, opts.ResourceTypes), nil
}

// SelectFrom treats ids (such as a closure computed with Upstream) as what
// one selector term matched, and applies indirect selection, --exclude and
// the resource types to it as SelectWith does. Unknown ids are an error.
func (g *Graph) SelectFrom(ids []string, opts SelectOptions) ([]string, error) {
	set := newBitset(len(g.ids))
	for _, id := range ids {
		i, ok := g.index[id]
		if !ok {
			return nil, g.notFound(id)
		}
		set.add(i)
	}
	s := g.expand(set, opts.Indirect)
	// dbt wraps every term in an intersection and the terms in a union.
	s = g.combine([]sel{s}, opIntersection, opts.Indirect)
	s = g.combine([]sel{s}, opUnion, opts.Indirect)
	if strings.TrimSpace(opts.Exclude) != "" {
		ex, err := g.selectIndirect(opts.Exclude, opts.Indirect)
		if err != nil {
			return nil, fmt.Errorf("--exclude: %w", err)
		}
		s = g.combine([]sel{s, ex}, opDifference, opts.Indirect)
	}
	return g.filteredIDs(s.direct, opts.ResourceTypes), nil
}

func (g *Graph) filteredIDs(set bitset, types []artifacts.ResourceType) []string {
	if types != nil {
		set.each(func(i int32) {
			if !slices.Contains(types, g.nodes[i].ResourceType) {
				set[i>>6] &^= 1 << (uint(i) & 63)
			}
		})
	}
	return g.sortedIDs(set)
}

// sel is the result of one part of a selection: the nodes selected, and
// (for a term) the tests kept aside by cautious or buildable selection, or
// (for a combination) the combination of selected-or-kept-aside sets.
type sel struct {
	direct, indirect bitset
}

type setOp int

const (
	opUnion setOp = iota
	opIntersection
	opDifference
)

// selectIndirect parses selector and evaluates it with indirect selection:
// a union of space-separated intersections of terms, as dbt's parse_union.
func (g *Graph) selectIndirect(selector string, mode IndirectSelection) (sel, error) {
	fields := strings.Fields(selector)
	if len(fields) == 0 {
		return sel{}, &SelectorError{Selector: selector, Msg: `it is empty; give a node name, a method such as "tag:nightly", or a graph operator such as "+orders"`}
	}
	unions := make([]sel, 0, len(fields))
	for _, f := range fields {
		var terms []sel
		for _, part := range strings.Split(f, ",") {
			if part == "" {
				return sel{}, &SelectorError{Selector: selector, Part: f, Msg: `empty term around ','; intersections are written "a,b" with no spaces and nothing empty`}
			}
			c, err := parseCriterion(part)
			if err != nil {
				err.(*SelectorError).Selector = selector
				return sel{}, err
			}
			s, err := g.evalCriterion(c)
			if err != nil {
				if se, ok := err.(*SelectorError); ok {
					se.Selector = selector
				}
				return sel{}, err
			}
			terms = append(terms, g.expand(s, mode))
		}
		unions = append(unions, g.combine(terms, opIntersection, mode))
	}
	return g.combine(unions, opUnion, mode), nil
}

// canSelectIndirectly is dbt's can_select_indirectly: only tests and unit
// tests are added for their parents.
func canSelectIndirectly(n *artifacts.Node) bool {
	return n.ResourceType == artifacts.Test || n.ResourceType == artifacts.UnitTest
}

// dependsWithin reports whether every depends_on node of n is in set; an id
// the manifest does not define is never in it, as in dbt.
func (g *Graph) dependsWithin(n *artifacts.Node, set bitset) bool {
	for _, d := range n.DependsOnNodes {
		i, ok := g.index[d]
		if !ok || !set.has(i) {
			return false
		}
	}
	return true
}

// ancestorsOf returns set with every ancestor of its members.
func (g *Graph) ancestorsOf(set bitset) bitset {
	res := set.clone()
	var starts []int32
	set.each(func(i int32) { starts = append(starts, i) })
	s := g.getScratch()
	defer g.putScratch(s)
	g.walk(s, starts, up, -1, false)
	for _, v := range s.out {
		res.add(v)
	}
	return res
}

// expand is dbt's expand_selection for one term's selected set.
func (g *Graph) expand(selected bitset, mode IndirectSelection) sel {
	direct := selected.clone()
	indirect := newBitset(len(g.ids))
	if mode == Empty {
		return sel{direct: direct, indirect: indirect}
	}
	var buildable bitset
	if mode == Buildable {
		buildable = g.ancestorsOf(selected)
		buildable.or(g.sources)
	}
	selected.each(func(p int32) {
		for _, c := range g.children(p) {
			if !g.testLike.has(c) || direct.has(c) {
				continue
			}
			n := g.nodes[c]
			switch {
			case mode == Eager, g.dependsWithin(n, selected):
				direct.add(c)
			case mode == Buildable && g.dependsWithin(n, buildable):
				direct.add(c)
			default:
				indirect.add(c)
			}
		}
	})
	return sel{direct: direct, indirect: indirect}
}

// combine is dbt's handling of a union, intersection or difference: the
// selected sets and the selected-or-kept-aside sets are combined separately,
// then kept-aside tests whose parents are now all present are added
// (incorporate_indirect_nodes). Like dbt, only data tests are added back.
func (g *Graph) combine(parts []sel, op setOp, mode IndirectSelection) sel {
	apply := func(get func(sel) bitset) bitset {
		res := get(parts[0]).clone()
		for _, p := range parts[1:] {
			switch op {
			case opUnion:
				res.or(get(p))
			case opIntersection:
				res.and(get(p))
			case opDifference:
				res.andNot(get(p))
			}
		}
		return res
	}
	direct := apply(func(s sel) bitset { return s.direct })
	indirect := apply(func(s sel) bitset {
		u := s.direct.clone()
		u.or(s.indirect)
		return u
	})
	if slices.Equal(direct, indirect) {
		return sel{direct: direct, indirect: indirect}
	}
	selected := direct.clone()
	var within bitset
	switch mode {
	case Cautious:
		within = direct
	case Buildable:
		within = g.ancestorsOf(direct)
	default:
		return sel{direct: direct, indirect: indirect}
	}
	indirect.each(func(i int32) {
		if n := g.nodes[i]; n.ResourceType == artifacts.Test && g.dependsWithin(n, within) {
			selected.add(i)
		}
	})
	return sel{direct: selected, indirect: indirect}
}
