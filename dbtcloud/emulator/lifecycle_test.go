package emulator

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRunSucceedsOnTheFakeClock(t *testing.T) {
	b := setup(t)
	id := b.trigger(t, DemoDailyJobID, map[string]any{"cause": "nightly", "git_branch": "main", "threads_override": 8})

	steps := []struct {
		advance time.Duration
		status  int
	}{
		{0, StatusQueued},
		{2 * time.Second, StatusStarting}, // queued for 2 s
		{5 * time.Second, StatusRunning},  // starting for 5 s
		{65 * time.Second, StatusRunning}, // clone 2 + profile 1 + deps 3 + build 60 = 66 s
		{time.Second, StatusSuccess},
	}
	for _, s := range steps {
		b.srv.Advance(s.advance)
		if got := status(b.getRun(t, id, "")); got != s.status {
			t.Fatalf("after +%v: status %d, want %d", s.advance, got, s.status)
		}
	}
	run := b.getRun(t, id, "trigger,run_steps,job")
	checks := map[string]any{
		"status_humanized": "Success", "in_progress": false, "is_complete": true, "is_success": true,
		"is_error": false, "is_cancelled": false, "duration": "00:01:13", "queued_duration": "00:00:02",
		"run_duration": "00:01:06", "duration_humanized": "1 minute, 13 seconds", "run_duration_humanized": "1 minute, 6 seconds",
		"created_at": "2026-03-12 06:00:00.000000+00:00", "finished_at": "2026-03-12 06:01:13.000000+00:00",
		"has_docs_generated": false, "artifacts_saved": true, "can_retry": false,
		"retry_not_supported_reason": "RETRY_NOT_FAILED_RUN", "job_id": float64(DemoDailyJobID),
		"job_definition_id": float64(DemoDailyJobID),
	}
	for k, want := range checks {
		if run[k] != want {
			t.Errorf("%s = %v, want %v", k, run[k], want)
		}
	}
	if href, _ := run["href"].(string); !strings.HasSuffix(href, "/deploy/1/projects/101/runs/"+itoa(id)+"/") {
		t.Errorf("href = %q", href)
	}
	tr := run["trigger"].(map[string]any)
	if tr["cause"] != "nightly" || num(tr["threads_override"]) != 8 || tr["cause_category"] != "api" {
		t.Errorf("trigger = %v", tr)
	}
	var names []string
	for _, s := range run["run_steps"].([]any) {
		st := s.(map[string]any)
		names = append(names, st["name"].(string))
		if num(st["status"]) != StatusSuccess || st["duration_humanized"] == "" || st["logs"] == "" {
			t.Errorf("step %v: status %v, duration %v, logs %d bytes", st["name"], st["status"], st["duration_humanized"], len(st["logs"].(string)))
		}
	}
	wantNames := []string{"Clone git repository", "Create profile from connection Emulated DuckDB (analytics)",
		"Invoke dbt with `dbt deps`", "Invoke dbt with `dbt build`"}
	if !slices.Equal(names, wantNames) {
		t.Errorf("steps = %q, want %q", names, wantNames)
	}
	build := run["run_steps"].([]any)[3].(map[string]any)["logs"].(string)
	for _, want := range []string{"Running with dbt=1.11.7", "OK sql", "stg_orders", "Completed successfully", "ERROR=0"} {
		if !strings.Contains(build, want) {
			t.Errorf("build logs lack %q:\n%s", want, build)
		}
	}
	if run["job"].(map[string]any)["name"] != "daily build" {
		t.Errorf("job = %v", run["job"])
	}

	rr := runResults(t, b, id, "")
	for _, res := range rr {
		if res.Status != "success" && res.Status != "pass" {
			t.Errorf("%s: status %s after a successful run", res.UniqueID, res.Status)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

type result struct {
	UniqueID string  `json:"unique_id"`
	Status   string  `json:"status"`
	Message  *string `json:"message"`
	Failures *int    `json:"failures"`
}

func runResults(t *testing.T, b *bundle, runID int64, query string) []result {
	t.Helper()
	r := b.call(t, "GET", acctPath("runs/%d/artifacts/run_results.json%s", runID, query), nil)
	wantCode(t, r, http.StatusOK)
	var doc struct {
		Results []result `json:"results"`
	}
	if err := json.Unmarshal(r.raw, &doc); err != nil {
		t.Fatalf("run_results.json: %v", err)
	}
	if len(doc.Results) == 0 {
		t.Fatalf("run_results.json has no results")
	}
	return doc.Results
}

func TestFailedRunHasFailingStepAndNodes(t *testing.T) {
	b := setup(t)
	id := b.trigger(t, DemoFailingJobID, nil) // dbt run (40 s), then dbt test (20 s) which fails
	b.srv.Advance(10 * time.Minute)
	run := b.getRun(t, id, "run_steps")
	if status(run) != StatusError || run["is_error"] != true || run["status_humanized"] != "Error" {
		t.Fatalf("run = %v %v", run["status"], run["status_humanized"])
	}
	steps := run["run_steps"].([]any)
	last := steps[len(steps)-1].(map[string]any)
	if last["name"] != "Invoke dbt with `dbt test`" || num(last["status"]) != StatusError {
		t.Fatalf("last step = %v (%v)", last["name"], last["status"])
	}
	if !strings.Contains(last["logs"].(string), "Got 3 results, configured to fail if != 0") {
		t.Errorf("failing step logs do not name the failure:\n%s", last["logs"])
	}
	if run["can_retry"] != true || run["retry_not_supported_reason"] != nil {
		t.Errorf("can_retry = %v, reason = %v", run["can_retry"], run["retry_not_supported_reason"])
	}

	// The failing step's run_results (the default: last step) has a failed test; the earlier step's is all green.
	failed := 0
	for _, res := range runResults(t, b, id, "") {
		if res.Status == "fail" {
			failed++
			if res.Message == nil || res.Failures == nil || *res.Failures != 3 {
				t.Errorf("failed test %s lacks message/failures", res.UniqueID)
			}
		}
		if !strings.HasPrefix(res.UniqueID, "test.") {
			t.Errorf("dbt test step ran %s", res.UniqueID)
		}
	}
	if failed != 1 {
		t.Errorf("%d failed tests, want 1", failed)
	}
	for _, res := range runResults(t, b, id, "?step=4") { // step 4 is `dbt run`
		if res.Status != "success" || !strings.HasPrefix(res.UniqueID, "model.") {
			t.Errorf("dbt run step: %s is %s", res.UniqueID, res.Status)
		}
	}

	details := b.call(t, "GET", acctPath("runs/%d/retry/", id), nil)
	wantCode(t, details, http.StatusOK)
	if details.data()["failed_step"] != "Invoke dbt with `dbt test`" {
		t.Errorf("failure details = %v", details.data())
	}

	// Rerunning the job retries from the failure: one `dbt retry` step that re-runs only the failed test.
	rerun := b.call(t, "POST", acctPath("jobs/%d/rerun/", DemoFailingJobID), nil)
	wantCode(t, rerun, http.StatusOK)
	retryID := int64(num(rerun.data()["id"]))
	if num(rerun.data()["retrying_run_id"]) != float64(id) {
		t.Errorf("retrying_run_id = %v, want %d", rerun.data()["retrying_run_id"], id)
	}
	b.srv.Advance(10 * time.Minute)
	retry := b.getRun(t, retryID, "run_steps")
	if status(retry) != StatusSuccess {
		t.Fatalf("retry run status %v", retry["status"])
	}
	rs := retry["run_steps"].([]any)
	if n := rs[len(rs)-1].(map[string]any)["name"]; n != "Invoke dbt with `dbt retry`" {
		t.Errorf("retry's last step = %v", n)
	}
	got := runResults(t, b, retryID, "")
	if len(got) != 1 || got[0].Status != "pass" {
		t.Errorf("retry run_results = %+v, want the one failed test passing", got)
	}
	// The original is no longer the job's latest run.
	if r := b.getRun(t, id, ""); r["retry_not_supported_reason"] != "RETRY_NOT_LATEST_RUN" {
		t.Errorf("old run's retry reason = %v", r["retry_not_supported_reason"])
	}
	retryOld := b.call(t, "POST", acctPath("runs/%d/retry/", id), nil)
	wantCode(t, retryOld, http.StatusBadRequest)
}

func TestFailedModelSkipsDownstream(t *testing.T) {
	b := setup(t)
	id := b.trigger(t, DemoFailingJobID, map[string]any{"cause": "x", "steps_override": []string{"dbt build"}})
	b.srv.Advance(10 * time.Minute)
	counts := map[string]int{}
	for _, res := range runResults(t, b, id, "") {
		counts[res.Status]++
		if res.UniqueID == "model.jaffle_shop.orders" && res.Status != "error" {
			t.Errorf("orders is %s, want error", res.Status)
		}
		if res.UniqueID == "model.jaffle_shop.customers" && res.Status != "skipped" {
			t.Errorf("customers (downstream of orders) is %s, want skipped", res.Status)
		}
	}
	if counts["error"] != 1 || counts["skipped"] == 0 || counts["success"] == 0 {
		t.Errorf("status counts = %v", counts)
	}
}

func TestCancel(t *testing.T) {
	tests := []struct {
		name       string
		advance    time.Duration
		wantSteps  int
		wantStart  bool
		wantStatus int
	}{
		{"while queued", 0, 0, false, StatusCancelled},
		{"while running", 20 * time.Second, 4, true, StatusCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := setup(t)
			id := b.trigger(t, DemoDailyJobID, nil)
			b.srv.Advance(tt.advance)
			r := b.call(t, "POST", acctPath("runs/%d/cancel/", id), nil)
			wantCode(t, r, http.StatusOK)
			d := r.data()
			if status(d) != tt.wantStatus || d["status_message"] != "Cancelled by user." || d["is_cancelled"] != true {
				t.Fatalf("cancel answered status %v message %v", d["status"], d["status_message"])
			}
			if (d["started_at"] != nil) != tt.wantStart {
				t.Errorf("started_at = %v", d["started_at"])
			}
			b.srv.Advance(time.Hour)
			run := b.getRun(t, id, "run_steps")
			if status(run) != StatusCancelled || len(run["run_steps"].([]any)) != tt.wantSteps {
				t.Errorf("later: status %v, %d steps", run["status"], len(run["run_steps"].([]any)))
			}
		})
	}
}

func TestTimeoutCancelsRun(t *testing.T) {
	b := setup(t)
	id := b.trigger(t, DemoSlowJobID, nil) // 20 minute build, 900 s timeout
	b.srv.Advance(7*time.Second + 899*time.Second)
	if s := status(b.getRun(t, id, "")); s != StatusRunning {
		t.Fatalf("status %d just before the timeout", s)
	}
	b.srv.Advance(time.Second)
	run := b.getRun(t, id, "")
	msg, _ := run["status_message"].(string)
	if status(run) != StatusCancelled || !strings.Contains(msg, "timed out") {
		t.Fatalf("status %v message %q", run["status"], msg)
	}
	if run["run_duration"] != "00:15:00" {
		t.Errorf("run_duration = %v", run["run_duration"])
	}

	// timeout_seconds_override shortens it further.
	id2 := b.trigger(t, DemoSlowJobID, map[string]any{"cause": "x", "timeout_seconds_override": 60})
	b.srv.Advance(7*time.Second + 60*time.Second)
	if s := status(b.getRun(t, id2, "")); s != StatusCancelled {
		t.Errorf("override: status %d", s)
	}
}

func TestRunsOfOneJobQueueBehindEachOther(t *testing.T) {
	b := setup(t)
	first := b.trigger(t, DemoDailyJobID, nil)
	second := b.trigger(t, DemoDailyJobID, nil)
	run := b.getRun(t, second, "")
	if bb := run["blocked_by"].([]any); len(bb) != 1 || int64(num(bb[0])) != first {
		t.Fatalf("blocked_by = %v, want [%d]", run["blocked_by"], first)
	}
	b.srv.Advance(72 * time.Second)
	if s := status(b.getRun(t, second, "")); s != StatusQueued {
		t.Fatalf("second run is %d while the first still runs", s)
	}
	b.srv.Advance(time.Second) // first finishes at +73 s
	r1, r2 := b.getRun(t, first, ""), b.getRun(t, second, "")
	if status(r1) != StatusSuccess || status(r2) != StatusStarting {
		t.Fatalf("first %v, second %v", r1["status"], r2["status"])
	}
	if r2["dequeued_at"] != r1["finished_at"] {
		t.Errorf("second dequeued at %v, first finished at %v", r2["dequeued_at"], r1["finished_at"])
	}
	if len(r2["blocked_by"].([]any)) != 0 {
		t.Errorf("blocked_by = %v after dequeue", r2["blocked_by"])
	}
}

func TestRunSlotsCapConcurrency(t *testing.T) {
	b := setup(t) // the demo account has 2 run slots
	a := b.trigger(t, DemoSlowJobID, nil)
	c := b.trigger(t, DemoDocsJobID, nil)
	d := b.trigger(t, DemoDailyJobID, nil)
	b.srv.Advance(30 * time.Second)
	got := []int{status(b.getRun(t, a, "")), status(b.getRun(t, c, "")), status(b.getRun(t, d, ""))}
	if !slices.Equal(got, []int{StatusRunning, StatusRunning, StatusQueued}) {
		t.Fatalf("statuses = %v, want two running and one queued", got)
	}
	b.srv.Advance(30 * time.Minute)
	for _, id := range []int64{a, c, d} {
		if s := status(b.getRun(t, id, "")); s < StatusSuccess {
			t.Errorf("run %d still %d", id, s)
		}
	}
}

func TestStateIsAFunctionOfTheClock(t *testing.T) {
	// One emulator polled every second and one looked at only at the end agree on every timestamp.
	answers := make([]string, 2)
	for i, pollEvery := range []time.Duration{time.Second, 0} {
		b := setup(t)
		b.trigger(t, DemoDailyJobID, nil)
		b.trigger(t, DemoDailyJobID, nil)
		b.trigger(t, DemoFailingJobID, nil)
		if pollEvery > 0 {
			for range 300 {
				b.srv.Advance(pollEvery)
				b.call(t, "GET", acctPath("runs/"), nil)
			}
		} else {
			b.srv.Advance(300 * time.Second)
		}
		r := b.call(t, "GET", acctPath("runs/?include_related=run_steps"), nil)
		answers[i] = strings.ReplaceAll(string(r.raw), b.srv.URL, "HOST")
	}
	if answers[0] != answers[1] {
		a, c := answers[0], answers[1]
		i := 0
		for i < len(a) && i < len(c) && a[i] == c[i] {
			i++
		}
		t.Errorf("polling changed the outcome at byte %d:\npolled: %.300s\nonce:   %.300s", i, a[max(0, i-200):], c[max(0, i-200):])
	}
}
