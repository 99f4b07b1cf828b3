package warehouse

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Redshift connects like PostgreSQL (postgres.go) but its pg_class does not
// know late-binding views, external (Spectrum) tables or sizes, so the
// crawl reads Redshift's own system views:
//
//	svv_tables           tables, views and external tables, with remarks
//	svv_columns          their columns, late-binding views' included
//	svv_external_tables  which relations are external
//	svv_mv_info          which views are materialized
//	svv_table_info       tbl_rows and size (in 1 MB blocks), for tables with data
//	pg_class, pg_user    owners
//
// The system views are named without a schema. On Redshift they live in
// pg_catalog, which is searched first whatever search_path says, so a user
// cannot shadow them; the tests run the crawl against PostgreSQL by putting
// look-alike views in a schema on search_path (see redshift_test.go).
// pg_table_def is not used: it shows only schemas on search_path.
//
// Each query is a plain statement (no transaction): svv_table_info may be
// denied to users without the privilege to see it, and the crawl then goes
// on without sizes and row counts.
func (c *pgConn) crawlRedshift(ctx context.Context, conn *pgx.Conn, m *matcher, fn func(Table) error) error {
	var db string
	if err := conn.QueryRow(ctx, `SELECT current_database()`).Scan(&db); err != nil {
		return c.fail("read the database name", err)
	}
	if _, _, none := m.schemaGlobs(db); none {
		return nil
	}
	type key struct{ schema, name string }
	tables := map[key]*Table{}
	var (
		schema, name, kind string
		remarks            *string
	)
	add := func(schema, name string, kind Kind, comment string) {
		if !m.table(db, schema, name) {
			return
		}
		if t, ok := tables[key{schema, name}]; ok {
			if kind == KindExternal {
				t.Kind = kind
			}
			return
		}
		tables[key{schema, name}] = &Table{Database: db, Schema: schema, Name: name, Kind: kind, Comment: comment}
	}

	rows, err := conn.Query(ctx, `SELECT table_schema, table_name, table_type, remarks FROM svv_tables WHERE table_catalog = current_database()`)
	if err != nil {
		return c.fail("list tables of "+db+" (svv_tables)", err)
	}
	_, err = pgx.ForEachRow(rows, []any{&schema, &name, &kind, &remarks}, func() error {
		add(schema, name, redshiftKind(kind), deref(remarks))
		return nil
	})
	if err != nil {
		return c.fail("list tables of "+db+" (svv_tables)", err)
	}

	rows, err = conn.Query(ctx, `SELECT schemaname, tablename FROM svv_external_tables`)
	if err != nil {
		return c.fail("list external tables of "+db+" (svv_external_tables)", err)
	}
	_, err = pgx.ForEachRow(rows, []any{&schema, &name}, func() error {
		add(schema, name, KindExternal, "")
		return nil
	})
	if err != nil {
		return c.fail("list external tables of "+db+" (svv_external_tables)", err)
	}

	rows, err = conn.Query(ctx, `SELECT schema_name, name FROM svv_mv_info WHERE database_name = current_database()`)
	if err != nil {
		return c.fail("list materialized views of "+db+" (svv_mv_info)", err)
	}
	_, err = pgx.ForEachRow(rows, []any{&schema, &name}, func() error {
		if t, ok := tables[key{schema, name}]; ok {
			t.Kind = KindMaterializedView
		}
		return nil
	})
	if err != nil {
		return c.fail("list materialized views of "+db+" (svv_mv_info)", err)
	}

	var owner string
	rows, err = conn.Query(ctx, `SELECT n.nspname, c.relname, u.usename
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_user u ON u.usesysid = c.relowner
		WHERE c.relkind IN ('r', 'v', 'm')`)
	if err != nil {
		return c.fail("read table owners of "+db, err)
	}
	_, err = pgx.ForEachRow(rows, []any{&schema, &name, &owner}, func() error {
		if t, ok := tables[key{schema, name}]; ok {
			t.Owner = owner
		}
		return nil
	})
	if err != nil {
		return c.fail("read table owners of "+db, err)
	}

	var tblRows, blocks *int64
	rows, err = conn.Query(ctx, `SELECT "schema", "table", tbl_rows::bigint, size::bigint FROM svv_table_info WHERE "database" = current_database()`)
	if err == nil {
		_, err = pgx.ForEachRow(rows, []any{&schema, &name, &tblRows, &blocks}, func() error {
			if t, ok := tables[key{schema, name}]; ok {
				t.RowEstimate = tblRows
				if blocks != nil {
					b := *blocks * redshiftBlockBytes
					t.SizeBytes = &b
				}
			}
			return nil
		})
	}
	if err != nil && !isPermissionDenied(err) {
		return c.fail("read table sizes of "+db+" (svv_table_info)", err)
	}

	var (
		col                    Column
		position               int
		dataType, nullable     string
		charLen, numPrec, numS *int
		def, colRemarks        *string
	)
	rows, err = conn.Query(ctx, `SELECT table_schema, table_name, column_name, ordinal_position, data_type,
		character_maximum_length, numeric_precision, numeric_scale, is_nullable, column_default, remarks
		FROM svv_columns WHERE table_catalog = current_database()`)
	if err != nil {
		return c.fail("list columns of "+db+" (svv_columns)", err)
	}
	_, err = pgx.ForEachRow(rows, []any{&schema, &name, &col.Name, &position, &dataType, &charLen, &numPrec, &numS, &nullable, &def, &colRemarks}, func() error {
		t, ok := tables[key{schema, name}]
		if !ok {
			return nil
		}
		col.Position = position
		col.DataType = redshiftType(dataType, charLen, numPrec, numS)
		col.Nullable = !strings.EqualFold(nullable, "NO")
		col.Default, col.Comment = deref(def), deref(colRemarks)
		t.Columns = append(t.Columns, col)
		return nil
	})
	if err != nil {
		return c.fail("list columns of "+db+" (svv_columns)", err)
	}

	sorted := make([]*Table, 0, len(tables))
	for _, t := range tables {
		slices.SortFunc(t.Columns, func(a, b Column) int { return cmp.Compare(a.Position, b.Position) })
		sorted = append(sorted, t)
	}
	slices.SortFunc(sorted, func(a, b *Table) int {
		return cmp.Or(strings.Compare(a.Schema, b.Schema), strings.Compare(a.Name, b.Name))
	})
	for _, t := range sorted {
		if err := fn(*t); err != nil {
			return err
		}
	}
	return nil
}

// redshiftBlockBytes is the size of the blocks svv_table_info counts.
const redshiftBlockBytes = 1 << 20

func redshiftKind(tableType string) Kind {
	switch strings.ToUpper(tableType) {
	case "VIEW":
		return KindView
	case "EXTERNAL TABLE":
		return KindExternal
	}
	return KindTable
}

// redshiftType writes svv_columns' type with its length or precision, as
// Redshift's DDL does: character varying(256), numeric(18,2).
func redshiftType(dataType string, charLen, precision, scale *int) string {
	switch strings.ToLower(dataType) {
	case "character varying", "character", "varchar", "char", "varbyte", "binary varying":
		if charLen != nil {
			return dataType + "(" + strconv.Itoa(*charLen) + ")"
		}
	case "numeric", "decimal":
		if precision != nil && scale != nil {
			return dataType + "(" + strconv.Itoa(*precision) + "," + strconv.Itoa(*scale) + ")"
		}
	}
	return dataType
}

func isPermissionDenied(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42501"
}
