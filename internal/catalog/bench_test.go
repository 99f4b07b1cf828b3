package catalog

import (
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/artifacts"
	"github.com/dbtlink/dbtlink/internal/store"
)

// BenchmarkBuildSnapshot builds the snapshot of the manifest named by
// DBTLINK_BENCH_MANIFEST (make a ~100 MB one with
// `go run ./bench/manifestgen -size 100MB -o /tmp/big_manifest.json`),
// else of the testdata manifest. Reading the manifest is not timed
// (artifacts' own benchmark covers it); Match against a table per relation
// is timed apart. live-MB is the heap held by manifest and snapshot after
// a build; cpu-ms/op the process CPU time per build, GC included.
func BenchmarkBuildSnapshot(b *testing.B) {
	p := os.Getenv("DBTLINK_BENCH_MANIFEST")
	if p == "" {
		p = "testdata/manifest_1.11.json.gz"
	}
	m, err := artifacts.ReadManifestFile(p)
	if err != nil {
		b.Skip(err)
	}
	in := &Inputs{Manifest: m}
	scope := store.CatalogScope{Key: "bench", AccountID: 1, ProjectID: 2}
	b.Run("build", func(b *testing.B) {
		b.ReportAllocs()
		var before runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		var snap store.Snapshot
		cpu0 := cpuTime()
		n := 0
		for b.Loop() {
			n++
			snap, err = BuildSnapshot(scope, in, BuildOptions{AccessURL: "https://cloud.getdbt.com"})
			if err != nil {
				b.Fatal(err)
			}
		}
		// CPU time per build (GC included) is steadier than wall time on a
		// shared machine.
		b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(n), "cpu-ms/op")
		var after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc)/(1<<20), "live-MB")
		b.ReportMetric(float64(len(snap.Nodes)), "nodes")
		b.ReportMetric(float64(len(snap.Edges)), "edges")
		runtime.KeepAlive(snap)
	})
	snap, err := BuildSnapshot(scope, in, BuildOptions{})
	if err != nil {
		b.Fatal(err)
	}
	// A warehouse table per distinct relation (manifestgen's copies share
	// relation names), a tenth left out so that some nodes are missing.
	var tables []TableCandidate
	seen := map[[3]string]bool{}
	for i, n := range snap.Nodes {
		k := [3]string{n.Database, n.Schema, n.Identifier}
		if n.Schema != "" && nodeHasRelation(&n) && i%10 != 0 && !seen[k] {
			seen[k] = true
			tables = append(tables, TableCandidate{ID: int64(i + 1), Database: n.Database, Schema: n.Schema, Name: n.Identifier})
		}
	}
	b.Run("match", func(b *testing.B) {
		b.ReportAllocs()
		var rep Report
		for b.Loop() {
			rep = Match(m.Metadata.AdapterType, snap.Nodes, tables)
		}
		b.ReportMetric(float64(len(tables)), "tables")
		b.ReportMetric(float64(rep.Counts.Matched), "matched")
		b.ReportMetric(float64(rep.Counts.Missing), "missing")
	})
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
