package sqllineage

import (
	"context"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// summary renders a result as "name: kind table.col, ..." lines, plus
// "filters:" and "reasons:" lines, for compact expectations.
func summary(r *Result) []string {
	var out []string
	for _, c := range r.Columns {
		var s []string
		for _, d := range c.Sources {
			s = append(s, formatSource(d))
		}
		sort.Strings(s)
		if c.Reason != "" {
			s = append(s, "[partial]")
		}
		out = append(out, strings.TrimRight(strings.ToLower(c.Name)+": "+strings.Join(s, ", "), " "))
	}
	if len(r.Filters) > 0 {
		var s []string
		for _, d := range r.Filters {
			s = append(s, formatSource(d))
		}
		sort.Strings(s)
		out = append(out, "filters: "+strings.Join(s, ", "))
	}
	if !r.Complete() {
		out = append(out, "partial")
	}
	return out
}

func schemaOf(tables map[string]string) *MapSchema {
	s := NewMapSchema()
	for t, cols := range tables {
		s.Add(strings.Split(t, "."), splitList(cols))
	}
	return s
}

func TestDialectFeatures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		dialect Dialect
		schema  map[string]string
		sql     string
		want    []string
	}{
		{
			name: "snowflake lateral flatten and path", dialect: Snowflake,
			sql:  `select e.id, f.value:name::string as tag_name, f.index from raw.events e, lateral flatten(input => e.tags) f`,
			want: []string{"id: copy raw.events.id", "tag_name: transform raw.events.tags", "index: transform raw.events.tags"},
		},
		{
			name: "snowflake table(flatten()) and qualify", dialect: Snowflake,
			sql: `select t.id, x.value as v from db.s.t as t, table(flatten(t.arr)) x
			      qualify row_number() over (partition by t.id order by t.ts desc) = 1`,
			want: []string{"id: copy db.s.t.id", "v: transform db.s.t.arr", "filters: filter db.s.t.id, filter db.s.t.ts"},
		},
		{
			name: "snowflake star exclude rename and lateral alias", dialect: Snowflake,
			schema: map[string]string{"s.t": "a, b, c"},
			sql:    `select * exclude (c) rename (a as a2), b * 2 as b2, b2 + 1 as b3 from s.t`,
			want:   []string{"a2: copy s.t.a", "b: copy s.t.b", "b2: transform s.t.b", "b3: transform s.t.b"},
		},
		{
			name: "bigquery star except replace, backtick path and safe_cast", dialect: BigQuery,
			schema: map[string]string{"proj.ds.t": "a, b, c"},
			sql:    "select * except (c) replace (safe_cast(b as int64) as b) from `proj.ds.t`",
			want:   []string{"a: copy proj.ds.t.a", "b: transform proj.ds.t.b"},
		},
		{
			name: "bigquery unnest with offset and struct field", dialect: BigQuery,
			sql:  "select o.id, item.sku, pos from `p`.`d`.`orders` o, unnest(o.items) as item with offset as pos",
			want: []string{"id: copy p.d.orders.id", "sku: transform p.d.orders.items", "pos: transform p.d.orders.items"},
		},
		{
			name: "bigquery double quotes are strings", dialect: BigQuery,
			sql:  `select "a" as x, a from t`,
			want: []string{"x:", "a: copy t.a"},
		},
		{
			name: "duckdb exclude, replace and :: cast", dialect: DuckDB,
			schema: map[string]string{"main.t": "id, amount, note"},
			sql:    `select * exclude (note) replace (amount::decimal(10,2) as amount) from main.t`,
			want:   []string{"id: copy main.t.id", "amount: transform main.t.amount"},
		},
		{
			name: "postgres quoted identifiers keep case and distinct on", dialect: Postgres,
			sql:  `select distinct on ("UserId") "UserId", "Amount" + 1 as amt from "Public"."Orders" order by "UserId", ts desc`,
			want: []string{"userid: copy public.orders.userid", "amt: transform public.orders.amount"},
		},
		{
			name: "databricks lateral view explode and backticks", dialect: Databricks,
			sql:  "select t.id, tag from `cat`.`sch`.`t` t lateral view explode(t.tags) x as tag",
			want: []string{"id: copy cat.sch.t.id", "tag: transform cat.sch.t.tags"},
		},
		{
			name: "databricks lambda parameters are not columns", dialect: Databricks,
			sql:  "select transform(t.vals, v -> v * t.factor) as scaled from s.t t",
			want: []string{"scaled: transform s.t.factor, transform s.t.vals"},
		},
		{
			name: "redshift try_cast-free casts, dateadd keyword and using", dialect: Redshift,
			sql: `select id, dateadd(day, 1, a.created_at) as next_day, b.v::varchar(10) as v
			      from s.a a join s.b b using (id)`,
			want: []string{"id: copy s.a.id", "next_day: transform s.a.created_at", "v: transform s.b.v",
				"filters: join s.a.id, join s.b.id"},
		},
		{
			name: "date part words are keywords only where the function takes a part", dialect: Snowflake,
			schema: map[string]string{"s.t": "day, date, ts"},
			sql:    `select dateadd(day, 1, ts) as a, date_trunc(month, date) as b, last_day(date, week) as c from s.t`,
			want:   []string{"a: transform s.t.ts", "b: transform s.t.date", "c: transform s.t.date"},
		},
		{
			name: "bigquery date_trunc takes the part last", dialect: BigQuery,
			sql:  "select date_trunc(date, month) as m, date_diff(a, b, day) as d from `p.d.t`",
			want: []string{"m: transform p.d.t.date", "d: transform p.d.t.a, transform p.d.t.b"},
		},
		{
			name: "full join using merges both sides", dialect: Postgres,
			sql:  `select id from a full join b using (id)`,
			want: []string{"id: transform a.id, transform b.id", "filters: join a.id, join b.id"},
		},
		{
			name: "natural join over known columns", dialect: Postgres,
			schema: map[string]string{"a": "id, x", "b": "id, y"},
			sql:    `select * from a natural join b`,
			want:   []string{"id: copy a.id", "x: copy a.x", "y: copy b.y", "filters: join a.id, join b.id"},
		},
		{
			name: "recursive cte", dialect: Postgres,
			sql: `with recursive r (n, parent) as (select id, parent_id from s.tree where parent_id is null
			      union all select t.id, t.parent_id from s.tree t join r on t.parent_id = r.n) select n from r`,
			want: []string{"n: copy s.tree.id", "filters: filter s.tree.parent_id, join s.tree.id, join s.tree.parent_id"},
		},
		{
			name: "intersect right side filters", dialect: Postgres,
			sql:  `select id from a intersect select id from b`,
			want: []string{"id: copy a.id, filter b.id"},
		},
		{
			name: "correlated scalar subquery", dialect: Postgres,
			sql:  `select c.id, (select max(o.ts) from orders o where o.cid = c.id) as last_ts from customers c`,
			want: []string{"id: copy customers.id", "last_ts: transform orders.ts", "filters: filter customers.id, filter orders.cid"},
		},
		{
			name: "named window", dialect: DuckDB,
			sql:  `select sum(v) over w as running from t window w as (partition by k order by ts)`,
			want: []string{"running: transform t.k, transform t.ts, transform t.v"},
		},
		{
			name: "ambiguous name over two unknown tables is a gap, not an edge", dialect: Postgres,
			sql:  `select a.id, v from a join b on a.id = b.id`,
			want: []string{"id: copy a.id", "v: [partial]", "filters: join a.id, join b.id", "partial"},
		},
		{
			name: "star over an unknown table leaves names unknown", dialect: Snowflake,
			sql:  `select * from raw.t`,
			want: []string{"partial"},
		},
		{
			name: "star through a cte passes named columns", dialect: Postgres,
			sql:  `with x as (select * from raw.t) select x.a, b from x`,
			want: []string{"a: copy raw.t.a", "b: copy raw.t.b"},
		},
		{
			name: "ephemeral cte is reported", dialect: Postgres,
			sql:  `with __dbt__cte__eph as (select id from raw.t) select id from __dbt__cte__eph`,
			want: []string{"id: copy raw.t.id via eph"},
		},
		{
			name: "pivot is a gap", dialect: Snowflake,
			sql:  `select * from s.t pivot (sum(v) for k in ('a', 'b')) p`,
			want: []string{"partial"},
		},
		{
			name: "column missing from a known schema", dialect: Postgres,
			schema: map[string]string{"s.t": "a"},
			sql:    `select t.zz from s.t`,
			want:   []string{"zz: [partial]", "partial"},
		},
		{
			name: "create table as wrapper and trailing semicolon", dialect: Postgres,
			sql:  `create table "db"."s"."m__dbt_tmp" as (select a from s.t);`,
			want: []string{"a: copy s.t.a"},
		},
		{
			name: "postgres special function forms", dialect: Postgres,
			sql: `select substring(a from 1 for 2) as s, trim(both ' ' from b) as tr, position('x' in c) as p,
			      extract(epoch from d) as e, e'\n' || f as g, $$lit$$ as h, interval '1 day' + ts as nx from t`,
			want: []string{"s: transform t.a", "tr: transform t.b", "p: transform t.c", "e: transform t.d",
				"g: transform t.f", "h:", "nx: transform t.ts"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var sch Schema
			if tt.schema != nil {
				sch = schemaOf(tt.schema)
			}
			res, err := Lineage(context.Background(), tt.sql, Options{Dialect: tt.dialect, Schema: sch})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, summary(res)); diff != "" {
				t.Errorf("lineage (-want +got):\n%s\nreasons: %q", diff, res.Reasons)
			}
		})
	}
}

func TestEphemeralsListed(t *testing.T) {
	t.Parallel()
	res, err := Lineage(context.Background(),
		`with __dbt__cte__a as (select 1 as x), __dbt__cte__b as (select x from __dbt__cte__a) select x from __dbt__cte__b`,
		Options{Dialect: Postgres})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "b"}, res.Ephemerals); diff != "" {
		t.Errorf("ephemerals (-want +got):\n%s", diff)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("(", 5000) + "1" + strings.Repeat(")", 5000)
	tests := []struct {
		name   string
		sql    string
		limits Limits
		budget bool
		msg    string
	}{
		{name: "unterminated string", sql: "select 'abc from t", msg: "unterminated string"},
		{name: "unterminated identifier", sql: `select "abc from t`, msg: "unterminated quoted identifier"},
		{name: "two statements", sql: "select 1; select 2", msg: "only one statement"},
		{name: "not a select", sql: "delete from t", msg: "expected SELECT"},
		{name: "missing paren", sql: "select (a from t", msg: `expected ")"`},
		{name: "token budget", sql: "select " + strings.Repeat("a + ", 100) + "a from t", limits: Limits{MaxTokens: 50}, budget: true, msg: "more than 50 tokens"},
		{name: "depth budget", sql: "select " + deep, budget: true, msg: "nesting deeper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Lineage(context.Background(), tt.sql, Options{Limits: tt.limits})
			if err == nil {
				t.Fatal("no error")
			}
			var be *BudgetError
			if errors.As(err, &be) != tt.budget {
				t.Errorf("budget error %v, want %v: %v", errors.As(err, &be), tt.budget, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
		})
	}
}

func TestDeadline(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	sql := "select " + strings.Repeat("a + ", 5000) + "a from t"
	_, err := Lineage(ctx, sql, Options{})
	var be *BudgetError
	if !errors.As(err, &be) || !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("got %v, want a deadline BudgetError", err)
	}
}
