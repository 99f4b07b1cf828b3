package lineage

import (
	"testing"

	"github.com/dbtlink/dbtlink/artifacts"
	"github.com/google/go-cmp/cmp"
)

// Selector semantics checked against dbt's selector methods (dbt-core
// graph/selector_methods.py), on the real manifests in testdata.
func TestSelectLikeDBT(t *testing.T) {
	hub, err := artifacts.ReadManifestFile("testdata/hubspot_v12.json", artifacts.SkipCode())
	if err != nil {
		t.Fatal(err)
	}
	g := Build(hub)
	count := func(sel string) int {
		t.Helper()
		ids, err := g.Select(sel)
		if err != nil {
			t.Fatal(err)
		}
		return len(ids)
	}
	// The 154 hubspot models are configured with schema "hubspot" and built
	// in public_hubspot; the seeds have no configured schema and are built
	// in the target schema public. dbt's config method compares the
	// configured value.
	for sel, want := range map[string]int{
		"config.schema:hubspot":        154,
		"config.schema:public_hubspot": 0,
		"config.schema:public":         0,
		"config.severity:error":        73, // written ERROR; dbt ignores case
		"package:this":                 56, // the root project, hubspot_integration_tests
	} {
		if got := count(sel); got != want {
			t.Errorf("%s: %d nodes, want %d", sel, got, want)
		}
	}

	jaffle, err := artifacts.ReadManifestFile("testdata/jaffle_shop_1.10.json", artifacts.SkipCode())
	if err != nil {
		t.Fatal(err)
	}
	// A yml file selects the tests defined in it and the model it documents
	// (patch_path), as dbt's path method does.
	got, err := Build(jaffle).Select("path:models/staging/stg_products.yml")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"model.jaffle_shop.stg_products",
		"test.jaffle_shop.not_null_stg_products_product_id.6373b0acf3",
		"test.jaffle_shop.unique_stg_products_product_id.7d950a1467",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("path: yml (-want +got):\n%s", diff)
	}
}
