package cli

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// runOffline runs one command line with buffer streams and returns the exit
// status and what was written. Only offline commands use it, so the factory
// needs no connection.
func runOffline(t *testing.T, tty bool, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ios, _, out, errOut := TestStreams()
	ios.SetTTY(false, tty, false)
	f := NewFactory(ios)
	f.Getenv = func(string) string { return "" }
	code = Run(t.Context(), f, args)
	return code, out.String(), errOut.String()
}

const (
	diy9Dir         = "../../artifacts/testdata/diy9-dbt-mixed-0.20.2-1.0.1/"
	coreV12Manifest = "../../artifacts/testdata/dbt-core-state/v12/manifest.json"
	jaffleManifest  = "../../lineage/testdata/jaffle_shop_1.10.json"
	jaffleCatalog   = "../../artifacts/testdata/dap-catalog-v1-jaffle_shop/catalog_1.12.json"
)

// manifestCounts counts a manifest's members per resource type with
// encoding/json, independently of the artifacts readers.
func manifestCounts(t *testing.T, path string) map[string]int {
	t.Helper()
	var raw map[string]json.RawMessage
	readJSONFile(t, path, &raw)
	counts := map[string]int{}
	for _, section := range []string{"nodes", "sources", "exposures", "metrics", "semantic_models", "saved_queries", "unit_tests"} {
		var members map[string]struct {
			ResourceType string `json:"resource_type"`
		}
		if len(raw[section]) > 0 {
			if err := json.Unmarshal(raw[section], &members); err != nil {
				t.Fatalf("%s: %s: %v", path, section, err)
			}
		}
		for _, m := range members {
			counts[m.ResourceType]++
		}
	}
	for section, typ := range map[string]string{"macros": "macro", "groups": "group"} {
		var members map[string]json.RawMessage
		if len(raw[section]) > 0 {
			if err := json.Unmarshal(raw[section], &members); err != nil {
				t.Fatalf("%s: %s: %v", path, section, err)
			}
		}
		if len(members) > 0 {
			counts[typ] = len(members)
		}
	}
	return counts
}

func readJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// inspectJSON is the part of the --json output the tests check.
type inspectJSON struct {
	Path          string         `json:"path"`
	Kind          string         `json:"kind"`
	SchemaVersion int            `json:"schema_version"`
	DBTVersion    string         `json:"dbt_version"`
	Adapter       string         `json:"adapter"`
	Counts        map[string]int `json:"counts"`
	Tests         *struct {
		Pass, Warn, Fail, Error, Skipped int
	} `json:"tests"`
	Failures []struct {
		UniqueID string `json:"unique_id"`
		Status   string `json:"status"`
		Message  string `json:"message"`
	} `json:"failures"`
	Slowest []struct {
		UniqueID      string  `json:"unique_id"`
		ExecutionTime float64 `json:"execution_time"`
	} `json:"slowest"`
	Error string `json:"error"`
}

func inspectJSONOut(t *testing.T, args ...string) []inspectJSON {
	t.Helper()
	code, out, errOut := runOffline(t, false, append([]string{"artifacts", "inspect", "--json"}, args...)...)
	if code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	var got []inspectJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("--json output is not a JSON array: %v\n%s", err, out)
	}
	return got
}

func TestArtifactsInspectManifestCounts(t *testing.T) {
	tests := []struct {
		path, dbtVersion, adapter string
		schema                    int
	}{
		{diy9Dir + "manifest.json", "1.0.1", "bigquery", 4},
		{coreV12Manifest, "1.11.0a1", "postgres", 12},
		{jaffleManifest, "1.10.13", "duckdb", 12},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(filepath.Dir(tt.path))+"/"+filepath.Base(tt.path), func(t *testing.T) {
			want := manifestCounts(t, tt.path)
			got := inspectJSONOut(t, tt.path)
			if len(got) != 1 {
				t.Fatalf("got %d objects, want 1", len(got))
			}
			s := got[0]
			if s.Path != tt.path || s.Kind != "manifest" || s.SchemaVersion != tt.schema || s.DBTVersion != tt.dbtVersion || s.Adapter != tt.adapter {
				t.Errorf("header = %q %q v%d %q %q, want %q manifest v%d %q %q",
					s.Path, s.Kind, s.SchemaVersion, s.DBTVersion, s.Adapter, tt.path, tt.schema, tt.dbtVersion, tt.adapter)
			}
			if diff := cmp.Diff(want, s.Counts); diff != "" {
				t.Errorf("counts (-want +got)\n%s", diff)
			}

			// The human form shows the same numbers, one aligned line each.
			code, out, errOut := runOffline(t, false, "artifacts", "inspect", tt.path)
			if code != ExitOK {
				t.Fatalf("exit %d, stderr:\n%s", code, errOut)
			}
			for typ, n := range want {
				re := regexp.MustCompile(`(?m)^    ` + typ + ` +` + itoa(n) + `$`)
				if !re.MatchString(out) {
					t.Errorf("human output lacks a %q count of %d:\n%s", typ, n, out)
				}
			}
			for _, s := range []string{"kind:          manifest (schema v" + itoa(tt.schema) + ")", "dbt version:   " + tt.dbtVersion, "adapter:       " + tt.adapter} {
				if !strings.Contains(out, s) {
					t.Errorf("human output lacks %q:\n%s", s, out)
				}
			}
		})
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestArtifactsInspectCatalogAndSources(t *testing.T) {
	var cat struct {
		Nodes, Sources map[string]json.RawMessage
	}
	readJSONFile(t, jaffleCatalog, &cat)
	var src struct{ Results []json.RawMessage }
	readJSONFile(t, diy9Dir+"sources.json", &src)

	got := inspectJSONOut(t, jaffleCatalog, diy9Dir+"sources.json")
	if len(got) != 2 {
		t.Fatalf("got %d objects, want 2", len(got))
	}
	if diff := cmp.Diff(map[string]int{"nodes": len(cat.Nodes), "sources": len(cat.Sources)}, got[0].Counts); diff != "" {
		t.Errorf("catalog counts (-want +got)\n%s", diff)
	}
	if got[1].Kind != "sources" {
		t.Errorf("kind = %q, want sources", got[1].Kind)
	}
	if diff := cmp.Diff(map[string]int{"results": len(src.Results)}, got[1].Counts); diff != "" {
		t.Errorf("sources.json counts (-want +got)\n%s", diff)
	}
}

func TestArtifactsInspectRunResultsFailures(t *testing.T) {
	path := diy9Dir + "run_results.json"
	var rr struct {
		Results []struct {
			UniqueID      string  `json:"unique_id"`
			Status        string  `json:"status"`
			ExecutionTime float64 `json:"execution_time"`
		}
	}
	readJSONFile(t, path, &rr)
	pass, slowestID, slowest := 0, "", -1.0
	for _, r := range rr.Results {
		if strings.HasPrefix(r.UniqueID, "test.") && r.Status == "pass" {
			pass++
		}
		if r.ExecutionTime > slowest {
			slowestID, slowest = r.UniqueID, r.ExecutionTime
		}
	}

	got := inspectJSONOut(t, path)[0]
	if got.Counts["results"] != len(rr.Results) {
		t.Errorf("results = %d, want %d", got.Counts["results"], len(rr.Results))
	}
	if got.Tests == nil || got.Tests.Pass != pass || got.Tests.Fail != 0 {
		t.Errorf("tests = %+v, want %d passed and none failed", got.Tests, pass)
	}
	if len(got.Failures) != 1 || got.Failures[0].UniqueID != "snapshot.jaffle_shop.orders_snapshot" || got.Failures[0].Status != "error" {
		t.Errorf("failures = %+v, want the orders_snapshot error", got.Failures)
	}
	if len(got.Slowest) != 10 || got.Slowest[0].UniqueID != slowestID {
		t.Errorf("slowest = %+v, want 10 starting with %s", got.Slowest, slowestID)
	}

	code, out, _ := runOffline(t, false, "artifacts", "inspect", path)
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"tests: pass " + itoa(pass) + ", warn 0, fail 0, error 0, skipped 0",
		"failures (1):",
		"error   snapshot.jaffle_shop.orders_snapshot  403 PATCH",
		"Table expiration time must be less than 60 days", // off a terminal the whole message is kept
		"slowest:",
		"       4.59  success  model.jaffle_shop.all_dates",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("human output lacks %q:\n%s", want, out)
		}
	}
}

// failingRunResults is a dbt 1.8 run_results.json with a test of every
// status and a model error, written by the test so every status is covered.
const failingRunResults = `{
  "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json",
    "dbt_version": "1.8.7", "generated_at": "2024-10-01T08:00:00.000000Z", "invocation_id": "i-1"},
  "results": [
    {"unique_id": "model.shop.orders", "status": "success", "execution_time": 12.5, "message": "SELECT 10", "failures": null, "thread_id": "T1", "timing": [], "adapter_response": {}},
    {"unique_id": "model.shop.customers", "status": "error", "execution_time": 0.4, "message": "Database Error in model customers\n  column \"x\" does not exist\n  LINE 3: select x from orders", "failures": null, "thread_id": "T1", "timing": [], "adapter_response": {}},
    {"unique_id": "test.shop.unique_orders_id.1", "status": "fail", "execution_time": 1.5, "message": "Got 3 results, configured to fail if != 0", "failures": 3, "thread_id": "T2", "timing": [], "adapter_response": {}},
    {"unique_id": "test.shop.not_null_orders_id.2", "status": "pass", "execution_time": 0.2, "message": null, "failures": 0, "thread_id": "T2", "timing": [], "adapter_response": {}},
    {"unique_id": "test.shop.accepted_values_status.3", "status": "warn", "execution_time": 0.3, "message": "Got 1 result, configured to warn if != 0", "failures": 1, "thread_id": "T2", "timing": [], "adapter_response": {}},
    {"unique_id": "test.shop.relationships_customer.4", "status": "skipped", "execution_time": 0, "message": null, "failures": null, "thread_id": "T2", "timing": [], "adapter_response": {}},
    {"unique_id": "unit_test.shop.orders.test_totals", "status": "error", "execution_time": 0.1, "message": "Compilation Error: fixture not found", "failures": null, "thread_id": "T2", "timing": [], "adapter_response": {}}
  ],
  "elapsed_time": 15.25,
  "args": {"which": "build"}
}`

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestArtifactsInspectFailingTests(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(failingRunResults))
	zw.Close()
	paths := map[string]string{
		"plain": writeTemp(t, "run_results.json", []byte(failingRunResults)),
		"gzip":  writeTemp(t, "run_results.json.gz", gz.Bytes()),
	}
	for name, path := range paths {
		t.Run(name, func(t *testing.T) {
			got := inspectJSONOut(t, path)[0]
			if got.Kind != "run_results" || got.Counts["results"] != 7 {
				t.Errorf("kind %q, counts %v; want run_results with 7 results", got.Kind, got.Counts)
			}
			if got.Tests == nil || *got.Tests != (struct{ Pass, Warn, Fail, Error, Skipped int }{1, 1, 1, 1, 1}) {
				t.Errorf("tests = %+v, want one of each status", got.Tests)
			}
			var failed []string
			for _, f := range got.Failures {
				failed = append(failed, f.Status+" "+f.UniqueID)
			}
			want := []string{"error model.shop.customers", "fail test.shop.unique_orders_id.1", "error unit_test.shop.orders.test_totals"}
			if diff := cmp.Diff(want, failed); diff != "" {
				t.Errorf("failures (-want +got)\n%s", diff)
			}
		})
	}

	t.Run("terminal truncates messages", func(t *testing.T) {
		code, out, _ := runOffline(t, true, "artifacts", "inspect", paths["plain"])
		if code != ExitOK {
			t.Fatalf("exit %d", code)
		}
		if !strings.Contains(out, "tests: pass 1, warn 1, fail 1, error 1, skipped 1") {
			t.Errorf("no test summary:\n%s", out)
		}
		// Only the first line of the multi-line database error is shown.
		if !strings.Contains(out, "  Database Error in model custom") || strings.Contains(out, "does not exist") {
			t.Errorf("multi-line message not cut to its first line on a terminal:\n%s", out)
		}
		for _, line := range strings.Split(out, "\n") {
			if n := len([]rune(line)); n > 80 {
				t.Errorf("line of %d runes on an 80-column terminal: %q", n, line)
			}
		}
	})
	t.Run("pipe keeps messages", func(t *testing.T) {
		_, out, _ := runOffline(t, false, "artifacts", "inspect", paths["plain"])
		if !strings.Contains(out, "LINE 3: select x from orders") {
			t.Errorf("whole message not kept off a terminal:\n%s", out)
		}
	})
}

func TestArtifactsInspectBadFile(t *testing.T) {
	bad := writeTemp(t, "manifest.json", []byte(`{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"}, "nodes": {"model.a.b": {"name": `))
	good1, good2 := diy9Dir+"catalog.json", diy9Dir+"sources.json"

	code, out, errOut := runOffline(t, false, "artifacts", "inspect", good1, bad, good2)
	if code != ExitUsage {
		t.Errorf("exit %d, want %d", code, ExitUsage)
	}
	for _, p := range []string{good1, good2} {
		if !strings.Contains(out, p+"\n  kind:") {
			t.Errorf("good file %s not inspected:\n%s", p, out)
		}
	}
	if !strings.Contains(errOut, `"`+bad+`" at byte offset`) || !strings.Contains(errOut, "1 of 3 files could not be read") {
		t.Errorf("stderr does not name the bad file, its offset and the total:\n%s", errOut)
	}

	code, out, _ = runOffline(t, false, "artifacts", "inspect", "--json", good1, bad, filepath.Join(t.TempDir(), "missing.json"))
	if code != ExitUsage {
		t.Errorf("--json: exit %d, want %d", code, ExitUsage)
	}
	var got []inspectJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("--json output with errors is not JSON: %v\n%s", err, out)
	}
	if len(got) != 3 || got[0].Error != "" || got[0].Kind != "catalog" || got[1].Path != bad || !strings.Contains(got[1].Error, "byte offset") ||
		!strings.Contains(got[2].Error, "missing.json") || got[2].Kind != "" {
		t.Errorf("--json = %+v, want the catalog, then errors for the bad and the missing file", got)
	}
}

func TestArtifactsInspectUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no files", []string{"artifacts", "inspect"}, "give at least one artifact file"},
		{"unknown flag", []string{"artifacts", "inspect", "--jsn", "x"}, "unknown flag: --jsn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runOffline(t, false, tt.args...)
			if code != ExitUsage || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, ExitUsage, tt.want)
			}
		})
	}
}

func TestNewCmdArtifactsInspect(t *testing.T) {
	ios, _, _, _ := TestStreams()
	var got *ArtifactsInspectOptions
	cmd := NewCmdArtifactsInspect(NewFactory(ios), func(o *ArtifactsInspectOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"a.json", "--json", "b.json.gz"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !got.JSON || !cmp.Equal(got.Paths, []string{"a.json", "b.json.gz"}) {
		t.Errorf("options = %+v", got)
	}
}

func TestInspectTruncate(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven char", 10, "eleven ch…"},
		{"first\nsecond", 40, "first…"},
		{"first\nsecond", 5, "firs…"},
		{"  padded  ", 40, "padded"},
		{"ééééééé", 5, "éééé…"},
	}
	for _, tt := range tests {
		if got := inspectTruncate(tt.in, tt.n); got != tt.want {
			t.Errorf("inspectTruncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

// TestArtifactsInspectSizeMatchesArtifactGet: inspect prints a file's size
// in the same units as `artifact get` (it said "1.0 MB" where get said
// "994.0 KiB").
func TestArtifactsInspectSizeMatchesArtifactGet(t *testing.T) {
	code, out, errOut := runOffline(t, false, "artifacts", "inspect", jaffleCatalog)
	if code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	fi, err := os.Stat(jaffleCatalog)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() < 1024 {
		t.Fatalf("%s is too small to tell units apart", jaffleCatalog)
	}
	if !strings.Contains(out, "size:") || !strings.Contains(out, " "+byteSize(fi.Size())+"\n") {
		t.Errorf("inspect output lacks the size %q:\n%s", byteSize(fi.Size()), out)
	}
}

// A run_results.json from dbt 0.18 (no dbt_schema_version; synthetic, see
// its README) gets its time and test outcomes, and no blank status.
func TestArtifactsInspectOldRunResults(t *testing.T) {
	code, out, errOut := runOffline(t, false, "artifacts", "inspect", "../../artifacts/testdata/synthetic-dbt-0.18/run_results.json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"generated at:  2020-09-28T10:00:05Z", "tests: pass 1, warn 1, fail 1, error 1, skipped 1",
		"failures (3):", "fail    test.jaffle_shop.not_null_stg_orders_order_id"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "other") || strings.Contains(out, "statuses:  ") {
		t.Errorf("an old status was not mapped:\n%s", out)
	}
}
