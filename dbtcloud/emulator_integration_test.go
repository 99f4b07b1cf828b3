package dbtcloud_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"iter"
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

// emuBench is a client wired to an emulator on a fake clock. The client's
// sleeps (retry waits, trigger lookups) are recorded and move the
// emulator's clock by as much, so a Retry-After of five emulated minutes
// really passes for the emulator and the test takes no wall time.
type emuBench struct {
	srv   *emulator.Server
	clock *emulator.FakeClock
	c     *dbtcloud.Client

	mu     sync.Mutex
	sleeps []time.Duration
}

var emuT0 = time.Date(2026, 3, 12, 6, 0, 0, 0, time.UTC)

func newEmuBench(t *testing.T, eopts emulator.Options, copts ...dbtcloud.Option) *emuBench {
	t.Helper()
	b := &emuBench{clock: emulator.NewFakeClock(emuT0)}
	eopts.Clock = b.clock
	srv, err := emulator.New(eopts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	b.srv = srv
	b.c = b.client(t, copts...)
	return b
}

// client returns another client on the bench's emulator and clock; copts
// come last so they override the defaults.
func (b *emuBench) client(t *testing.T, copts ...dbtcloud.Option) *dbtcloud.Client {
	t.Helper()
	opts := append([]dbtcloud.Option{
		dbtcloud.WithHTTPClient(b.srv.Client()),
		dbtcloud.WithRetryPolicy(dbtcloud.RetryPolicy{MaxAttempts: 4, MinBackoff: time.Second, MaxBackoff: 10 * time.Minute, MaxElapsed: time.Hour}),
		dbtcloud.WithClock(b.clock.Now, func(ctx context.Context, d time.Duration) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			b.mu.Lock()
			b.sleeps = append(b.sleeps, d)
			b.mu.Unlock()
			b.srv.Advance(d)
			return nil
		}),
	}, copts...)
	c, err := dbtcloud.NewClient(b.srv.URL, b.srv.Token, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// takeSleeps returns the waits recorded since the last call.
func (b *emuBench) takeSleeps() []time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.sleeps
	b.sleeps = nil
	return s
}

func (b *emuBench) fault(t *testing.T, f emulator.Fault) {
	t.Helper()
	if _, err := b.srv.InjectFault(f); err != nil {
		t.Fatal(err)
	}
}

// finish moves the clock until run id has ended and returns it.
func (b *emuBench) finish(t *testing.T, id int64) *dbtcloud.Run {
	t.Helper()
	for range 200 {
		r, _, err := b.c.Runs.Get(t.Context(), b.srv.AccountID, id, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status.Terminal() {
			return r
		}
		b.srv.Advance(time.Minute)
	}
	t.Fatalf("run %d never ended", id)
	return nil
}

func (b *emuBench) trigger(t *testing.T, jobID int64) *dbtcloud.Run {
	t.Helper()
	r, _, err := b.c.Runs.Trigger(t.Context(), b.srv.AccountID, jobID, &dbtcloud.TriggerRunRequest{Cause: "bench"})
	if err != nil {
		t.Fatalf("trigger job %d: %v", jobID, err)
	}
	return r
}

func collect[T any](t *testing.T, seq iter.Seq2[*T, error]) []*T {
	t.Helper()
	var out []*T
	for v, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func TestEmulatorAccountsProjectsEnvironments(t *testing.T) {
	t.Parallel()
	b := newEmuBench(t, emulator.Options{})
	ctx, acct := t.Context(), b.srv.AccountID

	accts, _, err := b.c.Accounts.List(ctx)
	if err != nil || len(accts) != 1 || accts[0].ID != acct {
		t.Errorf("Accounts.List = %+v, %v; want only account %d", accts, err, acct)
	}
	if got := collect(t, b.c.Accounts.ListIter(ctx)); len(got) != 1 || got[0].ID != acct {
		t.Errorf("Accounts.ListIter = %+v", got)
	}
	a, _, err := b.c.Accounts.Get(ctx, acct)
	if err != nil || a.ID != acct || a.RunSlots != 2 {
		t.Errorf("Accounts.Get = %+v, %v; want account %d with 2 run slots", a, err, acct)
	}
	if _, _, err := b.c.Accounts.Get(ctx, emulator.OtherAccountID); !errors.Is(err, dbtcloud.ErrNotFound) {
		t.Errorf("another account: %v, want ErrNotFound", err)
	}

	projects := []struct {
		name    string
		filter  string
		limit   int
		wantIDs []int64
	}{
		{"all", "", 0, []int64{emulator.DemoProjectID, emulator.DemoLegacyProjectID}},
		{"name filter ignores case", "LEGACY", 0, []int64{emulator.DemoLegacyProjectID}},
		{"no match", "nope", 0, nil},
		{"pages of one", "", 1, []int64{emulator.DemoProjectID, emulator.DemoLegacyProjectID}},
	}
	for _, tt := range projects {
		opts := &dbtcloud.ProjectListOptions{NameIContains: tt.filter, ListOptions: dbtcloud.ListOptions{Limit: tt.limit}}
		var ids []int64
		for _, p := range collect(t, b.c.Projects.ListIter(ctx, acct, opts)) {
			ids = append(ids, p.ID)
		}
		if !slices.Equal(ids, tt.wantIDs) {
			t.Errorf("Projects.ListIter %s = %v, want %v", tt.name, ids, tt.wantIDs)
		}
		page, resp, err := b.c.Projects.List(ctx, acct, opts)
		if err != nil || resp.Pagination == nil || resp.Pagination.TotalCount != len(tt.wantIDs) || len(page) != min(len(tt.wantIDs), cmp.Or(tt.limit, 100)) {
			t.Errorf("Projects.List %s = %d projects, %+v, %v", tt.name, len(page), resp, err)
		}
	}
	if p, _, err := b.c.Projects.Get(ctx, acct, emulator.DemoProjectID); err != nil || p.Name != "analytics" {
		t.Errorf("Projects.Get = %+v, %v", p, err)
	}

	envs := []struct {
		name    string
		opts    dbtcloud.EnvironmentListOptions
		wantIDs []int64
	}{
		{"all", dbtcloud.EnvironmentListOptions{}, []int64{emulator.DemoProductionEnvID, emulator.DemoStagingEnvID}},
		{"exact name", dbtcloud.EnvironmentListOptions{Name: "Production"}, []int64{emulator.DemoProductionEnvID}},
		{"exact name is exact", dbtcloud.EnvironmentListOptions{Name: "production"}, nil},
		{"name contains", dbtcloud.EnvironmentListOptions{NameIContains: "STAG"}, []int64{emulator.DemoStagingEnvID}},
		{"deployment type", dbtcloud.EnvironmentListOptions{DeploymentType: "staging"}, []int64{emulator.DemoStagingEnvID}},
		{"pages of one", dbtcloud.EnvironmentListOptions{ListOptions: dbtcloud.ListOptions{Limit: 1}}, []int64{emulator.DemoProductionEnvID, emulator.DemoStagingEnvID}},
	}
	for _, tt := range envs {
		var ids []int64
		for _, e := range collect(t, b.c.Environments.ListIter(ctx, acct, emulator.DemoProjectID, &tt.opts)) {
			ids = append(ids, e.ID)
		}
		if !slices.Equal(ids, tt.wantIDs) {
			t.Errorf("Environments.ListIter %s = %v, want %v", tt.name, ids, tt.wantIDs)
		}
		page, _, err := b.c.Environments.List(ctx, acct, emulator.DemoProjectID, &tt.opts)
		if err != nil || (len(page) == 0) != (len(tt.wantIDs) == 0) {
			t.Errorf("Environments.List %s = %d, %v", tt.name, len(page), err)
		}
	}
	e, _, err := b.c.Environments.Get(ctx, acct, emulator.DemoProjectID, emulator.DemoProductionEnvID)
	if err != nil || e.Name != "Production" || e.DeploymentType != "production" {
		t.Errorf("Environments.Get = %+v, %v", e, err)
	}
}

func TestEmulatorJobs(t *testing.T) {
	t.Parallel()
	b := newEmuBench(t, emulator.Options{})
	ctx, acct := t.Context(), b.srv.AccountID

	tests := []struct {
		name string
		opts dbtcloud.JobListOptions
		want []int64
	}{
		{"project", dbtcloud.JobListOptions{ProjectID: emulator.DemoLegacyProjectID}, []int64{emulator.DemoLegacyJobID}},
		{"environment", dbtcloud.JobListOptions{EnvironmentID: emulator.DemoStagingEnvID}, []int64{emulator.DemoStagingJobID}},
		{"name", dbtcloud.JobListOptions{NameIContains: "FAILING"}, []int64{emulator.DemoFailingJobID}},
		{"name and project", dbtcloud.JobListOptions{NameIContains: "daily", ProjectID: emulator.DemoProjectID},
			[]int64{emulator.DemoDailyJobID, emulator.DemoStagingJobID}},
		{"descending", dbtcloud.JobListOptions{ProjectID: emulator.DemoProjectID, OrderBy: "-id"},
			[]int64{emulator.DemoStagingJobID, emulator.DemoDocsJobID, emulator.DemoSlowJobID, emulator.DemoFailingJobID, emulator.DemoDailyJobID}},
	}
	for _, tt := range tests {
		jobs, _, err := b.c.Jobs.List(ctx, acct, &tt.opts)
		if err != nil {
			t.Fatalf("Jobs.List %s: %v", tt.name, err)
		}
		var ids []int64
		for _, j := range jobs {
			ids = append(ids, j.ID)
		}
		if !slices.Equal(ids, tt.want) {
			t.Errorf("Jobs.List %s = %v, want %v", tt.name, ids, tt.want)
		}
	}
	all := collect(t, b.c.Jobs.ListIter(ctx, acct, &dbtcloud.JobListOptions{ListOptions: dbtcloud.ListOptions{Limit: 2}}))
	if len(all) != 6 {
		t.Errorf("Jobs.ListIter in pages of 2 found %d jobs, want 6", len(all))
	}
	j, _, err := b.c.Jobs.Get(ctx, acct, emulator.DemoFailingJobID)
	if err != nil || j.Name != "failing build" || !slices.Equal(j.ExecuteSteps, []string{"dbt run", "dbt test"}) {
		t.Errorf("Jobs.Get = %+v, %v", j, err)
	}

	// Rerun of a job without a failed latest run starts a fresh run; after a
	// failure it retries that run from the point of failure.
	fresh, _, err := b.c.Jobs.Rerun(ctx, acct, emulator.DemoFailingJobID)
	if err != nil || fresh.JobDefinitionID != emulator.DemoFailingJobID || fresh.RetryingRunID != 0 {
		t.Fatalf("Rerun without history = %+v, %v", fresh, err)
	}
	failed := b.finish(t, fresh.ID)
	if failed.Status != dbtcloud.RunStatusError || !failed.CanRetry {
		t.Fatalf("failing job ended %v (can_retry %v)", failed.Status, failed.CanRetry)
	}
	again, _, err := b.c.Jobs.Rerun(ctx, acct, emulator.DemoFailingJobID)
	if err != nil || again.RetryingRunID != failed.ID {
		t.Errorf("Rerun after failure = retrying %d, %v; want a retry of %d", again.RetryingRunID, err, failed.ID)
	}
}

func TestEmulatorRuns(t *testing.T) {
	t.Parallel()
	b := newEmuBench(t, emulator.Options{})
	ctx, acct := t.Context(), b.srv.AccountID

	// A trigger carries every override through to the run's trigger.
	docs, timeout := false, 600
	req := &dbtcloud.TriggerRunRequest{
		Cause: "overrides", GitBranch: "feature/x",
		GitHubPullRequestID: 42, SchemaOverride: "dbt_pr_42", DBTVersionOverride: "1.9.0-latest", ThreadsOverride: 8,
		TargetNameOverride: "ci", GenerateDocsOverride: &docs, TimeoutSecondsOverride: &timeout,
		StepsOverride: []string{"dbt seed", "dbt run -s orders"},
	}
	trig, _, err := b.c.Runs.Trigger(ctx, acct, emulator.DemoDailyJobID, req)
	if err != nil {
		t.Fatal(err)
	}
	if trig.Status != dbtcloud.RunStatusQueued {
		t.Errorf("triggered run is %v, want queued", trig.Status)
	}
	b.srv.Advance(2 * time.Minute)
	got, _, err := b.c.Runs.Get(ctx, acct, trig.ID, &dbtcloud.RunGetOptions{IncludeRelated: []string{"trigger", "job", "run_steps"}})
	if err != nil {
		t.Fatal(err)
	}
	tr := got.Trigger
	if tr == nil || got.Job == nil || got.Job.ID != emulator.DemoDailyJobID || len(got.RunSteps) == 0 {
		t.Fatalf("include_related missing: trigger %v job %v steps %d", tr, got.Job, len(got.RunSteps))
	}
	if !strings.HasPrefix(tr.Cause, "overrides [dbtlink:") || tr.GitBranch != req.GitBranch ||
		tr.GitHubPullRequestID != 42 || tr.SchemaOverride != req.SchemaOverride || tr.DBTVersionOverride != req.DBTVersionOverride ||
		tr.ThreadsOverride != 8 || tr.TargetNameOverride != "ci" || tr.GenerateDocsOverride == nil || *tr.GenerateDocsOverride ||
		tr.TimeoutSecondsOverride != 600 || !slices.Equal(tr.StepsOverride, req.StepsOverride) {
		t.Errorf("trigger does not reflect the request:\n got %+v\nwant %+v", tr, req)
	}
	var stepNames []string
	for _, s := range got.RunSteps {
		stepNames = append(stepNames, s.Name)
	}
	if !slices.Contains(stepNames, "Invoke dbt with `dbt seed`") {
		t.Errorf("steps_override not run: steps %q", stepNames)
	}
	b.finish(t, trig.ID)
	// git_sha cannot go with git_branch, so it gets a trigger of its own.
	sha := "0123456789abcdef0123456789abcdef01234567"
	shaRun, _, err := b.c.Runs.Trigger(ctx, acct, emulator.DemoDailyJobID, &dbtcloud.TriggerRunRequest{Cause: "sha", GitSHA: sha})
	if err != nil {
		t.Fatal(err)
	}
	if got, _, err := b.c.Runs.Get(ctx, acct, shaRun.ID, &dbtcloud.RunGetOptions{IncludeRelated: []string{"trigger"}}); err != nil || got.Trigger == nil || got.Trigger.GitSHA != sha {
		t.Errorf("git_sha override: %+v, %v", got, err)
	}
	b.finish(t, shaRun.ID)

	// Runs in several jobs, environments, projects and states.
	early := b.clock.Now()
	okRun := b.finish(t, b.trigger(t, emulator.DemoDailyJobID).ID)
	badRun := b.finish(t, b.trigger(t, emulator.DemoFailingJobID).ID)
	b.srv.Advance(time.Hour)
	late := b.clock.Now()
	staging := b.finish(t, b.trigger(t, emulator.DemoStagingJobID).ID)
	legacy := b.finish(t, b.trigger(t, emulator.DemoLegacyJobID).ID)
	slow := b.trigger(t, emulator.DemoSlowJobID)
	b.srv.Advance(3 * time.Minute)

	all := collect(t, b.c.Runs.ListIter(ctx, acct, &dbtcloud.RunListOptions{ListOptions: dbtcloud.ListOptions{Limit: 2}}))
	if len(all) != 7 {
		t.Fatalf("Runs.ListIter in pages of 2 found %d runs, want 7", len(all))
	}
	filters := []struct {
		name string
		opts dbtcloud.RunListOptions
		keep func(*dbtcloud.Run) bool
	}{
		{"job_definition_id", dbtcloud.RunListOptions{JobDefinitionID: emulator.DemoFailingJobID},
			func(r *dbtcloud.Run) bool { return r.JobDefinitionID == emulator.DemoFailingJobID }},
		{"environment_id", dbtcloud.RunListOptions{EnvironmentID: emulator.DemoStagingEnvID},
			func(r *dbtcloud.Run) bool { return r.EnvironmentID == emulator.DemoStagingEnvID }},
		{"project_id", dbtcloud.RunListOptions{ProjectID: emulator.DemoLegacyProjectID},
			func(r *dbtcloud.Run) bool { return r.ProjectID == emulator.DemoLegacyProjectID }},
		{"status", dbtcloud.RunListOptions{Status: dbtcloud.RunStatusError},
			func(r *dbtcloud.Run) bool { return r.Status == dbtcloud.RunStatusError }},
		{"status__in", dbtcloud.RunListOptions{StatusIn: []dbtcloud.RunStatus{dbtcloud.RunStatusQueued, dbtcloud.RunStatusStarting, dbtcloud.RunStatusRunning}},
			func(r *dbtcloud.Run) bool { return !r.Status.Terminal() }},
		{"created_at__range", dbtcloud.RunListOptions{CreatedAtRange: &dbtcloud.TimeRange{From: early, To: late}},
			func(r *dbtcloud.Run) bool { return !r.CreatedAt.Before(early) && !r.CreatedAt.After(late) }},
		{"finished_at__range open-ended", dbtcloud.RunListOptions{FinishedAtRange: &dbtcloud.TimeRange{From: late}},
			func(r *dbtcloud.Run) bool { return !r.FinishedAt.IsZero() && !r.FinishedAt.Before(late) }},
		{"id__gt", dbtcloud.RunListOptions{IDGt: okRun.ID},
			func(r *dbtcloud.Run) bool { return r.ID > okRun.ID }},
	}
	for _, tt := range filters {
		runs, resp, err := b.c.Runs.List(ctx, acct, &tt.opts)
		if err != nil {
			t.Fatalf("Runs.List %s: %v", tt.name, err)
		}
		var got, want []int64
		for _, r := range runs {
			got = append(got, r.ID)
		}
		for _, r := range all {
			if tt.keep(r) {
				want = append(want, r.ID)
			}
		}
		if len(want) == 0 || len(want) == len(all) {
			t.Fatalf("%s: the bench's runs do not exercise this filter (%d of %d match)", tt.name, len(want), len(all))
		}
		if !slices.Equal(got, want) || resp.Pagination == nil || resp.Pagination.TotalCount != len(want) {
			t.Errorf("Runs.List %s = %v (pagination %+v), want %v", tt.name, got, resp.Pagination, want)
		}
	}
	for _, order := range []string{"id", "-id", "created_at", "-finished_at"} {
		runs, _, err := b.c.Runs.List(ctx, acct, &dbtcloud.RunListOptions{OrderBy: order})
		if err != nil || len(runs) != len(all) {
			t.Fatalf("order_by %s: %d runs, %v", order, len(runs), err)
		}
		desc := strings.HasPrefix(order, "-")
		key := func(r dbtcloud.Run) time.Time {
			switch strings.TrimPrefix(order, "-") {
			case "created_at":
				return r.CreatedAt.Time
			case "finished_at":
				if r.FinishedAt.IsZero() {
					// null sorts as Postgres does: last ascending, first descending
					return time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
				}
				return r.FinishedAt.Time
			}
			return time.Unix(r.ID, 0)
		}
		if !slices.IsSortedFunc(runs, func(x, y dbtcloud.Run) int {
			c := key(x).Compare(key(y))
			if desc {
				c = -c
			}
			return c
		}) {
			t.Errorf("order_by %s not honoured", order)
		}
	}

	// Cancel, failure details, retry.
	cancelled, _, err := b.c.Runs.Cancel(ctx, acct, slow.ID)
	if err != nil || cancelled.Status != dbtcloud.RunStatusCancelled || cancelled.StatusMessage != "Cancelled by user." {
		t.Errorf("Cancel = %+v, %v", cancelled, err)
	}
	fd, _, err := b.c.Runs.FailureDetails(ctx, acct, badRun.ID)
	if err != nil || !strings.Contains(fd.FailedStep, "dbt test") {
		t.Errorf("FailureDetails = %+v, %v", fd, err)
	}
	retry, _, err := b.c.Runs.Retry(ctx, acct, badRun.ID)
	if err != nil || retry.RetryingRunID != badRun.ID {
		t.Errorf("Retry = %+v, %v", retry, err)
	}
	var apiErr *dbtcloud.APIError
	if _, _, err := b.c.Runs.Retry(ctx, acct, okRun.ID); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest {
		t.Errorf("Retry of a successful run: %v, want a 400", err)
	}
	if staging.EnvironmentID != emulator.DemoStagingEnvID || legacy.ProjectID != emulator.DemoLegacyProjectID {
		t.Errorf("staging run in environment %d, legacy run in project %d", staging.EnvironmentID, legacy.ProjectID)
	}
}

func TestEmulatorArtifacts(t *testing.T) {
	t.Parallel()
	b := newEmuBench(t, emulator.Options{})
	ctx, acct := t.Context(), b.srv.AccountID
	run := b.finish(t, b.trigger(t, emulator.DemoDocsJobID).ID)

	paths, _, err := b.c.Artifacts.List(ctx, acct, run.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"catalog.json", "manifest.json", "run_results.json", "sources.json"} {
		if !slices.Contains(paths, want) {
			t.Errorf("Artifacts.List lacks %s: %v", want, paths)
		}
	}
	// A step selects that step's files; a step the run does not have is not found.
	if docs, _, err := b.c.Artifacts.List(ctx, acct, run.ID, 6); err != nil || !slices.Contains(docs, "catalog.json") || slices.Contains(docs, "sources.json") {
		t.Errorf("Artifacts.List(step 6, docs generate) = %v, %v", docs, err)
	}
	if clone, _, err := b.c.Artifacts.List(ctx, acct, run.ID, 1); err != nil || clone == nil || len(clone) != 0 {
		t.Errorf("Artifacts.List(step 1, clone) = %#v, %v; want an empty list", clone, err)
	}
	if got, _, err := b.c.Artifacts.List(ctx, acct, run.ID, 99); !errors.Is(err, dbtcloud.ErrNotFound) {
		t.Errorf("Artifacts.List(step 99) = %v, %v; want ErrNotFound", got, err)
	}
	decode := func(rc io.ReadCloser, err error) map[string]any {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		var m map[string]any
		if err := json.NewDecoder(rc).Decode(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	which := func(m map[string]any) any { return m["args"].(map[string]any)["which"] }
	tests := []struct {
		name string
		get  func() (io.ReadCloser, *dbtcloud.Response, error)
		want string
	}{
		{"last step", func() (io.ReadCloser, *dbtcloud.Response, error) {
			return b.c.Artifacts.Get(ctx, acct, run.ID, "run_results.json", 0)
		}, "generate"},
		{"build step", func() (io.ReadCloser, *dbtcloud.Response, error) {
			return b.c.Artifacts.Get(ctx, acct, run.ID, "run_results.json", 5)
		}, "build"},
		{"job's latest", func() (io.ReadCloser, *dbtcloud.Response, error) {
			return b.c.Artifacts.GetLatestForJob(ctx, acct, emulator.DemoDocsJobID, "run_results.json")
		}, "generate"},
	}
	for _, tt := range tests {
		rc, _, err := tt.get()
		if got := which(decode(rc, err)); got != tt.want {
			t.Errorf("%s: run_results for %v, want %s", tt.name, got, tt.want)
		}
	}
	if _, _, err := b.c.Artifacts.Get(ctx, acct, run.ID, "catalog.json", 5); !errors.Is(err, dbtcloud.ErrNotFound) {
		t.Errorf("catalog of the build step: %v, want ErrNotFound", err)
	}
	if _, _, err := b.c.Artifacts.GetLatestForJob(ctx, acct, emulator.DemoDailyJobID, "catalog.json"); !errors.Is(err, dbtcloud.ErrNotFound) {
		t.Errorf("catalog of a job without docs: %v, want ErrNotFound", err)
	}
}

func TestEmulatorWebhooks(t *testing.T) {
	t.Parallel()
	b := newEmuBench(t, emulator.Options{})
	ctx, acct := t.Context(), b.srv.AccountID
	hook := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(hook.Close)

	sub, _, err := b.c.Webhooks.Create(ctx, acct, &dbtcloud.WebhookSubscriptionRequest{
		Name: "ci", ClientURL: hook.URL, EventTypes: []string{dbtcloud.EventJobRunCompleted},
		JobIDs: []int64{emulator.DemoDailyJobID}, Active: true,
	})
	if err != nil || !strings.HasPrefix(sub.ID, "wsu_") || sub.HMACSecret == "" || !slices.Equal([]int64(sub.JobIDs), []int64{emulator.DemoDailyJobID}) {
		t.Fatalf("Create = %+v, %v", sub, err)
	}
	list, _, err := b.c.Webhooks.List(ctx, acct, nil)
	if err != nil || len(list) != 1 || list[0].ID != sub.ID || list[0].HMACSecret != "" {
		t.Errorf("List = %+v, %v (the secret is shown only on create)", list, err)
	}
	upd, _, err := b.c.Webhooks.Update(ctx, acct, sub.ID, &dbtcloud.WebhookSubscriptionRequest{
		Name: "ci-renamed", ClientURL: hook.URL, EventTypes: []string{dbtcloud.EventJobRunErrored}, Active: false,
	})
	if err != nil || upd.Name != "ci-renamed" || upd.Active || !slices.Equal(upd.EventTypes, []string{dbtcloud.EventJobRunErrored}) {
		t.Errorf("Update = %+v, %v", upd, err)
	}
	got, _, err := b.c.Webhooks.Get(ctx, acct, sub.ID)
	if err != nil || got.Name != "ci-renamed" {
		t.Errorf("Get after update = %+v, %v", got, err)
	}
	if _, err := b.c.Webhooks.Delete(ctx, acct, sub.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.c.Webhooks.Get(ctx, acct, sub.ID); !errors.Is(err, dbtcloud.ErrNotFound) {
		t.Errorf("Get after delete: %v, want ErrNotFound", err)
	}
}

// TestEmulatorFaults injects every fault kind the emulator has into the
// calls it matters for and checks the client's answer: idempotent calls are
// retried (after Retry-After when given), and a trigger or cancel whose
// answer was lost neither fails nor creates a second run.
func TestEmulatorFaults(t *testing.T) {
	t.Parallel()
	const (
		jobGet  = "GET /api/v2/accounts/{a}/jobs/{j}/"
		trigger = "POST /api/v2/accounts/{a}/jobs/{j}/run/"
		cancel  = "POST /api/v2/accounts/{a}/runs/{r}/cancel/"
	)
	type outcome struct {
		b   *emuBench
		run *dbtcloud.Run // the run the call returned, if any
	}
	getJob := func(t *testing.T, b *emuBench) (*dbtcloud.Run, error) {
		j, _, err := b.c.Jobs.Get(t.Context(), b.srv.AccountID, emulator.DemoDailyJobID)
		if err == nil && j.ID != emulator.DemoDailyJobID {
			t.Errorf("got job %d", j.ID)
		}
		return nil, err
	}
	triggerJob := func(t *testing.T, b *emuBench) (*dbtcloud.Run, error) {
		r, _, err := b.c.Runs.Trigger(t.Context(), b.srv.AccountID, emulator.DemoDailyJobID, &dbtcloud.TriggerRunRequest{Cause: "faults"})
		return r, err
	}
	oneRun := func(t *testing.T, o outcome) {
		t.Helper()
		if n := len(o.b.srv.Runs()); n != 1 {
			t.Errorf("emulator has %d runs, want 1", n)
		}
		if n := o.b.srv.TriggerCount(emulator.DemoDailyJobID); n != 1 {
			t.Errorf("emulator created %d runs through the trigger endpoint, want 1", n)
		}
		if o.run == nil || o.run.ID != o.b.srv.Runs()[0].ID || o.run.JobDefinitionID != emulator.DemoDailyJobID {
			t.Errorf("client returned %+v, want the one run", o.run)
		}
	}
	tests := []struct {
		name       string
		faults     []emulator.Fault
		call       func(*testing.T, *emuBench) (*dbtcloud.Run, error)
		wantSleeps []time.Duration // exact waits; nil means "some"
		check      func(*testing.T, outcome)
	}{
		{name: "429 with Retry-After on a GET",
			faults:     []emulator.Fault{{Path: jobGet, Kind: emulator.FaultStatus, Status: 429, RetryAfter: 7}},
			call:       getJob,
			wantSleeps: []time.Duration{7 * time.Second}},
		{name: "500 on a GET", faults: []emulator.Fault{{Path: jobGet, Kind: emulator.FaultStatus, Status: 500}}, call: getJob},
		{name: "503 twice on a GET", faults: []emulator.Fault{{Path: jobGet, Kind: emulator.FaultStatus, Status: 503, Times: 2}}, call: getJob},
		{name: "503 with Retry-After on a GET",
			faults:     []emulator.Fault{{Path: jobGet, Kind: emulator.FaultStatus, Status: 503, RetryAfter: 3}},
			call:       getJob,
			wantSleeps: []time.Duration{3 * time.Second}},
		{name: "drop on a GET", faults: []emulator.Fault{{Path: jobGet, Kind: emulator.FaultDrop}}, call: getJob},
		{name: "commit_then_drop on a GET", faults: []emulator.Fault{{Path: jobGet, Kind: emulator.FaultCommitThenDrop}}, call: getJob},
		{name: "commit_then_drop on trigger: the run is found, not duplicated",
			faults: []emulator.Fault{{Path: trigger, Kind: emulator.FaultCommitThenDrop}},
			call:   triggerJob, check: oneRun},
		{name: "drop on trigger: looked up, none found, posted again",
			faults: []emulator.Fault{{Path: trigger, Kind: emulator.FaultDrop}},
			call:   triggerJob, check: oneRun},
		{name: "500 on trigger: looked up, posted again",
			faults: []emulator.Fault{{Path: trigger, Kind: emulator.FaultStatus, Status: 500}},
			call:   triggerJob, check: oneRun},
		{name: "429 on trigger: refused, retried after Retry-After",
			faults:     []emulator.Fault{{Path: trigger, Kind: emulator.FaultStatus, Status: 429, RetryAfter: 20}},
			call:       triggerJob,
			wantSleeps: []time.Duration{20 * time.Second},
			check:      oneRun},
		{name: "commit_then_drop on cancel: the repeat is harmless",
			faults: []emulator.Fault{{Path: cancel, Kind: emulator.FaultCommitThenDrop}},
			call: func(t *testing.T, b *emuBench) (*dbtcloud.Run, error) {
				run := b.trigger(t, emulator.DemoSlowJobID)
				b.takeSleeps()
				r, _, err := b.c.Runs.Cancel(t.Context(), b.srv.AccountID, run.ID)
				return r, err
			},
			check: func(t *testing.T, o outcome) {
				if o.run == nil || o.run.Status != dbtcloud.RunStatusCancelled || o.run.StatusMessage != "Cancelled by user." {
					t.Errorf("Cancel returned %+v", o.run)
				}
				if runs := o.b.srv.Runs(); len(runs) != 1 || runs[0].Status != int(dbtcloud.RunStatusCancelled) {
					t.Errorf("emulator runs %+v", runs)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newEmuBench(t, emulator.Options{})
			for _, f := range tt.faults {
				b.fault(t, f)
			}
			run, err := tt.call(t, b)
			if err != nil {
				t.Fatalf("call failed despite retries: %v", err)
			}
			sleeps := b.takeSleeps()
			if tt.wantSleeps != nil && !slices.Equal(sleeps, tt.wantSleeps) {
				t.Errorf("client waited %v, want %v", sleeps, tt.wantSleeps)
			}
			if len(sleeps) == 0 {
				t.Errorf("the client never waited, so the fault did not fire or was not retried")
			}
			if tt.check != nil {
				tt.check(t, outcome{b: b, run: run})
			}
		})
	}
}

// TestEmulatorLatencyTimeout checks that a latency fault longer than the
// client's per-request timeout gives a timeout error, and that with retries
// the next attempt succeeds. Latency is real time, so it is kept short.
func TestEmulatorLatencyTimeout(t *testing.T) {
	t.Parallel()
	b := newEmuBench(t, emulator.Options{})
	b.fault(t, emulator.Fault{Path: "GET /api/v2/accounts/{a}/", Kind: emulator.FaultLatency, Latency: 2 * time.Second, Times: 2})
	timeout := dbtcloud.WithTimeout(100 * time.Millisecond)

	once := b.client(t, timeout, dbtcloud.WithRetryPolicy(dbtcloud.RetryPolicy{MaxAttempts: 1}))
	_, _, err := once.Accounts.Get(t.Context(), b.srv.AccountID)
	var ne interface{ Timeout() bool }
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("without retries: %v, want a timeout error", err)
	}

	retrying := b.client(t, timeout)
	a, _, err := retrying.Accounts.Get(t.Context(), b.srv.AccountID)
	if err != nil || a.ID != b.srv.AccountID {
		t.Fatalf("with retries: %+v, %v", a, err)
	}
	if s := b.takeSleeps(); len(s) != 1 {
		t.Errorf("waits %v, want one retry", s)
	}
}

// TestEmulatorRateLimit runs the client into the emulator's own rate limit:
// the 429 carries Retry-After for the rest of dbt's five-minute cooldown,
// and the client waits that long (on the fake clock) and then succeeds.
func TestEmulatorRateLimit(t *testing.T) {
	t.Parallel()
	b := newEmuBench(t, emulator.Options{RateLimitPerMinute: 3})
	for i := range 5 {
		if _, _, err := b.c.Accounts.Get(t.Context(), b.srv.AccountID); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	sleeps := b.takeSleeps()
	if len(sleeps) == 0 {
		t.Fatal("the client never hit the rate limit")
	}
	var waited time.Duration
	for _, s := range sleeps {
		waited += s
	}
	if waited < 5*time.Minute {
		t.Errorf("client waited %v in all (%v), want the five-minute cooldown", waited, sleeps)
	}
}
