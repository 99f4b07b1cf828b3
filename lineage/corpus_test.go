package lineage

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The expected sets below were written by hand from the depends_on lists in
// the manifest files (read with python), not produced by this package.

const (
	jm = "model.jaffle_shop."
	js = "source.jaffle_shop.ecom."
	jt = "test.jaffle_shop."
	jx = "metric.jaffle_shop."
)

func pre(prefix string, names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = prefix + n
	}
	return out
}

func cat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// stg_orders and everything downstream of it in jaffle_shop 1.10: the models
// order_items, orders and customers, their 16 data tests, two unit tests, three
// semantic models, all 19 metrics (every semantic model they read is
// downstream) and the three saved queries.
var jaffle110StgOrdersDown = cat(
	pre(jm, "stg_orders", "order_items", "orders", "customers"),
	pre(jt,
		"not_null_stg_orders_order_id.81cfe2fe64",
		"unique_stg_orders_order_id.e3b841c71a",
		"dbt_utils_expression_is_true_stg_orders_order_total_tax_paid_subtotal.bfb885d7fc",
		"relationships_stg_order_items_order_id__order_id__ref_stg_orders_.dbe9930c54",
		"not_null_order_items_order_item_id.c6fda366bd",
		"unique_order_items_order_item_id.7d0a7e900a",
		"relationships_order_items_order_id__order_id__ref_orders_.a799023ee8",
		"not_null_orders_order_id.cf6c17daed",
		"unique_orders_order_id.fed79b3a6e",
		"relationships_orders_customer_id__customer_id__ref_stg_customers_.918495ce16",
		"dbt_utils_expression_is_true_orders_order_items_subtotal_subtotal.b1416e07ec",
		"dbt_utils_expression_is_true_orders_order_total_subtotal_tax_paid.2aba85df92",
		"not_null_customers_customer_id.5c9bf9911d",
		"unique_customers_customer_id.c5af1ff4b1",
		"accepted_values_customers_customer_type__new__returning.d12f0947c8",
		"dbt_utils_expression_is_true_customers_lifetime_spend_pretax_lifetime_tax_paid_lifetime_spend.ad37c989b6",
	),
	[]string{
		"unit_test.jaffle_shop.order_items.test_supply_costs_sum_correctly",
		"unit_test.jaffle_shop.orders.test_order_items_compute_to_bools_correctly",
		"semantic_model.jaffle_shop.order_item",
		"semantic_model.jaffle_shop.orders",
		"semantic_model.jaffle_shop.customers",
		"saved_query.jaffle_shop.customer_order_metrics",
		"saved_query.jaffle_shop.order_metrics",
		"saved_query.jaffle_shop.revenue_metrics",
	},
	pre(jx, "lifetime_spend_pretax", "count_lifetime_orders", "average_order_value", "order_total",
		"new_customer_orders", "large_orders", "orders", "food_orders", "drink_orders", "revenue",
		"order_cost", "median_revenue", "food_revenue", "drink_revenue", "food_revenue_pct",
		"drink_revenue_pct", "revenue_growth_mom", "order_gross_profit", "cumulative_revenue"),
)

func TestCorpusJaffleShop110(t *testing.T) {
	g := Build(loadManifestJSON(t, "testdata/jaffle_shop_1.10.json"))
	if g.Len() != 77 || g.EdgeCount() != 90 || len(g.Dangling()) != 0 {
		t.Fatalf("Len %d EdgeCount %d Dangling %d; want 77, 90, 0", g.Len(), g.EdgeCount(), len(g.Dangling()))
	}
	if len(jaffle110StgOrdersDown) != 47 {
		t.Fatalf("hand-written list has %d ids, want 47", len(jaffle110StgOrdersDown))
	}
	tests := []struct {
		sel  string
		want []string
	}{
		{"+orders", cat(
			pre(jm, "orders", "stg_orders", "order_items", "stg_order_items", "stg_products", "stg_supplies"),
			pre(js, "raw_orders", "raw_items", "raw_products", "raw_supplies"))},
		{"orders", pre(jm, "orders")}, // not metric.orders nor semantic_model.orders
		{"1+customers", pre(jm, "customers", "stg_customers", "orders")},
		{"stg_orders+", jaffle110StgOrdersDown},
		{"source:ecom.raw_orders+", cat(pre(js, "raw_orders"), jaffle110StgOrdersDown)},
		// '@' adds the other ancestors of the descendants: the staging models
		// order_items and customers read, and their sources.
		{"@stg_orders", cat(jaffle110StgOrdersDown,
			pre(jm, "stg_order_items", "stg_products", "stg_supplies", "stg_customers"),
			pre(js, "raw_orders", "raw_items", "raw_products", "raw_supplies", "raw_customers"))},
		{"path:models/staging", cat(
			pre(jm, "stg_products", "stg_customers", "stg_supplies", "stg_orders", "stg_order_items", "stg_locations"),
			pre(js, "raw_customers", "raw_orders", "raw_items", "raw_stores", "raw_products", "raw_supplies"),
			pre(jt,
				"not_null_stg_supplies_supply_uuid.515c6eda6d",
				"unique_stg_supplies_supply_uuid.c9e3edcfed",
				"not_null_stg_orders_order_id.81cfe2fe64",
				"unique_stg_orders_order_id.e3b841c71a",
				"dbt_utils_expression_is_true_stg_orders_order_total_tax_paid_subtotal.bfb885d7fc",
				"not_null_stg_products_product_id.6373b0acf3",
				"unique_stg_products_product_id.7d950a1467",
				"not_null_stg_customers_customer_id.e2cfb1f9aa",
				"unique_stg_customers_customer_id.c7614daada",
				"not_null_stg_order_items_order_item_id.26a7e2bc35",
				"unique_stg_order_items_order_item_id.90e333a108",
				"not_null_stg_order_items_order_id.2063801f96",
				"relationships_stg_order_items_order_id__order_id__ref_stg_orders_.dbe9930c54",
				"not_null_stg_locations_location_id.3d237927d2",
				"unique_stg_locations_location_id.2e2fc58ecc"),
			[]string{"unit_test.jaffle_shop.stg_locations.test_does_location_opened_at_trunc_to_date"})},
		{"1+customers 1+locations", pre(jm, "customers", "stg_customers", "orders", "locations", "stg_locations")},
		{"+orders,resource_type:source", pre(js, "raw_orders", "raw_items", "raw_products", "raw_supplies")},
		{"stg_orders+,resource_type:saved_query", []string{
			"saved_query.jaffle_shop.customer_order_metrics", "saved_query.jaffle_shop.order_metrics",
			"saved_query.jaffle_shop.revenue_metrics"}},
		{"test_type:unit", []string{
			"unit_test.jaffle_shop.stg_locations.test_does_location_opened_at_trunc_to_date",
			"unit_test.jaffle_shop.orders.test_order_items_compute_to_bools_correctly",
			"unit_test.jaffle_shop.order_items.test_supply_costs_sum_correctly"}},
		{"resource_type:seed", nil},
	}
	for _, tt := range tests {
		t.Run(tt.sel, func(t *testing.T) { checkSelect(t, g, tt.sel, tt.want) })
	}

	up, err := g.Upstream(jm+"customers", QueryOptions{Depth: 2})
	if err != nil {
		t.Fatal(err)
	}
	wantUp := map[string]int{jm + "stg_customers": 1, jm + "orders": 1, js + "raw_customers": 2, jm + "stg_orders": 2, jm + "order_items": 2}
	if diff := cmp.Diff(wantUp, distances(up)); diff != "" {
		t.Errorf("Upstream(customers, depth 2) (-want +got)\n%s", diff)
	}
	p, err := g.ShortestPath(js+"raw_orders", "saved_query.jaffle_shop.customer_order_metrics")
	// raw_orders -> stg_orders -> orders -> customers -> semantic_model customers
	// -> count_lifetime_orders -> customer_order_metrics: 7 nodes, and no shorter
	// route, since every route to that saved query goes through customers.
	if err != nil || len(p.IDs) != 7 || !p.Downstream {
		t.Errorf("ShortestPath = %v, %v; want 7 nodes downstream", p, err)
	}
}

func TestCorpusJaffleShop18(t *testing.T) {
	g := Build(loadManifestJSON(t, "testdata/jaffle_shop_1.8.json"))
	tests := []struct {
		sel  string
		want []string
	}{
		{"tag:lightdash", pre(jm, "customers", "orders")},
		{"tag:lightdash,resource_type:model", pre(jm, "customers", "orders")},
		{"resource_type:seed", pre("seed.jaffle_shop.", "raw_customers", "raw_orders", "raw_payments")},
		{"tag:lightdash+", cat(pre(jm, "customers", "orders", "daily_orders"), pre(jt,
			"unique_customers_customer_id.c5af1ff4b1",
			"not_null_customers_customer_id.5c9bf9911d",
			"relationships_orders_customer_id__customer_id__ref_customers_.c6ec7f58f2",
			"unique_orders_order_id.fed79b3a6e",
			"not_null_orders_order_id.cf6c17daed",
			"not_null_orders_customer_id.c5f02694af",
			"accepted_values_orders_status__placed__shipped__completed__return_pending__returned.be6b5b5ec3",
			"not_null_orders_amount.106140f9fd",
			"not_null_orders_credit_card_amount.d3ca593b59",
			"not_null_orders_coupon_amount.ab90c90625",
			"not_null_orders_bank_transfer_amount.7743500c49",
			"not_null_orders_gift_card_amount.413a0d2d7a"))},
		{"+customers", cat(pre(jm, "customers", "stg_customers", "stg_orders", "stg_payments"),
			pre("seed.jaffle_shop.", "raw_customers", "raw_orders", "raw_payments"))},
		{"tag:on-run-*", []string{"operation.elementary.elementary-on-run-start-0", "operation.elementary.elementary-on-run-end-0"}},
		{"package:elementary,alerts_dbt_models", []string{"model.elementary.alerts_dbt_models"}},
	}
	for _, tt := range tests {
		t.Run(tt.sel, func(t *testing.T) { checkSelect(t, g, tt.sel, tt.want) })
	}
}

func TestCorpusHubspotEphemeral(t *testing.T) {
	g := Build(loadManifestJSON(t, "testdata/hubspot_v12.json"))
	const h = "model.hubspot."
	sends := h + "hubspot__email_sends"
	tests := []struct {
		name string
		opts QueryOptions
		want map[string]int
	}{
		{"depth 1", QueryOptions{Depth: 1}, map[string]int{
			h + "hubspot__email_event_sent":                  1,
			h + "int_hubspot__email_event_aggregates":        1,
			h + "int_hubspot__email_aggregate_status_change": 1,
		}},
		// The two ephemeral parents are inlined: their own parents become direct.
		{"depth 1 through ephemerals", QueryOptions{Depth: 1, PassThroughEphemeral: true}, map[string]int{
			h + "hubspot__email_event_sent":          1,
			h + "stg_hubspot__email_event":           1,
			h + "hubspot__email_event_status_change": 1,
		}},
	}
	for _, tt := range tests {
		got, err := g.Upstream(sends, tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, distances(got)); diff != "" {
			t.Errorf("%s (-want +got)\n%s", tt.name, diff)
		}
	}
	eph, err := g.Select("config.materialized:ephemeral")
	if err != nil {
		t.Fatal(err)
	}
	want := pre(h, "int_hubspot__email_event_aggregates", "int_hubspot__email_aggregate_status_change",
		"int_hubspot__form_metrics__by_contact", "int_hubspot__engagement_metrics__by_contact")
	if diff := cmp.Diff(sorted(want...), eph); diff != "" {
		t.Errorf("ephemeral models (-want +got)\n%s", diff)
	}
	for _, id := range want {
		if !g.IsEphemeral(id) {
			t.Errorf("IsEphemeral(%s) = false", id)
		}
	}
	seeds, _ := g.Select("resource_type:seed")
	if len(seeds) != 56 {
		t.Errorf("resource_type:seed selected %d, want 56", len(seeds))
	}
}
