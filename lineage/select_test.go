package lineage

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func sorted(ids ...string) []string {
	s := slices.Clone(ids)
	slices.Sort(s)
	if s == nil {
		s = []string{}
	}
	return s
}

// checkSelect checks that g.Select(sel) succeeds with exactly the ids in
// want, given in any order, and returns them sorted as Select promises.
func checkSelect(t *testing.T, g *Graph, sel string, want []string) {
	t.Helper()
	got, err := g.Select(sel)
	if err != nil {
		t.Fatalf("Select(%q): %v", sel, err)
	}
	if diff := cmp.Diff(sorted(want...), sorted(got...)); diff != "" {
		t.Errorf("Select(%q) (-want +got)\n%s", sel, diff)
	}
	if !slices.IsSorted(got) {
		t.Errorf("Select(%q) not sorted: %v", sel, got)
	}
}

func TestSelect(t *testing.T) {
	g := fixture(t)
	downOfOrders := []string{ord, cust, tNN, tSing, sm, met, ut, expo}
	tests := []struct {
		sel  string
		want []string
	}{
		// Bare names: the fqn method over the manifest's "nodes" section, so the
		// semantic model named "orders" is not picked.
		{"orders", []string{ord}},
		{"fqn:orders", []string{ord}},
		{"stg_orders", []string{stgO, qStg}},
		{"staging.stg_orders", []string{stgO}},
		{"p.staging.stg_orders", []string{stgO}},
		{"q.stg_orders", []string{qStg}},
		{"p.stg_orders", nil}, // dbt needs the folder between package and name
		{"staging", []string{stgO, stgC}},
		// As in dbt, a wildcard part matches the rest of the dotted fqn from its
		// position, so "stg_*" only finds models at the top of a package and
		// "*.stg_*" or "*stg_*" is how to reach them in folders.
		{"stg_*", []string{qStg}},
		{"*.stg_*", []string{stgO, stgC, qStg}},
		{"*stg_*", []string{stgO, stgC, qStg}},
		{"staging.stg_[o]*", []string{stgO}},
		{"marts.*", []string{ord, cust, tNN, ut}},
		{"p.*", []string{seed, stgO, stgC, intO, ord, cust, tNN, tSing, ut}},
		{"nothing_matches", nil},

		// Graph operators.
		{"+orders", []string{ord, intO, stgO, srcO, stgC, srcC, seed}},
		{"orders+", downOfOrders},
		{"+orders+", append([]string{intO, stgO, srcO, stgC, srcC, seed}, downOfOrders...)},
		{"1+orders", []string{ord, intO, stgC}},
		{"orders+1", []string{ord, cust, tNN, tSing, sm, ut}},
		{"2+orders+1", []string{ord, intO, stgC, stgO, srcC, seed, cust, tNN, tSing, sm, ut}},
		{"0+orders", []string{ord}},
		{"+p.staging.stg_orders+", []string{srcO, stgO, intO, ord, cust, tNN, tSing, sm, met, ut, expo}},
		// '@' adds the other ancestors of the descendants: stg_customers and its parents.
		{"@p.staging.stg_orders", []string{srcO, stgO, intO, ord, cust, tNN, tSing, sm, met, ut, expo, stgC, srcC, seed}},
		{"@customers", []string{cust, tSing, expo, ord, intO, stgO, srcO, stgC, srcC, seed}},

		// Methods.
		{"tag:nightly", []string{stgO, stgC}},
		{"tag:night*", []string{stgO, stgC}},
		{"tag:finance+", downOfOrders},
		{"source:raw", []string{srcO, srcC}},
		{"source:raw.orders", []string{srcO}},
		{"source:p.raw.customers", []string{srcC}},
		{"source:raw.*", []string{srcO, srcC}},
		{"source:raw.orders+", append([]string{srcO, stgO, intO}, downOfOrders...)},
		{"path:models/staging", []string{srcO, srcC, stgO, stgC}},
		{"models/staging/", []string{srcO, srcC, stgO, stgC}},
		{"path:./models/marts/orders.sql", []string{ord}},
		{"path:models/*/orders.yml", []string{sm, met, ut}},
		{"path:models/marts/*.sql", []string{ord, cust}},
		{"path:model", nil}, // a prefix of a directory name is not that directory
		{"file:orders.sql", []string{ord}},
		{"orders.sql", []string{ord}},
		{"file:stg_orders", []string{stgO, qStg}},
		{"resource_type:seed", []string{seed}},
		{"resource_type:test", []string{tNN, tSing}},
		{"resource_type:source", []string{srcO, srcC}},
		{"package:q", []string{qStg}},
		{"package:*", []string{srcO, srcC, seed, stgO, stgC, intO, ord, cust, tNN, tSing, expo, sm, met, ut, qStg}},
		{"config.materialized:view", []string{stgO, stgC, qStg}},
		{"config.materialized:ephemeral", []string{intO}},
		{"config.tags:pii", []string{stgC}},
		{"config.enabled:TRUE,package:q", []string{qStg}},
		{"test_type:generic", []string{tNN}},
		{"test_type:singular", []string{tSing}},
		{"test_type:data", []string{tNN, tSing}},
		{"test_type:unit", []string{ut}},
		{"test_name:not_*", []string{tNN}},
		{"exposure:dashboard", []string{expo}},
		{"+exposure:dashboard", []string{expo, cust, ord, intO, stgO, srcO, stgC, srcC, seed}},
		{"metric:revenue", []string{met}},
		{"metric:p.revenue", []string{met}},
		{"semantic_model:orders", []string{sm}},

		// Set operators.
		{"tag:nightly tag:finance", []string{stgO, stgC, ord}},
		{"tag:nightly,tag:pii", []string{stgC}},
		{"resource_type:model,tag:nightly", []string{stgO, stgC}},
		{"+orders,resource_type:source", []string{srcO, srcC}},
		{"tag:nightly,resource_type:model config.materialized:table", []string{stgO, stgC, ord, cust}},
		{"  orders   orders  ", []string{ord}},
		{"tag:nightly,resource_type:seed", nil},
	}
	for _, tt := range tests {
		t.Run(tt.sel, func(t *testing.T) { checkSelect(t, g, tt.sel, tt.want) })
	}
}

func TestSelectExclude(t *testing.T) {
	g := fixture(t)
	tests := []struct {
		sel, ex string
		want    []string
	}{
		{"+orders", "resource_type:source", []string{ord, intO, stgO, stgC, seed}},
		{"+orders", "", []string{ord, intO, stgO, srcO, stgC, srcC, seed}},
		{"", "package:p", []string{qStg}},
		{"orders+", "orders+", nil},
		{"tag:nightly", "stg_customers+", []string{stgO}},
	}
	for _, tt := range tests {
		got, err := g.SelectExclude(tt.sel, tt.ex)
		if err != nil {
			t.Fatalf("SelectExclude(%q, %q): %v", tt.sel, tt.ex, err)
		}
		if diff := cmp.Diff(sorted(tt.want...), sorted(got...)); diff != "" {
			t.Errorf("SelectExclude(%q, %q) (-want +got)\n%s", tt.sel, tt.ex, diff)
		}
	}
	if _, err := g.SelectExclude("orders", "tag:"); err == nil || !strings.Contains(err.Error(), "--exclude") {
		t.Errorf("bad exclude: err = %v, want it to name --exclude", err)
	}
	if _, err := g.SelectExclude("bogus:x", ""); err == nil || !strings.Contains(err.Error(), "--select") {
		t.Errorf("bad select: err = %v, want it to name --select", err)
	}
}

func TestSelectErrors(t *testing.T) {
	g := fixture(t)
	tests := []struct {
		sel     string
		wantMsg string // a fragment the message must contain to be useful
	}{
		{"", "empty"},
		{"   ", "empty"},
		{"bogus:x", `unknown method "bogus"`},
		{"tag:", `method "tag" has no value`},
		{"+", "no node name"},
		{"@", "no node name"},
		{"@orders+", "'@' cannot be combined"},
		{"2+@orders", "'@' inside"},
		{"99999999999999999999+orders", "depth"},
		{"orders+99999999999999999999", "depth"},
		{"orders+x+", "'+' inside"},
		{"resource_type:modle", `unknown resource type "modle"`},
		{"test_type:foo", "generic, singular"},
		{"source:a.b.c.d", "source_name.table"},
		{"metric:a.b.c", "package.name"},
		{"config:view", "config needs a key"},
		{"config.foo:bar", "config.foo"},
		{"config..x:y", "empty argument"},
		{"config.enabled:maybe", "true or false"},
		{"tag.x:y", "takes no"},
		{"a,,b", "empty term"},
		{"orders,", "empty term"},
		{"state:modified", "previous run"},
		{"version:latest", "not supported"},
		{"orders bogus:x", `unknown method "bogus"`},
	}
	for _, tt := range tests {
		t.Run(tt.sel, func(t *testing.T) {
			ids, err := g.Select(tt.sel)
			if err == nil {
				t.Fatalf("Select(%q) = %v, want error", tt.sel, ids)
			}
			if !errors.Is(err, ErrInvalidSelector) {
				t.Errorf("error %v does not wrap ErrInvalidSelector", err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) || !strings.Contains(err.Error(), tt.sel) {
				t.Errorf("error %q should mention %q and the selector", err, tt.wantMsg)
			}
		})
	}
}

func TestFnmatch(t *testing.T) {
	tests := []struct {
		pat, name string
		want      bool
	}{
		{"*", "", true},
		{"*", "a/b", true},
		{"stg_*", "stg_orders", true},
		{"stg_*", "orders", false},
		{"*_orders", "stg_orders", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"?x", "ax", true},
		{"?x", "x", false},
		{"[ab]x", "bx", true},
		{"[!ab]x", "bx", false},
		{"[a-c]", "b", true},
		{"[a-c]", "d", false},
		{"[]]", "]", true},
		{"[x", "[x", true}, // unterminated bracket is literal, as in Python
		{"nightly", "nightly", true},
		{"nightly", "nightly2", false},
		{"", "", true},
		{"", "a", false},
	}
	for _, tt := range tests {
		if got := fnmatch(tt.pat, tt.name); got != tt.want {
			t.Errorf("fnmatch(%q, %q) = %v, want %v", tt.pat, tt.name, got, tt.want)
		}
	}
}

func TestFQNMatchDottedParts(t *testing.T) {
	fqn := []string{"p", "sub.dir", "a.b"}
	for sel, want := range map[string]bool{
		"a.b":             true, // the whole name
		"p.sub.dir":       true, // dots in parts separate parts
		"sub.dir.a.b":     true,
		"p.sub":           true,
		"sub.d*":          true,
		"p.sub.dir.a.c":   false,
		"p.sub.dir.a.b.c": false, // more parts than the fqn
		"dir":             false,
		"*.a.b":           true,
		"b":               false,
	} {
		if got := fqnMatch(fqn, sel, false); got != want {
			t.Errorf("fqnMatch(%v, %q) = %v, want %v", fqn, sel, got, want)
		}
	}
}

func TestFQNMatchVersioned(t *testing.T) {
	fqn := []string{"p", "marts", "dim_customers", "v2"}
	for sel, want := range map[string]bool{
		"dim_customers":       true,
		"dim_customers_v2":    true,
		"dim_customers.v2":    true,
		"marts.dim_customers": true,
		"dim_customers_v1":    false,
		"v2":                  false,
	} {
		if got := fqnMatch(fqn, sel, true); got != want {
			t.Errorf("fqnMatch(%v, %q) = %v, want %v", fqn, sel, got, want)
		}
	}
}
