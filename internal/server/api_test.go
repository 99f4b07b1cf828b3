package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/internal/connection"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/tracker"
)

func TestHealth(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := b.do(t, "GET", "/healthz", "", "")
	wantStatus(t, w, 200)
	if got := strings.TrimSpace(w.Body.String()); got != `{"status":"ok"}` {
		t.Errorf("healthz = %s", got)
	}
}

func TestReadyz(t *testing.T) {
	t.Parallel()
	b := setup(t)
	wantStatus(t, b.do(t, "GET", "/readyz", "", ""), 200)

	b.be.ready = errors.New("store: ping postgres://dbtlink:hunter2@db:5432/dbtlink: connection refused")
	w := b.do(t, "GET", "/readyz", "", "")
	wantStatus(t, w, 503)
	got := decode[map[string]string](t, w)
	if got["status"] != "unavailable" || !strings.Contains(got["reason"], "connection refused") {
		t.Errorf("readyz = %v, want unavailable with the reason", got)
	}
	if strings.Contains(w.Body.String(), "hunter2") {
		t.Errorf("readyz shows a password: %s", w.Body)
	}
}

func TestConnections(t *testing.T) {
	t.Parallel()
	b := setup(t)
	created := b.do(t, "POST", "/api/v1/connections", "admin",
		`{"name":"prod","host":"ab123.us1.dbt.com","account_id":7,"token":"`+connToken+`","default":true}`)
	wantStatus(t, created, 201)
	if got := b.be.created[0]; got.Token != connToken || got.AccountID != 7 || !got.Default {
		t.Errorf("backend got %v", got)
	}

	list := b.do(t, "GET", "/api/v1/connections", "read", "")
	wantStatus(t, list, 200)
	got := decode[map[string][]map[string]any](t, list)
	want := map[string][]map[string]any{"connections": {{
		"name": "prod", "host": "https://ab123.us1.dbt.com", "account_id": float64(7), "default": true,
		"created_at": "2026-03-04T05:06:07Z", "updated_at": "2026-03-04T05:06:07Z",
	}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}
	for _, w := range []string{created.Body.String(), list.Body.String()} {
		if strings.Contains(strings.ToLower(w), "token") || strings.Contains(w, "sealed") {
			t.Errorf("a connection answer mentions its token: %s", w)
		}
	}

	tests := []struct {
		name   string
		body   string
		err    error
		status int
		code   string
		words  []string
	}{
		{name: "duplicate", body: `{"name":"prod","host":"h","account_id":1,"token":"t"}`, status: 409, code: codeConflict, words: []string{"already exists"}},
		{name: "invalid", body: `{"name":"b@d","host":"h","account_id":1,"token":"t"}`,
			err: &tracker.InputError{Msg: `connection name "b@d" may use only letters, digits, '-' and '_'`}, status: 400, code: codeBadRequest, words: []string{"only letters"}},
		{name: "unknown field", body: `{"name":"x","host":"h","account_id":1,"api_token":"t"}`, status: 400, code: codeBadRequest, words: []string{`"api_token"`, "openapi.json"}},
		{name: "wrong type", body: `{"name":"x","host":"h","account_id":"seven","token":"t"}`, status: 400, code: codeBadRequest, words: []string{`"account_id"`, "integer", "string"}},
		{name: "not JSON", body: `{"name":`, status: 400, code: codeBadRequest, words: []string{"middle"}},
		{name: "syntax error", body: `{"name" "x"}`, status: 400, code: codeBadRequest, words: []string{"byte 9"}},
		{name: "empty", body: ``, status: 400, code: codeBadRequest, words: []string{"empty"}},
		{name: "array", body: `[1]`, status: 400, code: codeBadRequest, words: []string{"JSON object", "array"}},
		{name: "two objects", body: `{"name":"y"} {}`, status: 400, code: codeBadRequest, words: []string{"nothing after"}},
		{name: "too large", body: `{"name":"` + strings.Repeat("x", DefaultMaxBodyBytes) + `"}`, status: 413, code: codeTooLarge, words: []string{"1048576"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b.be.errs["CreateConnection"] = tt.err
			wantError(t, b.do(t, "POST", "/api/v1/connections", "admin", tt.body), tt.status, tt.code, tt.words...)
		})
	}
	b.be.errs["CreateConnection"] = nil

	wantStatus(t, b.do(t, "DELETE", "/api/v1/connections/prod", "admin", ""), 204)
	if !cmp.Equal(b.be.deleted, []string{"prod"}) {
		t.Errorf("deleted %v", b.be.deleted)
	}
	b.be.errs["DeleteConnection"] = fmt.Errorf("store: connection %q: %w", "nope", store.ErrNotFound)
	wantError(t, b.do(t, "DELETE", "/api/v1/connections/nope", "admin", ""), 404, codeNotFound, "nope")
}

func TestTestConnection(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.be.report = connection.Report{
		Host: "https://ab123.us1.dbt.com", AccountID: 7,
		Checks: []connection.Check{
			{Name: connection.CheckHost, Status: connection.CheckPass, Message: "reachable."},
			{Name: connection.CheckToken, Status: connection.CheckPass, Message: "accepted."},
			{Name: connection.CheckAccount, Status: connection.CheckFail, Message: "Account 7 is not visible.", Err: errors.New("GET https://x/api: 404")},
		},
		Accounts: []connection.AccountInfo{{ID: 8, Name: "Other"}},
	}
	w := b.do(t, "POST", "/api/v1/connections/prod/test", "write", "")
	wantStatus(t, w, 200)
	got := decode[reportJSON](t, w)
	want := reportJSON{OK: false, Host: "https://ab123.us1.dbt.com", AccountID: 7,
		Checks: []checkJSON{
			{Name: "host", Status: "pass", Detail: "reachable."},
			{Name: "token", Status: "pass", Detail: "accepted."},
			{Name: "account", Status: "fail", Detail: "Account 7 is not visible."},
		},
		Accounts: []accountJSON{{ID: 8, Name: "Other"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
	wantError(t, b.do(t, "POST", "/api/v1/connections/prod/test", "read", ""), 403, codeForbidden, "write")
}

func TestJobs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.be.jobs = []dbtcloud.Job{{ID: 301, AccountID: 1, ProjectID: 7, EnvironmentID: 5, Name: "Daily"}}
	w := b.do(t, "GET", "/api/v1/connections/prod/jobs?project_id=7&environment_id=5&name=dai", "read", "")
	wantStatus(t, w, 200)
	if got := decode[map[string][]dbtcloud.Job](t, w)["jobs"]; len(got) != 1 || got[0].Name != "Daily" {
		t.Errorf("jobs = %+v", got)
	}
	if o := b.be.jobOpts; o.ProjectID != 7 || o.EnvironmentID != 5 || o.NameIContains != "dai" {
		t.Errorf("options = %+v", o)
	}
	b.be.jobs = nil
	if got := b.do(t, "GET", "/api/v1/connections/prod/jobs", "read", "").Body.String(); strings.TrimSpace(got) != `{"jobs":[]}` {
		t.Errorf("no jobs = %s, want an empty list", got)
	}
	wantError(t, b.do(t, "GET", "/api/v1/connections/prod/jobs?project_id=x", "read", ""), 400, codeBadRequest, "project_id")
	wantError(t, b.do(t, "GET", "/api/v1/connections/prod/jobs?environment_id=-2", "read", ""), 400, codeBadRequest, "environment_id")

	b.be.jobs = []dbtcloud.Job{{ID: 301, Name: "Daily"}}
	w = b.do(t, "GET", "/api/v1/connections/prod/jobs/301", "read", "")
	wantStatus(t, w, 200)
	if got := decode[dbtcloud.Job](t, w); got.ID != 301 {
		t.Errorf("job = %+v", got)
	}
	wantError(t, b.do(t, "GET", "/api/v1/connections/prod/jobs/999", "read", ""), 404, codeNotFound, "dbt Cloud answered 404", "Not found.")
	wantError(t, b.do(t, "GET", "/api/v1/connections/prod/jobs/abc", "read", ""), 400, codeBadRequest, `job id "abc"`)
}

// Job answers carry the names of the job's project and environment, read
// through the backend for the ids the answer shows; a name not known, or
// names that could not be read, are null, and the jobs are still answered.
func TestJobsCarryNames(t *testing.T) {
	t.Parallel()
	type named struct {
		ID              int64   `json:"id"`
		ProjectName     *string `json:"project_name"`
		EnvironmentName *string `json:"environment_name"`
	}
	str := func(p *string) string {
		if p == nil {
			return "<null>"
		}
		return *p
	}
	b := setup(t)
	b.be.jobs = []dbtcloud.Job{
		{ID: 301, ProjectID: 7, EnvironmentID: 5, Name: "Daily"},
		{ID: 302, ProjectID: 8, EnvironmentID: 6, Name: "Orphan"},
	}
	b.be.names = tracker.Names{Projects: map[int64]string{7: "Analytics"}, Environments: map[int64]string{5: "Production"}}
	w := b.do(t, "GET", "/api/v1/connections/prod/jobs", "read", "")
	wantStatus(t, w, 200)
	got := decode[map[string][]named](t, w)["jobs"]
	if len(got) != 2 || str(got[0].ProjectName) != "Analytics" || str(got[0].EnvironmentName) != "Production" ||
		got[1].ProjectName != nil || got[1].EnvironmentName != nil {
		t.Errorf("jobs = %s", w.Body.String())
	}
	if want := [][]int64{{7, 8}, {5, 6}}; !reflect.DeepEqual(b.be.namesAsk, want) {
		t.Errorf("names asked for %v, want %v", b.be.namesAsk, want)
	}
	if o := b.be.jobOpts; o.OrderBy != "id" || !slices.Equal(o.IncludeRelated, []string{"environment", "most_recent_run"}) {
		t.Errorf("list options = %+v, want those of the local job list", o)
	}

	w = b.do(t, "GET", "/api/v1/connections/prod/jobs/301", "read", "")
	wantStatus(t, w, 200)
	if j := decode[named](t, w); j.ID != 301 || str(j.ProjectName) != "Analytics" || str(j.EnvironmentName) != "Production" {
		t.Errorf("job = %s", w.Body.String())
	}

	b.be.errs["Names"] = errors.New("tracker: list the projects of prod: 403")
	w = b.do(t, "GET", "/api/v1/connections/prod/jobs/301", "read", "")
	wantStatus(t, w, 200)
	if j := decode[named](t, w); j.ID != 301 || j.ProjectName != nil || j.EnvironmentName != nil {
		t.Errorf("job without names = %s", w.Body.String())
	}
}

// TestErrorMapping runs every kind of backend error through one route.
func TestErrorMapping(t *testing.T) {
	t.Parallel()
	apiErr := func(code int, msg string) error {
		return fmt.Errorf("tracker: list jobs: %w", &dbtcloud.APIError{StatusCode: code, Method: "GET",
			URL: "https://cloud.example/api/v2/accounts/1/jobs/", UserMessage: msg, RequestID: "req-9"})
	}
	tests := []struct {
		name   string
		err    error
		status int
		code   string
		words  []string
		hidden []string // must not be in the answer
	}{
		{"store not found", fmt.Errorf("connection %q: %w", "nope", store.ErrNotFound), 404, codeNotFound, []string{"nope"}, nil},
		{"store exists", fmt.Errorf("x: %w", store.ErrExists), 409, codeConflict, nil, nil},
		{"conflict", fmt.Errorf("run 5 has ended: %w", tracker.ErrConflict), 409, codeConflict, []string{"ended"}, nil},
		{"input", fmt.Errorf("wrapped: %w", &tracker.InputError{Msg: "give job_id or project+environment+job"}), 400, codeBadRequest, []string{"job_id"}, nil},
		{"dbt Cloud 404", apiErr(404, "The job was not found."), 404, codeNotFound, []string{"dbt Cloud answered 404", "The job was not found."}, nil},
		{"dbt Cloud 500", apiErr(500, "Oops."), 502, codeUpstream, []string{"dbt Cloud answered 500 Internal Server Error: Oops.", "req-9"}, []string{"cloud.example"}},
		{"dbt Cloud 401", apiErr(401, "Invalid token."), 502, codeUpstream, []string{"401", "connections/{name}/test"}, nil},
		{"dbt Cloud 429", fmt.Errorf("x: %w", &dbtcloud.APIError{StatusCode: 429, RetryAfter: 30 * time.Second}), 502, codeUpstream, []string{"429", "retry after 30s"}, nil},
		{"deadline", fmt.Errorf("poll: %w", context.DeadlineExceeded), 504, codeTimeout, nil, nil},
		{"anything else", errors.New("pq: password authentication failed for user dbtlink at postgres://dbtlink:hunter2@db"), 500, codeInternal,
			[]string{"request id"}, []string{"pq:", "hunter2", "password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.be.errs["ListJobs"] = tt.err
			w := b.do(t, "GET", "/api/v1/connections/prod/jobs", "read", "")
			wantError(t, w, tt.status, tt.code, tt.words...)
			for _, h := range tt.hidden {
				if strings.Contains(w.Body.String(), h) {
					t.Errorf("the answer shows %q: %s", h, w.Body)
				}
			}
			if tt.status == 500 {
				id := w.Header().Get("X-Request-Id")
				if id == "" || !strings.Contains(w.Body.String(), id) {
					t.Errorf("the 500 does not name its request id %q: %s", id, w.Body)
				}
				if !strings.Contains(b.logs.String(), "password authentication failed") {
					t.Errorf("the 500's cause is not logged:\n%s", b.logs)
				}
			}
		})
	}
}

func TestCreateRun(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := b.do(t, "POST", "/api/v1/runs", "write", `{
		"connection": "prod", "job_id": 301,
		"trigger": {"cause": "PR #12", "git_branch": "feature", "threads_override": 8, "timeout_seconds_override": 0, "steps_override": ["dbt build -s +orders"]},
		"deadline": "45m", "cancel_at_deadline": true, "max_retries": 2, "artifacts": ["manifest.json"]
	}`)
	wantStatus(t, w, 201)
	if loc := w.Header().Get("Location"); loc != "/api/v1/runs/42" {
		t.Errorf("Location = %q", loc)
	}
	zero := 0
	want := tracker.RunRequest{Connection: "prod", JobID: 301,
		Trigger: dbtcloud.TriggerRunRequest{Cause: "PR #12", GitBranch: "feature", ThreadsOverride: 8,
			TimeoutSecondsOverride: &zero, StepsOverride: []string{"dbt build -s +orders"}},
		Deadline: 45 * time.Minute, CancelAtDeadline: true, MaxRetries: 2, Artifacts: []string{"manifest.json"}}
	if diff := cmp.Diff(want, *b.be.runReq); diff != "" {
		t.Errorf("run request (-want +got):\n%s", diff)
	}
	run := decode[map[string]any](t, w)
	if run["id"] != float64(42) || run["state"] != "pending" || run["deadline_at"] != "2026-03-04T05:51:07Z" {
		t.Errorf("run = %v", run)
	}

	tests := []struct {
		name  string
		body  string
		err   error
		words []string
	}{
		{name: "garbage deadline", body: `{"job_id":1,"deadline":"soon"}`, words: []string{`"soon"`, `"45m"`}},
		{name: "negative deadline", body: `{"job_id":1,"deadline":"-5m"}`, words: []string{`"-5m"`, "positive"}},
		{name: "deadline as a number", body: `{"job_id":1,"deadline":2700}`, words: []string{`"deadline"`, "string"}},
		{name: "misspelt override", body: `{"job_id":1,"trigger":{"thread_override":4}}`, words: []string{`"thread_override"`}},
		{name: "misspelt top-level field", body: `{"jobid":1}`, words: []string{`"jobid"`}},
		{name: "wrong type in trigger", body: `{"job_id":1,"trigger":{"threads_override":"many"}}`, words: []string{"threads_override", "integer"}},
		{name: "tracker refuses", body: `{}`, err: &tracker.InputError{Msg: "name the job: job_id, or project, environment and job"}, words: []string{"name the job"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := setup(t)
			b.be.errs["CreateRun"] = tt.err
			wantError(t, b.do(t, "POST", "/api/v1/runs", "write", tt.body), 400, codeBadRequest, tt.words...)
		})
	}
}

func TestRunJSON(t *testing.T) {
	t.Parallel()
	b := setup(t)
	local := time.FixedZone("CET", 3600)
	b.be.runs[1] = store.Run{ID: 1, Connection: "prod", AccountID: 1, JobID: 301, State: store.RunPending,
		CreatedAt: testNow.In(local), UpdatedAt: testNow}
	b.be.runs[2] = store.Run{ID: 2, Connection: "prod", AccountID: 1, JobID: 301, State: store.RunError,
		DbtRunID: 9001, DbtStatus: 20, StatusMessage: "Failed.", Href: "https://cloud/run/9001", Cause: "nightly",
		TriggerAttemptedAt: testNow, DbtCreatedAt: testNow, StartedAt: testNow.Add(time.Minute).In(local),
		FinishedAt: testNow.Add(2 * time.Minute), SettledAt: testNow.Add(3 * time.Minute),
		Steps: []byte(`[{"name":"dbt build","status":20}]`), FailingNodes: []byte(`  [{"unique_id":"model.x"}] `),
		Attempts: []byte(`{"not":"a list"}`), ArtifactsState: "stored", Error: "1 model failed",
		CreatedAt: testNow, UpdatedAt: testNow}
	b.be.runs[3] = store.Run{ID: 3, Connection: "prod", AccountID: 1, JobID: 301, State: store.RunFailed,
		Error: "dbt Cloud refused to trigger job 301: 404 Not found", ErrorCode: store.RunErrTriggerNotFound,
		TriggerAttemptedAt: testNow, SettledAt: testNow, CreatedAt: testNow, UpdatedAt: testNow}

	got := decode[map[string]any](t, b.do(t, "GET", "/api/v1/runs/1", "read", ""))
	want := map[string]any{
		"id": float64(1), "connection": "prod", "account_id": float64(1), "job_id": float64(301), "state": "pending",
		"dbt_run_id": nil, "dbt_status": float64(0), "status_message": "", "href": "", "cause": "", "triggered": false,
		"created_at": "2026-03-04T05:06:07Z", "updated_at": "2026-03-04T05:06:07Z",
		"dbt_created_at": nil, "started_at": nil, "finished_at": nil, "settled_at": nil, "deadline_at": nil,
		"cancel_at_deadline": false, "max_retries": float64(0), "retries": float64(0),
		"steps": []any{}, "failing_nodes": []any{}, "attempts": []any{}, "artifacts_state": "", "error": "",
		"error_code": "", "done": false,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pending run (-want +got):\n%s", diff)
	}

	got = decode[map[string]any](t, b.do(t, "GET", "/api/v1/runs/2", "read", ""))
	for k, v := range map[string]any{
		"dbt_run_id": float64(9001), "triggered": true, "started_at": "2026-03-04T05:07:07Z",
		"settled_at": "2026-03-04T05:09:07Z", "steps": []any{map[string]any{"name": "dbt build", "status": float64(20)}},
		"failing_nodes": []any{map[string]any{"unique_id": "model.x"}}, "attempts": []any{}, "done": true,
	} {
		if !cmp.Equal(got[k], v) {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	got = decode[map[string]any](t, b.do(t, "GET", "/api/v1/runs/3", "read", ""))
	if got["state"] != "failed" || got["error_code"] != "trigger_not_found" {
		t.Errorf("failed run: state %v error_code %v, want failed and trigger_not_found", got["state"], got["error_code"])
	}
	if !strings.Contains(b.logs.String(), "not a JSON array") {
		t.Errorf("a stored non-array was not logged")
	}
}

func TestGetRunWait(t *testing.T) {
	t.Parallel()
	tests := []struct {
		query    string
		status   int
		wantWait time.Duration // 0: GetRun, not WaitRun
		words    []string
	}{
		{query: "", status: 200},
		{query: "?wait=0s", status: 200},
		{query: "?wait=30s", status: 200, wantWait: 30 * time.Second},
		{query: "?wait=1500ms", status: 200, wantWait: 1500 * time.Millisecond},
		{query: "?wait=10m", status: 200, wantWait: DefaultMaxWait},
		{query: "?wait=-1s", status: 400, words: []string{`"-1s"`, "1m0s"}},
		{query: "?wait=30", status: 400, words: []string{`"30"`, `"30s"`}},
		{query: "?wait=forever", status: 400, words: []string{"wait"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.be.runs[5] = store.Run{ID: 5, State: store.RunRunning, CreatedAt: testNow, UpdatedAt: testNow}
			w := b.do(t, "GET", "/api/v1/runs/5"+tt.query, "read", "")
			if tt.status != 200 {
				wantError(t, w, tt.status, codeBadRequest, tt.words...)
				return
			}
			wantStatus(t, w, 200)
			if b.be.waited != tt.wantWait || b.be.gotRun != (tt.wantWait == 0) {
				t.Errorf("waited %s (GetRun called: %t), want %s", b.be.waited, b.be.gotRun, tt.wantWait)
			}
		})
	}
}

func TestGetRunErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	wantError(t, b.do(t, "GET", "/api/v1/runs/77", "read", ""), 404, codeNotFound, "run 77")
	wantError(t, b.do(t, "GET", "/api/v1/runs/abc", "read", ""), 400, codeBadRequest, `run id "abc"`)
	wantError(t, b.do(t, "GET", "/api/v1/runs/0", "read", ""), 400, codeBadRequest, "positive")
}

func TestMaxWaitIsConfigurable(t *testing.T) {
	t.Parallel()
	be := newFakeBackend()
	be.runs[5] = store.Run{ID: 5}
	srv, err := New(Config{Backend: be, MaxWait: 5 * time.Second, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	plain, _, hash, _ := GenerateToken()
	be.tokens[string(hash)] = store.APIToken{ID: 1, Scope: store.ScopeRead}
	b := &testBundle{srv: srv, be: be, tokens: map[string]string{"read": plain}}
	wantStatus(t, b.do(t, "GET", "/api/v1/runs/5?wait=30s", "read", ""), 200)
	if be.waited != 5*time.Second {
		t.Errorf("waited %s, want the 5s cap", be.waited)
	}
}

func TestListRuns(t *testing.T) {
	t.Parallel()
	runs := func(ids ...int64) []store.Run {
		var out []store.Run
		for _, id := range ids {
			out = append(out, store.Run{ID: id, State: store.RunSuccess, CreatedAt: testNow, UpdatedAt: testNow})
		}
		return out
	}
	tests := []struct {
		name       string
		query      string
		stored     []store.Run
		wantFilter store.RunFilter
		wantIDs    []int64
		wantNext   *int64
	}{
		{name: "defaults", stored: runs(9, 8, 7), wantFilter: store.RunFilter{Limit: 101}, wantIDs: []int64{9, 8, 7}},
		{name: "filters", query: "?connection=prod&job_id=301&dbt_run_id=9001&state=success,error&before=50&limit=2", stored: runs(49, 48, 47),
			wantFilter: store.RunFilter{Connection: "prod", JobID: 301, DbtRunID: 9001, States: []store.RunState{store.RunSuccess, store.RunError}, BeforeID: 50, Limit: 3},
			wantIDs:    []int64{49, 48}, wantNext: ptr(int64(48))},
		{name: "exactly a page", query: "?limit=3", stored: runs(3, 2, 1), wantFilter: store.RunFilter{Limit: 4}, wantIDs: []int64{3, 2, 1}},
		{name: "none", stored: nil, wantFilter: store.RunFilter{Limit: 101}, wantIDs: []int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.be.listed = tt.stored
			w := b.do(t, "GET", "/api/v1/runs"+tt.query, "read", "")
			wantStatus(t, w, 200)
			if diff := cmp.Diff(tt.wantFilter, *b.be.filter); diff != "" {
				t.Errorf("filter (-want +got):\n%s", diff)
			}
			got := decode[struct {
				Runs       []struct{ ID int64 }
				NextBefore *int64 `json:"next_before"`
			}](t, w)
			ids := []int64{}
			for _, r := range got.Runs {
				ids = append(ids, r.ID)
			}
			if !cmp.Equal(ids, tt.wantIDs) || !cmp.Equal(got.NextBefore, tt.wantNext) {
				t.Errorf("ids %v next %v, want %v next %v", ids, got.NextBefore, tt.wantIDs, tt.wantNext)
			}
		})
	}
	b := setup(t)
	for q, words := range map[string][]string{
		"?state=done":           {`"done"`, "pending, queued"},
		"?state=success,":       {`""`},
		"?limit=0":              {"1 to 100"},
		"?limit=101":            {"1 to 100"},
		"?limit=ten":            {`"ten"`},
		"?job_id=x":             {"job_id"},
		"?dbt_run_id=0":         {"dbt_run_id"},
		"?before=-1":            {"before"},
		"?connection=a&job_id=": nil, // empty is no filter: 200
	} {
		w := b.do(t, "GET", "/api/v1/runs"+q, "read", "")
		if words == nil {
			wantStatus(t, w, 200)
			continue
		}
		wantError(t, w, 400, codeBadRequest, words...)
	}
}

func ptr[T any](v T) *T { return &v }

func TestCancelRun(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.be.runs[5] = store.Run{ID: 5, State: store.RunRunning, CreatedAt: testNow, UpdatedAt: testNow}
	b.be.runs[6] = store.Run{ID: 6, State: store.RunSuccess, CreatedAt: testNow, UpdatedAt: testNow}
	w := b.do(t, "POST", "/api/v1/runs/5/cancel", "write", "")
	wantStatus(t, w, 202)
	if got := decode[map[string]any](t, w); got["id"] != float64(5) {
		t.Errorf("run = %v", got)
	}
	wantError(t, b.do(t, "POST", "/api/v1/runs/6/cancel", "write", ""), 409, codeConflict, "ended")
	wantError(t, b.do(t, "POST", "/api/v1/runs/7/cancel", "write", ""), 404, codeNotFound)
	wantError(t, b.do(t, "POST", "/api/v1/runs/5/cancel", "read", ""), 403, codeForbidden, "write")
}

func TestArtifacts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.be.runs[5] = store.Run{ID: 5}
	manifest := `{"nodes":{}}`
	b.be.artifacts[5] = []store.Artifact{
		{RunID: 5, Path: "manifest.json", Size: int64(len(manifest)), SHA256: "ab12", StoredAt: testNow},
		{RunID: 5, Path: "logs/dbt.log.gz", Size: 3, SHA256: "cd34", StoredAt: testNow},
	}
	b.be.contents["5/manifest.json"] = manifest
	b.be.contents["5/logs/dbt.log.gz"] = "\x1f\x8b\x08"

	w := b.do(t, "GET", "/api/v1/runs/5/artifacts", "read", "")
	wantStatus(t, w, 200)
	want := `{"artifacts":[{"path":"manifest.json","size":12,"sha256":"ab12","stored_at":"2026-03-04T05:06:07Z"},` +
		`{"path":"logs/dbt.log.gz","size":3,"sha256":"cd34","stored_at":"2026-03-04T05:06:07Z"}]}`
	if got := strings.TrimSpace(w.Body.String()); got != want {
		t.Errorf("list = %s\nwant   %s", got, want)
	}
	wantError(t, b.do(t, "GET", "/api/v1/runs/6/artifacts", "read", ""), 404, codeNotFound)

	for _, c := range []struct{ path, ctype, body string }{
		{"manifest.json", "application/json", manifest},
		{"logs/dbt.log.gz", "application/octet-stream", "\x1f\x8b\x08"},
	} {
		w := b.do(t, "GET", "/api/v1/runs/5/artifacts/"+c.path, "read", "")
		wantStatus(t, w, 200)
		if got := w.Header().Get("Content-Type"); got != c.ctype {
			t.Errorf("%s: Content-Type %q, want %q", c.path, got, c.ctype)
		}
		if got := w.Header().Get("Content-Length"); got != fmt.Sprint(len(c.body)) {
			t.Errorf("%s: Content-Length %q", c.path, got)
		}
		if w.Body.String() != c.body {
			t.Errorf("%s: body %q", c.path, w.Body)
		}
	}
	wantError(t, b.do(t, "GET", "/api/v1/runs/5/artifacts/catalog.json", "read", ""), 404, codeNotFound, "catalog.json")
}

func TestArtifactPathTraversal(t *testing.T) {
	t.Parallel()
	for _, target := range []string{
		"/api/v1/runs/5/artifacts/..%2F..%2Fetc%2Fpasswd",
		"/api/v1/runs/5/artifacts/logs%2F..%2F..%2Fsecret.key",
		"/api/v1/runs/5/artifacts/%2Fetc%2Fpasswd",
		"/api/v1/runs/5/artifacts/..",
		"/api/v1/runs/5/artifacts/a%5C..%5Cb.json",
		"/api/v1/runs/5/artifacts/logs%5Cdbt.log",
		"/api/v1/runs/5/artifacts/.%2Fmanifest.json",
		"/api/v1/runs/5/artifacts/manifest.json%00.txt",
		"/api/v1/runs/5/artifacts/../../secret.key",
	} {
		t.Run(target, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			w := b.do(t, "GET", target, "read", "")
			wantError(t, w, 400, codeBadRequest, `".."`)
			if len(b.be.opened) != 0 {
				t.Errorf("the backend was asked for %q", b.be.opened)
			}
		})
	}
}

func TestCheckArtifactPath(t *testing.T) {
	t.Parallel()
	for p, ok := range map[string]bool{
		"manifest.json": true, "compiled/models/x.sql": true, "a..b.json": true,
		"": false, "/x": false, "../x": false, "a/../b": false, "a/..": false, "./a": false, "a//b": false,
		"a/": false, `a\b`: false, "a\x00b": false, "a\nb": false,
	} {
		if err := checkArtifactPath(p); (err == nil) != ok {
			t.Errorf("checkArtifactPath(%q) = %v, want ok=%t", p, err, ok)
		}
	}
}

func TestUnmatched(t *testing.T) {
	t.Parallel()
	b := setup(t)
	wantError(t, b.do(t, "GET", "/api/v2/runs", "read", ""), 404, codeNotFound, "openapi.json")
	w := b.do(t, "PUT", "/api/v1/runs/5", "write", "")
	wantError(t, w, 405, codeMethodNotAllowed, "GET")
	if got := w.Header().Get("Allow"); got != "GET" {
		t.Errorf("Allow = %q", got)
	}
	w = b.do(t, "DELETE", "/api/v1/runs", "admin", "")
	wantError(t, w, 405, codeMethodNotAllowed)
	if got := w.Header().Get("Allow"); got != "GET, POST" {
		t.Errorf("Allow = %q", got)
	}
}

func TestPanicIsRecovered(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.be.panics = "ListConnections"
	w := b.do(t, "GET", "/api/v1/connections", "read", "")
	wantError(t, w, 500, codeInternal, "request id")
	if strings.Contains(w.Body.String(), "exploded") {
		t.Errorf("the answer shows the panic: %s", w.Body)
	}
	logs := b.logs.String()
	if !strings.Contains(logs, "exploded") || !strings.Contains(logs, "goroutine") {
		t.Errorf("the panic and its stack were not logged:\n%s", logs)
	}
	// The server keeps serving.
	b.be.panics = ""
	wantStatus(t, b.do(t, "GET", "/api/v1/connections", "read", ""), 200)
}

func TestRequestLog(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.be.runs[5] = store.Run{ID: 5}
	wantStatus(t, b.do(t, "GET", "/api/v1/runs/5?wait=1s&secret=shh", "read", ""), 200)
	var line map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err == nil && m["msg"] == "http request" {
			line = m
		}
	}
	if line == nil {
		t.Fatalf("no request log line in:\n%s", b.logs)
	}
	for k, v := range map[string]any{"method": "GET", "route": "GET /api/v1/runs/{id}", "path": "/api/v1/runs/5", "status": float64(200), "token": "read-bot"} {
		if line[k] != v {
			t.Errorf("log %s = %v, want %v", k, line[k], v)
		}
	}
	if _, ok := line["duration"]; !ok {
		t.Errorf("log line has no duration: %v", line)
	}
	if strings.Contains(b.logs.String(), "shh") || strings.Contains(b.logs.String(), "Bearer") {
		t.Errorf("the log has the query or the Authorization header:\n%s", b.logs)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// The tracker registers its metrics on the same registry.
	runs := prometheus.NewGauge(prometheus.GaugeOpts{Name: "dbtlink_runs_active", Help: "test"})
	b.reg.MustRegister(runs)
	runs.Set(3)

	wantStatus(t, b.do(t, "GET", "/api/v1/runs/1", "read", ""), 404)
	wantStatus(t, b.do(t, "GET", "/api/v1/runs/2", "read", ""), 404)
	if got := b.counter(t, "dbtlink_http_requests_total", "404", "GET /api/v1/runs/{id}"); got != 2 {
		t.Errorf("requests{GET /api/v1/runs/{id},404} = %v, want 2", got)
	}
	w := b.do(t, "GET", "/metrics", "read", "")
	wantStatus(t, w, 200)
	for _, want := range []string{
		`dbtlink_http_requests_total{code="404",route="GET /api/v1/runs/{id}"} 2`,
		`dbtlink_http_request_duration_seconds_bucket{route="GET /api/v1/runs/{id}"`,
		"dbtlink_runs_active 3",
	} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	if _, err := New(Config{}); err == nil {
		t.Errorf("New without a backend succeeded")
	}
	if _, err := New(Config{Backend: newFakeBackend(), MaxWait: -time.Second}); err == nil {
		t.Errorf("New with a negative MaxWait succeeded")
	}
	// Two servers on one registry share the metrics rather than fail.
	reg := prometheus.NewRegistry()
	for range 2 {
		if _, err := New(Config{Backend: newFakeBackend(), Registry: reg}); err != nil {
			t.Fatal(err)
		}
	}
	// A foreign metric under one of the server's names is refused.
	reg = prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "dbtlink_webhook_deliveries_total", Help: "other"}))
	if _, err := New(Config{Backend: newFakeBackend(), Registry: reg}); err == nil {
		t.Errorf("New over a clashing metric succeeded")
	}
}
