package sqllineage

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Model is one compiled model of a project.
type Model struct {
	ID       string   // the caller's key, e.g. a dbt unique_id
	Relation []string // where the model is built: database, schema, identifier
	SQL      string   // compiled SQL
}

// ProjectOptions tune ResolveProject.
type ProjectOptions struct {
	Dialect Dialect
	// Schema gives the columns of relations the caller knows (warehouse
	// crawl, catalog.json, declared source columns). It is asked first; a
	// model it does not know gets the output columns resolved from that
	// model's own SQL.
	Schema Schema
	Limits Limits
	// QueryTimeout bounds parse and resolve of one model. Default 2s.
	QueryTimeout time.Duration
	// Workers is how many models parse and resolve at once. Default
	// GOMAXPROCS; 1 is sequential.
	Workers int
}

// ModelResult is the lineage of one model.
type ModelResult struct {
	ID     string
	Result *Result // nil when Err is set
	Err    error   // syntax or budget error
	// Upstream maps the lower-case dotted name of each relation in
	// Result.Tables that is another model of the project to that model's ID.
	Upstream map[string]string
}

// ResolveProject resolves every model in dependency order, so that a
// model's * and unqualified names see the columns of the models it reads
// even where the Schema does not know them. Results keep the order of
// models. ctx ends the whole run; each model has its own QueryTimeout.
func ResolveProject(ctx context.Context, models []Model, opt ProjectOptions) []ModelResult {
	if opt.QueryTimeout <= 0 {
		opt.QueryTimeout = 2 * time.Second
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	// A reference matches a model by its full relation name, or by a shorter
	// suffix ("schema.table") when only one model has it.
	byRel := map[string]int{}
	bySuffix := map[string]int{}
	for i, m := range models {
		if len(m.Relation) == 0 {
			continue // an ephemeral model: inlined, never read by name
		}
		byRel[joinLower(m.Relation)] = i
		for k := 1; k < len(m.Relation); k++ {
			suf := joinLower(m.Relation[k:])
			if _, dup := bySuffix[suf]; dup {
				bySuffix[suf] = -1
			} else {
				bySuffix[suf] = i
			}
		}
	}
	findModel := func(parts []string) (int, bool) {
		if i, ok := byRel[joinLower(parts)]; ok {
			return i, true
		}
		if len(parts) > 1 {
			if i, ok := bySuffix[joinLower(parts)]; ok && i >= 0 {
				return i, true
			}
		}
		return 0, false
	}
	results := make([]ModelResult, len(models))
	parsed := make([]*Query, len(models))
	deps := make([][]int, len(models))
	parallel(len(models), opt.Workers, func(i int) {
		m := models[i]
		results[i].ID = m.ID
		qctx, cancel := context.WithTimeout(ctx, opt.QueryTimeout)
		q, err := Parse(qctx, m.SQL, opt.Dialect, opt.Limits)
		cancel()
		if err != nil {
			results[i].Err = err
			return
		}
		parsed[i] = q
		for _, t := range tableRefs(q) {
			if j, ok := findModel(t); ok && j != i {
				deps[i] = append(deps[i], j)
			}
		}
	})
	// depth-first topological order; a cycle is cut where it closes
	order := make([]int, 0, len(models))
	state := make([]uint8, len(models)) // 0 new, 1 on stack, 2 done
	visit := func(i int) {
		stack := []int{i}
		next := []int{0}
		state[i] = 1
		for len(stack) > 0 {
			top := stack[len(stack)-1]
			if next[len(next)-1] < len(deps[top]) {
				j := deps[top][next[len(next)-1]]
				next[len(next)-1]++
				if state[j] == 0 {
					state[j] = 1
					stack = append(stack, j)
					next = append(next, 0)
				}
				continue
			}
			state[top] = 2
			order = append(order, top)
			stack = stack[:len(stack)-1]
			next = next[:len(next)-1]
		}
	}
	for i := range models {
		if state[i] == 0 {
			visit(i)
		}
	}
	// Models resolve level by level: a model's level is one more than the
	// highest of the models it reads (a dependency that closes a cycle is
	// not counted), so the models of a level only read the columns of
	// lower levels and resolve in parallel.
	pos := make([]int, len(models))
	for k, i := range order {
		pos[i] = k
	}
	level := make([]int, len(models))
	var levels [][]int
	for _, i := range order {
		for _, j := range deps[i] {
			if pos[j] < pos[i] {
				level[i] = max(level[i], level[j]+1)
			}
		}
		for len(levels) <= level[i] {
			levels = append(levels, nil)
		}
		levels[level[i]] = append(levels[level[i]], i)
	}
	resolved := NewMapSchema()
	schema := layeredSchema{opt.Schema, resolved}
	cache := &tableCache{m: map[string]*tableRel{}}
	for _, lv := range levels {
		parallel(len(lv), opt.Workers, func(k int) {
			i := lv[k]
			if parsed[i] == nil {
				return
			}
			if ctx.Err() != nil {
				results[i].Err = &BudgetError{What: "project resolution stopped: " + ctx.Err().Error()}
				return
			}
			qctx, cancel := context.WithTimeout(ctx, opt.QueryTimeout)
			res, err := Resolve(qctx, parsed[i], Options{Dialect: opt.Dialect, Schema: schema, Limits: opt.Limits, cache: cache})
			cancel()
			if err != nil {
				results[i].Err = err
				return
			}
			results[i].Result = res
			for _, t := range res.Tables {
				if j, ok := findModel(t); ok && j != i {
					if results[i].Upstream == nil {
						results[i].Upstream = map[string]string{}
					}
					results[i].Upstream[joinLower(t)] = models[j].ID
				}
			}
		})
		// The schema is written between levels only, never while read.
		for _, i := range lv {
			if res := results[i].Result; res != nil && res.ColumnsKnown && len(models[i].Relation) > 0 {
				names := make([]string, len(res.Columns))
				for k, c := range res.Columns {
					names[k] = c.Name
				}
				resolved.Add(models[i].Relation, names)
			}
		}
	}
	return results
}

// layeredSchema asks each schema in turn.
type layeredSchema []Schema

func (l layeredSchema) Columns(table []string) ([]string, bool) {
	for _, s := range l {
		if s == nil {
			continue
		}
		if c, ok := s.Columns(table); ok {
			return c, true
		}
	}
	return nil, false
}

// tableRefs lists the relation names a query reads that are not its own
// CTEs (a CTE named like a table shadows it only inside its WITH).
func tableRefs(q *Query) [][]string {
	var out [][]string
	var walkQ func(q *Query, ctes map[string]bool)
	var walkS func(s *SetExpr, ctes map[string]bool)
	var walkF func(f *FromItem, ctes map[string]bool)
	var walkE func(e *Expr, ctes map[string]bool)
	walkQ = func(q *Query, ctes map[string]bool) {
		if q == nil {
			return
		}
		if len(q.With) > 0 {
			inner := make(map[string]bool, len(ctes)+len(q.With))
			for k := range ctes {
				inner[k] = true
			}
			for _, c := range q.With {
				inner[strings.ToLower(c.Name)] = true
			}
			ctes = inner
			for _, c := range q.With {
				walkQ(c.Query, ctes)
			}
		}
		walkS(q.Body, ctes)
	}
	walkS = func(s *SetExpr, ctes map[string]bool) {
		if s == nil {
			return
		}
		walkS(s.Left, ctes)
		walkS(s.Right, ctes)
		walkQ(s.Query, ctes)
		if s.Select != nil {
			for _, f := range s.Select.From {
				walkF(f, ctes)
			}
			for _, it := range s.Select.Items {
				walkE(it.Expr, ctes)
			}
			walkE(s.Select.Where, ctes)
			walkE(s.Select.Having, ctes)
			walkE(s.Select.Qualify, ctes)
		}
	}
	walkF = func(f *FromItem, ctes map[string]bool) {
		if f == nil {
			return
		}
		switch f.Kind {
		case fromTable:
			if !(len(f.Table) == 1 && ctes[strings.ToLower(f.Table[0])]) {
				out = append(out, f.Table)
			}
		case fromSubquery:
			walkQ(f.Sub, ctes)
		case fromJoin:
			walkF(f.Left, ctes)
			walkF(f.Right, ctes)
			walkE(f.On, ctes)
		}
	}
	walkE = func(e *Expr, ctes map[string]bool) {
		if e == nil {
			return
		}
		if e.Sub != nil {
			walkQ(e.Sub, ctes)
		}
		for _, a := range e.Args {
			walkE(a, ctes)
		}
	}
	walkQ(q, nil)
	return out
}

// parallel calls fn(0) ... fn(n-1) on up to workers goroutines.
func parallel(n, workers int, fn func(int)) {
	if workers <= 1 || n <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(workers, n) {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}
