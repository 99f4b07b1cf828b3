package warehouse

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
)

func init() {
	register(pgAdapter{typ: Postgres})
	register(pgAdapter{typ: Redshift})
}

// pgAdapter serves PostgreSQL and Redshift, which speak the same protocol
// and differ in their catalogs.
type pgAdapter struct{ typ Type }

func (a pgAdapter) Type() Type { return a.typ }

// defaultConnectTimeout bounds a connection attempt when the
// configuration does not set connect_timeout.
const defaultConnectTimeout = 15 * time.Second

func (a pgAdapter) Open(ctx context.Context, cfg Config, secret string) (Conn, error) {
	if cfg.Type != a.typ {
		return nil, fmt.Errorf("warehouse %s: is of type %q, not %q", cfg.Name, cfg.Type, a.typ)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pc, err := pgx.ParseConfig(cfg.connString())
	if err != nil {
		return nil, fmt.Errorf("warehouse %s: read the connection settings: %w", cfg.Name, redact(err, secret))
	}
	if secret != "" {
		pc.Password = secret
	}
	if pc.ConnectTimeout == 0 {
		pc.ConnectTimeout = defaultConnectTimeout
	}
	if _, ok := pc.RuntimeParams["application_name"]; !ok {
		pc.RuntimeParams["application_name"] = "dbtlink"
	}
	if a.typ == Redshift {
		// Redshift and the poolers in front of it handle the simple
		// protocol best; it also avoids pgx describing every statement.
		pc.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	}
	c := &pgConn{cfg: cfg, pc: pc, secret: secret, redshift: a.typ == Redshift}
	c.conn, err = c.connect(ctx, pc)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// pgConn is a connection to PostgreSQL or Redshift.
type pgConn struct {
	cfg      Config
	pc       *pgx.ConnConfig // holds the password: never print it
	secret   string
	redshift bool
	conn     *pgx.Conn
}

func (c *pgConn) connect(ctx context.Context, pc *pgx.ConnConfig) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, pc)
	if err != nil {
		host := pc.Host + ":" + strconv.Itoa(int(pc.Port))
		return nil, diagnosePG(c.cfg.Name, host, pc.Database, err, c.secret)
	}
	return conn, nil
}

func (c *pgConn) Close() error {
	if c.conn == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := c.conn.Close(ctx)
	c.conn = nil
	return redact(err, c.secret)
}

// fail wraps err with what was being done, the secret removed.
func (c *pgConn) fail(what string, err error) error {
	return fmt.Errorf("warehouse %s: %s: %w", c.cfg.Name, what, redact(err, c.secret))
}

func (c *pgConn) Test(ctx context.Context) (Info, error) {
	m, err := compileFilter(c.cfg.Filter)
	if err != nil {
		return Info{}, fmt.Errorf("warehouse %s: %w", c.cfg.Name, err)
	}
	info := Info{Type: Postgres}
	if c.redshift {
		info.Type = Redshift
	}
	err = c.conn.QueryRow(ctx, `SELECT version(), current_user, current_database()`).
		Scan(&info.ServerVersion, &info.CurrentUser, &info.CurrentDatabase)
	if err != nil {
		return Info{}, c.fail("read the server version", err)
	}
	rows, err := c.conn.Query(ctx, `SELECT datname FROM pg_database ORDER BY datname`)
	if err != nil {
		return Info{}, c.fail("list databases", err)
	}
	dbs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return Info{}, c.fail("list databases", err)
	}
	for _, d := range dbs {
		// Templates and Redshift's internal database cannot be crawled.
		if d != "template0" && d != "template1" && d != "padb_harvest" {
			info.Databases = append(info.Databases, d)
		}
	}
	rows, err = c.conn.Query(ctx, `SELECT nspname FROM pg_namespace`)
	if err != nil {
		return Info{}, c.fail("list schemas", err)
	}
	schemas, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return Info{}, c.fail("list schemas", err)
	}
	for _, s := range schemas {
		if m.schema(info.CurrentDatabase, s) {
			info.Schemas++
		}
	}
	q := `SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition`
	if c.redshift {
		q = `SELECT table_schema, table_name FROM svv_tables WHERE table_catalog = current_database()`
	}
	rows, err = c.conn.Query(ctx, q)
	if err != nil {
		return Info{}, c.fail("count tables", err)
	}
	var s, t string
	_, err = pgx.ForEachRow(rows, []any{&s, &t}, func() error {
		if m.table(info.CurrentDatabase, s, t) {
			info.Tables++
		}
		return nil
	})
	if err != nil {
		return Info{}, c.fail("count tables", err)
	}
	return info, nil
}

func (c *pgConn) Crawl(ctx context.Context, f Filter, fn func(Table) error) error {
	m, err := compileFilter(f)
	if err != nil {
		return fmt.Errorf("warehouse %s: %w", c.cfg.Name, err)
	}
	crawl := c.crawlPostgres
	if c.redshift {
		crawl = c.crawlRedshift
	}
	if err := crawl(ctx, c.conn, m, fn); err != nil {
		return err
	}
	for _, db := range c.cfg.Databases {
		if db == c.pc.Database {
			continue
		}
		pc := c.pc.Copy()
		pc.Database = db
		conn, err := c.connect(ctx, pc)
		if err != nil {
			return err
		}
		err = crawl(ctx, conn, m, fn)
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = conn.Close(cctx)
		cancel()
		if err != nil {
			return err
		}
	}
	return nil
}

// pgRel is a relation read by the first crawl query, waiting for its
// columns.
type pgRel struct {
	oid   uint32
	table Table
}

// crawlPostgres crawls the database conn is connected to in two queries
// (relations, then all their columns) inside one read-only transaction,
// so both see the same catalog.
func (c *pgConn) crawlPostgres(ctx context.Context, conn *pgx.Conn, m *matcher, fn func(Table) error) (err error) {
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return c.fail("begin the crawl", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	var db string
	var version, blockSize int
	if err := tx.QueryRow(ctx, `SELECT current_database(), current_setting('server_version_num')::int, current_setting('block_size')::int`).
		Scan(&db, &version, &blockSize); err != nil {
		return c.fail("read the database name", err)
	}
	where, args, none := pgSchemaWhere(m, db)
	if none {
		return nil
	}
	// Catalog queries gain nothing from parallel workers, which are slow
	// to start on a busy server.
	if _, err := tx.Exec(ctx, `SET LOCAL max_parallel_workers_per_gather = 0`); err != nil {
		return c.fail("set max_parallel_workers_per_gather", err)
	}

	// Row estimates are reltuples: from PostgreSQL 14 it is -1 when the
	// table was never vacuumed or analyzed and 0 means empty; before, 0
	// also meant unknown.
	minRows := float32(0)
	if version < 140000 {
		minRows = 1
	}
	rows, err := tx.Query(ctx, pgRelQuery(version, where), args...)
	if err != nil {
		return c.fail("list tables of "+db, err)
	}
	type partSum struct {
		rows, size int64
		known      bool
	}
	var (
		rels         []pgRel
		index        = map[uint32]int{}
		parts        = map[uint32]*partSum{} // by partition root
		oid          uint32
		root         *uint32
		schema, name string
		kind, owner  string
		comment      *string
		reltuples    float32
		pages        int64
		isPartition  bool
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &schema, &name, &kind, &owner, &comment, &reltuples, &pages, &isPartition, &root}, func() error {
		known := reltuples >= minRows && (kind == "r" || kind == "m")
		if isPartition {
			// A partition is reported in its root's sums, not on its own.
			if root != nil && known {
				s := parts[*root]
				if s == nil {
					s = &partSum{}
					parts[*root] = s
				}
				s.rows += int64(reltuples)
				s.size += pages * int64(blockSize)
				s.known = true
			}
			return nil
		}
		if !m.table(db, schema, name) {
			return nil
		}
		t := Table{Database: db, Schema: schema, Name: name, Kind: pgKind(kind), Owner: owner, Comment: deref(comment)}
		if known {
			t.RowEstimate = ptr(int64(reltuples))
			t.SizeBytes = ptr(pages * int64(blockSize))
		} else if kind == "f" && reltuples >= minRows {
			t.RowEstimate = ptr(int64(reltuples))
		}
		index[oid] = len(rels)
		rels = append(rels, pgRel{oid: oid, table: t})
		return nil
	})
	if err != nil {
		return c.fail("list tables of "+db, err)
	}
	for rootOID, s := range parts {
		if i, ok := index[rootOID]; ok && s.known {
			rels[i].table.RowEstimate = ptr(s.rows)
			rels[i].table.SizeBytes = ptr(s.size)
		}
	}

	colQuery := pgColumnQuery(version, where)
	rows, err = tx.Query(ctx, colQuery, args...)
	if err != nil {
		return c.fail("list columns of "+db, err)
	}
	// The columns come in no particular order: sorting 400,000 rows on
	// the server took longer than the rest of the crawl. Each is added to
	// its relation (found by oid), and the relations, already in name
	// order, are handed to fn once all columns are in. Types and defaults
	// repeat across tables, so they are interned.
	intern := map[string]string{}
	internStr := func(s string) string {
		if v, ok := intern[s]; ok {
			return v
		}
		intern[s] = s
		return s
	}
	var (
		col              Column
		attnum           int16
		notNull          bool
		defExpr, colDesc *string
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &col.Name, &attnum, &col.DataType, &notNull, &defExpr, &colDesc}, func() error {
		i, ok := index[oid]
		if !ok {
			return nil
		}
		col.Position = int(attnum)
		col.Nullable = !notNull
		col.DataType = internStr(col.DataType)
		col.Default, col.Comment = internStr(deref(defExpr)), deref(colDesc)
		rels[i].table.Columns = append(rels[i].table.Columns, col)
		return nil
	})
	if err != nil {
		return c.fail("list columns of "+db, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return c.fail("end the crawl", err)
	}
	for i := range rels {
		r := &rels[i]
		if !slices.IsSortedFunc(r.table.Columns, byPosition) {
			slices.SortFunc(r.table.Columns, byPosition)
		}
		if err := fn(r.table); err != nil {
			return err
		}
		r.table = Table{} // let the collector have it
	}
	return nil
}

func byPosition(a, b Column) int { return cmp.Compare(a.Position, b.Position) }

func ptr[T any](v T) *T { return &v }

func copyPtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func pgKind(relkind string) Kind {
	switch relkind {
	case "v":
		return KindView
	case "m":
		return KindMaterializedView
	case "f":
		return KindForeign
	}
	return KindTable // r, p
}

// pgSchemaWhere is the SQL condition on n.nspname for the filter's
// schema patterns that apply to db, and its arguments. System schemas are
// always left out. Globs outside ASCII are left to the filter in Go, since
// the server's lower() may fold them differently. none reports that the
// filter admits nothing in db.
func pgSchemaWhere(m *matcher, db string) (where string, args []any, none bool) {
	conds := []string{
		`n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')`,
		`n.nspname NOT LIKE 'pg\_temp\_%'`,
		`n.nspname NOT LIKE 'pg\_toast\_temp\_%'`,
	}
	include, exclude, none := m.schemaGlobs(db)
	if none {
		return "", nil, true
	}
	likes := func(globs []string) ([]string, bool) {
		var out []string
		for _, g := range globs {
			if strings.IndexFunc(g, func(r rune) bool { return r > unicode.MaxASCII }) >= 0 {
				return nil, false
			}
			out = append(out, likePattern(g))
		}
		return out, true
	}
	if ls, ok := likes(include); ok && len(ls) > 0 {
		args = append(args, ls)
		conds = append(conds, `lower(n.nspname) LIKE ANY($`+strconv.Itoa(len(args))+`::text[])`)
	}
	// An exclude glob outside ASCII is simply not pushed down.
	var ex []string
	for _, g := range exclude {
		if ls, ok := likes([]string{g}); ok {
			ex = append(ex, ls...)
		}
	}
	if len(ex) > 0 {
		args = append(args, slices.Clip(ex))
		conds = append(conds, `NOT lower(n.nspname) LIKE ANY($`+strconv.Itoa(len(args))+`::text[])`)
	}
	return strings.Join(conds, " AND "), args, false
}

// pgRelQuery lists the relations of the schemas where admits, partitions
// included (with their root, PostgreSQL 12) so that a partitioned table
// can report the sums of its partitions, as it keeps no rows or storage of
// its own.
//
// Sizes come from the statistics, like row estimates: relpages of the
// table, its TOAST table and all their indexes (times the block size), as
// of the last VACUUM, ANALYZE or CREATE INDEX. pg_total_relation_size
// would be exact but opens every relation: 3 s of the server's time for
// 20,000 tables (bench/crawlbench), against 0.3 s for the statistics.
// Index pages are summed in one pass over pg_index, not per relation.
func pgRelQuery(version int, where string) string {
	root := "NULL::oid"
	if version >= 120000 {
		root = "CASE WHEN c.relispartition THEN pg_partition_root(c.oid)::oid END"
	}
	return `WITH ix AS (
			SELECT x.indrelid, sum(i.relpages)::bigint AS pages
			FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid GROUP BY x.indrelid
		)
		SELECT c.oid, n.nspname, c.relname, c.relkind::text, pg_get_userbyid(c.relowner), d.description,
			c.reltuples, c.relpages::bigint + coalesce(t.relpages, 0) + coalesce(ix.pages, 0) + coalesce(tix.pages, 0),
			c.relispartition, ` + root + `
		FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_description d ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0
		LEFT JOIN pg_class t ON t.oid = c.reltoastrelid
		LEFT JOIN ix ON ix.indrelid = c.oid
		LEFT JOIN ix tix ON tix.indrelid = c.reltoastrelid
		WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND ` + where + `
		ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C"`
}

// pgColumnQuery lists the columns of the relations pgRelQuery lists, in
// no particular order.
//
// Defaults are deparsed without naming their table (pg_get_expr(adbin,
// 0)): naming it makes the server open every table with a default, a
// third of the crawl's time. Defaults cannot refer to columns, so the text
// is the same. Generated columns (PostgreSQL 12) can, and keep their
// table; identity columns have no pg_attrdef row and are described.
func pgColumnQuery(version int, where string) string {
	def := `pg_get_expr(ad.adbin, 0)`
	if version >= 120000 {
		def = `CASE WHEN a.attgenerated = 's' THEN 'GENERATED ALWAYS AS (' || pg_get_expr(ad.adbin, ad.adrelid) || ') STORED'
			WHEN a.attidentity = 'a' THEN 'GENERATED ALWAYS AS IDENTITY'
			WHEN a.attidentity = 'd' THEN 'GENERATED BY DEFAULT AS IDENTITY'
			ELSE pg_get_expr(ad.adbin, 0) END`
	}
	return `SELECT a.attrelid, a.attname, a.attnum, format_type(a.atttypid, a.atttypmod), a.attnotnull, ` + def + `, d.description
		FROM pg_attribute a
		JOIN pg_class c ON c.oid = a.attrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
		LEFT JOIN pg_description d ON d.objoid = a.attrelid AND d.classoid = 'pg_class'::regclass AND d.objsubid = a.attnum
		WHERE a.attnum > 0 AND NOT a.attisdropped
		AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition AND ` + where
}
