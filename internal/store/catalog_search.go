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
// of the same kind and ref.
func (q queries) PutSearchDocs(ctx context.Context, docs []SearchDoc) error {
	for _, d := range docs {
		if err := checkSearchDoc(d); err != nil {
			return fmt.Errorf("store: put search documents: %w", err)
		}
	}
	err := q.atomic(ctx, func(q queries) error { return q.putSearchDocs(ctx, docs) })
	if err != nil {
		return wrap(err, "put search documents")
	}
	return nil
}

func (q queries) putSearchDocs(ctx context.Context, docs []SearchDoc) error {
	const perRow = 8
	for batch := range slices.Chunk(docs, q.maxParams()/perRow) {
		var (
			a      args
			values = make([]string, len(batch))
		)
		if q.dialect == SQLite {
			rowIDs := make([]int64, len(batch))
			for i, d := range batch {
				rowIDs[i] = searchRowID(d.Kind, d.Ref)
			}
			if err := q.updateIn(ctx, `DELETE FROM catalog_search WHERE rowid IN `, rowIDs); err != nil {
				return err
			}
		}
		for i, d := range batch {
			v := []string{a.add(d.Kind), a.add(d.Ref), a.add(d.Name), a.add(d.Description),
				a.add(d.Columns), a.add(d.Tags), a.add(d.Owners)}
			if q.dialect == SQLite {
				v = append(v, a.add(searchRowID(d.Kind, d.Ref)))
			}
			values[i] = "(" + strings.Join(v, ", ") + ")"
		}
		var err error
		if q.dialect == SQLite {
			_, err = q.exec(ctx, `INSERT INTO catalog_search (kind, ref, name, description, columns, tags, owners, rowid)
				VALUES `+strings.Join(values, ", "), a...)
		} else {
			_, err = q.exec(ctx, `INSERT INTO catalog_search (kind, ref, name, description, columns, tags, owners)
				VALUES `+strings.Join(values, ", ")+`
				ON CONFLICT (kind, ref) DO UPDATE SET name = excluded.name, description = excluded.description,
					columns = excluded.columns, tags = excluded.tags, owners = excluded.owners`, a...)
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
		return q.updateIn(ctx, `DELETE FROM catalog_search WHERE rowid IN `, rowIDs)
	}
	return q.updateIn(ctx, `DELETE FROM catalog_search WHERE kind = $1 AND ref IN `, refs, kind)
}

// RefreshTableSearch rebuilds the search documents of the given tables
// from what the catalog holds about them: the crawled table and columns,
// the user's descriptions, and the dbt nodes matched to the table (names,
// descriptions, column descriptions, tags, owners). Removed and unknown
// tables are dropped from the index. The dbt sync calls it for the tables
// its nodes match; crawls and descriptions refresh their own.
func (q queries) RefreshTableSearch(ctx context.Context, tableIDs []int64) error {
	err := q.atomic(ctx, func(q queries) error { return q.refreshTableSearch(ctx, tableIDs) })
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

const refreshBatch = 500

func (q queries) refreshTableSearch(ctx context.Context, tableIDs []int64) error {
	ids := slices.Clone(tableIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for batch := range slices.Chunk(ids, refreshBatch) {
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
	ph := make([]string, len(ids))
	for i, id := range ids {
		ph[i] = a.add(id)
	}
	in := "(" + strings.Join(ph, ", ") + ")"
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
// words must all match, the last one as a prefix. The other fields filter
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
// runs of letters and digits, lowercased, as both SQLite's unicode61
// tokenizer and PostgreSQL's simple configuration cut them. Every other
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

// pgWeights are the tsvector weights of the fields, as the schema sets
// them.
var pgWeights = map[string]string{"name": "A", "description": "B", "columns": "C"}

// matchExpr is the FTS5 or tsquery expression of terms, the last one a
// prefix; a field restricts it to that field.
func (q queries) matchExpr(terms []string, field string) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		last := i == len(terms)-1
		if q.dialect == SQLite {
			parts[i] = `"` + t + `"`
			if last {
				parts[i] += "*"
			}
			continue
		}
		// A term holds only letters and digits, so quoting it is enough.
		parts[i] = "'" + t + "'"
		if last || field != "" {
			parts[i] += ":"
		}
		if last {
			parts[i] += "*"
		}
		parts[i] += pgWeights[field]
	}
	if q.dialect == SQLite {
		expr := strings.Join(parts, " AND ")
		if field != "" {
			return field + " : (" + expr + ")"
		}
		return expr
	}
	return strings.Join(parts, " & ")
}

// Search returns the documents matching p.Query, best first: documents
// whose name has every word, then those whose description has, then
// their columns, then the others; within each, by a rank weighing the
// name above the description, the columns, the tags and owners (FTS5's
// bm25 on SQLite, ts_rank_cd on PostgreSQL). A query with no word returns
// no hit.
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
	var (
		a    args
		cond []string
	)
	var (
		query string
		all   = a.add(q.matchExpr(terms, ""))
		tiers [3]string // placeholders of the query within one field
	)
	for i, field := range searchFields[:3] {
		tiers[i] = a.add(q.matchExpr(terms, field))
	}
	if q.dialect == SQLite {
		in := func(ph string) string {
			return `rowid IN (SELECT rowid FROM catalog_search WHERE catalog_search MATCH ` + ph + `)`
		}
		query = `SELECT kind, ref, name, description, columns, tags, owners,
			-bm25(catalog_search, 10.0, 4.0, 2.0, 1.0, 1.0),
			CASE WHEN ` + in(tiers[0]) + ` THEN 3 WHEN ` + in(tiers[1]) + ` THEN 2 WHEN ` + in(tiers[2]) + ` THEN 1 ELSE 0 END
			FROM catalog_search WHERE catalog_search MATCH ` + all
	} else {
		in := func(ph string) string { return `doc @@ to_tsquery('simple', ` + ph + `)` }
		query = `SELECT kind, ref, name, description, columns, tags, owners,
			ts_rank_cd('{0.1, 0.2, 0.4, 1.0}', doc, to_tsquery('simple', ` + all + `)),
			CASE WHEN ` + in(tiers[0]) + ` THEN 3 WHEN ` + in(tiers[1]) + ` THEN 2 WHEN ` + in(tiers[2]) + ` THEN 1 ELSE 0 END
			FROM catalog_search WHERE ` + in(all)
	}
	if len(p.Kinds) > 0 {
		cond = append(cond, "kind IN ("+a.list(p.Kinds)+")")
	}
	// either filters on the catalog table of a table document and on the
	// dbt node of a node document; each is the body of an EXISTS.
	either := func(onTable, onNode string) string {
		return `((kind = 'table' AND EXISTS (` + onTable + `)) OR (kind = 'node' AND EXISTS (` + onNode + `)))`
	}
	// onNodes filters on the nodes matched to a table, or the node itself.
	onNodes := func(join, where string) string {
		return either(`SELECT 1 FROM catalog_nodes n `+join+` WHERE n.table_id = catalog_search.ref AND `+where,
			`SELECT 1 FROM catalog_nodes n `+join+` WHERE n.id = catalog_search.ref AND `+where)
	}
	if p.Warehouse != "" {
		v := a.add(p.Warehouse)
		cond = append(cond, either(`SELECT 1 FROM catalog_tables t WHERE t.id = catalog_search.ref AND lower(t.warehouse) = lower(`+v+`)`,
			`SELECT 1 FROM catalog_nodes n JOIN catalog_scopes sc ON sc.id = n.scope_id
				WHERE n.id = catalog_search.ref AND lower(sc.warehouse) = lower(`+v+`)`))
	}
	if p.Schema != "" {
		v := a.add(p.Schema)
		cond = append(cond, either(`SELECT 1 FROM catalog_tables t WHERE t.id = catalog_search.ref AND lower(t.schema_name) = lower(`+v+`)`,
			`SELECT 1 FROM catalog_nodes n WHERE n.id = catalog_search.ref AND lower(n.schema_name) = lower(`+v+`)`))
	}
	if p.ResourceType != "" {
		cond = append(cond, onNodes("", "n.resource_type = "+a.add(p.ResourceType)))
	}
	if p.Tag != "" {
		cond = append(cond, onNodes("JOIN catalog_node_tags g ON g.node_id = n.id", "g.tag = "+a.add(p.Tag)))
	}
	if p.Owner != "" {
		v := a.add(p.Owner)
		cond = append(cond, `((kind = 'table' AND EXISTS (SELECT 1 FROM catalog_tables t
			WHERE t.id = catalog_search.ref AND lower(t.owner) = lower(`+v+`))) OR `+
			onNodes("", "lower(n.owner) = lower("+v+")")+`)`)
	}
	if p.TestStatus != "" {
		cond = append(cond, onNodes("JOIN catalog_tests ct ON ct.scope_id = n.scope_id AND ct.attached_unique_id = n.unique_id",
			"ct.status = "+a.add(p.TestStatus)))
	}
	for _, c := range cond {
		query += " AND " + c
	}
	order := " ORDER BY 9 DESC, 8 DESC, ref LIMIT "
	rows, err := q.query(ctx, query+order+a.add(limit), a...)
	if err != nil {
		return nil, wrap(err, "search %q", p.Query)
	}
	hits, err := collect(rows, func(sc interface{ Scan(...any) error }) (SearchHit, error) {
		var (
			h      SearchHit
			fields [5]string
			tier   int
		)
		err := sc.Scan(&h.Kind, &h.Ref, &fields[0], &fields[1], &fields[2], &fields[3], &fields[4], &h.Rank, &tier)
		h.Name = fields[0]
		h.Field, h.Snippet = matchedField(fields, terms)
		return h, err
	})
	if err != nil {
		return nil, wrap(err, "search %q", p.Query)
	}
	return hits, nil
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
				if w == t || (j == len(terms)-1 && strings.HasPrefix(w, t)) {
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
