package lineage

import (
	"testing"

	"github.com/dbtlink/dbtlink/artifacts"
)

// The same hand-written expectations through the real artifacts reader, so a
// difference between it and the test-only loader shows up here.
func TestCorpusThroughArtifactsReader(t *testing.T) {
	m, err := artifacts.ReadManifestFile("testdata/jaffle_shop_1.10.json")
	if err != nil {
		t.Fatal(err)
	}
	g := Build(m)
	if g.Len() != 77 || g.EdgeCount() != 90 {
		t.Fatalf("Len %d EdgeCount %d; want 77, 90", g.Len(), g.EdgeCount())
	}
	for sel, want := range map[string][]string{
		"stg_orders+":                jaffle110StgOrdersDown,
		"source:ecom.raw_orders+":    cat(pre(js, "raw_orders"), jaffle110StgOrdersDown),
		"test_type:generic,1+orders": nil, // tests are children, never parents
		"test_type:generic,orders+1": pre(jt,
			"not_null_orders_order_id.cf6c17daed",
			"unique_orders_order_id.fed79b3a6e",
			"relationships_orders_customer_id__customer_id__ref_stg_customers_.918495ce16",
			"dbt_utils_expression_is_true_orders_order_items_subtotal_subtotal.b1416e07ec",
			"dbt_utils_expression_is_true_orders_order_total_subtotal_tax_paid.2aba85df92",
			"relationships_order_items_order_id__order_id__ref_orders_.a799023ee8"),
	} {
		checkSelect(t, g, sel, want)
	}
}
