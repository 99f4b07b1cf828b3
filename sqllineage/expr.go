package sqllineage

import "strings"

// Binding powers of binary operators (higher binds tighter).
const (
	precOr = 1 + iota
	precAnd
	precNot
	precCmp
	precOther
	precAdd
	precMul
	precPow
	precUnary
	precPostfix
)

var binaryPrec = map[string]int{
	"=": precCmp, "==": precCmp, "<>": precCmp, "!=": precCmp, "<": precCmp, ">": precCmp,
	"<=": precCmp, ">=": precCmp, "<=>": precCmp,
	"||": precOther, "->": precOther, "->>": precOther, "#>": precOther, "#>>": precOther,
	"@>": precOther, "<@": precOther, "&&": precOther, "~": precCmp, "~*": precCmp, "!~": precCmp,
	"!~*": precCmp, "|": precOther, "&": precOther, "<<": precOther, ">>": precOther, "#": precOther,
	"?|": precOther, "?&": precOther,
	"+": precAdd, "-": precAdd,
	"*": precMul, "/": precMul, "%": precMul, "||/": precMul,
	"^": precPow,
}

func (p *parser) parseExpr() *Expr { return p.parseBinary(0) }

func (p *parser) parseBinary(min int) *Expr {
	p.enter()
	defer p.leave()
	left := p.parseUnary()
	for {
		t := p.peek()
		pos := t.pos
		if t.kind == tOp {
			prec, ok := binaryPrec[t.text]
			if !ok || prec <= min {
				return left
			}
			p.next()
			right := p.parseBinary(prec)
			left = &Expr{Kind: eOp, Name: t.text, Args: []*Expr{left, right}, Pos: pos}
			continue
		}
		if t.kind != tIdent {
			return left
		}
		kw := strings.ToLower(t.text)
		switch {
		case kw == "or" && precOr > min:
			p.next()
			left = op2("or", left, p.parseBinary(precOr), pos)
		case kw == "and" && precAnd > min:
			p.next()
			left = op2("and", left, p.parseBinary(precAnd), pos)
		case kw == "is" && precCmp > min:
			p.next()
			p.acceptKw("not")
			switch {
			case p.acceptKw("distinct", "from"):
				left = op2("is distinct from", left, p.parseBinary(precCmp), pos)
			default:
				// NULL, TRUE, FALSE, UNKNOWN, NAN, JSON ...
				p.parseUnary()
				left = &Expr{Kind: eOp, Name: "is", Args: []*Expr{left}, Pos: pos}
			}
		case kw == "not" && precCmp > min && (p.isKwAt(1, "in") || p.isKwAt(1, "like") || p.isKwAt(1, "ilike") ||
			p.isKwAt(1, "between") || p.isKwAt(1, "rlike") || p.isKwAt(1, "regexp") || p.isKwAt(1, "similar") || p.isKwAt(1, "glob")):
			p.next()
			continue
		case kw == "in" && precCmp > min:
			p.next()
			left = p.parseIn(left, pos)
		case (kw == "like" || kw == "ilike" || kw == "rlike" || kw == "regexp" || kw == "glob") && precCmp > min:
			p.next()
			if p.acceptKw("any") || p.acceptKw("all") || p.acceptKw("some") {
				args := append([]*Expr{left}, p.parseParenExprs()...)
				left = &Expr{Kind: eOp, Name: kw, Args: args, Pos: pos}
				continue
			}
			right := p.parseBinary(precCmp)
			left = op2(kw, left, right, pos)
			if p.acceptKw("escape") {
				p.parseUnary()
			}
		case kw == "similar" && p.isKwAt(1, "to") && precCmp > min:
			p.next()
			p.next()
			left = op2("similar to", left, p.parseBinary(precCmp), pos)
			if p.acceptKw("escape") {
				p.parseUnary()
			}
		case kw == "between" && precCmp > min:
			p.next()
			p.acceptKw("symmetric")
			lo := p.parseBinary(precCmp)
			p.expectKw("and")
			hi := p.parseBinary(precCmp)
			left = &Expr{Kind: eOp, Name: "between", Args: []*Expr{left, lo, hi}, Pos: pos}
		case kw == "collate":
			p.next()
			p.parseUnary()
		case kw == "at" && p.isKwAt(1, "time") && p.isKwAt(2, "zone"):
			p.next()
			p.next()
			p.next()
			left = op2("at time zone", left, p.parseBinary(precPostfix), pos)
		case kw == "isnull" || kw == "notnull":
			p.next()
			left = &Expr{Kind: eOp, Name: kw, Args: []*Expr{left}, Pos: pos}
		default:
			return left
		}
	}
}

func op2(name string, a, b *Expr, pos int) *Expr {
	return &Expr{Kind: eOp, Name: name, Args: []*Expr{a, b}, Pos: pos}
}

// parseIn reads the right side of IN: a subquery, a list, or (Postgres
// position(x IN y), BigQuery IN UNNEST(arr)) an expression.
func (p *parser) parseIn(left *Expr, pos int) *Expr {
	if p.isOp("(") && p.parenStartsQuery() {
		p.next()
		q := p.parseQuery()
		p.expectOp(")")
		return &Expr{Kind: eOp, Name: "in", Args: []*Expr{left, {Kind: eSub, Sub: q, Pos: pos}}, Pos: pos}
	}
	if p.isOp("(") {
		args := append([]*Expr{left}, p.parseParenExprs()...)
		return &Expr{Kind: eOp, Name: "in", Args: args, Pos: pos}
	}
	return op2("in", left, p.parseBinary(precCmp), pos)
}

func (p *parser) parseUnary() *Expr {
	t := p.peek()
	switch {
	case t.kind == tIdent && strings.EqualFold(t.text, "not"):
		p.next()
		return &Expr{Kind: eOp, Name: "not", Args: []*Expr{p.parseBinary(precNot)}, Pos: t.pos}
	case t.kind == tOp && (t.text == "-" || t.text == "+" || t.text == "~" || t.text == "!" || t.text == "|/"):
		p.next()
		return &Expr{Kind: eOp, Name: "unary" + t.text, Args: []*Expr{p.parseBinary(precUnary)}, Pos: t.pos}
	case t.kind == tIdent && (strings.EqualFold(t.text, "prior") || strings.EqualFold(t.text, "distinct")):
		// CONNECT BY PRIOR; DISTINCT inside some argument lists.
		p.next()
		return p.parseUnary()
	}
	return p.parsePostfix(p.parsePrimary())
}

func (p *parser) parsePostfix(e *Expr) *Expr {
	for {
		t := p.peek()
		switch {
		case t.kind == tOp && t.text == "::":
			p.next()
			p.parseType()
			e = &Expr{Kind: eCast, Args: []*Expr{e}, Pos: t.pos}
		case t.kind == tOp && t.text == "[":
			p.next()
			var args []*Expr
			args = append(args, e)
			if !p.isOp("]") {
				if !p.isOp(":") {
					args = append(args, p.parseExpr())
				}
				// slices: a[1:2]
				for p.acceptOp(":") {
					if !p.isOp("]") && !p.isOp(":") {
						args = append(args, p.parseExpr())
					}
				}
			}
			p.expectOp("]")
			e = &Expr{Kind: eOp, Name: "[]", Args: args, Pos: t.pos}
		case t.kind == tOp && t.text == ":" && (p.peekAt(1).kind == tIdent || p.peekAt(1).kind == tQIdent || p.peekAt(1).kind == tString):
			// Snowflake / Databricks semi-structured path: col:a.b[0]
			p.next()
			p.next()
			for p.isOp(".") && (p.peekAt(1).kind == tIdent || p.peekAt(1).kind == tQIdent) {
				p.next()
				p.next()
			}
			e = &Expr{Kind: eOp, Name: ":", Args: []*Expr{e}, Pos: t.pos}
		case t.kind == tOp && t.text == "." && e.Kind != eCol && (p.peekAt(1).kind == tIdent || p.peekAt(1).kind == tQIdent || p.peekAt(1).text == "*"):
			// field of a composite: (expr).field, fn(x).field
			p.next()
			p.next()
			e = &Expr{Kind: eOp, Name: ".", Args: []*Expr{e}, Pos: t.pos}
		default:
			return e
		}
	}
}

// dateParts are the words functions such as DATEADD and DATE_TRUNC take as
// keywords; a bare word among them is a column only if one is in scope.
var dateParts = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`year years yy yyyy y month months mm mon mons quarter quarters qtr q week weeks w wk
		isoweek isoyear weekday dayofweek dayofweekiso dayofyear doy dow day days dd d hour hours hh h minute minutes mi
		m second seconds ss s millisecond milliseconds ms microsecond microseconds us nanosecond nanoseconds ns
		epoch epoch_second epoch_millisecond epoch_microsecond date time datetime timestamp century decade
		millennium julian timezone timezone_hour timezone_minute sunday monday tuesday wednesday thursday friday saturday
		week_start yearofweek yearofweekiso weekofyear weekiso`) {
		dateParts[w] = true
	}
}

// partFirst and partLast are the functions that take a date part as a
// bare word, in their first or last argument: DATEADD(day, 1, d),
// DATE_TRUNC(month, d) outside BigQuery; LAST_DAY(d, month),
// DATE_DIFF(a, b, DAY), DATE_TRUNC(d, MONTH) in BigQuery. A date-part word
// there is a keyword even when a column has that name; anywhere else it is
// a column ("date" often is).
var partFirst = map[string]bool{
	"dateadd": true, "datediff": true, "timestampadd": true, "timestampdiff": true, "date_part": true,
	"datepart": true, "datename": true, "timediff": true, "timeadd": true, "date_trunc": true, "datetrunc": true,
}

var partLast = map[string]bool{
	"last_day": true, "time_slice": true, "date_diff": true, "datetime_diff": true, "timestamp_diff": true,
	"datetime_trunc": true, "timestamp_trunc": true, "time_trunc": true, "time_diff": true,
}

// markDatePart marks the argument of fn that is a bare date-part word.
func markDatePart(fn string, args []*Expr, d Dialect) {
	isPart := func(a *Expr) bool {
		return a.Kind == eCol && len(a.Parts) == 1 && dateParts[strings.ToLower(a.Parts[0])]
	}
	first, last := partFirst[fn], partLast[fn]
	if fn == "date_trunc" && d == BigQuery {
		first, last = false, true
	}
	if first && len(args) > 1 && isPart(args[0]) {
		args[0].Keyword = true
	}
	if last && len(args) > 1 && isPart(args[len(args)-1]) {
		args[len(args)-1].Keyword = true
	}
}

// constantWords are bare words that are values, not columns.
var constantWords = map[string]bool{
	"true": true, "false": true, "null": true, "current_date": true, "current_time": true,
	"current_timestamp": true, "localtime": true, "localtimestamp": true, "current_user": true,
	"session_user": true, "sysdate": true, "current_role": true, "current_schema": true,
	"current_database": true, "unknown": true, "current_catalog": true, "sysdatetime": true,
}

// typedLiteral words followed by a string are typed literals: DATE '2020-01-01'.
var typedLiteral = map[string]bool{
	"date": true, "time": true, "timestamp": true, "timestamptz": true, "datetime": true, "json": true,
	"numeric": true, "bignumeric": true, "decimal": true, "timestamp_ntz": true, "timestamp_ltz": true,
	"timestamp_tz": true, "bytes": true, "uuid": true, "inet": true, "jsonb": true, "bigdecimal": true,
	"float": true, "int": true, "integer": true, "bigint": true, "real": true, "double": true, "text": true,
	"varchar": true, "char": true, "boolean": true, "bool": true,
}

func (p *parser) parsePrimary() *Expr {
	p.enter()
	defer p.leave()
	t := p.peek()
	switch t.kind {
	case tNumber, tString, tParam:
		p.next()
		return &Expr{Kind: eLit, Pos: t.pos}
	case tOp:
		switch t.text {
		case "(":
			if p.parenStartsQuery() {
				p.next()
				q := p.parseQuery()
				p.expectOp(")")
				return &Expr{Kind: eSub, Sub: q, Pos: t.pos}
			}
			p.next()
			first := p.parseExpr()
			if p.acceptOp(")") {
				return first
			}
			args := []*Expr{first}
			for p.acceptOp(",") {
				args = append(args, p.parseExpr())
			}
			p.expectOp(")")
			return &Expr{Kind: eFunc, Name: "row", Args: args, Pos: t.pos}
		case "[":
			p.next()
			var args []*Expr
			for !p.isOp("]") {
				args = append(args, p.parseExpr())
				if !p.acceptOp(",") {
					break
				}
			}
			p.expectOp("]")
			return &Expr{Kind: eFunc, Name: "array", Args: args, Pos: t.pos}
		case "{":
			// struct / object literal: {'a': expr, ...}
			p.next()
			var args []*Expr
			for !p.isOp("}") {
				p.parsePrimary()
				if !p.acceptOp(":") {
					p.expectOp("=")
				}
				args = append(args, p.parseExpr())
				if !p.acceptOp(",") {
					break
				}
			}
			p.expectOp("}")
			return &Expr{Kind: eFunc, Name: "struct", Args: args, Pos: t.pos}
		case "*":
			p.next()
			return &Expr{Kind: eStar, Pos: t.pos}
		}
		p.failf("unexpected %s in an expression", p.describe())
	case tEOF:
		p.failf("unexpected end of query in an expression")
	}
	// words
	if t.kind == tIdent {
		kw := strings.ToLower(t.text)
		next := p.peekAt(1)
		switch {
		case kw == "case":
			return p.parseCase()
		case (kw == "cast" || kw == "try_cast" || kw == "safe_cast") && next.text == "(":
			p.next()
			p.next()
			e := p.parseExpr()
			if !p.acceptKw("as") {
				p.expectOp(",") // CAST(x, 'type') is not SQL, but keep the message clear
			}
			p.parseType()
			if p.acceptKw("format") {
				p.parseExpr()
			}
			p.expectOp(")")
			return &Expr{Kind: eCast, Args: []*Expr{e}, Pos: t.pos}
		case kw == "extract" && next.text == "(":
			p.next()
			p.next()
			p.next() // the part
			if !p.acceptKw("from") {
				p.expectOp(",")
			}
			e := p.parseExpr()
			p.expectOp(")")
			return &Expr{Kind: eFunc, Name: "extract", Args: []*Expr{e}, Pos: t.pos}
		case kw == "exists" && next.text == "(":
			p.next()
			p.next()
			q := p.parseQuery()
			p.expectOp(")")
			return &Expr{Kind: eExists, Sub: q, Pos: t.pos}
		case kw == "interval":
			p.next()
			// INTERVAL '1 day' (Postgres, Snowflake) or INTERVAL expr unit
			// (BigQuery, Databricks: INTERVAL n - 1 DAY).
			var e *Expr
			if p.peek().kind == tString {
				e = p.parsePrimary()
			} else {
				e = p.parseBinary(precCmp)
			}
			if u := p.peek(); u.kind == tIdent && dateParts[strings.ToLower(u.text)] {
				p.next()
				if p.acceptKw("to") {
					p.next()
				}
			}
			return &Expr{Kind: eFunc, Name: "interval", Args: []*Expr{e}, Pos: t.pos}
		case (kw == "array" || kw == "struct" || kw == "map" || kw == "row") && (next.text == "<" || next.text == "[" || next.text == "("):
			p.next()
			if p.isOp("<") {
				p.skipAngle()
			}
			if p.isOp("(") && p.parenStartsQuery() {
				p.next()
				q := p.parseQuery()
				p.expectOp(")")
				return &Expr{Kind: eSub, Sub: q, Pos: t.pos}
			}
			var args []*Expr
			closer := ")"
			if p.acceptOp("[") {
				closer = "]"
			} else {
				p.expectOp("(")
			}
			for !p.isOp(closer) {
				args = append(args, p.parseExpr())
				p.parseAlias(false) // STRUCT(x AS name)
				if !p.acceptOp(",") {
					break
				}
			}
			p.expectOp(closer)
			return &Expr{Kind: eFunc, Name: kw, Args: args, Pos: t.pos}
		case typedLiteral[kw] && next.kind == tString:
			p.next()
			p.next()
			return &Expr{Kind: eLit, Pos: t.pos}
		case constantWords[kw] && next.text != "(" && next.text != ".":
			p.next()
			return &Expr{Kind: eLit, Pos: t.pos}
		}
	}
	if t.kind != tIdent && t.kind != tQIdent {
		p.failf("unexpected %s in an expression", p.describe())
	}
	parts := []string{p.next().text}
	for p.isOp(".") {
		n := p.peekAt(1)
		if n.kind == tIdent || n.kind == tQIdent {
			p.next()
			parts = append(parts, p.next().text)
			continue
		}
		if n.kind == tOp && n.text == "*" {
			// t.* inside a function: count(t.*), to_json(t.*)
			p.next()
			p.next()
			return &Expr{Kind: eStar, Parts: parts, Pos: t.pos}
		}
		break
	}
	if p.isOp("(") {
		return p.parseCall(parts, t.pos)
	}
	return &Expr{Kind: eCol, Parts: parts, Pos: t.pos}
}

func (p *parser) parseCase() *Expr {
	t := p.next()
	e := &Expr{Kind: eCase, Pos: t.pos}
	if !p.isKw("when") {
		e.Args = append(e.Args, p.parseExpr())
	}
	for p.acceptKw("when") {
		e.Args = append(e.Args, p.parseExpr())
		p.expectKw("then")
		e.Args = append(e.Args, p.parseExpr())
	}
	if p.acceptKw("else") {
		e.Args = append(e.Args, p.parseExpr())
	}
	p.expectKw("end")
	return e
}

// parseCall reads a function call whose name has been read.
func (p *parser) parseCall(name []string, pos int) *Expr {
	p.enter()
	defer p.leave()
	fn := strings.ToLower(strings.Join(name, "."))
	short := strings.ToLower(name[len(name)-1])
	e := &Expr{Kind: eFunc, Name: fn, Pos: pos}
	p.expectOp("(")
	if p.isOp("(") && p.parenStartsQuery() || p.startsQuery(0) && p.isKw("select") {
		// fn(SELECT ...) or fn((SELECT ...)): TABLE(...), ARRAY(...)
		paren := p.isOp("(")
		if paren {
			p.next()
		}
		q := p.parseQuery()
		if paren {
			p.expectOp(")")
		}
		e.Args = append(e.Args, &Expr{Kind: eSub, Sub: q, Pos: pos})
		for p.acceptOp(",") {
			e.Args = append(e.Args, p.parseExpr())
		}
		p.expectOp(")")
		return p.parseCallSuffix(e)
	}
	if !p.acceptKw("distinct") {
		p.acceptKw("all")
	}
	if short == "trim" && (p.isKw("both") || p.isKw("leading") || p.isKw("trailing")) {
		p.next()
		p.acceptKw("from") // trim(both from x)
	}
	for !p.isOp(")") {
		var a *Expr
		switch {
		case (p.peek().kind == tIdent || p.peek().kind == tQIdent) && p.peekAt(1).kind == tOp && (p.peekAt(1).text == "=>" || p.peekAt(1).text == ":="):
			// named argument: input => expr
			p.next()
			p.next()
			a = p.parseExpr()
		case p.lambdas() && (p.peek().kind == tIdent || p.peek().kind == tQIdent) && p.peekAt(1).kind == tOp && p.peekAt(1).text == "->":
			// lambda x -> body: the parameter is not a column
			param := p.next().text
			p.next()
			a = &Expr{Kind: eFunc, Name: "lambda:" + strings.ToLower(param), Args: []*Expr{p.parseExpr()}, Pos: pos}
		case p.lambdas() && p.isOp("(") && p.isLambdaParams():
			var params []string
			p.next()
			for !p.isOp(")") {
				params = append(params, strings.ToLower(p.parseIdent()))
				if !p.acceptOp(",") {
					break
				}
			}
			p.expectOp(")")
			p.expectOp("->")
			a = &Expr{Kind: eFunc, Name: "lambda:" + strings.Join(params, ","), Args: []*Expr{p.parseExpr()}, Pos: pos}
		default:
			a = p.parseExpr()
		}
		e.Args = append(e.Args, a)
		// separators of the SQL-standard special forms:
		// substring(x FROM a FOR b), trim(BOTH x FROM y), overlay(x PLACING y FROM a)
		switch {
		case p.acceptKw("from"), p.acceptKw("for"), p.acceptKw("placing"), p.acceptKw("separator"):
			continue
		case p.acceptKw("as"):
			// CONVERT(x AS type), XMLSERIALIZE; the type is not a column
			p.parseType()
		case p.isKw("ignore") || p.isKw("respect"):
			p.next()
			p.expectKw("nulls")
		case p.isKw("order") && p.isKwAt(1, "by"):
			p.next()
			p.next()
			e.Args = append(e.Args, p.parseOrderList()...)
		case p.acceptKw("limit"):
			p.parseExpr()
		case p.acceptKw("having"):
			// BigQuery ANY_VALUE(x HAVING MAX y)
			p.next()
			e.Args = append(e.Args, p.parseExpr())
		}
		if !p.acceptOp(",") {
			break
		}
	}
	p.expectOp(")")
	markDatePart(short, e.Args, p.d)
	return p.parseCallSuffix(e)
}

// lambdas reports whether x -> body is a lambda: in Snowflake and
// Databricks; Postgres, Redshift and DuckDB read -> as JSON access.
func (p *parser) lambdas() bool { return p.d == Snowflake || p.d == Databricks }

// isLambdaParams reports whether "(a, b) ->" follows.
func (p *parser) isLambdaParams() bool {
	k := 1
	for {
		t := p.peekAt(k)
		if t.kind != tIdent && t.kind != tQIdent {
			return false
		}
		k++
		n := p.peekAt(k)
		if n.kind == tOp && n.text == ")" {
			a := p.peekAt(k + 1)
			return a.kind == tOp && a.text == "->"
		}
		if n.kind != tOp || n.text != "," {
			return false
		}
		k++
	}
}

func (p *parser) parseCallSuffix(e *Expr) *Expr {
	for {
		switch {
		case p.isKw("within") && p.isKwAt(1, "group"):
			p.next()
			p.next()
			p.expectOp("(")
			p.expectKw("order")
			p.expectKw("by")
			e.Args = append(e.Args, p.parseOrderList()...)
			p.expectOp(")")
		case p.isKw("filter") && p.peekAt(1).text == "(":
			p.next()
			p.next()
			p.expectKw("where")
			e.Args = append(e.Args, p.parseExpr())
			p.expectOp(")")
		case (p.isKw("ignore") || p.isKw("respect")) && p.isKwAt(1, "nulls"):
			p.next()
			p.next()
		case p.acceptKw("over"):
			if p.isOp("(") {
				e.Over = p.parseWindowSpec()
			} else {
				name := strings.ToLower(p.parseIdent())
				e.Over = &Expr{Kind: eWindow, Name: name, Pos: e.Pos}
			}
			return e
		default:
			return e
		}
	}
}

// parseWindowSpec reads "( [name] [PARTITION BY ...] [ORDER BY ...] [frame] )".
func (p *parser) parseWindowSpec() *Expr {
	p.enter()
	defer p.leave()
	w := &Expr{Kind: eWindow, Pos: p.peek().pos}
	p.expectOp("(")
	if t := p.peek(); (t.kind == tIdent || t.kind == tQIdent) && !p.isKw("partition") && !p.isKw("order") &&
		!p.isKw("rows") && !p.isKw("range") && !p.isKw("groups") {
		w.Name = strings.ToLower(p.next().text)
	}
	if p.acceptKw("partition", "by") {
		for {
			w.Args = append(w.Args, p.parseExpr())
			if !p.acceptOp(",") {
				break
			}
		}
	}
	if p.acceptKw("order", "by") {
		w.Args = append(w.Args, p.parseOrderList()...)
	}
	// frame clause: words and numbers up to the closing parenthesis
	depth := 0
	for {
		t := p.peek()
		if t.kind == tEOF {
			p.failf("unterminated window specification")
		}
		if t.kind == tOp && t.text == "(" {
			depth++
		}
		if t.kind == tOp && t.text == ")" {
			if depth == 0 {
				break
			}
			depth--
		}
		p.next()
	}
	p.expectOp(")")
	return w
}

// parseType reads a type name: int, varchar(20), double precision,
// timestamp with time zone, array<struct<a int64>>, int[], "MyType".
func (p *parser) parseType() {
	t := p.peek()
	if t.kind != tIdent && t.kind != tQIdent {
		p.failf("expected a type name, found %s", p.describe())
	}
	p.parseDotted()
	for {
		switch {
		case p.isOp("("):
			p.skipBalanced()
		case p.isOp("<"):
			p.skipAngle()
		case p.isOp("[") && p.peekAt(1).text == "]":
			p.next()
			p.next()
		case p.acceptKw("varying"), p.acceptKw("precision"), p.acceptKw("unsigned"):
		case p.isKw("with") && p.isKwAt(1, "time"), p.isKw("without") && p.isKwAt(1, "time"):
			p.next()
			p.next()
			p.expectKw("zone")
		case p.isKw("with") && p.isKwAt(1, "local") && p.isKwAt(2, "time"):
			p.next()
			p.next()
			p.next()
			p.expectKw("zone")
		default:
			return
		}
	}
}

// skipAngle consumes a <...> type parameter list, counting >> as two.
func (p *parser) skipAngle() {
	p.expectOp("<")
	depth := 1
	for depth > 0 {
		t := p.next()
		switch {
		case t.kind == tEOF:
			p.failf("unbalanced < > in a type")
		case t.kind == tOp && t.text == "<":
			depth++
		case t.kind == tOp && t.text == ">":
			depth--
		case t.kind == tOp && t.text == ">>":
			depth -= 2
		case t.kind == tOp && t.text == "<>":
			// "array<>" never occurs; treat as open and close
		}
	}
	if depth < 0 {
		p.failf("unbalanced < > in a type")
	}
}
