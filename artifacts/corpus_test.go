package artifacts

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// sharedCorpus is the full set of real artifacts; testdata holds a subset so
// that a fresh clone still tests several versions.
const sharedCorpus = "../../shared/artifacts"

// corpusFiles lists the JSON files under root (PROVENANCE.md and other
// non-JSON files are skipped).
func corpusFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		// Synthetic files are not real artifacts, and the oldest shapes carry
		// no schema version to count by; legacy_test.go checks them.
		if de.IsDir() && (de.Name() == "fuzz" || strings.HasPrefix(de.Name(), "synthetic-")) {
			return filepath.SkipDir
		}
		if !de.IsDir() && strings.HasSuffix(p, ".json") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// rawCounts computes, with plain encoding/json and no code from this package,
// the counts the readers must reproduce, keyed like Summary.Counts, and the
// kind from the schema URL.
func rawCounts(t *testing.T, path string) (Kind, map[string]int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	md, _ := raw["metadata"].(map[string]any)
	url, _ := md["dbt_schema_version"].(string)
	counts := map[string]int{}
	obj := func(k string) map[string]any { m, _ := raw[k].(map[string]any); return m }
	switch {
	case strings.Contains(url, "/manifest/"):
		for _, n := range obj("nodes") {
			rt, _ := n.(map[string]any)["resource_type"].(string)
			counts[rt]++
		}
		for sec, rt := range map[string]string{"sources": "source", "exposures": "exposure", "metrics": "metric",
			"semantic_models": "semantic_model", "saved_queries": "saved_query", "unit_tests": "unit_test",
			"functions": "function", "macros": "macro", "groups": "group"} {
			if n := len(obj(sec)); n > 0 {
				counts[rt] += n
			}
		}
		return KindManifest, counts
	case strings.Contains(url, "/catalog/"):
		counts["nodes"] = len(obj("nodes"))
		counts["sources"] = len(obj("sources"))
		if l, _ := raw["errors"].([]any); len(l) > 0 {
			counts["errors"] = len(l)
		}
		return KindCatalog, counts
	case strings.Contains(url, "/run-results/"):
		l, _ := raw["results"].([]any)
		counts["results"] = len(l)
		return KindRunResults, counts
	case strings.Contains(url, "/sources/"):
		l, _ := raw["results"].([]any)
		counts["results"] = len(l)
		return KindSources, counts
	}
	t.Fatalf("%s: unknown schema %q", path, url)
	return "", nil
}

func checkCorpus(t *testing.T, root string) {
	files := corpusFiles(t, root)
	if len(files) == 0 {
		t.Fatalf("no artifacts under %s", root)
	}
	for _, p := range files {
		t.Run(strings.TrimPrefix(p, root+"/"), func(t *testing.T) {
			kind, want := rawCounts(t, p)
			s, err := Inspect(p)
			if err != nil {
				t.Fatal(err)
			}
			if s.Kind != kind {
				t.Errorf("kind = %q, want %q", s.Kind, kind)
			}
			if diff := cmp.Diff(want, s.Counts); diff != "" {
				t.Errorf("counts (-raw +read):\n%s", diff)
			}
			if s.SchemaVersion < 1 || s.DBTVersion == "" {
				t.Errorf("metadata not read: version %d, dbt %q", s.SchemaVersion, s.DBTVersion)
			}
			if kind == KindManifest {
				// Inspect only counts a manifest; the full read must agree.
				f, err := ReadFile(p, SkipCode())
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(Summarize(p, f), s); diff != "" {
					t.Errorf("Inspect differs from Summarize of the full read (-full +inspect):\n%s", diff)
				}
				// Every node keeps its unique id and a resource type.
				m, err := ReadManifestFile(p, SkipCode())
				if err != nil {
					t.Fatal(err)
				}
				for _, n := range m.Nodes {
					if n.UniqueID == "" || n.ResourceType == "" || n.Name == "" {
						t.Fatalf("incomplete node %+v", n)
					}
					if n.RawCode != "" || n.CompiledCode != "" {
						t.Fatalf("%s: code kept despite SkipCode", n.UniqueID)
					}
				}
			}
		})
	}
}

// sharedHint says what ../shared is when a test that needs it cannot find it.
const sharedHint = "../shared is the project's folder of third-party reference files (dbt Labs' OpenAPI specs, responses recorded from dbt Cloud, 88 real dbt artifacts; each part's PROVENANCE.md says where it comes from) that sits beside the repository on developer machines and in CI; put a copy next to this checkout, or unset DBTLINK_REQUIRE_SHARED to skip these tests"

// TestCorpus reads every real artifact in the shared corpus and compares the
// counts with an independent encoding/json decoding. CI sets
// DBTLINK_REQUIRE_SHARED=1 so that a missing corpus fails instead of skipping.
func TestCorpus(t *testing.T) {
	if _, err := os.Stat(sharedCorpus); err != nil {
		if os.Getenv("DBTLINK_REQUIRE_SHARED") == "1" {
			t.Fatalf("shared corpus %s required (DBTLINK_REQUIRE_SHARED=1): %v\n%s", sharedCorpus, err, sharedHint)
		}
		t.Skipf("shared corpus %s absent (%v); testdata is still checked by TestTestdataCorpus", sharedCorpus, err)
	}
	checkCorpus(t, sharedCorpus)
}

// TestTestdataCorpus runs the same checks on the copies in testdata.
func TestTestdataCorpus(t *testing.T) { checkCorpus(t, "testdata") }
