package tracker_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/internal/openlineage"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/store/storetest"
	"github.com/dbtlink/dbtlink/internal/tracker"
)

// flakyLineage fails its first call, then sends through the real router,
// so that the test sees River retry the delivery job.
type flakyLineage struct {
	next  tracker.LineageEmitter
	mu    sync.Mutex
	calls []int64
}

func (f *flakyLineage) EmitRun(ctx context.Context, conn string, c *dbtcloud.Client, acct, dbtRun int64, sent map[string]int) error {
	f.mu.Lock()
	f.calls = append(f.calls, dbtRun)
	n := len(f.calls)
	f.mu.Unlock()
	if n == 1 {
		return errors.New("receiver down")
	}
	return f.next.EmitRun(ctx, conn, c, acct, dbtRun, sent)
}

// TestLineageAfterRun: a finished tracked run's events reach the
// configured file through the tracker's own job, retried after a failure.
func TestLineageAfterRun(t *testing.T) {
	t.Parallel()
	for _, be := range storetest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "events.jsonl")
			router, err := openlineage.NewRouter(openlineage.Config{File: path}, nil, nil, nil, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			fl := &flakyLineage{next: router}
			reg := prometheus.NewRegistry()
			b := setup(t, be, func(c *tracker.Config) { c.Lineage, c.Registry = fl, reg })
			r, err := b.tr.CreateRun(context.Background(), tracker.RunRequest{Project: "analytics", Environment: "Production", Job: "failing build"})
			if err != nil {
				t.Fatal(err)
			}
			got := b.waitEnd(t, r.ID)
			if got.State != store.RunError {
				t.Fatalf("run ended %s", got.State)
			}
			var evs []openlineage.RunEvent
			deadline := time.Now().Add(30 * time.Second)
			for {
				evs = readEvents(t, path)
				if n := len(evs); n > 0 && evs[n-1].Job.Name == openlineage.ParentJobName(b.emu.AccountID, got.JobID) && evs[n-1].EventType != openlineage.Start {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the run's events did not arrive: %d so far", len(evs))
				}
				time.Sleep(20 * time.Millisecond)
			}
			if evs[0].EventType != openlineage.Start || evs[len(evs)-1].EventType != openlineage.Fail {
				t.Errorf("events from %s to %s, want START to FAIL", evs[0].EventType, evs[len(evs)-1].EventType)
			}
			fl.mu.Lock()
			calls := append([]int64(nil), fl.calls...)
			fl.mu.Unlock()
			if len(calls) != 2 || calls[0] != got.DbtRunID || calls[1] != got.DbtRunID {
				t.Errorf("emitter called for %v, want dbt run %d twice (a failure, then the retry)", calls, got.DbtRunID)
			}
			outcomes := map[string]float64{}
			for deadline := time.Now().Add(10 * time.Second); outcomes["sent"] == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				outcomes = lineageOutcomes(t, reg)
			}
			if outcomes["retry"] != 1 || outcomes["sent"] != 1 || outcomes["lost"] != 0 {
				t.Errorf("dbtlink_openlineage_runs_total %v, want one retry and one sent", outcomes)
			}
		})
	}
}

func lineageOutcomes(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "dbtlink_openlineage_runs_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			out[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
	}
	return out
}

func readEvents(t *testing.T, path string) []openlineage.RunEvent {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []openlineage.RunEvent
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var ev openlineage.RunEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return out // a line being written
		}
		out = append(out, ev)
	}
	return out
}

// downReceiver takes the first `before` posts, refuses the next `refuse`
// with 503, then takes everything.
type downReceiver struct {
	mu             sync.Mutex
	before, refuse int
	got            []string
}

func (d *downReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.got) >= d.before && d.refuse > 0 {
		d.refuse--
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	var ev openlineage.RunEvent
	if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	d.got = append(d.got, ev.Run.RunID+"/"+string(ev.EventType))
	w.WriteHeader(http.StatusCreated)
}

// TestLineageResumesPerDestination: a receiver that goes down mid-run
// fails the delivery job; River's retry sends the receiver only the events
// it lacks and the file beside it none again, so each has every event once.
func TestLineageResumesPerDestination(t *testing.T) {
	t.Parallel()
	for _, be := range storetest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			testLineageResumes(t, be)
		})
	}
}

// testLineageResumes runs on each store, whose River drivers keep job
// metadata each their own way.
func testLineageResumes(t *testing.T, be storetest.Backend) {
	rec := &downReceiver{before: 3, refuse: 2}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	path := filepath.Join(t.TempDir(), "events.jsonl")
	router, err := openlineage.NewRouter(openlineage.Config{URL: srv.URL, File: path}, nil, nil,
		&openlineage.HTTPOptions{Attempts: 2, Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	b := setup(t, be, func(c *tracker.Config) { c.Lineage, c.Registry = router, reg })
	r, err := b.tr.CreateRun(context.Background(), tracker.RunRequest{Project: "analytics", Environment: "Production", Job: "daily build"})
	if err != nil {
		t.Fatal(err)
	}
	got := b.waitEnd(t, r.ID)
	outcomes := map[string]float64{}
	for deadline := time.Now().Add(30 * time.Second); outcomes["sent"] == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the events of dbt run %d were not sent: %v", got.DbtRunID, outcomes)
		}
		outcomes = lineageOutcomes(t, reg)
	}
	if outcomes["retry"] != 1 {
		t.Errorf("outcomes %v, want one failed attempt before the delivery", outcomes)
	}
	var inFile []string
	for _, ev := range readEvents(t, path) {
		inFile = append(inFile, ev.Run.RunID+"/"+string(ev.EventType))
	}
	rec.mu.Lock()
	atReceiver := append([]string(nil), rec.got...)
	rec.mu.Unlock()
	if len(inFile) < 10 || !slices.Equal(inFile, atReceiver) {
		t.Fatalf("file has %d events, receiver %d; want the same events in the same order", len(inFile), len(atReceiver))
	}
	seen := map[string]bool{}
	for _, k := range inFile {
		if seen[k] {
			t.Errorf("event %s delivered twice", k)
		}
		seen[k] = true
	}
}
