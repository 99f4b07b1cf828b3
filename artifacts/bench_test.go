package artifacts

import (
	"os"
	"testing"
)

// BenchmarkReadManifest reads the manifest named by DBTLINK_BENCH_MANIFEST
// (generate a large one with bench/manifestgen), else the v12 testdata file.
// bench/artifactsbench reports the same with peak heap and a Python baseline.
func BenchmarkReadManifest(b *testing.B) {
	p := os.Getenv("DBTLINK_BENCH_MANIFEST")
	if p == "" {
		p = tdV12
	}
	st, err := os.Stat(p)
	if err != nil {
		b.Skip(err)
	}
	for _, bc := range []struct {
		name string
		opts []Option
	}{{"full", nil}, {"SkipCode", []Option{SkipCode()}}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(st.Size())
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ReadManifestFile(p, bc.opts...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReadRunResults reads a real v6 run_results.json (dbt 1.12), whose
// statuses go through the same status handling as the oldest files.
func BenchmarkReadRunResults(b *testing.B) {
	const p = "testdata/dap-run_results-v6-jaffle_shop/run_results_1.12.json"
	st, err := os.Stat(p)
	if err != nil {
		b.Skip(err)
	}
	b.SetBytes(st.Size())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadRunResultsFile(p); err != nil {
			b.Fatal(err)
		}
	}
}
