package warehouse

import "testing"

func TestGlob(t *testing.T) {
	tests := []struct {
		g, name string
		want    bool
	}{
		{"*", "", true},
		{"*", "anything", true},
		{"stg_*", "stg_orders", true},
		{"stg_*", "orders", false},
		{"?", "a", true},
		{"?", "ab", false},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"*_tmp", "x_tmp_tmp", true},
		{"é*", "été", true},
		{"a_b", "a_b", true},
		{"a%b", "axb", false},
	}
	for _, tt := range tests {
		if got := glob(tt.g, tt.name); got != tt.want {
			t.Errorf("glob(%q, %q) = %v, want %v", tt.g, tt.name, got, tt.want)
		}
	}
}

func TestFilterMatch(t *testing.T) {
	tests := []struct {
		name           string
		f              Filter
		db, schema, tb string
		want           bool
	}{
		{"everything", Filter{}, "d", "s", "t", true},
		{"system schema", Filter{}, "d", "pg_catalog", "pg_class", false},
		{"system schema even when included", Filter{IncludeSchemas: []string{"pg_*"}}, "d", "pg_temp_3", "x", false},
		{"information_schema", Filter{}, "d", "information_schema", "tables", false},
		{"schema included, any case", Filter{IncludeSchemas: []string{"Analytics"}}, "d", "ANALYTICS", "t", true},
		{"schema not included", Filter{IncludeSchemas: []string{"analytics"}}, "d", "staging", "t", false},
		{"database.schema", Filter{IncludeSchemas: []string{"prod.analytics"}}, "prod", "analytics", "t", true},
		{"database.schema, other db", Filter{IncludeSchemas: []string{"prod.analytics"}}, "dev", "analytics", "t", false},
		{"exclude wins", Filter{IncludeSchemas: []string{"*"}, ExcludeSchemas: []string{"scratch_*"}}, "d", "scratch_1", "t", false},
		{"table anywhere", Filter{IncludeTables: []string{"orders"}}, "d", "s", "orders", true},
		{"schema.table", Filter{IncludeTables: []string{"s.orders"}}, "d", "t", "orders", false},
		{"db.schema.table", Filter{IncludeTables: []string{"d.s.*"}}, "d", "s", "x", true},
		{"db.schema.table other db", Filter{IncludeTables: []string{"d.s.*"}}, "e", "s", "x", false},
		{"exclude table", Filter{ExcludeTables: []string{"*_bak"}}, "d", "s", "orders_bak", false},
		{"exclude table in schema only", Filter{ExcludeTables: []string{"a.*_bak"}}, "d", "b", "orders_bak", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := compileFilter(tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.table(tt.db, tt.schema, tt.tb); got != tt.want {
				t.Errorf("table(%s, %s, %s) = %v, want %v", tt.db, tt.schema, tt.tb, got, tt.want)
			}
		})
	}
}

func TestFilterValidate(t *testing.T) {
	for _, f := range []Filter{
		{IncludeSchemas: []string{""}},
		{ExcludeSchemas: []string{"a.b.c"}},
		{IncludeTables: []string{"a..b"}},
		{ExcludeTables: []string{".x"}},
	} {
		if err := f.Validate(); err == nil {
			t.Errorf("Validate(%+v) accepted it", f)
		}
	}
	if err := (Filter{IncludeSchemas: []string{"a.b"}, IncludeTables: []string{"a.b.c"}}).Validate(); err != nil {
		t.Error(err)
	}
}

func TestSchemaPushdown(t *testing.T) {
	m, _ := compileFilter(Filter{IncludeSchemas: []string{"prod.stg_*", "core"}, ExcludeSchemas: []string{"dev.core", "x%y", "é"}})
	where, args, none := pgSchemaWhere(m, "prod")
	if none || len(args) != 2 {
		t.Fatalf("where %q args %v none %v", where, args, none)
	}
	if got := args[0].([]string); len(got) != 2 || got[0] != `stg\_%` || got[1] != "core" {
		t.Errorf("include patterns %q", got)
	}
	// dev.core does not apply to prod; é is left to the filter in Go.
	if got := args[1].([]string); len(got) != 1 || got[0] != `x\%y` {
		t.Errorf("exclude patterns %q", got)
	}
	if _, _, none := pgSchemaWhere(mustCompile(t, Filter{IncludeSchemas: []string{"prod.*"}}), "dev"); !none {
		t.Error("a filter of prod's schemas admits something in dev")
	}
}

func mustCompile(t *testing.T, f Filter) *matcher {
	t.Helper()
	m, err := compileFilter(f)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
