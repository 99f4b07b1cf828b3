package artifacts

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const tdOld = "testdata/synthetic-dbt-0.18/"

// Files from dbt 0.18 and before (synthetic, see the README there) read
// with their top-level generated_at, statuses mapped from the fail, warn,
// skip and error keys, and ids from the embedded node.
func TestLegacyRunResults(t *testing.T) {
	rr, err := ReadRunResultsFile(tdOld + "run_results.json")
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2020, 9, 28, 10, 0, 5, 123456000, time.UTC); !rr.Metadata.GeneratedAt.Equal(want) {
		t.Errorf("generated_at %v, want %v", rr.Metadata.GeneratedAt, want)
	}
	type row struct{ ID, Status, Raw, Message string }
	var got []row
	for _, r := range rr.Results {
		msg, _, _ := strings.Cut(r.Message, "\n")
		got = append(got, row{r.UniqueID, r.Status, r.RawStatus, msg})
	}
	want := []row{
		{"model.jaffle_shop.stg_orders", "success", "CREATE VIEW", ""},
		{"seed.jaffle_shop.raw_orders", "success", "INSERT 99", ""},
		{"model.jaffle_shop.orders", "error", "ERROR", "Database Error in model orders (models/orders.sql)"},
		{"model.jaffle_shop.customers", "skipped", "", ""},
		{"test.jaffle_shop.unique_stg_orders_order_id", "pass", "0.0", ""},
		{"test.jaffle_shop.not_null_stg_orders_order_id", "fail", "3.0", ""},
		{"test.jaffle_shop.accepted_values_stg_orders_status", "warn", "2.0", ""},
		{"test.jaffle_shop.relationships_orders_customer_id", "error", "ERROR", "Compilation Error in test relationships_orders_customer_id"},
		{"test.jaffle_shop.not_null_customers_customer_id", "skipped", "", ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got)\n%s", diff)
	}
	// A test's numeric status is its failure count.
	if f := rr.Results[5].Failures; f == nil || *f != 3 {
		t.Errorf("failing test's failures = %v, want 3", f)
	}
	if f := rr.Results[4].Failures; f == nil || *f != 0 {
		t.Errorf("passing test's failures = %v, want 0", f)
	}
	if rr.Results[2].Failures != nil {
		t.Errorf("a model got failures %d", *rr.Results[2].Failures)
	}

	s, err := Inspect(tdOld + "run_results.json")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&TestSummary{Pass: 1, Warn: 1, Fail: 1, Error: 1, Skipped: 1}, s.Tests); diff != "" {
		t.Errorf("tests (-want +got)\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"success": 2, "error": 2, "skipped": 2, "pass": 1, "fail": 1, "warn": 1}, s.Statuses); diff != "" {
		t.Errorf("statuses (-want +got)\n%s", diff)
	}
	var failed []string
	for _, l := range s.Failures {
		failed = append(failed, l.Status+" "+l.UniqueID)
	}
	// Lines show dbt's own word where it wrote one ("ERROR"), and the
	// status where it wrote a count.
	wantFailed := []string{"ERROR model.jaffle_shop.orders", "fail test.jaffle_shop.not_null_stg_orders_order_id", "ERROR test.jaffle_shop.relationships_orders_customer_id"}
	if diff := cmp.Diff(wantFailed, failed); diff != "" {
		t.Errorf("failures (-want +got)\n%s", diff)
	}
	if s.GeneratedAt == nil {
		t.Error("summary has no generated_at")
	}
}

func TestLegacySourcesAndCatalog(t *testing.T) {
	// The results list with the source embedded as node.
	src, err := ReadSourcesFile(tdOld + "sources_results.json")
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2020, 9, 28, 10, 0, 1, 500000000, time.UTC); !src.Metadata.GeneratedAt.Equal(want) {
		t.Errorf("sources generated_at %v, want %v", src.Metadata.GeneratedAt, want)
	}
	var got []string
	for _, r := range src.Results {
		got = append(got, r.UniqueID+" "+r.Status)
	}
	if diff := cmp.Diff([]string{"source.jaffle_shop.raw.orders pass", "source.jaffle_shop.raw.customers error"}, got); diff != "" {
		t.Errorf("sources (-want +got)\n%s", diff)
	}
	if src.Results[1].MaxLoadedAtTimeAgoInS != 259200 || src.ElapsedTime != 0.61 {
		t.Errorf("age or elapsed time not read: %+v, %v", src.Results[1], src.ElapsedTime)
	}

	// What dbt 0.14 to 0.18 wrote: meta, and results by id under sources.
	src, err = ReadSourcesFile(tdOld + "sources.json")
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2020, 9, 28, 11, 0, 2, 250000000, time.UTC); !src.Metadata.GeneratedAt.Equal(want) || src.ElapsedTime != 0.74 {
		t.Errorf("meta: generated_at %v, elapsed %v", src.Metadata.GeneratedAt, src.ElapsedTime)
	}
	got = got[:0]
	for _, r := range src.Results {
		msg, _, _ := strings.Cut(r.Message, "\n")
		got = append(got, r.UniqueID+" "+r.Status+" "+msg)
	}
	want := []string{"source.jaffle_shop.raw.orders pass ", "source.jaffle_shop.raw.payments warn ",
		"source.jaffle_shop.raw.customers runtime error Database Error"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sources (-want +got)\n%s", diff)
	}
	if r := src.Results[1]; r.MaxLoadedAtTimeAgoInS != 39600 || r.Criteria == nil || r.MaxLoadedAt.IsZero() {
		t.Errorf("freshness fields: %+v", r)
	}
	if k, _, err := detectFile(tdOld + "sources.json"); k != KindSources || err != nil {
		t.Errorf("detected %v, %v; want sources", k, err)
	}
	s, err := Inspect(tdOld + "sources.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Failures) != 1 || s.Failures[0].UniqueID != "source.jaffle_shop.raw.customers" || s.GeneratedAt == nil {
		t.Errorf("summary: failures %+v, generated_at %v", s.Failures, s.GeneratedAt)
	}

	cat, err := ReadCatalogFile(tdOld + "catalog.json")
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2020, 9, 28, 10, 1, 0, 0, time.UTC); !cat.Metadata.GeneratedAt.Equal(want) {
		t.Errorf("catalog generated_at %v, want %v", cat.Metadata.GeneratedAt, want)
	}
	if len(cat.Nodes) != 1 || cat.Nodes[0].UniqueID != "model.jaffle_shop.stg_orders" {
		t.Errorf("catalog nodes: %+v", cat.Nodes)
	}
}

// Fusion capitalises statuses: counted lower-cased, shown as written.
func TestFusionStatusesShownAsWritten(t *testing.T) {
	const fusion = `{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/sources/v3.json", "dbt_version": "2.0.0-preview.45"},
		"results": [{"unique_id": "source.p.raw.a", "status": "Pass", "max_loaded_at": "2025-01-01T00:00:00Z", "criteria": {}},
		            {"unique_id": "source.p.raw.b", "status": "Error", "max_loaded_at": "2024-01-01T00:00:00Z", "criteria": {}}],
		"elapsed_time": 1}`
	path := t.TempDir() + "/sources.json"
	if err := os.WriteFile(path, []byte(fusion), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := ReadSourcesFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if r := src.Results[1]; r.Status != "error" || r.RawStatus != "Error" {
		t.Errorf("status %q raw %q, want error and Error", r.Status, r.RawStatus)
	}
	s, err := Inspect(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"pass": 1, "error": 1}, s.Statuses); diff != "" {
		t.Errorf("statuses (-want +got)\n%s", diff)
	}
	if len(s.Failures) != 1 || s.Failures[0].Status != "Error" {
		t.Errorf("failures %+v, want one shown as Error", s.Failures)
	}
}

func detectFile(path string) (Kind, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return KindUnknown, 0, err
	}
	defer f.Close()
	return Detect(f)
}

// A status word wins over an old key a newer file might also carry, and
// the old keys decide only where the status is not a word.
func TestLegacyKeysDoNotOverrideStatusWords(t *testing.T) {
	const in = `{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v4.json"},
		"results": [{"unique_id": "test.p.a", "status": "fail", "error": null, "fail": null},
		            {"unique_id": "model.p.b", "status": "OK", "skip": false},
		            {"unique_id": "test.p.c", "status": 0, "fail": null}],
		"elapsed_time": 1}`
	rr, err := ReadRunResults(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rr.Results {
		got = append(got, r.Status)
	}
	if diff := cmp.Diff([]string{"fail", "success", "pass"}, got); diff != "" {
		t.Errorf("statuses (-want +got)\n%s", diff)
	}
}
