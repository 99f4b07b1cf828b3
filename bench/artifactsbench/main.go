// Command artifactsbench measures reading a (large) manifest into the
// normalised model: throughput, peak heap, total allocation, with and without
// code, the lineage graph build, and Python's json.load of the same file for
// comparison, printed side by side. Generate the input with manifestgen.
//
//	go run ./bench/manifestgen -size 100MB -o /tmp/big_manifest.json
//	GOMAXPROCS=1 go run ./bench/artifactsbench -file /tmp/big_manifest.json
//
// Peak heap is sampled from runtime/metrics every millisecond by a goroutine;
// with GOMAXPROCS=1 it shares the core with the reader, which costs a little
// throughput and may miss a short spike, so the figure is a lower bound on the
// true peak, close within one sampling interval's allocation.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/dbtlink/dbtlink/artifacts"
	"github.com/dbtlink/dbtlink/lineage"
)

type result struct {
	name      string
	wall      time.Duration
	peakHeap  uint64
	allocB    uint64
	allocN    uint64
	retained  uint64
	note      string
	failed    error
	noMemInfo bool
}

func main() {
	file := flag.String("file", "/tmp/big_manifest.json", "manifest to read")
	runs := flag.Int("runs", 3, "runs per measurement; the fastest is reported")
	python := flag.String("python", "python3", "python interpreter for the json.load comparison (empty to skip)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the SkipCode reads to this file")
	flag.Parse()

	st, err := os.Stat(*file)
	if err != nil {
		fmt.Fprintln(os.Stderr, "artifactsbench:", err)
		os.Exit(1)
	}
	size := st.Size()
	fmt.Printf("file: %s (%.1f MB), GOMAXPROCS=%d, %s\n", *file, float64(size)/1e6, runtime.GOMAXPROCS(0), runtime.Version())

	var results []result
	var m *artifacts.Manifest
	read := func(name string, opts ...artifacts.Option) {
		best := result{name: name}
		for i := range *runs {
			m = nil
			r := measure(name, func() (any, error) {
				var err error
				m, err = artifacts.ReadManifestFile(*file, opts...)
				if err == nil {
					return m, nil
				}
				return nil, err
			})
			if r.failed != nil || i == 0 || r.wall < best.wall {
				best = r
			}
			if r.failed != nil {
				break
			}
		}
		if m != nil {
			best.note = fmt.Sprintf("%d nodes, %d macros", len(m.Nodes), len(m.Macros))
		}
		results = append(results, best)
	}
	read("ReadManifest")
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			_ = pprof.StartCPUProfile(f)
			defer func() { pprof.StopCPUProfile(); f.Close() }()
		}
	}
	read("ReadManifest SkipCode", artifacts.SkipCode())
	if m != nil {
		best := result{name: "lineage.Build"}
		for i := range *runs {
			r := measure("lineage.Build", func() (any, error) { return lineage.Build(m), nil })
			if i == 0 || r.wall < best.wall {
				best = r
			}
		}
		best.note = "on the SkipCode manifest"
		results = append(results, best)
	}
	if *python != "" {
		best := result{name: "python json.load", noMemInfo: true}
		for i := range *runs {
			start := time.Now()
			cmd := exec.Command(*python, "-c", "import json,sys; json.load(open(sys.argv[1]))", *file)
			cmd.Stderr = os.Stderr
			err := cmd.Run()
			wall := time.Since(start)
			if err != nil {
				best.failed = err
				break
			}
			if i == 0 || wall < best.wall {
				best.wall = wall
			}
		}
		best.note = "wall clock incl. interpreter start"
		results = append(results, best)
	}

	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "measurement\ttime\tMB/s\tpeak heap MB\tretained MB\talloc MB\tallocs\t\tnote\t")
	var py, skip time.Duration
	for _, r := range results {
		if r.failed != nil {
			fmt.Fprintf(tw, "%s\tfailed: %v\t\t\t\t\t\t\t\t\n", r.name, r.failed)
			continue
		}
		mbps := float64(size) / 1e6 / r.wall.Seconds()
		mem := fmt.Sprintf("%.1f\t%.1f\t%.1f\t%d", mb(r.peakHeap), mb(r.retained), mb(r.allocB), r.allocN)
		if r.noMemInfo {
			mem = "-\t-\t-\t-"
		}
		if r.name == "lineage.Build" {
			mbps = 0
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\t%s\t\n", r.name, r.wall.Round(time.Millisecond), fmtRate(mbps), mem, r.note)
		switch r.name {
		case "python json.load":
			py = r.wall
		case "ReadManifest SkipCode":
			skip = r.wall
		}
	}
	tw.Flush()
	if py > 0 && skip > 0 {
		fmt.Printf("ReadManifest SkipCode is %.1fx python json.load\n", py.Seconds()/skip.Seconds())
	}
}

func fmtRate(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", v)
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }

var samples = []metrics.Sample{
	{Name: "/gc/heap/allocs:bytes"},
	{Name: "/gc/heap/allocs:objects"},
	{Name: "/memory/classes/heap/objects:bytes"},
}

// measure runs fn once after a GC and reports wall time, the peak of heap
// object bytes sampled during the run, allocation totals, and the heap still
// live afterwards while fn's result is kept.
func measure(name string, fn func() (any, error)) result {
	runtime.GC()
	runtime.GC()
	metrics.Read(samples)
	allocB0, allocN0 := samples[0].Value.Uint64(), samples[1].Value.Uint64()
	base := samples[2].Value.Uint64()

	var peak atomic.Uint64
	peak.Store(base)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				metrics.Read(s)
				if v := s[0].Value.Uint64(); v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	}()
	start := time.Now()
	v, err := fn()
	wall := time.Since(start)
	close(stop)
	<-done
	metrics.Read(samples)
	r := result{name: name, wall: wall, failed: err,
		allocB: samples[0].Value.Uint64() - allocB0,
		allocN: samples[1].Value.Uint64() - allocN0,
	}
	if v := samples[2].Value.Uint64(); v > peak.Load() {
		peak.Store(v)
	}
	r.peakHeap = peak.Load() - min(base, peak.Load())
	runtime.GC()
	metrics.Read(samples)
	r.retained = samples[2].Value.Uint64() - min(base, samples[2].Value.Uint64())
	runtime.KeepAlive(v)
	return r
}
