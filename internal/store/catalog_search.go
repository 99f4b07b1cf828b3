package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Search document kinds.
const (
	SearchTable = "table"
	SearchNode  = "node"
)

// searchRowID is the rowid of a document in SQLite's FTS5 table, which has
// no unique key of its own: the rowid is the only column FTS5 finds a row
// by without scanning, so it encodes (kind, ref).
func searchRowID(kind string, ref int64) int64 {
	if kind == SearchNode {
		return ref*2 + 1
	}
	return ref * 2
}

func checkSearchDoc(d SearchDoc) error {
	if d.Kind != SearchTable && d.Kind != SearchNode {
		return fmt.Errorf("search document of kind %q: the kinds are %q and %q", d.Kind, SearchTable, SearchNode)
	}
	if d.Ref <= 0 {
		return fmt.Errorf("search document %s %d: refs are positive ids", d.Kind, d.Ref)
	}
	return nil
}

// PutSearchDocs adds docs to the full-text index, replacing the documents
// of the same kind and ref; of two in docs, the last one is kept.
func (q queries) PutSearchDocs(ctx context.Context, docs []SearchDoc) error {
	last := make(map[int64]int, len(docs))
	for i, d := range docs {
		if err := checkSearchDoc(d); err != nil {
			return fmt.Errorf("store: put search documents: %w", err)
		}
		last[searchRowID(d.Kind, d.Ref)] = i
	}
	if len(last) < len(docs) {
		unique := make([]SearchDoc, 0, len(last))
		for i, d := range docs {
			if last[searchRowID(d.Kind, d.Ref)] == i {
				unique = append(unique, d)
			}
		}
		docs = unique
	}
	err := q.atomic(ctx, func(q queries) error {
		if err := q.putSearchDocs(ctx, docs); err != nil {
			return err
		}
		return q.cleanSearchPending(ctx, len(docs))
	})
	if err != nil {
		return wrap(err, "put search documents")
	}
	return nil
}

func (q queries) putSearchDocs(ctx context.Context, docs []SearchDoc) error {
	columns := "kind, ref, name, description, columns, tags, owners"
	types := []string{"text", "bigint", "text", "text", "text", "text", "text"}
	if q.dialect == SQLite {
		// FTS5 indexes the text itself; the rowid encodes kind and ref.
		columns += ", rowid"
		types = append(types, "bigint")
	} else {
		// PostgreSQL gets the vectors composed (search_vector.go).
		columns += ", doc, name_doc"
		types = append(types, "tsvector", "tsvector")
	}
	stmts := q.batchStmts()
	defer stmts.Close()
	for batch := range slices.Chunk(docs, q.batchRows(len(types))) {
		values := make([][]any, len(batch))
		rowIDs := make([]int64, len(batch))
		var vectors [][2]string
		if q.dialect == Postgres {
			vectors = composeVectors(batch)
		}
		for i, d := range batch {
			rowIDs[i] = searchRowID(d.Kind, d.Ref)
			if q.dialect == SQLite {
				values[i] = []any{d.Kind, d.Ref, d.Name, d.Description, d.Columns, d.Tags, d.Owners, rowIDs[i]}
			} else {
				values[i] = []any{d.Kind, d.Ref, d.Name, d.Description, d.Columns, d.Tags, d.Owners, vectors[i][0], vectors[i][1]}
			}
		}
		var a args
		var err error
		if q.dialect == SQLite {
			if err := q.deleteSearchRows(ctx, rowIDs); err != nil {
				return err
			}
			err = stmts.exec(ctx, `INSERT INTO catalog_search (`+columns+`) `+q.rowSource(&a, types, values), a...)
			if err == nil {
				names := make([][]any, len(batch))
				for i, d := range batch {
					names[i] = []any{d.Name, rowIDs[i]}
				}
				var a args
				err = stmts.exec(ctx, `INSERT INTO catalog_search_names (name, rowid) `+q.rowSource(&a, []string{"text", "bigint"}, names), a...)
			}
		} else {
			_, err = q.exec(ctx, `INSERT INTO catalog_search (`+columns+`) `+q.rowSource(&a, types, values)+`
				ON CONFLICT (kind, ref) DO UPDATE SET name = excluded.name, description = excluded.description,
					columns = excluded.columns, tags = excluded.tags, owners = excluded.owners,
					doc = excluded.doc, name_doc = excluded.name_doc`, a...)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// DeleteSearchDocs removes the documents of kind with the given refs from
// the index; refs without a document are ignored.
func (q queries) DeleteSearchDocs(ctx context.Context, kind string, refs []int64) error {
	if err := q.deleteSearchDocs(ctx, kind, refs); err != nil {
		return wrap(err, "delete %s search documents", kind)
	}
	return nil
}

func (q queries) deleteSearchDocs(ctx context.Context, kind string, refs []int64) error {
	if q.dialect == SQLite {
		rowIDs := make([]int64, len(refs))
		for i, r := range refs {
			rowIDs[i] = searchRowID(kind, r)
		}
		return q.deleteSearchRows(ctx, rowIDs)
	}
	return q.updateIn(ctx, `DELETE FROM catalog_search WHERE kind = $1 AND ref IN `, refs, kind)
}

// deleteSearchRows deletes the SQLite documents of rowIDs, from both
// indexes.
func (q queries) deleteSearchRows(ctx context.Context, rowIDs []int64) error {
	for _, table := range []string{"catalog_search", "catalog_search_names"} {
		if err := q.updateIn(ctx, `DELETE FROM `+table+` WHERE rowid IN `, rowIDs); err != nil {
			return err
		}
	}
	return nil
}

// RefreshTableSearch rebuilds the search documents of the given tables
// from what the catalog holds about them: the crawled table and columns,
// the user's descriptions, and the dbt nodes matched to the table (names,
// descriptions, column descriptions, tags, owners). Removed and unknown
// tables are dropped from the index. The dbt sync calls it for the tables
// its nodes match; crawls and descriptions refresh their own.
func (q queries) RefreshTableSearch(ctx context.Context, tableIDs []int64) error {
	err := q.atomic(ctx, func(q queries) error {
		if err := q.refreshTableSearch(ctx, tableIDs); err != nil {
			return err
		}
		return q.cleanSearchPending(ctx, len(tableIDs))
	})
	if err != nil {
		return wrap(err, "refresh the search documents of %d tables", len(tableIDs))
	}
	return nil
}

// docBuilder gathers the text of one document, each piece once.
type docBuilder struct {
	name, description, columns, tags, owners []string
}

func addOnce(list *[]string, s string) {
	s = strings.TrimSpace(s)
	if s != "" && !slices.Contains(*list, s) {
		*list = append(*list, s)
	}
}

func (b *docBuilder) doc(id int64) SearchDoc {
	return SearchDoc{
		Kind: SearchTable, Ref: id,
		Name:        strings.Join(b.name, " "),
		Description: strings.Join(b.description, "\n"),
		Columns:     strings.Join(b.columns, "\n"),
		Tags:        strings.Join(b.tags, " "),
		Owners:      strings.Join(b.owners, " "),
	}
}

// refreshBatch is how many tables' documents are composed and written at
// once. On PostgreSQL the batch is large: each batch reads the nodes'
// columns and tags, which the planner may well do by a scan of the whole
// table (for a first sync's 200,000 node columns, ~100 ms a batch).
func (q queries) refreshBatch() int {
	if q.dialect == Postgres {
		return 20_000
	}
	return 500
}

func (q queries) refreshTableSearch(ctx context.Context, tableIDs []int64) error {
	ids := slices.Clone(tableIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for batch := range slices.Chunk(ids, q.refreshBatch()) {
		docs, err := q.composeTableDocs(ctx, batch)
		if err != nil {
			return err
		}
		var gone []int64
		var put []SearchDoc
		for _, id := range batch {
			if b, ok := docs[id]; ok {
				put = append(put, b.doc(id))
			} else {
				gone = append(gone, id)
			}
		}
		if err := q.deleteSearchDocs(ctx, SearchTable, gone); err != nil {
			return fmt.Errorf("drop search documents: %w", err)
		}
		if err := q.putSearchDocs(ctx, put); err != nil {
			return fmt.Errorf("write search documents: %w", err)
		}
	}
	return nil
}

// composeTableDocs reads what the documents of the present tables among
// ids say.
func (q queries) composeTableDocs(ctx context.Context, ids []int64) (map[int64]*docBuilder, error) {
	var a args
	var in string
	if q.dialect == Postgres {
		// One array parameter: thousands of placeholders cost PostgreSQL
		// more to parse and plan than the query costs to run.
		in = "(SELECT unnest(" + a.add(ids) + "::bigint[]))"
	} else {
		ph := make([]string, len(ids))
		for i, id := range ids {
			ph[i] = q.bind(&a, id)
		}
		in = "(" + strings.Join(ph, ", ") + ")"
	}
	docs := map[int64]*docBuilder{}
	read := func(what, query string, scan func(id int64, s []string)) error {
		rows, err := q.query(ctx, query, a...)
		if err != nil {
			return fmt.Errorf("read %s for search: %w", what, err)
		}
		defer rows.Close()
		var (
			id  int64
			s   = make([]string, 3)
			dst = []any{&id, &s[0], &s[1], &s[2]}
		)
		for rows.Next() {
			if err := rows.Scan(dst...); err != nil {
				return fmt.Errorf("read %s for search: %w", what, err)
			}
			scan(id, s)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read %s for search: %w", what, err)
		}
		return nil
	}
	steps := []struct {
		what, query string
		scan        func(b *docBuilder, s []string)
	}{
		{"tables", `SELECT id, name, user_description || ' ' || comment, owner FROM catalog_tables
			WHERE removed_at IS NULL AND id IN ` + in,
			func(b *docBuilder, s []string) {
				addOnce(&b.name, s[0])
				addOnce(&b.description, s[1])
				addOnce(&b.owners, s[2])
			}},
		{"columns", `SELECT table_id, name, comment, user_description FROM catalog_columns
			WHERE removed_at IS NULL AND table_id IN ` + in + ` ORDER BY table_id, position, name`,
			func(b *docBuilder, s []string) { addOnce(&b.columns, strings.Join(s, " ")) }},
		{"dbt nodes", `SELECT table_id, name, description, owner FROM catalog_nodes
			WHERE table_id IN ` + in + ` ORDER BY table_id, id`,
			func(b *docBuilder, s []string) {
				addOnce(&b.name, s[0])
				addOnce(&b.description, s[1])
				addOnce(&b.owners, s[2])
			}},
		{"dbt columns", `SELECT n.table_id, nc.name, nc.description, '' FROM catalog_node_columns nc
			JOIN catalog_nodes n ON n.id = nc.node_id
			WHERE n.table_id IN ` + in + ` AND nc.description <> '' ORDER BY n.table_id, n.id, nc.position`,
			func(b *docBuilder, s []string) { addOnce(&b.columns, s[0]+" "+s[1]) }},
		{"dbt tags", `SELECT n.table_id, g.tag, '', '' FROM catalog_node_tags g
			JOIN catalog_nodes n ON n.id = g.node_id
			WHERE n.table_id IN ` + in + ` ORDER BY n.table_id, g.tag`,
			func(b *docBuilder, s []string) { addOnce(&b.tags, s[0]) }},
	}
	for i, step := range steps {
		err := read(step.what, step.query, func(id int64, s []string) {
			b := docs[id]
			if b == nil {
				if i > 0 {
					return // a removed table
				}
				b = &docBuilder{}
				docs[id] = b
			}
			step.scan(b, s)
		})
		if err != nil {
			return nil, err
		}
	}
	return docs, nil
}

// SearchParams is a full-text search. Query is what the user typed; its
// words must all match, the last one as a prefix when it has three
// characters or more. The other fields filter
// (empty: no filter); a table passes a dbt filter when one of the nodes
// matched to it passes.
type SearchParams struct {
	Query string
	// Limit defaults to 20 and is capped at 200.
	Limit int
	// Kinds restricts the documents to SearchTable or SearchNode ones.
	Kinds        []string
	Warehouse    string
	Schema       string
	ResourceType string // dbt resource type: model, source, seed, ...
	Tag          string
	Owner        string // the table's owner in the warehouse, or a dbt owner
	TestStatus   string // a data test attached with this latest status (pass, fail, error, warn)
}

// SearchHit is a document that matched.
type SearchHit struct {
	Kind string
	Ref  int64
	Name string
	// Field is where the query matched first, in ranking order: name,
	// description, columns, tags or owners. Snippet is the part of it that
	// matched, at most about 100 characters.
	Field   string
	Snippet string
	// Rank orders the hits, higher first; it compares hits of one search
	// only.
	Rank float64
}

const maxSearchTerms = 16

// searchTerms splits what the user typed into the words the index holds:
// runs of letters and digits, lowercased, as SQLite's unicode61
// tokenizer and searchVectors cut documents. Every other
// character (quotes, *, -, :, parentheses) separates words, and keywords
// such as NEAR or OR are quoted as words, so no input is query syntax.
func searchTerms(query string) []string {
	terms := strings.FieldsFunc(strings.ToLower(query), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	if len(terms) > maxSearchTerms {
		terms = terms[:maxSearchTerms]
	}
	return terms
}

// minPrefix is the shortest last word taken as a prefix: one or two
// letters are the start of most words of a catalog, and ranking nearly
// every document costs more than such a result is worth, so they match
// whole words only until the user types a third.
const minPrefix = 3

// matchExpr is the FTS5 or tsquery expression of terms, all required,
// the last one a prefix if it has minPrefix characters and prefix is set.
func (q queries) matchExpr(terms []string, prefix bool) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		last := prefix && i == len(terms)-1 && utf8.RuneCountInString(t) >= minPrefix
		// A term holds only letters and digits, so quoting it is enough.
		if q.dialect == SQLite {
			parts[i] = `"` + t + `"`
			if last {
				parts[i] += "*"
			}
			continue
		}
		parts[i] = "'" + t + "'"
		if last {
			parts[i] += ":*"
		}
	}
	if q.dialect == SQLite {
		return strings.Join(parts, " AND ")
	}
	return strings.Join(parts, " & ")
}

// Candidates ranked per pass of a search. A pass ranks only the first
// matches it finds (in index order) up to its cap, so that a prefix of a
// common word, which matches most of the index, costs no more than a
// rare one: ranking every match is what made such searches slow.
const (
	nameCandidates = 300
	docCandidates  = 150
	// passGap separates the ranks of hits found by successive passes.
	passGap = 1000
)

// searchPass is one query of a search over the names index or the whole
// documents, with its match expression.
type searchPass struct {
	names bool
	expr  string
	// exact is the pass over the tables named as the query (exactName).
	exact bool
}

// hitKey identifies a document in a search.
type hitKey struct {
	kind string
	ref  int64
}

// Search returns the documents matching p.Query, best first. It searches
// in passes, each adding the hits it finds that the previous ones did
// not, until it has p.Limit: the tables named exactly as the query, then
// documents whose names hold all the words as whole words, then those
// whose names match as the user types (the last word a prefix), then
// whole documents, ranked by a weight of a match in
// the name far above one in the description, the columns, then the tags
// and owners (FTS5's bm25 on SQLite, ts_rank_cd on PostgreSQL). Within a
// pass, the first matches found up to a cap are ranked, not all of them.
// A query with no word returns no hit.
//
// The two databases cut and fold words alike, except that SQLite also
// folds diacritics (cafe finds café), and PostgreSQL does not.
func (q queries) Search(ctx context.Context, p SearchParams) ([]SearchHit, error) {
	terms := searchTerms(p.Query)
	if len(terms) == 0 {
		return []SearchHit{}, nil
	}
	limit := cmp.Or(p.Limit, 20)
	limit = min(max(limit, 1), 200)
	typed := q.matchExpr(terms, true)
	passes := []searchPass{{names: true, expr: typed}, {expr: typed}}
	if whole := q.matchExpr(terms, false); whole != typed {
		passes = slices.Insert(passes, 0, searchPass{names: true, expr: whole})
	}
	// The tables named exactly as the query come first: the other passes
	// rank only their first matches, among which a table named "orders"
	// may not be when thousands of names hold the word.
	passes = slices.Insert(passes, 0, searchPass{exact: true})
	var (
		keys  []hitKey
		ranks = map[hitKey]float64{}
	)
	for i, pass := range passes {
		if len(keys) >= limit {
			break
		}
		found, err := q.searchPass(ctx, p, pass, limit)
		if err != nil {
			return nil, wrap(err, "search %q", p.Query)
		}
		for _, h := range found {
			if _, ok := ranks[h.key]; ok || len(keys) == limit {
				continue
			}
			keys = append(keys, h.key)
			ranks[h.key] = float64(len(passes)-i)*passGap + min(h.score, passGap-1)
		}
	}
	texts, err := q.searchTexts(ctx, keys)
	if err != nil {
		return nil, wrap(err, "search %q", p.Query)
	}
	hits := make([]SearchHit, 0, len(keys))
	for _, k := range keys {
		fields, ok := texts[k]
		if !ok {
			continue // deleted between the two reads
		}
		h := SearchHit{Kind: k.kind, Ref: k.ref, Name: fields[0], Rank: ranks[k]}
		h.Field, h.Snippet = matchedField(fields, terms)
		hits = append(hits, h)
	}
	return hits, nil
}

type passHit struct {
	key   hitKey
	score float64
}

// searchPass returns the best limit hits of pass among the first matches
// up to its cap, best first.
func (q queries) searchPass(ctx context.Context, p SearchParams, pass searchPass, limit int) ([]passHit, error) {
	if pass.exact {
		return q.exactNamePass(ctx, p, limit)
	}
	var (
		a     args
		query string
		// ref and kind are the document's ref and kind in the filters.
		ref, kind = "catalog_search.ref", "catalog_search.kind"
		capped    = docCandidates
	)
	if pass.names {
		capped = nameCandidates
	}
	expr := a.add(pass.expr)
	// The weights are far apart so that a match in the name outranks any
	// in the description, and so on.
	switch {
	case q.dialect == SQLite && pass.names:
		ref = "(catalog_search_names.rowid / 2)"
		kind = "(CASE catalog_search_names.rowid % 2 WHEN 1 THEN 'node' ELSE 'table' END)"
		query = `SELECT rowid AS hit, -bm25(catalog_search_names) AS score
			FROM catalog_search_names WHERE catalog_search_names MATCH ` + expr
	case q.dialect == SQLite:
		query = `SELECT rowid AS hit, -bm25(catalog_search, 50.0, 10.0, 3.0, 1.0, 1.0) AS score
			FROM catalog_search WHERE catalog_search MATCH ` + expr
	case pass.names:
		// The query is a tsquery literal, not text for to_tsquery's
		// parser: its words were cut as the documents' were (searchTerms,
		// search_vector.go).
		query = `SELECT kind, ref, ts_rank_cd(name_doc, ` + expr + `::tsquery) AS score
			FROM catalog_search WHERE name_doc @@ ` + expr + `::tsquery`
	default:
		query = `SELECT kind, ref, ts_rank_cd('{0.02, 0.05, 0.2, 1.0}', doc, ` + expr + `::tsquery) AS score
			FROM catalog_search WHERE doc @@ ` + expr + `::tsquery`
	}
	for _, c := range searchFilters(&a, p, ref, kind) {
		query += " AND " + c
	}
	query += " LIMIT " + a.add(capped)
	if q.dialect == SQLite {
		query = `SELECT hit, score FROM (` + query + `) ORDER BY score DESC, hit LIMIT ` + a.add(limit)
	} else {
		query = `SELECT kind, ref, score FROM (` + query + `) c ORDER BY score DESC, ref, kind LIMIT ` + a.add(limit)
	}
	rows, err := q.query(ctx, query, a...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(sc interface{ Scan(...any) error }) (passHit, error) {
		var h passHit
		if q.dialect == SQLite {
			var rowID int64
			err := sc.Scan(&rowID, &h.score)
			h.key = hitKey{SearchTable, rowID / 2}
			if rowID%2 == 1 {
				h.key.kind = SearchNode
			}
			return h, err
		}
		err := sc.Scan(&h.key.kind, &h.key.ref, &h.score)
		return h, err
	})
}

// exactName is the table name a query is, when the user typed one: what
// they typed, trimmed and lower-cased.
func exactName(query string) string {
	return strings.ToLower(strings.TrimSpace(query))
}

// exactNamePass returns the present tables named exactly as p.Query
// (ignoring case) that have a search document and pass p's filters, by
// id: a lookup through the index on lower(name) (migration 00006). A dbt
// node without a table is left to the other passes, as is a table whose
// name only a matched dbt node has.
func (q queries) exactNamePass(ctx context.Context, p SearchParams, limit int) ([]passHit, error) {
	if len(p.Kinds) > 0 && !slices.Contains(p.Kinds, SearchTable) {
		return nil, nil
	}
	name := exactName(p.Query)
	if !utf8.ValidString(name) || strings.ContainsRune(name, 0) {
		return nil, nil // no table is named so, and PostgreSQL refuses such text
	}
	var a args
	// The outer alias is not t: the filters' subqueries use t for tables
	// of their own, which would shadow it.
	query := `SELECT xt.id FROM catalog_tables xt WHERE lower(xt.name) = ` + a.add(name) + ` AND xt.removed_at IS NULL`
	if q.dialect == SQLite {
		// FTS5 finds a document by its rowid without a scan.
		query += ` AND EXISTS (SELECT 1 FROM catalog_search WHERE rowid = xt.id * 2)`
	} else {
		query += ` AND EXISTS (SELECT 1 FROM catalog_search s WHERE s.kind = 'table' AND s.ref = xt.id)`
	}
	for _, c := range searchFilters(&a, p, "xt.id", "'table'") {
		query += " AND " + c
	}
	query += ` ORDER BY xt.id LIMIT ` + a.add(limit)
	rows, err := q.query(ctx, query, a...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(sc interface{ Scan(...any) error }) (passHit, error) {
		h := passHit{key: hitKey{kind: SearchTable}, score: passGap - 1}
		return h, sc.Scan(&h.key.ref)
	})
}

// searchFilters are the conditions of p's filters on the document of
// kind and ref (SQL expressions), bound to a.
func searchFilters(a *args, p SearchParams, ref, kind string) []string {
	var cond []string
	if len(p.Kinds) > 0 {
		cond = append(cond, kind+" IN ("+a.list(p.Kinds)+")")
	}
	// either filters on the catalog table of a table document and on the
	// dbt node of a node document; each is the body of an EXISTS.
	either := func(onTable, onNode string) string {
		return `((` + kind + ` = 'table' AND EXISTS (` + onTable + `)) OR (` + kind + ` = 'node' AND EXISTS (` + onNode + `)))`
	}
	// onNodes filters on the nodes matched to a table, or the node itself.
	onNodes := func(join, where string) string {
		return either(`SELECT 1 FROM catalog_nodes n `+join+` WHERE n.table_id = `+ref+` AND `+where,
			`SELECT 1 FROM catalog_nodes n `+join+` WHERE n.id = `+ref+` AND `+where)
	}
	if p.Warehouse != "" {
		v := a.add(p.Warehouse)
		cond = append(cond, either(`SELECT 1 FROM catalog_tables t WHERE t.id = `+ref+` AND lower(t.warehouse) = lower(`+v+`)`,
			`SELECT 1 FROM catalog_nodes n JOIN catalog_scopes sc ON sc.id = n.scope_id
				WHERE n.id = `+ref+` AND lower(sc.warehouse) = lower(`+v+`)`))
	}
	if p.Schema != "" {
		v := a.add(p.Schema)
		cond = append(cond, either(`SELECT 1 FROM catalog_tables t WHERE t.id = `+ref+` AND lower(t.schema_name) = lower(`+v+`)`,
			`SELECT 1 FROM catalog_nodes n WHERE n.id = `+ref+` AND lower(n.schema_name) = lower(`+v+`)`))
	}
	if p.ResourceType != "" {
		cond = append(cond, onNodes("", "n.resource_type = "+a.add(p.ResourceType)))
	}
	if p.Tag != "" {
		cond = append(cond, onNodes("JOIN catalog_node_tags g ON g.node_id = n.id", "g.tag = "+a.add(p.Tag)))
	}
	if p.Owner != "" {
		v := a.add(p.Owner)
		cond = append(cond, `((`+kind+` = 'table' AND EXISTS (SELECT 1 FROM catalog_tables t
			WHERE t.id = `+ref+` AND lower(t.owner) = lower(`+v+`))) OR `+
			onNodes("", "lower(n.owner) = lower("+v+")")+`)`)
	}
	if p.TestStatus != "" {
		cond = append(cond, onNodes("JOIN catalog_tests ct ON ct.scope_id = n.scope_id AND ct.attached_unique_id = n.unique_id",
			"ct.status = "+a.add(p.TestStatus)))
	}
	return cond
}

// searchTexts reads the fields of the documents keys, in searchFields
// order.
func (q queries) searchTexts(ctx context.Context, keys []hitKey) (map[hitKey][5]string, error) {
	out := make(map[hitKey][5]string, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	var (
		a     args
		query string
	)
	if q.dialect == SQLite {
		ph := make([]string, len(keys))
		for i, k := range keys {
			ph[i] = q.bind(&a, searchRowID(k.kind, k.ref))
		}
		// FTS5 finds a row by its rowid and by nothing else without a scan.
		query = `SELECT kind, ref, name, description, columns, tags, owners FROM catalog_search
			WHERE rowid IN (` + strings.Join(ph, ", ") + `)`
	} else {
		kinds, refs := make([]string, len(keys)), make([]int64, len(keys))
		for i, k := range keys {
			kinds[i], refs[i] = k.kind, k.ref
		}
		query = `SELECT kind, ref, name, description, columns, tags, owners FROM catalog_search
			WHERE (kind, ref) IN (SELECT * FROM unnest(` + a.add(kinds) + `::text[], ` + a.add(refs) + `::bigint[]))`
	}
	rows, err := q.query(ctx, query, a...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k hitKey
			f [5]string
		)
		if err := rows.Scan(&k.kind, &k.ref, &f[0], &f[1], &f[2], &f[3], &f[4]); err != nil {
			return nil, err
		}
		out[k] = f
	}
	return out, rows.Err()
}

var searchFields = [5]string{"name", "description", "columns", "tags", "owners"}

// matchedField finds the first field, in ranking order, holding one of
// the terms, and the line of it around the match.
func matchedField(fields [5]string, terms []string) (string, string) {
	for i, text := range fields {
		for line := range strings.SplitSeq(text, "\n") {
			if at := matchAt(line, terms); at >= 0 {
				return searchFields[i], excerpt(line, at, 100)
			}
		}
	}
	return "", ""
}

// matchAt returns the byte offset of the first word of s that is a term,
// or starts with the last term; -1 if none.
func matchAt(s string, terms []string) int {
	start := -1
	for i, r := range s + " " {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			w := strings.ToLower(s[start:i])
			for j, t := range terms {
				if w == t || (j == len(terms)-1 && utf8.RuneCountInString(t) >= minPrefix && strings.HasPrefix(w, t)) {
					return start
				}
			}
			start = -1
		}
	}
	return -1
}

// excerpt returns about n bytes of s around offset at, on rune and word
// boundaries where it can, with "…" where it cut.
func excerpt(s string, at, n int) string {
	if len(s) <= n {
		return s
	}
	from := max(0, at-n/3)
	for from > 0 && !utf8.RuneStart(s[from]) {
		from--
	}
	if i := strings.IndexByte(s[from:at], ' '); from > 0 && i >= 0 {
		from += i + 1
	}
	to := min(len(s), from+n)
	for to < len(s) && !utf8.RuneStart(s[to]) {
		to++
	}
	if i := strings.LastIndexByte(s[at:to], ' '); to < len(s) && i > 0 {
		to = at + i
	}
	out := s[from:to]
	if from > 0 {
		out = "…" + out
	}
	if to < len(s) {
		out += "…"
	}
	return out
}

// String is for logs and tests.
func (h SearchHit) String() string {
	return h.Kind + ":" + strconv.FormatInt(h.Ref, 10) + " " + h.Name
}
