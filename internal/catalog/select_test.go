package catalog

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
	"github.com/dbtlink/dbtlink/internal/store"
)

const (
	failingTest = "test.jaffle_shop.not_null_orders_order_id.cf6c17daed"
	otherTest   = "test.jaffle_shop.unique_customers_customer_id.c5af1ff4b1"
)

// IDs of the catalog test seed.
const (
	accountID  = 7
	projectID  = 70
	prodEnv    = 71
	devEnv     = 72
	stagingEnv = 73
	buildJob   = 701 // dbt seed; dbt run; dbt test (the test step fails a test)
	docsJob    = 702 // dbt build with docs and freshness
	ciJob      = 703 // CI, dbt build, no docs
	cancelJob  = 704 // succeeds once, then is cancelled by its timeout
	devJob     = 705
	stagingJob = 706
	deniedJob  = 707
	emuToken   = "catalog_test_token"
)

func catalogSeed() *emulator.Seed {
	three := 3
	return &emulator.Seed{Accounts: []emulator.SeedAccount{{
		ID: accountID, Name: "catalog", RunSlots: 4, Tokens: []string{emuToken},
		Projects: []emulator.SeedProject{{ID: projectID, Name: "jaffle", Environments: []emulator.SeedEnvironment{
			{ID: prodEnv, Name: "Production", DeploymentType: "production", Jobs: []emulator.SeedJob{
				{ID: buildJob, Name: "nightly", ExecuteSteps: []string{"dbt seed", "dbt run", "dbt test"},
					Behaviour: emulator.SeedBehaviour{Outcome: "error", FailStep: &three, FailingNode: failingTest, StepSeconds: []float64{10}}},
				{ID: docsJob, Name: "docs", ExecuteSteps: []string{"dbt build"}, GenerateDocs: true, RunGenerateSources: true,
					Behaviour: emulator.SeedBehaviour{StepSeconds: []float64{10}}},
				{ID: ciJob, Name: "pr check", ExecuteSteps: []string{"dbt build"}, JobType: "ci",
					Behaviour: emulator.SeedBehaviour{StepSeconds: []float64{10}}},
				{ID: cancelJob, Name: "flaky", ExecuteSteps: []string{"dbt build"},
					Behaviour: emulator.SeedBehaviour{StepSeconds: []float64{10}}},
				{ID: deniedJob, Name: "scratch", ExecuteSteps: []string{"dbt run"}},
			}},
			{ID: devEnv, Name: "Development", Type: "development", Jobs: []emulator.SeedJob{{ID: devJob, Name: "dev"}}},
			{ID: stagingEnv, Name: "Staging", DeploymentType: "staging", Jobs: []emulator.SeedJob{{ID: stagingJob, Name: "staging build"}}},
		}}},
	}}}
}

type emuEnv struct {
	srv    *emulator.Server
	client *dbtcloud.Client
}

func newEmu(t *testing.T) *emuEnv {
	t.Helper()
	srv, err := emulator.New(emulator.Options{Seed: catalogSeed(), Clock: emulator.NewFakeClock(time.Date(2026, 3, 12, 6, 0, 0, 0, time.UTC)), RateLimitPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	c, err := dbtcloud.NewClient(srv.URL, srv.Token, dbtcloud.WithHTTPClient(srv.Client()),
		dbtcloud.WithRetryPolicy(dbtcloud.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	return &emuEnv{srv: srv, client: c}
}

// run triggers a job and moves the clock until the run ends.
func (e *emuEnv) run(t *testing.T, jobID int64, timeout int) *dbtcloud.Run {
	t.Helper()
	ctx := t.Context()
	req := &dbtcloud.TriggerRunRequest{Cause: "catalog test"}
	if timeout > 0 {
		req.TimeoutSecondsOverride = &timeout
	}
	r, _, err := e.client.Runs.Trigger(ctx, accountID, jobID, req)
	if err != nil {
		t.Fatalf("trigger job %d: %v", jobID, err)
	}
	for range 200 {
		e.srv.Advance(5 * time.Second)
		got, _, err := e.client.Runs.Get(ctx, accountID, r.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status.Terminal() {
			return got
		}
	}
	t.Fatalf("run %d of job %d did not end", r.ID, jobID)
	return nil
}

func planFor(t *testing.T, plans []EnvPlan, envID int64) EnvPlan {
	t.Helper()
	for _, p := range plans {
		if p.Environment.ID == envID {
			return p
		}
	}
	t.Fatalf("no plan for environment %d", envID)
	return EnvPlan{}
}

func TestPlanFetchBuildAgainstEmulator(t *testing.T) {
	t.Parallel()
	e := newEmu(t)
	ctx := t.Context()

	docs1 := e.run(t, docsJob, 0)
	nightly := e.run(t, buildJob, 0)
	flakyOK := e.run(t, cancelJob, 0)
	flakyCancelled := e.run(t, cancelJob, 5) // times out: cancelled
	ci := e.run(t, ciJob, 0)                 // the newest run, without docs
	if nightly.Status != dbtcloud.RunStatusError || flakyCancelled.Status != dbtcloud.RunStatusCancelled || docs1.Status != dbtcloud.RunStatusSuccess {
		t.Fatalf("setup: nightly %v, flaky %v, docs %v", nightly.Status, flakyCancelled.Status, docs1.Status)
	}

	opts := PlanOptions{Jobs: Filter{Deny: []string{"scratch"}}, IncludeCI: true}
	plans, err := Plan(ctx, e.client, accountID, opts)
	if err != nil {
		t.Fatal(err)
	}
	var envs []int64
	for _, p := range plans {
		envs = append(envs, p.Environment.ID)
	}
	if !slices.Equal(envs, []int64{prodEnv, stagingEnv}) {
		t.Errorf("planned environments %v, want production and staging (development is skipped)", envs)
	}
	p := planFor(t, plans, prodEnv)
	chosen := map[int64]int64{}
	for _, jp := range p.Jobs {
		if jp.Run != nil {
			chosen[jp.Job.ID] = jp.Run.ID
		} else {
			chosen[jp.Job.ID] = 0
		}
	}
	want := map[int64]int64{buildJob: nightly.ID, docsJob: docs1.ID, ciJob: ci.ID, cancelJob: flakyOK.ID}
	if len(chosen) != len(want) {
		t.Errorf("jobs planned %v, want %v", chosen, want)
	}
	for j, r := range want {
		if chosen[j] != r {
			t.Errorf("job %d: run %d chosen, want %d (latest completed, failures included, cancelled excluded)", j, chosen[j], r)
		}
	}
	// The nightly job's three steps each give run_results, with their step index.
	var nightlySteps []int
	for _, a := range p.RunResults {
		if a.RunID == nightly.ID {
			nightlySteps = append(nightlySteps, a.Step)
		}
	}
	if len(nightlySteps) != 3 {
		t.Errorf("nightly run_results steps %v, want three (seed, run, test)", nightlySteps)
	}
	if len(p.Manifests) == 0 || p.Manifests[0].RunID != ci.ID {
		t.Errorf("manifest candidates %v: want the newest run (%d) first", p.Manifests, ci.ID)
	}
	if len(p.Catalogs) != 1 || p.Catalogs[0].RunID != docs1.ID || len(p.Sources) != 1 || p.Sources[0].RunID != docs1.ID {
		t.Errorf("catalogs %v, sources %v: want the docs run %d", p.Catalogs, p.Sources, docs1.ID)
	}

	in, err := Fetch(ctx, e.client, p)
	if err != nil {
		t.Fatal(err)
	}
	if in.Catalog == nil || in.Sources == nil || in.ManifestRunID != ci.ID {
		t.Fatalf("fetched catalog %v sources %v manifest run %d; warnings %v", in.Catalog != nil, in.Sources != nil, in.ManifestRunID, in.Warnings)
	}
	scope := p.Scope("emu")
	snap, err := BuildSnapshot(scope, in, BuildOptions{AccessURL: p.AccessURL})
	if err != nil {
		t.Fatal(err)
	}
	ft := testOf(t, snap, failingTest)
	// The nightly run is newer than the docs run, but the CI run (newest)
	// passed this test; CI runs are read here because IncludeCI is set.
	if ft.Status != "pass" || ft.RunID != ci.ID {
		t.Errorf("failing test with CI included: %s from run %d, want pass from CI run %d", ft.Status, ft.RunID, ci.ID)
	}
	if n := len(historyOf(snap, failingTest)); n != 4 {
		t.Errorf("history of %s: %d entries, want 4 (docs, nightly, flaky, ci)", failingTest, n)
	}
	if len(snap.Jobs) != 4 || len(snap.Runs) != 4 {
		t.Errorf("jobs %d runs %d", len(snap.Jobs), len(snap.Runs))
	}
	orders := nodeOf(t, snap, "model.jaffle_shop.orders")
	if orders.LastRunID != ci.ID || len(orders.Columns) == 0 || orders.Columns[0].DataType == "" || !strings.Contains(orders.ExploreURL, "/explore/7/projects/70/environments/production/details/model.jaffle_shop.orders") {
		t.Errorf("orders: last run %d, columns %+v, explore %q", orders.LastRunID, orders.Columns, orders.ExploreURL)
	}
	src := nodeOf(t, snap, "source.jaffle_shop.ecom.raw_orders")
	if src.FreshnessStatus == "" || src.FreshnessCheckedAt.IsZero() {
		t.Errorf("source freshness %+v", src)
	}

	// Without CI jobs (the default), the failing nightly test shows.
	plans, err = Plan(ctx, e.client, accountID, PlanOptions{Jobs: Filter{Deny: []string{"scratch"}}})
	if err != nil {
		t.Fatal(err)
	}
	p2 := planFor(t, plans, prodEnv)
	if p2.Fingerprint == p.Fingerprint {
		t.Error("fingerprint did not change when the CI job was left out")
	}
	in, err = Fetch(ctx, e.client, p2)
	if err != nil {
		t.Fatal(err)
	}
	snap, err = BuildSnapshot(scope, in, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// flaky (cancelJob) ran a full dbt build after nightly and passed the test.
	ft = testOf(t, snap, failingTest)
	if ft.Status != "pass" || ft.RunID != flakyOK.ID {
		t.Errorf("without CI: %s from run %d, want pass from run %d", ft.Status, ft.RunID, flakyOK.ID)
	}

	// Now only the nightly job: its failing test must show.
	plans, err = Plan(ctx, e.client, accountID, PlanOptions{Environments: Filter{Allow: []string{"prod*"}}, Jobs: Filter{Allow: []string{"nightly", "docs"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(plans) != 1 {
		t.Fatalf("%d plans, want production only", len(plans))
	}
	in, err = Fetch(ctx, e.client, plans[0])
	if err != nil {
		t.Fatal(err)
	}
	snap, err = BuildSnapshot(scope, in, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ft = testOf(t, snap, failingTest)
	if ft.Status != "fail" || ft.RunID != nightly.ID || ft.Failures == nil || *ft.Failures != 3 || ft.Message == "" {
		t.Errorf("nightly failing test: %+v", ft)
	}
	if ot := testOf(t, snap, otherTest); ot.Status != "pass" || ot.RunID != nightly.ID {
		t.Errorf("other test: %s from run %d, want pass from the newer nightly run %d", ot.Status, ot.RunID, nightly.ID)
	}
	// Seeds were last built by nightly's seed step, models by its run step.
	if s := nodeOf(t, snap, "seed.jaffle_shop.raw_orders"); s.LastRunID != nightly.ID {
		t.Errorf("seed last run %d, want %d", s.LastRunID, nightly.ID)
	}

	// Unchanged environment: same fingerprint from the listing alone.
	again, err := Plan(ctx, e.client, accountID, PlanOptions{Environments: Filter{Allow: []string{"prod*"}}, Jobs: Filter{Allow: []string{"nightly", "docs"}}})
	if err != nil {
		t.Fatal(err)
	}
	if again[0].Fingerprint != plans[0].Fingerprint {
		t.Error("fingerprint changed without new runs")
	}
	e.run(t, docsJob, 0)
	again, err = Plan(ctx, e.client, accountID, PlanOptions{Environments: Filter{Allow: []string{"prod*"}}, Jobs: Filter{Allow: []string{"nightly", "docs"}}})
	if err != nil {
		t.Fatal(err)
	}
	if again[0].Fingerprint == plans[0].Fingerprint {
		t.Error("fingerprint unchanged after a new run")
	}
}

func TestPlanNoDocsJobAndNoRuns(t *testing.T) {
	t.Parallel()
	e := newEmu(t)
	ctx := t.Context()
	// Staging has never run: Fetch says so clearly.
	plans, err := Plan(ctx, e.client, accountID, PlanOptions{Environments: Filter{Allow: []string{"73"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(plans) != 1 || len(plans[0].Manifests) != 0 {
		t.Fatalf("plans %+v", plans)
	}
	if _, err := Fetch(ctx, e.client, plans[0]); !errors.Is(err, ErrNoRuns) || !strings.Contains(err.Error(), "Staging") {
		t.Errorf("Fetch of an environment without runs: %v", err)
	}

	// Only a CI job without docs ran: the sync works, without a catalog.
	e.run(t, ciJob, 0)
	plans, err = Plan(ctx, e.client, accountID, PlanOptions{Environments: Filter{Allow: []string{"Production"}}, IncludeCI: true})
	if err != nil {
		t.Fatal(err)
	}
	in, err := Fetch(ctx, e.client, plans[0])
	if err != nil {
		t.Fatal(err)
	}
	if in.Catalog != nil || len(in.Warnings) == 0 {
		t.Errorf("catalog %v warnings %v", in.Catalog, in.Warnings)
	}
	if _, err := BuildSnapshot(plans[0].Scope("emu"), in, BuildOptions{}); err != nil {
		t.Error(err)
	}
}

func TestPlanBadFilter(t *testing.T) {
	t.Parallel()
	if _, err := Plan(context.Background(), nil, 1, PlanOptions{Jobs: Filter{Allow: []string{"[x"}}}); err == nil || !strings.Contains(err.Error(), "bad glob") {
		t.Errorf("err %v", err)
	}
}

func TestFetchHostileArtifact(t *testing.T) {
	t.Parallel()
	e := newEmu(t)
	docs := e.run(t, docsJob, 0)
	plans, err := Plan(t.Context(), e.client, accountID, PlanOptions{Jobs: Filter{Allow: []string{"docs"}}})
	if err != nil {
		t.Fatal(err)
	}
	p := planFor(t, plans, prodEnv)
	// Point the manifest at the catalog: the wrong kind of artifact.
	p.Manifests = []ArtifactRef{{RunID: docs.ID, JobID: docsJob, Step: p.Catalogs[0].Step, StepName: "Invoke dbt with `dbt docs generate`", Path: "catalog.json"}}
	_, err = Fetch(t.Context(), e.client, p)
	if err == nil {
		t.Fatal("a catalog read as a manifest was accepted")
	}
	for _, want := range []string{"catalog.json", "run " + itoa(int(docs.ID)), "step " + itoa(p.Catalogs[0].Step), "manifest"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

func TestStepCommand(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Invoke dbt with `dbt build --select tag:x`":      "build",
		"Invoke dbt with `dbt docs generate`":             "docs generate",
		"Invoke dbt with `dbt source freshness`":          "source freshness",
		"Invoke dbt with `dbt --debug run`":               "run",
		"Invoke dbt with `dbt deps`":                      "deps",
		"Clone git repository":                            "",
		"Invoke dbt with `dbt source snapshot-freshness`": "source freshness",
	} {
		if got := stepCommand(in); got != want {
			t.Errorf("stepCommand(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFilter(t *testing.T) {
	t.Parallel()
	f := Filter{Allow: []string{"analytics*", "42"}, Deny: []string{"*legacy"}}
	for _, tc := range []struct {
		id   int64
		name string
		want bool
	}{{1, "Analytics", true}, {42, "other", true}, {2, "analytics_legacy", false}, {3, "other", false}} {
		if got := f.Keep(tc.id, tc.name); got != tc.want {
			t.Errorf("Keep(%d, %q) = %v", tc.id, tc.name, got)
		}
	}
}

func nodeOf(t *testing.T, s store.Snapshot, id string) *store.CatalogNode {
	t.Helper()
	n := nodeByID(s, id)
	if n == nil {
		t.Fatalf("no node %s", id)
	}
	return n
}

func testOf(t *testing.T, s store.Snapshot, id string) *store.CatalogTest {
	t.Helper()
	n := testByID(s, id)
	if n == nil {
		t.Fatalf("no test %s", id)
	}
	return n
}

func historyOf(s store.Snapshot, id string) []store.TestResult {
	var out []store.TestResult
	for _, r := range s.TestResults {
		if r.UniqueID == id {
			out = append(out, r)
		}
	}
	return out
}
