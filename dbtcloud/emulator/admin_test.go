package emulator

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func ids(list []any) []int64 {
	out := make([]int64, 0, len(list))
	for _, x := range list {
		m, _ := x.(map[string]any)
		out = append(out, int64(num(m["id"])))
	}
	return out
}

func names(list []any) []string {
	out := make([]string, 0, len(list))
	for _, x := range list {
		m, _ := x.(map[string]any)
		s, _ := m["name"].(string)
		out = append(out, s)
	}
	return out
}

func v3Path(format string, args ...any) string {
	return fmt.Sprintf("/api/v3/accounts/%d/", DemoAccountID) + fmt.Sprintf(format, args...)
}

func TestListAccountsV3(t *testing.T) {
	b := setup(t)
	r := b.call(t, "GET", "/api/v3/accounts/", nil)
	wantCode(t, r, 200)
	if got := ids(r.list()); !slices.Equal(got, []int64{DemoAccountID}) {
		t.Errorf("accounts = %v, want only the token's account", got)
	}
	if c, total := r.pagination(); c != 1 || total != 1 {
		t.Errorf("pagination = %d/%d", c, total)
	}
	// Another account's token sees only its own.
	r = b.callAs(t, "Token "+OtherToken, "GET", "/api/v3/accounts/", nil)
	wantCode(t, r, 200)
	if got := ids(r.list()); len(got) != 1 || got[0] == DemoAccountID {
		t.Errorf("other token's accounts = %v", got)
	}
	wantCode(t, b.callAs(t, "Token "+DemoMetadataOnlyToken, "GET", "/api/v3/accounts/", nil), 403)
}

func TestProjectsOrderAndRelated(t *testing.T) {
	b := setup(t)
	tests := []struct {
		query string
		want  []string
		code  int
	}{
		{"", []string{"analytics", "analytics_legacy"}, 200},
		{"?order_by=-name", []string{"analytics_legacy", "analytics"}, 200},
		{"?order_by=name", []string{"analytics", "analytics_legacy"}, 200},
		{"?order_by=-id", []string{"analytics_legacy", "analytics"}, 200},
		{"?order_by=-created_at", []string{"analytics_legacy", "analytics"}, 200},
		{"?order_by=state,-id", []string{"analytics_legacy", "analytics"}, 200},
		{"?pk__in=[102]", []string{"analytics_legacy"}, 200},
		{"?pk=101", []string{"analytics"}, 200},
		{"?pk__gt=101", []string{"analytics_legacy"}, 200},
		{"?order_by=colour", nil, 400},
		{"?pk__in=[x]", nil, 400},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := b.call(t, "GET", v3Path("projects/")+tt.query, nil)
			wantCode(t, r, tt.code)
			if tt.code == 200 && !slices.Equal(names(r.list()), tt.want) {
				t.Errorf("projects = %v, want %v", names(r.list()), tt.want)
			}
		})
	}
	r := b.call(t, "GET", v3Path("projects/?order_by=name&include_related=[\"repository\",\"connection\",\"docs_job\"]"), nil)
	wantCode(t, r, 200)
	if ex, _ := r.body["extra"].(map[string]any); ex["order_by"] != "name" {
		t.Errorf("extra.order_by = %v, want name", ex["order_by"])
	}
	p := r.list()[0].(map[string]any)
	conn, _ := p["connection"].(map[string]any)
	repo, _ := p["repository"].(map[string]any)
	if conn == nil || repo == nil {
		t.Fatalf("connection %v, repository %v: want the related objects", p["connection"], p["repository"])
	}
	if num(conn["id"]) != num(p["connection_id"]) || num(repo["id"]) != num(p["repository_id"]) || num(conn["project_id"]) != DemoProjectID {
		t.Errorf("related ids do not match: connection %v/%v, repository %v/%v", conn["id"], p["connection_id"], repo["id"], p["repository_id"])
	}
	if dj, _ := p["docs_job"].(map[string]any); num(dj["id"]) != DemoDocsJobID {
		t.Errorf("docs_job = %v, want job %d", p["docs_job"], DemoDocsJobID)
	}
}

func TestAccountEnvironments(t *testing.T) {
	b := setup(t)
	tests := []struct {
		query string
		want  []int64
		code  int
	}{
		{"", []int64{DemoProductionEnvID, DemoStagingEnvID, DemoLegacyProdEnvID}, 200},
		{"?project_id=101", []int64{DemoProductionEnvID, DemoStagingEnvID}, 200},
		{"?project_id=102", []int64{DemoLegacyProdEnvID}, 200},
		{"?project_id=101&deployment_type=staging", []int64{DemoStagingEnvID}, 200},
		{"?project_id__in=[102]", []int64{DemoLegacyProdEnvID}, 200},
		{"?name=Production", []int64{DemoProductionEnvID, DemoLegacyProdEnvID}, 200},
		{"?project_id=999", []int64{}, 200},
		{"?project_id=abc", nil, 400},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := b.call(t, "GET", v3Path("environments/")+tt.query, nil)
			wantCode(t, r, tt.code)
			if tt.code == 200 && !slices.Equal(ids(r.list()), tt.want) {
				t.Errorf("environments = %v, want %v", ids(r.list()), tt.want)
			}
		})
	}
	// A token scoped to project 101 sees only that project's environments; the Job Runner cannot read them at all.
	sb := setup(t, withServiceToken("viewer", "dbtc_viewer_101", []string{"job_viewer"}, DemoProjectID))
	r := sb.callAs(t, "Token dbtc_viewer_101", "GET", v3Path("environments/"), nil)
	wantCode(t, r, 200)
	if got := ids(r.list()); !slices.Equal(got, []int64{DemoProductionEnvID, DemoStagingEnvID}) {
		t.Errorf("scoped token sees %v", got)
	}
	wantCode(t, b.callAs(t, "Token "+DemoJobRunnerToken, "GET", v3Path("environments/"), nil), 403)
}

// withServiceToken adds a service token to account 1 of the default seed.
func withServiceToken(name, token string, sets []string, projects ...int64) func(*Options) {
	return func(o *Options) {
		s := DefaultSeed()
		s.Accounts[0].ServiceTokens = append(s.Accounts[0].ServiceTokens,
			SeedServiceToken{Name: name, Token: token, PermissionSets: sets, ProjectIDs: projects})
		o.Seed = s
	}
}

func TestWhoamiAndUsers(t *testing.T) {
	b := setup(t)
	r := b.call(t, "GET", "/api/v2/whoami/", nil)
	wantCode(t, r, 200)
	user, _ := r.data()["user"].(map[string]any)
	if user == nil || num(user["id"]) != float64(accountUserID(DemoAccountID)) || !strings.Contains(user["email"].(string), "@") {
		t.Fatalf("whoami user = %v", r.data())
	}
	r = b.callAs(t, "Token "+DemoMetadataOnlyToken, "GET", "/api/v2/whoami/", nil)
	wantCode(t, r, 200) // whoami needs no permission set
	st, _ := r.data()["service_token"].(map[string]any)
	if r.data()["user"] != nil || st["name"] != "metadata" {
		t.Errorf("whoami of a service token = %v", r.data())
	}
	wantCode(t, b.callAs(t, "Token nope", "GET", "/api/v2/whoami/", nil), 401)

	r = b.call(t, "GET", v3Path("users/"), nil)
	wantCode(t, r, 200)
	if got := ids(r.list()); !slices.Equal(got, []int64{accountUserID(DemoAccountID)}) {
		t.Errorf("users = %v", got)
	}
	if v2 := b.call(t, "GET", acctPath("users/"), nil); !slices.Equal(ids(v2.list()), []int64{accountUserID(DemoAccountID)}) {
		t.Errorf("v2 users = %v", ids(v2.list()))
	}
	// Users belong to the account: project-level sets do not read them.
	wantCode(t, b.callAs(t, "Token "+DemoAnalystToken, "GET", v3Path("users/"), nil), 403)
	wantCode(t, b.callAs(t, "Token "+OtherToken, "GET", v3Path("users/"), nil), 404)
}

func TestConnectionsAndRepositories(t *testing.T) {
	b := setup(t)
	p := b.call(t, "GET", v3Path("projects/%d/", DemoProjectID), nil)
	wantCode(t, p, 200)
	connID, repoID := int64(num(p.data()["connection_id"])), int64(num(p.data()["repository_id"]))

	r := b.call(t, "GET", v3Path("projects/%d/connections/", DemoProjectID), nil)
	wantCode(t, r, 200)
	if got := ids(r.list()); !slices.Equal(got, []int64{connID}) {
		t.Errorf("connections = %v, want [%d]", got, connID)
	}
	r = b.call(t, "GET", v3Path("projects/%d/connections/%d/", DemoProjectID, connID), nil)
	wantCode(t, r, 200)
	if r.data()["type"] != "adapter" || num(r.data()["project_id"]) != DemoProjectID {
		t.Errorf("connection = %v", r.data())
	}
	// The details are dbt-duckdb's profile, with the file a DuckDB client would open, and the project answer
	// carries the same connection.
	if d, _ := r.data()["details"].(map[string]any); d["adapter_type"] != "duckdb" || d["path"] != "jaffle_shop.duckdb" || d["database"] != "jaffle_shop" {
		t.Errorf("connection details = %v", r.data()["details"])
	}
	if pc, _ := p.data()["connection"].(map[string]any); fmt.Sprint(pc["details"]) != fmt.Sprint(r.data()["details"]) {
		t.Errorf("project's connection %v, connection %v", pc, r.data())
	}
	r = b.call(t, "GET", v3Path("projects/%d/repositories/%d/", DemoProjectID, repoID), nil)
	wantCode(t, r, 200)
	dk, _ := r.data()["deploy_key"].(map[string]any)
	if r.data()["remote_backend"] != "manual_config" || !strings.HasPrefix(fmt.Sprint(dk["public_key"]), "ssh-ed25519 ") {
		t.Errorf("repository = %v", r.data())
	}
	r = b.call(t, "GET", v3Path("projects/%d/repositories/", DemoProjectID), nil)
	wantCode(t, r, 200)
	if got := ids(r.list()); !slices.Equal(got, []int64{repoID}) {
		t.Errorf("repositories = %v", got)
	}
	// Another project's connection and repository are not this project's.
	wantCode(t, b.call(t, "GET", v3Path("projects/%d/connections/%d/", DemoLegacyProjectID, connID), nil), 404)
	wantCode(t, b.call(t, "GET", v3Path("projects/%d/repositories/%d/", DemoLegacyProjectID, repoID), nil), 404)
	wantCode(t, b.callAs(t, "Token "+DemoJobRunnerToken, "GET", v3Path("projects/%d/connections/", DemoProjectID), nil), 403)
}

func TestTrailingSlashRedirect(t *testing.T) {
	b := setup(t)
	noFollow := &http.Client{Transport: b.srv.Client().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := []struct {
		method, path string
		code         int
		location     string
	}{
		{"GET", acctPath("jobs/%d", DemoDailyJobID), 301, acctPath("jobs/%d/", DemoDailyJobID)},
		{"GET", acctPath("runs") + "?order_by=-id&limit=2", 301, acctPath("runs/") + "?order_by=-id&limit=2"},
		{"HEAD", "/api/v3/accounts/1/projects", 301, "/api/v3/accounts/1/projects/"},
		{"GET", "/api/v2/whoami", 301, "/api/v2/whoami/"},
		{"GET", acctPath("runs/5/artifacts"), 301, acctPath("runs/5/artifacts/")},
		// A route as it is, and a path with no slashed route, are not redirected.
		{"GET", "/api/v3/accounts/1/webhooks/subscriptions", 200, ""},
		{"GET", "/api/v2/accounts/1/widgets", 404, ""},
		{"POST", acctPath("jobs/%d/run", DemoDailyJobID), 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), tt.method, b.srv.URL+tt.path, nil)
			if tt.code != 301 { // the redirect needs no token, as Django's middleware runs before authentication
				req.Header.Set("Authorization", "Token "+DemoToken)
			}
			resp, err := noFollow.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body bytes.Buffer
			_, _ = body.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.code {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.code)
			}
			if tt.code != 301 {
				return
			}
			if got := resp.Header.Get("Location"); got != tt.location {
				t.Errorf("Location = %q, want %q", got, tt.location)
			}
			if body.Len() != 0 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
				t.Errorf("body %q, Content-Type %q: want Django's empty text/html redirect", body.String(), resp.Header.Get("Content-Type"))
			}
		})
	}
	// A real artifact path is served, not redirected.
	run := b.trigger(t, DemoDailyJobID, nil)
	b.srv.Advance(10 * time.Minute)
	wantCode(t, b.call(t, "GET", acctPath("runs/%d/artifacts/manifest.json", run), nil), 200)
}

// syncBuffer is a log sink the handler writes from server goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRequestLogHasQuery(t *testing.T) {
	var buf syncBuffer
	b := setup(t, func(o *Options) { o.Logger = slog.New(slog.NewTextHandler(&buf, nil)) })
	wantCode(t, b.call(t, "GET", acctPath("runs/?status__in=[10,20]&order_by=-id"), nil), 200)
	log := buf.String()
	if !strings.Contains(log, `query="status__in=[10,20]&order_by=-id"`) || strings.Contains(log, DemoToken) {
		t.Errorf("request log = %q: want the query string and never the token", log)
	}
}
