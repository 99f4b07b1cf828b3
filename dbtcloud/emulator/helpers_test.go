package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// t0 is the fake clock's start in every test: a fixed instant, so timestamps in answers are predictable.
var t0 = time.Date(2026, 3, 12, 6, 0, 0, 0, time.UTC)

type bundle struct {
	srv   *Server
	clock *FakeClock
}

func setup(t *testing.T, opts ...func(*Options)) *bundle {
	t.Helper()
	clock := NewFakeClock(t0)
	o := Options{Clock: clock, WebhookRetryDelay: time.Millisecond}
	for _, f := range opts {
		f(&o)
	}
	srv, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(srv.Close)
	return &bundle{srv: srv, clock: clock}
}

type reply struct {
	code   int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (b *bundle) call(t *testing.T, method, path string, body any) reply {
	t.Helper()
	return b.callAs(t, "Token "+b.srv.Token, method, path, body)
}

func (b *bundle) callAs(t *testing.T, auth, method, path string, body any) reply {
	t.Helper()
	var rd io.Reader
	if body != nil {
		bs, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(bs)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, b.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := b.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	rp := reply{code: resp.StatusCode, header: resp.Header, raw: raw}
	_ = json.Unmarshal(raw, &rp.body) // artifacts are not envelopes; tests that need them use raw
	return rp
}

func (r reply) data() map[string]any {
	d, _ := r.body["data"].(map[string]any)
	return d
}

func (r reply) list() []any {
	d, _ := r.body["data"].([]any)
	return d
}

func (r reply) userMessage() string {
	s, _ := r.body["status"].(map[string]any)
	m, _ := s["user_message"].(string)
	return m
}

func (r reply) pagination() (count, total int) {
	ex, _ := r.body["extra"].(map[string]any)
	p, _ := ex["pagination"].(map[string]any)
	return int(num(p["count"])), int(num(p["total_count"]))
}

func num(v any) float64 {
	f, _ := v.(float64)
	return f
}

func wantCode(t *testing.T, r reply, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("status = %d, want %d; body: %.600s", r.code, code, r.raw)
	}
}

func acctPath(format string, args ...any) string {
	return fmt.Sprintf("/api/v2/accounts/%d/", DemoAccountID) + fmt.Sprintf(format, args...)
}

// trigger starts a run of job and returns its id.
func (b *bundle) trigger(t *testing.T, jobID int64, body map[string]any) int64 {
	t.Helper()
	if body == nil {
		body = map[string]any{"cause": "test"}
	}
	r := b.call(t, "POST", acctPath("jobs/%d/run/", jobID), body)
	wantCode(t, r, http.StatusOK)
	return int64(num(r.data()["id"]))
}

func (b *bundle) getRun(t *testing.T, id int64, include string) map[string]any {
	t.Helper()
	p := acctPath("runs/%d/", id)
	if include != "" {
		p += "?include_related=" + include
	}
	r := b.call(t, "GET", p, nil)
	wantCode(t, r, http.StatusOK)
	return r.data()
}

func status(run map[string]any) int { return int(num(run["status"])) }

// newLocalServer starts a webhook receiver and returns its URL.
func newLocalServer(t *testing.T, h http.Handler) string {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.URL
}
