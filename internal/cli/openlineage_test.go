package cli

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
	"github.com/dbtlink/dbtlink/internal/openlineage"
)

func readLineageFile(t *testing.T, path string) []openlineage.RunEvent {
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
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, ev)
	}
	return out
}

// TestJobRunOpenLineage: `job run --wait` sends the finished run's events;
// a failed delivery is a warning that leaves the exit status alone.
func TestJobRunOpenLineage(t *testing.T) {
	t.Parallel()
	t.Run("file", func(t *testing.T) {
		t.Parallel()
		h := newRunHarness(t)
		path := filepath.Join(t.TempDir(), "ol.jsonl")
		r := h.run("job", "run", "302", "--wait", "--openlineage-file", path, "--openlineage-namespace", "analytics")
		wantCode(t, r, ExitRunError, "job run 302 --wait --openlineage-file")
		evs := readLineageFile(t, path)
		if len(evs) < 4 {
			t.Fatalf("%d events", len(evs))
		}
		parent := openlineage.ParentJobName(emulator.DemoAccountID, emulator.DemoFailingJobID)
		first, last := evs[0], evs[len(evs)-1]
		if first.EventType != openlineage.Start || first.Job.Name != parent || last.EventType != openlineage.Fail || last.Job.Name != parent {
			t.Errorf("events from %s %s to %s %s", first.EventType, first.Job.Name, last.EventType, last.Job.Name)
		}
		failing := 0
		for _, e := range evs {
			if e.Job.Namespace != "analytics" {
				t.Errorf("job namespace %q, want --openlineage-namespace's", e.Job.Namespace)
			}
			for _, in := range e.Inputs {
				if dq := in.InputFacets.DataQualityAssertions; dq != nil && e.EventType == openlineage.Complete {
					for _, a := range dq.Assertions {
						if !a.Success {
							failing++
						}
					}
				}
			}
		}
		if failing != 1 {
			t.Errorf("%d failing assertions, want the one failed test", failing)
		}
		// The emulated connection names its DuckDB file, so datasets are
		// named after it and nothing asks for --openlineage-dataset-namespace.
		for _, e := range evs {
			for _, o := range e.Outputs {
				if o.Namespace != "duckdb://jaffle_shop.duckdb" {
					t.Fatalf("output namespace %q, want the connection's duckdb://jaffle_shop.duckdb", o.Namespace)
				}
			}
		}
		if strings.Contains(r.stderr, "dataset namespace") {
			t.Errorf("a warning about the dataset namespace although the connection names it:\n%s", r.stderr)
		}
	})
	t.Run("http from the environment", func(t *testing.T) {
		t.Parallel()
		const key = "ol-cli-key-81f2"
		var mu sync.Mutex
		var auth []string
		posts := 0
		rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			_, _ = io.Copy(io.Discard, req.Body)
			mu.Lock()
			posts++
			auth = append(auth, req.Header.Get("Authorization"))
			mu.Unlock()
			w.WriteHeader(http.StatusCreated)
		}))
		defer rec.Close()
		h := newRunHarness(t)
		h.env[openlineage.EnvURL] = rec.URL
		h.env[openlineage.EnvAPIKey] = key
		h.env[openlineage.EnvDatasetNamespace] = "duckdb://warehouse.duckdb"
		h.secrets = append(h.secrets, key)
		r := h.run("job", "run", "301", "--wait")
		wantCode(t, r, 0, "job run 301 --wait")
		mu.Lock()
		defer mu.Unlock()
		if posts < 4 {
			t.Fatalf("%d events posted", posts)
		}
		for _, a := range auth {
			if a != "Bearer "+key {
				t.Fatalf("Authorization %q", a)
			}
		}
		if strings.Contains(r.stderr, "OpenLineage") {
			t.Errorf("warnings although everything was delivered:\n%s", r.stderr)
		}
	})
	t.Run("receiver down", func(t *testing.T) {
		t.Parallel()
		rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			http.Error(w, "down", http.StatusServiceUnavailable)
		}))
		defer rec.Close()
		h := newRunHarness(t)
		h.env[openlineage.EnvAPIKey] = "ol-cli-key-down"
		h.secrets = append(h.secrets, "ol-cli-key-down")
		r := h.run("job", "run", "301", "--wait", "--openlineage-url", rec.URL, "--openlineage-timeout", "1s")
		wantCode(t, r, 0, "job run 301 --wait with the receiver down")
		if !strings.Contains(r.stderr, "warning: OpenLineage:") || !strings.Contains(r.stderr, "events of run 70000001 delivered") {
			t.Errorf("stderr lacks the delivery warning:\n%s", r.stderr)
		}
	})
	for _, args := range [][]string{
		{"job", "run", "301", "--openlineage-file", "x.jsonl"},
		{"job", "run", "301", "--wait", "--openlineage-url", "marquez:5000"},
		{"run", "retry", "1", "--openlineage-file", "x.jsonl"},
		{"run", "watch", "1", "--openlineage-url", "marquez:5000"},
	} {
		h := newRunHarness(t)
		r := h.run(args...)
		if r.code != ExitUsage || !strings.Contains(strings.ToLower(r.stderr), "openlineage") {
			t.Errorf("%v: exit %d, stderr %q; want a usage error about the OpenLineage flags", args, r.code, r.stderr)
		}
	}
}

func TestServeLineage(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if l, err := serveLineage(&openLineageFlags{}, getenv, nil); err != nil || l != nil {
		t.Fatalf("no configuration gave %v, %v; want no emitter", l, err)
	}
	if l, err := serveLineage(&openLineageFlags{Connections: []string{"dev=off"}}, getenv, nil); err != nil || l != nil {
		t.Fatalf("every connection off gave %v, %v; want no emitter", l, err)
	}
	if _, ok := (&openLineageFlags{}).config(getenv).ColumnLineage.(*openlineage.SQLColumnLineage); !ok {
		t.Error("the commands' config has no SQL column lineage")
	}
	env[openlineage.EnvURL] = "http://marquez:5000"
	if l, err := serveLineage(&openLineageFlags{}, getenv, nil); err != nil || l == nil {
		t.Fatalf("$%s gave %v, %v", openlineage.EnvURL, l, err)
	}
	if _, err := serveLineage(&openLineageFlags{Connections: []string{"prod"}}, getenv, nil); exitCode(err) != ExitUsage {
		t.Errorf("a route without URL: %v", err)
	}
	cmd := NewCmdServe(NewFactory(nil), func(*ServeOptions) error { return nil })
	for _, name := range []string{"openlineage-url", "openlineage-file", "openlineage-namespace", "openlineage-dataset-namespace", "openlineage-connection", "openlineage-connection-dataset-namespace"} {
		if cmd.Flags().Lookup(name) == nil {
			t.Errorf("serve has no --%s", name)
		}
	}
	if !strings.Contains(cmd.Long, openlineage.EnvAPIKey) {
		t.Error("serve --help does not document the API key variable")
	}
}

// TestWatchAndRetryOpenLineage: `run watch` and `run retry --wait` send the
// events of the run they followed, as `job run --wait` does.
func TestWatchAndRetryOpenLineage(t *testing.T) {
	t.Parallel()
	h := newRunHarness(t)
	failed := h.finishedRun(emulator.DemoFailingJobID)
	watched := filepath.Join(t.TempDir(), "watch.jsonl")
	r := h.run("run", "watch", strconv.FormatInt(failed.ID, 10), "--openlineage-file", watched)
	wantCode(t, r, 0, "run watch --openlineage-file")
	evs := readLineageFile(t, watched)
	parent := openlineage.ParentJobName(emulator.DemoAccountID, emulator.DemoFailingJobID)
	if len(evs) < 4 || evs[0].Job.Name != parent || evs[len(evs)-1].EventType != openlineage.Fail {
		t.Fatalf("run watch sent %d events, want the failed run's from START to FAIL", len(evs))
	}

	retried := filepath.Join(t.TempDir(), "retry.jsonl")
	r = h.run("run", "retry", strconv.FormatInt(failed.ID, 10), "--wait", "--openlineage-file", retried)
	wantCode(t, r, 0, "run retry --wait --openlineage-file")
	evs = readLineageFile(t, retried)
	if len(evs) < 2 || evs[len(evs)-1].EventType != openlineage.Complete {
		t.Fatalf("run retry sent %d events, want the new run's ending in COMPLETE", len(evs))
	}
	// The events are the new run's: its parent run id differs from the
	// watched one's.
	if first := readLineageFile(t, watched)[0]; first.Run.RunID == evs[0].Run.RunID {
		t.Error("run retry sent the old run's events")
	}
	if !strings.Contains(evs[0].Job.Name, "jobs/"+strconv.FormatInt(emulator.DemoFailingJobID, 10)) {
		t.Errorf("retry's parent job %q", evs[0].Job.Name)
	}
}
