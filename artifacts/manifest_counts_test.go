package artifacts

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// readManifestCounts must give what counting ReadManifest's result gives, and
// fail where it fails, with the same error, on the odd inputs the full reader
// tolerates or refuses.
func TestManifestCountsAgreeWithReadManifest(t *testing.T) {
	const v12 = `"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json", "dbt_version": "1.9.0"}`
	tests := []struct {
		name string
		in   string
	}{
		{"sections", `{` + v12 + `, "nodes": {"model.p.a": {"resource_type": "model", "columns": {"c": {"name": "c"}}},
			"test.p.t": {"resource_type": "test", "raw_code": "select 1"}, "seed.p.s": {"resource_type": "seed"}},
			"sources": {"source.p.x.y": {"name": "y"}}, "exposures": {"exposure.p.e": {}}, "metrics": {"metric.p.m": {}},
			"semantic_models": {"semantic_model.p.s": {}}, "saved_queries": {"saved_query.p.q": {}},
			"unit_tests": {"unit_test.p.u": {}}, "functions": {"function.p.f": {}},
			"macros": {"macro.p.m1": {}, "macro.p.m2": {"name": "m2"}}, "groups": {"group.p.g": {"name": "g"}},
			"parent_map": {"model.p.a": []}, "child_map": {}, "docs": {}}`},
		{"node without resource_type", `{` + v12 + `, "nodes": {"model.p.a": {"name": "a"}}}`},
		{"resource_type not a string", `{` + v12 + `, "nodes": {"model.p.a": {"resource_type": 3}}}`},
		{"resource_type overrides section", `{` + v12 + `, "sources": {"x": {"resource_type": "model"}}}`},
		{"members that are not objects", `{` + v12 + `, "nodes": {"a": null, "b": 1, "c": {"resource_type": "model"}},
			"macros": {"m": "x"}, "groups": []}`},
		{"duplicate section", `{` + v12 + `, "macros": {"m": {}}, "macros": {"n": {}}}`},
		{"old file, top-level generated_at", `{"generated_at": "2020-01-01T00:00:00Z", "nodes": {"model.p.a": {"resource_type": "model"}}, "macros": {}}`},
		{"no evidence", `{"nodes": {"a": {"name": "a"}}}`},
		{"catalog schema", `{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog/v1.json"}, "nodes": {}}`},
		{"truncated", `{` + v12 + `, "nodes": {"model.p.a": {"resource_type": "mod`},
		{"syntax error in a skipped value", `{` + v12 + `, "nodes": {"model.p.a": {"resource_type": "model", "config": {"x": tru}}}}`},
		{"not an object", `[1, 2]`},
		{"trailing data", `{` + v12 + `} {}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, errFull := ReadManifest(strings.NewReader(tt.in), WithName("m.json"))
			c, errCount := readManifestCounts(strings.NewReader(tt.in), WithName("m.json"))
			if (errFull == nil) != (errCount == nil) {
				t.Fatalf("full read error %v, counting error %v", errFull, errCount)
			}
			if errFull != nil {
				var e *Error
				if !errors.As(errCount, &e) {
					t.Fatalf("counting error %T, want *Error", errCount)
				}
				if errFull.Error() != errCount.Error() {
					t.Errorf("errors differ:\nfull:  %v\ncount: %v", errFull, errCount)
				}
				return
			}
			want := map[string]int{}
			for _, n := range m.Nodes {
				want[string(n.ResourceType)]++
			}
			if diff := cmp.Diff(want, c.Types); diff != "" {
				t.Errorf("types (-full +counted):\n%s", diff)
			}
			if c.Macros != len(m.Macros) || c.Groups != len(m.Groups) {
				t.Errorf("macros %d groups %d, full read has %d and %d", c.Macros, c.Groups, len(m.Macros), len(m.Groups))
			}
			if diff := cmp.Diff(m.Metadata, c.Metadata); diff != "" {
				t.Errorf("metadata (-full +counted):\n%s", diff)
			}
		})
	}
}
