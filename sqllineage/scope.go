package sqllineage

import (
	"fmt"
	"strconv"
	"strings"
)

// source is one relation in a FROM clause with the names it is known by.
type source struct {
	alias string   // explicit alias, "" when none
	parts []string // table or CTE name when there is no alias
	rel   relation
}

func (s *source) label() string {
	if s.alias != "" {
		return s.alias
	}
	if len(s.parts) > 0 {
		return strings.Join(s.parts, ".")
	}
	return "(subquery)"
}

// scope is the name environment of one SELECT.
type scope struct {
	r       *resolver
	env     *cteEnv
	outer   *scope
	sources []*source
	using   map[string]*rcol // USING / NATURAL join columns, merged
	// items are the select-list columns resolved so far, for the lateral
	// aliases Snowflake, Redshift, DuckDB and Databricks allow, and for
	// aliases named in GROUP BY, HAVING, QUALIFY.
	items   []*rcol
	lambda  map[string]bool
	windows map[string]*Expr
}

// selRel is the relation a SELECT produces.
type selRel struct {
	entries []selEntry
}

type selEntry struct {
	col  *rcol
	star *pendingStar
}

// pendingStar is a * over relations whose columns are not all known: its
// names are answered one by one by looking them up in those relations.
type pendingStar struct {
	sc      *scope
	srcs    []*source
	except  map[string]bool
	replace map[string]*rcol
	rename  map[string]string // new name -> old name
	reason  string
}

func (s *selRel) all() ([]*rcol, bool, string) {
	var out []*rcol
	for _, e := range s.entries {
		if e.star != nil {
			return out, false, e.star.reason
		}
		out = append(out, e.col)
	}
	return out, true, ""
}

func (s *selRel) has(name string) tri {
	best := no
	for _, e := range s.entries {
		if e.col != nil {
			if strings.EqualFold(e.col.name, name) {
				return yes
			}
			continue
		}
		if t := e.star.has(name); t > best {
			best = t
		}
	}
	return best
}

func (s *selRel) get(name string) *rcol {
	for _, e := range s.entries {
		if e.col != nil && strings.EqualFold(e.col.name, name) {
			return e.col
		}
	}
	var maybeStar *pendingStar
	for _, e := range s.entries {
		if e.star == nil {
			continue
		}
		switch e.star.has(name) {
		case yes:
			return e.star.get(name)
		case maybe:
			if maybeStar == nil {
				maybeStar = e.star
			}
		}
	}
	if maybeStar != nil {
		return maybeStar.get(name)
	}
	return &rcol{name: name, reason: fmt.Sprintf("column %s not in the select list", name)}
}

func (p *pendingStar) has(name string) tri {
	key := strings.ToLower(name)
	if _, ok := p.replace[key]; ok {
		return yes
	}
	if old, ok := p.rename[key]; ok {
		name, key = old, strings.ToLower(old)
	}
	if p.except[key] {
		return no
	}
	best := no
	for _, s := range p.srcs {
		if t := s.rel.has(name); t > best {
			best = t
		}
	}
	return best
}

func (p *pendingStar) get(name string) *rcol {
	key := strings.ToLower(name)
	if c, ok := p.replace[key]; ok {
		return c
	}
	outName := name
	if old, ok := p.rename[key]; ok {
		name = old
	}
	c, _ := p.sc.lookupIn(p.srcs, name, false)
	if c == nil {
		return &rcol{name: outName, reason: "column " + name + " not found behind *"}
	}
	out := *c
	out.name = outName
	return &out
}

// lookupIn finds name among srcs; with certainOnly, only in a relation that
// certainly has it (a known column list), not one that may.
func (sc *scope) lookupIn(srcs []*source, name string, certainOnly bool) (*rcol, bool) {
	var yesS []*source
	var maybeS []*source
	for _, s := range srcs {
		switch s.rel.has(name) {
		case yes:
			yesS = append(yesS, s)
		case maybe:
			maybeS = append(maybeS, s)
		}
	}
	switch {
	case len(yesS) == 1:
		return yesS[0].rel.get(name), true
	case len(yesS) > 1:
		return &rcol{name: name, reason: fmt.Sprintf("column %s is ambiguous: %s all have it", name, labels(yesS))}, true
	case len(maybeS) == 1 && !certainOnly:
		return maybeS[0].rel.get(name), true
	case len(maybeS) > 1 && !certainOnly:
		return &rcol{name: name, reason: fmt.Sprintf("column %s could come from any of %s, whose columns are unknown", name, labels(maybeS))}, true
	}
	return nil, false
}

func labels(srcs []*source) string {
	l := make([]string, len(srcs))
	for i, s := range srcs {
		l[i] = s.label()
	}
	return strings.Join(l, ", ")
}

// findSource returns the source a qualifier names.
func (sc *scope) findSource(qual []string) *source {
	for _, s := range sc.sources {
		if s.alias != "" {
			if len(qual) == 1 && strings.EqualFold(s.alias, qual[0]) {
				return s
			}
			continue
		}
		if len(s.parts) >= len(qual) {
			match := true
			off := len(s.parts) - len(qual)
			for i, q := range qual {
				if !strings.EqualFold(s.parts[off+i], q) {
					match = false
					break
				}
			}
			if match {
				return s
			}
		}
	}
	return nil
}

// resolveCol finds the column a name reads, searching this scope and then
// the enclosing ones (correlated subqueries).
func (sc *scope) resolveCol(parts []string) *rcol {
	sc.r.tick()
	if len(parts) == 1 {
		for s := sc; s != nil; s = s.outer {
			if c, ok := s.lookupName(parts[0]); ok {
				return c
			}
		}
		return &rcol{name: parts[0], reason: fmt.Sprintf("column %s not found in %s", parts[0], sc.describeSources())}
	}
	for s := sc; s != nil; s = s.outer {
		for k := len(parts) - 1; k >= 1; k-- {
			if src := s.findSource(parts[:k]); src != nil {
				c := src.rel.get(parts[k])
				if k+1 < len(parts) {
					// struct field of the column
					return &rcol{name: parts[len(parts)-1], deps: asTransform(c.deps), reason: c.reason}
				}
				return c
			}
		}
	}
	// No relation by that name: the first part is a column and the rest are
	// fields of it (BigQuery structs, Postgres composites).
	c := sc.resolveCol(parts[:1])
	if c.reason != "" && len(c.deps) == 0 {
		return &rcol{name: parts[len(parts)-1], reason: fmt.Sprintf("no relation or column named %s for %s", parts[0], strings.Join(parts, "."))}
	}
	return &rcol{name: parts[len(parts)-1], deps: asTransform(c.deps), reason: c.reason}
}

func (sc *scope) describeSources() string {
	if len(sc.sources) == 0 {
		return "a query without FROM"
	}
	return labels(sc.sources)
}

// lookupName resolves an unqualified name in this scope only.
func (sc *scope) lookupName(name string) (*rcol, bool) {
	key := strings.ToLower(name)
	if sc.lambda[key] {
		return &rcol{name: name}, true
	}
	if c, ok := sc.using[key]; ok {
		return c, true
	}
	if c, ok := sc.lookupIn(sc.sources, name, true); ok {
		return c, true // a source that certainly has it
	}
	alias := sc.itemAlias(name)
	var maybeS []*source
	for _, s := range sc.sources {
		if s.rel.has(name) == maybe {
			maybeS = append(maybeS, s)
		}
	}
	switch {
	case alias != nil && len(maybeS) == 0:
		return alias, true
	case alias != nil:
		if len(alias.deps) == 1 && alias.reason == "" && strings.EqualFold(alias.deps[0].Column, name) && len(maybeS) == 1 {
			// "select t.a as a, a + 1": the alias and the column are the same
			return maybeS[0].rel.get(name), true
		}
		return &rcol{name: name, reason: fmt.Sprintf("%s may be the select-list alias or a column of %s, whose columns are unknown", name, labels(maybeS))}, true
	case len(maybeS) == 1:
		return maybeS[0].rel.get(name), true
	case len(maybeS) > 1:
		return &rcol{name: name, reason: fmt.Sprintf("column %s could come from any of %s, whose columns are unknown", name, labels(maybeS))}, true
	}
	return nil, false
}

func (sc *scope) itemAlias(name string) *rcol {
	for _, it := range sc.items {
		if it != nil && strings.EqualFold(it.name, name) {
			return it
		}
	}
	return nil
}

// exprDeps returns the columns e reads, with kinds as they come from the
// relations (copy) when e is a bare column, else as transforms.
func (sc *scope) exprDeps(e *Expr) ([]SourceColumn, string) {
	deps, reason := sc.walk(e, nil, "")
	if e.Kind == eCol {
		return deps, reason
	}
	return asTransform(deps), reason
}

func (sc *scope) walk(e *Expr, deps []SourceColumn, reason string) ([]SourceColumn, string) {
	if e == nil {
		return deps, reason
	}
	sc.r.enter()
	defer sc.r.leave()
	switch e.Kind {
	case eLit:
	case eCol:
		if e.Keyword {
			break
		}
		c := sc.resolveCol(e.Parts)
		deps = append(deps, c.deps...)
		reason = firstReason(reason, c.reason)
	case eStar:
		if len(e.Parts) > 0 {
			src := sc.findSourceAny(e.Parts)
			if src == nil {
				reason = firstReason(reason, "no relation named "+strings.Join(e.Parts, ".")+" for .*")
				break
			}
			cols, known, why := src.rel.all()
			for _, c := range cols {
				deps = append(deps, c.deps...)
				reason = firstReason(reason, c.reason)
			}
			if !known {
				reason = firstReason(reason, why)
			}
		}
	case eSub:
		rel := sc.r.query(e.Sub, sc.env, sc)
		cols, known, why := rel.all()
		for _, c := range cols {
			deps = append(deps, c.deps...)
			reason = firstReason(reason, c.reason)
		}
		if !known {
			reason = firstReason(reason, why)
		}
	case eExists:
		rel := sc.r.query(e.Sub, sc.env, sc)
		cols, _, _ := rel.all()
		for _, c := range cols {
			sc.r.addFilters(c.deps, Filter)
		}
	case eFunc:
		if strings.HasPrefix(e.Name, "lambda:") {
			inner := *sc
			inner.lambda = map[string]bool{}
			for k, v := range sc.lambda {
				inner.lambda[k] = v
			}
			for _, p := range strings.Split(e.Name[len("lambda:"):], ",") {
				inner.lambda[p] = true
			}
			for _, a := range e.Args {
				deps, reason = inner.walk(a, deps, reason)
			}
			break
		}
		for _, a := range e.Args {
			deps, reason = sc.walk(a, deps, reason)
		}
		if e.Over != nil {
			deps, reason = sc.walkWindow(e.Over, deps, reason, 0)
		}
	default:
		for _, a := range e.Args {
			deps, reason = sc.walk(a, deps, reason)
		}
	}
	return deps, reason
}

func (sc *scope) walkWindow(w *Expr, deps []SourceColumn, reason string, depth int) ([]SourceColumn, string) {
	if w.Name != "" {
		if def, ok := sc.windows[w.Name]; ok && depth < 20 {
			deps, reason = sc.walkWindow(def, deps, reason, depth+1)
		} else if !ok {
			reason = firstReason(reason, "window "+w.Name+" is not defined")
		}
	}
	for _, a := range w.Args {
		deps, reason = sc.walk(a, deps, reason)
	}
	return deps, reason
}

// findSourceAny looks a qualifier up here and in enclosing scopes.
func (sc *scope) findSourceAny(qual []string) *source {
	for s := sc; s != nil; s = s.outer {
		if src := s.findSource(qual); src != nil {
			return src
		}
	}
	return nil
}

func (r *resolver) addFilters(deps []SourceColumn, k Kind) {
	for _, d := range deps {
		d.Kind = k
		r.filters = append(r.filters, d)
	}
}

// selectRel resolves a SELECT.
func (r *resolver) selectRel(s *Select, env *cteEnv, outer *scope) relation {
	r.enter()
	defer r.leave()
	sc := &scope{r: r, env: env, outer: outer, windows: s.Windows}
	for _, f := range s.From {
		r.addFrom(sc, f)
	}
	rel := &selRel{entries: make([]selEntry, 0, len(s.Items))}
	sc.items = make([]*rcol, 0, len(s.Items))
	for _, it := range s.Items {
		if it.Star {
			rel.entries = append(rel.entries, r.expandStar(sc, it)...)
			for _, e := range rel.entries[len(sc.items):] {
				sc.items = append(sc.items, e.col)
			}
			continue
		}
		deps, reason := sc.exprDeps(it.Expr)
		c := &rcol{name: itemName(it), deps: deps, reason: reason}
		rel.entries = append(rel.entries, selEntry{col: c})
		sc.items = append(sc.items, c)
	}
	for _, e := range []*Expr{s.Where, s.Having, s.Qualify} {
		if e == nil {
			continue
		}
		deps, reason := sc.walk(e, nil, "")
		r.addFilters(deps, Filter)
		if reason != "" {
			r.reason("filter: %s", reason)
		}
	}
	return rel
}

// itemName is the output name of a select item without a star.
func itemName(it *SelectItem) string {
	if it.Alias != "" {
		return it.Alias
	}
	e := it.Expr
	for e.Kind == eCast && len(e.Args) == 1 {
		e = e.Args[0]
	}
	switch e.Kind {
	case eCol:
		return e.Parts[len(e.Parts)-1]
	case eFunc:
		if i := strings.LastIndexByte(e.Name, '.'); i >= 0 {
			return e.Name[i+1:]
		}
		return e.Name
	}
	return "?column?"
}

func (r *resolver) expandStar(sc *scope, it *SelectItem) []selEntry {
	srcs := sc.sources
	if len(it.Qualifier) > 0 {
		src := sc.findSource(it.Qualifier)
		if src == nil {
			return []selEntry{{col: &rcol{name: strings.Join(it.Qualifier, ".") + ".*",
				reason: "no relation named " + strings.Join(it.Qualifier, ".") + " for .*"}}}
		}
		srcs = []*source{src}
	}
	except := map[string]bool{}
	for _, x := range it.Except {
		except[strings.ToLower(x)] = true
	}
	replace := map[string]*rcol{}
	for _, rp := range it.Replace {
		deps, reason := sc.exprDeps(rp.Expr)
		replace[strings.ToLower(rp.Alias)] = &rcol{name: rp.Alias, deps: deps, reason: reason}
	}
	rename := map[string]string{}
	renameFrom := map[string]string{}
	for _, rn := range it.Rename {
		rename[strings.ToLower(rn[1])] = rn[0]
		renameFrom[strings.ToLower(rn[0])] = rn[1]
	}
	pending := func(reason string) []selEntry {
		return []selEntry{{star: &pendingStar{sc: sc, srcs: srcs, except: except, replace: replace, rename: rename, reason: reason}}}
	}
	if it.StarLike {
		return pending("* ILIKE chooses columns by pattern at run time")
	}
	if len(srcs) == 0 {
		return pending("* without FROM")
	}
	var out []selEntry
	emittedUsing := map[string]bool{}
	for _, s := range srcs {
		cols, known, reason := s.rel.all()
		if !known {
			return pending(reason)
		}
		plain := len(except) == 0 && len(replace) == 0 && len(renameFrom) == 0 && (len(sc.using) == 0 || len(it.Qualifier) > 0)
		for _, c := range cols {
			if plain {
				// the common "select *": no name to look up
				out = append(out, selEntry{col: c})
				continue
			}
			key := strings.ToLower(c.name)
			if except[key] {
				continue
			}
			if len(it.Qualifier) == 0 {
				if u, ok := sc.using[key]; ok {
					if emittedUsing[key] {
						continue
					}
					emittedUsing[key] = true
					c = u
				}
			}
			if rp, ok := replace[key]; ok {
				c = rp
			}
			if to, ok := renameFrom[key]; ok {
				cc := *c
				cc.name = to
				c = &cc
			}
			out = append(out, selEntry{col: c})
		}
	}
	return out
}

// addFrom adds a FROM item's relations to the scope.
func (r *resolver) addFrom(sc *scope, f *FromItem) {
	r.enter()
	defer r.leave()
	if f.Kind == fromJoin && f.JoinType == "alias" {
		// (a JOIN b) AS j: the join's columns under a new name; qualifiers
		// naming j are not matched (they give a reason, not an edge).
		r.addFrom(sc, f.Left)
		return
	}
	if f.Kind == fromJoin {
		r.addFrom(sc, f.Left)
		nLeft := len(sc.sources)
		r.addFrom(sc, f.Right)
		leftSrcs := sc.sources[:nLeft:nLeft]
		rightSrcs := sc.sources[nLeft:]
		if f.On != nil {
			deps, reason := sc.walk(f.On, nil, "")
			r.addFilters(deps, JoinKey)
			if reason != "" {
				r.reason("join condition: %s", reason)
			}
		}
		using := f.Using
		if f.Natural {
			lc, lk := allCols(leftSrcs)
			rc, rk := allCols(rightSrcs)
			if !lk || !rk {
				r.reason("NATURAL JOIN over relations whose columns are unknown")
			}
			rset := map[string]bool{}
			for _, c := range rc {
				rset[strings.ToLower(c.name)] = true
			}
			for _, c := range lc {
				if rset[strings.ToLower(c.name)] {
					using = append(using, c.name)
				}
			}
		}
		for _, u := range using {
			l, _ := sc.lookupIn(leftSrcs, u, false)
			rr, _ := sc.lookupIn(rightSrcs, u, false)
			if l == nil {
				l = &rcol{name: u, reason: "USING column " + u + " not found on the left"}
			}
			if rr == nil {
				rr = &rcol{name: u, reason: "USING column " + u + " not found on the right"}
			}
			r.addFilters(l.deps, JoinKey)
			r.addFilters(rr.deps, JoinKey)
			m := &rcol{name: u, reason: firstReason(l.reason, rr.reason)}
			switch f.JoinType {
			case "right":
				m.deps = rr.deps
			case "full":
				m.deps = asTransform(append(append([]SourceColumn(nil), l.deps...), rr.deps...))
			default:
				m.deps = l.deps
			}
			if sc.using == nil {
				sc.using = map[string]*rcol{}
			}
			sc.using[strings.ToLower(u)] = m
		}
		return
	}
	src := &source{alias: f.Alias}
	switch f.Kind {
	case fromTable:
		if len(f.Table) == 1 {
			if d := sc.env.lookup(f.Table[0]); d != nil {
				src.rel = r.cteRel(d)
			}
		}
		if src.rel == nil {
			src.rel = r.tableRel(f.Table)
		}
		if src.alias == "" {
			src.parts = f.Table
		}
	case fromSubquery:
		outer := sc.outer
		if f.Lateral {
			outer = sc
		}
		src.rel = r.query(f.Sub, sc.env, outer)
	case fromValues:
		src.rel = r.valuesRel(f.Values, f.ColAliases, sc.env, sc)
	case fromFunc:
		src.rel = r.funcRel(sc, f)
		if src.alias == "" && f.Func != nil && f.Func.Kind == eFunc {
			src.parts = []string{shortName(unwrapTable(f.Func).Name)}
		}
	}
	if f.Unsupported != "" {
		src.rel = &opaqueRel{reason: f.Unsupported + " is not resolved"}
		r.reason("%s over %s: its columns are not resolved", f.Unsupported, src.label())
	}
	if len(f.ColAliases) > 0 && f.Kind != fromFunc && f.Kind != fromValues {
		src.rel = &renameRel{inner: src.rel, names: f.ColAliases}
	}
	sc.sources = append(sc.sources, src)
}

func allCols(srcs []*source) ([]*rcol, bool) {
	var out []*rcol
	ok := true
	for _, s := range srcs {
		cols, known, _ := s.rel.all()
		out = append(out, cols...)
		ok = ok && known
	}
	return out, ok
}

func shortName(n string) string {
	if i := strings.LastIndexByte(n, '.'); i >= 0 {
		return n[i+1:]
	}
	return n
}

// unwrapTable turns Snowflake's TABLE(FLATTEN(...)) into FLATTEN(...).
func unwrapTable(e *Expr) *Expr {
	for e.Kind == eFunc && shortName(e.Name) == "table" && len(e.Args) == 1 && e.Args[0].Kind == eFunc {
		e = e.Args[0]
	}
	return e
}

func (r *resolver) valuesRel(rows [][]*Expr, names []string, env *cteEnv, sc *scope) relation {
	if sc == nil {
		sc = &scope{r: r, env: env}
	}
	width := 0
	for _, row := range rows {
		width = max(width, len(row))
	}
	cols := make([]*rcol, width)
	for i := range cols {
		name := "column" + strconv.Itoa(i+1)
		if i < len(names) {
			name = names[i]
		}
		cols[i] = &rcol{name: name}
	}
	for _, row := range rows {
		for i, e := range row {
			deps, reason := sc.exprDeps(e)
			cols[i].deps = append(cols[i].deps, asTransform(deps)...)
			cols[i].reason = firstReason(cols[i].reason, reason)
		}
	}
	return &fixedRel{cols: cols, what: "VALUES"}
}

// flattenCols are the columns of Snowflake's FLATTEN.
var flattenCols = []string{"seq", "key", "path", "index", "value", "this"}

// elementFuncs return one row per element of their array argument.
var elementFuncs = map[string]bool{
	"unnest": true, "explode": true, "explode_outer": true, "posexplode": true, "posexplode_outer": true,
	"inline": true, "inline_outer": true, "json_array_elements": true, "jsonb_array_elements": true,
	"json_array_elements_text": true, "jsonb_array_elements_text": true, "generate_series": true,
	"generate_array": true, "generate_date_array": true, "generate_timestamp_array": true, "range": true,
	"regexp_split_to_table": true, "string_split": true, "split_to_table": true, "json_each": true,
	"jsonb_each": true, "json_each_text": true, "jsonb_each_text": true, "json_object_keys": true,
}

func (r *resolver) funcRel(sc *scope, f *FromItem) relation {
	fn := unwrapTable(f.Func)
	if fn.Kind != eFunc {
		return &opaqueRel{reason: "columns of a file or expression in FROM are not known"}
	}
	name := shortName(fn.Name)
	var argDeps []SourceColumn
	var reason string
	for _, a := range fn.Args {
		argDeps, reason = sc.walk(a, argDeps, reason)
	}
	argDeps = asTransform(argDeps)
	if reason != "" {
		r.reason("%s arguments: %s", name, reason)
	}
	mk := func(names ...string) []*rcol {
		out := make([]*rcol, len(names))
		for i, n := range names {
			out[i] = &rcol{name: n, deps: argDeps, reason: reason}
		}
		return out
	}
	switch {
	case name == "flatten":
		return &fixedRel{cols: mk(flattenCols...), what: "FLATTEN"}
	case len(f.ColAliases) > 0:
		names := append([]string(nil), f.ColAliases...)
		if f.Offset != "" {
			names = append(names, f.Offset)
		}
		return &fixedRel{cols: mk(names...), what: name}
	case elementFuncs[name] && f.Alias != "":
		// BigQuery UNNEST(arr) AS x: x is the element; x.field reads arr.
		names := []string{f.Alias}
		if f.Offset != "" {
			names = append(names, f.Offset)
		}
		return &fixedRel{cols: mk(names...), open: true, openDeps: argDeps, what: name}
	case elementFuncs[name] && r.dialect != BigQuery:
		// Postgres and DuckDB name the single output column after the
		// function: generate_series(1, 10) gives generate_series.
		return &fixedRel{cols: mk(name), open: false, what: name}
	}
	return &opaqueRel{reason: "columns of table function " + name + " are not known (give them a column alias list)", deps: argDeps}
}
