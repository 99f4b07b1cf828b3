package lineage

import (
	"errors"
	"fmt"
	"math/bits"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/dbtlink/dbtlink/artifacts"
)

// ErrInvalidSelector is wrapped by every *SelectorError, for errors.Is.
var ErrInvalidSelector = errors.New("invalid selector")

// SelectorError reports a selector that cannot be parsed or evaluated, with
// what is wrong and how to write it.
type SelectorError struct {
	Selector string // the whole selector as given
	Part     string // the offending space- or comma-separated part, if any
	Msg      string
}

func (e *SelectorError) Error() string {
	if e.Part != "" && e.Part != e.Selector {
		return fmt.Sprintf("lineage: invalid selector %q: in %q: %s", e.Selector, e.Part, e.Msg)
	}
	return fmt.Sprintf("lineage: invalid selector %q: %s", e.Selector, e.Msg)
}

func (e *SelectorError) Unwrap() error { return ErrInvalidSelector }

// criterion is one selection criterion, such as "2+tag:nightly+" or "@orders".
type criterion struct {
	raw                     string
	childrensParents        bool // '@' prefix
	parents, children       bool
	parentDepth, childDepth int // -1 means unlimited
	method                  string
	args                    []string // "config.materialized" has args ["materialized"]
	value                   string
}

// Select evaluates a dbt node selection expression, as given to
// `dbt ls --select`, and returns the selected unique ids sorted.
//
// Supported: space-separated unions, comma-separated intersections, the graph
// operators "+x", "x+", "N+x+M" and "@x", and the methods fqn (the default for a
// bare name: node name, or a dotted fqn prefix such as "staging.stg_orders",
// with fnmatch wildcards), tag, source, path (the default when the value has a
// '/'), file (the default for *.sql, *.py, *.csv), package, config (materialized,
// tags, enabled, alias, schema, database (as configured, not as resolved), access,
// group, contract.enforced, severity),
// resource_type, test_type (generic, singular, data, unit), test_name, exposure,
// metric, semantic_model, saved_query, group and access.
//
// Select is what the selector itself matches, before dbt's indirect test
// selection, over every resource type: SelectWith with Indirect: Empty and no
// resource type filter. Graph operators return every reachable node, tests
// included, and a bare name does not add its tests. For what `dbt ls` lists,
// use SelectWith.
//
// Following dbt has surprising consequences: a wildcard fqn part matches the
// rest of the dotted fqn, so "stg_*" finds only models at the top of a package
// while "*.stg_*" finds them in folders, and "package.model" without the folder
// matches nothing. Differences from dbt: path globs match manifest paths, not
// the file system; a '+' inside a value is rejected instead of matching nothing;
// state, result, source_status and version need inputs the manifest alone does
// not give and are refused. A selector that matches nothing is not an error,
// like in dbt; it yields no ids.
func (g *Graph) Select(selector string) ([]string, error) {
	set, err := g.selectSet(selector)
	if err != nil {
		return nil, err
	}
	return g.sortedIDs(set), nil
}

// SelectExclude is Select(selector) minus Select(exclude), like dbt's --select
// with --exclude. An empty selector selects every node, as dbt does when
// --select is not given; an empty exclude excludes nothing.
func (g *Graph) SelectExclude(selector, exclude string) ([]string, error) {
	var set bitset
	if strings.TrimSpace(selector) == "" {
		set = newBitset(len(g.ids))
		for i := range g.ids {
			set.add(int32(i))
		}
	} else {
		s, err := g.selectSet(selector)
		if err != nil {
			return nil, fmt.Errorf("--select: %w", err)
		}
		set = s
	}
	if strings.TrimSpace(exclude) != "" {
		ex, err := g.selectSet(exclude)
		if err != nil {
			return nil, fmt.Errorf("--exclude: %w", err)
		}
		set.andNot(ex)
	}
	return g.sortedIDs(set), nil
}

func (g *Graph) sortedIDs(set bitset) []string {
	out := make([]string, 0, set.count())
	set.each(func(i int32) { out = append(out, g.ids[i]) })
	slices.Sort(out)
	return out
}

func (g *Graph) selectSet(selector string) (bitset, error) {
	fields := strings.Fields(selector)
	if len(fields) == 0 {
		return nil, &SelectorError{Selector: selector, Msg: `it is empty; give a node name, a method such as "tag:nightly", or a graph operator such as "+orders"`}
	}
	union := newBitset(len(g.ids))
	for _, f := range fields {
		var inter bitset
		for _, part := range strings.Split(f, ",") {
			if part == "" {
				return nil, &SelectorError{Selector: selector, Part: f, Msg: `empty term around ','; intersections are written "a,b" with no spaces and nothing empty`}
			}
			c, err := parseCriterion(part)
			if err != nil {
				err.(*SelectorError).Selector = selector
				return nil, err
			}
			s, err := g.evalCriterion(c)
			if err != nil {
				var se *SelectorError
				if errors.As(err, &se) {
					se.Selector = selector
				}
				return nil, err
			}
			if inter == nil {
				inter = s
			} else {
				inter.and(s)
			}
		}
		union.or(inter)
	}
	return union, nil
}

// parseCriterion splits one term into its graph operators, method and value,
// following the shape of dbt's spec: [@][N+][method[.arg...]:]value[+M].
func parseCriterion(raw string) (criterion, error) {
	c := criterion{raw: raw, parentDepth: -1, childDepth: -1}
	bad := func(msg string, a ...any) (criterion, error) {
		return c, &SelectorError{Part: raw, Msg: fmt.Sprintf(msg, a...)}
	}
	s := raw
	if strings.HasPrefix(s, "@") {
		c.childrensParents = true
		s = s[1:]
	}
	// Leading "N+" or "+": digits only count as a depth when a '+' follows, so a
	// model named "2020_orders" is a name, not a depth.
	digits := 0
	for digits < len(s) && s[digits] >= '0' && s[digits] <= '9' {
		digits++
	}
	if digits < len(s) && s[digits] == '+' {
		c.parents = true
		if digits > 0 {
			d, err := strconv.Atoi(s[:digits])
			if err != nil || d > 1<<30 {
				return bad("depth %q is not a usable number; write e.g. 2+model", s[:digits])
			}
			c.parentDepth = d
		}
		s = s[digits+1:]
	}
	// Trailing "+" or "+M".
	if i := strings.LastIndexByte(s, '+'); i >= 0 {
		tail := s[i+1:]
		if strings.Trim(tail, "0123456789") == "" {
			c.children = true
			if tail != "" {
				d, err := strconv.Atoi(tail)
				if err != nil || d > 1<<30 {
					return bad("depth %q is not a usable number; write e.g. model+1", tail)
				}
				c.childDepth = d
			}
			s = s[:i]
		}
	}
	if c.childrensParents && (c.parents || c.children) {
		return bad(`'@' cannot be combined with '+'; "@x" already selects x, its descendants and all their ancestors`)
	}
	if i := strings.IndexByte(s, ':'); i >= 0 && isMethodName(s[:i]) {
		full := s[:i]
		s = s[i+1:]
		parts := strings.Split(full, ".")
		c.method, c.args = parts[0], parts[1:]
		for _, a := range c.args {
			if a == "" {
				return bad("method %q has an empty argument; write e.g. config.materialized:view", full)
			}
		}
	}
	c.value = s
	if c.value == "" {
		if c.method != "" {
			return bad("method %q has no value; write e.g. %s:%s", c.method, c.method, methodExample(c.method))
		}
		return bad(`no node name or method; write e.g. "orders", "+orders" or "tag:nightly"`)
	}
	if c.method == "" {
		c.method = defaultMethod(c.value)
	}
	if c.method == "fqn" && strings.Contains(c.value, "@") {
		return bad(`unexpected '@' inside %q; '@' goes first ("@orders") and does not combine with '+'`, c.value)
	}
	if strings.Contains(c.value, "+") && c.method != "path" && c.method != "file" {
		return bad(`unexpected '+' inside %q; graph operators go at the start ("2+orders") or the end ("orders+1")`, c.value)
	}
	return c, nil
}

func isMethodName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b == '_' || b == '.' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z') {
			return false
		}
	}
	return true
}

// defaultMethod is dbt's choice of method for a value without one.
func defaultMethod(v string) string {
	switch {
	case strings.ContainsAny(v, `/\`):
		return "path"
	case strings.HasSuffix(v, ".sql"), strings.HasSuffix(v, ".py"), strings.HasSuffix(v, ".csv"):
		return "file"
	}
	return "fqn"
}

var supportedMethods = []string{
	"access", "config", "exposure", "file", "fqn", "group", "metric", "package", "path",
	"resource_type", "saved_query", "semantic_model", "source", "tag", "test_name", "test_type",
}

func methodExample(m string) string {
	switch m {
	case "tag":
		return "nightly"
	case "source":
		return "raw.orders"
	case "path":
		return "models/staging"
	case "resource_type":
		return "model"
	case "test_type":
		return "generic"
	case "config":
		return "view (as config.materialized:view)"
	}
	return "name"
}

// knownResourceTypes are the values resource_type: accepts.
var knownResourceTypes = []artifacts.ResourceType{
	artifacts.Analysis, artifacts.Exposure, artifacts.Function, artifacts.Metric, artifacts.Model,
	artifacts.Operation, artifacts.RPC, artifacts.SavedQuery, artifacts.Seed, artifacts.SemanticModel,
	artifacts.Snapshot, artifacts.Source, artifacts.SQLOperation, artifacts.Test, artifacts.UnitTest,
}

// inNodesSection reports whether dbt keeps n in the manifest's "nodes" (or
// "unit_tests") section; the fqn method searches only those, so a bare "orders"
// picks the model, not the metric or semantic model of the same name.
func inNodesSection(n *artifacts.Node) bool {
	switch n.ResourceType {
	case artifacts.Source, artifacts.Exposure, artifacts.Metric, artifacts.SemanticModel, artifacts.SavedQuery:
		return false
	}
	return true
}

func (g *Graph) evalCriterion(c criterion) (bitset, error) {
	seeds, err := g.matchMethod(c)
	if err != nil {
		return nil, err
	}
	if !c.parents && !c.children && !c.childrensParents {
		return seeds, nil
	}
	var starts []int32
	seeds.each(func(i int32) { starts = append(starts, i) })
	res := seeds.clone()
	s := g.getScratch()
	defer g.putScratch(s)
	collect := func() {
		for _, v := range s.out {
			res.add(v)
		}
		s.out, s.outDist = s.out[:0], s.outDist[:0]
	}
	if c.parents {
		g.walk(s, starts, up, c.parentDepth, false)
		collect()
	}
	if c.children {
		s.reset() // a fresh visited set for the other direction
		g.walk(s, starts, down, c.childDepth, false)
		collect()
	}
	if c.childrensParents {
		// "@x": x, all its descendants, and all ancestors of those.
		g.walk(s, starts, down, -1, false)
		collect()
		s.reset()
		all := starts[:0]
		res.each(func(i int32) { all = append(all, i) })
		g.walk(s, all, up, -1, false)
		collect()
	}
	return res, nil
}

func (g *Graph) matchMethod(c criterion) (bitset, error) {
	set := newBitset(len(g.ids))
	bad := func(msg string, a ...any) (bitset, error) {
		return nil, &SelectorError{Part: c.raw, Msg: fmt.Sprintf(msg, a...)}
	}
	noArgs := func() error {
		if len(c.args) > 0 {
			return &SelectorError{Part: c.raw, Msg: fmt.Sprintf("method %q takes no '.%s' argument", c.method, strings.Join(c.args, "."))}
		}
		return nil
	}
	each := func(pred func(n *artifacts.Node) bool) {
		for i, n := range g.nodes {
			if pred(n) {
				set.add(int32(i))
			}
		}
	}
	v := c.value
	if c.method != "config" {
		if err := noArgs(); err != nil {
			return nil, err
		}
	}
	switch c.method {
	case "fqn":
		if !strings.Contains(v, ".") && !hasWildcard(v) {
			// A plain name: the index holds exactly the nodes the scan below
			// would match, without matching every fqn.
			for _, i := range g.fqnNameIndex()[v] {
				set.add(i)
			}
			return set, nil
		}
		fm := newFQNMatcher(v)
		joined := g.joinedFQNs()
		for i, n := range g.nodes {
			if inNodesSection(n) && fm.match(nodeFQN(n), joined[i], n.Version != "") {
				set.add(int32(i))
			}
		}
	case "tag":
		each(func(n *artifacts.Node) bool {
			return slices.ContainsFunc(n.Tags, func(t string) bool { return fnmatch(v, t) })
		})
	case "package":
		if v == "this" {
			// dbt's package:this is the root project.
			v = g.project
		}
		each(func(n *artifacts.Node) bool { return fnmatch(v, n.PackageName) })
	case "source":
		parts := strings.Split(v, ".")
		if len(parts) > 3 {
			return bad("a source is written source_name, source_name.table or package.source_name.table")
		}
		pkg, src, tbl := "*", parts[0], "*"
		switch len(parts) {
		case 2:
			src, tbl = parts[0], parts[1]
		case 3:
			pkg, src, tbl = parts[0], parts[1], parts[2]
		}
		each(func(n *artifacts.Node) bool {
			if n.ResourceType != artifacts.Source {
				return false
			}
			sn := ""
			if n.Source != nil {
				sn = n.Source.SourceName
			}
			return fnmatch(pkg, n.PackageName) && fnmatch(src, sn) && fnmatch(tbl, n.Name)
		})
	case "exposure", "metric", "semantic_model", "saved_query":
		rt := map[string]artifacts.ResourceType{"exposure": artifacts.Exposure, "metric": artifacts.Metric,
			"semantic_model": artifacts.SemanticModel, "saved_query": artifacts.SavedQuery}[c.method]
		parts := strings.Split(v, ".")
		if len(parts) > 2 {
			return bad("%s is written name or package.name", c.method)
		}
		pkg, name := "*", parts[0]
		if len(parts) == 2 {
			pkg, name = parts[0], parts[1]
		}
		each(func(n *artifacts.Node) bool {
			return n.ResourceType == rt && fnmatch(pkg, n.PackageName) && fnmatch(name, n.Name)
		})
	case "path":
		p := normPath(v)
		if p == "" {
			return bad("path %q is empty after cleaning; write e.g. path:models/staging", v)
		}
		// Like dbt, a yml file also selects the nodes it documents
		// (patch_path), but a directory does not select them through it.
		each(func(n *artifacts.Node) bool {
			return pathMatch(p, normPath(n.OriginalFilePath)) || n.PatchPath != "" && fileMatch(p, normPath(n.PatchPath))
		})
	case "file":
		each(func(n *artifacts.Node) bool {
			base := path.Base(normPath(n.OriginalFilePath))
			if n.OriginalFilePath == "" {
				return false
			}
			stem := strings.TrimSuffix(base, path.Ext(base))
			return fnmatch(v, base) || fnmatch(v, stem)
		})
	case "resource_type":
		rt := artifacts.ResourceType(v)
		if !slices.Contains(knownResourceTypes, rt) {
			names := make([]string, len(knownResourceTypes))
			for i, t := range knownResourceTypes {
				names[i] = string(t)
			}
			return bad("unknown resource type %q; use one of %s", v, strings.Join(names, ", "))
		}
		each(func(n *artifacts.Node) bool { return n.ResourceType == rt })
	case "test_type":
		var pred func(n *artifacts.Node) bool
		generic := func(n *artifacts.Node) bool {
			return n.ResourceType == artifacts.Test && n.Test != nil && n.Test.Name != ""
		}
		singular := func(n *artifacts.Node) bool {
			return n.ResourceType == artifacts.Test && (n.Test == nil || n.Test.Name == "")
		}
		switch v {
		case "generic", "schema":
			pred = generic
		case "singular":
			pred = singular
		case "data":
			pred = func(n *artifacts.Node) bool { return n.ResourceType == artifacts.Test }
		case "unit":
			pred = func(n *artifacts.Node) bool { return n.ResourceType == artifacts.UnitTest }
		default:
			return bad("unknown test type %q; use generic, singular, data (both) or unit", v)
		}
		each(pred)
	case "test_name":
		each(func(n *artifacts.Node) bool {
			return n.ResourceType == artifacts.Test && n.Test != nil && n.Test.Name != "" && fnmatch(v, n.Test.Name)
		})
	case "group":
		// dbt compares config.group with ==, without wildcards.
		each(func(n *artifacts.Node) bool { return n.Group == v })
	case "access":
		each(func(n *artifacts.Node) bool { return n.ResourceType == artifacts.Model && n.Access == v })
	case "config":
		pred, err := configPredicate(c)
		if err != nil {
			return nil, err
		}
		each(func(n *artifacts.Node) bool {
			return (inNodesSection(n) || n.ResourceType == artifacts.Source) && pred(n)
		})
	case "state", "result", "source_status":
		return bad("method %q compares with a previous run's artifacts, which lineage selection does not read", c.method)
	case "version", "wildcard", "unit_test":
		return bad("method %q is not supported by dbtlink; supported methods: %s", c.method, strings.Join(supportedMethods, ", "))
	default:
		return bad("unknown method %q; supported methods: %s", c.method, strings.Join(supportedMethods, ", "))
	}
	return set, nil
}

// configPredicate handles config.<key>:value for the config keys the
// normalised manifest keeps. true/false compare case-insensitively, as in dbt.
func configPredicate(c criterion) (func(*artifacts.Node) bool, error) {
	key := strings.Join(c.args, ".")
	v := c.value
	str := func(get func(n *artifacts.Node) string) func(*artifacts.Node) bool {
		return func(n *artifacts.Node) bool { return get(n) == v }
	}
	boolean := func(get func(n *artifacts.Node) bool) (func(*artifacts.Node) bool, error) {
		switch strings.ToLower(v) {
		case "true":
			return func(n *artifacts.Node) bool { return get(n) }, nil
		case "false":
			return func(n *artifacts.Node) bool { return !get(n) }, nil
		}
		return nil, &SelectorError{Part: c.raw, Msg: fmt.Sprintf("config.%s takes true or false, not %q", key, v)}
	}
	switch key {
	case "":
		return nil, &SelectorError{Part: c.raw, Msg: "config needs a key; write e.g. config.materialized:view"}
	case "materialized":
		return str(func(n *artifacts.Node) string { return n.Materialized }), nil
	case "alias":
		return str(func(n *artifacts.Node) string { return n.ConfigAlias }), nil
	// dbt compares config values as configured, not the resolved relation:
	// config.schema:marts matches a model configured with schema "marts",
	// whose relation is in analytics_marts, and not a model without a
	// custom schema that lands in the target schema "marts".
	case "schema":
		return str(func(n *artifacts.Node) string { return n.ConfigSchema }), nil
	case "database":
		return str(func(n *artifacts.Node) string { return n.ConfigDatabase }), nil
	case "severity":
		// dbt compares test severity case-insensitively.
		return func(n *artifacts.Node) bool {
			return n.Test != nil && n.Test.Severity != "" && strings.EqualFold(n.Test.Severity, v)
		}, nil
	case "access":
		return str(func(n *artifacts.Node) string { return n.Access }), nil
	case "group":
		return str(func(n *artifacts.Node) string { return n.Group }), nil
	case "tags":
		return func(n *artifacts.Node) bool { return slices.Contains(n.Tags, v) }, nil
	case "enabled":
		return boolean(func(n *artifacts.Node) bool { return n.Enabled })
	case "contract.enforced":
		return boolean(func(n *artifacts.Node) bool { return n.ContractEnforced })
	}
	return nil, &SelectorError{Part: c.raw, Msg: fmt.Sprintf(
		"config.%s is not kept in dbtlink's manifest model; supported keys: materialized, alias, schema, database, access, group, tags, enabled, contract.enforced, severity", key)}
}

// joinedFQNs returns every node's fqn joined with '.', computed on first use
// because only the fqn method needs it.
func (g *Graph) joinedFQNs() []string {
	g.fqnOnce.Do(func() {
		g.fqnJoined = make([]string, len(g.nodes))
		for i, n := range g.nodes {
			g.fqnJoined[i] = strings.Join(nodeFQN(n), ".")
		}
	})
	return g.fqnJoined
}

// fqnNameIndex maps each value a one-part fqn selector (no dot, no
// wildcard) can have to the nodes fqnMatcher.match accepts for it, in index
// order; it is built on first use, because only the fqn method needs it.
//
// For such a selector v, the matcher's scoped test, applied to the fqn and to
// the fqn without its package, is true exactly when v is one of these keys:
//   - the last fqn part; for a versioned model with at least two parts left,
//     the part before the version instead, and it and the version joined by '_';
//   - the first flat part: the first fqn part up to its first dot, which is the
//     package, or (without the package) the top folder or the name.
//
// Keys with a dot or a wildcard, which such a selector cannot equal, are left
// out.
func (g *Graph) fqnNameIndex() map[string][]int32 {
	g.nameOnce.Do(func() {
		idx := make(map[string][]int32, len(g.nodes))
		var keys []string
		for i, n := range g.nodes {
			if !inNodesSection(n) {
				continue
			}
			keys = keys[:0]
			add := func(k string) {
				if !strings.Contains(k, ".") && !hasWildcard(k) && !slices.Contains(keys, k) {
					keys = append(keys, k)
				}
			}
			fqn := nodeFQN(n)
			for k := range min(2, len(fqn)) { // the fqn, and the fqn without its package
				scope := fqn[k:]
				if l := len(scope); n.Version != "" && l >= 2 {
					add(scope[l-2])
					add(scope[l-2] + "_" + scope[l-1])
				} else {
					add(scope[l-1])
				}
				first, _, _ := strings.Cut(scope[0], ".")
				add(first)
			}
			for _, k := range keys {
				idx[k] = append(idx[k], int32(i))
			}
		}
		g.nameIdx = idx
	})
	return g.nameIdx
}

// nodeFQN returns the node's fqn, or package.name for hand-made nodes without one.
func nodeFQN(n *artifacts.Node) []string {
	if len(n.FQN) > 0 {
		return n.FQN
	}
	return []string{n.PackageName, n.Name}
}

// fqnMatcher matches one fqn selector the way dbt does: the selector matches
// when it equals the last fqn part (the name; for versioned models the name,
// name_vN or name.vN), or when its dotted parts are a prefix of the fqn, with
// or without the leading package name; from the first part with a wildcard on,
// the rest is matched with fnmatch. Dots inside fqn parts (a model named
// "a.b") separate parts too. The selector is split once, and nodes are matched
// against their fqn joined with dots, so matching allocates nothing.
type fqnMatcher struct {
	sel     string
	parts   []string
	wild    int    // index of the first part with a wildcard, -1 if none
	rest    string // parts[wild:] joined with '.'
	lastTwo string // the last two parts joined with '_'
}

func newFQNMatcher(sel string) *fqnMatcher {
	m := &fqnMatcher{sel: sel, parts: strings.Split(sel, "."), wild: -1}
	for i, p := range m.parts {
		if hasWildcard(p) {
			m.wild = i
			m.rest = strings.Join(m.parts[i:], ".")
			break
		}
	}
	m.lastTwo = strings.Join(m.parts[max(0, len(m.parts)-2):], "_")
	return m
}

// match reports whether a node with this fqn (and fqn joined with '.') matches.
func (m *fqnMatcher) match(fqn []string, joined string, versioned bool) bool {
	if m.scoped(fqn, joined, versioned) {
		return true
	}
	return len(fqn) > 1 && m.scoped(fqn[1:], joined[len(fqn[0])+1:], versioned)
}

func (m *fqnMatcher) scoped(fqn []string, joined string, versioned bool) bool {
	if len(fqn) == 0 {
		return false
	}
	if versioned && len(fqn) >= 2 {
		a, b, s := fqn[len(fqn)-2], fqn[len(fqn)-1], m.lastTwo
		if a == m.sel || len(s) == len(a)+1+len(b) && s[:len(a)] == a && s[len(a)] == '_' && s[len(a)+1:] == b {
			return true
		}
	} else if fqn[len(fqn)-1] == m.sel {
		return true
	}
	pos := 0 // start of the current flat part in joined; > len(joined) when none is left
	for i, sp := range m.parts {
		if pos > len(joined) {
			return false // the selector has more parts than the fqn
		}
		if i == m.wild {
			return fnmatch(m.rest, joined[pos:])
		}
		part, next := joined[pos:], len(joined)+1
		if k := strings.IndexByte(part, '.'); k >= 0 {
			part, next = part[:k], pos+k+1
		}
		if part != sp {
			return false
		}
		pos = next
	}
	return true
}

// fqnMatch is the one-off form of fqnMatcher.match.
func fqnMatch(fqn []string, sel string, versioned bool) bool {
	return newFQNMatcher(sel).match(fqn, strings.Join(fqn, "."), versioned)
}

func normPath(p string) string {
	p = strings.ReplaceAll(p, `\`, "/")
	p = strings.TrimPrefix(p, "./")
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return ""
	}
	return path.Clean(p)
}

// pathMatch reports whether file (a project-relative original_file_path) is sel
// or lies under the directory sel; with wildcards, whether the file or one of
// its parent directories matches sel as a path glob ('*' stays within a segment).
func pathMatch(sel, file string) bool {
	if file == "" {
		return false
	}
	if file == sel || strings.HasPrefix(file, sel+"/") {
		return true
	}
	if !hasWildcard(sel) {
		return false
	}
	for p := file; p != "." && p != "/" && p != ""; p = path.Dir(p) {
		if ok, _ := path.Match(sel, p); ok {
			return true
		}
	}
	return false
}

// fileMatch reports whether file is sel, or matches sel as a path glob.
func fileMatch(sel, file string) bool {
	if file == sel {
		return true
	}
	ok, _ := path.Match(sel, file)
	return ok && hasWildcard(sel)
}

// bitset is a dense set of node indices.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

func (b bitset) add(i int32)      { b[i>>6] |= 1 << (uint(i) & 63) }
func (b bitset) has(i int32) bool { return b[i>>6]&(1<<(uint(i)&63)) != 0 }
func (b bitset) clone() bitset    { return slices.Clone(b) }

func (b bitset) or(o bitset) {
	for i := range b {
		b[i] |= o[i]
	}
}

func (b bitset) and(o bitset) {
	for i := range b {
		b[i] &= o[i]
	}
}

func (b bitset) andNot(o bitset) {
	for i := range b {
		b[i] &^= o[i]
	}
}

func (b bitset) count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

func (b bitset) each(fn func(int32)) {
	for wi, w := range b {
		for w != 0 {
			t := bits.TrailingZeros64(w)
			fn(int32(wi*64 + t))
			w &= w - 1
		}
	}
}
