package openlineage

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
)

// receiver is a local OpenLineage endpoint in Marquez's shape: it
// validates every event it is posted and keeps them in arrival order.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	events []RunEvent
	raw    [][]byte
	// fail answers this many posts with 500 first.
	fail int
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost || req.URL.Path != LineagePath {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		b, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.fail > 0 {
			r.fail--
			http.Error(w, "try later", http.StatusInternalServerError)
			return
		}
		var ev RunEvent
		if err := json.Unmarshal(b, &ev); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.events = append(r.events, ev)
		r.raw = append(r.raw, b)
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) got() ([]RunEvent, [][]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]RunEvent(nil), r.events...), append([][]byte(nil), r.raw...)
}

const failingModelJobID = 399

// emulatorRun runs job on a fresh emulator to its end and returns the
// client and the run.
func emulatorRun(t *testing.T, jobID int64) (*dbtcloud.Client, *emulator.Server, int64) {
	t.Helper()
	seed := emulator.DefaultSeed()
	env := &seed.Accounts[0].Projects[0].Environments[0]
	env.Jobs = append(env.Jobs, emulator.SeedJob{ID: failingModelJobID, Name: "model fails", ExecuteSteps: []string{"dbt seed", "dbt build"},
		Behaviour: emulator.SeedBehaviour{Outcome: "error", FailingNode: "model.jaffle_shop.orders", StepSeconds: []float64{10, 60}}})
	fc := emulator.NewFakeClock(time.Date(2026, 3, 12, 6, 0, 0, 0, time.UTC))
	srv, err := emulator.New(emulator.Options{Clock: fc, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	c, err := dbtcloud.NewClient(srv.URL, srv.Token, dbtcloud.WithHTTPClient(srv.Client()),
		dbtcloud.WithRetryPolicy(dbtcloud.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	run, _, err := c.Runs.Trigger(t.Context(), srv.AccountID, jobID, &dbtcloud.TriggerRunRequest{Cause: "openlineage test"})
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		r, _, err := c.Runs.Get(t.Context(), srv.AccountID, run.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status.Terminal() {
			return c, srv, run.ID
		}
		srv.Advance(time.Minute)
	}
	t.Fatalf("run %d did not finish in 100 emulated minutes", run.ID)
	return nil, nil, 0
}

// checkSequence checks what every run's events must satisfy: each run has
// one START first and exactly one COMPLETE, FAIL or ABORT after it, the
// dbt Cloud run's events come first and last, and every other run points
// at it through its parent facet.
func checkSequence(t *testing.T, evs []RunEvent, jobID, accountID int64) map[string][]RunEvent {
	t.Helper()
	if len(evs) < 2 {
		t.Fatalf("%d events", len(evs))
	}
	parent := ParentJobName(accountID, jobID)
	first, last := evs[0], evs[len(evs)-1]
	if first.Job.Name != parent || first.EventType != Start || last.Job.Name != parent || last.Run.RunID != first.Run.RunID {
		t.Fatalf("the dbt Cloud run's events do not frame the others: first %s %s, last %s %s", first.EventType, first.Job.Name, last.EventType, last.Job.Name)
	}
	byRun := map[string][]RunEvent{}
	var order []string
	for _, e := range evs {
		if byRun[e.Run.RunID] == nil {
			order = append(order, e.Run.RunID)
		}
		byRun[e.Run.RunID] = append(byRun[e.Run.RunID], e)
	}
	for _, id := range order {
		list := byRun[id]
		if len(list) != 2 || list[0].EventType != Start || (list[1].EventType != Complete && list[1].EventType != Fail && list[1].EventType != Abort) {
			var types []string
			for _, e := range list {
				types = append(types, string(e.EventType))
			}
			t.Errorf("run %s (%s): events %v, want START then one of COMPLETE, FAIL, ABORT", id, list[0].Job.Name, types)
		}
		if list[0].Job.Name == parent {
			continue
		}
		for _, e := range list {
			p := e.Run.Facets.Parent
			if p == nil || p.Run.RunID != first.Run.RunID || p.Job.Name != parent || p.Job.Namespace != first.Job.Namespace {
				t.Errorf("%s %s: parent %+v, want the dbt Cloud run", e.EventType, e.Job.Name, p)
			}
		}
		if list[1].EventTime.Before(list[0].EventTime) {
			t.Errorf("%s ends before it starts", list[0].Job.Name)
		}
	}
	return byRun
}

// TestEmulatorRunsToReceiver runs dbt Cloud jobs on the emulator and posts
// their events to a local receiver, as `dbtlink serve` does after a run:
// every event validates, and the sequence is right for a run whose model
// fails, one whose test fails and one that succeeds with docs.
func TestEmulatorRunsToReceiver(t *testing.T) {
	v := getValidator(t)
	tests := []struct {
		name  string
		job   int64
		check func(t *testing.T, evs []RunEvent, byRun map[string][]RunEvent)
	}{
		{"failing model", failingModelJobID, func(t *testing.T, evs []RunEvent, byRun map[string][]RunEvent) {
			if last := evs[len(evs)-1]; last.EventType != Fail || last.Run.Facets.ErrorMessage == nil {
				t.Errorf("the failed dbt Cloud run ends with %s %+v, want FAIL with errorMessage", last.EventType, last.Run.Facets.ErrorMessage)
			}
			var failed, seeds, built int
			for _, e := range evs {
				switch {
				case e.EventType == Fail && strings.HasSuffix(e.Job.Name, ".jaffle_shop.orders.build.run"):
					failed++
					if e.Run.Facets.ErrorMessage == nil || e.Run.Facets.ErrorMessage.Message == "" {
						t.Errorf("FAIL of orders without errorMessage: %+v", e.Run.Facets)
					}
					if len(e.Outputs) != 0 {
						t.Error("FAIL of orders has outputs")
					}
				case e.EventType == Complete && strings.HasSuffix(e.Job.Name, ".jaffle_shop.orders.build.run"):
					t.Errorf("orders, the failing model, completed")
				case e.EventType == Complete && strings.HasSuffix(e.Job.Name, ".seed"):
					seeds++
				case e.EventType == Complete && strings.HasSuffix(e.Job.Name, ".build.run"):
					built++
				}
			}
			if failed != 1 || seeds == 0 || built == 0 {
				t.Errorf("%d FAILs of orders, %d seeds and %d models completed; want 1 and some", failed, seeds, built)
			}
		}},
		{"failing test", emulator.DemoFailingJobID, func(t *testing.T, evs []RunEvent, byRun map[string][]RunEvent) {
			var failing []Assertion
			testJobs := 0
			for _, e := range evs {
				if e.EventType != Complete || e.Job.Facets.JobType == nil || e.Job.Facets.JobType.JobType != "TEST" {
					continue
				}
				testJobs++
				if !strings.HasSuffix(e.Job.Name, ".test") || len(e.Inputs) != 1 || e.Inputs[0].InputFacets.DataQualityAssertions == nil {
					t.Errorf("test job %s: %+v", e.Job.Name, e.Inputs)
					continue
				}
				for _, a := range e.Inputs[0].InputFacets.DataQualityAssertions.Assertions {
					if !a.Success {
						failing = append(failing, a)
					}
				}
			}
			if testJobs == 0 || len(failing) != 1 {
				t.Errorf("%d test jobs with failing assertions %+v; want one failing assertion", testJobs, failing)
			}
			if last := evs[len(evs)-1]; last.EventType != Fail {
				t.Errorf("run ends with %s, want FAIL", last.EventType)
			}
		}},
		{"docs build", emulator.DemoDocsJobID, func(t *testing.T, evs []RunEvent, byRun map[string][]RunEvent) {
			if last := evs[len(evs)-1]; last.EventType != Complete {
				t.Errorf("run ends with %s, want COMPLETE", last.EventType)
			}
			typed := 0
			for _, e := range evs {
				if e.EventType == Fail {
					t.Errorf("FAIL in a successful run: %s", e.Job.Name)
				}
				for _, o := range e.Outputs {
					if o.Facets.Schema != nil && len(o.Facets.Schema.Fields) > 0 && o.Facets.Schema.Fields[0].Type != "" {
						typed++
					}
					// The emulated connection's details name the DuckDB file.
					if o.Namespace != "duckdb://jaffle_shop.duckdb" {
						t.Errorf("output namespace %q, want duckdb://jaffle_shop.duckdb", o.Namespace)
					}
				}
				if e.Job.Facets.JobType.JobType == "MODEL" && e.Job.Facets.SQL == nil {
					t.Errorf("%s has no sql facet", e.Job.Name)
				}
			}
			if typed == 0 {
				t.Error("no output has column types, although the run generated a catalog")
			}
			// The build step's manifest carries compiled SQL, so outputs get columnLineage facets.
			var from []ColumnLineageInput
			for _, e := range evs {
				for _, o := range e.Outputs {
					if e.EventType == Complete && strings.HasSuffix(o.Name, ".customers") && o.Facets.ColumnLineage != nil {
						from = o.Facets.ColumnLineage.Fields["customer_id"].InputFields
					}
				}
			}
			if !slices.ContainsFunc(from, func(in ColumnLineageInput) bool {
				return strings.HasSuffix(in.Name, ".stg_customers") && in.Field == "customer_id"
			}) {
				t.Errorf("customers.customer_id has input fields %+v, want stg_customers.customer_id", from)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			client, srv, runID := emulatorRun(t, tt.job)
			rec := newReceiver(t)
			rec.fail = 2 // delivery retries through the receiver's 500s
			target, err := NewTarget(Config{URL: rec.URL, APIKey: NewAPIKey(testKey), ColumnLineage: &SQLColumnLineage{}},
				&HTTPOptions{Sleep: (&noSleep{}).sleep})
			if err != nil {
				t.Fatal(err)
			}
			router := &Router{Default: target, Log: slog.New(slog.DiscardHandler)}
			if err := router.EmitRun(t.Context(), "", client, srv.AccountID, runID, nil); err != nil {
				t.Fatal(err)
			}
			evs, raw := rec.got()
			for _, b := range raw {
				v.validateJSON(t, b)
			}
			byRun := checkSequence(t, evs, tt.job, emulator.DemoAccountID)
			tt.check(t, evs, byRun)
		})
	}
}

// TestRouter: a connection routed elsewhere, or off, does not use the
// server-wide target.
func TestRouter(t *testing.T) {
	r, err := NewRouter(Config{URL: "http://marquez:5000", DatasetNamespace: "postgres://main:5432"}, []string{"prod=https://ol.example.com", "dev=off"},
		[]string{"prod=snowflake://xy12345", "bq=bigquery", "dev=duckdb://x"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.For("prod").Transport.(*HTTPTransport).Endpoint(); got != "https://ol.example.com/api/v1/lineage" {
		t.Errorf("prod goes to %s", got)
	}
	if got := r.For("prod").Config.DatasetNamespace; got != "snowflake://xy12345" {
		t.Errorf("prod's dataset namespace %q", got)
	}
	if got := r.For("bq"); got.Config.DatasetNamespace != "bigquery" || got.Transport.(*HTTPTransport).Endpoint() != "http://marquez:5000/api/v1/lineage" {
		t.Errorf("bq: %v", got.Config)
	}
	if got := r.For("other").Config.DatasetNamespace; got != "postgres://main:5432" {
		t.Errorf("other's dataset namespace %q", got)
	}
	if r.For("dev") != nil {
		t.Error("dev is not off")
	}
	if got := r.For("other").Transport.(*HTTPTransport).Endpoint(); got != "http://marquez:5000/api/v1/lineage" {
		t.Errorf("other goes to %s", got)
	}
	for _, bad := range [][]string{{"prod"}, {"=http://x"}, {"a=http://x", "a=off"}, {"a=marquez"}} {
		if _, err := NewRouter(Config{}, bad, nil, nil, nil); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	for _, bad := range [][]string{{"prod"}, {"a=x", "a=y"}, {"nowhere=postgres://h:1"}} {
		if _, err := NewRouter(Config{}, nil, bad, nil, nil); err == nil {
			t.Errorf("namespaces %q accepted", bad)
		}
	}
	if (&Router{ByConnection: map[string]*Target{"x": nil}}).Enabled() {
		t.Error("a router with every connection off is enabled")
	}
}
