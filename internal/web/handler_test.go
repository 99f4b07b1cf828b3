package web

import (
	"context"
	"crypto/sha256"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/internal/catalog"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/tracker"
)

// fakeCatalog serves one table, "orders", with a failing test on its
// column "id", and its upstream "stg_orders".
type fakeCatalog struct {
	lineage *catalog.LineageView
}

var ordersTable = catalog.TableSummary{ID: 7, Warehouse: "wh", Database: "db", Schema: "main", Name: "orders", Kind: "table", Owner: "data team"}

func (f *fakeCatalog) Search(ctx context.Context, p store.SearchParams) ([]catalog.SearchResult, error) {
	if !strings.Contains("orders", strings.ToLower(p.Query)) {
		return nil, nil
	}
	t := ordersTable
	return []catalog.SearchResult{{Kind: "table", Table: &t, Field: "name", Snippet: "orders"}}, nil
}

func (f *fakeCatalog) ListTables(ctx context.Context, p store.ListTablesParams) ([]catalog.TableSummary, error) {
	return []catalog.TableSummary{ordersTable}, nil
}

func (f *fakeCatalog) Table(ctx context.Context, ref string) (*catalog.TableDetail, error) {
	if ref != "7" && ref != "orders" {
		return nil, fmt.Errorf("no table %q: %w", ref, store.ErrNotFound)
	}
	ts := ordersTable
	ts.Description = "Orders <script>alert(1)</script> **bold** <a href=\"javascript:alert(2)\" onclick=\"x()\">link</a>"
	return &catalog.TableDetail{
		TableSummary: ts,
		Columns:      []catalog.ColumnDetail{{Name: "id", DataType: "bigint", Tests: []string{"unique: fail"}}},
		Models: []catalog.NodeDetail{{Scope: "s", UniqueID: "model.p.orders", ResourceType: "model", Name: "orders",
			Description: "Orders <script>alert(1)</script> **bold** <a href=\"javascript:alert(2)\" onclick=\"x()\">link</a>",
			CompiledSQL: "select 'it''s' as x, 42 from {{ ref('stg') }} -- <b>note</b>"}},
		Tests: []catalog.TestRow{{Scope: "s", UniqueID: "test.p.unique_orders_id", Name: "unique_orders_id", Column: "id", Status: "fail"}},
	}, nil
}

func (f *fakeCatalog) Lineage(ctx context.Context, ref string, dir catalog.Direction, depth int) (*catalog.LineageView, error) {
	if f.lineage != nil {
		return f.lineage, nil
	}
	return &catalog.LineageView{Start: "table:7",
		Vertices: []catalog.LineageItem{
			{LineageVertex: catalog.LineageVertex{Key: "table:7", TableID: 7}, Name: "db.main.orders", ResourceType: "model"},
			{LineageVertex: catalog.LineageVertex{Key: "table:8", TableID: 8, Depth: -1}, Name: "db.main.stg_orders", ResourceType: "model"},
		},
		Edges: []catalog.LineageEdge{{Parent: "table:8", Child: "table:7"}}}, nil
}

func (f *fakeCatalog) Tests(ctx context.Context, q catalog.TestQuery) ([]catalog.TestRow, error) {
	return []catalog.TestRow{{Scope: "s", UniqueID: "test.p.unique_orders_id", Name: "unique_orders_id", Column: "id", Status: "fail", TableID: 7, Table: "db.main.orders"}}, nil
}

func (f *fakeCatalog) TestHistory(ctx context.Context, scopeKey, uniqueID string, limit int) ([]catalog.TestResultRow, error) {
	return []catalog.TestResultRow{{RunID: 1, Status: "fail"}}, nil
}

func (f *fakeCatalog) SchemaCounts(ctx context.Context) ([]catalog.SchemaCount, error) {
	return []catalog.SchemaCount{{Warehouse: "wh", Database: "db", Schema: "main", Tables: 2, Failing: 1}}, nil
}

func (f *fakeCatalog) Syncs(ctx context.Context) ([]catalog.SyncStatus, error) { return nil, nil }

func (f *fakeCatalog) ListWarehouses(ctx context.Context) ([]catalog.WarehouseView, error) {
	return nil, nil
}

// fakeRuns is a tracker with one job and runs whose state WaitRun moves
// along states.
type fakeRuns struct {
	mu      sync.Mutex
	runs    map[int64]store.Run
	states  []store.RunState // what WaitRun moves a run through
	created []tracker.RunRequest
}

func newFakeRuns() *fakeRuns {
	return &fakeRuns{runs: map[int64]store.Run{1: {ID: 1, JobID: 301, Connection: "emu", State: store.RunRunning}}}
}

func (f *fakeRuns) ListConnections(ctx context.Context) ([]store.Connection, error) {
	return []store.Connection{{Name: "emu"}}, nil
}

func (f *fakeRuns) ListJobs(ctx context.Context, conn string, opts *dbtcloud.JobListOptions) ([]dbtcloud.Job, error) {
	return []dbtcloud.Job{{ID: 301, Name: "daily build"}}, nil
}

func (f *fakeRuns) CreateRun(ctx context.Context, req tracker.RunRequest) (store.Run, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.created = append(f.created, req)
	r := store.Run{ID: int64(len(f.runs) + 1), JobID: req.JobID, State: store.RunPending}
	f.runs[r.ID] = r
	return r, nil
}

func (f *fakeRuns) GetRun(ctx context.Context, id int64) (store.Run, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.runs[id]
	if !ok {
		return store.Run{}, fmt.Errorf("run %d: %w", id, store.ErrNotFound)
	}
	return r, nil
}

func (f *fakeRuns) WaitRun(ctx context.Context, id int64, d time.Duration) (store.Run, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.runs[id]
	if len(f.states) > 0 {
		r.State, f.states = f.states[0], f.states[1:]
		f.runs[id] = r
	}
	return r, nil
}

func (f *fakeRuns) ListRuns(ctx context.Context, flt store.RunFilter) ([]store.Run, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.Run
	for _, r := range f.runs {
		out = append(out, r)
	}
	return out, nil
}

func (f *fakeRuns) CancelRun(ctx context.Context, id int64) (store.Run, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.runs[id]
	if r.State.Terminal() {
		return r, fmt.Errorf("run %d has ended: %w", id, tracker.ErrConflict)
	}
	r.State = store.RunCancelled
	f.runs[id] = r
	return r, nil
}

// fakeTokens holds tokens by plain text; hash is sha256 as the server's.
type fakeTokens struct {
	mu     sync.Mutex
	tokens map[string]store.APIToken
}

func hashToken(plain string) []byte { s := sha256.Sum256([]byte(plain)); return s[:] }

func (f *fakeTokens) APITokenByHash(ctx context.Context, hash []byte) (store.APIToken, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tokens[string(hash)]
	if !ok {
		return store.APIToken{}, store.ErrNotFound
	}
	return t, nil
}

func (f *fakeTokens) revoke(plain string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tokens[string(hashToken(plain))]
	t.RevokedAt = time.Now()
	f.tokens[string(hashToken(plain))] = t
}

const (
	readToken  = "dbtl_read-token-for-tests"
	writeToken = "dbtl_write-token-for-tests"
)

type bench struct {
	h      *Handler
	ts     *httptest.Server
	runs   *fakeRuns
	tokens *fakeTokens
}

func newBench(t *testing.T, tls bool) *bench {
	t.Helper()
	b := &bench{runs: newFakeRuns(), tokens: &fakeTokens{tokens: map[string]store.APIToken{
		string(hashToken(readToken)):  {ID: 1, Name: "reader", Scope: store.ScopeRead},
		string(hashToken(writeToken)): {ID: 2, Name: "writer", Scope: store.ScopeWrite},
	}}}
	h, err := New(Config{Catalog: &fakeCatalog{}, Runs: b.runs, Tokens: b.tokens, HashToken: hashToken, Logger: slog.New(slog.DiscardHandler), LiveTick: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	b.h = h
	if tls {
		b.ts = httptest.NewTLSServer(h)
	} else {
		b.ts = httptest.NewServer(h)
	}
	t.Cleanup(b.ts.Close)
	return b
}

// client is a browser-like client: a cookie jar, no redirects followed.
func (b *bench) client(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	c := b.ts.Client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

func httpGet(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

func httpPost(t *testing.T, c *http.Client, u string, form url.Values, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// logIn logs c in with token and returns the session's CSRF token.
func (b *bench) logIn(t *testing.T, c *http.Client, token string) string {
	t.Helper()
	_, body := httpGet(t, c, b.ts.URL+"/login")
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("login page has no CSRF field:\n%s", body)
	}
	resp, body := httpPost(t, c, b.ts.URL+"/login", url.Values{"csrf": {m[1]}, "token": {token}, "next": {"/runs"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/runs" {
		t.Fatalf("login: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	_, body = httpGet(t, c, b.ts.URL+"/runs")
	m = csrfInput.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("runs page has no CSRF field:\n%s", body)
	}
	return html.UnescapeString(m[1])
}

func TestSessionCookies(t *testing.T) {
	for _, tls := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", tls), func(t *testing.T) {
			b := newBench(t, tls)
			c := b.client(t)
			_, body := httpGet(t, c, b.ts.URL+"/login")
			m := csrfInput.FindStringSubmatch(body)
			resp, _ := httpPost(t, c, b.ts.URL+"/login", url.Values{"csrf": {m[1]}, "token": {readToken}})
			var sc *http.Cookie
			for _, ck := range resp.Cookies() {
				if ck.Name == sessionCookie {
					sc = ck
				}
			}
			if sc == nil {
				t.Fatalf("no session cookie: %v", resp.Header["Set-Cookie"])
			}
			if !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Secure != tls {
				t.Errorf("session cookie HttpOnly=%v SameSite=%v Secure=%v, want true, Lax, %v", sc.HttpOnly, sc.SameSite, sc.Secure, tls)
			}
			if strings.Contains(sc.Value, readToken) || strings.Contains(sc.Value, "read-token") {
				t.Errorf("the session cookie carries the token")
			}
		})
	}
}

func TestLoginRefusals(t *testing.T) {
	b := newBench(t, false)
	tests := []struct {
		name, token string
		csrf        bool
		status      int
		want        string
	}{
		{"no csrf", readToken, false, 403, "out of date"},
		{"empty", "", true, 400, "Paste an API token"},
		{"dbt Cloud token", "dbtc_abc", true, 401, "not a dbtlink API token"},
		{"unknown", "dbtl_nope", true, 401, "Unknown token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := b.client(t)
			_, body := httpGet(t, c, b.ts.URL+"/login")
			form := url.Values{"token": {tt.token}}
			if tt.csrf {
				form.Set("csrf", csrfInput.FindStringSubmatch(body)[1])
			}
			resp, body := httpPost(t, c, b.ts.URL+"/login", form)
			if resp.StatusCode != tt.status || !strings.Contains(body, tt.want) {
				t.Fatalf("status %d, want %d with %q:\n%s", resp.StatusCode, tt.status, tt.want, body)
			}
		})
	}
}

func TestCSRFAndScopes(t *testing.T) {
	b := newBench(t, false)
	w := b.client(t)
	csrf := b.logIn(t, w, writeToken)
	trigger := url.Values{"job_id": {"301"}, "connection": {"emu"}}

	if resp, body := httpPost(t, w, b.ts.URL+"/runs", trigger); resp.StatusCode != 403 || !strings.Contains(body, "security token") {
		t.Errorf("POST without CSRF token: %d\n%s", resp.StatusCode, body)
	}
	bad := url.Values{"csrf": {"forged"}, "job_id": {"301"}}
	if resp, _ := httpPost(t, w, b.ts.URL+"/runs", bad); resp.StatusCode != 403 {
		t.Errorf("POST with a wrong CSRF token: %d", resp.StatusCode)
	}
	good := url.Values{"csrf": {csrf}, "job_id": {"301"}, "connection": {"emu"}}
	if resp, _ := httpPost(t, w, b.ts.URL+"/runs", good, "Sec-Fetch-Site", "cross-site"); resp.StatusCode != 403 {
		t.Errorf("cross-site POST: %d", resp.StatusCode)
	}
	if len(b.runs.created) != 0 {
		t.Fatalf("refused POSTs created runs: %+v", b.runs.created)
	}
	resp, _ := httpPost(t, w, b.ts.URL+"/runs", good)
	if resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/runs/") || len(b.runs.created) != 1 || b.runs.created[0].JobID != 301 {
		t.Fatalf("trigger: %d %s %+v", resp.StatusCode, resp.Header.Get("Location"), b.runs.created)
	}
	if resp, _ := httpPost(t, w, b.ts.URL+"/runs/1/cancel", url.Values{"csrf": {csrf}}); resp.StatusCode != 303 {
		t.Errorf("cancel: %d", resp.StatusCode)
	}
	if resp, body := httpPost(t, w, b.ts.URL+"/runs/1/cancel", url.Values{"csrf": {csrf}}); resp.StatusCode != 409 {
		t.Errorf("cancel of an ended run: %d\n%s", resp.StatusCode, body)
	}

	r := b.client(t)
	rcsrf := b.logIn(t, r, readToken)
	resp, body := httpPost(t, r, b.ts.URL+"/runs", url.Values{"csrf": {rcsrf}, "job_id": {"301"}})
	if resp.StatusCode != 403 || !strings.Contains(body, "needs a token with the write scope") {
		t.Errorf("read token trigger: %d\n%s", resp.StatusCode, body)
	}
	if len(b.runs.created) != 1 {
		t.Errorf("a read token created a run")
	}

	// Logging out needs the CSRF token too, then ends the session.
	if resp, _ := httpPost(t, r, b.ts.URL+"/logout", nil); resp.StatusCode != 403 {
		t.Errorf("logout without CSRF: %d", resp.StatusCode)
	}
	if resp, _ := httpPost(t, r, b.ts.URL+"/logout", url.Values{"csrf": {rcsrf}}); resp.StatusCode != 303 {
		t.Errorf("logout: %d", resp.StatusCode)
	}
	if resp, _ := httpGet(t, r, b.ts.URL+"/runs"); resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Errorf("after logout /runs: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}

	// A revoked token ends its sessions at once.
	b.tokens.revoke(writeToken)
	if resp, _ := httpGet(t, w, b.ts.URL+"/runs"); resp.StatusCode != 303 {
		t.Errorf("revoked token's session: %d", resp.StatusCode)
	}
}

var (
	inlineScript = regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`)
	scriptTag    = regexp.MustCompile(`<script[^>]*>`)
	inlineAttr   = regexp.MustCompile(`\s(?:on[a-z]+|style)=`)
)

// TestPagesCSP renders every page and checks the security headers and
// that nothing inline needs the CSP relaxed.
func TestPagesCSP(t *testing.T) {
	b := newBench(t, false)
	c := b.client(t)
	b.logIn(t, c, writeToken)
	for _, p := range []string{"/", "/search?q=orders", "/browse", "/browse/wh", "/browse/wh/db", "/browse/wh/db/main", "/tables/7", "/tables/7/lineage", "/tables/7/columns/id/lineage",
		"/tests/s/test.p.unique_orders_id", "/runs", "/runs/1", "/syncs", "/login", "/nope"} {
		resp, body := httpGet(t, c, b.ts.URL+p)
		if want := 200; p == "/nope" {
			want = 404
			if resp.StatusCode != want {
				t.Errorf("%s: status %d, want %d", p, resp.StatusCode, want)
			}
		} else if p == "/login" {
			// Logged in: sent on.
			if resp.StatusCode != 303 {
				t.Errorf("%s: status %d", p, resp.StatusCode)
			}
			continue
		} else if resp.StatusCode != want {
			t.Errorf("%s: status %d\n%s", p, resp.StatusCode, body)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
			t.Errorf("%s: CSP %q", p, csp)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", p, resp.Header)
		}
		if m := inlineScript.FindString(body); m != "" {
			t.Errorf("%s: inline script %q", p, m)
		}
		for _, tag := range scriptTag.FindAllString(body, -1) {
			if !strings.Contains(tag, `src="/static/`) {
				t.Errorf("%s: script not from /static/: %s", p, tag)
			}
		}
		if m := inlineAttr.FindString(body); m != "" {
			t.Errorf("%s: inline handler or style %q", p, m)
		}
	}
	// The table page: sanitised markdown and escaped, highlighted SQL.
	_, body := httpGet(t, c, b.ts.URL+"/tables/7")
	for _, bad := range []string{"<script>alert", "javascript:", "onclick", "<b>note</b>"} {
		if strings.Contains(body, bad) {
			t.Errorf("table page contains %q", bad)
		}
	}
	for _, want := range []string{"<strong>bold</strong>", `<span class="k">select</span>`, `<span class="s">&#39;it&#39;&#39;s&#39;</span>`, `<span class="j">`, `id="col-id"`, `badge bad">fail<`} {
		if !strings.Contains(body, want) {
			t.Errorf("table page lacks %q", want)
		}
	}
}

func TestStaticAssets(t *testing.T) {
	b := newBench(t, false)
	c := b.client(t)
	u, err := b.h.assets.URL("vendor/htmx.min.js")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^/static/htmx\.min\.[0-9a-f]{12}\.js$`).MatchString(u) {
		t.Fatalf("fingerprinted URL %q", u)
	}
	resp, body := httpGet(t, c, b.ts.URL+u)
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") || len(body) < 10000 {
		t.Fatalf("GET %s: %d %v (%d bytes)", u, resp.StatusCode, resp.Header, len(body))
	}
	req, _ := http.NewRequest("GET", b.ts.URL+u, nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	if r2, err := c.Do(req); err != nil || r2.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET: %v %v", r2, err)
	}
	if resp, _ := httpGet(t, c, b.ts.URL+"/static/htmx.min.js"); resp.StatusCode != 404 {
		t.Errorf("unfingerprinted name: %d", resp.StatusCode)
	}
	// Static files need no session (the login page uses them).
	if _, err := b.h.assets.URL("nope.js"); err == nil {
		t.Error("URL of a missing file: no error")
	}
}

func TestRunEvents(t *testing.T) {
	b := newBench(t, false)
	c := b.client(t)
	b.logIn(t, c, readToken)
	b.runs.states = []store.RunState{store.RunRunning, store.RunRunning, store.RunSuccess}
	resp, body := httpGet(t, c, b.ts.URL+"/runs/1/events")
	if resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
	}
	// Unchanged states are not sent again: running once, then success,
	// then the end.
	events := regexp.MustCompile(`(?m)^event: (\w+)$`).FindAllStringSubmatch(body, -1)
	var names []string
	for _, e := range events {
		names = append(names, e[1])
	}
	if strings.Join(names, ",") != "run,run,end" || !strings.Contains(body, "data: success") {
		t.Fatalf("events %v:\n%s", names, body)
	}
	if strings.Index(body, ">running<") > strings.Index(body, ">success<") {
		t.Errorf("running after success:\n%s", body)
	}
	if resp, _ := httpGet(t, c, b.ts.URL+"/runs/99/events"); resp.StatusCode != 404 {
		t.Errorf("events of an unknown run: %d", resp.StatusCode)
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"": "/", "/runs": "/runs", "/search?q=x": "/search?q=x", "//evil.example/": "/", "/\\evil.example": "/",
		"https://evil.example/": "/", "runs": "/", "/%2F%2Fevil": "/%2F%2Fevil",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHighlightSQLKeepsText(t *testing.T) {
	tags := regexp.MustCompile(`</?span[^>]*>`)
	for _, src := range []string{
		"select a, 'x''y' from t -- c\nwhere b = 1.5 /* d */",
		"{{ config(materialized='table') }}\nselect * from {{ ref('x') }} {% if a %}1{% endif %}",
		"select 'unterminated", "/* open", "{{ open", "sélect café → 'ü'", "a<b>&c",
	} {
		got := html.UnescapeString(tags.ReplaceAllString(string(highlightSQL(src)), ""))
		if got != src {
			t.Errorf("highlightSQL(%q) lost text: %q", src, got)
		}
	}
}

func TestMountErrors(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("New without Runs and Tokens: no error")
	}
	// A catalog-less server shows its catalog pages as an explanation.
	h, err := New(Config{Runs: newFakeRuns(), Tokens: &fakeTokens{tokens: map[string]store.APIToken{string(hashToken(readToken)): {Name: "r", Scope: store.ScopeRead}}}, HashToken: hashToken, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	defer ts.Close()
	b := &bench{h: h, ts: ts}
	c := b.client(t)
	b.logIn(t, c, readToken)
	resp, body := httpGet(t, c, ts.URL+"/search?q=x")
	if resp.StatusCode != 400 || !strings.Contains(body, "has no catalog") {
		t.Errorf("search without a catalog: %d\n%s", resp.StatusCode, body)
	}
}
