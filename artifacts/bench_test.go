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
