package sqllineage

// The syntax tree keeps only what column lineage needs: which names an
// expression reads, which relations a query reads, and how output names are
// formed. Literal values, operators and types are not kept beyond what tells
// a direct copy from a transformation.

// Query is a query expression: optional CTEs, a body of selects combined by
// set operators, and trailing ORDER BY / LIMIT (read but not kept).
type Query struct {
	With      []*CTE
	Recursive bool
	Body      *SetExpr
	OrderBy   []*Expr // may name output aliases; read for filter-free lineage only
}

// CTE is one WITH entry.
type CTE struct {
	Name    string
	Columns []string // explicit column list, if any
	Query   *Query
	Pos     int
}

// SetExpr is either a leaf (Select, a parenthesised Query or VALUES rows) or
// a set operation over Left and Right.
type SetExpr struct {
	Op     string // "" for a leaf; "union", "intersect", "except"
	ByName bool   // UNION BY NAME (DuckDB, Snowflake)
	Left   *SetExpr
	Right  *SetExpr

	Select *Select
	Query  *Query
	Values [][]*Expr
}

// Select is one SELECT core.
type Select struct {
	Items      []*SelectItem
	From       []*FromItem // comma-separated items; joins nest inside
	Where      *Expr
	GroupBy    []*Expr
	Having     *Expr
	Qualify    *Expr
	DistinctOn []*Expr
	Windows    map[string]*Expr // WINDOW w AS (...): the spec as an expression over its keys
	Pos        int
}

// SelectItem is an expression with an optional alias, or a star.
type SelectItem struct {
	Expr  *Expr
	Alias string

	Star      bool
	Qualifier []string // t in t.*
	Except    []string // * EXCEPT / EXCLUDE
	Replace   []*SelectItem
	Rename    [][2]string // Snowflake * RENAME (a AS b)
	StarLike  bool        // Snowflake * ILIKE 'pattern': columns chosen at run time
	Pos       int
}

type fromKind uint8

const (
	fromTable fromKind = iota
	fromSubquery
	fromFunc
	fromJoin
	fromValues
)

// FromItem is a relation in FROM: a table, a subquery, a table function, or a
// join of two items.
type FromItem struct {
	Kind        fromKind
	Table       []string // name parts, unquoted
	Sub         *Query
	Func        *Expr
	Values      [][]*Expr
	Alias       string
	ColAliases  []string
	Lateral     bool
	Offset      string // BigQuery UNNEST ... WITH OFFSET AS name
	Unsupported string // PIVOT, UNPIVOT, MATCH_RECOGNIZE: why columns are not known

	// joins
	Left, Right *FromItem
	JoinType    string // "inner", "left", "right", "full", "cross", "semi", "anti", "asof", "positional"
	Natural     bool
	On          *Expr
	Using       []string
	Pos         int
}

type exprKind uint8

const (
	eLit exprKind = iota
	eCol
	eFunc
	eOp
	eCast
	eSub    // scalar subquery, ARRAY(subquery), IN (subquery)
	eExists // EXISTS (subquery)
	eStar   // count(*)
	eCase
	eWindow // OVER (...): Args are partition and order keys
)

// Expr is an expression reduced to its lineage-relevant shape.
type Expr struct {
	Kind  exprKind
	Parts []string // eCol: name parts, unquoted
	Name  string   // eFunc: lower-case function name; eOp: operator
	Args  []*Expr
	Sub   *Query
	Over  *Expr // window of a window function call
	// Keyword marks a bare word a function takes as a keyword, not a
	// column: the date part of DATEADD(day, 1, d).
	Keyword bool
	Pos     int
}
