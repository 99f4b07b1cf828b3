package orchestrate_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
	"github.com/dbtlink/dbtlink/internal/orchestrate"
)

func TestDefaultCause(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 200) // 400 bytes
	tests := []struct {
		name, version, who, want string
	}{
		{"with who", "v1.2.3", "ana@ci-runner", "Triggered by dbtlink v1.2.3 (ana@ci-runner)"},
		{"without who", "dev", "", "Triggered by dbtlink dev"},
	}
	for _, tt := range tests {
		if got := orchestrate.DefaultCause(tt.version, tt.who); got != tt.want {
			t.Errorf("%s: DefaultCause = %q, want %q", tt.name, got, tt.want)
		}
	}
	got := orchestrate.DefaultCause("dev", long)
	if len(got) > orchestrate.MaxCauseLength || !strings.HasPrefix(got, "Triggered by dbtlink dev (é") {
		t.Errorf("long cause %d bytes: %q", len(got), got)
	}
	if !strings.HasSuffix(got, "é") { // cut on a character boundary
		t.Errorf("long cause cut inside a character: %q", got[len(got)-4:])
	}
}

func TestTrigger(t *testing.T) {
	t.Parallel()

	t.Run("plain trigger applies cause and overrides", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		threads := 7
		tr, err := orchestrate.Trigger(t.Context(), b.client, b.acct, b.job(t, emulator.DemoDailyJobID), orchestrate.TriggerOptions{
			Request: dbtcloud.TriggerRunRequest{Cause: strings.Repeat("c", 300), ThreadsOverride: threads, GitBranch: "feature"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if tr.How != orchestrate.Started || tr.Run.ID == 0 {
			t.Fatalf("got %+v", tr)
		}
		if n := b.srv.TriggerCount(emulator.DemoDailyJobID); n != 1 {
			t.Errorf("%d triggers, want 1", n)
		}
		cause := b.emulatorRun(t, tr.Run.ID).Cause
		if len(cause) > orchestrate.MaxCauseLength || !strings.HasPrefix(cause, "ccc") {
			t.Errorf("cause %d bytes: %q", len(cause), cause)
		}
		got, _, err := b.client.Runs.Get(t.Context(), b.acct, tr.Run.ID, &dbtcloud.RunGetOptions{IncludeRelated: []string{"trigger"}})
		if err != nil {
			t.Fatal(err)
		}
		if got.Trigger == nil || got.Trigger.ThreadsOverride != threads || got.Trigger.GitBranch != "feature" {
			t.Errorf("trigger %+v, want threads %d on branch feature", got.Trigger, threads)
		}
	})

	t.Run("reuse existing attaches to the run in flight", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		job := b.job(t, emulator.DemoDailyJobID)
		first := b.trigger(t, job.ID)
		tr, err := orchestrate.Trigger(t.Context(), b.client, b.acct, job, orchestrate.TriggerOptions{ReuseExisting: true})
		if err != nil {
			t.Fatal(err)
		}
		if tr.How != orchestrate.Reused || tr.Run.ID != first.ID {
			t.Fatalf("got run %d (%s), want reuse of %d", tr.Run.ID, tr.How, first.ID)
		}
		if n := b.srv.TriggerCount(job.ID); n != 1 {
			t.Errorf("%d triggers, want 1", n)
		}
		// Once that run is over there is nothing to reuse: a new run starts.
		b.finish(t, first.ID)
		tr, err = orchestrate.Trigger(t.Context(), b.client, b.acct, job, orchestrate.TriggerOptions{ReuseExisting: true})
		if err != nil {
			t.Fatal(err)
		}
		if tr.How != orchestrate.Started || tr.Run.ID == first.ID {
			t.Fatalf("got run %d (%s), want a new run", tr.Run.ID, tr.How)
		}
	})

	t.Run("retry from failure reruns the failed run", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		job := b.job(t, emulator.DemoFailingJobID)
		failed := b.finish(t, b.trigger(t, job.ID).ID)
		if failed.Status != dbtcloud.RunStatusError {
			t.Fatalf("first run ended %v, want Error", failed.Status)
		}
		tr, err := orchestrate.Trigger(t.Context(), b.client, b.acct, job, orchestrate.TriggerOptions{RetryFromFailure: true})
		if err != nil {
			t.Fatal(err)
		}
		if tr.How != orchestrate.Rerun {
			t.Errorf("how = %s, want rerun", tr.How)
		}
		if got := b.emulatorRun(t, tr.Run.ID).RetryingRunID; got != failed.ID {
			t.Errorf("rerun %d retries run %d, want %d", tr.Run.ID, got, failed.ID)
		}
	})
}

// TestTriggerUnderFaults is the property the issue asks for: whatever
// happens to the answers of trigger requests (the run is created and the
// connection dropped, the request is dropped unprocessed, 5xx, 429), and
// with lookups failing now and then too, N triggers create exactly N runs,
// and each Trigger returns the very run it created.
func TestTriggerUnderFaults(t *testing.T) {
	t.Parallel()
	const n = 20
	b := setup(t)
	job := b.job(t, emulator.DemoDailyJobID)
	rng := rand.New(rand.NewPCG(2026, 3))
	const triggerRoute = "/api/v2/accounts/{a}/jobs/{j}/run/"
	const listRoute = "/api/v2/accounts/{a}/runs/"
	faults := []struct {
		name   string
		faults []emulator.Fault
	}{
		{"none", nil},
		{"commit then drop", []emulator.Fault{{Method: "POST", Path: triggerRoute, Kind: emulator.FaultCommitThenDrop}}},
		{"commit then drop, lookup fails once", []emulator.Fault{
			{Method: "POST", Path: triggerRoute, Kind: emulator.FaultCommitThenDrop},
			{Method: "GET", Path: listRoute, Kind: emulator.FaultStatus, Status: 502},
		}},
		{"commit then drop twice", []emulator.Fault{{Method: "POST", Path: triggerRoute, Kind: emulator.FaultCommitThenDrop, Times: 2}}},
		{"drop before commit", []emulator.Fault{{Method: "POST", Path: triggerRoute, Kind: emulator.FaultDrop}}},
		{"503", []emulator.Fault{{Method: "POST", Path: triggerRoute, Kind: emulator.FaultStatus, Status: 503}}},
		{"429", []emulator.Fault{{Method: "POST", Path: triggerRoute, Kind: emulator.FaultStatus, Status: 429, RetryAfter: 1}}},
		{"drop, then commit then drop", []emulator.Fault{
			{Method: "POST", Path: triggerRoute, Kind: emulator.FaultDrop},
			{Method: "POST", Path: triggerRoute, Kind: emulator.FaultCommitThenDrop},
		}},
	}
	returned := map[int64]string{} // run id -> the cause we sent
	for i := range n {
		fc := faults[rng.IntN(len(faults))]
		for _, f := range fc.faults {
			if _, err := b.srv.InjectFault(f); err != nil {
				t.Fatal(err)
			}
		}
		cause := fmt.Sprintf("property %d", i)
		tr, err := orchestrate.Trigger(t.Context(), b.client, b.acct, job, orchestrate.TriggerOptions{Request: dbtcloud.TriggerRunRequest{Cause: cause}})
		if err != nil {
			t.Fatalf("trigger %d (faults: %s): %v", i, fc.name, err)
		}
		b.srv.ClearFaults()
		if prev, dup := returned[tr.Run.ID]; dup {
			t.Fatalf("trigger %d (faults: %s) returned run %d, already returned for %q", i, fc.name, tr.Run.ID, prev)
		}
		returned[tr.Run.ID] = cause
		// Let the clock move so runs overlap in every state.
		b.clock.Advance(time.Duration(rng.IntN(40)) * time.Second)
	}
	if got := b.srv.TriggerCount(job.ID); got != n {
		t.Errorf("the emulator saw %d triggers, want %d", got, n)
	}
	runs := b.srv.Runs()
	if len(runs) != n {
		t.Errorf("the emulator has %d runs, want %d", len(runs), n)
	}
	for _, r := range runs {
		cause, ok := returned[r.ID]
		if !ok {
			t.Errorf("run %d (%q) was created but no Trigger returned it", r.ID, r.Cause)
			continue
		}
		if !strings.HasPrefix(r.Cause, cause+" [dbtlink:") {
			t.Errorf("Trigger for %q returned run %d, whose cause is %q", cause, r.ID, r.Cause)
		}
	}
}
