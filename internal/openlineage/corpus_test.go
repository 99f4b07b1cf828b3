package openlineage

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dbtlink/dbtlink/artifacts"
)

// sharedCorpus holds real artifacts of many dbt versions and adapters
// (see its PROVENANCE.md); a fresh clone has none.
const sharedCorpus = "../../../shared/artifacts"

// corpusInputs are the corpus's projects that have a manifest and run
// results, each as a one-step run (with the catalog when there is one).
func corpusInputs(t testing.TB) map[string]Input {
	t.Helper()
	if _, err := os.Stat(sharedCorpus); err != nil {
		if os.Getenv("DBTLINK_REQUIRE_SHARED") == "1" {
			t.Fatalf("shared corpus %s required (DBTLINK_REQUIRE_SHARED=1): %v", sharedCorpus, err)
		}
		t.Skipf("shared corpus %s absent (%v); the emulator's artifacts are still checked by TestEmulatorRunsToReceiver", sharedCorpus, err)
	}
	dirs, err := filepath.Glob(filepath.Join(sharedCorpus, "*", "run_results.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Input{}
	for _, rrPath := range dirs {
		dir := filepath.Dir(rrPath)
		if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err != nil {
			continue // results without their manifest
		}
		m, err := artifacts.ReadManifestFile(filepath.Join(dir, "manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		rr, err := artifacts.ReadRunResultsFile(rrPath)
		if err != nil {
			t.Fatal(err)
		}
		in := fixture("build")
		in.Catalog = nil
		if cat, err := artifacts.ReadCatalogFile(filepath.Join(dir, "catalog.json")); err == nil {
			in.Catalog = cat
		}
		in.Steps = []Step{{Index: 4, Name: "Invoke dbt with `dbt " + rr.Command + "`", Manifest: m, Results: rr}}
		out[filepath.Base(dir)] = in
	}
	return out
}

// TestCorpusEventsValidate builds the events of every real project in the
// shared corpus and validates each against the schemas. Most of the
// corpus's run results come from `dbt docs generate`, which has no events;
// each project is also read as if its results came from `dbt build`, so
// that real manifests of every version go through the whole builder.
func TestCorpusEventsValidate(t *testing.T) {
	v := getValidator(t)
	total := 0
	for name, in := range corpusInputs(t) {
		for _, asBuild := range []bool{false, true} {
			in := in
			label := name
			if asBuild {
				rr := *in.Steps[0].Results
				rr.Command = "build"
				in.Steps = []Step{in.Steps[0]}
				in.Steps[0].Results = &rr
				label += "/as build"
			}
			t.Run(label, func(t *testing.T) {
				res := Build(in, Options{})
				for _, ev := range res.Events {
					v.validate(t, ev)
				}
				checkSequence(t, res.Events, in.Run.JobID, in.Run.AccountID)
				total += len(res.Events)
				md := in.Steps[0].Manifest.Metadata
				t.Logf("dbt %s, %s, %s: %d results, %d events", md.DBTVersion, md.AdapterType, in.Steps[0].Results.Command,
					len(in.Steps[0].Results.Results), len(res.Events))
			})
		}
	}
	t.Logf("%d events validated", total)
}

// TestCorpusColumnLineage builds each real project as a dbt build with
// SQLColumnLineage: every columnLineage facet validates, and the projects
// with compiled SQL get some.
func TestCorpusColumnLineage(t *testing.T) {
	v := getValidator(t)
	for name, in := range corpusInputs(t) {
		rr := *in.Steps[0].Results
		rr.Command = "build"
		in.Steps = []Step{in.Steps[0]}
		in.Steps[0].Results = &rr
		t.Run(name, func(t *testing.T) {
			res := Build(in, Options{ColumnLineage: &SQLColumnLineage{}})
			facets, fields, compiled := 0, 0, 0
			for _, ev := range res.Events {
				v.validate(t, ev)
				for _, o := range ev.Outputs {
					if cl := o.Facets.ColumnLineage; cl != nil {
						facets++
						fields += len(cl.Fields)
					}
				}
			}
			for _, r := range rr.Results {
				if n := in.Steps[0].Manifest.Node(r.UniqueID); n != nil && n.ResourceType == artifacts.Model && n.CompiledCode != "" {
					compiled++
				}
			}
			if compiled > 0 && facets == 0 {
				t.Errorf("%d models with compiled SQL in the results, no columnLineage facet (warnings %q)", compiled, res.Warnings)
			}
			t.Logf("%d compiled models in the results: %d columnLineage facets, %d fields", compiled, facets, fields)
		})
	}
}

// BenchmarkBuildColumnLineage is BenchmarkBuild with column lineage from
// the compiled SQL, a fresh SQLColumnLineage per run as a delivery of a
// new run has:
//
//	nice go test ./internal/openlineage -run '^$' -bench BuildColumnLineage -cpu 1
func BenchmarkBuildColumnLineage(b *testing.B) {
	in, ok := corpusInputs(b)["tuva-2024-02"]
	if !ok {
		b.Skip("tuva-2024-02 not in the corpus")
	}
	rr := *in.Steps[0].Results
	rr.Command = "build"
	in.Steps[0].Results = &rr
	var n int
	for b.Loop() {
		n = 0
		for _, ev := range Build(in, Options{ColumnLineage: &SQLColumnLineage{}}).Events {
			for _, o := range ev.Outputs {
				if o.Facets.ColumnLineage != nil {
					n++
				}
			}
		}
	}
	b.ReportMetric(float64(n), "facets/run")
}

// BenchmarkBuild measures building the events of the largest corpus
// project (399 results, read as a dbt build).
func BenchmarkBuild(b *testing.B) {
	in, ok := corpusInputs(b)["tuva-2024-02"]
	if !ok {
		b.Skip("tuva-2024-02 not in the corpus")
	}
	rr := *in.Steps[0].Results
	rr.Command = "build"
	in.Steps[0].Results = &rr
	var n int
	for b.Loop() {
		n = len(Build(in, Options{}).Events)
	}
	b.ReportMetric(float64(n), "events/run")
}
