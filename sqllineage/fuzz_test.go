package sqllineage

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzLineage feeds arbitrary text to the parser and resolver in every
// dialect: neither may panic, and what resolves must be well formed.
func FuzzLineage(f *testing.F) {
	seeds := []string{
		"select a, b as c from t",
		"with x as (select * from t) select x.* except (a), y.b from x join y using (id) where x.c > 1",
		"select sum(a) over (partition by b order by c rows between unbounded preceding and current row) from t qualify row_number() over w = 1 window w as (order by d)",
		"select f.value:name::string as n from t, lateral flatten(input => t.v) f",
		"select x, o from t, unnest(t.arr) as x with offset as o",
		"select * exclude (a) replace (b + 1 as b) from `p.d.t`",
		"select cast(a as varchar(10)), safe_cast(b as int64), try_cast(c as int), d::text from \"s\".\"t\"",
		"select a from (select 1 as a union all select 2) s",
		"select case when a then b else c end, exists (select 1 from u where u.id = t.id) from t",
		"select interval 1 day, date '2020-01-01', extract(year from d), dateadd(day, 1, d) from t",
		"select transform(arr, x -> x + 1) from t",
		"select $$a$$, e'\\n', r'x', '''' from t",
	}
	for _, s := range seeds {
		f.Add(s, uint8(0))
	}
	if files, err := filepath.Glob("testdata/cases/*.txt"); err == nil {
		for _, p := range files {
			c, err := readCase(p)
			if err == nil {
				f.Add(c.sql, uint8(c.dialect))
			}
		}
	}
	if os.Getenv("SQLLINEAGE_FUZZ_NO_SEEDS") != "" {
		return
	}
	f.Fuzz(func(t *testing.T, sql string, dialect uint8) {
		d := Dialect(dialect % 6)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		res, err := Lineage(ctx, sql, Options{Dialect: d, Limits: Limits{MaxTokens: 20000, MaxDepth: 200}})
		if err != nil {
			if res != nil {
				t.Fatalf("result and error together: %v", err)
			}
			return
		}
		for _, c := range res.Columns {
			for _, s := range c.Sources {
				if len(s.Table) == 0 || s.Kind < Copy || s.Kind > JoinKey {
					t.Fatalf("malformed source %+v of column %q", s, c.Name)
				}
			}
		}
		for _, s := range res.Filters {
			if s.Kind != Filter && s.Kind != JoinKey {
				t.Fatalf("filter of kind %v", s.Kind)
			}
		}
	})
}
