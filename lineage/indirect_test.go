package lineage

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dbtlink/dbtlink/artifacts"
)

// The expected sets below were written by hand from each manifest's nodes and
// depends_on, by dbt-core's rules (graph/selector.py: expand_selection and
// incorporate_indirect_nodes; task/list.py for the default resource types),
// not by running dbtlink. Names are short: "model:x" is
// model.jaffle_shop.x, "test:x" the test whose id is test.jaffle_shop.x with
// or without its hash suffix, "unit:m.t" unit_test.jaffle_shop.m.t,
// "source:s.t" source.jaffle_shop.s.t, "seed:x" seed.jaffle_shop.x.

// jaffle_shop_0.19.json (manifest v1, dbt 0.19.1): 8 models, 3 seeds, 21
// tests; the relationships test sits on fct_orders and dim_customers.
var (
	v1StgCustomersTests = []string{"test:unique_stg_customers_customer_id", "test:not_null_stg_customers_customer_id"}
	v1StgOrdersTests    = []string{"test:unique_stg_orders_order_id", "test:not_null_stg_orders_order_id", "test:unique_stg_orders_status__False",
		"test:accepted_values_stg_orders_status__placed__shipped__completed__return_pending__returned"}
	v1StgPaymentsTests = []string{"test:unique_stg_payments_payment_id", "test:not_null_stg_payments_payment_id",
		"test:accepted_values_stg_payments_payment_method__credit_card__coupon__bank_transfer__gift_card"}
	v1DimTests = []string{"test:unique_dim_customers_customer_id", "test:not_null_dim_customers_customer_id"}
	v1FctTests = []string{"test:unique_fct_orders_order_id", "test:not_null_fct_orders_order_id", "test:not_null_fct_orders_customer_id",
		"test:accepted_values_fct_orders_status__placed__shipped__completed__return_pending__returned", "test:not_null_fct_orders_amount",
		"test:not_null_fct_orders_credit_card_amount", "test:not_null_fct_orders_coupon_amount",
		"test:not_null_fct_orders_bank_transfer_amount", "test:not_null_fct_orders_gift_card_amount"}
	v1Rel        = "test:relationships_fct_orders_customer_id__customer_id__ref_dim_customers_"
	v1UpFct      = []string{"model:fct_orders", "model:stg_orders", "model:order_payments", "model:stg_payments", "seed:raw_orders", "seed:raw_payments"}
	v1AllModels  = []string{"model:stg_customers", "model:stg_orders", "model:stg_payments", "model:dim_customers", "model:fct_orders", "model:order_payments", "model:customer_payments", "model:customer_orders"}
	v1Seeds      = []string{"seed:raw_customers", "seed:raw_orders", "seed:raw_payments"}
	v1StagingMod = []string{"model:stg_customers", "model:stg_orders", "model:stg_payments"}
)

// jaffle_shop_1.0.json (manifest v4, dbt 1.0.0): the customers model is
// disabled, so its two tests depend on nothing and the relationships test on
// orders depends on a node the manifest does not define: cautious and
// buildable can never add it.
var (
	v4OrdersTests = []string{"test:unique_orders_order_id", "test:not_null_orders_order_id", "test:not_null_orders_customer_id",
		"test:accepted_values_orders_status__placed__shipped__completed__return_pending__returned", "test:not_null_orders_amount",
		"test:not_null_orders_credit_card_amount", "test:not_null_orders_coupon_amount", "test:not_null_orders_bank_transfer_amount",
		"test:not_null_orders_gift_card_amount"}
	v4Rel               = "test:relationships_orders_customer_id__customer_id__ref_customers_"
	v4StgCustomersTests = []string{"test:unique_stg_customers_customer_id", "test:not_null_stg_customers_customer_id"}
	v4StgOrdersTests    = []string{"test:unique_stg_orders_order_id", "test:not_null_stg_orders_order_id",
		"test:accepted_values_stg_orders_status__placed__shipped__completed__return_pending__returned"}
	v4StgPaymentsTests = []string{"test:unique_stg_payments_payment_id", "test:not_null_stg_payments_payment_id",
		"test:accepted_values_stg_payments_payment_method__credit_card__coupon__bank_transfer__gift_card"}
	v4OrphanTests = []string{"test:unique_customers_customer_id", "test:not_null_customers_customer_id"}
	v4UpOrders    = []string{"model:orders", "model:stg_orders", "model:stg_payments", "seed:raw_orders", "seed:raw_payments"}
)

// jaffle_shop_1.10.json (manifest v12, dbt 1.10.13): sources, unit tests,
// and relationships tests across two models.
var (
	v12OrdersTests = []string{"test:not_null_orders_order_id", "test:unique_orders_order_id",
		"test:dbt_utils_expression_is_true_orders_order_items_subtotal_subtotal",
		"test:dbt_utils_expression_is_true_orders_order_total_subtotal_tax_paid"}
	v12RelOrdersStgCustomers = "test:relationships_orders_customer_id__customer_id__ref_stg_customers_" // stg_customers, orders
	v12RelOrderItemsOrders   = "test:relationships_order_items_order_id__order_id__ref_orders_"         // orders, order_items
	v12RelStgItemsStgOrders  = "test:relationships_stg_order_items_order_id__order_id__ref_stg_orders_" // stg_orders, stg_order_items
	v12OrdersUnit            = "unit:orders.test_order_items_compute_to_bools_correctly"
	v12OrderItemsUnit        = "unit:order_items.test_supply_costs_sum_correctly"
	v12LocationsUnit         = "unit:stg_locations.test_does_location_opened_at_trunc_to_date"
	v12UpOrders              = []string{"model:orders", "model:order_items", "model:stg_orders", "model:stg_order_items", "model:stg_products", "model:stg_supplies",
		"source:ecom.raw_orders", "source:ecom.raw_items", "source:ecom.raw_products", "source:ecom.raw_supplies"}
	v12UpOrdersTests = []string{
		"test:not_null_stg_supplies_supply_uuid", "test:unique_stg_supplies_supply_uuid",
		"test:not_null_stg_orders_order_id", "test:unique_stg_orders_order_id", "test:dbt_utils_expression_is_true_stg_orders_order_total_tax_paid_subtotal",
		"test:not_null_stg_products_product_id", "test:unique_stg_products_product_id",
		"test:not_null_stg_order_items_order_item_id", "test:unique_stg_order_items_order_item_id", "test:not_null_stg_order_items_order_id", v12RelStgItemsStgOrders,
		"test:not_null_order_items_order_item_id", "test:unique_order_items_order_item_id", v12RelOrderItemsOrders,
	}
	v12StagingViews = []string{"model:stg_products", "model:stg_customers", "model:stg_supplies", "model:stg_orders", "model:stg_order_items", "model:stg_locations"}
	v12StagingTests = []string{
		"test:not_null_stg_supplies_supply_uuid", "test:unique_stg_supplies_supply_uuid",
		"test:not_null_stg_orders_order_id", "test:unique_stg_orders_order_id", "test:dbt_utils_expression_is_true_stg_orders_order_total_tax_paid_subtotal",
		"test:not_null_stg_products_product_id", "test:unique_stg_products_product_id",
		"test:not_null_stg_customers_customer_id", "test:unique_stg_customers_customer_id",
		"test:not_null_stg_order_items_order_item_id", "test:unique_stg_order_items_order_item_id", "test:not_null_stg_order_items_order_id", v12RelStgItemsStgOrders,
		"test:not_null_stg_locations_location_id", "test:unique_stg_locations_location_id",
	}
)

func ids(parts ...any) []string {
	var out []string
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			out = append(out, v)
		case []string:
			out = append(out, v...)
		}
	}
	return out
}

// modes gives the expected set for each indirect selection mode; same() when
// the mode makes no difference.
type modes [4][]string

func same(s []string) modes { return modes{s, s, s, s} }

func TestSelectIndirectLikeDBT(t *testing.T) {
	tests := []struct {
		manifest, selector, exclude string
		want                        modes // by Eager, Cautious, Buildable, Empty
	}{
		// --- v1, dbt 0.19.1 ---
		// The relationships test has another parent, dim_customers, that is
		// neither selected nor upstream.
		{"jaffle_shop_0.19.json", "fct_orders", "", modes{
			ids("model:fct_orders", v1FctTests, v1Rel), ids("model:fct_orders", v1FctTests), ids("model:fct_orders", v1FctTests), {"model:fct_orders"}}},
		{"jaffle_shop_0.19.json", "+fct_orders", "", modes{
			ids(v1UpFct, v1FctTests, v1Rel, v1StgOrdersTests, v1StgPaymentsTests),
			ids(v1UpFct, v1FctTests, v1StgOrdersTests, v1StgPaymentsTests),
			ids(v1UpFct, v1FctTests, v1StgOrdersTests, v1StgPaymentsTests),
			v1UpFct}},
		{"jaffle_shop_0.19.json", "1+fct_orders", "", modes{
			ids("model:fct_orders", "model:stg_orders", "model:order_payments", v1FctTests, v1Rel, v1StgOrdersTests),
			ids("model:fct_orders", "model:stg_orders", "model:order_payments", v1FctTests, v1StgOrdersTests),
			ids("model:fct_orders", "model:stg_orders", "model:order_payments", v1FctTests, v1StgOrdersTests),
			{"model:fct_orders", "model:stg_orders", "model:order_payments"}}},
		// A graph operator reaches tests as children in every mode.
		{"jaffle_shop_0.19.json", "dim_customers+", "", same(ids("model:dim_customers", v1DimTests, v1Rel))},
		// The union holds both parents of the relationships test, so
		// cautious adds it back when the terms are combined.
		{"jaffle_shop_0.19.json", "fct_orders dim_customers", "", modes{
			ids("model:fct_orders", "model:dim_customers", v1FctTests, v1DimTests, v1Rel),
			ids("model:fct_orders", "model:dim_customers", v1FctTests, v1DimTests, v1Rel),
			ids("model:fct_orders", "model:dim_customers", v1FctTests, v1DimTests, v1Rel),
			{"model:fct_orders", "model:dim_customers"}}},
		// @ reaches every model through the relationships test's parents;
		// without indirect selection only five tests are reached.
		{"jaffle_shop_0.19.json", "@stg_customers", "", modes{
			ids(v1AllModels, v1Seeds, v1StgCustomersTests, v1StgOrdersTests, v1StgPaymentsTests, v1DimTests, v1FctTests, v1Rel),
			ids(v1AllModels, v1Seeds, v1StgCustomersTests, v1StgOrdersTests, v1StgPaymentsTests, v1DimTests, v1FctTests, v1Rel),
			ids(v1AllModels, v1Seeds, v1StgCustomersTests, v1StgOrdersTests, v1StgPaymentsTests, v1DimTests, v1FctTests, v1Rel),
			ids(v1AllModels, v1Seeds, v1StgCustomersTests, v1DimTests, v1Rel)}},
		{"jaffle_shop_0.19.json", "tag:staging", "", modes{
			ids(v1StagingMod, v1StgCustomersTests, v1StgOrdersTests, v1StgPaymentsTests),
			ids(v1StagingMod, v1StgCustomersTests, v1StgOrdersTests, v1StgPaymentsTests),
			ids(v1StagingMod, v1StgCustomersTests, v1StgOrdersTests, v1StgPaymentsTests),
			v1StagingMod}},
		// Excluding a model excludes its tests too, except in empty mode.
		{"jaffle_shop_0.19.json", "tag:staging", "stg_orders", modes{
			ids("model:stg_customers", "model:stg_payments", v1StgCustomersTests, v1StgPaymentsTests),
			ids("model:stg_customers", "model:stg_payments", v1StgCustomersTests, v1StgPaymentsTests),
			ids("model:stg_customers", "model:stg_payments", v1StgCustomersTests, v1StgPaymentsTests),
			{"model:stg_customers", "model:stg_payments"}}},
		// Each term gets its tests before the intersection.
		{"jaffle_shop_0.19.json", "+fct_orders,tag:staging", "", modes{
			ids("model:stg_orders", "model:stg_payments", v1StgOrdersTests, v1StgPaymentsTests),
			ids("model:stg_orders", "model:stg_payments", v1StgOrdersTests, v1StgPaymentsTests),
			ids("model:stg_orders", "model:stg_payments", v1StgOrdersTests, v1StgPaymentsTests),
			{"model:stg_orders", "model:stg_payments"}}},
		{"jaffle_shop_0.19.json", "resource_type:seed", "", same(v1Seeds)},

		// --- v4, dbt 1.0.0 ---
		{"jaffle_shop_1.0.json", "orders", "", modes{
			ids("model:orders", v4OrdersTests, v4Rel), ids("model:orders", v4OrdersTests), ids("model:orders", v4OrdersTests), {"model:orders"}}},
		{"jaffle_shop_1.0.json", "+orders", "", modes{
			ids(v4UpOrders, v4OrdersTests, v4Rel, v4StgOrdersTests, v4StgPaymentsTests),
			ids(v4UpOrders, v4OrdersTests, v4StgOrdersTests, v4StgPaymentsTests),
			ids(v4UpOrders, v4OrdersTests, v4StgOrdersTests, v4StgPaymentsTests),
			v4UpOrders}},
		{"jaffle_shop_1.0.json", "+orders", "orders", modes{
			ids("model:stg_orders", "model:stg_payments", "seed:raw_orders", "seed:raw_payments", v4StgOrdersTests, v4StgPaymentsTests),
			ids("model:stg_orders", "model:stg_payments", "seed:raw_orders", "seed:raw_payments", v4StgOrdersTests, v4StgPaymentsTests),
			ids("model:stg_orders", "model:stg_payments", "seed:raw_orders", "seed:raw_payments", v4StgOrdersTests, v4StgPaymentsTests),
			{"model:stg_orders", "model:stg_payments", "seed:raw_orders", "seed:raw_payments"}}},
		// The disabled customers model takes no part: stg_customers's
		// descendants are its two tests.
		{"jaffle_shop_1.0.json", "stg_customers+", "", same(ids("model:stg_customers", v4StgCustomersTests))},
		{"jaffle_shop_1.0.json", "resource_type:test", "", same(ids(v4OrdersTests, v4Rel, v4StgCustomersTests, v4StgOrdersTests, v4StgPaymentsTests, v4OrphanTests))},
		{"jaffle_shop_1.0.json", "+orders,resource_type:model", "", modes{
			ids("model:orders", "model:stg_orders", "model:stg_payments", v4OrdersTests, v4Rel, v4StgOrdersTests, v4StgPaymentsTests),
			ids("model:orders", "model:stg_orders", "model:stg_payments", v4OrdersTests, v4StgOrdersTests, v4StgPaymentsTests),
			ids("model:orders", "model:stg_orders", "model:stg_payments", v4OrdersTests, v4StgOrdersTests, v4StgPaymentsTests),
			{"model:orders", "model:stg_orders", "model:stg_payments"}}},
		{"jaffle_shop_1.0.json", "test_insert_overwrite", "", same([]string{"model:test_insert_overwrite"})},

		// --- v12, dbt 1.10.13 ---
		// Buildable adds the test to order_items, an ancestor of orders, but
		// not the one to stg_customers, which is not.
		{"jaffle_shop_1.10.json", "orders", "", modes{
			ids("model:orders", v12OrdersTests, v12RelOrdersStgCustomers, v12RelOrderItemsOrders, v12OrdersUnit),
			ids("model:orders", v12OrdersTests, v12OrdersUnit),
			ids("model:orders", v12OrdersTests, v12RelOrderItemsOrders, v12OrdersUnit),
			{"model:orders"}}},
		{"jaffle_shop_1.10.json", "+orders", "", modes{
			ids(v12UpOrders, v12UpOrdersTests, v12OrdersTests, v12RelOrdersStgCustomers, v12OrdersUnit, v12OrderItemsUnit),
			ids(v12UpOrders, v12UpOrdersTests, v12OrdersTests, v12OrdersUnit, v12OrderItemsUnit),
			ids(v12UpOrders, v12UpOrdersTests, v12OrdersTests, v12OrdersUnit, v12OrderItemsUnit),
			v12UpOrders}},
		// The README's example. The relationships test from orders to
		// stg_customers is defined in models/marts, but eager selection adds
		// it to both terms for stg_customers, so it is in the intersection;
		// cautious and buildable keep it aside, and orders never joins.
		{"jaffle_shop_1.10.json", "path:models/staging,config.materialized:view", "", modes{
			ids(v12StagingViews, v12StagingTests, v12LocationsUnit, v12RelOrdersStgCustomers),
			ids(v12StagingViews, v12StagingTests, v12LocationsUnit),
			ids(v12StagingViews, v12StagingTests, v12LocationsUnit),
			v12StagingViews}},
		{"jaffle_shop_1.10.json", "resource_type:unit_test", "", same([]string{v12OrdersUnit, v12OrderItemsUnit, v12LocationsUnit})},
		// A source has no tests here; its child's tests come with the
		// child only.
		{"jaffle_shop_1.10.json", "source:ecom.raw_orders", "", same([]string{"source:ecom.raw_orders"})},
		{"jaffle_shop_1.10.json", "source:ecom.raw_orders+1", "", modes{
			ids("source:ecom.raw_orders", "model:stg_orders", "test:not_null_stg_orders_order_id", "test:unique_stg_orders_order_id",
				"test:dbt_utils_expression_is_true_stg_orders_order_total_tax_paid_subtotal", v12RelStgItemsStgOrders),
			ids("source:ecom.raw_orders", "model:stg_orders", "test:not_null_stg_orders_order_id", "test:unique_stg_orders_order_id",
				"test:dbt_utils_expression_is_true_stg_orders_order_total_tax_paid_subtotal"),
			ids("source:ecom.raw_orders", "model:stg_orders", "test:not_null_stg_orders_order_id", "test:unique_stg_orders_order_id",
				"test:dbt_utils_expression_is_true_stg_orders_order_total_tax_paid_subtotal"),
			{"source:ecom.raw_orders", "model:stg_orders"}}},
	}
	graphs := map[string]*Graph{}
	for _, tt := range tests {
		g := graphs[tt.manifest]
		if g == nil {
			m, err := artifacts.ReadManifestFile("testdata/"+tt.manifest, artifacts.SkipCode())
			if err != nil {
				t.Fatal(err)
			}
			g = Build(m)
			graphs[tt.manifest] = g
		}
		for mode, short := range tt.want {
			mode := IndirectSelection(mode)
			name := tt.manifest + " " + tt.selector
			if tt.exclude != "" {
				name += " --exclude " + tt.exclude
			}
			t.Run(name+" "+mode.String(), func(t *testing.T) {
				want := resolveShort(t, g, short)
				got, err := g.SelectWith(tt.selector, SelectOptions{Exclude: tt.exclude, Indirect: mode})
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("(-want +got)\n%s", diff)
				}
			})
		}
	}
}

// resolveShort expands the short names of the expected sets to unique ids,
// failing on a name that matches no node or several.
func resolveShort(t *testing.T, g *Graph, short []string) []string {
	t.Helper()
	prefix := map[string]string{"model": "model.jaffle_shop.", "seed": "seed.jaffle_shop.", "test": "test.jaffle_shop.",
		"unit": "unit_test.jaffle_shop.", "source": "source.jaffle_shop."}
	var out []string
	for _, s := range short {
		kind, name, _ := strings.Cut(s, ":")
		id := prefix[kind] + name
		var found []string
		for _, cand := range g.IDs() {
			if cand == id || kind == "test" && strings.HasPrefix(cand, id+".") && !strings.Contains(cand[len(id)+1:], ".") {
				found = append(found, cand)
			}
		}
		if len(found) != 1 {
			t.Fatalf("expected name %q matches %v", s, found)
		}
		out = append(out, found[0])
	}
	slices.Sort(out)
	if c := slices.Compact(slices.Clone(out)); len(c) != len(out) {
		t.Fatalf("expected set lists a node twice: %v", short)
	}
	return out
}

func TestSelectWithResourceTypesAndAll(t *testing.T) {
	m, err := artifacts.ReadManifestFile("testdata/jaffle_shop_1.8.json", artifacts.SkipCode())
	if err != nil {
		t.Fatal(err)
	}
	g := Build(m)
	// Hooks are nodes of the graph, but dbt ls never lists them.
	all, err := g.SelectWith("", SelectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	listed, err := g.SelectWith("", SelectOptions{ResourceTypes: DefaultResourceTypes})
	if err != nil {
		t.Fatal(err)
	}
	var hooks []string
	for _, id := range all {
		if !slices.Contains(listed, id) {
			hooks = append(hooks, id)
		}
	}
	want := []string{"operation.elementary.elementary-on-run-end-0", "operation.elementary.elementary-on-run-start-0"}
	if diff := cmp.Diff(want, hooks); diff != "" {
		t.Errorf("left out by the default types (-want +got)\n%s", diff)
	}
	if len(all) != g.Len() {
		t.Errorf("empty selector: %d nodes, want all %d", len(all), g.Len())
	}
}

func TestResourceTypesFromArgs(t *testing.T) {
	tests := []struct {
		include, exclude []string
		want             []artifacts.ResourceType
		err              string
	}{
		{nil, nil, DefaultResourceTypes, ""},
		{[]string{"model,Seed"}, nil, []artifacts.ResourceType{artifacts.Model, artifacts.Seed}, ""},
		{[]string{"all"}, []string{"test", "unit_test"}, []artifacts.ResourceType{artifacts.Analysis, artifacts.Exposure, artifacts.Function,
			artifacts.Metric, artifacts.Model, artifacts.SavedQuery, artifacts.Seed, artifacts.SemanticModel, artifacts.Snapshot, artifacts.Source}, ""},
		{[]string{"default", "analysis"}, nil, ListableResourceTypes, ""},
		{nil, []string{"source"}, slices.DeleteFunc(slices.Clone(DefaultResourceTypes), func(r artifacts.ResourceType) bool { return r == artifacts.Source }), ""},
		{[]string{"models"}, nil, nil, `unknown resource type "models" (did you mean model?)`},
		{[]string{"operation"}, nil, nil, `unknown resource type "operation"`},
		{nil, []string{"all"}, nil, `--exclude-resource-type: unknown resource type "all"`},
	}
	for _, tt := range tests {
		got, err := ResourceTypesFromArgs(tt.include, tt.exclude)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%v %v: error %v, want %q", tt.include, tt.exclude, err, tt.err)
			}
			continue
		}
		want := slices.Sorted(slices.Values(tt.want))
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%v %v = %v, %v; want %v", tt.include, tt.exclude, got, err, want)
		}
	}
	for _, s := range []string{"eager", "Cautious", "buildable", "empty"} {
		m, err := ParseIndirectSelection(s)
		if err != nil || !strings.EqualFold(m.String(), s) {
			t.Errorf("ParseIndirectSelection(%q) = %v, %v", s, m, err)
		}
	}
	if _, err := ParseIndirectSelection("lazy"); err == nil {
		t.Error("ParseIndirectSelection(lazy): no error")
	}
}

// Select is documented as SelectWith in empty mode without a type filter.
func TestSelectIsEmptyMode(t *testing.T) {
	m, err := artifacts.ReadManifestFile("testdata/hubspot_v12.json", artifacts.SkipCode())
	if err != nil {
		t.Fatal(err)
	}
	g := Build(m)
	for _, sel := range []string{"+hubspot__email_sends", "tag:*", "@stg_hubspot__contact", "package:hubspot,resource_type:model", "source:*+1 config.materialized:ephemeral"} {
		a, err := g.Select(sel)
		if err != nil {
			t.Fatal(err)
		}
		b, err := g.SelectWith(sel, SelectOptions{Indirect: Empty})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a, b) {
			t.Errorf("%s: Select gives %d nodes, SelectWith empty %d", sel, len(a), len(b))
		}
		eager, err := g.SelectWith(sel, SelectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(eager) < len(a) {
			t.Errorf("%s: eager gives %d nodes, fewer than the %d matched", sel, len(eager), len(a))
		}
	}
}
