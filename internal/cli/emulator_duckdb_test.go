//go:build cgo

package cli

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

func TestEmulatorWarehouseDuckDB(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jaffle_shop.duckdb")
	args := []string{"--warehouse", "duckdb:" + path, "--warehouse-omit", "model.jaffle_shop.orders", "--warehouse-extra", "raw.untracked"}
	stderr := runEmulatorWarehouse(t, args...)
	if !strings.Contains(stderr, "# warehouse duckdb:"+path+": 19 tables and views of the emulator's project in schemas main, raw of database jaffle_shop, as the manifest expects") ||
		!strings.Contains(stderr, "not built, no columns known: seed.jaffle_shop.raw_tweets") {
		t.Errorf("warehouse line:\n%s", stderr)
	}
	customers := []string{"customer_id varchar", "customer_name varchar", "count_lifetime_orders bigint", "first_ordered_at timestamp",
		"last_ordered_at timestamp", "lifetime_spend_pretax decimal(38,2)", "lifetime_tax_paid decimal(38,2)", "lifetime_spend decimal(38,2)", "customer_type varchar"}
	check := func() {
		t.Helper()
		db, err := sql.Open("duckdb", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var catalog string
		if err := db.QueryRowContext(t.Context(), `SELECT table_catalog FROM information_schema.tables WHERE table_schema = 'main' AND table_name = 'customers'`).Scan(&catalog); err != nil || catalog != "jaffle_shop" {
			t.Errorf("customers is in catalog %q (%v), want jaffle_shop", catalog, err)
		}
		checkWarehouse(t, db, "", customers)
	}
	check()
	runEmulatorWarehouse(t, args...) // again: drops and recreates the same relations
	check()
}
