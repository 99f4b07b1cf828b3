package sqllineage

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// Kind is how a source column feeds a target.
type Kind uint8

const (
	// Copy: the output column is the source column unchanged (through any
	// number of aliases, CTEs and subqueries).
	Copy Kind = iota + 1
	// Transform: the output is computed from the source column (function,
	// operator, cast, CASE, aggregate, window partition or order key).
	Transform
	// Filter: the source column decides which rows are kept (WHERE, HAVING,
	// QUALIFY, IN/EXISTS subqueries) but no output value is computed from it.
	Filter
	// JoinKey: the source column is compared in a JOIN ... ON or USING.
	JoinKey
)

func (k Kind) String() string {
	switch k {
	case Copy:
		return "copy"
	case Transform:
		return "transform"
	case Filter:
		return "filter"
	case JoinKey:
		return "join"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// SourceColumn is a column of a table read by the query.
type SourceColumn struct {
	// Table is the relation name as written in the query, unquoted
	// (["analytics", "staging", "stg_orders"]); the caller maps it to a node.
	Table  []string
	Column string
	Kind   Kind
	// Via lists the dbt ephemeral models (CTEs named __dbt__cte__<name>) the
	// dependency passed through, outermost first.
	Via []string
}

// Column is one output column of a query.
type Column struct {
	Name    string
	Sources []SourceColumn // sorted by table, column, kind
	// Reason is why Sources may be incomplete; empty when fully resolved.
	Reason string
}

// Result is the column lineage of one query.
type Result struct {
	// Columns are the output columns in order. When ColumnsKnown is false
	// (a * over a relation whose columns are unknown), the names are not all
	// known and Columns holds those that are.
	Columns      []Column
	ColumnsKnown bool
	// Filters are the columns that decide which rows the query returns
	// (kinds Filter and JoinKey), from every scope the output reads.
	Filters []SourceColumn
	// Tables are the base relations read, in first-read order.
	Tables [][]string
	// Ephemerals are the dbt ephemeral models inlined as __dbt__cte__ CTEs
	// that the output reads, innermost first (the order they resolve in).
	Ephemerals []string
	// Reasons are query-level gaps: unexpandable stars, unresolved filter
	// columns, unsupported clauses.
	Reasons []string
}

// Complete reports whether every output column is known and fully resolved.
func (r *Result) Complete() bool {
	if !r.ColumnsKnown || len(r.Reasons) > 0 {
		return false
	}
	for _, c := range r.Columns {
		if c.Reason != "" {
			return false
		}
	}
	return true
}

// Schema gives the columns of relations the query reads. Columns returns
// the names in table order and true, or false when the relation is unknown.
// Lookups should ignore case (see MapSchema). ResolveProject calls
// Columns from several goroutines at once.
type Schema interface {
	Columns(table []string) ([]string, bool)
}

// MapSchema is a Schema over a map from dotted, lower-case relation names
// ("db.schema.table"). A lookup tries the full name and then its shorter
// suffixes ("schema.table", "table") only when the suffix names one relation.
type MapSchema struct {
	full  map[string][]string
	short map[string][]string // suffix -> columns, nil slice when ambiguous
}

// NewMapSchema returns an empty MapSchema.
func NewMapSchema() *MapSchema {
	return &MapSchema{full: map[string][]string{}, short: map[string][]string{}}
}

// Add records the columns of a relation named by its parts.
func (m *MapSchema) Add(table []string, columns []string) {
	key := joinLower(table)
	m.full[key] = columns
	for k := 1; k < len(table); k++ {
		suf := joinLower(table[k:])
		if prev, ok := m.short[suf]; ok && (prev == nil || !sameStrings(prev, columns)) {
			m.short[suf] = nil
			continue
		}
		m.short[suf] = columns
	}
}

// Columns implements Schema.
func (m *MapSchema) Columns(table []string) ([]string, bool) {
	key := joinLower(table)
	if c, ok := m.full[key]; ok {
		return c, true
	}
	if c, ok := m.short[key]; ok && c != nil {
		return c, true
	}
	return nil, false
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func joinLower(parts []string) string {
	return strings.ToLower(strings.Join(parts, "."))
}

// Options tune Resolve.
type Options struct {
	Dialect Dialect
	// Schema gives the columns behind * and unqualified names; nil means no
	// table's columns are known.
	Schema Schema
	Limits Limits

	cache *tableCache // set by ResolveProject
}

// Lineage parses sql and resolves its column lineage. A parse error or a
// budget error is returned as an error; a query that parses but cannot be
// resolved in full gives a Result with reasons.
func Lineage(ctx context.Context, sql string, opt Options) (*Result, error) {
	q, err := Parse(ctx, sql, opt.Dialect, opt.Limits)
	if err != nil {
		return nil, err
	}
	return Resolve(ctx, q, opt)
}

// Resolve maps each output column of q to its source columns.
func Resolve(ctx context.Context, q *Query, opt Options) (res *Result, err error) {
	lim := opt.Limits.withDefaults()
	r := &resolver{ctx: ctx, dialect: opt.Dialect, schema: opt.Schema, cache: opt.cache, maxDepth: lim.MaxDepth, tableIdx: map[string]int{}}
	defer func() {
		if x := recover(); x != nil {
			b, ok := x.(parseBail)
			if !ok {
				panic(x)
			}
			res, err = nil, b.err
		}
	}()
	rel := r.query(q, nil, nil)
	cols, known, reason := rel.all()
	res = &Result{ColumnsKnown: known}
	if !known {
		res.Reasons = append(res.Reasons, reason)
	}
	for _, c := range cols {
		res.Columns = append(res.Columns, Column{Name: c.name, Sources: finishDeps(c.deps), Reason: c.reason})
	}
	res.Filters = finishDeps(r.filters)
	res.Tables = r.tables
	res.Ephemerals = r.ephemerals
	res.Reasons = append(res.Reasons, r.reasons...)
	return res, nil
}

func finishDeps(deps []SourceColumn) []SourceColumn {
	switch len(deps) {
	case 0:
		return nil
	case 1:
		return []SourceColumn{deps[0]}
	}
	// Sort and deduplicate on keys built once: building them in the
	// comparison allocated most of what a query cost.
	type keyed struct {
		col  string // table and column, lower case
		rest string // via, then the kind
		d    SourceColumn
	}
	ks := make([]keyed, len(deps))
	for i, d := range deps {
		ks[i] = keyed{
			col:  joinLower(d.Table) + "\x00" + strings.ToLower(d.Column),
			rest: strings.Join(d.Via, ".") + "\x00" + string(rune('0'+d.Kind)),
			d:    d,
		}
	}
	sort.Slice(ks, func(i, j int) bool {
		if ks[i].col != ks[j].col {
			return ks[i].col < ks[j].col
		}
		return ks[i].rest < ks[j].rest
	})
	out := make([]SourceColumn, 0, len(ks))
	for i, k := range ks {
		if i > 0 && ks[i-1].col == k.col && ks[i-1].rest == k.rest {
			continue
		}
		// A copy and a transform of the same column: the transform says more.
		if n := len(out); n > 0 && i > 0 && ks[i-1].col == k.col && out[n-1].Kind == Copy && k.d.Kind == Transform &&
			strings.Join(out[n-1].Via, ".") == strings.Join(k.d.Via, ".") {
			out[n-1] = k.d
			continue
		}
		out = append(out, k.d)
	}
	return out
}
