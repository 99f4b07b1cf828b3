package dbtcloud_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
)

// TestWritesAgainstTheEmulator builds a project, an environment and a job with the client, runs the job, changes
// it, and deletes the project, which takes the environment and the job with it.
func TestWritesAgainstTheEmulator(t *testing.T) {
	t.Parallel()
	clock := emulator.NewFakeClock(time.Date(2026, 3, 12, 6, 0, 0, 0, time.UTC))
	srv, err := emulator.New(emulator.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	c, err := dbtcloud.NewClient(srv.URL, srv.Token, dbtcloud.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	acct := srv.AccountID

	p, _, err := c.Projects.Create(ctx, acct, &dbtcloud.ProjectRequest{Name: "marketing"})
	if err != nil {
		t.Fatalf("Projects.Create: %v", err)
	}
	prod := "production"
	env, _, err := c.Environments.Create(ctx, acct, p.ID, &dbtcloud.EnvironmentRequest{Name: "Production",
		DBTVersion: "1.10.0-latest", DeploymentType: &prod})
	if err != nil {
		t.Fatalf("Environments.Create: %v", err)
	}
	job, _, err := c.Jobs.Create(ctx, acct, &dbtcloud.JobRequest{ProjectID: p.ID, EnvironmentID: env.ID,
		Name: "marketing build", ExecuteSteps: []string{"dbt build"},
		Settings: dbtcloud.JobSettings{Threads: 4, TargetName: "default"}})
	if err != nil {
		t.Fatalf("Jobs.Create: %v", err)
	}
	run, _, err := c.Runs.Trigger(ctx, acct, job.ID, &dbtcloud.TriggerRunRequest{Cause: "writes test"})
	if err != nil {
		t.Fatalf("Trigger: %v", err)
	}
	srv.Advance(10 * time.Minute)
	got, _, err := c.Runs.Get(ctx, acct, run.ID, nil)
	if err != nil || got.Status != dbtcloud.RunStatusSuccess || got.ProjectID != p.ID {
		t.Fatalf("run of the created job: %+v, %v", got, err)
	}

	req := job.Request()
	req.Name, req.ExecuteSteps = "marketing build v2", []string{"dbt seed", "dbt build"}
	job, _, err = c.Jobs.Update(ctx, acct, job.ID, req)
	if err != nil || job.Name != "marketing build v2" || !slices.Equal(job.ExecuteSteps, req.ExecuteSteps) {
		t.Fatalf("Jobs.Update: %+v, %v", job, err)
	}

	envs, _, err := c.Environments.ListAccount(ctx, acct, &dbtcloud.AccountEnvironmentListOptions{ProjectID: p.ID})
	if err != nil || len(envs) != 1 || envs[0].ID != env.ID {
		t.Fatalf("Environments.ListAccount: %+v, %v", envs, err)
	}

	deleted, _, err := c.Projects.Delete(ctx, acct, p.ID)
	if err != nil || deleted == nil || deleted.State != dbtcloud.StateDeleted {
		t.Fatalf("Projects.Delete: %+v, %v", deleted, err)
	}
	if _, _, err := c.Jobs.Get(ctx, acct, job.ID); !errors.Is(err, dbtcloud.ErrNotFound) {
		t.Errorf("the deleted project's job: %v, want ErrNotFound", err)
	}
	if _, _, err := c.Environments.Get(ctx, acct, p.ID, env.ID); !errors.Is(err, dbtcloud.ErrNotFound) {
		t.Errorf("the deleted project's environment: %v, want ErrNotFound", err)
	}

	// A create whose answer is lost is not repeated: the error says the outcome is unknown, and one job exists.
	if _, err := srv.InjectFault(emulator.Fault{Path: "POST /api/v2/accounts/{a}/jobs/", Kind: emulator.FaultCommitThenDrop}); err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Jobs.Create(ctx, acct, &dbtcloud.JobRequest{ProjectID: emulator.DemoProjectID,
		EnvironmentID: emulator.DemoProductionEnvID, Name: "lost answer", ExecuteSteps: []string{"dbt build"}})
	if !errors.Is(err, dbtcloud.ErrOutcomeUnknown) {
		t.Errorf("Jobs.Create with a dropped answer: %v, want ErrOutcomeUnknown", err)
	}
	var made int
	for j, err := range c.Jobs.ListIter(ctx, acct, &dbtcloud.JobListOptions{NameIContains: "lost answer"}) {
		if err != nil {
			t.Fatal(err)
		}
		if j.Name == "lost answer" {
			made++
		}
	}
	if made != 1 {
		t.Errorf("%d jobs named \"lost answer\", want exactly 1", made)
	}

	// A token without the permission set for a write gets ErrForbidden.
	analyst, err := dbtcloud.NewClient(srv.URL, emulator.DemoAnalystToken, dbtcloud.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = analyst.Jobs.Create(ctx, acct, &dbtcloud.JobRequest{ProjectID: emulator.DemoProjectID,
		EnvironmentID: emulator.DemoProductionEnvID, Name: "x", ExecuteSteps: []string{"dbt build"}})
	if !errors.Is(err, dbtcloud.ErrForbidden) {
		t.Errorf("analyst Jobs.Create: %v, want ErrForbidden", err)
	}
}
