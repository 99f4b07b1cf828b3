package dbtcloud

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestErrorsMatchSentinels(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		want   error
	}{
		{401, ErrUnauthorized},
		{403, ErrForbidden},
		{404, ErrNotFound},
		{429, ErrRateLimited},
		{500, ErrServer},
		{503, ErrServer},
	}
	for _, tt := range tests {
		b := setup(t, WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
		b.mux.HandleFunc("GET /api/v2/accounts/1/runs/2/{$}", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Request-Id", "req-42")
			writeError(w, tt.status, "Something went wrong.")
		})
		_, _, err := b.client.Runs.Get(t.Context(), 1, 2, nil)
		if !errors.Is(err, tt.want) {
			t.Errorf("%d: error %v does not match %v", tt.status, err, tt.want)
		}
		var ae *APIError
		if !errors.As(err, &ae) {
			t.Fatalf("%d: not an *APIError: %v", tt.status, err)
		}
		if ae.StatusCode != tt.status || ae.UserMessage != "Something went wrong." || ae.RequestID != "req-42" || ae.Method != "GET" ||
			!strings.HasSuffix(ae.URL, "/api/v2/accounts/1/runs/2/") || len(ae.Body) == 0 {
			t.Errorf("%d: APIError = %+v", tt.status, ae)
		}
		for _, other := range []error{ErrUnauthorized, ErrForbidden, ErrNotFound, ErrRateLimited, ErrServer} {
			if other != tt.want && errors.Is(err, other) {
				t.Errorf("%d: also matches %v", tt.status, other)
			}
		}
		if strings.Contains(err.Error(), testToken) {
			t.Errorf("error leaks the token: %v", err)
		}
	}
}

func TestErrorBodyIsBounded(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.mux.HandleFunc("GET /api/v2/accounts/1/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write(make([]byte, 3<<20))
	})
	_, _, err := b.client.Accounts.Get(t.Context(), 1)
	var ae *APIError
	if !errors.As(err, &ae) || len(ae.Body) != maxErrorBody {
		t.Fatalf("err %v, body %d bytes; want an APIError with 1 MiB of body", err, len(ae.Body))
	}
}

func TestRetryOn429ThenServerErrorThenSuccess(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var calls atomic.Int32
	b.mux.HandleFunc("GET /api/v2/accounts/1/runs/2/{$}", func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			w.Header().Set("Retry-After", "3")
			writeError(w, 429, "slow down")
		case 2:
			w.Header().Set("Retry-After", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
			writeError(w, 503, "unavailable")
		default:
			writeJSON(w, 200, map[string]any{"id": 2, "status": 3}, nil)
		}
	})
	run, _, err := b.client.Runs.Get(t.Context(), 1, 2, nil)
	if err != nil || run.Status != RunStatusRunning {
		t.Fatalf("Get = %+v, %v", run, err)
	}
	if calls.Load() != 3 {
		t.Errorf("calls = %d, want 3", calls.Load())
	}
	// The first wait is the Retry-After; the second is an hour-long
	// Retry-After date, capped at MaxBackoff (5s in setup).
	sleeps := b.clock.Sleeps()
	if len(sleeps) != 2 || sleeps[0] != 3*time.Second || sleeps[1] != 5*time.Second {
		t.Errorf("sleeps = %v, want [3s 5s]", sleeps)
	}
}

func TestRetryGivesUpWithinMaxElapsed(t *testing.T) {
	t.Parallel()
	b := setup(t, WithRetryPolicy(RetryPolicy{MaxAttempts: 100, MinBackoff: time.Second, MaxBackoff: 4 * time.Second, MaxElapsed: 10 * time.Second}))
	var calls atomic.Int32
	b.mux.HandleFunc("GET /api/v2/accounts/1/jobs/5/{$}", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		writeError(w, 502, "bad gateway")
	})
	_, _, err := b.client.Jobs.Get(t.Context(), 1, 5)
	if !errors.Is(err, ErrServer) || !strings.Contains(err.Error(), "giving up") {
		t.Fatalf("err = %v, want a give-up wrapping ErrServer", err)
	}
	var total time.Duration
	for _, s := range b.clock.Sleeps() {
		total += s
	}
	if total > 10*time.Second {
		t.Errorf("slept %s in total, more than MaxElapsed", total)
	}
	if n := calls.Load(); n < 3 || n > 10 {
		t.Errorf("calls = %d, want a handful", n)
	}
}

func TestRetryMaxAttemptsAndFinal4xx(t *testing.T) {
	t.Parallel()
	b := setup(t) // MaxAttempts 4
	var calls, calls404 atomic.Int32
	b.mux.HandleFunc("GET /api/v2/accounts/1/jobs/5/{$}", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		writeError(w, 500, "boom")
	})
	b.mux.HandleFunc("GET /api/v2/accounts/1/jobs/6/{$}", func(w http.ResponseWriter, r *http.Request) {
		calls404.Add(1)
		writeError(w, 404, "nope")
	})
	if _, _, err := b.client.Jobs.Get(t.Context(), 1, 5); !errors.Is(err, ErrServer) {
		t.Errorf("err = %v", err)
	}
	if calls.Load() != 4 {
		t.Errorf("5xx calls = %d, want MaxAttempts 4", calls.Load())
	}
	if _, _, err := b.client.Jobs.Get(t.Context(), 1, 6); !errors.Is(err, ErrNotFound) {
		t.Errorf("err = %v", err)
	}
	if calls404.Load() != 1 {
		t.Errorf("404 calls = %d, want 1 (not retried)", calls404.Load())
	}
}

func TestRetryOnTransportError(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var calls atomic.Int32
	b.mux.HandleFunc("POST /api/v2/accounts/1/runs/2/cancel/{$}", func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			hijackAndClose(t, w)
			return
		}
		writeJSON(w, 200, map[string]any{"id": 2, "status": 30}, nil)
	})
	run, _, err := b.client.Runs.Cancel(t.Context(), 1, 2)
	if err != nil || run.Status != RunStatusCancelled || calls.Load() != 2 {
		t.Fatalf("Cancel = %+v, %v after %d calls", run, err, calls.Load())
	}
}

func TestContextCancelled(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, _, err := b.client.Accounts.Get(ctx, 1) // the catch-all fails the test if it is sent
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestPerRequestTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	b := setup(t, WithTimeout(50*time.Millisecond), WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
	t.Cleanup(func() { close(release) })
	b.mux.HandleFunc("GET /api/v2/accounts/1/{$}", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	_, _, err := b.client.Accounts.Get(t.Context(), 1)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("err = %v, want a timeout", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"7", 7 * time.Second},
		{"-1", 0},
		{"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestRateLimiterPerAccount(t *testing.T) {
	t.Parallel()
	b := setup(t, WithRateLimit(60)) // one per second, burst 1
	for _, p := range []string{"GET /api/v2/accounts/1/{$}", "GET /api/v2/accounts/2/{$}"} {
		b.mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]any{"id": 1}, nil) })
	}
	// Account 2's call comes right after account 1's first, at the same
	// fake instant: it must not wait, as it has its own bucket. Account 1's
	// second and third calls each wait about a second.
	for _, acct := range []int64{1, 2, 1, 1} {
		if _, _, err := b.client.Accounts.Get(t.Context(), acct); err != nil {
			t.Fatal(err)
		}
	}
	sleeps := b.clock.Sleeps()
	if len(sleeps) != 2 {
		t.Fatalf("sleeps = %v, want two limiter waits", sleeps)
	}
	for _, s := range sleeps {
		if s < 900*time.Millisecond || s > time.Second {
			t.Errorf("limiter wait %s, want about 1s", s)
		}
	}
}

// hijackAndClose drops the connection without answering.
func hijackAndClose(t *testing.T, w http.ResponseWriter) {
	t.Helper()
	hj, ok := w.(http.Hijacker)
	if !ok {
		t.Fatal("response writer cannot hijack")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.Close()
}

func TestNonJSONErrorKeepsResponseAndSnippet(t *testing.T) {
	t.Parallel()
	b := setup(t, WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
	b.mux.HandleFunc("GET /api/v2/accounts/1/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html>\n  <body>Bad   Gateway</body>\n</html>"))
	})
	_, resp, err := b.client.Accounts.Get(t.Context(), 1)
	if resp == nil || resp.StatusCode != http.StatusBadGateway {
		t.Errorf("resp = %v, want the 502 response", resp)
	}
	if err == nil || !strings.Contains(err.Error(), "<html> <body>Bad Gateway</body> </html>") {
		t.Errorf("err = %v, want the body snippet on one line", err)
	}
}

// roundTripFunc lets a test stand in for the network.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestErrorFromTransportWithoutRequest: a RoundTripper given through
// WithTransport may answer without setting Response.Request (net/http does
// not fill it in); the error must still name the URL instead of panicking.
func TestErrorFromTransportWithoutRequest(t *testing.T) {
	t.Parallel()
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{
			StatusCode: http.StatusNotFound,
			Header:     http.Header{},
			Body:       io.NopCloser(strings.NewReader(`{"status": {"code": 404, "user_message": "gone"}}`)),
		}, nil
	})
	c, err := NewClient("cloud.getdbt.com", testToken, WithTransport(rt), WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		t.Fatal(err)
	}
	_, resp, err := c.Accounts.Get(t.Context(), 7)
	var ae *APIError
	if !errors.As(err, &ae) || ae.URL != "https://cloud.getdbt.com/api/v2/accounts/7/" {
		t.Fatalf("err = %v, want an *APIError naming the request URL", err)
	}
	if resp == nil || resp.Request == nil {
		t.Errorf("resp = %+v, want the response with its request", resp)
	}
}
