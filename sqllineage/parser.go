package sqllineage

import (
	"context"
	"fmt"
	"strings"
)

// Limits bound the work spent on one query, so that a pathological query
// (megabytes of generated SQL, thousands of nested parentheses) is cut off
// with a BudgetError instead of stalling a sync.
type Limits struct {
	// MaxTokens is the largest token count read. Default 500,000; -1 disables.
	MaxTokens int
	// MaxDepth is the deepest nesting of expressions, subqueries and joins.
	// Default 1,000 (well under what the Go stack takes).
	MaxDepth int
}

func (l Limits) withDefaults() Limits {
	if l.MaxTokens == 0 {
		l.MaxTokens = 500_000
	}
	if l.MaxTokens < 0 {
		l.MaxTokens = 0
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = 1000
	}
	return l
}

// BudgetError is returned when a query exceeds a limit or its context ends.
type BudgetError struct {
	What string
}

func (e *BudgetError) Error() string { return "query over budget: " + e.What }

// Parse reads one SELECT statement (CTEs, set operations and all) of the
// given dialect. A trailing semicolon is allowed; CREATE ... AS and INSERT
// INTO ... wrappers are unwrapped to their query. ctx is checked as tokens
// are consumed, so a deadline stops the parse.
func Parse(ctx context.Context, sql string, d Dialect, lim Limits) (q *Query, err error) {
	lim = lim.withDefaults()
	toks, err := tokenize(sql, d, lim.MaxTokens)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, d: d, ctx: ctx, maxDepth: lim.MaxDepth}
	defer func() {
		if r := recover(); r != nil {
			pe, ok := r.(parseBail)
			if !ok {
				panic(r)
			}
			q, err = nil, pe.err
		}
	}()
	for p.isOp(";") {
		p.next()
	}
	p.skipWrapper()
	q = p.parseQuery()
	for p.isOp(";") {
		p.next()
	}
	if p.peek().kind != tEOF {
		p.failf("unexpected %s after the end of the query (only one statement is read)", p.describe())
	}
	return q, nil
}

type parseBail struct{ err error }

type parser struct {
	toks     []token
	i        int
	d        Dialect
	ctx      context.Context
	depth    int
	maxDepth int
	steps    int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) peekAt(k int) token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if p.i < len(p.toks)-1 {
		p.i++
	}
	p.steps++
	if p.steps&1023 == 0 && p.ctx != nil {
		if err := p.ctx.Err(); err != nil {
			panic(parseBail{&BudgetError{What: "deadline reached while parsing: " + err.Error()}})
		}
	}
	return t
}

func (p *parser) failf(format string, args ...any) {
	panic(parseBail{&SyntaxError{Pos: p.peek().pos, Msg: fmt.Sprintf(format, args...)}})
}

func (p *parser) describe() string {
	t := p.peek()
	switch t.kind {
	case tEOF:
		return "end of query"
	case tString:
		return "string " + clip(t.text)
	case tQIdent:
		return "quoted name " + clip(t.text)
	}
	return fmt.Sprintf("%q", clip(t.text))
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

func (p *parser) enter() {
	p.depth++
	if p.depth > p.maxDepth {
		panic(parseBail{&BudgetError{What: fmt.Sprintf("nesting deeper than %d", p.maxDepth)}})
	}
}

func (p *parser) leave() { p.depth-- }

// isKw reports whether the next token is the unquoted keyword kw (lower case).
func (p *parser) isKw(kw string) bool {
	t := p.peek()
	return t.kind == tIdent && strings.EqualFold(t.text, kw)
}

func (p *parser) isKwAt(k int, kw string) bool {
	t := p.peekAt(k)
	return t.kind == tIdent && strings.EqualFold(t.text, kw)
}

func (p *parser) acceptKw(kws ...string) bool {
	for k, kw := range kws {
		if !p.isKwAt(k, kw) {
			return false
		}
	}
	for range kws {
		p.next()
	}
	return true
}

func (p *parser) expectKw(kw string) {
	if !p.acceptKw(kw) {
		p.failf("expected %s, found %s", strings.ToUpper(kw), p.describe())
	}
}

func (p *parser) isOp(op string) bool {
	t := p.peek()
	return t.kind == tOp && t.text == op
}

func (p *parser) acceptOp(op string) bool {
	if p.isOp(op) {
		p.next()
		return true
	}
	return false
}

func (p *parser) expectOp(op string) {
	if !p.acceptOp(op) {
		p.failf("expected %q, found %s", op, p.describe())
	}
}

// skipBalanced consumes a parenthesised group starting at "(".
func (p *parser) skipBalanced() {
	p.expectOp("(")
	depth := 1
	for depth > 0 {
		t := p.next()
		switch {
		case t.kind == tEOF:
			p.failf("unbalanced parentheses")
		case t.kind == tOp && (t.text == "(" || t.text == "["):
			depth++
		case t.kind == tOp && (t.text == ")" || t.text == "]"):
			depth--
		}
	}
}

// skipWrapper unwraps CREATE [OR REPLACE] ... AS and INSERT INTO ... so that
// a compiled statement with its DDL still yields its query.
func (p *parser) skipWrapper() {
	switch {
	case p.isKw("create"):
		for p.peek().kind != tEOF && !p.isKw("as") {
			if p.isOp("(") {
				p.skipBalanced()
				continue
			}
			p.next()
		}
		p.expectKw("as")
		for p.isOp("(") && !p.startsQuery(1) {
			p.skipBalanced()
		}
	case p.isKw("insert"):
		p.next()
		p.acceptKw("into")
		p.acceptKw("overwrite")
		p.acceptKw("table")
		p.parseName()
		if p.isOp("(") && !p.startsQuery(1) {
			p.skipBalanced()
		}
	}
}

// startsQuery reports whether the token k ahead begins a query.
func (p *parser) startsQuery(k int) bool {
	return p.isKwAt(k, "select") || p.isKwAt(k, "with") || p.isKwAt(k, "values") ||
		p.isKwAt(k, "from") && p.d == DuckDB
}

// parenStartsQuery reports whether the "(" at the current token opens a
// query, looking through further opening parentheses.
func (p *parser) parenStartsQuery() bool {
	k := 0
	for p.peekAt(k).kind == tOp && p.peekAt(k).text == "(" {
		k++
	}
	return k > 0 && p.startsQuery(k)
}

func (p *parser) parseQuery() *Query {
	p.enter()
	defer p.leave()
	q := &Query{}
	if p.acceptKw("with") {
		q.Recursive = p.acceptKw("recursive")
		for {
			c := &CTE{Pos: p.peek().pos}
			c.Name = p.parseIdent()
			if p.isOp("(") {
				p.next()
				for {
					c.Columns = append(c.Columns, p.parseIdent())
					if !p.acceptOp(",") {
						break
					}
				}
				p.expectOp(")")
			}
			p.expectKw("as")
			p.acceptKw("not")
			p.acceptKw("materialized")
			p.expectOp("(")
			c.Query = p.parseQuery()
			p.expectOp(")")
			q.With = append(q.With, c)
			if !p.acceptOp(",") {
				break
			}
		}
	}
	q.Body = p.parseSetExpr()
	p.parseQueryTail(q)
	return q
}

// parseQueryTail reads ORDER BY, LIMIT, OFFSET and FETCH.
func (p *parser) parseQueryTail(q *Query) {
	for {
		switch {
		case p.acceptKw("order", "by"):
			q.OrderBy = append(q.OrderBy, p.parseOrderList()...)
		case p.acceptKw("limit"):
			if !p.acceptKw("all") {
				p.parseExpr()
			}
			if p.acceptOp(",") {
				p.parseExpr()
			}
		case p.acceptKw("offset"):
			p.parseExpr()
			if !p.acceptKw("rows") {
				p.acceptKw("row")
			}
		case p.acceptKw("fetch"):
			if !p.acceptKw("first") {
				p.acceptKw("next")
			}
			if !p.isKw("row") && !p.isKw("rows") {
				p.parseExpr()
			}
			if !p.acceptKw("rows") {
				p.acceptKw("row")
			}
			if !p.acceptKw("only") {
				p.acceptKw("with", "ties")
			}
		default:
			return
		}
	}
}

func (p *parser) parseOrderList() []*Expr {
	var out []*Expr
	for {
		out = append(out, p.parseExpr())
		if !p.acceptKw("asc") {
			p.acceptKw("desc")
		}
		if p.acceptKw("nulls") {
			if !p.acceptKw("first") {
				p.expectKw("last")
			}
		}
		if !p.acceptOp(",") {
			return out
		}
	}
}

func (p *parser) parseSetExpr() *SetExpr {
	left := p.parseSetTerm()
	for {
		var op string
		switch {
		case p.isKw("union"):
			op = "union"
		case p.isKw("intersect"):
			op = "intersect"
		case p.isKw("except") || p.isKw("minus"):
			op = "except"
		default:
			return left
		}
		p.next()
		if !p.acceptKw("all") {
			p.acceptKw("distinct")
		}
		byName := p.acceptKw("by", "name")
		if p.acceptKw("corresponding") {
			byName = true
		}
		p.enter()
		right := p.parseSetTerm()
		p.leave()
		left = &SetExpr{Op: op, ByName: byName, Left: left, Right: right}
	}
}

func (p *parser) parseSetTerm() *SetExpr {
	switch {
	case p.isOp("("):
		p.next()
		q := p.parseQuery()
		p.expectOp(")")
		return &SetExpr{Query: q}
	case p.isKw("values"):
		p.next()
		return &SetExpr{Values: p.parseValuesRows()}
	case p.isKw("select"):
		return &SetExpr{Select: p.parseSelect()}
	case p.isKw("from"):
		// DuckDB's FROM-first form: FROM t [SELECT ...].
		return &SetExpr{Select: p.parseSelect()}
	case p.isKw("with"):
		// WITH inside a set operand (Snowflake and DuckDB allow it).
		return &SetExpr{Query: p.parseQuery()}
	}
	p.failf("expected SELECT, found %s", p.describe())
	return nil
}

func (p *parser) parseValuesRows() [][]*Expr {
	var rows [][]*Expr
	for {
		if p.acceptOp("(") {
			var row []*Expr
			for {
				row = append(row, p.parseExpr())
				if !p.acceptOp(",") {
					break
				}
			}
			p.expectOp(")")
			rows = append(rows, row)
		} else {
			rows = append(rows, []*Expr{p.parseExpr()})
		}
		if !p.acceptOp(",") {
			return rows
		}
	}
}

func (p *parser) parseSelect() *Select {
	p.enter()
	defer p.leave()
	s := &Select{Pos: p.peek().pos}
	fromFirst := false
	if p.isKw("from") {
		fromFirst = true
		p.next()
		s.From = p.parseFromList()
		if !p.isKw("select") {
			s.Items = []*SelectItem{{Star: true, Pos: s.Pos}}
		}
	}
	if p.acceptKw("select") {
		if p.acceptKw("distinct") {
			if p.acceptKw("on") {
				p.expectOp("(")
				for {
					s.DistinctOn = append(s.DistinctOn, p.parseExpr())
					if !p.acceptOp(",") {
						break
					}
				}
				p.expectOp(")")
			}
		} else {
			p.acceptKw("all")
		}
		if p.acceptKw("top") {
			p.parsePrimary()
		}
		// BigQuery SELECT AS STRUCT / AS VALUE: names still come from items.
		if !p.acceptKw("as", "struct") {
			p.acceptKw("as", "value")
		}
		s.Items = p.parseSelectItems()
		if p.acceptKw("into") {
			p.acceptKw("temporary")
			p.acceptKw("temp")
			p.acceptKw("table")
			p.parseName()
		}
	}
	for {
		switch {
		case !fromFirst && p.acceptKw("from"):
			fromFirst = true
			s.From = p.parseFromList()
		case p.acceptKw("where"):
			s.Where = p.parseExpr()
		case p.isKw("group") && p.isKwAt(1, "by"):
			p.next()
			p.next()
			s.GroupBy = append(s.GroupBy, p.parseGroupBy()...)
		case p.acceptKw("having"):
			s.Having = p.parseExpr()
		case p.acceptKw("qualify"):
			s.Qualify = p.parseExpr()
		case p.isKw("window") && p.peekAt(1).kind != tOp:
			p.next()
			if s.Windows == nil {
				s.Windows = map[string]*Expr{}
			}
			for {
				name := strings.ToLower(p.parseIdent())
				p.expectKw("as")
				s.Windows[name] = p.parseWindowSpec()
				if !p.acceptOp(",") {
					break
				}
			}
		default:
			return s
		}
	}
}

func (p *parser) parseGroupBy() []*Expr {
	if p.acceptKw("all") {
		return nil
	}
	var out []*Expr
	for {
		switch {
		case (p.isKw("rollup") || p.isKw("cube")) && p.peekAt(1).text == "(":
			p.next()
			out = append(out, p.parseParenExprs()...)
		case p.isKw("grouping") && p.isKwAt(1, "sets"):
			p.next()
			p.next()
			out = append(out, p.parseParenExprs()...)
		default:
			out = append(out, p.parseExpr())
		}
		if !p.acceptOp(",") {
			return out
		}
	}
}

// parseParenExprs reads "(e, (e, e), ())" flattening nested groups.
func (p *parser) parseParenExprs() []*Expr {
	p.enter()
	defer p.leave()
	p.expectOp("(")
	var out []*Expr
	if p.acceptOp(")") {
		return nil
	}
	for {
		if p.isOp("(") && !p.parenStartsQuery() {
			out = append(out, p.parseParenExprs()...)
		} else {
			out = append(out, p.parseExpr())
		}
		if !p.acceptOp(",") {
			break
		}
	}
	p.expectOp(")")
	return out
}

func (p *parser) parseSelectItems() []*SelectItem {
	var items []*SelectItem
	for {
		items = append(items, p.parseSelectItem())
		if !p.acceptOp(",") {
			return items
		}
		// Trailing comma before FROM (BigQuery, DuckDB, Snowflake allow it).
		if p.isKw("from") || p.peek().kind == tEOF || p.isOp(")") {
			return items
		}
	}
}

func (p *parser) parseSelectItem() *SelectItem {
	it := &SelectItem{Pos: p.peek().pos}
	if p.isOp("*") {
		p.next()
		it.Star = true
		p.parseStarModifiers(it)
		return it
	}
	// qualified star: a.b.*
	k := 0
	for {
		t := p.peekAt(k)
		if t.kind != tIdent && t.kind != tQIdent {
			break
		}
		if p.peekAt(k+1).kind == tOp && p.peekAt(k+1).text == "." {
			if n := p.peekAt(k + 2); n.kind == tOp && n.text == "*" {
				var parts []string
				for p.peek().kind == tIdent || p.peek().kind == tQIdent {
					parts = append(parts, p.next().text)
					p.expectOp(".")
					if p.isOp("*") {
						break
					}
				}
				p.expectOp("*")
				it.Star = true
				it.Qualifier = parts
				p.parseStarModifiers(it)
				return it
			}
			k += 2
			continue
		}
		break
	}
	it.Expr = p.parseExpr()
	it.Alias = p.parseAlias(false)
	return it
}

func (p *parser) parseStarModifiers(it *SelectItem) {
	for {
		switch {
		case p.isKw("except") && p.peekAt(1).text == "(" && !p.startsQuery(2) || p.isKw("exclude"):
			p.next()
			it.Except = append(it.Except, p.parseNameList()...)
		case p.isKw("replace") && p.peekAt(1).text == "(":
			p.next()
			p.expectOp("(")
			for {
				r := &SelectItem{Pos: p.peek().pos}
				r.Expr = p.parseExpr()
				p.acceptKw("as")
				r.Alias = p.parseIdent()
				it.Replace = append(it.Replace, r)
				if !p.acceptOp(",") {
					break
				}
			}
			p.expectOp(")")
		case p.isKw("rename"):
			p.next()
			paren := p.acceptOp("(")
			for {
				from := p.parseDotted()
				p.expectKw("as")
				to := p.parseIdent()
				it.Rename = append(it.Rename, [2]string{from[len(from)-1], to})
				if !paren || !p.acceptOp(",") {
					break
				}
			}
			if paren {
				p.expectOp(")")
			}
		case p.isKw("ilike") && p.peekAt(1).kind == tString:
			p.next()
			p.next()
			it.StarLike = true
		default:
			return
		}
	}
}

// parseNameList reads "(a, b)" or a single name; qualifiers are dropped.
func (p *parser) parseNameList() []string {
	var out []string
	if p.acceptOp("(") {
		for {
			parts := p.parseDotted()
			out = append(out, parts[len(parts)-1])
			if !p.acceptOp(",") {
				break
			}
		}
		p.expectOp(")")
		return out
	}
	parts := p.parseDotted()
	return append(out, parts[len(parts)-1])
}

// reserved words never taken as an implicit alias.
var reserved = map[string]bool{
	"from": true, "where": true, "group": true, "having": true, "qualify": true, "window": true,
	"order": true, "limit": true, "offset": true, "fetch": true, "union": true, "intersect": true,
	"except": true, "minus": true, "join": true, "inner": true, "left": true, "right": true,
	"full": true, "outer": true, "cross": true, "natural": true, "on": true, "using": true,
	"as": true, "and": true, "or": true, "not": true, "select": true, "with": true, "lateral": true,
	"into": true, "when": true, "then": true, "else": true, "end": true, "is": true, "in": true,
	"like": true, "ilike": true, "between": true, "case": true, "over": true,
	"pivot": true, "unpivot": true, "tablesample": true, "semi": true, "anti": true, "asof": true,
	"positional": true, "values": true, "escape": true, "collate": true, "for": true, "sample": true,
	"match_recognize": true, "returning": true, "by": true, "rlike": true, "similar": true,
	"qualify_": true, "changes": true, "at": true, "before": true, "connect": true, "start": true,
	"apply": true, "distinct": true, "all": true, "any": true, "glob": true, "regexp": true,
}

// parseAlias reads [AS] name. For tables, words that start a clause of their
// own are not aliases.
func (p *parser) parseAlias(table bool) string {
	if p.acceptKw("as") {
		t := p.peek()
		if t.kind == tString {
			p.next()
			return unquoteString(t.text)
		}
		return p.parseIdent()
	}
	t := p.peek()
	switch t.kind {
	case tQIdent:
		p.next()
		return t.text
	case tIdent:
		if reserved[strings.ToLower(t.text)] {
			return ""
		}
		if table && (p.isKw("window") || p.isKw("limit")) {
			return ""
		}
		p.next()
		return t.text
	case tString:
		// Snowflake and BigQuery accept 'alias' only after AS; Postgres never.
		return ""
	}
	return ""
}

func unquoteString(s string) string {
	i := strings.IndexAny(s, `'"`)
	if i < 0 || len(s) < i+2 {
		return s
	}
	q := s[i]
	body := s[i+1 : len(s)-1]
	return strings.ReplaceAll(body, string([]byte{q, q}), string(q))
}

func (p *parser) parseIdent() string {
	t := p.peek()
	if t.kind == tIdent || t.kind == tQIdent {
		p.next()
		return t.text
	}
	p.failf("expected a name, found %s", p.describe())
	return ""
}

// parseDotted reads name(.name)*.
func (p *parser) parseDotted() []string {
	parts := []string{p.parseIdent()}
	for p.isOp(".") && (p.peekAt(1).kind == tIdent || p.peekAt(1).kind == tQIdent) {
		p.next()
		parts = append(parts, p.next().text)
	}
	return parts
}

// parseName reads a relation name, allowing empty parts (db..table).
func (p *parser) parseName() []string {
	parts := []string{p.parseIdent()}
	for p.isOp(".") {
		p.next()
		if p.isOp(".") {
			parts = append(parts, "")
			continue
		}
		parts = append(parts, p.parseIdent())
	}
	return parts
}

func (p *parser) parseFromList() []*FromItem {
	var out []*FromItem
	for {
		out = append(out, p.parseJoined())
		if !p.acceptOp(",") {
			return out
		}
	}
}

// parseJoined reads a from item followed by any joins.
func (p *parser) parseJoined() *FromItem {
	left := p.parseFromItem()
	for {
		pos := p.peek().pos
		j := &FromItem{Kind: fromJoin, Left: left, Pos: pos, JoinType: "inner"}
		if p.acceptKw("natural") {
			j.Natural = true
		}
		switch {
		case p.acceptKw("cross", "join"):
			j.JoinType = "cross"
		case p.acceptKw("cross", "apply"), p.acceptKw("outer", "apply"):
			j.JoinType = "cross"
			j.Right = p.parseFromItem()
			j.Right.Lateral = true
			left = j
			continue
		case p.acceptKw("positional", "join"):
			j.JoinType = "positional"
		case p.acceptKw("lateral", "view"):
			// Spark: LATERAL VIEW [OUTER] fn(args) alias AS col, col
			p.acceptKw("outer")
			f := &FromItem{Kind: fromFunc, Pos: p.peek().pos, Lateral: true}
			f.Func = p.parseExpr()
			f.Alias = p.parseAlias(true)
			if p.acceptKw("as") {
				for {
					f.ColAliases = append(f.ColAliases, p.parseIdent())
					if !p.acceptOp(",") || !(p.peek().kind == tIdent || p.peek().kind == tQIdent) || p.isKw("lateral") {
						break
					}
				}
			}
			j.JoinType = "cross"
			j.Right = f
			left = j
			continue
		default:
			typ := ""
			switch {
			case p.acceptKw("inner"):
				typ = "inner"
			case p.acceptKw("left"):
				typ = "left"
			case p.acceptKw("right"):
				typ = "right"
			case p.acceptKw("full"):
				typ = "full"
			}
			p.acceptKw("outer")
			switch {
			case p.acceptKw("semi"):
				typ = "semi"
			case p.acceptKw("anti"):
				typ = "anti"
			case p.acceptKw("asof"):
				typ = "asof"
			}
			if !p.acceptKw("join") {
				if typ != "" || j.Natural {
					p.failf("expected JOIN, found %s", p.describe())
				}
				return left
			}
			if typ != "" {
				j.JoinType = typ
			}
		}
		p.enter()
		j.Right = p.parseFromItem()
		p.leave()
		switch {
		case p.acceptKw("on"):
			j.On = p.parseExpr()
		case p.acceptKw("using"):
			j.Using = p.parseNameList()
			if p.acceptKw("as") {
				p.parseIdent()
			}
		}
		left = j
	}
}

func (p *parser) parseFromItem() *FromItem {
	p.enter()
	defer p.leave()
	f := &FromItem{Pos: p.peek().pos}
	if p.acceptKw("lateral") {
		f.Lateral = true
	}
	switch {
	case p.isOp("(") && p.parenStartsQuery():
		// Either a subquery or a parenthesised join whose first item is a
		// subquery; try the subquery first.
		save := p.i
		if q, ok := p.tryParenQuery(); ok {
			f.Kind = fromSubquery
			f.Sub = q
		} else {
			p.i = save
			p.next()
			inner := p.parseJoined()
			p.expectOp(")")
			inner.Lateral = inner.Lateral || f.Lateral
			f = inner
		}
	case p.isOp("("):
		p.next()
		inner := p.parseJoined()
		p.expectOp(")")
		if a := p.parseAlias(true); a != "" {
			// (t1 join t2) AS j: columns are those of the join.
			inner = &FromItem{Kind: fromJoin, Left: inner, JoinType: "alias", Alias: a, Pos: inner.Pos}
		}
		return p.parseFromSuffix(inner)
	case p.isKw("values"):
		p.next()
		f.Kind = fromValues
		f.Values = p.parseValuesRows()
	case p.peek().kind == tString:
		// DuckDB: FROM 'file.parquet'
		f.Kind = fromFunc
		f.Func = &Expr{Kind: eLit, Pos: p.next().pos}
	default:
		name := p.parseName()
		if p.isOp("(") {
			f.Kind = fromFunc
			f.Func = p.parseCall(name, p.peek().pos)
		} else {
			f.Kind = fromTable
			f.Table = name
		}
	}
	return p.parseFromSuffix(f)
}

// tryParenQuery parses "( query )" and reports false, with the position
// left for the caller to restore, when that is not what follows.
func (p *parser) tryParenQuery() (q *Query, ok bool) {
	depth := p.depth
	defer func() {
		if r := recover(); r != nil {
			pb, isBail := r.(parseBail)
			if !isBail {
				panic(r)
			}
			if _, budget := pb.err.(*BudgetError); budget {
				panic(r)
			}
			p.depth = depth
			q, ok = nil, false
		}
	}()
	p.expectOp("(")
	q = p.parseQuery()
	p.expectOp(")")
	return q, true
}

func (p *parser) parseFromSuffix(f *FromItem) *FromItem {
	for {
		switch {
		case p.isKw("for") && p.isKwAt(1, "system_time"):
			p.next()
			p.next()
			p.expectKw("as")
			p.expectKw("of")
			p.parseExpr()
		case (p.isKw("at") || p.isKw("before")) && p.peekAt(1).text == "(":
			p.next()
			p.skipBalanced()
		case p.isKw("tablesample") || p.isKw("sample") && p.peekAt(1).text == "(":
			p.next()
			for p.peek().kind == tIdent && !p.isOp("(") {
				p.next()
			}
			p.skipBalanced()
			if p.acceptKw("repeatable") || p.acceptKw("seed") {
				p.skipBalanced()
			}
		case p.isKw("with") && p.isKwAt(1, "offset"):
			p.next()
			p.next()
			p.acceptKw("as")
			f.Offset = "offset"
			if t := p.peek(); t.kind == tIdent && !reserved[strings.ToLower(t.text)] || t.kind == tQIdent {
				f.Offset = p.next().text
			}
		case p.isKw("with") && p.isKwAt(1, "ordinality"):
			p.next()
			p.next()
			f.Offset = "ordinality"
		case p.isKw("pivot") || p.isKw("unpivot") || p.isKw("match_recognize"):
			f.Unsupported = strings.ToUpper(p.next().text)
			p.acceptKw("include")
			p.acceptKw("exclude")
			p.acceptKw("nulls")
			p.skipBalanced()
		case f.Alias == "" && f.Kind != fromJoin:
			a := p.parseAlias(true)
			if a == "" {
				return f
			}
			f.Alias = a
			if p.isOp("(") {
				p.next()
				for {
					f.ColAliases = append(f.ColAliases, p.parseIdent())
					if p.peek().kind == tIdent && !p.isOp(",") && !p.isOp(")") {
						p.parseType() // Postgres: AS t(a int, b text)
					}
					if !p.acceptOp(",") {
						break
					}
				}
				p.expectOp(")")
			}
		default:
			return f
		}
	}
}
