package warehouse

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
)

// redshiftFixture makes PostgreSQL look like Redshift to the crawl: a data
// schema with real relations, and a schema holding views named and shaped
// like Redshift's system views (svv_tables, svv_columns, svv_table_info,
// svv_external_tables, svv_mv_info) over the data schema. The crawl names
// those views without a schema, so putting the look-alike schema on
// search_path (Config.Options) points it there; on Redshift they resolve
// from pg_catalog, which comes first. It returns the two schemas.
func redshiftFixture(t *testing.T, conn *pgx.Conn) (data, system string) {
	t.Helper()
	data = testSchema(t, conn, "wh_rsdata_")
	system = testSchema(t, conn, "wh_rssys_")
	r := strings.NewReplacer("D.", data+".", "S.", system+".", "'D'", "'"+data+"'")
	exec(t, conn, r.Replace(`
		CREATE TABLE D.orders (id bigint NOT NULL, customer varchar(30) DEFAULT 'anon', amount numeric(12,2));
		COMMENT ON TABLE D.orders IS 'All orders';
		COMMENT ON COLUMN D.orders.customer IS 'who ordered';
		CREATE VIEW D.big_orders AS SELECT id, amount FROM D.orders WHERE amount > 100;
		COMMENT ON VIEW D.big_orders IS 'Orders over 100';
		CREATE MATERIALIZED VIEW D.mv_totals AS SELECT customer, count(*) AS n FROM D.orders GROUP BY customer;
		CREATE TABLE D.ext_events (at date);
		CREATE TABLE D.ext_only (line text);

		CREATE VIEW S.svv_tables AS
			SELECT current_database()::text AS table_catalog, n.nspname::text AS table_schema, c.relname::text AS table_name,
				CASE WHEN c.relkind IN ('v', 'm') THEN 'VIEW' WHEN c.relname = 'ext_events' THEN 'EXTERNAL TABLE' ELSE 'BASE TABLE' END AS table_type,
				obj_description(c.oid, 'pg_class')::text AS remarks
			FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = 'D' AND c.relkind IN ('r', 'v', 'm') AND c.relname <> 'ext_only';
		CREATE VIEW S.svv_columns AS
			SELECT current_database()::text AS table_catalog, n.nspname::text AS table_schema, c.relname::text AS table_name,
				a.attname::text AS column_name, a.attnum::int AS ordinal_position, format_type(a.atttypid, NULL) AS data_type,
				CASE WHEN a.atttypid = 'varchar'::regtype AND a.atttypmod > 0 THEN a.atttypmod - 4 END AS character_maximum_length,
				CASE WHEN a.atttypid = 'numeric'::regtype AND a.atttypmod > 0 THEN ((a.atttypmod - 4) >> 16) & 65535 END AS numeric_precision,
				CASE WHEN a.atttypid = 'numeric'::regtype AND a.atttypmod > 0 THEN (a.atttypmod - 4) & 65535 END AS numeric_scale,
				CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END AS is_nullable,
				pg_get_expr(ad.adbin, ad.adrelid) AS column_default, col_description(c.oid, a.attnum)::text AS remarks
			FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
			LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
			WHERE n.nspname = 'D' AND a.attnum > 0 AND NOT a.attisdropped;
		CREATE VIEW S.svv_external_tables AS
			SELECT * FROM (VALUES ('D'::text, 'ext_events'::text, 's3://bucket/events/'::text), ('D', 'ext_only', 's3://bucket/only/'))
				AS v(schemaname, tablename, location);
		CREATE VIEW S.svv_mv_info AS
			SELECT current_database()::text AS database_name, 'D'::text AS schema_name, 'postgres'::text AS user_name, 'mv_totals'::text AS name;
		CREATE VIEW S.svv_table_info AS
			SELECT current_database()::text AS database, 'D'::text AS schema, 'D.orders'::regclass::oid AS table_id, 'orders'::text AS table,
				1234::numeric(38,0) AS tbl_rows, 5::bigint AS size;
	`))
	return data, system
}

func TestRedshiftCrawl(t *testing.T) {
	dsn, conn := testPostgres(t)
	data, system := redshiftFixture(t, conn)
	var db, user string
	if err := conn.QueryRow(t.Context(), `SELECT current_database(), current_user`).Scan(&db, &user); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Name: "rs", Type: Redshift, DSN: dsn, Options: map[string]string{"search_path": system}}
	got := crawlAll(t, cfg, "", Filter{IncludeSchemas: []string{data}})
	want := []Table{
		{Database: db, Schema: data, Name: "big_orders", Kind: KindView, Owner: user, Comment: "Orders over 100", Columns: []Column{
			{Name: "id", Position: 1, DataType: "bigint", Nullable: true},
			{Name: "amount", Position: 2, DataType: "numeric(12,2)", Nullable: true},
		}},
		{Database: db, Schema: data, Name: "ext_events", Kind: KindExternal, Owner: user, Columns: []Column{
			{Name: "at", Position: 1, DataType: "date", Nullable: true},
		}},
		{Database: db, Schema: data, Name: "ext_only", Kind: KindExternal, Owner: user, Columns: []Column{
			{Name: "line", Position: 1, DataType: "text", Nullable: true},
		}},
		{Database: db, Schema: data, Name: "mv_totals", Kind: KindMaterializedView, Owner: user, Columns: []Column{
			{Name: "customer", Position: 1, DataType: "character varying(30)", Nullable: true},
			{Name: "n", Position: 2, DataType: "bigint", Nullable: true},
		}},
		{Database: db, Schema: data, Name: "orders", Kind: KindTable, Owner: user, Comment: "All orders",
			RowEstimate: ptr[int64](1234), SizeBytes: ptr[int64](5 << 20), Columns: []Column{
				{Name: "id", Position: 1, DataType: "bigint", Nullable: false},
				{Name: "customer", Position: 2, DataType: "character varying(30)", Nullable: true, Default: "'anon'::character varying", Comment: "who ordered"},
				{Name: "amount", Position: 3, DataType: "numeric(12,2)", Nullable: true},
			}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("crawl (-want +got):\n%s", diff)
	}

	got = crawlAll(t, cfg, "", Filter{IncludeSchemas: []string{data}, ExcludeTables: []string{"ext_*"}})
	if diff := cmp.Diff([]string{data + ".big_orders", data + ".mv_totals", data + ".orders"}, names(got)); diff != "" {
		t.Errorf("filtered crawl (-want +got):\n%s", diff)
	}
	if got := crawlAll(t, cfg, "", Filter{IncludeSchemas: []string{"other_db." + data}}); len(got) != 0 {
		t.Errorf("crawl of another database's schema found %v", names(got))
	}

	// Without svv_mv_info, a materialized view is reported as a view.
	exec(t, conn, `DROP VIEW `+system+`.svv_mv_info`)
	if got := crawlAll(t, cfg, "", Filter{IncludeSchemas: []string{data}, IncludeTables: []string{"mv_totals"}}); len(got) != 1 || got[0].Kind != KindView {
		t.Errorf("without svv_mv_info, the crawl of mv_totals found %+v, want one view", got)
	}

	a, _ := Lookup(Redshift)
	c, err := a.Open(t.Context(), Config{Name: "rs", Type: Redshift, DSN: dsn, Options: cfg.Options, Filter: Filter{IncludeSchemas: []string{data}}}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	info, err := c.Test(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if info.Type != Redshift || info.CurrentDatabase != db || info.CurrentUser != user || info.Schemas != 1 || info.Tables != 4 {
		t.Errorf("info = %+v, want 1 schema and the 4 relations svv_tables lists", info)
	}
}

func TestRedshiftType(t *testing.T) {
	tests := []struct {
		dataType          string
		length, prec, scl *int
		want              string
	}{
		{"character varying", ptr(256), nil, nil, "character varying(256)"},
		{"character", ptr(1), nil, nil, "character(1)"},
		{"numeric", nil, ptr(18), ptr(0), "numeric(18,0)"},
		{"numeric", nil, nil, nil, "numeric"},
		{"integer", nil, ptr(32), ptr(0), "integer"},
		{"timestamp without time zone", nil, nil, nil, "timestamp without time zone"},
		{"super", nil, nil, nil, "super"},
	}
	for _, tt := range tests {
		if got := redshiftType(tt.dataType, tt.length, tt.prec, tt.scl); got != tt.want {
			t.Errorf("redshiftType(%q) = %q, want %q", tt.dataType, got, tt.want)
		}
	}
	for in, want := range map[string]Kind{"BASE TABLE": KindTable, "VIEW": KindView, "EXTERNAL TABLE": KindExternal, "view": KindView} {
		if got := redshiftKind(in); got != want {
			t.Errorf("redshiftKind(%q) = %q, want %q", in, got, want)
		}
	}
}
