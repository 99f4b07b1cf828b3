package e2e

import (
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/store/storetest"
)

// killSpeed makes an emulated minute last two real seconds: the jobs of
// killSeed run for one to three seconds each, and a job's runs queue
// behind each other, so 50 runs stay in flight for several seconds.
const killSpeed = 30

// killJob is a job of killSeed and what its runs must end as.
type killJob struct {
	id         int64
	outcome    string  // success or error
	seconds    float64 // emulated duration of each step
	maxRetries int     // of the runs requested for it
	runs       int     // how many of the 50 runs are of this job
}

// killJobs: ten jobs share 48 runs; two more failing jobs get one run
// each, with a rerun from failure (the emulator's reruns succeed). A job
// gets a single run when it is rerun because dbt Cloud reruns only the
// latest run of a job.
var killJobs = []killJob{
	{id: 501, outcome: "success", seconds: 20, runs: 5},
	{id: 502, outcome: "success", seconds: 30, runs: 5},
	{id: 503, outcome: "success", seconds: 40, runs: 4},
	{id: 504, outcome: "success", seconds: 15, runs: 6},
	{id: 505, outcome: "success", seconds: 25, runs: 5},
	{id: 506, outcome: "success", seconds: 35, runs: 4},
	{id: 507, outcome: "success", seconds: 20, runs: 5},
	{id: 508, outcome: "error", seconds: 15, runs: 5},
	{id: 509, outcome: "error", seconds: 10, runs: 5},
	{id: 510, outcome: "error", seconds: 20, runs: 4},
	{id: 511, outcome: "error", seconds: 10, runs: 1, maxRetries: 1},
	{id: 512, outcome: "error", seconds: 15, runs: 1, maxRetries: 1},
}

// killSeed is one account with run slots for every run at once.
func killSeed() *emulator.Seed {
	two, one, queue := 2, 1.0, 1.0
	var jobs []emulator.SeedJob
	for _, j := range killJobs {
		b := emulator.SeedBehaviour{StepSeconds: []float64{j.seconds}, QueueSeconds: &queue, StartingSeconds: &one}
		steps := []string{"dbt build"}
		if j.outcome == "error" {
			steps = []string{"dbt run", "dbt test"}
			b.Outcome, b.FailStep = "error", &two
		}
		jobs = append(jobs, emulator.SeedJob{ID: j.id, Name: "job " + strconv.FormatInt(j.id, 10), ExecuteSteps: steps, Behaviour: b})
	}
	return &emulator.Seed{Accounts: []emulator.SeedAccount{{
		ID: emulator.DemoAccountID, Name: "kill test", RunSlots: 60, Tokens: []string{emulator.DemoToken},
		Projects: []emulator.SeedProject{{ID: emulator.DemoProjectID, Name: "analytics", Environments: []emulator.SeedEnvironment{
			{ID: emulator.DemoProductionEnvID, Name: "Production", DeploymentType: "production", Jobs: jobs},
		}}},
	}}}
}

// killRequest is one of the 50 runs: its job and what it must end as.
type killRequest struct {
	cause   string
	job     killJob
	want    string // final state
	retries int    // reruns it must have had
}

func killRequests() []killRequest {
	var out []killRequest
	for _, j := range killJobs {
		want, retries := j.outcome, 0
		if j.outcome == "error" && j.maxRetries > 0 {
			want, retries = "success", 1
		}
		for range j.runs {
			out = append(out, killRequest{job: j, want: want, retries: retries})
		}
	}
	for i := range out {
		out[i].cause = fmt.Sprintf("e2e kill test run %02d", i)
	}
	return out
}

// TestServeSurvivesKill creates 50 runs through the API of a SQLite
// server and kills that server with SIGKILL at random moments while they
// are triggered, polled and finalized, restarting it on the same database
// each time. Every run must reach the state its job dictates, and dbt
// Cloud must have seen exactly one trigger per run: none lost, none twice.
// One trigger's answer is dropped after dbt Cloud created the run, which
// only the trigger marker can resolve.
func TestServeSurvivesKill(t *testing.T) {
	t.Parallel()
	rng := testRand(t)
	testStart := time.Now()
	deadline := testStart.Add(50 * time.Second)

	emu := startEmulatorWith(t, killSeed(), killSpeed)
	if _, err := emu.InjectFault(emulator.Fault{Method: "POST", Path: "/api/v2/accounts/{a}/jobs/{j}/run/", Kind: emulator.FaultCommitThenDrop}); err != nil {
		t.Fatal(err)
	}
	e := newServeEnv(t, "")
	admin := e.token(t, "admin", "admin")
	flags := []string{"--poll-min", "200ms", "--poll-max", "1s"}
	servers := 0
	start := func() *serveProc {
		servers++
		return startServe(t, e, fmt.Sprintf("server %d", servers), flags...)
	}
	cur := &current{}
	srv := start()
	cur.set(srv.URL)
	apiClient{url: srv.URL, token: admin}.addConnection(t, emu)

	// Create the 50 runs at once. A creation whose answer a kill swallows
	// is looked for by its cause before being sent again, as a careful
	// client would.
	reqs := killRequests()
	runs := make([]apiRun, len(reqs))
	errs := make([]error, len(reqs))
	answered := make(chan int, len(reqs))
	var stats createStats
	var wg sync.WaitGroup
	for i, rq := range reqs {
		wg.Go(func() {
			runs[i], errs[i] = createOnce(cur, admin, rq, deadline, &stats)
			answered <- i
		})
	}

	// Kill 1: among the creations or within milliseconds of the last.
	kills := 3 + rng.IntN(3)
	killAfter := len(reqs)/2 + rng.IntN(len(reqs)/2+1) // after 25 to 50 answers
	pause := time.Duration(rng.IntN(5000)) * time.Microsecond
	for n := 0; n < killAfter; n++ {
		select {
		case <-answered:
		case <-time.After(time.Until(deadline)):
			t.Fatalf("only %d of %d runs created before the deadline", n, len(reqs))
		}
	}
	time.Sleep(pause)
	srv.kill()
	t.Logf("kill 1 of %d: %s after %d of %d creations were answered", kills, pause, killAfter, len(reqs))
	srv = start()
	cur.set(srv.URL)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("create run %d: %v", i, err)
		}
	}
	t.Logf("creations cut by the kill: %d, found by their cause after it: %d", stats.cut.Load(), stats.found.Load())

	// The other kills at random moments while the runs are followed,
	// from just after a restart to a second and a half later.
	for k := 2; k <= kills; k++ {
		d := time.Duration(rng.IntN(1500)) * time.Millisecond
		time.Sleep(d)
		active := countActive(t, apiClient{url: srv.URL, token: admin})
		srv.kill()
		t.Logf("kill %d of %d: %s after the restart, %d runs in flight", k, kills, d, active)
		srv = start()
		cur.set(srv.URL)
	}
	t.Logf("kills done %s after the start", time.Since(testStart).Round(time.Millisecond))

	api := apiClient{url: srv.URL, token: admin}
	final := make([]apiRun, len(runs))
	for i := range runs {
		wg.Go(func() { final[i], errs[i] = api.waitDone(runs[i].ID, deadline) })
	}
	wg.Wait()
	t.Logf("all runs done %s after the start", time.Since(testStart).Round(time.Millisecond))
	checkKillRuns(t, emu, reqs, runs, final, errs)
}

// checkKillRuns checks the end of the runs of TestServeSurvivesKill
// against the requests and what dbt Cloud saw.
func checkKillRuns(t *testing.T, emu *emulator.Server, reqs []killRequest, created, final []apiRun, errs []error) {
	t.Helper()
	byDbt := map[int64]emulator.RunInfo{}
	retriesSeen := 0
	for _, ri := range emu.Runs() {
		byDbt[ri.ID] = ri
		if ri.RetryingRunID != 0 {
			retriesSeen++
		}
	}
	ids := map[int64]int{}
	firstDbt := map[int64]int{}
	wantRetries := 0
	for i, rq := range reqs {
		r := final[i]
		wantRetries += rq.retries
		if errs[i] != nil {
			t.Errorf("run %d (%s): %v", created[i].ID, rq.cause, errs[i])
			continue
		}
		if prev, ok := ids[r.ID]; ok {
			t.Errorf("requests %d and %d made the same run %d", prev, i, r.ID)
		}
		ids[r.ID] = i
		if r.State != rq.want || r.Retries != rq.retries || r.JobID != rq.job.id || r.Cause != rq.cause || len(r.Attempts) != rq.retries+1 {
			t.Errorf("run %d of job %d (%s): %s after %d reruns with attempts %v, want %s after %d: %+v",
				r.ID, rq.job.id, rq.cause, r.State, r.Retries, r.Attempts, rq.want, rq.retries, r)
			continue
		}
		first := r.Attempts[0]
		if prev, ok := firstDbt[first]; ok {
			t.Errorf("runs %d and %d were both given dbt Cloud run %d", final[prev].ID, r.ID, first)
		}
		firstDbt[first] = i
		ri, ok := byDbt[first]
		if !ok || ri.JobID != rq.job.id || !strings.Contains(ri.Cause, rq.cause) || ri.RetryingRunID != 0 {
			t.Errorf("run %d (%s) points at dbt Cloud run %d, which is %+v", r.ID, rq.cause, first, ri)
		}
	}
	total := 0
	for _, j := range killJobs {
		n := emu.TriggerCount(j.id)
		total += n
		if n != j.runs {
			t.Errorf("job %d was triggered %d times for %d runs", j.id, n, j.runs)
		}
	}
	if total != len(reqs) {
		t.Errorf("dbt Cloud saw %d triggers for %d runs", total, len(reqs))
	}
	if retriesSeen != wantRetries {
		t.Errorf("dbt Cloud saw %d reruns from failure, want %d", retriesSeen, wantRetries)
	}
}

// createOnce creates a run through whichever server is current, surviving
// kills: after a failure it waits for the next server, looks for the run
// by its cause, and posts again only if it is not there.
func createOnce(cur *current, token string, rq killRequest, deadline time.Time, stats *createStats) (apiRun, error) {
	body := map[string]any{"job_id": rq.job.id, "max_retries": rq.job.maxRetries, "trigger": map[string]any{"cause": rq.cause}}
	for attempt := 0; ; attempt++ {
		url, gen := cur.get()
		api := apiClient{url: url, token: token}
		var r apiRun
		var err error
		if attempt > 0 {
			r, err = findByCause(api, rq)
			if err == nil && r.ID != 0 {
				stats.found.Add(1)
				return r, nil
			}
		}
		if err == nil {
			if r, err = post(api, body); err == nil {
				return r, nil
			}
		}
		var se *statusError
		if errors.As(err, &se) {
			return r, err // an answer, not a dead server
		}
		if attempt == 0 {
			stats.cut.Add(1)
		}
		if !cur.waitNext(gen, deadline) {
			return apiRun{}, fmt.Errorf("%s: no server to create it on before the deadline: %w", rq.cause, err)
		}
	}
}

// testRand returns the random source of a test, seeded from the clock
// or DBTLINK_E2E_SEED, and logs its seed. A seed replays the test's random
// choices (what to kill, when), not the timing of everything else.
func testRand(t *testing.T) *rand.Rand {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("DBTLINK_E2E_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("DBTLINK_E2E_SEED=%q: %v", v, err)
		}
	}
	t.Logf("random seed %d (DBTLINK_E2E_SEED=%d replays the choices)", seed, seed)
	return rand.New(rand.NewPCG(seed, seed))
}

// createStats counts what the kill did to the creations.
type createStats struct {
	cut   atomic.Int32 // creations whose first POST got no answer
	found atomic.Int32 // ... which had created the run all the same
}

func post(api apiClient, body any) (apiRun, error) {
	var r apiRun
	_, err := api.call("POST", "/api/v1/runs", body, &r)
	return r, err
}

// findByCause returns the run of rq's job with rq's cause, or a zero run.
func findByCause(api apiClient, rq killRequest) (apiRun, error) {
	var page struct {
		Runs []apiRun `json:"runs"`
	}
	if _, err := api.call("GET", fmt.Sprintf("/api/v1/runs?job_id=%d&limit=100", rq.job.id), nil, &page); err != nil {
		return apiRun{}, err
	}
	i := slices.IndexFunc(page.Runs, func(r apiRun) bool { return r.Cause == rq.cause })
	if i < 0 {
		return apiRun{}, nil
	}
	return page.Runs[i], nil
}

// countActive counts the runs not yet ended, for the log.
func countActive(t *testing.T, api apiClient) int {
	t.Helper()
	var page struct {
		Runs []apiRun `json:"runs"`
	}
	api.must(t, "GET", "/api/v1/runs?state=pending,queued,starting,running&limit=100", nil, &page, http.StatusOK)
	return len(page.Runs)
}

// current is the URL of the server now running, which changes with each
// restart.
type current struct {
	mu      sync.Mutex
	url     string
	gen     int
	changed chan struct{}
}

func (c *current) set(url string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.changed != nil {
		close(c.changed)
	}
	c.url, c.changed = url, make(chan struct{})
	c.gen++
}

func (c *current) get() (string, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.url, c.gen
}

// waitNext waits until a server newer than generation gen runs; false if
// the deadline passes first.
func (c *current) waitNext(gen int, deadline time.Time) bool {
	c.mu.Lock()
	ch, now := c.changed, c.gen
	c.mu.Unlock()
	if now != gen {
		return true
	}
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case <-ch:
		return true
	case <-timer.C:
		return false
	}
}

// TestServeTwoServersPostgres runs two servers on one PostgreSQL schema,
// creates 50 runs through both, and kills one of them with SIGKILL while
// the runs are triggered and followed. The survivor takes over the dead
// server's jobs (River's rescuer, after --rescue-after) and every run
// ends as its job dictates, with exactly one trigger each.
func TestServeTwoServersPostgres(t *testing.T) {
	t.Parallel()
	var dsn string
	for _, b := range storetest.Backends(t) {
		if b.Name == string(store.Postgres) {
			dsn = b.DSN
		}
	}
	if dsn == "" {
		t.Skipf("set %s to a PostgreSQL URL (such as postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run two servers on one database", storetest.EnvPostgres)
	}
	rng := testRand(t)
	testStart := time.Now()
	deadline := testStart.Add(55 * time.Second)

	emu := startEmulatorWith(t, killSeed(), killSpeed)
	e := newServeEnv(t, dsn)
	flags := []string{"--rescue-after", "3s", "--poll-min", "200ms", "--poll-max", "1s"}
	// Both start at once on the new schema, migrating it together.
	srvs := []*serveProc{launchServe(t, e, "server A", flags...), launchServe(t, e, "server B", flags...)}
	for _, p := range srvs {
		p.await(t)
	}
	admin := e.token(t, "admin", "admin")
	apis := []apiClient{{url: srvs[0].URL, token: admin}, {url: srvs[1].URL, token: admin}}
	apis[0].addConnection(t, emu)

	// Every trigger takes two seconds until the kill, so the victim dies
	// with triggers in flight: their jobs stay running in the database
	// until the survivor rescues them.
	if _, err := emu.InjectFault(emulator.Fault{Method: "POST", Path: "/api/v2/accounts/{a}/jobs/{j}/run/", Kind: emulator.FaultLatency,
		Latency: 2 * time.Second, Times: -1}); err != nil {
		t.Fatal(err)
	}
	reqs := killRequests()
	runs := make([]apiRun, len(reqs))
	errs := make([]error, len(reqs))
	var wg sync.WaitGroup
	for i, rq := range reqs {
		wg.Go(func() {
			body := map[string]any{"job_id": rq.job.id, "max_retries": rq.job.maxRetries, "trigger": map[string]any{"cause": rq.cause}}
			runs[i], errs[i] = post(apis[i%2], body)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("create run %d: %v", i, err)
		}
	}

	victim := rng.IntN(2)
	pause := 300*time.Millisecond + time.Duration(rng.IntN(1200))*time.Millisecond
	time.Sleep(pause)
	active := countActive(t, apis[1-victim])
	srvs[victim].kill()
	killedAt := time.Now()
	emu.ClearFaults()
	t.Logf("killed server %c %s after the creations, %d runs in flight", 'A'+victim, pause, active)

	survivor := apis[1-victim]
	final := make([]apiRun, len(runs))
	for i := range runs {
		wg.Go(func() { final[i], errs[i] = survivor.waitDone(runs[i].ID, deadline) })
	}
	wg.Wait()
	t.Logf("all runs done %s after the kill, %s after the start", time.Since(killedAt).Round(time.Millisecond), time.Since(testStart).Round(time.Millisecond))
	checkKillRuns(t, emu, reqs, runs, final, errs)
	if n := rescuedJobs(t, dsn); n == 0 {
		t.Errorf("no job was rescued from the killed server: the test did not exercise the takeover")
	} else {
		t.Logf("%d jobs of the killed server were rescued", n)
	}
}

// rescuedJobs counts the jobs River's rescuer took over.
func rescuedJobs(t *testing.T, dsn string) int {
	t.Helper()
	db, err := sql.Open("pgx", dsn) // registered by package store
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM river_job WHERE errors::text LIKE '%rescued by JobRescuer%'`).Scan(&n); err != nil {
		t.Fatalf("count rescued jobs: %v", err)
	}
	return n
}
