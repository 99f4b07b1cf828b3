package dbtcloud_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
)

// TestEmulatorIntegration drives the client against the dbt Cloud emulator:
// a trigger whose answer is lost after the run was created must return that
// run without creating a second one, and the run can then be followed to
// its end and its artifacts fetched.
func TestEmulatorIntegration(t *testing.T) {
	t.Parallel()
	clock := emulator.NewFakeClock(time.Now().UTC())
	srv, err := emulator.New(emulator.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	c, err := dbtcloud.NewClient(srv.URL, srv.Token, dbtcloud.WithHTTPClient(srv.Client()),
		dbtcloud.WithRetryPolicy(dbtcloud.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	acct := srv.AccountID

	if _, err := srv.InjectFault(emulator.Fault{Method: "POST", Path: "/api/v2/accounts/{a}/jobs/{j}/run/", Kind: emulator.FaultCommitThenDrop}); err != nil {
		t.Fatal(err)
	}
	run, _, err := c.Runs.Trigger(ctx, acct, emulator.DemoDailyJobID, &dbtcloud.TriggerRunRequest{Cause: "integration"})
	if err != nil {
		t.Fatalf("Trigger: %v", err)
	}
	if n := srv.TriggerCount(emulator.DemoDailyJobID); n != 1 {
		t.Fatalf("emulator saw %d triggers, want 1", n)
	}
	if run.Trigger == nil || !strings.HasPrefix(run.Trigger.Cause, "integration [dbtlink:") {
		t.Errorf("found run %d with trigger %+v", run.ID, run.Trigger)
	}

	// Follow the run to its end on the emulator's clock.
	for i := 0; ; i++ {
		r, _, err := c.Runs.Get(ctx, acct, run.ID, &dbtcloud.RunGetOptions{IncludeRelated: []string{"run_steps"}})
		if err != nil {
			t.Fatal(err)
		}
		if r.Status.Terminal() {
			if r.Status != dbtcloud.RunStatusSuccess || r.FinishedAt.IsZero() {
				t.Errorf("run ended %v at %v", r.Status, r.FinishedAt)
			}
			break
		}
		if i > 100 {
			t.Fatalf("run %d still %v", run.ID, r.Status)
		}
		srv.Advance(30 * time.Second)
	}

	paths, _, err := c.Artifacts.List(ctx, acct, run.ID, 0)
	if err != nil || len(paths) == 0 {
		t.Fatalf("Artifacts.List = %v, %v", paths, err)
	}
	body, _, err := c.Artifacts.Get(ctx, acct, run.ID, "manifest.json", 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(body)
	_ = body.Close()
	if err != nil || !strings.Contains(string(b), "dbt_schema_version") {
		t.Errorf("manifest %.80q, %v", b, err)
	}

	var jobs int
	for j, err := range c.Jobs.ListIter(ctx, acct, &dbtcloud.JobListOptions{ProjectID: emulator.DemoProjectID, ListOptions: dbtcloud.ListOptions{Limit: 2}}) {
		if err != nil {
			t.Fatal(err)
		}
		if j.ProjectID != emulator.DemoProjectID {
			t.Errorf("job %d in project %d", j.ID, j.ProjectID)
		}
		jobs++
	}
	if jobs < 4 {
		t.Errorf("ListIter found %d jobs in the demo project, want at least 4", jobs)
	}

	bad, err := dbtcloud.NewClient(srv.URL, "wrong-token", dbtcloud.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := bad.Accounts.Get(ctx, acct); !errors.Is(err, dbtcloud.ErrUnauthorized) {
		t.Errorf("wrong token: %v, want ErrUnauthorized", err)
	}
}
