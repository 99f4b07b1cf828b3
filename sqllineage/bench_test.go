package sqllineage

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/artifacts"
)

// BenchmarkCorpus parses and resolves every compiled model of the shared
// corpus once per iteration, each manifest as one ResolveProject call, and
// reports queries/s. Run on one core:
//
//	nice go test ./sqllineage -run '^$' -bench Corpus -cpu 1
func BenchmarkCorpus(b *testing.B) {
	corpus := loadCorpus(b)
	n := 0
	for _, cm := range corpus {
		n += len(cm.models)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		for _, cm := range corpus {
			ResolveProject(context.Background(), cm.models, ProjectOptions{Dialect: cm.dialect, Schema: cm.schema})
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "queries/s")
	b.ReportMetric(float64(n*b.N)/(cpuTime()-cpu0).Seconds(), "queries/cpu-s")
	b.ReportMetric(float64(n), "queries/op")
}

// cpuTime is the process's user+system time. On a shared machine wall time
// mostly measures the neighbours; with -cpu 1 CPU time is what one core spends.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkScaledManifest resolves a manifest scaled by bench/manifestgen
// (SQLLINEAGE_BENCH_MANIFEST; skipped when unset), e.g. 20,020 models:
//
//	go run ./bench/manifestgen -in lineage/testdata/hubspot_v12.json -size 193MB -o /tmp/m20k.json
//	SQLLINEAGE_BENCH_MANIFEST=/tmp/m20k.json nice go test ./sqllineage -run '^$' -bench Scaled -cpu 1 -benchtime 3x
//
// Reading the manifest is not timed; sync time is what the catalog adds.
func BenchmarkScaledManifest(b *testing.B) {
	path := os.Getenv("SQLLINEAGE_BENCH_MANIFEST")
	if path == "" {
		b.Skip("SQLLINEAGE_BENCH_MANIFEST is not set (a manifest from bench/manifestgen)")
	}
	m, err := artifacts.ReadManifestFile(path)
	if err != nil {
		b.Fatal(err)
	}
	d, _ := DialectFor(m.Metadata.AdapterType)
	var models []Model
	schema := NewMapSchema()
	for _, n := range m.Nodes {
		switch {
		case n.ResourceType == artifacts.Model && strings.TrimSpace(n.CompiledCode) != "":
			models = append(models, Model{ID: n.UniqueID, Relation: n.RelationParts, SQL: n.CompiledCode})
		case n.ResourceType == artifacts.Source && len(n.Columns) > 0:
			cols := make([]string, len(n.Columns))
			for i, c := range n.Columns {
				cols[i] = c.Name
			}
			schema.Add(n.RelationParts, cols)
		}
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	var complete int
	for b.Loop() {
		start := time.Now()
		res := ResolveProject(context.Background(), models, ProjectOptions{Dialect: d, Schema: schema})
		b.ReportMetric(time.Since(start).Seconds(), "s/manifest")
		complete = 0
		for _, r := range res {
			if r.Err == nil && r.Result.Complete() {
				complete++
			}
		}
	}
	b.ReportMetric(float64(len(models)*b.N)/b.Elapsed().Seconds(), "queries/s")
	b.ReportMetric(float64(len(models)*b.N)/(cpuTime()-cpu0).Seconds(), "queries/cpu-s")
	b.ReportMetric(float64(len(models)), "models")
	b.ReportMetric(100*float64(complete)/float64(len(models)), "%complete")
}
