package dbtcloud

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const testToken = "s3cr3t-t0ken"

// fakeClock advances only when something sleeps, so retry and rate-limit
// waits cost no real time.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
	f.sleeps = append(f.sleeps, d)
	return nil
}

func (f *fakeClock) Sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}

type testBundle struct {
	client *Client
	mux    *http.ServeMux
	server *httptest.Server
	clock  *fakeClock
}

// setup starts a test server whose catch-all fails the test, and a client
// with a fake clock and a quick retry policy.
func setup(t *testing.T, opts ...Option) *testBundle {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL)
		http.Error(w, "unexpected", http.StatusTeapot)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	clock := newFakeClock()
	all := append([]Option{
		WithClock(clock.Now, clock.Sleep),
		WithRetryPolicy(RetryPolicy{MaxAttempts: 4, MinBackoff: 100 * time.Millisecond, MaxBackoff: 5 * time.Second, MaxElapsed: 30 * time.Second}),
		WithHTTPClient(srv.Client()),
	}, opts...)
	c, err := NewClient(srv.URL, testToken, all...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return &testBundle{client: c, mux: mux, server: srv, clock: clock}
}

func recorded(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "recorded", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// serveFile answers with a recorded response.
func serveFile(t *testing.T, name string) http.HandlerFunc {
	body := recorded(t, name)
	return func(w http.ResponseWriter, r *http.Request) {
		checkAuth(t, r)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}
}

func checkAuth(t *testing.T, r *http.Request) {
	t.Helper()
	if got := r.Header.Get("Authorization"); got != "Token "+testToken {
		t.Errorf("Authorization = %q, want the token header", got)
	}
	if ua := r.Header.Get("User-Agent"); ua == "" {
		t.Error("missing User-Agent")
	}
}

func checkQuery(t *testing.T, r *http.Request, want url.Values) {
	t.Helper()
	got := r.URL.Query()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s %s query (-want +got):\n%s", r.Method, r.URL.Path, diff)
	}
}

func checkJSONBody(t *testing.T, r *http.Request, want map[string]any) {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("body %q: %v", b, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s %s body (-want +got):\n%s", r.Method, r.URL.Path, diff)
	}
}

// writeJSON writes a success envelope around data.
func writeJSON(w http.ResponseWriter, status int, data any, pagination *Pagination) {
	env := map[string]any{
		"status": map[string]any{"code": status, "is_success": status < 300, "user_message": "Success!", "developer_message": ""},
		"data":   data,
	}
	if pagination != nil {
		env["extra"] = map[string]any{"pagination": pagination}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(env)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"status": map[string]any{"code": status, "is_success": false, "user_message": msg, "developer_message": nil},
		"data":   nil,
	})
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

func cmpDiff(want, got any) string { return cmp.Diff(want, got) }
