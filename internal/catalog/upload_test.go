package catalog

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbtlink/dbtlink/internal/store"
)

func openFiles(t *testing.T, names ...string) ([]UploadFile, []byte) {
	t.Helper()
	var files []UploadFile
	var all []byte
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
		files = append(files, UploadFile{Name: n, R: bytes.NewReader(b)})
	}
	return files, all
}

// TestRealArtifacts reads a real dbt 1.11 jaffle_shop set as an upload:
// `dbt docs generate` results are compile-only and do not count, the `dbt
// build` results of an older invocation do.
func TestRealArtifacts(t *testing.T) {
	t.Parallel()
	// Out of order on purpose: kinds are detected, not taken from names.
	files, all := openFiles(t, "run_results_1.11.json", "catalog_1.11.json", "manifest_1.11.json.gz", "run_results_1.9_build.json")
	in, err := InputsFromFiles(files...)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(all)
	if in.Fingerprint != "sha256:"+hex.EncodeToString(sum[:]) {
		t.Errorf("fingerprint %s is not the sha256 of the files", in.Fingerprint)
	}
	if in.Manifest == nil || in.Catalog == nil || len(in.Results) != 2 {
		t.Fatalf("inputs: manifest %v catalog %v results %d", in.Manifest != nil, in.Catalog != nil, len(in.Results))
	}
	snap, err := BuildSnapshot(store.CatalogScope{Key: "upload:jaffle", Kind: store.ScopeUpload}, in, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Scope.AdapterType != "duckdb" || snap.Scope.ProjectName != "jaffle_shop" {
		t.Errorf("scope %+v", snap.Scope)
	}
	types := map[string]int{}
	for _, n := range snap.Nodes {
		types[n.ResourceType]++
		if n.ExploreURL != "" {
			t.Errorf("%s: an upload has no Explore link", n.UniqueID)
		}
	}
	for _, rt := range []string{"model", "seed", "source", "metric", "semantic_model", "saved_query"} {
		if types[rt] == 0 {
			t.Errorf("no %s nodes (%v)", rt, types)
		}
	}
	var unit, ran, never int
	for _, tst := range snap.Tests {
		if tst.ResourceType == "unit_test" {
			unit++
		}
		if tst.Status != "" {
			ran++
			if tst.Status != "pass" {
				t.Errorf("%s: status %q; the build passed every test and generate entries are compile-only", tst.UniqueID, tst.Status)
			}
		} else {
			never++
		}
	}
	// Eight tests of the manifest ran in the 1.9 build; the other tests only
	// appear in the docs generate results, which are not executions.
	if unit == 0 || ran != 8 || never == 0 {
		t.Errorf("unit tests %d, with results %d, without %d", unit, ran, never)
	}
	nn := testOf(t, snap, "test.jaffle_shop.not_null_orders_order_id.cf6c17daed")
	if nn.AttachedUniqueID != "model.jaffle_shop.orders" || nn.ColumnName != "order_id" || nn.TestName != "not_null" || nn.ExecutedAt.IsZero() {
		t.Errorf("not_null test %+v", nn)
	}
	orders := nodeOf(t, snap, "model.jaffle_shop.orders")
	if orders.LastRunStatus != "success" || len(orders.Columns) < 10 || orders.Columns[0].Name != "order_id" || orders.Columns[0].DataType == "" {
		t.Errorf("orders: %s, columns %+v", orders.LastRunStatus, orders.Columns)
	}
	if orders.Columns[0].Description == "" {
		t.Error("orders.order_id lost its documented description")
	}
	// Unit tests are not lineage members, nor are data tests.
	for _, e := range snap.Edges {
		if strings.HasPrefix(e.ParentID, "test.") || strings.HasPrefix(e.ChildID, "test.") || strings.HasPrefix(e.ChildID, "unit_test.") {
			t.Errorf("test in lineage: %+v", e)
		}
	}
	rep := Match(snap.Scope.AdapterType, snap.Nodes, []TableCandidate{{1, "jaffle_shop", "main", "orders"}, {2, "jaffle_shop", "main", "stray"}})
	if rep.Matched["model.jaffle_shop.orders"].ID != 1 || nodeOf(t, snap, "model.jaffle_shop.orders").TableID != 1 {
		t.Errorf("orders not matched: %+v", rep.Matched)
	}
	if len(rep.Unclaimed) != 1 || rep.Unclaimed[0].ID != 2 || rep.Counts.Missing == 0 {
		t.Errorf("report %+v", rep.Counts)
	}
}

func TestInputsFromFilesRefuses(t *testing.T) {
	t.Parallel()
	man := func() []UploadFile { f, _ := openFiles(t, "manifest_1.11.json.gz"); return f }
	other := `{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json", "project_id": "someone-else"}, "results": [], "elapsed_time": 1}`
	for _, tc := range []struct {
		name  string
		files []UploadFile
		want  string
	}{
		{"two manifests", append(man(), man()[0]), "second manifest"},
		{"no manifest", []UploadFile{{Name: "c.json", R: strings.NewReader(`{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog/v1.json"}, "nodes": {}, "sources": {}}`)}}, "no manifest.json"},
		{"not an artifact", append(man(), UploadFile{Name: "notes.json", R: strings.NewReader(`{"hello": 1}`)}), "notes.json"},
		{"truncated", []UploadFile{{Name: "manifest.json", R: strings.NewReader(`{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"}, "nodes": {"model.a.b": {"resource_type": "mod`)}}, "manifest.json"},
		{"another project", append(man(), UploadFile{Name: "rr.json", R: strings.NewReader(other)}), "another dbt project"},
	} {
		_, err := InputsFromFiles(tc.files...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
}
