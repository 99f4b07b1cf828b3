package sqllineage

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// ephemeralPrefix is how dbt names the CTE it inlines for an ephemeral model.
const ephemeralPrefix = "__dbt__cte__"

// rcol is a resolved column: its name, the base-table columns it reads and
// why that list may be incomplete.
type rcol struct {
	name   string
	deps   []SourceColumn
	reason string
}

// tri is a three-valued answer to "does this relation have column n?".
type tri uint8

const (
	no tri = iota
	maybe
	yes
)

// relation is anything FROM can read: a table, a CTE, a subquery, a table
// function. all lists every column when they are known; has and get answer
// for one name, which works even when the full list is not known (a
// "select * from unknown_table" passes any name through).
type relation interface {
	all() (cols []*rcol, known bool, reason string)
	has(name string) tri
	get(name string) *rcol
}

type resolver struct {
	ctx        context.Context
	dialect    Dialect
	schema     Schema
	maxDepth   int
	depth      int
	steps      int
	filters    []SourceColumn
	reasons    []string
	tables     [][]string
	tableIdx   map[string]int
	tableRels  []*tableRel // by tableIdx
	cache      *tableCache // shared by the models of a project; nil for one query
	ephemerals []string
}

func (r *resolver) enter() {
	r.depth++
	if r.depth > r.maxDepth {
		panic(parseBail{&BudgetError{What: fmt.Sprintf("scopes nested deeper than %d", r.maxDepth)}})
	}
}

func (r *resolver) leave() { r.depth-- }

func (r *resolver) tick() {
	r.steps++
	if r.steps&255 == 0 && r.ctx != nil {
		if err := r.ctx.Err(); err != nil {
			panic(parseBail{&BudgetError{What: "deadline reached while resolving: " + err.Error()}})
		}
	}
}

func (r *resolver) reason(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	for _, x := range r.reasons {
		if x == msg {
			return
		}
	}
	if len(r.reasons) < 50 {
		r.reasons = append(r.reasons, msg)
	}
}

// cteEnv is the chain of WITH lists visible at a point.
type cteEnv struct {
	parent *cteEnv
	defs   map[string]*cteDef
}

type cteDef struct {
	cte      *CTE
	env      *cteEnv // where its body resolves (itself included, for recursion)
	rel      relation
	busy     bool
	anchor   relation // recursive CTE: the non-recursive branch while the body resolves
	ephemera string
}

func (e *cteEnv) lookup(name string) *cteDef {
	key := strings.ToLower(name)
	for ; e != nil; e = e.parent {
		if d, ok := e.defs[key]; ok {
			return d
		}
	}
	return nil
}

// query resolves a query expression into a relation. outer is the scope a
// correlated subquery sees; env holds the CTEs in scope.
func (r *resolver) query(q *Query, env *cteEnv, outer *scope) relation {
	r.enter()
	defer r.leave()
	if len(q.With) > 0 {
		e := &cteEnv{parent: env, defs: make(map[string]*cteDef, len(q.With))}
		for _, c := range q.With {
			d := &cteDef{cte: c, env: e}
			if strings.HasPrefix(strings.ToLower(c.Name), ephemeralPrefix) {
				d.ephemera = c.Name[len(ephemeralPrefix):]
			}
			if !q.Recursive {
				// A non-recursive CTE sees only the ones before it; resolving
				// it in the full env is harmless for valid SQL except when a
				// name shadows an outer relation, which valid SQL avoids.
				d.env = e
			}
			e.defs[strings.ToLower(c.Name)] = d
		}
		env = e
	}
	rel := r.setExpr(q.Body, env, outer)
	// ORDER BY names only output columns or their sources; it decides no
	// values and keeps every row, so it adds nothing.
	return rel
}

func (r *resolver) setExpr(s *SetExpr, env *cteEnv, outer *scope) relation {
	r.enter()
	defer r.leave()
	switch {
	case s.Select != nil:
		return r.selectRel(s.Select, env, outer)
	case s.Query != nil:
		return r.query(s.Query, env, outer)
	case s.Values != nil:
		return r.valuesRel(s.Values, nil, env, outer)
	}
	left := r.setExpr(s.Left, env, outer)
	right := r.setExpr(s.Right, env, outer)
	return &setRel{op: s.Op, byName: s.ByName, left: left, right: right}
}

// cteRel resolves a CTE on first use.
func (r *resolver) cteRel(d *cteDef) relation {
	if d.rel != nil {
		return d.rel
	}
	if d.busy {
		if d.anchor != nil {
			return d.anchor
		}
		return &opaqueRel{reason: fmt.Sprintf("recursive reference to %s before its first branch", d.cte.Name)}
	}
	d.busy = true
	body := d.cte.Query
	if body.Body != nil && body.Body.Op == "union" && len(body.With) == 0 {
		d.anchor = r.setExpr(body.Body.Left, d.env, nil)
		if len(d.cte.Columns) > 0 {
			d.anchor = &renameRel{inner: d.anchor, names: d.cte.Columns}
		}
	}
	var rel relation = r.query(body, d.env, nil)
	if len(d.cte.Columns) > 0 {
		rel = &renameRel{inner: rel, names: d.cte.Columns}
	}
	if d.ephemera != "" {
		rel = &viaRel{inner: rel, via: d.ephemera}
		found := false
		for _, e := range r.ephemerals {
			found = found || e == d.ephemera
		}
		if !found {
			r.ephemerals = append(r.ephemerals, d.ephemera)
		}
	}
	d.rel = &memoRel{inner: rel}
	d.busy = false
	return d.rel
}

func (r *resolver) tableRel(parts []string) relation {
	key := joinLower(parts)
	if i, ok := r.tableIdx[key]; ok {
		// A table read twice is one relation (its answers do not depend on
		// the alias); dbt SQL often reads one upstream in several CTEs.
		return r.tableRels[i]
	}
	t := r.lookupTable(key, parts)
	r.tableIdx[key] = len(r.tables)
	r.tables = append(r.tables, parts)
	r.tableRels = append(r.tableRels, t)
	return t
}

// lookupTable builds the relation of a base table from the schema, or
// takes it from the cache ResolveProject shares between its models: a
// project's models read the same upstream tables again and again, and
// building the column index of a wide table was a fifth of the work.
func (r *resolver) lookupTable(key string, parts []string) *tableRel {
	if r.cache != nil {
		r.cache.mu.Lock()
		t, ok := r.cache.m[key]
		r.cache.mu.Unlock()
		if ok {
			return t
		}
	}
	t := &tableRel{parts: parts}
	if r.schema == nil {
		return t
	}
	cols, ok := r.schema.Columns(parts)
	if !ok {
		// Not cached: a later level of the project may resolve it.
		return t
	}
	t.cols = cols
	t.known = true
	t.set = make(map[string]string, len(cols))
	for _, c := range cols {
		t.set[strings.ToLower(c)] = c
	}
	t.all() // build rcols now: a cached relation is read by many goroutines
	if r.cache != nil {
		r.cache.mu.Lock()
		if prev, ok := r.cache.m[key]; ok {
			t = prev
		} else {
			r.cache.m[key] = t
		}
		r.cache.mu.Unlock()
	}
	return t
}

// tableCache holds the known base tables of a project, keyed by their
// lower-case dotted name. Entries never change once stored.
type tableCache struct {
	mu sync.Mutex
	m  map[string]*tableRel
}

// ---- relations ----

type tableRel struct {
	parts []string
	cols  []string
	set   map[string]string
	known bool
	// rcols is all's answer, built once: rcols are never modified (callers
	// copy before changing one).
	rcols []*rcol
}

func (t *tableRel) all() ([]*rcol, bool, string) {
	if !t.known {
		return nil, false, fmt.Sprintf("columns of %s are unknown (give its columns in the schema)", strings.Join(t.parts, "."))
	}
	if t.rcols == nil {
		t.rcols = make([]*rcol, len(t.cols))
		deps := make([]SourceColumn, len(t.cols))
		for i, c := range t.cols {
			deps[i] = SourceColumn{Table: t.parts, Column: c, Kind: Copy}
			t.rcols[i] = &rcol{name: c, deps: deps[i : i+1 : i+1]}
		}
	}
	return t.rcols, true, ""
}

func (t *tableRel) has(name string) tri {
	if !t.known {
		return maybe
	}
	if _, ok := t.set[strings.ToLower(name)]; ok {
		return yes
	}
	return no
}

func (t *tableRel) get(name string) *rcol {
	if t.known {
		c, ok := t.set[strings.ToLower(name)]
		if !ok {
			return &rcol{name: name, reason: fmt.Sprintf("column %s not found in %s", name, strings.Join(t.parts, "."))}
		}
		name = c
	}
	return &rcol{name: name, deps: []SourceColumn{{Table: t.parts, Column: name, Kind: Copy}}}
}

// opaqueRel is a relation whose columns cannot be known.
type opaqueRel struct {
	reason string
	deps   []SourceColumn // what every column of it reads, when known
}

func (o *opaqueRel) all() ([]*rcol, bool, string) { return nil, false, o.reason }
func (o *opaqueRel) has(string) tri               { return maybe }
func (o *opaqueRel) get(name string) *rcol {
	return &rcol{name: name, deps: asTransform(o.deps), reason: o.reason}
}

// memoRel caches a relation's answers: CTEs are read many times.
type memoRel struct {
	inner  relation
	done   bool
	cols   []*rcol
	known  bool
	reason string
	byName map[string]*rcol
}

func (m *memoRel) all() ([]*rcol, bool, string) {
	if !m.done {
		m.cols, m.known, m.reason = m.inner.all()
		m.done = true
	}
	return m.cols, m.known, m.reason
}

func (m *memoRel) has(name string) tri { return m.inner.has(name) }

func (m *memoRel) get(name string) *rcol {
	key := strings.ToLower(name)
	if c, ok := m.byName[key]; ok {
		return c
	}
	c := m.inner.get(name)
	if m.byName == nil {
		m.byName = map[string]*rcol{}
	}
	m.byName[key] = c
	return c
}

// viaRel marks every dependency as passing through an ephemeral model.
type viaRel struct {
	inner relation
	via   string
}

func (v *viaRel) wrap(c *rcol) *rcol {
	out := &rcol{name: c.name, reason: c.reason, deps: make([]SourceColumn, len(c.deps))}
	for i, d := range c.deps {
		d.Via = append([]string{v.via}, d.Via...)
		out.deps[i] = d
	}
	return out
}

func (v *viaRel) all() ([]*rcol, bool, string) {
	cols, known, reason := v.inner.all()
	out := make([]*rcol, len(cols))
	for i, c := range cols {
		out[i] = v.wrap(c)
	}
	return out, known, reason
}
func (v *viaRel) has(name string) tri   { return v.inner.has(name) }
func (v *viaRel) get(name string) *rcol { return v.wrap(v.inner.get(name)) }

// renameRel applies a column alias list: t(a, b) or WITH c(a, b) AS.
type renameRel struct {
	inner relation
	names []string
}

func (n *renameRel) all() ([]*rcol, bool, string) {
	cols, known, reason := n.inner.all()
	if !known {
		// Names are given; positions cannot be matched to the inner columns.
		out := make([]*rcol, len(n.names))
		for i, nm := range n.names {
			out[i] = &rcol{name: nm, reason: reason}
		}
		return out, true, ""
	}
	out := make([]*rcol, len(cols))
	for i, c := range cols {
		cc := *c
		if i < len(n.names) {
			cc.name = n.names[i]
		}
		out[i] = &cc
	}
	return out, true, ""
}

func (n *renameRel) has(name string) tri {
	for _, nm := range n.names {
		if strings.EqualFold(nm, name) {
			return yes
		}
	}
	cols, known, _ := n.inner.all()
	if known && len(cols) > len(n.names) {
		for _, c := range cols[len(n.names):] {
			if strings.EqualFold(c.name, name) {
				return yes
			}
		}
	}
	if !known {
		return no
	}
	return no
}

func (n *renameRel) get(name string) *rcol {
	cols, _, _ := n.all()
	for _, c := range cols {
		if strings.EqualFold(c.name, name) {
			return c
		}
	}
	return &rcol{name: name, reason: fmt.Sprintf("column %s not in the alias list", name)}
}

// setRel is UNION / INTERSECT / EXCEPT: columns by position (or by name),
// named after the left branch. INTERSECT and EXCEPT keep only left values,
// but the right branch decides which rows remain: its columns are filters.
type setRel struct {
	op          string
	byName      bool
	left, right relation
	cached      bool
	cols        []*rcol
	known       bool
	reason      string
}

func (s *setRel) all() ([]*rcol, bool, string) {
	if s.cached {
		return s.cols, s.known, s.reason
	}
	s.cached = true
	l, lk, lr := s.left.all()
	if !lk {
		s.known, s.reason = false, lr
		return nil, false, lr
	}
	rc, rk, rr := s.right.all()
	out := make([]*rcol, len(l))
	for i, c := range l {
		cc := &rcol{name: c.name, deps: append([]SourceColumn(nil), c.deps...), reason: c.reason}
		var other *rcol
		switch {
		case s.byName:
			other = s.right.get(c.name)
		case rk && i < len(rc):
			other = rc[i]
		case rk:
			cc.reason = firstReason(cc.reason, fmt.Sprintf("%s branches have %d and %d columns", strings.ToUpper(s.op), len(l), len(rc)))
		default:
			cc.reason = firstReason(cc.reason, "another "+strings.ToUpper(s.op)+" branch: "+rr)
		}
		if other != nil {
			k := Copy
			if s.op != "union" {
				k = Filter
			}
			for _, d := range other.deps {
				if k == Filter {
					d.Kind = Filter
				}
				cc.deps = append(cc.deps, d)
			}
			cc.reason = firstReason(cc.reason, other.reason)
		}
		out[i] = cc
	}
	s.cols, s.known = out, true
	return out, true, ""
}

func (s *setRel) has(name string) tri { return s.left.has(name) }

func (s *setRel) get(name string) *rcol {
	cols, known, _ := s.all()
	if known {
		for _, c := range cols {
			if strings.EqualFold(c.name, name) {
				return c
			}
		}
		return &rcol{name: name, reason: "column " + name + " not in the " + strings.ToUpper(s.op)}
	}
	c := s.left.get(name)
	out := &rcol{name: c.name, deps: append([]SourceColumn(nil), c.deps...), reason: c.reason}
	if s.byName {
		o := s.right.get(name)
		out.deps = append(out.deps, o.deps...)
		out.reason = firstReason(out.reason, o.reason)
	} else {
		out.reason = firstReason(out.reason, "the other "+strings.ToUpper(s.op)+" branches cannot be matched by position: the first branch's columns are unknown")
	}
	return out
}

func firstReason(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func asTransform(deps []SourceColumn) []SourceColumn {
	if len(deps) == 0 {
		return nil
	}
	out := make([]SourceColumn, len(deps))
	for i, d := range deps {
		if d.Kind == Copy {
			d.Kind = Transform
		}
		out[i] = d
	}
	return out
}

// fixedRel has a known column list (VALUES, table functions).
type fixedRel struct {
	cols []*rcol
	// open: other names are fields of the element (BigQuery UNNEST of
	// structs, Snowflake FLATTEN output with a path) and read its input.
	open     bool
	openDeps []SourceColumn
	what     string
}

func (f *fixedRel) all() ([]*rcol, bool, string) { return f.cols, true, "" }
func (f *fixedRel) has(name string) tri {
	for _, c := range f.cols {
		if strings.EqualFold(c.name, name) {
			return yes
		}
	}
	return no
}
func (f *fixedRel) get(name string) *rcol {
	for _, c := range f.cols {
		if strings.EqualFold(c.name, name) {
			return c
		}
	}
	if f.open {
		return &rcol{name: name, deps: asTransform(f.openDeps)}
	}
	return &rcol{name: name, reason: fmt.Sprintf("column %s not produced by %s", name, f.what)}
}
