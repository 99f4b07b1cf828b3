package orchestrate_test

import (
	"context"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
	"github.com/dbtlink/dbtlink/internal/orchestrate"
)

// Jobs added to the demo seed by testSeed.
const (
	nightlyA   = 391 // "nightly" in analytics/Staging
	nightlyB   = 392 // "nightly" in analytics/Staging, same name
	hourlyUp   = 393 // "Hourly" in analytics/Staging
	hourlyLow  = 394 // "hourly" in analytics/Staging
	depsFailID = 395 // "deps fails": dbt deps fails, so no run_results
	runFailID  = 396 // "run fails": a model errors in dbt run
)

// testSeed is the demo seed plus jobs whose names collide, so lookups can
// be ambiguous at the job level.
func testSeed() *emulator.Seed {
	s := emulator.DefaultSeed()
	zero, one := 0, 1
	staging := &s.Accounts[0].Projects[0].Environments[1]
	staging.Jobs = append(staging.Jobs,
		emulator.SeedJob{ID: nightlyA, Name: "nightly"},
		emulator.SeedJob{ID: nightlyB, Name: "nightly"},
		emulator.SeedJob{ID: hourlyUp, Name: "Hourly"},
		emulator.SeedJob{ID: hourlyLow, Name: "hourly"},
		emulator.SeedJob{ID: depsFailID, Name: "deps fails", Behaviour: emulator.SeedBehaviour{Outcome: "error", FailStep: &zero}},
		emulator.SeedJob{ID: runFailID, Name: "run fails", ExecuteSteps: []string{"dbt run"}, Behaviour: emulator.SeedBehaviour{Outcome: "error", FailStep: &one}},
	)
	return s
}

type bundle struct {
	srv    *emulator.Server
	clock  *emulator.FakeClock
	client *dbtcloud.Client
	acct   int64
	// stepped advances the emulator's clock whenever Wait sleeps.
	stepped orchestrate.SteppedClock
}

// setup starts an emulator on a fake clock and a client whose retries and
// rate limiter never sleep in real time.
func setup(t *testing.T) *bundle {
	t.Helper()
	clock := emulator.NewFakeClock(time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC))
	srv, err := emulator.New(emulator.Options{Clock: clock, Seed: testSeed(), RateLimitPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	noSleep := func(ctx context.Context, d time.Duration) error { return ctx.Err() }
	client, err := dbtcloud.NewClient(srv.URL, srv.Token,
		dbtcloud.WithHTTPClient(srv.Client()),
		dbtcloud.WithClock(clock.Now, noSleep),
		dbtcloud.WithRetryPolicy(dbtcloud.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, MaxElapsed: time.Minute}))
	if err != nil {
		t.Fatal(err)
	}
	return &bundle{srv: srv, clock: clock, client: client, acct: srv.AccountID, stepped: orchestrate.SteppedClock{Clock: clock}}
}

func (b *bundle) job(t *testing.T, id int64) *dbtcloud.Job {
	t.Helper()
	j, _, err := b.client.Jobs.Get(t.Context(), b.acct, id)
	if err != nil {
		t.Fatalf("get job %d: %v", id, err)
	}
	return j
}

func (b *bundle) trigger(t *testing.T, jobID int64) *dbtcloud.Run {
	t.Helper()
	tr, err := orchestrate.Trigger(t.Context(), b.client, b.acct, b.job(t, jobID), orchestrate.TriggerOptions{Request: dbtcloud.TriggerRunRequest{Cause: "test"}})
	if err != nil {
		t.Fatalf("trigger job %d: %v", jobID, err)
	}
	return tr.Run
}

// finish waits for run on the fake clock and returns its final state.
func (b *bundle) finish(t *testing.T, runID int64) *dbtcloud.Run {
	t.Helper()
	run, err := orchestrate.Wait(t.Context(), b.client, b.acct, runID, orchestrate.WaitOptions{Clock: b.stepped, Timeout: 2 * time.Hour})
	if err != nil {
		t.Fatalf("wait for run %d: %v", runID, err)
	}
	return run
}

func (b *bundle) emulatorRun(t *testing.T, id int64) emulator.RunInfo {
	t.Helper()
	for _, r := range b.srv.Runs() {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("the emulator has no run %d", id)
	return emulator.RunInfo{}
}
