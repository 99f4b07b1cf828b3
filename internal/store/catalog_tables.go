package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Crawl statuses.
const (
	CrawlRunning = "running"
	CrawlOK      = "ok"
	CrawlError   = "error"
)

// CatalogTableRef is a crawled table's id and name, for matching dbt
// relations to tables without reading whole rows.
type CatalogTableRef struct {
	ID int64
	TableKey
	Removed bool
}

// ApplyCrawlParams is what a crawl of one warehouse found.
type ApplyCrawlParams struct {
	Warehouse string
	// CrawlID is the crawl [queries.StartCrawl] recorded, which ApplyCrawl
	// finishes; 0 records a new one that started at StartedAt (zero:
	// CrawledAt).
	CrawlID   int64
	StartedAt time.Time
	// CrawledAt stamps last_seen_at of what was seen and removed_at of
	// what was not. Required.
	CrawledAt time.Time
	// Tables are the tables seen, each with all of its columns. Their
	// Warehouse is empty or Warehouse; ID, UserDescription and the times
	// are ignored, as are those of the columns.
	Tables []CatalogTable
	// InScope says which stored tables the crawl covered: a stored table
	// in scope and not seen is marked removed; one out of scope (a schema
	// the crawl skipped) is left alone. Nil: every table of the warehouse.
	InScope func(TableKey) bool
}

// bind adds v to a and returns its placeholder, for statements binding
// many values: SQLite gets an anonymous ?, which takes the number after
// the highest so far, as the driver looks up the name of every numbered
// parameter in a list of them, which is quadratic in their count. Values
// must be bound in the order their placeholders appear.
func (q queries) bind(a *args, v any) string {
	if q.dialect == SQLite {
		*a = append(*a, v)
		return "?"
	}
	return a.add(v)
}

// batchRows is how many rows of perRow values one statement writes.
func (q queries) batchRows(perRow int) int {
	if q.dialect == SQLite {
		return q.maxParams() / perRow
	}
	return 20_000
}

// rowSource binds rows to a and returns the SQL that yields them to an
// INSERT: a VALUES list on SQLite; on PostgreSQL, one text array per
// column, unnested and cast to types, as parsing and planning thousands
// of placeholders costs PostgreSQL more than the insert itself.
func (q queries) rowSource(a *args, types []string, rows [][]any) string {
	if q.dialect == SQLite {
		values := make([]string, len(rows))
		ph := make([]string, len(types))
		for i, row := range rows {
			for j, v := range row {
				ph[j] = q.bind(a, v)
			}
			values[i] = "(" + strings.Join(ph, ", ") + ")"
		}
		return "VALUES " + strings.Join(values, ", ")
	}
	arrays := make([]string, len(types))
	casts := make([]string, len(types))
	for j, typ := range types {
		col := make([]*string, len(rows))
		for i, row := range rows {
			col[i] = pgText(row[j])
		}
		arrays[j] = a.add(col) + "::text[]"
		casts[j] = "v" + strconv.Itoa(j) + "::" + typ
	}
	names := make([]string, len(types))
	for j := range names {
		names[j] = "v" + strconv.Itoa(j)
	}
	return "SELECT " + strings.Join(casts, ", ") + " FROM unnest(" + strings.Join(arrays, ", ") + ") AS v (" + strings.Join(names, ", ") + ")"
}

// pgText is v as PostgreSQL reads it from text; nil is NULL.
func pgText(v any) *string {
	var s string
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		s = v
	case int64:
		s = strconv.FormatInt(v, 10)
	case int:
		s = strconv.Itoa(v)
	case bool:
		s = strconv.FormatBool(v)
	case time.Time:
		s = v.Format(time.RFC3339Nano)
	default:
		panic(fmt.Sprintf("store: no text form for %T", v))
	}
	return &s
}

// batchStmts keeps the statements of a batched write prepared on SQLite,
// where every full batch has the same text: parsing a statement of
// thousands of placeholders costs more than running it. (pgx keeps its
// own cache of prepared statements on PostgreSQL.)
type batchStmts struct {
	q     queries
	stmts map[string]*sql.Stmt
}

func (q queries) batchStmts() *batchStmts { return &batchStmts{q: q, stmts: map[string]*sql.Stmt{}} }

func (b *batchStmts) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	p, ok := b.q.q.(interface {
		PrepareContext(context.Context, string) (*sql.Stmt, error)
	})
	if b.q.dialect != SQLite || !ok {
		return nil, nil
	}
	if st := b.stmts[query]; st != nil {
		return st, nil
	}
	st, err := p.PrepareContext(ctx, b.q.rebind(query))
	if err != nil {
		return nil, err
	}
	b.stmts[query] = st
	return st, nil
}

func (b *batchStmts) exec(ctx context.Context, query string, a ...any) error {
	st, err := b.prepared(ctx, query)
	if err != nil {
		return err
	}
	if st != nil {
		_, err = st.ExecContext(ctx, a...)
	} else {
		_, err = b.q.exec(ctx, query, a...)
	}
	return err
}

func (b *batchStmts) query(ctx context.Context, query string, a ...any) (*sql.Rows, error) {
	st, err := b.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	if st != nil {
		return st.QueryContext(ctx, a...)
	}
	return b.q.query(ctx, query, a...)
}

func (b *batchStmts) Close() {
	for _, st := range b.stmts {
		_ = st.Close()
	}
}

// storedTable is a table as ApplyCrawl finds it before writing.
type storedTable struct {
	ref         CatalogTableRef
	kind        string
	comment     string
	owner       string
	rowEstimate *int64
	sizeBytes   *int64
	lastSeen    time.Time
	columns     map[string]*CatalogColumn
}

// ApplyCrawl writes what a crawl of p.Warehouse found, in one transaction,
// and returns the crawl as recorded in catalog_crawls.
//
// A table seen is added, or its crawled fields updated, and is no longer
// removed if it was; likewise its columns, and its stored columns not
// seen are marked removed. A stored table in scope and not seen is marked
// removed at p.CrawledAt and kept, with LastSeenAt telling when it was
// last seen. User descriptions are never written. Added counts new tables
// and tables back after a removal; Changed, tables whose crawled fields
// or columns differ from the stored ones; Removed, tables newly removed.
// The search documents of the tables whose searchable text changed are
// refreshed in the same transaction.
//
// When ApplyCrawl fails, nothing of it is written: the caller should then
// record the failure with [queries.FailCrawl].
func (q queries) ApplyCrawl(ctx context.Context, p ApplyCrawlParams) (Crawl, error) {
	if err := checkCrawl(&p); err != nil {
		return Crawl{}, wrap(err, "apply crawl of warehouse %q", p.Warehouse)
	}
	var crawl Crawl
	err := q.atomicCopy(ctx, func(q queries, cp copier) error {
		var err error
		crawl, err = q.applyCrawl(ctx, p, cp)
		return err
	})
	if err != nil {
		return Crawl{}, wrap(err, "apply crawl of warehouse %q", p.Warehouse)
	}
	return crawl, nil
}

// copier writes rows into table with PostgreSQL's COPY, in the
// transaction of the queries it came with; nil where COPY is not at hand.
type copier func(ctx context.Context, table string, columns []string, rows [][]any) error

// atomicCopy is atomic, with a copier on PostgreSQL when q opens the
// transaction: COPY writes the hundreds of thousands of columns of a first
// crawl in a fraction of the time an INSERT of unnested arrays takes.
// database/sql has no COPY, so the transaction is opened on a connection
// of its own, whose pgx connection runs the COPY.
func (q queries) atomicCopy(ctx context.Context, fn func(q queries, cp copier) error) error {
	if q.dialect != Postgres || q.db == nil {
		// SQLite, or inside a Tx, which has its copier (or none) already.
		return q.atomic(ctx, func(q queries) error { return fn(q, q.cp) })
	}
	conn, err := q.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("get a connection: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	cp := pgCopier(conn)
	qt := q.in(tx)
	qt.cp = cp
	if err := fn(qt, cp); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// pgCopier is the copier of a transaction open on conn, a pgx connection.
func pgCopier(conn *sql.Conn) copier {
	return func(ctx context.Context, table string, columns []string, rows [][]any) error {
		return conn.Raw(func(dc any) error {
			c, ok := dc.(*stdlib.Conn)
			if !ok {
				return fmt.Errorf("copy into %s: the connection is a %T, not pgx's", table, dc)
			}
			_, err := c.Conn().CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(rows))
			return err
		})
	}
}

func checkCrawl(p *ApplyCrawlParams) error {
	if p.Warehouse == "" {
		return errors.New("no warehouse named")
	}
	if p.CrawledAt.IsZero() {
		return errors.New("no CrawledAt: say when the crawl read the warehouse")
	}
	seen := make(map[TableKey]bool, len(p.Tables))
	for i := range p.Tables {
		t := &p.Tables[i]
		if t.Warehouse == "" {
			t.Warehouse = p.Warehouse
		}
		switch {
		case t.Warehouse != p.Warehouse:
			return fmt.Errorf("table %s.%s.%s is of warehouse %q, not %q", t.Database, t.Schema, t.Name, t.Warehouse, p.Warehouse)
		case t.Name == "" || t.Schema == "":
			return fmt.Errorf("table %d of the crawl has no schema or name (%q.%q.%q)", i, t.Database, t.Schema, t.Name)
		case t.Kind == "":
			return fmt.Errorf("table %s.%s.%s has no kind: say table, view, materialized_view or another kind", t.Database, t.Schema, t.Name)
		case seen[t.TableKey]:
			return fmt.Errorf("the crawl lists table %s.%s.%s twice", t.Database, t.Schema, t.Name)
		}
		seen[t.TableKey] = true
		cols := make(map[string]bool, len(t.Columns))
		for _, c := range t.Columns {
			if c.Name == "" || cols[c.Name] {
				return fmt.Errorf("table %s.%s.%s: column %q is empty or listed twice", t.Database, t.Schema, t.Name, c.Name)
			}
			cols[c.Name] = true
		}
	}
	return nil
}

// columnWrite is a column row to upsert.
type columnWrite struct {
	tableKey TableKey // to find the id of a table inserted in this crawl
	tableID  int64
	col      CatalogColumn
}

func (q queries) applyCrawl(ctx context.Context, p ApplyCrawlParams, cp copier) (Crawl, error) {
	stored, err := q.loadWarehouseTables(ctx, p.Warehouse)
	if err != nil {
		return Crawl{}, err
	}
	now, _ := q.nowArg()
	crawledAt := q.t(p.CrawledAt)
	var (
		crawl       = Crawl{Warehouse: p.Warehouse, TablesSeen: len(p.Tables), Status: CrawlOK}
		upserts     []*CatalogTable // new, changed or back
		unchanged   []int64         // ids of tables seen as stored
		colWrites   []columnWrite   // of stored tables
		newCols     []columnWrite   // of new tables, which no stored column can conflict with
		searchStale []int64         // ids of stored tables
		newSearch   []*CatalogTable
	)
	seen := make(map[TableKey]bool, len(p.Tables))
	for i := range p.Tables {
		t := &p.Tables[i]
		seen[t.TableKey] = true
		old := stored[t.TableKey]
		if old == nil {
			crawl.Added++
			upserts = append(upserts, t)
			newSearch = append(newSearch, t)
			for _, c := range t.Columns {
				newCols = append(newCols, columnWrite{tableKey: t.TableKey, col: c})
			}
			continue
		}
		tableChanged := old.kind != t.Kind || old.comment != t.Comment || old.owner != t.Owner ||
			!equalPtr(old.rowEstimate, t.RowEstimate) || !equalPtr(old.sizeBytes, t.SizeBytes)
		textChanged := old.comment != t.Comment || old.owner != t.Owner
		colsChanged := false
		for _, c := range t.Columns {
			oc := old.columns[c.Name]
			if oc == nil || !oc.RemovedAt.IsZero() || oc.Position != c.Position || oc.DataType != c.DataType ||
				oc.Nullable != c.Nullable || oc.Default != c.Default || oc.Comment != c.Comment {
				colsChanged = true
				if oc == nil || !oc.RemovedAt.IsZero() || oc.Comment != c.Comment {
					textChanged = true
				}
				colWrites = append(colWrites, columnWrite{tableID: old.ref.ID, col: c})
			}
		}
		names := make(map[string]bool, len(t.Columns))
		for _, c := range t.Columns {
			names[c.Name] = true
		}
		for name, oc := range old.columns {
			if !names[name] && oc.RemovedAt.IsZero() {
				colsChanged, textChanged = true, true
				gone := *oc
				gone.RemovedAt, gone.LastSeenAt = p.CrawledAt, old.lastSeen
				colWrites = append(colWrites, columnWrite{tableID: old.ref.ID, col: gone})
			}
		}
		switch {
		case old.ref.Removed:
			crawl.Added++
			textChanged = true
		case tableChanged || colsChanged:
			crawl.Changed++
		}
		if old.ref.Removed || tableChanged || colsChanged {
			upserts = append(upserts, t)
		} else {
			unchanged = append(unchanged, old.ref.ID)
		}
		if textChanged {
			searchStale = append(searchStale, old.ref.ID)
		}
	}

	ids, err := q.upsertTables(ctx, upserts, crawledAt, now)
	if err != nil {
		return Crawl{}, err
	}
	if err := q.updateIn(ctx, `UPDATE catalog_tables SET last_seen_at = $1 WHERE id IN `, unchanged, crawledAt); err != nil {
		return Crawl{}, fmt.Errorf("mark tables seen: %w", err)
	}
	for i := range newCols {
		newCols[i].tableID = ids[newCols[i].tableKey]
	}
	if err := q.insertColumns(ctx, newCols, p.CrawledAt, cp); err != nil {
		return Crawl{}, err
	}
	if err := q.writeColumns(ctx, colWrites, p.CrawledAt, true); err != nil {
		return Crawl{}, err
	}
	// A new table's document is what the crawl says of it (no user
	// description, no dbt node matched to it yet): composing it here saves
	// reading back every column a first crawl wrote.
	newDocs := make([]SearchDoc, len(newSearch))
	for i, t := range newSearch {
		newDocs[i] = newTableDoc(ids[t.TableKey], t)
	}
	if len(newDocs) >= 1000 && q.dialect == Postgres {
		// One merge of the pending list at the end (cleanSearchPending)
		// costs less than the merges each 4 MB of it would start.
		if _, err := q.exec(ctx, `SET LOCAL gin_pending_list_limit = '256MB'`); err != nil {
			return Crawl{}, fmt.Errorf("write search documents: %w", err)
		}
	}
	if err := q.putSearchDocs(ctx, newDocs); err != nil {
		return Crawl{}, fmt.Errorf("write search documents: %w", err)
	}

	var removed []int64
	for k, old := range stored {
		if !seen[k] && !old.ref.Removed && (p.InScope == nil || p.InScope(k)) {
			removed = append(removed, old.ref.ID)
		}
	}
	slices.Sort(removed)
	crawl.Removed = len(removed)
	if err := q.updateIn(ctx, `UPDATE catalog_tables SET removed_at = $1, updated_at = $2 WHERE id IN `, removed, crawledAt, now); err != nil {
		return Crawl{}, fmt.Errorf("mark tables removed: %w", err)
	}
	searchStale = append(searchStale, removed...)
	if err := q.refreshTableSearch(ctx, searchStale); err != nil {
		return Crawl{}, err
	}
	if err := q.cleanSearchPending(ctx, len(newDocs)+len(searchStale)); err != nil {
		return Crawl{}, err
	}
	return q.recordCrawl(ctx, p, crawl)
}

func equalPtr(a, b *int64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// loadWarehouseTables reads every stored table of warehouse with its
// columns, keyed by name.
func (q queries) loadWarehouseTables(ctx context.Context, warehouse string) (map[TableKey]*storedTable, error) {
	rows, err := q.query(ctx, `SELECT id, database_name, schema_name, name, kind, comment, owner,
		row_estimate, size_bytes, last_seen_at, removed_at IS NOT NULL
		FROM catalog_tables WHERE warehouse = $1`, warehouse)
	if err != nil {
		return nil, fmt.Errorf("read stored tables: %w", err)
	}
	byID := map[int64]*storedTable{}
	out := map[TableKey]*storedTable{}
	err = func() error {
		defer rows.Close()
		for rows.Next() {
			st := &storedTable{columns: map[string]*CatalogColumn{}}
			st.ref.Warehouse = warehouse
			var rowEst, size sql.Null[int64]
			if err := rows.Scan(&st.ref.ID, &st.ref.Database, &st.ref.Schema, &st.ref.Name, &st.kind, &st.comment, &st.owner,
				&rowEst, &size, scanTime(&st.lastSeen), &st.ref.Removed); err != nil {
				return err
			}
			st.rowEstimate, st.sizeBytes = nullPtr(rowEst), nullPtr(size)
			byID[st.ref.ID] = st
			out[st.ref.TableKey] = st
		}
		return rows.Err()
	}()
	if err != nil {
		return nil, fmt.Errorf("read stored tables: %w", err)
	}
	rows, err = q.query(ctx, `SELECT c.table_id, `+columnColumns+`
		FROM catalog_columns c JOIN catalog_tables t ON t.id = c.table_id WHERE t.warehouse = $1`, warehouse)
	if err != nil {
		return nil, fmt.Errorf("read stored columns: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		c, err := scanColumn(rows, &id)
		if err != nil {
			return nil, fmt.Errorf("read stored columns: %w", err)
		}
		byID[id].columns[c.Name] = &c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read stored columns: %w", err)
	}
	return out, nil
}

func nullPtr(v sql.Null[int64]) *int64 {
	if !v.Valid {
		return nil
	}
	return &v.V
}

func ptrArg(v *int64) any {
	if v == nil {
		return nil
	}
	return *v
}

// upsertTables inserts or updates tables, seen at crawledAt, and returns
// their ids. user_description and first_seen_at are left as they are.
func (q queries) upsertTables(ctx context.Context, tables []*CatalogTable, crawledAt, now any) (map[TableKey]int64, error) {
	types := []string{"text", "text", "text", "text", "text", "text", "text", "bigint", "bigint", "timestamptz", "timestamptz", "timestamptz"}
	ids := make(map[TableKey]int64, len(tables))
	stmts := q.batchStmts()
	defer stmts.Close()
	for batch := range slices.Chunk(tables, q.batchRows(len(types))) {
		values := make([][]any, len(batch))
		for i, t := range batch {
			values[i] = []any{t.Warehouse, t.Database, t.Schema, t.Name, t.Kind, t.Comment, t.Owner,
				ptrArg(t.RowEstimate), ptrArg(t.SizeBytes), crawledAt, crawledAt, now}
		}
		var a args
		rows, err := stmts.query(ctx, `INSERT INTO catalog_tables (warehouse, database_name, schema_name, name, kind,
				comment, owner, row_estimate, size_bytes, first_seen_at, last_seen_at, updated_at)
			`+q.rowSource(&a, types, values)+`
			ON CONFLICT (warehouse, database_name, schema_name, name) DO UPDATE SET
				kind = excluded.kind, comment = excluded.comment, owner = excluded.owner,
				row_estimate = excluded.row_estimate, size_bytes = excluded.size_bytes,
				last_seen_at = excluded.last_seen_at, removed_at = NULL, updated_at = excluded.updated_at
			RETURNING id, warehouse, database_name, schema_name, name`, a...)
		if err != nil {
			return nil, fmt.Errorf("write tables: %w", err)
		}
		err = func() error {
			defer rows.Close()
			for rows.Next() {
				var (
					id int64
					k  TableKey
				)
				if err := rows.Scan(&id, &k.Warehouse, &k.Database, &k.Schema, &k.Name); err != nil {
					return err
				}
				ids[k] = id
			}
			return rows.Err()
		}()
		if err != nil {
			return nil, fmt.Errorf("write tables: %w", err)
		}
	}
	return ids, nil
}

// cleanSearchPending moves the search documents PostgreSQL's GIN indexes
// hold in their pending lists into the indexes proper, after a write of
// docs documents, if that is many: a search scans the pending list whole,
// and writing the indexes row by row (without pending list) made a first
// crawl's documents cost seconds more than this one merge does.
func (q queries) cleanSearchPending(ctx context.Context, docs int) error {
	if q.dialect != Postgres || docs < 1000 {
		return nil
	}
	_, err := q.exec(ctx, `SELECT gin_clean_pending_list('catalog_search_doc'::regclass), gin_clean_pending_list('catalog_search_name'::regclass)`)
	if err != nil {
		return fmt.Errorf("merge the search index's pending list: %w", err)
	}
	return nil
}

// newTableDoc is the search document of table t, just added as id, as
// composeTableDocs would read it back.
func newTableDoc(id int64, t *CatalogTable) SearchDoc {
	var b docBuilder
	addOnce(&b.name, t.Name)
	addOnce(&b.description, t.Comment)
	addOnce(&b.owners, t.Owner)
	cols := slices.Clone(t.Columns)
	slices.SortFunc(cols, func(x, y CatalogColumn) int {
		return cmp.Or(cmp.Compare(x.Position, y.Position), strings.Compare(x.Name, y.Name))
	})
	for _, c := range cols {
		addOnce(&b.columns, c.Name+" "+c.Comment+" ")
	}
	return b.doc(id)
}

// insertColumns writes the columns of tables new in this crawl, with
// COPY when cp is set.
func (q queries) insertColumns(ctx context.Context, cols []columnWrite, crawledAt time.Time, cp copier) error {
	if cp == nil || len(cols) == 0 {
		return q.writeColumns(ctx, cols, crawledAt, false)
	}
	rows := make([][]any, len(cols))
	for i, w := range cols {
		c := w.col
		rows[i] = []any{w.tableID, c.Name, int64(c.Position), c.DataType, c.Nullable, c.Default, c.Comment, crawledAt}
	}
	err := cp(ctx, "catalog_columns", []string{"table_id", "name", "position", "data_type", "nullable",
		"default_value", "comment", "last_seen_at"}, rows)
	if err != nil {
		return fmt.Errorf("write columns: %w", err)
	}
	return nil
}

// writeColumns writes columns: those without RemovedAt as seen at
// crawledAt, the others as they are. Unless upsert is set, none may be
// stored yet.
func (q queries) writeColumns(ctx context.Context, cols []columnWrite, crawledAt time.Time, upsert bool) error {
	types := []string{"bigint", "text", "bigint", "text", "boolean", "text", "text", "timestamptz", "timestamptz"}
	stmts := q.batchStmts()
	defer stmts.Close()
	for batch := range slices.Chunk(cols, q.batchRows(len(types))) {
		values := make([][]any, len(batch))
		for i, w := range batch {
			c := w.col
			lastSeen := crawledAt
			if !c.RemovedAt.IsZero() {
				lastSeen = c.LastSeenAt
			}
			values[i] = []any{w.tableID, c.Name, c.Position, c.DataType, c.Nullable, c.Default, c.Comment,
				q.t(lastSeen), q.t(c.RemovedAt)}
		}
		var a args
		query := `INSERT INTO catalog_columns (table_id, name, position, data_type, nullable,
				default_value, comment, last_seen_at, removed_at)
			` + q.rowSource(&a, types, values)
		if upsert {
			query += `
			ON CONFLICT (table_id, name) DO UPDATE SET
				position = excluded.position, data_type = excluded.data_type, nullable = excluded.nullable,
				default_value = excluded.default_value, comment = excluded.comment,
				last_seen_at = excluded.last_seen_at, removed_at = excluded.removed_at`
		}
		err := stmts.exec(ctx, query, a...)
		if err != nil {
			return fmt.Errorf("write columns: %w", err)
		}
	}
	return nil
}

// updateIn runs prefix followed by a list of ids, in batches; the list's
// placeholders follow those of fixed, which prefix uses each once, in
// order.
func (q queries) updateIn(ctx context.Context, prefix string, ids []int64, fixed ...any) error {
	if len(ids) == 0 {
		return nil
	}
	if q.dialect == Postgres {
		a := args(slices.Clone(fixed))
		_, err := q.exec(ctx, prefix+"(SELECT unnest("+a.add(ids)+"::bigint[]))", a...)
		return err
	}
	for batch := range slices.Chunk(ids, q.maxParams()-len(fixed)) {
		a := args(slices.Clone(fixed))
		ph := make([]string, len(batch))
		for i, id := range batch {
			ph[i] = q.bind(&a, id)
		}
		if _, err := q.exec(ctx, prefix+"("+strings.Join(ph, ", ")+")", a...); err != nil {
			return err
		}
	}
	return nil
}

const crawlColumns = `id, warehouse, started_at, finished_at, status, error, tables_seen, added, changed, removed`

func scanCrawl(sc interface{ Scan(...any) error }) (Crawl, error) {
	var c Crawl
	err := sc.Scan(&c.ID, &c.Warehouse, scanTime(&c.StartedAt), scanTime(&c.FinishedAt), &c.Status, &c.Error,
		&c.TablesSeen, &c.Added, &c.Changed, &c.Removed)
	return c, err
}

func (q queries) recordCrawl(ctx context.Context, p ApplyCrawlParams, c Crawl) (Crawl, error) {
	now, _ := q.nowArg()
	if p.CrawlID != 0 {
		done, err := scanCrawl(q.queryRow(ctx, `UPDATE catalog_crawls
			SET finished_at = $3, status = 'ok', tables_seen = $4, added = $5, changed = $6, removed = $7
			WHERE id = $1 AND warehouse = $2 AND status = 'running' RETURNING `+crawlColumns,
			p.CrawlID, p.Warehouse, now, c.TablesSeen, c.Added, c.Changed, c.Removed))
		if errors.Is(err, sql.ErrNoRows) {
			return Crawl{}, fmt.Errorf("finish crawl %d: no such running crawl of this warehouse: %w", p.CrawlID, ErrNotFound)
		}
		return done, err
	}
	started := p.StartedAt
	if started.IsZero() {
		started = p.CrawledAt
	}
	return scanCrawl(q.queryRow(ctx, `INSERT INTO catalog_crawls
			(warehouse, started_at, finished_at, status, tables_seen, added, changed, removed)
		VALUES ($1, $2, $3, 'ok', $4, $5, $6, $7) RETURNING `+crawlColumns,
		p.Warehouse, q.t(started), now, c.TablesSeen, c.Added, c.Changed, c.Removed))
}

// StartCrawl records a crawl of warehouse as running from now, to be
// finished by [queries.ApplyCrawl] or [queries.FailCrawl].
func (q queries) StartCrawl(ctx context.Context, warehouse string) (Crawl, error) {
	now, _ := q.nowArg()
	c, err := scanCrawl(q.queryRow(ctx, `INSERT INTO catalog_crawls (warehouse, started_at, status)
		VALUES ($1, $2, 'running') RETURNING `+crawlColumns, warehouse, now))
	if err != nil {
		return Crawl{}, wrap(err, "start a crawl of warehouse %q", warehouse)
	}
	return c, nil
}

// FailCrawl records that running crawl id failed with message msg (which
// must hold no secret), or returns ErrNotFound when no such crawl runs.
func (q queries) FailCrawl(ctx context.Context, id int64, msg string) (Crawl, error) {
	now, _ := q.nowArg()
	c, err := scanCrawl(q.queryRow(ctx, `UPDATE catalog_crawls SET finished_at = $2, status = 'error', error = $3
		WHERE id = $1 AND status = 'running' RETURNING `+crawlColumns, id, now, msg))
	if err != nil {
		return Crawl{}, wrap(err, "record the failure of crawl %d", id)
	}
	return c, nil
}

// ListCrawls returns the latest crawls of warehouse, newest first; limit
// defaults to 20 and is capped at 1000.
func (q queries) ListCrawls(ctx context.Context, warehouse string, limit int) ([]Crawl, error) {
	if limit <= 0 {
		limit = 20
	}
	limit = min(limit, 1000)
	rows, err := q.query(ctx, `SELECT `+crawlColumns+` FROM catalog_crawls WHERE warehouse = $1
		ORDER BY id DESC LIMIT $2`, warehouse, limit)
	if err != nil {
		return nil, wrap(err, "list crawls of warehouse %q", warehouse)
	}
	list, err := collect(rows, scanCrawl)
	if err != nil {
		return nil, wrap(err, "list crawls of warehouse %q", warehouse)
	}
	return list, nil
}

// LatestCrawl returns the latest crawl of warehouse, whatever its status,
// or ErrNotFound when it was never crawled.
func (q queries) LatestCrawl(ctx context.Context, warehouse string) (Crawl, error) {
	c, err := scanCrawl(q.queryRow(ctx, `SELECT `+crawlColumns+` FROM catalog_crawls WHERE warehouse = $1
		ORDER BY id DESC LIMIT 1`, warehouse))
	if err != nil {
		return Crawl{}, wrap(err, "get the latest crawl of warehouse %q", warehouse)
	}
	return c, nil
}

// CatalogTableKeys returns the id and name of every table of the given
// warehouses (none: of all), removed ones included, ordered by id.
func (q queries) CatalogTableKeys(ctx context.Context, warehouses ...string) ([]CatalogTableRef, error) {
	var a args
	query := `SELECT id, warehouse, database_name, schema_name, name, removed_at IS NOT NULL FROM catalog_tables`
	if len(warehouses) > 0 {
		query += ` WHERE warehouse IN (` + a.list(warehouses) + `)`
	}
	rows, err := q.query(ctx, query+` ORDER BY id`, a...)
	if err != nil {
		return nil, wrap(err, "list catalog table names")
	}
	list, err := collect(rows, func(sc interface{ Scan(...any) error }) (CatalogTableRef, error) {
		var r CatalogTableRef
		err := sc.Scan(&r.ID, &r.Warehouse, &r.Database, &r.Schema, &r.Name, &r.Removed)
		return r, err
	})
	if err != nil {
		return nil, wrap(err, "list catalog table names")
	}
	return list, nil
}

// list adds every value and returns their placeholders, comma-separated.
func (a *args) list(values []string) string {
	ph := make([]string, len(values))
	for i, v := range values {
		ph[i] = a.add(v)
	}
	return strings.Join(ph, ", ")
}

const tableColumns = `t.id, t.warehouse, t.database_name, t.schema_name, t.name, t.kind, t.comment, t.owner,
	t.row_estimate, t.size_bytes, t.user_description, t.first_seen_at, t.last_seen_at, t.removed_at, t.updated_at`

func scanTable(sc interface{ Scan(...any) error }) (CatalogTable, error) {
	var (
		t             CatalogTable
		rowEst, bytes sql.Null[int64]
	)
	err := sc.Scan(&t.ID, &t.Warehouse, &t.Database, &t.Schema, &t.Name, &t.Kind, &t.Comment, &t.Owner,
		&rowEst, &bytes, &t.UserDescription, scanTime(&t.FirstSeenAt), scanTime(&t.LastSeenAt),
		scanTime(&t.RemovedAt), scanTime(&t.UpdatedAt))
	t.RowEstimate, t.SizeBytes = nullPtr(rowEst), nullPtr(bytes)
	return t, err
}

// columnColumns are the columns of catalog_columns c as stored. A present
// column was seen when its table was, so its last_seen_at is not written
// by every crawl (which would rewrite every column of the warehouse), only
// when the column is written: read it with columnLastSeen. A removed
// column's last_seen_at is when its table was last seen with it.
const columnColumns = `c.name, c.position, c.data_type, c.nullable, c.default_value, c.comment,
	c.user_description, c.last_seen_at, c.removed_at`

// columnLastSeen replaces c.last_seen_at in columnColumns, for reads that
// join the table t.
var columnLastSeen = strings.NewReplacer("c.last_seen_at",
	"CASE WHEN c.removed_at IS NULL THEN t.last_seen_at ELSE c.last_seen_at END").Replace(columnColumns)

// scanColumn reads columnColumns, after the table id when tableID is set.
func scanColumn(sc interface{ Scan(...any) error }, tableID *int64) (CatalogColumn, error) {
	var c CatalogColumn
	dst := []any{&c.Name, &c.Position, &c.DataType, &c.Nullable, &c.Default, &c.Comment,
		&c.UserDescription, scanTime(&c.LastSeenAt), scanTime(&c.RemovedAt)}
	if tableID != nil {
		dst = append([]any{tableID}, dst...)
	}
	err := sc.Scan(dst...)
	return c, err
}

// GetCatalogTable returns table id with its columns, present ones first in
// position order, then removed ones; or ErrNotFound.
func (q queries) GetCatalogTable(ctx context.Context, id int64) (CatalogTable, error) {
	t, err := scanTable(q.queryRow(ctx, `SELECT `+tableColumns+` FROM catalog_tables t WHERE t.id = $1`, id))
	if err != nil {
		return CatalogTable{}, wrap(err, "get catalog table %d", id)
	}
	rows, err := q.query(ctx, `SELECT `+columnLastSeen+` FROM catalog_columns c
		JOIN catalog_tables t ON t.id = c.table_id WHERE c.table_id = $1
		ORDER BY c.removed_at IS NOT NULL, c.position, c.name`, id)
	if err != nil {
		return CatalogTable{}, wrap(err, "get the columns of catalog table %d", id)
	}
	t.Columns, err = collect(rows, func(sc interface{ Scan(...any) error }) (CatalogColumn, error) { return scanColumn(sc, nil) })
	if err != nil {
		return CatalogTable{}, wrap(err, "get the columns of catalog table %d", id)
	}
	return t, nil
}

// FindCatalogTables resolves a table reference as a user types it:
// "name", "schema.name", "database.schema.name", each optionally after
// "warehouse:", case-insensitively. Every table that fits is returned
// (several when the reference is ambiguous), present ones first, without
// columns; none is ErrNotFound.
func (q queries) FindCatalogTables(ctx context.Context, ref string) ([]CatalogTable, error) {
	var (
		a    args
		cond []string
	)
	rest := strings.TrimSpace(ref)
	if wh, r, ok := strings.Cut(rest, ":"); ok {
		cond = append(cond, "lower(t.warehouse) = lower("+a.add(wh)+")")
		rest = r
	}
	parts := strings.Split(rest, ".")
	if len(parts) > 3 || slices.Contains(parts, "") {
		return nil, fmt.Errorf("store: find table %q: write name, schema.name, database.schema.name or warehouse:database.schema.name", ref)
	}
	fields := []string{"t.name", "t.schema_name", "t.database_name"}
	for i, part := range slices.Backward(parts) {
		cond = append(cond, "lower("+fields[len(parts)-1-i]+") = lower("+a.add(part)+")")
	}
	rows, err := q.query(ctx, `SELECT `+tableColumns+` FROM catalog_tables t WHERE `+strings.Join(cond, " AND ")+`
		ORDER BY t.removed_at IS NOT NULL, t.warehouse, t.database_name, t.schema_name, t.name`, a...)
	if err != nil {
		return nil, wrap(err, "find table %q", ref)
	}
	list, err := collect(rows, scanTable)
	if err != nil {
		return nil, wrap(err, "find table %q", ref)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("store: find table %q: %w", ref, ErrNotFound)
	}
	return list, nil
}

// ListTablesParams selects tables for [queries.ListCatalogTables]. Names
// compare case-insensitively; empty fields do not filter.
type ListTablesParams struct {
	Warehouse  string
	Database   string
	Schema     string
	Kind       string
	NamePrefix string
	// IncludeRemoved lists removed tables too.
	IncludeRemoved bool
	// IDs, when not nil, restricts the listing to these tables: the hook
	// for filters computed elsewhere (an empty non-nil slice lists none).
	IDs []int64
	// Filters on the dbt nodes matched to the table, in any scope: a tag
	// of the node (not of its columns), its owner, a data test attached
	// to it whose latest result is fail or error.
	Tag          string
	Owner        string
	FailingTests bool
	// Keyset paging: tables with an id above AfterID, in id order; Limit
	// defaults to 100 and is capped at 1000.
	AfterID int64
	Limit   int
}

// ListCatalogTables returns the tables p selects, in id order, without
// columns.
func (q queries) ListCatalogTables(ctx context.Context, p ListTablesParams) ([]CatalogTable, error) {
	var (
		a    args
		cond []string
	)
	eq := func(column, v string) {
		if v != "" {
			cond = append(cond, "lower("+column+") = lower("+a.add(v)+")")
		}
	}
	eq("t.warehouse", p.Warehouse)
	eq("t.database_name", p.Database)
	eq("t.schema_name", p.Schema)
	if p.Kind != "" {
		cond = append(cond, "t.kind = "+a.add(p.Kind))
	}
	if p.NamePrefix != "" {
		cond = append(cond, `lower(t.name) LIKE `+a.add(likePrefix(strings.ToLower(p.NamePrefix)))+` ESCAPE '\'`)
	}
	if !p.IncludeRemoved {
		cond = append(cond, "t.removed_at IS NULL")
	}
	if p.IDs != nil {
		if len(p.IDs) == 0 {
			return []CatalogTable{}, nil
		}
		ph := make([]string, len(p.IDs))
		for i, id := range p.IDs {
			ph[i] = q.bind(&a, id)
		}
		cond = append(cond, "t.id IN ("+strings.Join(ph, ", ")+")")
	}
	if p.Tag != "" {
		cond = append(cond, `EXISTS (SELECT 1 FROM catalog_nodes n JOIN catalog_node_tags g ON g.node_id = n.id
			WHERE n.table_id = t.id AND g.column_name = '' AND g.tag = `+a.add(p.Tag)+`)`)
	}
	if p.Owner != "" {
		cond = append(cond, `EXISTS (SELECT 1 FROM catalog_nodes n
			WHERE n.table_id = t.id AND lower(n.owner) = lower(`+a.add(p.Owner)+`))`)
	}
	if p.FailingTests {
		cond = append(cond, `EXISTS (SELECT 1 FROM catalog_nodes n JOIN catalog_tests ct
			ON ct.scope_id = n.scope_id AND ct.attached_unique_id = n.unique_id
			WHERE n.table_id = t.id AND ct.status IN ('fail', 'error'))`)
	}
	if p.AfterID > 0 {
		cond = append(cond, "t.id > "+a.add(p.AfterID))
	}
	limit := cmp.Or(p.Limit, 100)
	limit = min(limit, 1000)
	query := `SELECT ` + tableColumns + ` FROM catalog_tables t`
	if len(cond) > 0 {
		query += ` WHERE ` + strings.Join(cond, " AND ")
	}
	rows, err := q.query(ctx, query+` ORDER BY t.id LIMIT `+a.add(limit), a...)
	if err != nil {
		return nil, wrap(err, "list catalog tables")
	}
	list, err := collect(rows, scanTable)
	if err != nil {
		return nil, wrap(err, "list catalog tables")
	}
	return list, nil
}

// likePrefix is the LIKE pattern (with ESCAPE '\') of the values starting
// with s.
func likePrefix(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s) + "%"
}

// SetTableDescription sets the user's description of table id (empty
// clears it), which no crawl or sync overwrites, and refreshes its search
// document; an unknown id is ErrNotFound.
func (q queries) SetTableDescription(ctx context.Context, id int64, text string) error {
	err := q.atomic(ctx, func(q queries) error {
		now, _ := q.nowArg()
		if err := q.execOne(ctx, `UPDATE catalog_tables SET user_description = $2, updated_at = $3 WHERE id = $1`, id, text, now); err != nil {
			return err
		}
		return q.refreshTableSearch(ctx, []int64{id})
	})
	if err != nil {
		return wrap(err, "set the description of catalog table %d", id)
	}
	return nil
}

// SetColumnDescription sets the user's description of column (its exact
// name) of table id, as SetTableDescription does for tables; an unknown
// table or column is ErrNotFound.
func (q queries) SetColumnDescription(ctx context.Context, id int64, column, text string) error {
	err := q.atomic(ctx, func(q queries) error {
		if err := q.execOne(ctx, `UPDATE catalog_columns SET user_description = $3 WHERE table_id = $1 AND name = $2`, id, column, text); err != nil {
			return err
		}
		return q.refreshTableSearch(ctx, []int64{id})
	})
	if err != nil {
		return wrap(err, "set the description of column %q of catalog table %d", column, id)
	}
	return nil
}
