package emulator

import (
	"crypto/hmac"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAuth(t *testing.T) {
	b := setup(t)
	tests := []struct {
		name string
		auth string
		path string
		code int
		msg  string
	}{
		{"token prefix", "Token " + DemoToken, acctPath(""), 200, "Success!"},
		{"bearer prefix", "Bearer " + DemoToken, acctPath(""), 200, "Success!"},
		{"lower-case scheme", "token " + DemoToken, acctPath(""), 200, "Success!"},
		{"missing prefix", DemoToken, acctPath(""), 401, "Invalid token."},
		{"missing header", "", acctPath(""), 401, "Invalid token."},
		{"unknown token", "Token nope", acctPath(""), 401, "Invalid token."},
		{"other account's token", "Token " + OtherToken, acctPath(""), 404, "Not found."},
		{"other account's job", "Token " + OtherToken, acctPath("jobs/%d/", DemoDailyJobID), 404, "Not found."},
		{"job of another account under own account", "Token " + DemoToken, acctPath("jobs/311/"), 404, "Not found."},
		{"ip restricted", "Token " + DemoIPBlockedToken, acctPath(""), 403, ""},
		{"v3 with bearer", "Bearer " + DemoToken, "/api/v3/accounts/1/projects/", 200, "Success!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.callAs(t, tt.auth, "GET", tt.path, nil)
			wantCode(t, r, tt.code)
			if tt.msg != "" && r.userMessage() != tt.msg {
				t.Errorf("user_message = %q, want %q", r.userMessage(), tt.msg)
			}
			if tt.code >= 400 {
				st := r.body["status"].(map[string]any)
				if st["is_success"] != false || r.body["data"] == nil && tt.code == 403 {
					t.Errorf("error envelope = %s", r.raw)
				}
			}
		})
	}
	r := b.callAs(t, "Token "+DemoIPBlockedToken, "GET", acctPath(""), nil)
	if !strings.Contains(string(r.raw), "account_access_denied") {
		t.Errorf("403 body lacks account_access_denied: %s", r.raw)
	}
}

func TestPagingAndLimits(t *testing.T) {
	b := setup(t)
	for range 7 {
		b.trigger(t, DemoDailyJobID, nil)
	}
	var seen []int64
	for offset := 0; ; {
		r := b.call(t, "GET", acctPath("runs/?limit=3&offset=%d&order_by=-id", offset), nil)
		wantCode(t, r, 200)
		count, total := r.pagination()
		if total != 7 || count != len(r.list()) {
			t.Fatalf("pagination count=%d total=%d, page has %d", count, total, len(r.list()))
		}
		if count == 0 {
			break
		}
		for _, x := range r.list() {
			seen = append(seen, int64(num(x.(map[string]any)["id"])))
		}
		offset += count
		if offset >= total {
			break
		}
	}
	if len(seen) != 7 || !slices.IsSortedFunc(seen, func(a, b int64) int { return int(b - a) }) {
		t.Errorf("paged ids = %v, want 7 descending", seen)
	}

	for _, q := range []string{"limit=101", "limit=abc", "limit=0", "offset=-1", "order_by=name"} {
		r := b.call(t, "GET", acctPath("runs/?%s", q), nil)
		wantCode(t, r, http.StatusBadRequest)
		if r.body["data"] != nil || r.body["status"].(map[string]any)["is_success"] != false {
			t.Errorf("%s: error envelope %s", q, r.raw)
		}
	}
	r := b.call(t, "GET", acctPath("jobs/?limit=100"), nil)
	wantCode(t, r, 200)
	ex := r.body["extra"].(map[string]any)
	if ex["order_by"] != "id" || num(ex["filters"].(map[string]any)["limit"]) != 100 {
		t.Errorf("extra = %v", ex)
	}
}

func TestListFilters(t *testing.T) {
	b := setup(t)
	ok := b.trigger(t, DemoDailyJobID, nil)
	bad := b.trigger(t, DemoFailingJobID, nil)
	b.srv.Advance(5 * time.Minute)
	queued := b.trigger(t, DemoDailyJobID, nil)
	ids := func(r reply) []int64 {
		var out []int64
		for _, x := range r.list() {
			out = append(out, int64(num(x.(map[string]any)["id"])))
		}
		return out
	}
	tests := []struct {
		query string
		want  []int64
	}{
		{"status__in=[10,20]", []int64{ok, bad}},
		{"status__in=%5B1%5D", []int64{queued}},
		{"status__in=[1, 2, 3]", []int64{queued}},
		{"status=20", []int64{bad}},
		{"job_definition_id=301", []int64{ok, queued}},
		{"job_definition_id=301&order_by=-id", []int64{queued, ok}},
		{"order_by=finished_at", []int64{ok, bad, queued}},
		{"order_by=-finished_at", []int64{queued, bad, ok}},
		{"order_by=-created_at", []int64{queued, bad, ok}},
		{"id__gt=" + itoa(bad), []int64{queued}},
		{"environment_id=201&project_id=101", []int64{ok, bad, queued}},
		{"project_id=102", nil},
		{"created_at__range=" + url.QueryEscape(`["2026-03-12T06:04:00Z","2026-03-12T07:00:00Z"]`), []int64{queued}},
		{"finished_at__range=" + url.QueryEscape(`["2026-03-12","2026-03-12"]`), []int64{ok, bad}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := b.call(t, "GET", acctPath("runs/?%s", strings.ReplaceAll(tt.query, " ", "%20")), nil)
			wantCode(t, r, 200)
			if got := ids(r); !slices.Equal(got, tt.want) {
				t.Errorf("ids = %v, want %v", got, tt.want)
			}
		})
	}
	for _, q := range []string{"status__in=10,20", "status__in=10&status__in=20", "status__in=(10,20)", "status__in=[x]"} {
		r := b.call(t, "GET", acctPath("runs/?%s", q), nil)
		if r.code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", q, r.code)
		}
	}

	jobs := []struct {
		query string
		want  []int64
	}{
		{"name__icontains=DAILY", []int64{DemoDailyJobID, DemoStagingJobID, DemoLegacyJobID}},
		{"project_id=102", []int64{DemoLegacyJobID}},
		{"environment_id=202", []int64{DemoStagingJobID}},
		{"state=deleted", nil},
		{"order_by=-id&project_id=101", []int64{305, 304, 303, 302, 301}},
	}
	for _, tt := range jobs {
		r := b.call(t, "GET", acctPath("jobs/?%s", tt.query), nil)
		wantCode(t, r, 200)
		if got := ids(r); !slices.Equal(got, tt.want) {
			t.Errorf("jobs?%s = %v, want %v", tt.query, got, tt.want)
		}
	}

	v3 := []struct {
		path string
		want []int64
	}{
		{"/api/v3/accounts/1/projects/?name__icontains=analytics", []int64{DemoProjectID, DemoLegacyProjectID}},
		{"/api/v3/accounts/1/projects/?name__icontains=legacy", []int64{DemoLegacyProjectID}},
		{"/api/v3/accounts/1/projects/101/environments/?name=Production", []int64{DemoProductionEnvID}},
		{"/api/v3/accounts/1/projects/101/environments/?deployment_type=staging", []int64{DemoStagingEnvID}},
		{"/api/v3/accounts/1/projects/101/environments/?name__icontains=o", []int64{DemoProductionEnvID}},
		{"/api/v3/accounts/1/projects/102/environments/", []int64{DemoLegacyProdEnvID}},
	}
	for _, tt := range v3 {
		r := b.call(t, "GET", tt.path, nil)
		wantCode(t, r, 200)
		if got := ids(r); !slices.Equal(got, tt.want) {
			t.Errorf("%s = %v, want %v", tt.path, got, tt.want)
		}
	}
	wantCode(t, b.call(t, "GET", "/api/v3/accounts/1/projects/111/", nil), 404) // another account's project
	wantCode(t, b.call(t, "GET", "/api/v3/accounts/1/projects/101/environments/203/", nil), 404)
	wantCode(t, b.call(t, "GET", "/api/v3/accounts/1/projects/101/environments/?deployment_type=dev", nil), 400)
}

func TestIncludeRelatedSyntaxes(t *testing.T) {
	b := setup(t)
	id := b.trigger(t, DemoDailyJobID, nil)
	b.srv.Advance(time.Minute)
	for _, inc := range []string{"trigger,run_steps,job,environment", "['trigger','run_steps','job','environment']",
		`["trigger", "run_steps", "job", "environment"]`, "[trigger,run_steps,job,environment]"} {
		run := b.getRun(t, id, url.QueryEscape(inc))
		if run["trigger"] == nil || run["job"] == nil || run["environment"] == nil || len(run["run_steps"].([]any)) == 0 {
			t.Errorf("include_related=%s: trigger %v, job %v, env %v, steps %d", inc, run["trigger"] != nil,
				run["job"] != nil, run["environment"] != nil, len(run["run_steps"].([]any)))
		}
	}
	plain := b.getRun(t, id, "")
	if plain["trigger"] != nil || len(plain["run_steps"].([]any)) != 0 {
		t.Errorf("without include_related the run carries trigger %v and %d steps", plain["trigger"], len(plain["run_steps"].([]any)))
	}
}

func TestTriggerValidation(t *testing.T) {
	b := setup(t)
	tests := []struct {
		name string
		body any
		code int
	}{
		{"no cause", map[string]any{"git_branch": "main"}, 400},
		{"empty cause", map[string]any{"cause": ""}, 400},
		{"cause too long", map[string]any{"cause": strings.Repeat("x", 256)}, 400},
		{"wrong type", map[string]any{"cause": "x", "threads_override": "four"}, 400},
		{"bad step", map[string]any{"cause": "x", "steps_override": []string{"rm -rf /"}}, 400},
		{"all fields", map[string]any{"cause": "x", "git_sha": "abc", "github_pull_request_id": 7,
			"schema_override": "pr_7", "dbt_version_override": "1.9.0", "threads_override": 2,
			"target_name_override": "ci", "generate_docs_override": true, "timeout_seconds_override": 600,
			"steps_override": []string{"dbt build -s state:modified+"}}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.call(t, "POST", acctPath("jobs/%d/run/", DemoDailyJobID), tt.body)
			wantCode(t, r, tt.code)
		})
	}
	wantCode(t, b.call(t, "POST", acctPath("jobs/999/run/"), map[string]any{"cause": "x"}), 404)
	if n := b.srv.TriggerCount(DemoDailyJobID); n != 1 {
		t.Errorf("TriggerCount = %d, want 1", n)
	}
	// A missing trailing slash on a GET redirects like Django's APPEND_SLASH; the client follows it.
	r := b.call(t, "GET", acctPath("jobs/%d", DemoDailyJobID), nil)
	wantCode(t, r, 200)
}

func TestFaults(t *testing.T) {
	runPath := "POST /api/v2/accounts/{a}/jobs/{j}/run/"
	t.Run("status 429 with retry_after", func(t *testing.T) {
		b := setup(t)
		if _, err := b.srv.InjectFault(Fault{Path: runPath, Kind: FaultStatus, Status: 429, RetryAfter: 7}); err != nil {
			t.Fatal(err)
		}
		r := b.call(t, "POST", acctPath("jobs/%d/run/", DemoDailyJobID), map[string]any{"cause": "x"})
		wantCode(t, r, 429)
		if r.header.Get("Retry-After") != "7" {
			t.Errorf("Retry-After = %q", r.header.Get("Retry-After"))
		}
		if len(b.srv.Runs()) != 0 {
			t.Error("a status fault created a run")
		}
		b.trigger(t, DemoDailyJobID, nil) // times defaults to 1
	})
	t.Run("status 503 on a prefix, twice", func(t *testing.T) {
		b := setup(t)
		if _, err := b.srv.InjectFault(Fault{Method: "GET", Path: "/api/v3/", Kind: FaultStatus, Status: 503, Times: 2}); err != nil {
			t.Fatal(err)
		}
		for i, want := range []int{503, 503, 200} {
			if r := b.call(t, "GET", "/api/v3/accounts/1/projects/", nil); r.code != want {
				t.Errorf("call %d: %d, want %d", i, r.code, want)
			}
		}
		wantCode(t, b.call(t, "GET", acctPath(""), nil), 200) // v2 unaffected
	})
	t.Run("latency", func(t *testing.T) {
		b := setup(t)
		if _, err := b.srv.InjectFault(Fault{Path: "/api/v2/accounts/{a}/", Kind: FaultLatency, Latency: time.Minute}); err != nil {
			t.Fatal(err)
		}
		c := b.srv.Client()
		c.Timeout = 50 * time.Millisecond
		req, _ := http.NewRequest("GET", b.srv.URL+acctPath(""), nil)
		req.Header.Set("Authorization", "Token "+DemoToken)
		_, err := c.Do(req)
		var ue *url.Error
		if !errors.As(err, &ue) || !ue.Timeout() {
			t.Fatalf("err = %v, want a client timeout", err)
		}
	})
	for _, kind := range []FaultKind{FaultDrop, FaultCommitThenDrop} {
		t.Run(string(kind), func(t *testing.T) {
			b := setup(t)
			if _, err := b.srv.InjectFault(Fault{Path: runPath, Kind: kind}); err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest("POST", b.srv.URL+acctPath("jobs/%d/run/", DemoDailyJobID), strings.NewReader(`{"cause":"x"}`))
			req.Header.Set("Authorization", "Token "+DemoToken)
			resp, err := b.srv.Client().Do(req)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("got %d, want a dropped connection", resp.StatusCode)
			}
			want := 0
			if kind == FaultCommitThenDrop {
				want = 1 // the work happened although the caller heard nothing
			}
			if n := b.srv.TriggerCount(DemoDailyJobID); n != want || len(b.srv.Runs()) != want {
				t.Errorf("TriggerCount = %d, runs = %d, want %d", n, len(b.srv.Runs()), want)
			}
		})
	}
	t.Run("control endpoint", func(t *testing.T) {
		b := setup(t)
		resp, err := http.Post(b.srv.URL+"/_emulator/faults", "application/json",
			strings.NewReader(`{"path":"GET /api/v2/accounts/{a}/runs/","kind":"status","status":500,"times":-1}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 201 {
			t.Fatalf("POST /_emulator/faults: %d", resp.StatusCode)
		}
		for range 3 {
			wantCode(t, b.call(t, "GET", acctPath("runs/"), nil), 500)
		}
		req, _ := http.NewRequest("DELETE", b.srv.URL+"/_emulator/faults", nil)
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 204 {
			t.Fatalf("DELETE faults: %v %v", resp, err)
		}
		wantCode(t, b.call(t, "GET", acctPath("runs/"), nil), 200)
		for _, bad := range []string{`{"path":"x","kind":"drop"}`, `{"path":"/a","kind":"boom"}`, `{"path":"/a","kind":"status","status":200}`,
			`{"path":"/a","kind":"latency"}`, `{"path":"/a","kind":"latency","latency":"soon"}`} {
			resp, err := http.Post(b.srv.URL+"/_emulator/faults", "application/json", strings.NewReader(bad))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 400 {
				t.Errorf("%s: %d, want 400", bad, resp.StatusCode)
			}
		}
		// A misspelt key is refused rather than ignored (the fault would break one request, not three), and an
		// empty body says so.
		for bad, want := range map[string]string{`{"path":"/a","kind":"drop","time":3}`: "unknown field", ``: "empty"} {
			resp, err := http.Post(b.srv.URL+"/_emulator/faults", "application/json", strings.NewReader(bad))
			if err != nil {
				t.Fatal(err)
			}
			msg, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 400 || !strings.Contains(string(msg), want) {
				t.Errorf("%q: %d %s, want 400 mentioning %s", bad, resp.StatusCode, msg, want)
			}
		}
		if faults := b.srv.faultList(); len(faults) != 0 {
			t.Errorf("refused faults were armed: %+v", faults)
		}
	})
}

func TestControlStateAndAdvance(t *testing.T) {
	b := setup(t)
	id := b.trigger(t, DemoDailyJobID, nil)
	resp, err := http.Post(b.srv.URL+"/_emulator/advance?d=5m", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !b.clock.Now().Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("advance: %d, clock %v", resp.StatusCode, b.clock.Now())
	}
	resp, err = http.Get(b.srv.URL + "/_emulator/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Runs          []RunInfo      `json:"runs"`
		TriggerCounts map[string]int `json:"trigger_counts"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if len(st.Runs) != 1 || st.Runs[0].ID != id || st.Runs[0].Status != StatusSuccess || st.TriggerCounts["301"] != 1 {
		t.Errorf("state = %+v", st)
	}

	real, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer real.Close()
	resp, err = http.Post(real.URL+"/_emulator/advance?d=1m", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("advance on a real clock: %d, want 409", resp.StatusCode)
	}
}

func TestRateLimit(t *testing.T) {
	b := setup(t, func(o *Options) { o.RateLimitPerMinute = 3 })
	for i := range 3 {
		wantCode(t, b.call(t, "GET", acctPath(""), nil), 200)
		_ = i
	}
	r := b.call(t, "GET", acctPath(""), nil)
	wantCode(t, r, http.StatusTooManyRequests)
	if r.header.Get("Retry-After") != "300" || r.body["status"].(map[string]any)["is_success"] != false {
		t.Errorf("429: Retry-After %q, body %s", r.header.Get("Retry-After"), r.raw)
	}
	// Another account has its own budget.
	wantCode(t, b.callAs(t, "Token "+OtherToken, "GET", "/api/v2/accounts/2/", nil), 200)
	b.srv.Advance(4 * time.Minute)
	r = b.call(t, "GET", acctPath(""), nil)
	wantCode(t, r, 429)
	if r.header.Get("Retry-After") != "60" {
		t.Errorf("Retry-After after 4 minutes = %q, want 60", r.header.Get("Retry-After"))
	}
	b.srv.Advance(time.Minute)
	wantCode(t, b.call(t, "GET", acctPath(""), nil), 200)

	unlimited := setup(t, func(o *Options) { o.RateLimitPerMinute = -1 })
	for range 20 {
		wantCode(t, unlimited.call(t, "GET", acctPath(""), nil), 200)
	}
}

type receiver struct {
	mu     sync.Mutex
	bodies [][]byte
	auths  []string
	fail   bool
	hits   int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.hits++
	if rc.fail {
		w.WriteHeader(500)
		return
	}
	rc.bodies = append(rc.bodies, b)
	rc.auths = append(rc.auths, r.Header.Get("Authorization"))
}

func (rc *receiver) snapshot() ([][]byte, []string, int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.bodies), slices.Clone(rc.auths), rc.hits
}

// poll waits, with a deadline, until cond holds. Deliveries are asynchronous by design.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition, not waiting for a guessed duration
	}
}

func TestWebhooks(t *testing.T) {
	b := setup(t)
	rc := &receiver{}
	hook := newLocalServer(t, rc)
	create := b.call(t, "POST", "/api/v3/accounts/1/webhooks/subscriptions", map[string]any{
		"name": "ci", "client_url": hook, "active": true, "job_ids": []any{DemoFailingJobID, "301"},
		"event_types": []string{"job.run.started", "job.run.completed", "job.run.errored"},
	})
	wantCode(t, create, 201)
	if st := create.body["status"].(map[string]any); len(st) != 1 || num(st["code"]) != 201 {
		t.Errorf("thin envelope status = %v", st)
	}
	sub := create.data()
	secret, _ := sub["hmac_secret"].(string)
	subID, _ := sub["id"].(string)
	if secret == "" || !strings.HasPrefix(subID, "wsu_") || !slices.Equal(toStrings(sub["job_ids"]), []string{"302", "301"}) {
		t.Fatalf("created subscription = %v", sub)
	}
	got := b.call(t, "GET", "/api/v3/accounts/1/webhooks/subscription/"+subID, nil)
	wantCode(t, got, 200)
	if _, ok := got.data()["hmac_secret"]; ok {
		t.Error("hmac_secret shown after create")
	}

	id := b.trigger(t, DemoFailingJobID, nil)
	b.trigger(t, DemoDocsJobID, nil) // not subscribed
	b.srv.Advance(10 * time.Minute)
	poll(t, "three deliveries", func() bool { bodies, _, _ := rc.snapshot(); return len(bodies) >= 3 })
	bodies, auths, _ := rc.snapshot()
	var types []string
	for i, body := range bodies {
		if !hmac.Equal([]byte(auths[i]), []byte(Sign(secret, body))) {
			t.Errorf("delivery %d: signature %q does not verify", i, auths[i])
		}
		var ev struct {
			AccountID any            `json:"accountId"`
			WebhookID string         `json:"webhookId"`
			EventID   string         `json:"eventId"`
			Timestamp string         `json:"timestamp"`
			EventType string         `json:"eventType"`
			Data      map[string]any `json:"data"`
		}
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Fatal(err)
		}
		types = append(types, ev.EventType)
		if _, isNum := ev.AccountID.(float64); !isNum || ev.WebhookID != subID || !strings.HasPrefix(ev.EventID, "wev_") ||
			!strings.HasSuffix(ev.Timestamp, "Z") || ev.Data["runId"] != itoa(id) || ev.Data["jobId"] != "302" {
			t.Errorf("delivery %d = %s", i, body)
		}
		switch ev.EventType {
		case "job.run.started":
			if num(ev.Data["runStatusCode"]) != 3 || ev.Data["runStatus"] != "Running" {
				t.Errorf("started = %v", ev.Data)
			}
		case "job.run.errored":
			if num(ev.Data["runStatusCode"]) != 20 || ev.Data["runStatus"] != "Errored" || ev.Data["runErroredAt"] == nil {
				t.Errorf("errored = %v", ev.Data)
			}
		case "job.run.completed":
			if num(ev.Data["runStatusCode"]) != 20 || ev.Data["runFinishedAt"] == nil {
				t.Errorf("completed = %v", ev.Data)
			}
		}
	}
	if !slices.Equal(types, []string{"job.run.started", "job.run.errored", "job.run.completed"}) {
		t.Errorf("event order = %v", types)
	}

	// Update and list, then delete.
	up := b.call(t, "PUT", "/api/v3/accounts/1/webhooks/subscription/"+subID, map[string]any{"name": "renamed", "job_ids": []string{}})
	wantCode(t, up, 200)
	if up.data()["name"] != "renamed" {
		t.Errorf("update = %s", up.raw)
	}
	list := b.call(t, "GET", "/api/v3/accounts/1/webhooks/subscriptions", nil)
	wantCode(t, list, 200)
	if c, tot := list.pagination(); c != 1 || tot != 1 {
		t.Errorf("list pagination %d/%d", c, tot)
	}
	wantCode(t, b.call(t, "DELETE", "/api/v3/accounts/1/webhooks/subscription/"+subID, nil), 200)
	wantCode(t, b.call(t, "GET", "/api/v3/accounts/1/webhooks/subscription/"+subID, nil), 404)
	wantCode(t, b.call(t, "POST", "/api/v3/accounts/1/webhooks/subscriptions", map[string]any{"name": "x"}), 400)
}

func TestWebhookDeactivatesAfterFiveFailures(t *testing.T) {
	b := setup(t)
	rc := &receiver{fail: true}
	hook := newLocalServer(t, rc)
	create := b.call(t, "POST", "/api/v3/accounts/1/webhooks/subscriptions", map[string]any{
		"name": "flaky", "client_url": hook, "active": true, "event_types": []string{"job.run.started", "job.run.completed"},
	})
	wantCode(t, create, 201)
	subID := create.data()["id"].(string)
	for range 3 { // three runs, two events each: six deliveries, of which five fail in a row
		b.trigger(t, DemoDailyJobID, nil)
		b.srv.Advance(5 * time.Minute)
	}
	poll(t, "deactivation", func() bool {
		r := b.call(t, "GET", "/api/v3/accounts/1/webhooks/subscription/"+subID, nil)
		return r.data()["active"] == false
	})
	_, _, hits := rc.snapshot()
	if hits != 5*(1+webhookRetries) {
		t.Errorf("receiver saw %d attempts, want %d (5 deliveries of 1+%d attempts)", hits, 5*(1+webhookRetries), webhookRetries)
	}
	r := b.call(t, "GET", "/api/v3/accounts/1/webhooks/subscription/"+subID, nil)
	if r.data()["deactivate_reason"] == nil || r.data()["http_status_code"] != "500" {
		t.Errorf("subscription = %s", r.raw)
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func TestArtifactsPerStep(t *testing.T) {
	b := setup(t)
	id := b.trigger(t, DemoDocsJobID, nil) // steps: clone, profile, deps, source freshness, build, docs generate
	r := b.call(t, "GET", acctPath("runs/%d/artifacts/", id), nil)
	wantCode(t, r, 200)
	if r.body["data"] != nil {
		t.Errorf("artifacts of a queued run = %s, want data null", r.raw)
	}
	wantCode(t, b.call(t, "GET", acctPath("runs/%d/artifacts/manifest.json", id), nil), 404)
	b.srv.Advance(10 * time.Minute)
	run := b.getRun(t, id, "")
	if run["has_docs_generated"] != true || run["has_sources_generated"] != true {
		t.Errorf("has_docs_generated %v, has_sources_generated %v", run["has_docs_generated"], run["has_sources_generated"])
	}
	r = b.call(t, "GET", acctPath("runs/%d/artifacts/", id), nil)
	list := toStrings(r.body["data"])
	for _, want := range []string{"catalog.json", "manifest.json", "run_results.json", "sources.json",
		"compiled/jaffle_shop/models/marts/orders.sql", "run/jaffle_shop/models/marts/orders.sql"} {
		if !slices.Contains(list, want) {
			t.Errorf("artifact list lacks %s: %v", want, list)
		}
	}
	tests := []struct {
		path string
		code int
		has  string
	}{
		{"manifest.json", 200, `"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"`},
		{"catalog.json", 200, "catalog/v1.json"},
		{"catalog.json?step=5", 404, ""}, // the build step wrote no catalog
		{"catalog.json?step=6", 200, ""}, // docs generate did
		{"sources.json", 200, "sources/v3.json"},
		{"sources.json?step=4", 200, "source.jaffle_shop.ecom.raw_orders"},
		{"run_results.json?step=5", 200, `"which": "build"`},
		{"run_results.json", 200, `"which": "generate"`}, // default: the last step
		{"run_results.json?step=1", 404, ""},             // cloning writes nothing
		{"run_results.json?step=99", 404, ""},
		{"run_results.json?step=x", 400, ""},
		{"nope.json", 404, ""},
		{"compiled/jaffle_shop/models/marts/orders.sql", 200, "select"},
	}
	for _, tt := range tests {
		r := b.call(t, "GET", acctPath("runs/%d/artifacts/%s", id, tt.path), nil)
		if r.code != tt.code || !strings.Contains(string(r.raw), tt.has) {
			t.Errorf("%s: %d (want %d), body has %q: %v", tt.path, r.code, tt.code, tt.has, strings.Contains(string(r.raw), tt.has))
		}
	}
	// The list takes ?step= too: only that step's files; a step the run does not have is a 404 in dbt's envelope.
	r = b.call(t, "GET", acctPath("runs/%d/artifacts/?step=6", id), nil)
	wantCode(t, r, 200)
	if got := toStrings(r.body["data"]); !slices.Contains(got, "catalog.json") || slices.Contains(got, "sources.json") || len(got) >= len(list) {
		t.Errorf("artifacts of step 6 (docs generate) = %v, want catalog.json but not sources.json, fewer than the run's %d", got, len(list))
	}
	r = b.call(t, "GET", acctPath("runs/%d/artifacts/?step=4", id), nil)
	if got := toStrings(r.body["data"]); !slices.Contains(got, "sources.json") || slices.Contains(got, "catalog.json") {
		t.Errorf("artifacts of step 4 (source freshness) = %v, want sources.json and no catalog.json", got)
	}
	r = b.call(t, "GET", acctPath("runs/%d/artifacts/?step=1", id), nil)
	if r.code != 200 || r.body["data"] != nil {
		t.Errorf("artifacts of step 1 (clone) = %d %s, want 200 with data null", r.code, r.raw)
	}
	for _, step := range []string{"99", "7", "0", "-1"} {
		r = b.call(t, "GET", acctPath("runs/%d/artifacts/?step=%s", id, step), nil)
		st, _ := r.body["status"].(map[string]any)
		if r.code != 404 || r.body["data"] != nil || st["is_success"] != false || !strings.Contains(string(r.raw), "has steps 1 to 6") {
			t.Errorf("artifacts of step %s = %d %s, want a 404 envelope saying the run has steps 1 to 6", step, r.code, r.raw)
		}
	}
	wantCode(t, b.call(t, "GET", acctPath("runs/%d/artifacts/?step=x", id), nil), 400)

	// The job's latest artifact.
	r = b.call(t, "GET", acctPath("jobs/%d/artifacts/catalog.json", DemoDocsJobID), nil)
	wantCode(t, r, 200)
	wantCode(t, b.call(t, "GET", acctPath("jobs/%d/artifacts/catalog.json", DemoDailyJobID), nil), 404)

	// A run that failed in `dbt deps` saved nothing: data null, and it cannot be retried.
	seed := DefaultSeed()
	zero := 0
	seed.Accounts[0].Projects[0].Environments[0].Jobs[0].Behaviour = SeedBehaviour{Outcome: "error", FailStep: &zero}
	b2 := setup(t, func(o *Options) { o.Seed = seed })
	id2 := b2.trigger(t, DemoDailyJobID, nil)
	b2.srv.Advance(time.Minute)
	r = b2.call(t, "GET", acctPath("runs/%d/artifacts/", id2), nil)
	if r.body["data"] != nil {
		t.Errorf("artifacts after a deps failure = %s", r.raw)
	}
	if run := b2.getRun(t, id2, ""); status(run) != StatusError || run["retry_not_supported_reason"] != "RETRY_NO_RUN_RESULTS" {
		t.Errorf("deps failure: status %v reason %v", run["status"], run["retry_not_supported_reason"])
	}
}

func TestRetryReasons(t *testing.T) {
	b := setup(t)
	legacy := b.trigger(t, DemoLegacyJobID, nil) // dbt 1.5: too old for dbt retry
	b.srv.Advance(10 * time.Minute)
	if r := b.getRun(t, legacy, ""); r["retry_not_supported_reason"] != "RETRY_UNSUPPORTED_VERSION" {
		t.Errorf("legacy reason = %v", r["retry_not_supported_reason"])
	}
	// Rerun of a job whose latest run cannot be retried starts a fresh run.
	rr := b.call(t, "POST", acctPath("jobs/%d/rerun/", DemoLegacyJobID), nil)
	wantCode(t, rr, 200)
	if rr.data()["retrying_run_id"] != nil {
		t.Errorf("rerun of an unretryable run retried it: %v", rr.data()["retrying_run_id"])
	}
	// steps_override with an unsupported failing command.
	id := b.trigger(t, DemoFailingJobID, map[string]any{"cause": "x", "steps_override": []string{"dbt source freshness"}})
	b.srv.Advance(10 * time.Minute)
	if r := b.getRun(t, id, ""); r["retry_not_supported_reason"] != "RETRY_UNSUPPORTED_CMD" {
		t.Errorf("freshness failure reason = %v", r["retry_not_supported_reason"])
	}
}

func TestSeedErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"empty", "accounts: []", []string{"accounts: at least one account"}},
		{"unknown key", "accounts:\n  - id: 1\n    nmae: x\n", []string{"field nmae not found"}},
		{"bad deployment type", `
accounts:
  - id: 1
    name: A
    tokens: [t]
    projects:
      - name: p
        environments:
          - name: e
            deployment_type: prod
`, []string{"accounts[0].projects[0].environments[0].deployment_type"}},
		{"job problems", `
accounts:
  - name: A
    tokens: [t, t]
    projects:
      - name: p
        environments:
          - name: e
            jobs:
              - name: j
                execute_steps: ["ls"]
                behaviour: {outcome: maybe, fail_step: 3}
              - id: 5
                name: k
              - id: 5
`, []string{"accounts[0].tokens[1]: token already used", "jobs[0].execute_steps[0]", "jobs[0].behaviour.outcome",
			"jobs[0].behaviour.fail_step", "jobs[2].id: job id 5 already used", "jobs[2].name: is required"}},
		{"empty file", "# nothing yet\n", []string{"the seed is empty"}},
		{"durations out of range", `
accounts:
  - name: A
    tokens: [t]
    projects:
      - name: p
        environments:
          - name: e
            jobs:
              - name: j
                behaviour: {step_seconds: [10, .nan, -1], queue_seconds: 1e300, starting_seconds: .inf}
`, []string{"behaviour.step_seconds[1]", "behaviour.step_seconds[2]", "behaviour.queue_seconds", "behaviour.starting_seconds"}},
		{"json works too", `{"accounts": [{"name": "A"}]}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSeed([]byte(tt.yaml))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("ParseSeed: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("ParseSeed succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
	if _, err := New(Options{Seed: &Seed{Accounts: []SeedAccount{{Name: "no tokens"}}}}); err == nil {
		t.Error("New accepted a seed nobody can call")
	}
	s, err := LoadSeed("testdata/seed.example.yaml")
	if err != nil {
		t.Fatalf("example seed: %v", err)
	}
	if len(s.Accounts) == 0 || len(s.Accounts[0].Projects) == 0 {
		t.Errorf("example seed parsed to %+v", s)
	}
	if _, err := LoadSeed("testdata/missing.yaml"); err == nil {
		t.Error("LoadSeed of a missing file succeeded")
	}
}

func TestRealClockSpeed(t *testing.T) {
	c := NewRealClock(3600)
	start := c.Now()
	poll(t, "an emulated minute", func() bool { return c.Now().Sub(start) >= time.Minute })
	if c.Speed() != 3600 || NewRealClock(0).Speed() != 1 {
		t.Errorf("speed = %v", c.Speed())
	}
	ticked := make(chan struct{}, 1)
	stop := c.OnTick(func() {
		select {
		case ticked <- struct{}{}:
		default:
		}
	})
	defer stop()
	select {
	case <-ticked:
	case <-time.After(5 * time.Second):
		t.Fatal("real clock never ticked")
	}
}

func TestHumanize(t *testing.T) {
	tests := map[time.Duration]string{
		0: "0 minutes", 12 * time.Second: "12 seconds", 110 * time.Second: "1 minute, 50 seconds",
		time.Hour: "1 hour", 15*24*time.Hour + 3*time.Hour: "2 weeks, 1 day",
	}
	for d, want := range tests {
		if got := humanize(d); got != want {
			t.Errorf("humanize(%v) = %q, want %q", d, got, want)
		}
	}
	if got := clockDuration(3*time.Hour + 2*time.Minute + time.Second); got != "03:02:01" {
		t.Errorf("clockDuration = %q", got)
	}
}

func TestRealClockFiresWebhooksWithoutPolling(t *testing.T) {
	// At 600x a daily build (73 emulated seconds) takes about an eighth of a real second. Nobody polls the API:
	// the clock's ticker alone must move the run along and send the webhook.
	srv, err := New(Options{Clock: NewRealClock(600), WebhookRetryDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	b := &bundle{srv: srv}
	rc := &receiver{}
	wantCode(t, b.call(t, "POST", "/api/v3/accounts/1/webhooks/subscriptions", map[string]any{
		"name": "rt", "client_url": newLocalServer(t, rc), "active": true, "event_types": []string{"job.run.completed"},
	}), 201)
	b.trigger(t, DemoDailyJobID, nil)
	poll(t, "the completed webhook", func() bool { bodies, _, _ := rc.snapshot(); return len(bodies) == 1 })
	bodies, _, _ := rc.snapshot()
	if !strings.Contains(string(bodies[0]), `"runStatus":"Success"`) {
		t.Errorf("delivery = %s", bodies[0])
	}
}

func TestUnknownPaths(t *testing.T) {
	b := setup(t)
	tests := []struct {
		method, path string
		code         int
	}{
		{"GET", "/api/v2/accounts/1/widgets/", 404},
		{"GET", "/api/v2/accounts/abc/", 404},
		{"GET", "/api/v2/accounts/abc/jobs/", 404},
		{"GET", "/api/v2/accounts/99999999999999999999/runs/", 404},
		{"GET", "/api/v3/accounts/abc/projects/", 404},
		{"GET", "/api/v3/accounts/abc/webhooks/subscriptions", 404},
		{"POST", acctPath("jobs/%d/run", DemoDailyJobID), 404}, // Django cannot redirect a POST
		{"PUT", acctPath("jobs/%d/", DemoDailyJobID), 405},
		{"GET", "/nothing", 404},
		{"GET", "/_emulator/nothing", 404},
	}
	for _, tt := range tests {
		r := b.call(t, tt.method, tt.path, nil)
		if r.code != tt.code {
			t.Errorf("%s %s: %d, want %d", tt.method, tt.path, r.code, tt.code)
		}
	}
}

func TestExampleSeedRuns(t *testing.T) {
	s, err := LoadSeed("testdata/seed.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	b := setup(t, func(o *Options) { o.Seed = s })
	if b.srv.Token != "dbtc_example_token" || b.srv.AccountID != 1 {
		t.Fatalf("token %q account %d", b.srv.Token, b.srv.AccountID)
	}
	id := b.trigger(t, 302, nil)
	b.srv.Advance(time.Hour)
	run := b.getRun(t, id, "run_steps")
	var names []string
	for _, s := range run["run_steps"].([]any) {
		names = append(names, s.(map[string]any)["name"].(string))
	}
	want := []string{"Clone git repository", "Create profile from connection Emulated DuckDB (analytics)",
		"Invoke dbt with `dbt deps`", "Invoke dbt with `dbt source freshness`", "Invoke dbt with `dbt seed`",
		"Invoke dbt with `dbt run`", "Invoke dbt with `dbt test`"}
	if status(run) != StatusError || !slices.Equal(names, want) {
		t.Fatalf("status %v, steps %q", run["status"], names)
	}
	for _, res := range runResults(t, b, id, "") {
		wantStatus := "pass"
		if res.UniqueID == "test.jaffle_shop.unique_orders_order_id.fed79b3a6e" {
			wantStatus = "fail"
		}
		if res.Status != wantStatus {
			t.Errorf("%s: %s, want %s", res.UniqueID, res.Status, wantStatus)
		}
	}
	// The Staging job got an id of its own.
	r := b.call(t, "GET", acctPath("jobs/?environment_id=202"), nil)
	if len(r.list()) != 1 {
		t.Errorf("staging jobs = %s", r.raw)
	}
}

// TestFailingStepResults checks that a failing step of any dbt command reports a node of the type that command
// runs as failed (with what it blocks skipped), and that run_results timings fill the step's emulated duration
// rather than the embedded file's sub-second ones.
func TestFailingStepResults(t *testing.T) {
	tests := []struct {
		command    string
		wantFailed string // resource type of the failed node; "" when the command runs no nodes of this project
		wantStatus string
		wantSkip   bool
	}{
		{"dbt seed", "seed", "error", false}, // jaffle_shop's seeds feed nothing through refs
		{"dbt run", "model", "error", true},
		{"dbt test", "test", "fail", false},
		{"dbt build", "model", "error", true},
		// The embedded project has no snapshots, so dbt snapshot fails without a node, as dbt does on a
		// project-level error.
		{"dbt snapshot", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.command, func(t *testing.T) {
			seed := DefaultSeed()
			one := 1
			j := &seed.Accounts[0].Projects[0].Environments[0].Jobs[0]
			j.ExecuteSteps = []string{tt.command}
			j.Behaviour = SeedBehaviour{Outcome: "error", FailStep: &one, StepSeconds: []float64{300}}
			b := setup(t, func(o *Options) { o.Seed = seed })
			id := b.trigger(t, j.ID, nil)
			b.srv.Advance(time.Hour)
			if run := b.getRun(t, id, ""); status(run) != StatusError {
				t.Fatalf("run status %v, want error", run["status"])
			}
			r := b.call(t, "GET", acctPath("runs/%d/artifacts/run_results.json", id), nil)
			wantCode(t, r, 200)
			var rr struct {
				Metadata struct {
					GeneratedAt         time.Time `json:"generated_at"`
					InvocationStartedAt time.Time `json:"invocation_started_at"`
				} `json:"metadata"`
				ElapsedTime float64 `json:"elapsed_time"`
				Results     []struct {
					UniqueID      string  `json:"unique_id"`
					Status        string  `json:"status"`
					Message       *string `json:"message"`
					ExecutionTime float64 `json:"execution_time"`
					Timing        []struct {
						Name        string    `json:"name"`
						StartedAt   time.Time `json:"started_at"`
						CompletedAt time.Time `json:"completed_at"`
					} `json:"timing"`
				} `json:"results"`
			}
			if err := json.Unmarshal(r.raw, &rr); err != nil {
				t.Fatal(err)
			}
			var failed []string
			skipped := 0
			for _, res := range rr.Results {
				switch res.Status {
				case "error", "fail":
					failed = append(failed, res.UniqueID)
					if res.Status != tt.wantStatus || res.Message == nil || *res.Message == "" {
						t.Errorf("%s: status %q message %v, want %q with a message", res.UniqueID, res.Status, res.Message, tt.wantStatus)
					}
				case "skipped":
					skipped++
				}
			}
			if tt.wantFailed == "" {
				if len(rr.Results) != 0 {
					t.Errorf("results %+v, want none", rr.Results)
				}
				return
			}
			if len(failed) != 1 || !strings.HasPrefix(failed[0], tt.wantFailed+".") {
				t.Fatalf("failed nodes %v, want one %s", failed, tt.wantFailed)
			}
			if (skipped > 0) != tt.wantSkip {
				t.Errorf("%d skipped nodes, want some: %v", skipped, tt.wantSkip)
			}
			logs := b.getRun(t, id, "run_steps")["run_steps"].([]any)
			last := logs[len(logs)-1].(map[string]any)["logs"].(string)
			if name := strings.Split(failed[0], ".")[2]; !strings.Contains(last, name) { // test ids end in a hash
				t.Errorf("failing step's log does not name %s:\n%s", name, last)
			}

			// Timings: the step ran for 300 emulated seconds; nodes take turns within it.
			start, end := rr.Metadata.InvocationStartedAt, rr.Metadata.GeneratedAt
			if got := end.Sub(start).Seconds(); got < 299 || got > 301 || rr.ElapsedTime < 299 || rr.ElapsedTime > 301 {
				t.Errorf("step took %.1fs, elapsed_time %.1f, want 300", got, rr.ElapsedTime)
			}
			var sum float64
			prev := start
			for _, res := range rr.Results {
				sum += res.ExecutionTime
				if res.Status == "skipped" {
					if res.ExecutionTime != 0 || len(res.Timing) != 0 {
						t.Errorf("skipped %s has time %v, timing %v", res.UniqueID, res.ExecutionTime, res.Timing)
					}
					continue
				}
				if len(res.Timing) != 2 {
					t.Fatalf("%s timing %+v, want compile and execute", res.UniqueID, res.Timing)
				}
				for _, tm := range res.Timing {
					if tm.StartedAt.Before(prev) || tm.CompletedAt.Before(tm.StartedAt) || tm.CompletedAt.After(end) {
						t.Errorf("%s %s %v..%v out of order (after %v, step ends %v)", res.UniqueID, tm.Name, tm.StartedAt, tm.CompletedAt, prev, end)
					}
					prev = tm.CompletedAt
				}
			}
			if sum < 0.5*rr.ElapsedTime || sum > rr.ElapsedTime {
				t.Errorf("execution times sum to %.1fs of a %.1fs step", sum, rr.ElapsedTime)
			}
		})
	}
}

func TestShortGitSHAInStepLogs(t *testing.T) {
	b := setup(t)
	id := b.trigger(t, DemoDailyJobID, map[string]any{"cause": "x", "git_sha": "abc"})
	b.srv.Advance(time.Minute) // the clone step has logged its checkout
	run := b.getRun(t, id, "run_steps")
	steps := run["run_steps"].([]any)
	if len(steps) == 0 {
		t.Fatal("no steps started")
	}
	if logs, _ := steps[0].(map[string]any)["logs"].(string); !strings.Contains(logs, "Checked out at abc on main.") {
		t.Errorf("clone step logs = %q", logs)
	}
}
