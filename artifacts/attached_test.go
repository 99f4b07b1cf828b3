package artifacts

import (
	"strings"
	"testing"
)

// A relationships test depends on the model it is defined on and on the `to`
// model; dbt sorts depends_on, so the first parent is the `to` model here.
// Files from before dbt 1.3 have no attached_node, and the reader must take
// the model named in kwargs.model.
func TestAttachedNodeFromKwargsModel(t *testing.T) {
	m, err := ReadManifestFile(tdDiy + "manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	n := mustNode(t, m, "test.jaffle_shop.relationships_stg_orders_customer_id__customer_id__ref_stg_customers_.430bf21500")
	if got, want := n.Test.AttachedNode, "model.jaffle_shop.stg_orders"; got != want {
		t.Errorf("relationships test attached to %q, want %q (depends_on %v)", got, want, n.DependsOnNodes)
	}
}

const attachedManifest = `{
 "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v5.json"},
 "nodes": {
  "test.p.rel_src": {"resource_type": "test", "test_metadata": {"name": "relationships",
    "kwargs": {"to": "ref('a')", "field": "id", "model": "{{ get_where_subquery(source('raw', 'orders')) }}"}},
    "depends_on": {"macros": ["macro.dbt.test_relationships"], "nodes": ["model.p.a", "source.p.raw.orders"]}},
  "test.p.rel_pkg": {"resource_type": "test", "test_metadata": {"name": "relationships",
    "kwargs": {"to": "ref('a')", "field": "id", "model": "{{ get_where_subquery(ref(\"p\", \"b\")) }}"}},
    "depends_on": {"nodes": ["model.p.a", "model.p.b"]}},
  "test.p.rel_ver": {"resource_type": "test", "test_metadata": {"name": "relationships",
    "kwargs": {"to": "ref('a')", "field": "id", "model": "{{ get_where_subquery(ref('b', v='2')) }}"}},
    "depends_on": {"nodes": ["model.p.a", "model.p.b.v1", "model.p.b.v2"]}},
  "test.p.singular_two": {"resource_type": "test", "depends_on": {"nodes": ["model.p.a", "model.p.b"]}},
  "test.p.singular_one": {"resource_type": "test", "depends_on": {"nodes": ["model.p.b"]}}
 },
 "unit_tests": {
  "unit_test.p.b.u": {"model": "b", "depends_on": {"nodes": ["model.p.a", "model.p.b"]}}
 }
}`

func TestAttachedNodeCases(t *testing.T) {
	m, err := ReadManifest(strings.NewReader(attachedManifest))
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{
		"test.p.rel_src":      "source.p.raw.orders",
		"test.p.rel_pkg":      "model.p.b",
		"test.p.rel_ver":      "model.p.b.v2",
		"test.p.singular_two": "",
		"test.p.singular_one": "model.p.b",
		"unit_test.p.b.u":     "model.p.b",
	} {
		if got := mustNode(t, m, id).Test.AttachedNode; got != want {
			t.Errorf("%s: attached to %q, want %q", id, got, want)
		}
	}
}
