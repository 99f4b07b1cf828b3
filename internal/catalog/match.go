package catalog

import (
	"cmp"
	"slices"
	"strings"

	"github.com/dbtlink/dbtlink/internal/store"
)

// TableCandidate is a crawled warehouse table, named as the warehouse
// stores it.
type TableCandidate struct {
	ID       int64
	Database string
	Schema   string
	Name     string
}

// TableRef names a table in a report.
type TableRef struct {
	ID   int64  `json:"id,omitempty"`
	Name string `json:"name"` // database.schema.name as the warehouse stores it
}

// Report says how a scope's nodes met the warehouse's tables. It is stored
// as JSON with each sync.
type Report struct {
	Adapter   string              `json:"adapter"`
	Counts    ReportCounts        `json:"counts"`
	Matched   map[string]TableRef `json:"matched"`
	Missing   []MissingTable      `json:"missing"`
	Unclaimed []TableRef          `json:"unclaimed"`
	Ephemeral []string            `json:"ephemeral"`
	Ambiguous []AmbiguousMatch    `json:"ambiguous"`
	// ColumnLineage says how the models' SQL resolved into column lineage
	// and what could not be (set by the sync, not by Match).
	ColumnLineage *ColumnLineageReport `json:"column_lineage,omitempty"`
}

// ReportCounts are the report's totals. Relations counts the nodes that
// should have a table (models other than ephemeral ones, seeds, snapshots,
// sources).
type ReportCounts struct {
	Nodes     int `json:"nodes"`
	Relations int `json:"relations"`
	Matched   int `json:"matched"`
	Missing   int `json:"missing"`
	Ephemeral int `json:"ephemeral"`
	Unclaimed int `json:"unclaimed"`
	Ambiguous int `json:"ambiguous"`
}

// MissingTable is a node whose table the warehouse does not have.
type MissingTable struct {
	UniqueID string `json:"unique_id"`
	// Expected is the relation looked for, folded by the adapter's rules.
	Expected string `json:"expected"`
	// Candidates are up to three tables of the same database nearest by
	// edit distance on schema.name.
	Candidates []TableRef `json:"candidates,omitempty"`
}

// AmbiguousMatch is a node whose relation folds to the key of several
// tables ("Orders" and "orders" on Postgres); Chosen is the exact-case one
// when there is one.
type AmbiguousMatch struct {
	UniqueID string     `json:"unique_id"`
	Chosen   TableRef   `json:"chosen"`
	Others   []TableRef `json:"others"`
	// More counts the others left out past maxAmbiguousOthers.
	More int `json:"more,omitempty"`
}

// maxAmbiguousOthers bounds the tables listed per ambiguous match.
const maxAmbiguousOthers = 10

// adapterRules is how an adapter treats identifiers.
type adapterRules struct {
	quote byte
	// fold turns an unquoted identifier into the name the warehouse
	// stores; nil keeps it.
	fold func(string) string
	// caseSensitive: names that differ only in case are different tables
	// (BigQuery), so no case-insensitive fallback is tried.
	caseSensitive bool
	// ignoresQuotes: quoted names are case-insensitive too (Redshift
	// without enable_case_sensitive_identifier, Databricks, Spark).
	ignoresQuotes bool
}

func rulesFor(adapter string) adapterRules {
	switch strings.ToLower(adapter) {
	case "snowflake":
		return adapterRules{quote: '"', fold: strings.ToUpper}
	case "bigquery":
		return adapterRules{quote: '`', caseSensitive: true}
	case "databricks", "spark":
		return adapterRules{quote: '`', fold: strings.ToLower, ignoresQuotes: true}
	case "redshift":
		return adapterRules{quote: '"', fold: strings.ToLower, ignoresQuotes: true}
	default: // postgres, redshift, duckdb, and the like
		return adapterRules{quote: '"', fold: strings.ToLower}
	}
}

// identPart is one part of a relation name.
type identPart struct {
	name   string
	quoted bool
}

// splitRelation splits a relation name such as "db"."schema"."t" or
// `proj`.`ds`.`t` on the dots outside quotes. A doubled quote inside a
// quoted part is a literal quote.
func splitRelation(s string, quote byte) []identPart {
	var parts []identPart
	i := 0
	for i <= len(s) {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		var p identPart
		if i < len(s) && s[i] == quote {
			p.quoted = true
			var b strings.Builder
			i++
			for i < len(s) {
				if s[i] == quote {
					if i+1 < len(s) && s[i+1] == quote {
						b.WriteByte(quote)
						i += 2
						continue
					}
					i++
					break
				}
				b.WriteByte(s[i])
				i++
			}
			p.name = b.String()
			for i < len(s) && s[i] != '.' {
				i++
			}
		} else {
			j := strings.IndexByte(s[i:], '.')
			if j < 0 {
				j = len(s) - i
			}
			p.name = strings.TrimSpace(s[i : i+j])
			i += j
		}
		parts = append(parts, p)
		i++ // the dot
	}
	return parts
}

// resolve is the name the warehouse stores for a part.
func (r adapterRules) resolve(p identPart) string {
	if p.quoted || r.fold == nil {
		return p.name
	}
	return r.fold(p.name)
}

// relationKey is the (database, schema, name) a node should have, as the
// warehouse stores it, and whether any part was quoted; ok is false for
// nodes without a relation.
func relationKey(r adapterRules, n *store.CatalogNode) (db, schema, name string, quoted, ok bool) {
	if !nodeHasRelation(n) {
		return "", "", "", false, false
	}
	if n.RelationName != "" {
		parts := splitRelation(n.RelationName, r.quote)
		for _, p := range parts {
			quoted = quoted || p.quoted
		}
		switch len(parts) {
		case 3:
			return r.resolve(parts[0]), r.resolve(parts[1]), r.resolve(parts[2]), quoted, true
		case 2:
			return "", r.resolve(parts[0]), r.resolve(parts[1]), quoted, true
		}
	}
	name = cmp.Or(n.Identifier, n.Name)
	if name == "" || n.Schema == "" {
		return "", "", "", false, false
	}
	un := func(s string) string { return r.resolve(identPart{name: s}) }
	return un(n.Database), un(n.Schema), un(name), false, true
}

func nodeHasRelation(n *store.CatalogNode) bool {
	switch n.ResourceType {
	case "model":
		return n.Materialized != "ephemeral"
	case "seed", "snapshot", "source":
		return true
	}
	return false
}

func qualified(db, schema, name string) string {
	if db == "" {
		return schema + "." + name
	}
	return db + "." + schema + "." + name
}

// Match sets TableID on each node whose relation the warehouse has and
// reports what matched, what is missing, which tables of the dbt schemas no
// node claims, the ephemeral models passed through and ambiguous matches.
// adapterType is the manifest's adapter (postgres, snowflake, bigquery,
// ...); tables are the warehouse's tables of the scope's warehouse. A node's
// name is compared exactly first and then, except on BigQuery, ignoring
// case (unless a part was quoted on an adapter that honours quotes); a
// node without a database part (Databricks hive_metastore, Spark)
// matches on schema and name alone.
func Match(adapterType string, nodes []store.CatalogNode, tables []TableCandidate) Report {
	rules := rulesFor(adapterType)
	rep := Report{Adapter: adapterType, Matched: map[string]TableRef{}, Missing: []MissingTable{}, Unclaimed: []TableRef{},
		Ephemeral: []string{}, Ambiguous: []AmbiguousMatch{}}
	lower := func(s string) string { return strings.ToLower(s) }
	exact3 := map[[3]string][]int{}
	fold3 := map[[3]string][]int{}
	exact2 := map[[2]string][]int{}
	fold2 := map[[2]string][]int{}
	for i, t := range tables {
		exact3[[3]string{t.Database, t.Schema, t.Name}] = append(exact3[[3]string{t.Database, t.Schema, t.Name}], i)
		fold3[[3]string{lower(t.Database), lower(t.Schema), lower(t.Name)}] = append(fold3[[3]string{lower(t.Database), lower(t.Schema), lower(t.Name)}], i)
		exact2[[2]string{t.Schema, t.Name}] = append(exact2[[2]string{t.Schema, t.Name}], i)
		fold2[[2]string{lower(t.Schema), lower(t.Name)}] = append(fold2[[2]string{lower(t.Schema), lower(t.Name)}], i)
	}
	ref := func(i int) TableRef {
		t := tables[i]
		return TableRef{ID: t.ID, Name: qualified(t.Database, t.Schema, t.Name)}
	}
	cands := newCandidateIndex(tables, rules)
	nearestOf := map[string][]TableRef{} // nodes of one relation (versions, copies) share candidates
	claimed := make([]bool, len(tables))
	matchedSchemas := map[[2]string]bool{}
	schemaKey := func(t TableCandidate) [2]string {
		if rules.caseSensitive {
			return [2]string{t.Database, t.Schema}
		}
		return [2]string{lower(t.Database), lower(t.Schema)}
	}
	rep.Counts.Nodes = len(nodes)
	for ni := range nodes {
		n := &nodes[ni]
		n.TableID = 0
		if n.ResourceType == "model" && n.Materialized == "ephemeral" {
			rep.Ephemeral = append(rep.Ephemeral, n.UniqueID)
			continue
		}
		db, schema, name, quoted, ok := relationKey(rules, n)
		if !ok {
			continue
		}
		// A quoted name is the exact name on adapters that honour quotes,
		// so only unquoted ones may match a table of another case; folded
		// hits are still looked up to report ambiguity.
		mayFold := !rules.caseSensitive && (!quoted || rules.ignoresQuotes)
		rep.Counts.Relations++
		var hits, folded []int
		if db != "" {
			hits = exact3[[3]string{db, schema, name}]
			if !rules.caseSensitive {
				folded = fold3[[3]string{lower(db), lower(schema), lower(name)}]
			}
		} else {
			hits = exact2[[2]string{schema, name}]
			if !rules.caseSensitive {
				folded = fold2[[2]string{lower(schema), lower(name)}]
			}
		}
		var chosen = -1
		switch {
		case len(hits) > 0:
			chosen = hits[0]
		case len(folded) > 0 && mayFold:
			// No exact spelling: prefer the spelling as written in the
			// project (a quoted part that was folded), else the first.
			chosen = folded[0]
			for _, i := range folded {
				if tables[i].Name == cmp.Or(n.Identifier, n.Name) {
					chosen = i
					break
				}
			}
		}
		if chosen < 0 {
			exp := qualified(db, schema, name)
			near, ok := nearestOf[exp]
			if !ok {
				near = cands.nearest(tables, db, schema, name, ref)
				nearestOf[exp] = near
			}
			rep.Missing = append(rep.Missing, MissingTable{UniqueID: n.UniqueID, Expected: exp, Candidates: near})
			continue
		}
		n.TableID = tables[chosen].ID
		claimed[chosen] = true
		matchedSchemas[schemaKey(tables[chosen])] = true
		rep.Matched[n.UniqueID] = ref(chosen)
		// folded holds hits whenever it was looked up.
		alts := hits
		if len(folded) > 0 {
			alts = folded
		}
		if len(alts) > 1 {
			a := AmbiguousMatch{UniqueID: n.UniqueID, Chosen: ref(chosen), Others: []TableRef{}}
			for _, i := range alts {
				if i == chosen {
					continue
				}
				if len(a.Others) == maxAmbiguousOthers {
					a.More++
					continue
				}
				a.Others = append(a.Others, ref(i))
			}
			rep.Ambiguous = append(rep.Ambiguous, a)
		}
	}
	for i, t := range tables {
		if !claimed[i] && matchedSchemas[schemaKey(t)] {
			rep.Unclaimed = append(rep.Unclaimed, ref(i))
		}
	}
	slices.SortFunc(rep.Missing, func(a, b MissingTable) int { return strings.Compare(a.UniqueID, b.UniqueID) })
	slices.SortFunc(rep.Unclaimed, func(a, b TableRef) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(rep.Ambiguous, func(a, b AmbiguousMatch) int { return strings.Compare(a.UniqueID, b.UniqueID) })
	slices.Sort(rep.Ephemeral)
	rep.Counts.Matched, rep.Counts.Missing, rep.Counts.Ephemeral = len(rep.Matched), len(rep.Missing), len(rep.Ephemeral)
	rep.Counts.Unclaimed, rep.Counts.Ambiguous = len(rep.Unclaimed), len(rep.Ambiguous)
	return rep
}

// candidateIndex groups a warehouse's tables for the nearest-candidate
// search of missing nodes: by database, by database and schema (sorted by
// name), and by database and name, with names normalised as the adapter
// compares them.
type candidateIndex struct {
	norm     func(string) string
	key      []string // normalised schema.name per table
	names    []string // normalised name per table
	byDB     map[string][]int
	bySchema map[[2]string][]int
	byName   map[[2]string][]int
}

// wholeDatabaseLimit bounds the databases searched in full for candidates.
// Past it a missing node is compared with the tables of the same name in
// other schemas and with the neighbourWindow tables on each side of its
// name in its schema's sorted names (near names share prefixes), so a
// missing node costs little in a warehouse of 100,000 tables.
const (
	wholeDatabaseLimit = 2000
	neighbourWindow    = 32
)

func newCandidateIndex(tables []TableCandidate, rules adapterRules) *candidateIndex {
	ci := &candidateIndex{norm: strings.ToLower, key: make([]string, len(tables)), names: make([]string, len(tables)),
		byDB: map[string][]int{}, bySchema: map[[2]string][]int{}, byName: map[[2]string][]int{}}
	if rules.caseSensitive {
		ci.norm = func(s string) string { return s }
	}
	for i, t := range tables {
		db, sc, n := ci.norm(t.Database), ci.norm(t.Schema), ci.norm(t.Name)
		ci.key[i], ci.names[i] = sc+"."+n, n
		ci.byDB[db] = append(ci.byDB[db], i)
		ci.bySchema[[2]string{db, sc}] = append(ci.bySchema[[2]string{db, sc}], i)
		ci.byName[[2]string{db, n}] = append(ci.byName[[2]string{db, n}], i)
	}
	for _, is := range ci.bySchema {
		slices.SortFunc(is, func(a, b int) int { return strings.Compare(ci.names[a], ci.names[b]) })
	}
	return ci
}

// nearest returns up to three tables of the same database (any database
// when the node has none) nearest to schema.name by edit distance.
func (ci *candidateIndex) nearest(tables []TableCandidate, db, schema, name string, ref func(int) TableRef) []TableRef {
	want := ci.norm(schema + "." + name)
	var pool []int
	if db == "" {
		for _, is := range ci.byDB {
			pool = append(pool, is...)
		}
	} else {
		d := ci.norm(db)
		pool = ci.byDB[d]
	}
	if len(pool) > wholeDatabaseLimit {
		d, n := ci.norm(db), ci.norm(name)
		same := ci.bySchema[[2]string{d, ci.norm(schema)}]
		at, _ := slices.BinarySearchFunc(same, n, func(i int, n string) int { return strings.Compare(ci.names[i], n) })
		pool = slices.Concat(ci.byName[[2]string{d, n}], same[max(0, at-neighbourWindow):min(len(same), at+neighbourWindow)])
	}
	type cand struct {
		i, d int
		name string
	}
	var top []cand // at most 3, best first
	var buf []int
	for _, i := range pool {
		got := ci.key[i]
		limit := len(want) + len(got)
		if len(top) == 3 {
			limit = top[2].d
			if diff := len(want) - len(got); diff > limit || -diff > limit {
				continue
			}
		}
		d := boundedLevenshtein(want, got, limit, &buf)
		if d > limit || slices.ContainsFunc(top, func(x cand) bool { return x.i == i }) {
			continue
		}
		t := tables[i]
		c := cand{i, d, qualified(t.Database, t.Schema, t.Name)}
		if len(top) == 3 && d == limit && c.name >= top[2].name {
			continue
		}
		top = append(top, c)
		slices.SortFunc(top, func(a, b cand) int { return cmp.Or(cmp.Compare(a.d, b.d), strings.Compare(a.name, b.name)) })
		if len(top) > 3 {
			top = top[:3]
		}
	}
	var out []TableRef
	for _, c := range top {
		out = append(out, ref(c.i))
	}
	return out
}

// boundedLevenshtein is the edit distance, or a value above max as soon as
// every path exceeds max. buf is reused between calls when given.
func boundedLevenshtein(a, b string, max int, buf *[]int) int {
	n := len(b) + 1
	var rows []int
	if buf != nil && cap(*buf) >= 2*n {
		rows = (*buf)[:2*n]
	} else {
		rows = make([]int, 2*n)
		if buf != nil {
			*buf = rows
		}
	}
	prev, cur := rows[:n], rows[n:]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > max {
			return max + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// MatchColumns pairs a node's documented columns with a warehouse table's
// columns: for each dbt column the index of its warehouse column, or -1.
// Names are compared exactly first, then ignoring case on every adapter
// (column names are case-insensitive on BigQuery too, and Snowflake stores
// unquoted ones in upper case while projects write them in lower case); a
// warehouse column is paired at most once.
func MatchColumns(adapterType string, dbtColumns, warehouseColumns []string) []int {
	rules := rulesFor(adapterType)
	out := make([]int, len(dbtColumns))
	used := make([]bool, len(warehouseColumns))
	exact := map[string]int{}
	folded := map[string][]int{}
	for i, w := range warehouseColumns {
		if _, ok := exact[w]; !ok {
			exact[w] = i
		}
		folded[strings.ToLower(w)] = append(folded[strings.ToLower(w)], i)
	}
	for i, c := range dbtColumns {
		out[i] = -1
		// A column written with quotes in the project keeps its case.
		name := c
		if len(c) >= 2 && c[0] == rules.quote && c[len(c)-1] == rules.quote {
			name = c[1 : len(c)-1]
		}
		if j, ok := exact[name]; ok && !used[j] {
			out[i], used[j] = j, true
		}
	}
	for i, c := range dbtColumns {
		if out[i] >= 0 {
			continue
		}
		name := strings.Trim(c, string(rules.quote))
		for _, j := range folded[strings.ToLower(name)] {
			if !used[j] {
				out[i], used[j] = j, true
				break
			}
		}
	}
	return out
}
