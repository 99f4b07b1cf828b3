package dbtcloud

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestMethodsRequests checks every method's HTTP method, path, query and
// body against the real dbt Cloud paths, and that answers decode.
func TestMethodsRequests(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.client
	ctx := t.Context()

	b.mux.HandleFunc("GET /api/v2/accounts/{$}", serveFile(t, "account_list_response.json"))
	b.mux.HandleFunc("GET /api/v2/accounts/123456/{$}", serveFile(t, "account_get_response.json"))
	b.mux.HandleFunc("GET /api/v3/accounts/123456/projects/{$}", func(w http.ResponseWriter, r *http.Request) {
		checkQuery(t, r, url.Values{"name__icontains": {"jaffle"}, "state": {"1"}, "limit": {"10"}, "offset": {"20"}})
		serveFile(t, "project_list_response.json")(w, r)
	})
	b.mux.HandleFunc("GET /api/v3/accounts/123456/projects/123457/{$}", serveFile(t, "project_get_response.json"))
	b.mux.HandleFunc("GET /api/v3/accounts/123456/projects/12345/environments/{$}", func(w http.ResponseWriter, r *http.Request) {
		checkQuery(t, r, url.Values{"name": {"Prod"}, "name__icontains": {"pro"}, "deployment_type": {"production"}})
		serveFile(t, "environment_list_response.json")(w, r)
	})
	b.mux.HandleFunc("GET /api/v3/accounts/123456/projects/12345/environments/67890/{$}", serveFile(t, "environment_get_response.json"))
	b.mux.HandleFunc("GET /api/v2/accounts/123456/jobs/{$}", func(w http.ResponseWriter, r *http.Request) {
		checkQuery(t, r, url.Values{"project_id": {"7"}, "environment_id": {"8"}, "name__icontains": {"nightly"}, "state": {"1"}, "order_by": {"-id"}, "include_related": {"most_recent_run,environment"}, "limit": {"100"}})
		serveFile(t, "job_list_response.json")(w, r)
	})
	b.mux.HandleFunc("GET /api/v2/accounts/123456/jobs/43167/{$}", serveFile(t, "job_get_response.json"))
	b.mux.HandleFunc("POST /api/v2/accounts/123456/jobs/43167/rerun/{$}", serveFile(t, "job_run_response.json"))
	b.mux.HandleFunc("POST /api/v2/accounts/123456/jobs/43167/run/{$}", func(w http.ResponseWriter, r *http.Request) {
		checkAuth(t, r)
		var body map[string]any
		if err := jsonDecode(r.Body, &body); err != nil {
			t.Fatal(err)
		}
		cause, _ := body["cause"].(string)
		if m, ok := ExtractTriggerMarker(cause); !ok || cause != "deploy [dbtlink:"+m+"]" {
			t.Errorf("cause %q lacks the marker", cause)
		}
		delete(body, "cause")
		want := map[string]any{
			"git_branch": "main", "git_sha": "abc", "github_pull_request_id": float64(12), "schema_override": "pr_12",
			"dbt_version_override": "1.8.0", "threads_override": float64(8), "target_name_override": "ci",
			"generate_docs_override": false, "timeout_seconds_override": float64(0), "steps_override": []any{"dbt build"},
			"gitlab_merge_request_id": float64(3), "azure_pull_request_id": float64(4), "non_native_pull_request_id": float64(5),
		}
		if diff := cmpDiff(want, body); diff != "" {
			t.Errorf("trigger body (-want +got):\n%s", diff)
		}
		serveFile(t, "job_run_response.json")(w, r)
	})
	b.mux.HandleFunc("GET /api/v2/accounts/123456/runs/{$}", func(w http.ResponseWriter, r *http.Request) {
		checkQuery(t, r, url.Values{
			"job_definition_id": {"43167"}, "environment_id": {"2"}, "project_id": {"3"}, "status": {"10"},
			"status__in": {"[1,2,3]"}, "created_at__range": {`["2026-01-01T00:00:00Z","2026-01-02T00:00:00Z"]`},
			"finished_at__range": {`["2026-01-01T00:00:00Z","2026-01-03T03:04:05Z"]`},
			"id__gt":             {"99"}, "state": {"1"}, "include_related": {"trigger,job"}, "order_by": {"-id"}, "limit": {"50"}, "offset": {"50"},
		})
		writeJSON(w, 200, []map[string]any{{"id": 1, "status": 10}}, &Pagination{Count: 1, TotalCount: 200})
	})
	b.mux.HandleFunc("GET /api/v2/accounts/123456/runs/36053848/{$}", func(w http.ResponseWriter, r *http.Request) {
		checkQuery(t, r, url.Values{"include_related": {"trigger,run_steps"}})
		serveFile(t, "run_get_response.json")(w, r)
	})
	b.mux.HandleFunc("POST /api/v2/accounts/123456/runs/36053848/cancel/{$}", serveFile(t, "run_cancel_response.json"))
	b.mux.HandleFunc("POST /api/v2/accounts/123456/runs/36053848/retry/{$}", serveFile(t, "job_run_response.json"))
	b.mux.HandleFunc("GET /api/v2/accounts/123456/runs/36053848/retry/{$}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"failed_step": "dbt build", "skipped_steps": []string{"dbt docs generate"}}, nil)
	})
	b.mux.HandleFunc("GET /api/v2/accounts/123456/runs/36053848/artifacts/{$}", func(w http.ResponseWriter, r *http.Request) {
		checkQuery(t, r, url.Values{"step": {"4"}})
		serveFile(t, "run_list_artifacts_response.json")(w, r)
	})
	b.mux.HandleFunc("GET /api/v2/accounts/123456/runs/36053848/artifacts/run/my%20proj/model.sql", func(w http.ResponseWriter, r *http.Request) {
		checkAuth(t, r)
		checkQuery(t, r, url.Values{"step": {"2"}})
		_, _ = io.WriteString(w, "select 1")
	})
	b.mux.HandleFunc("GET /api/v2/accounts/123456/jobs/43167/artifacts/manifest.json", func(w http.ResponseWriter, r *http.Request) {
		checkAuth(t, r)
		_, _ = io.WriteString(w, `{"metadata":{}}`)
	})
	b.mux.HandleFunc("GET /api/v3/accounts/123456/webhooks/subscriptions", func(w http.ResponseWriter, r *http.Request) {
		checkQuery(t, r, url.Values{"limit": {"10"}})
		writeJSON(w, 200, []map[string]any{{"id": "wsu_1", "job_ids": []string{"1", "2"}, "event_types": []string{EventJobRunCompleted}, "active": true}}, &Pagination{Count: 1, TotalCount: 1})
	})
	b.mux.HandleFunc("POST /api/v3/accounts/123456/webhooks/subscriptions", func(w http.ResponseWriter, r *http.Request) {
		checkJSONBody(t, r, map[string]any{"name": "n", "client_url": "https://x.example/hook", "event_types": []any{EventJobRunCompleted}, "job_ids": []any{}, "active": true})
		writeJSON(w, 201, map[string]any{"id": "wsu_2", "hmac_secret": "hsec", "job_ids": []string{}, "active": true}, nil)
	})
	b.mux.HandleFunc("GET /api/v3/accounts/123456/webhooks/subscription/wsu_2", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"id": "wsu_2", "job_ids": []string{"43167"}}, nil)
	})
	b.mux.HandleFunc("PUT /api/v3/accounts/123456/webhooks/subscription/wsu_2", func(w http.ResponseWriter, r *http.Request) {
		checkJSONBody(t, r, map[string]any{"name": "n2", "description": "d", "client_url": "https://x.example/hook", "event_types": []any{EventJobRunErrored}, "job_ids": []any{float64(43167)}, "active": false})
		writeJSON(w, 200, map[string]any{"id": "wsu_2", "active": false}, nil)
	})
	b.mux.HandleFunc("DELETE /api/v3/accounts/123456/webhooks/subscription/wsu_2", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})

	const acct = 123456
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	accts, _, err := c.Accounts.List(ctx)
	must(err)
	if len(accts) != 1 || accts[0].ID != 1 || accts[0].Name != "Jaffle Shop" {
		t.Errorf("Accounts.List = %+v", accts)
	}
	a, _, err := c.Accounts.Get(ctx, acct)
	must(err)
	if a.RunSlots != 15 || a.QueueLimit != 50 {
		t.Errorf("Accounts.Get = %+v", a)
	}

	projs, resp, err := c.Projects.List(ctx, acct, &ProjectListOptions{NameIContains: "jaffle", State: StateActive, ListOptions: ListOptions{Limit: 10, Offset: 20}})
	must(err)
	if len(projs) == 0 || resp.Pagination == nil {
		t.Errorf("Projects.List = %+v, %+v", projs, resp.Pagination)
	}
	p, _, err := c.Projects.Get(ctx, acct, 123457)
	must(err)
	if p.Name != "jaffle_shop" {
		t.Errorf("Projects.Get = %+v", p)
	}
	_, _, err = c.Environments.List(ctx, acct, 12345, &EnvironmentListOptions{Name: "Prod", NameIContains: "pro", DeploymentType: "production"})
	must(err)
	env, _, err := c.Environments.Get(ctx, acct, 12345, 67890)
	must(err)
	if env.ID != 67890 || env.CustomBranch != "main" {
		t.Errorf("Environments.Get = %+v", env)
	}

	jobs, _, err := c.Jobs.List(ctx, acct, &JobListOptions{ProjectID: 7, EnvironmentID: 8, NameIContains: "nightly", State: StateActive, OrderBy: "-id", IncludeRelated: []string{"most_recent_run", "environment"}, ListOptions: ListOptions{Limit: 100}})
	must(err)
	if len(jobs) != 1 || jobs[0].Settings.Threads != 4 {
		t.Errorf("Jobs.List = %+v", jobs)
	}
	job, _, err := c.Jobs.Get(ctx, acct, 43167)
	must(err)
	if job.Schedule.Cron != "0 * * * *" || job.ExecuteSteps[0] != "dbt run -s not_a_model" {
		t.Errorf("Jobs.Get = %+v", job)
	}
	rr, _, err := c.Jobs.Rerun(ctx, acct, 43167)
	must(err)
	if rr.ID != 34929305 {
		t.Errorf("Jobs.Rerun = %d", rr.ID)
	}

	no := false
	zero := 0
	tr, _, err := c.Runs.Trigger(ctx, acct, 43167, &TriggerRunRequest{
		Cause: "deploy", GitBranch: "main", GitSHA: "abc", GitHubPullRequestID: 12, GitLabMergeRequestID: 3, AzurePullRequestID: 4,
		NonNativePullRequestID: 5, SchemaOverride: "pr_12", DBTVersionOverride: "1.8.0", ThreadsOverride: 8, TargetNameOverride: "ci",
		GenerateDocsOverride: &no, TimeoutSecondsOverride: &zero, StepsOverride: []string{"dbt build"},
	})
	must(err)
	if tr.ID != 34929305 || tr.Status != RunStatusSuccess {
		t.Errorf("Runs.Trigger = %+v", tr)
	}

	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	runs, resp, err := c.Runs.List(ctx, acct, &RunListOptions{
		JobDefinitionID: 43167, EnvironmentID: 2, ProjectID: 3, Status: RunStatusSuccess,
		StatusIn:        []RunStatus{RunStatusQueued, RunStatusStarting, RunStatusRunning},
		CreatedAtRange:  &TimeRange{From: from, To: from.Add(24 * time.Hour)},
		FinishedAtRange: &TimeRange{From: from}, // open end: now (fake) + 1 day
		IDGt:            99, State: StateActive, IncludeRelated: []string{"trigger", "job"}, OrderBy: "-id",
		ListOptions: ListOptions{Limit: 50, Offset: 50},
	})
	must(err)
	if len(runs) != 1 || resp.NextOffset != 51 || resp.Pagination.TotalCount != 200 {
		t.Errorf("Runs.List = %+v, next %d, %+v", runs, resp.NextOffset, resp.Pagination)
	}
	run, _, err := c.Runs.Get(ctx, acct, 36053848, &RunGetOptions{IncludeRelated: []string{"trigger", "run_steps"}})
	must(err)
	if run.ID != 36053848 {
		t.Errorf("Runs.Get = %d", run.ID)
	}
	cr, _, err := c.Runs.Cancel(ctx, acct, 36053848)
	must(err)
	if cr.Status != RunStatusCancelled {
		t.Errorf("Runs.Cancel status = %v", cr.Status)
	}
	_, _, err = c.Runs.Retry(ctx, acct, 36053848)
	must(err)
	fd, _, err := c.Runs.FailureDetails(ctx, acct, 36053848)
	must(err)
	if fd.FailedStep != "dbt build" || len(fd.SkippedSteps) != 1 {
		t.Errorf("Runs.FailureDetails = %+v", fd)
	}

	paths, _, err := c.Artifacts.List(ctx, acct, 36053848, 4)
	must(err)
	if len(paths) != 5 || paths[0] != "manifest.json" {
		t.Errorf("Artifacts.List = %v", paths)
	}
	body, _, err := c.Artifacts.Get(ctx, acct, 36053848, "run/my proj/model.sql", 2)
	must(err)
	got, _ := io.ReadAll(body)
	must(body.Close())
	if string(got) != "select 1" {
		t.Errorf("Artifacts.Get = %q", got)
	}
	body, _, err = c.Artifacts.GetLatestForJob(ctx, acct, 43167, "manifest.json")
	must(err)
	got, _ = io.ReadAll(body)
	must(body.Close())
	if string(got) != `{"metadata":{}}` {
		t.Errorf("Artifacts.GetLatestForJob = %q", got)
	}

	subs, _, err := c.Webhooks.List(ctx, acct, &ListOptions{Limit: 10})
	must(err)
	if len(subs) != 1 || len(subs[0].JobIDs) != 2 || subs[0].JobIDs[1] != 2 {
		t.Errorf("Webhooks.List = %+v", subs)
	}
	sub, _, err := c.Webhooks.Create(ctx, acct, &WebhookSubscriptionRequest{Name: "n", ClientURL: "https://x.example/hook", EventTypes: []string{EventJobRunCompleted}, Active: true})
	must(err)
	if sub.ID != "wsu_2" || sub.HMACSecret != "hsec" {
		t.Errorf("Webhooks.Create = %+v", sub)
	}
	sub, _, err = c.Webhooks.Get(ctx, acct, "wsu_2")
	must(err)
	if len(sub.JobIDs) != 1 || sub.JobIDs[0] != 43167 {
		t.Errorf("Webhooks.Get = %+v", sub)
	}
	_, _, err = c.Webhooks.Update(ctx, acct, "wsu_2", &WebhookSubscriptionRequest{Name: "n2", Description: "d", ClientURL: "https://x.example/hook", EventTypes: []string{EventJobRunErrored}, JobIDs: []int64{43167}})
	must(err)
	resp, err = c.Webhooks.Delete(ctx, acct, "wsu_2")
	must(err)
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("Webhooks.Delete status %d", resp.StatusCode)
	}
}

func TestBadArguments(t *testing.T) {
	t.Parallel()
	b := setup(t) // the catch-all fails the test if any of these reaches the server
	c, ctx := b.client, t.Context()
	checks := []struct {
		name string
		err  error
	}{
		{"account 0", second(c.Accounts.Get(ctx, 0))},
		{"run 0", second(c.Runs.Get(ctx, 1, 0, nil))},
		{"limit 101", second(c.Runs.List(ctx, 1, &RunListOptions{ListOptions: ListOptions{Limit: 101}}))},
		{"negative offset", second(c.Jobs.List(ctx, 1, &JobListOptions{ListOptions: ListOptions{Offset: -1}}))},
		{"dotdot artifact", second(c.Artifacts.Get(ctx, 1, 2, "../../jobs/3/", 0))},
		{"empty artifact", second(c.Artifacts.Get(ctx, 1, 2, "", 0))},
		{"negative step", second(c.Artifacts.List(ctx, 1, 2, -1))},
		{"webhook id slash", second(c.Webhooks.Get(ctx, 1, "a/b"))},
		{"webhook no events", second(c.Webhooks.Create(ctx, 1, &WebhookSubscriptionRequest{Name: "n", ClientURL: "u"}))},
		{"trigger job 0", second(c.Runs.Trigger(ctx, 1, 0, nil))},
	}
	for _, ch := range checks {
		if ch.err == nil {
			t.Errorf("%s: want an error", ch.name)
		}
	}
}

func second[A, B any](_ A, _ B, err error) error { return err }

func TestNewClientOptions(t *testing.T) {
	t.Parallel()
	bad := []struct {
		name string
		host string
		tok  string
		opt  Option
	}{
		{"empty token", "cloud.getdbt.com", "", nil},
		{"token with newline", "cloud.getdbt.com", "a\nb", nil},
		{"bad host", "ftp://x", "t", nil},
		{"nil http client", "cloud.getdbt.com", "t", WithHTTPClient(nil)},
		{"nil transport", "cloud.getdbt.com", "t", WithTransport(nil)},
		{"negative timeout", "cloud.getdbt.com", "t", WithTimeout(-time.Second)},
		{"empty UA", "cloud.getdbt.com", "t", WithUserAgent(" ")},
		{"zero rate", "cloud.getdbt.com", "t", WithRateLimit(0)},
		{"negative retry", "cloud.getdbt.com", "t", WithRetryPolicy(RetryPolicy{MaxAttempts: -1})},
		{"min > max", "cloud.getdbt.com", "t", WithRetryPolicy(RetryPolicy{MinBackoff: time.Minute, MaxBackoff: time.Second})},
		{"nil logger", "cloud.getdbt.com", "t", WithLogger(nil)},
		{"nil clock", "cloud.getdbt.com", "t", WithClock(nil, nil)},
	}
	for _, tt := range bad {
		var opts []Option
		if tt.opt != nil {
			opts = append(opts, tt.opt)
		}
		if _, err := NewClient(tt.host, tt.tok, opts...); err == nil {
			t.Errorf("%s: want error", tt.name)
		} else if tt.tok != "" && tt.tok != "t" && strings.Contains(err.Error(), tt.tok) {
			t.Errorf("%s: error leaks token: %v", tt.name, err)
		}
	}

	// The caller's http.Client is never changed.
	hc := &http.Client{Timeout: 5 * time.Second}
	c, err := NewClient("https://ab123.us1.dbt.com/api/v2/", "t", WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	if hc.Transport != nil || hc.Timeout != 5*time.Second {
		t.Error("NewClient modified the caller's http.Client")
	}
	if c.timeout != 5*time.Second {
		t.Errorf("timeout = %s, want the http.Client's 5s", c.timeout)
	}
	if c.Host() != "https://ab123.us1.dbt.com" {
		t.Errorf("Host() = %q", c.Host())
	}
	if got, want := c.RunURL(1, 2, 3), "https://ab123.us1.dbt.com/deploy/1/projects/2/runs/3/"; got != want {
		t.Errorf("RunURL = %q, want %q", got, want)
	}
	if !strings.HasPrefix(c.userAgent, "dbtlink/"+UserAgentVersion+" ") {
		t.Errorf("default UA %q", c.userAgent)
	}
}

func TestUserAgentAndNoTokenOnRedirect(t *testing.T) {
	t.Parallel()
	// A second server stands for a foreign host that a redirect points to.
	other := setup(t)
	other.mux.HandleFunc("GET /elsewhere", func(w http.ResponseWriter, r *http.Request) {
		if a := r.Header.Get("Authorization"); a != "" {
			t.Errorf("token sent to a redirect target: %q", a)
		}
		writeJSON(w, 200, map[string]any{"id": 9}, nil)
	})
	b := setup(t, WithUserAgent("ua-test/1"))
	b.mux.HandleFunc("GET /api/v2/accounts/9/{$}", func(w http.ResponseWriter, r *http.Request) {
		if ua := r.Header.Get("User-Agent"); ua != "ua-test/1" {
			t.Errorf("User-Agent = %q", ua)
		}
		http.Redirect(w, r, other.server.URL+"/elsewhere", http.StatusFound)
	})
	a, _, err := b.client.Accounts.Get(t.Context(), 9)
	if err != nil || a.ID != 9 {
		t.Fatalf("Get = %+v, %v", a, err)
	}
}

func TestArtifactsListNull(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.mux.HandleFunc("GET /api/v2/accounts/1/runs/2/artifacts/{$}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, nil, nil)
	})
	paths, _, err := b.client.Artifacts.List(t.Context(), 1, 2, 0)
	if err != nil || paths == nil || len(paths) != 0 {
		t.Errorf("List = %#v, %v; want empty non-nil", paths, err)
	}
}

// TestNoTokenOnSchemeDowngrade: a redirect from the https API host to the
// same host over plain http must not carry the token in clear text.
func TestNoTokenOnSchemeDowngrade(t *testing.T) {
	t.Parallel()
	var sawHTTP atomic.Bool
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Scheme == "https" {
			return &http.Response{StatusCode: http.StatusFound, Request: r, Body: http.NoBody,
				Header: http.Header{"Location": {"http://cloud.getdbt.com/elsewhere"}}}, nil
		}
		sawHTTP.Store(true)
		if a := r.Header.Get("Authorization"); a != "" {
			t.Errorf("token sent over plain http: %q", a)
		}
		return &http.Response{StatusCode: http.StatusOK, Request: r, Header: http.Header{},
			Body: io.NopCloser(strings.NewReader(`{"data": {"id": 7}}`))}, nil
	})
	c, err := NewClient("cloud.getdbt.com", testToken, WithTransport(rt), WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Accounts.Get(t.Context(), 7); err != nil {
		t.Fatal(err)
	}
	if !sawHTTP.Load() {
		t.Fatal("the redirect was not followed")
	}
}
