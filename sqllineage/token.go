package sqllineage

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Dialect selects the lexical rules that differ between warehouses: which
// quote marks an identifier and which a string, and how unquoted names fold.
// The grammar accepted is the union of the dialects' SELECT syntax, so a
// Snowflake QUALIFY parses under any dialect; only lexing differs.
type Dialect int

// The dialects dbt adapters compile to.
const (
	Postgres Dialect = iota
	Redshift
	Snowflake
	BigQuery
	DuckDB
	Databricks
)

// String returns the dbt adapter name of the dialect.
func (d Dialect) String() string {
	switch d {
	case Postgres:
		return "postgres"
	case Redshift:
		return "redshift"
	case Snowflake:
		return "snowflake"
	case BigQuery:
		return "bigquery"
	case DuckDB:
		return "duckdb"
	case Databricks:
		return "databricks"
	}
	return fmt.Sprintf("Dialect(%d)", int(d))
}

// DialectFor maps a dbt adapter type (manifest metadata.adapter_type) to its
// dialect. Adapters that speak a known dialect (spark speaks Databricks' SQL,
// postgres-compatible ones speak Postgres) are mapped to it; an unknown
// adapter gives false.
func DialectFor(adapter string) (Dialect, bool) {
	switch strings.ToLower(adapter) {
	case "postgres", "postgresql", "materialize", "alloydb", "greenplum", "cockroachdb":
		return Postgres, true
	case "redshift":
		return Redshift, true
	case "snowflake":
		return Snowflake, true
	case "bigquery":
		return BigQuery, true
	case "duckdb", "motherduck":
		return DuckDB, true
	case "databricks", "spark":
		return Databricks, true
	}
	return Postgres, false
}

// doubleQuoteIsString reports whether "..." is a string literal (BigQuery,
// Spark) rather than a quoted identifier (SQL standard).
func (d Dialect) doubleQuoteIsString() bool { return d == BigQuery || d == Databricks }

// backslashEscapes reports whether a backslash escapes inside '...'.
func (d Dialect) backslashEscapes() bool {
	return d == BigQuery || d == Databricks || d == Snowflake
}

type tokKind uint8

const (
	tEOF    tokKind = iota
	tIdent          // unquoted word, keywords included
	tQIdent         // quoted identifier; text is the unquoted name
	tString         // string literal; text is the raw literal
	tNumber
	tOp // operator or punctuation
	tParam
)

type token struct {
	kind tokKind
	text string
	pos  int // byte offset in the query
}

// SyntaxError says where and why the query could not be read.
type SyntaxError struct {
	Pos int    // byte offset
	Msg string // what was wrong
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("sql syntax at byte %d: %s", e.Pos, e.Msg) }

// threeCharOps and twoCharOps are tried longest first.
var threeCharOps = []string{"->>", "#>>", "<=>", "!~*", "||/", "..."}
var twoCharOps = []string{"::", "||", "<=", ">=", "<>", "!=", "=>", "->", "#>", "@>", "<@", "&&", "~*", "!~", "<<", ">>", "==", "?|", "?&", "|/", ":="}

// tokenize splits q into tokens. It fails on unterminated strings, quoted
// identifiers and comments, and once more than maxTokens tokens were read.
func tokenize(q string, d Dialect, maxTokens int) ([]token, error) {
	// Compiled dbt SQL runs about 6 bytes a token (indentation included).
	toks := make([]token, 0, len(q)/6+16)
	i := 0
	for i < len(q) {
		if maxTokens > 0 && len(toks) >= maxTokens {
			return nil, &BudgetError{What: fmt.Sprintf("more than %d tokens", maxTokens)}
		}
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < len(q) && q[i+1] == '-', c == '#' && d == BigQuery:
			for i < len(q) && q[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			start := i
			depth := 0
			for {
				if i+1 >= len(q) {
					return nil, &SyntaxError{Pos: start, Msg: "unterminated /* comment"}
				}
				if q[i] == '/' && q[i+1] == '*' {
					depth++
					i += 2
					continue
				}
				if q[i] == '*' && q[i+1] == '/' {
					depth--
					i += 2
					// Postgres and Snowflake nest comments; a nested opener
					// inside a BigQuery comment is rare enough to accept too.
					if depth == 0 {
						break
					}
					continue
				}
				i++
			}
		case c == '\'':
			end, err := scanQuoted(q, i, '\'', d.backslashEscapes())
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{tString, q[i:end], i})
			i = end
		case c == '"':
			end, err := scanQuoted(q, i, '"', d.doubleQuoteIsString())
			if err != nil {
				return nil, err
			}
			if d.doubleQuoteIsString() {
				toks = append(toks, token{tString, q[i:end], i})
			} else {
				toks = append(toks, token{tQIdent, strings.ReplaceAll(q[i+1:end-1], `""`, `"`), i})
			}
			i = end
		case c == '`':
			end, err := scanQuoted(q, i, '`', false)
			if err != nil {
				return nil, err
			}
			toks = appendBacktick(toks, q[i+1:end-1], i)
			i = end
		case c == '$' && i+1 < len(q) && (q[i+1] == '$' || isIdentStart(rune(q[i+1]))) && dollarTag(q, i) != "":
			tag := dollarTag(q, i)
			end := strings.Index(q[i+len(tag):], tag)
			if end < 0 {
				return nil, &SyntaxError{Pos: i, Msg: "unterminated " + tag + " string"}
			}
			end = i + len(tag) + end + len(tag)
			toks = append(toks, token{tString, q[i:end], i})
			i = end
		case c == '$' && i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9':
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			toks = append(toks, token{tParam, q[i:j], i})
			i = j
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9':
			j := scanNumber(q, i)
			toks = append(toks, token{tNumber, q[i:j], i})
			i = j
		case c == '?' && (i+1 >= len(q) || (q[i+1] != '|' && q[i+1] != '&')):
			toks = append(toks, token{tParam, "?", i})
			i++
		case c == '@' && i+1 < len(q) && isIdentStart(rune(q[i+1])):
			// BigQuery named parameter or Snowflake stage; read as a parameter.
			j := i + 1
			for j < len(q) && isIdentPart(rune(q[j])) {
				j++
			}
			toks = append(toks, token{tParam, q[i:j], i})
			i = j
		default:
			r, size := utf8.DecodeRuneInString(q[i:])
			if r == utf8.RuneError && size == 1 {
				return nil, &SyntaxError{Pos: i, Msg: "invalid UTF-8"}
			}
			if isIdentStart(r) {
				j := i + size
				for j < len(q) {
					r2, s2 := utf8.DecodeRuneInString(q[j:])
					if !isIdentPart(r2) {
						break
					}
					j += s2
				}
				word := q[i:j]
				// String prefixes: E'..' (Postgres), r'..' b'..' (BigQuery),
				// N'..' and X'..'; a prefix touching a quote is part of it.
				if j < len(q) && (q[j] == '\'' || q[j] == '"' && d.doubleQuoteIsString()) && isStringPrefix(word) {
					esc := d.backslashEscapes() || strings.EqualFold(word, "e")
					if strings.ContainsAny(word, "rR") {
						esc = false
					}
					end, err := scanQuoted(q, j, q[j], esc)
					if err != nil {
						return nil, err
					}
					toks = append(toks, token{tString, q[i:end], i})
					i = end
					continue
				}
				toks = append(toks, token{tIdent, word, i})
				i = j
				continue
			}
			if i+3 <= len(q) && contains(threeCharOps, q[i:i+3]) {
				toks = append(toks, token{tOp, q[i : i+3], i})
				i += 3
				continue
			}
			if i+2 <= len(q) && contains(twoCharOps, q[i:i+2]) {
				toks = append(toks, token{tOp, q[i : i+2], i})
				i += 2
				continue
			}
			if strings.IndexByte("(),.;*+-/%=<>|&^~!:[]{}@#", c) >= 0 {
				toks = append(toks, token{tOp, q[i : i+1], i})
				i++
				continue
			}
			return nil, &SyntaxError{Pos: i, Msg: fmt.Sprintf("unexpected character %q", r)}
		}
	}
	toks = append(toks, token{tEOF, "", len(q)})
	return toks, nil
}

// appendBacktick adds a backtick-quoted name. BigQuery lets one pair of
// backticks hold a whole path (`project.dataset.table`), which is split into
// its parts joined by dots so that the parser sees the same shape as
// `project`.`dataset`.`table`.
func appendBacktick(toks []token, name string, pos int) []token {
	parts := strings.Split(name, ".")
	if len(parts) == 1 || slicesContainEmpty(parts) {
		return append(toks, token{tQIdent, name, pos})
	}
	for k, p := range parts {
		if k > 0 {
			toks = append(toks, token{tOp, ".", pos})
		}
		toks = append(toks, token{tQIdent, p, pos})
	}
	return toks
}

func slicesContainEmpty(s []string) bool {
	for _, p := range s {
		if p == "" {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func isStringPrefix(w string) bool {
	switch strings.ToLower(w) {
	case "e", "r", "b", "n", "x", "u&", "br", "rb":
		return true
	}
	return false
}

// scanQuoted returns the offset just past the literal opened by quote at i.
// A doubled quote is an escaped quote; with backslash, \x escapes too.
// BigQuery's triple-quoted strings are read as a whole.
func scanQuoted(q string, i int, quote byte, backslash bool) (int, error) {
	triple := string([]byte{quote, quote, quote})
	if quote != '`' && strings.HasPrefix(q[i:], triple) && backslash {
		end := strings.Index(q[i+3:], triple)
		if end < 0 {
			return 0, &SyntaxError{Pos: i, Msg: "unterminated triple-quoted string"}
		}
		return i + 3 + end + 3, nil
	}
	j := i + 1
	for j < len(q) {
		switch {
		case backslash && q[j] == '\\':
			j += 2
		case q[j] == quote:
			if j+1 < len(q) && q[j+1] == quote {
				j += 2
				continue
			}
			return j + 1, nil
		default:
			j++
		}
	}
	what := "string"
	if quote != '\'' {
		what = "quoted identifier"
	}
	return 0, &SyntaxError{Pos: i, Msg: fmt.Sprintf("unterminated %s (opened with %c)", what, quote)}
}

// dollarTag returns the $tag$ opening a dollar-quoted string at i, or "".
func dollarTag(q string, i int) string {
	j := i + 1
	for j < len(q) && q[j] != '$' {
		if !isIdentPart(rune(q[j])) {
			return ""
		}
		j++
	}
	if j >= len(q) {
		return ""
	}
	return q[i : j+1]
}

func scanNumber(q string, i int) int {
	j := i
	if strings.HasPrefix(q[i:], "0x") || strings.HasPrefix(q[i:], "0X") {
		j = i + 2
		for j < len(q) && strings.IndexByte("0123456789abcdefABCDEF", q[j]) >= 0 {
			j++
		}
		return j
	}
	for j < len(q) && q[j] >= '0' && q[j] <= '9' {
		j++
	}
	// "1..2" never appears in SELECTs; a dot after digits is a decimal point
	// unless a letter follows it as in "t1.col" (which starts with a letter
	// and so never reaches here).
	if j < len(q) && q[j] == '.' {
		j++
		for j < len(q) && q[j] >= '0' && q[j] <= '9' {
			j++
		}
	}
	if j < len(q) && (q[j] == 'e' || q[j] == 'E') {
		k := j + 1
		if k < len(q) && (q[k] == '+' || q[k] == '-') {
			k++
		}
		if k < len(q) && q[k] >= '0' && q[k] <= '9' {
			j = k
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
		}
	}
	// Identifiers may start with digits in BigQuery and Spark (`1day`);
	// swallow trailing letters so that "10d" is one token rather than two.
	for j < len(q) && (q[j] == '_' || q[j] >= 'a' && q[j] <= 'z' || q[j] >= 'A' && q[j] <= 'Z') {
		j++
	}
	return j
}

func isIdentStart(r rune) bool {
	return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 127 && unicode.IsLetter(r)
}

func isIdentPart(r rune) bool {
	return isIdentStart(r) || r >= '0' && r <= '9' || r == '$' || r > 127 && (unicode.IsDigit(r) || unicode.IsMark(r))
}
