package artifacts

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// maxSeed bounds seed size. The fuzzing engine minimises every new
// interesting input, and minimising one derived from a 400 KB manifest takes
// longer than a whole fuzzing session; small seeds keep the engine mutating.
// The large files are covered by the corpus tests.
const maxSeed = 16 << 10

// addSeeds adds the small testdata artifacts (run results, catalog, sources)
// and synthetic samples of every kind as seeds.
func addSeeds(f *testing.F) {
	f.Helper()
	err := filepath.WalkDir("testdata", func(p string, de os.DirEntry, err error) error {
		if err != nil || de.IsDir() || filepath.Ext(p) != ".json" {
			return err
		}
		b, err := os.ReadFile(p)
		if err == nil && len(b) <= maxSeed {
			f.Add(b)
		}
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(tolerantManifest))
	f.Add([]byte(snowflakeManifest))
	f.Add([]byte(snowflakeCatalog))
	f.Add([]byte(`{"nodes": {"model.a.b": {"resource_type": "model", "columns": [{"name": "x"}], "meta": {"owner": ["a"]}}}, "macros": {}}`))
	f.Add([]byte(`{"results": [{"status": "Error", "failures": 1e400, "timing": [{"started_at": 1.5}]}], "elapsed_time": null}`))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
}

// checkErr requires errors to be *Error values with a name-independent shape.
func checkErr(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var ae *Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an *Error", err, err)
	}
	_ = err.Error()
}

func FuzzReadManifest(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ReadManifest(bytes.NewReader(b), WithName("fuzz"))
		checkErr(t, err)
		if err != nil {
			return
		}
		// Skipping code must not change what else is read.
		m2, err := ReadManifest(bytes.NewReader(b), SkipCode())
		if err != nil {
			t.Fatalf("SkipCode read failed where full read succeeded: %v", err)
		}
		if len(m.Nodes) != len(m2.Nodes) || len(m.Macros) != len(m2.Macros) {
			t.Fatalf("SkipCode changed counts: %d/%d vs %d/%d", len(m.Nodes), len(m.Macros), len(m2.Nodes), len(m2.Macros))
		}
		for _, n := range m.Nodes {
			_ = m.Node(n.UniqueID)
		}
		Join(m, nil, nil, nil)
		Summarize("", &File{Kind: KindManifest, Manifest: m})
	})
}

func FuzzReadRunResults(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		rr, err := ReadRunResults(bytes.NewReader(b))
		checkErr(t, err)
		if err == nil {
			Summarize("", &File{Kind: KindRunResults, RunResults: rr})
		}
		_, _, err = Detect(bytes.NewReader(b))
		checkErr(t, err)
	})
}

func FuzzReadCatalog(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ReadCatalog(bytes.NewReader(b))
		checkErr(t, err)
		if err == nil {
			m := &Manifest{}
			for _, tb := range c.Nodes {
				m.Nodes = append(m.Nodes, &Node{UniqueID: tb.UniqueID, Columns: []Column{{Name: "ID"}, {Name: "x"}}})
			}
			Join(m, nil, c, nil)
			Summarize("", &File{Kind: KindCatalog, Catalog: c})
		}
	})
}

func FuzzReadSources(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ReadSources(bytes.NewReader(b))
		checkErr(t, err)
		if err == nil {
			Summarize("", &File{Kind: KindSources, Sources: s})
		}
	})
}
