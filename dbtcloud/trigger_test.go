package dbtcloud

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unicode/utf8"
)

func TestTriggerMarker(t *testing.T) {
	t.Parallel()
	const m = "0123456789abcdef"
	tests := []struct {
		cause string
		want  string
	}{
		{"nightly", "nightly [dbtlink:" + m + "]"},
		{"", " [dbtlink:" + m + "]"},
		{strings.Repeat("x", 300), strings.Repeat("x", 255-27) + " [dbtlink:" + m + "]"},
		{strings.Repeat("é", 240), strings.Repeat("é", 255-27) + " [dbtlink:" + m + "]"},
	}
	for _, tt := range tests {
		got := AddTriggerMarker(tt.cause, m)
		if got != tt.want {
			t.Errorf("AddTriggerMarker(%.10q...) = %q, want %q", tt.cause, got, tt.want)
		}
		if n := utf8.RuneCountInString(got); n > 255 || !utf8.ValidString(got) {
			t.Errorf("result has %d chars (valid UTF-8: %v)", n, utf8.ValidString(got))
		}
		if x, ok := ExtractTriggerMarker(got); !ok || x != m {
			t.Errorf("ExtractTriggerMarker(%q) = %q, %v", got, x, ok)
		}
	}
	for _, c := range []string{"", "nightly", "x [dbtlink:xyz]", "x [dbtlink:0123456789abcdeg]", "x [dbtlink:0123456789abcdef] trailing"} {
		if x, ok := ExtractTriggerMarker(c); ok {
			t.Errorf("ExtractTriggerMarker(%q) = %q, want none", c, x)
		}
	}
}

// fakeJobRuns is a tiny dbt Cloud stand-in for one job's runs.
type fakeJobRuns struct {
	t        *testing.T
	mu       sync.Mutex
	posts    []string // causes received
	runs     []map[string]any
	nextID   int
	onPost   func(n int, w http.ResponseWriter, create func() map[string]any) // n is 1-based
	listFail bool
}

func (f *fakeJobRuns) install(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v2/accounts/1/jobs/5/run/{$}", func(w http.ResponseWriter, r *http.Request) {
		var body TriggerRunRequest
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			f.t.Errorf("trigger body: %v", err)
		}
		f.mu.Lock()
		f.posts = append(f.posts, body.Cause)
		n := len(f.posts)
		f.mu.Unlock()
		create := func() map[string]any {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.nextID++
			run := map[string]any{
				"id": 1000 + f.nextID, "job_definition_id": 5, "status": 1,
				"created_at": "2026-01-02 03:04:06.000000+00:00",
				"trigger":    map[string]any{"cause": body.Cause},
			}
			f.runs = append([]map[string]any{run}, f.runs...) // newest first
			return run
		}
		f.onPost(n, w, create)
	})
	mux.HandleFunc("GET /api/v2/accounts/1/runs/{$}", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("job_definition_id") != "5" || q.Get("order_by") != "-id" || !strings.Contains(q.Get("include_related"), "trigger") {
			f.t.Errorf("lookup query %v", q)
		}
		if f.listFail {
			writeError(w, 403, "no")
			return
		}
		f.mu.Lock()
		runs := append([]map[string]any{
			// An older run of another trigger, to be skipped.
		}, f.runs...)
		runs = append(runs, map[string]any{"id": 900, "job_definition_id": 5, "status": 10,
			"created_at": "2025-12-01 00:00:00+00:00", "trigger": map[string]any{"cause": "old [dbtlink:aaaaaaaaaaaaaaaa]"}})
		f.mu.Unlock()
		writeJSON(w, 200, runs, &Pagination{Count: len(runs), TotalCount: len(runs)})
	})
}

func (f *fakeJobRuns) postCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.posts)
}

func TestTriggerUnknownOutcomeFindsCreatedRun(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := &fakeJobRuns{t: t, onPost: func(n int, w http.ResponseWriter, create func() map[string]any) {
		create()             // the server accepted the run...
		hijackAndClose(t, w) // ...but the answer never arrives
	}}
	f.install(b.mux)
	run, _, err := b.client.Runs.Trigger(t.Context(), 1, 5, &TriggerRunRequest{Cause: "deploy"})
	if err != nil {
		t.Fatalf("Trigger: %v", err)
	}
	if run.ID != 1001 {
		t.Errorf("run id = %d, want 1001 (the one created)", run.ID)
	}
	if n := f.postCount(); n != 1 {
		t.Errorf("POSTs = %d, want 1: a second run must not be created", n)
	}
	if m, ok := ExtractTriggerMarker(run.Trigger.Cause); !ok || !strings.HasPrefix(run.Trigger.Cause, "deploy [dbtlink:"+m) {
		t.Errorf("cause %q", run.Trigger.Cause)
	}
}

func TestTriggerRetriesWhenLookupFindsNone(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := &fakeJobRuns{t: t, onPost: func(n int, w http.ResponseWriter, create func() map[string]any) {
		if n == 1 {
			writeError(w, 503, "try later") // nothing created
			return
		}
		writeJSON(w, 200, create(), nil)
	}}
	f.install(b.mux)
	run, _, err := b.client.Runs.Trigger(t.Context(), 1, 5, nil)
	if err != nil {
		t.Fatalf("Trigger: %v", err)
	}
	if run.ID != 1001 || f.postCount() != 2 {
		t.Errorf("run %d after %d POSTs, want 1001 after 2", run.ID, f.postCount())
	}
	if f.posts[0] != f.posts[1] || !strings.HasPrefix(f.posts[0], DefaultTriggerCause+" [dbtlink:") {
		t.Errorf("causes %q, want the same marked default cause twice", f.posts)
	}
}

func TestTriggerUnknownOutcomeLookupFails(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := &fakeJobRuns{t: t, listFail: true, onPost: func(n int, w http.ResponseWriter, create func() map[string]any) {
		hijackAndClose(t, w)
	}}
	f.install(b.mux)
	_, _, err := b.client.Runs.Trigger(t.Context(), 1, 5, nil)
	if !errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("err = %v, want ErrOutcomeUnknown", err)
	}
	if f.postCount() != 1 {
		t.Errorf("POSTs = %d, want 1", f.postCount())
	}
}

func TestTriggerFinalAndRateLimited(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := &fakeJobRuns{t: t, onPost: func(n int, w http.ResponseWriter, create func() map[string]any) {
		switch n {
		case 1:
			w.Header().Set("Retry-After", "2")
			writeError(w, 429, "slow down")
		case 2:
			writeJSON(w, 200, create(), nil)
		}
	}}
	f.install(b.mux)
	run, _, err := b.client.Runs.Trigger(t.Context(), 1, 5, nil)
	if err != nil || run.ID != 1001 {
		t.Fatalf("Trigger = %+v, %v", run, err)
	}
	if s := b.clock.Sleeps(); len(s) != 1 || s[0].Seconds() != 2 {
		t.Errorf("sleeps %v, want the Retry-After of 2s", s)
	}

	b2 := setup(t)
	f2 := &fakeJobRuns{t: t, onPost: func(n int, w http.ResponseWriter, create func() map[string]any) {
		writeError(w, 400, "The job is deactivated.")
	}}
	f2.install(b2.mux)
	_, _, err = b2.client.Runs.Trigger(t.Context(), 1, 5, nil)
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 400 || errors.Is(err, ErrOutcomeUnknown) || f2.postCount() != 1 {
		t.Errorf("err = %v after %d POSTs, want a final 400 after 1", err, f2.postCount())
	}
}

func TestRerunAndRetryNotRepeatedOnUnknownOutcome(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var mu sync.Mutex
	calls := map[string]int{}
	for _, p := range []string{"POST /api/v2/accounts/1/jobs/5/rerun/{$}", "POST /api/v2/accounts/1/runs/6/retry/{$}"} {
		b.mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			calls[r.URL.Path]++
			mu.Unlock()
			hijackAndClose(t, w)
		})
	}
	_, _, err := b.client.Jobs.Rerun(t.Context(), 1, 5)
	if !errors.Is(err, ErrOutcomeUnknown) {
		t.Errorf("Rerun err = %v, want ErrOutcomeUnknown", err)
	}
	_, _, err = b.client.Runs.Retry(t.Context(), 1, 6)
	if !errors.Is(err, ErrOutcomeUnknown) {
		t.Errorf("Retry err = %v, want ErrOutcomeUnknown", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 2 {
		t.Errorf("calls = %v, want both endpoints", calls)
	}
	for p, n := range calls {
		if n != 1 {
			t.Errorf("%s called %d times, want 1", p, n)
		}
	}
}

func TestTriggerContextCancelledAfterSend(t *testing.T) {
	t.Parallel()
	b := setup(t)
	started := make(chan struct{})
	b.mux.HandleFunc("POST /api/v2/accounts/1/jobs/5/run/{$}", func(w http.ResponseWriter, r *http.Request) {
		// Read the body first: only then does the server notice the client
		// hanging up and cancel r.Context().
		_, _ = io.ReadAll(r.Body)
		close(started)
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-started
		cancel()
	}()
	_, _, err := b.client.Runs.Trigger(ctx, 1, 5, nil)
	if !errors.Is(err, ErrOutcomeUnknown) || !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want both ErrOutcomeUnknown and context.Canceled", err)
	}
}

func TestTriggerLookupWithoutTriggersIsUnsure(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var posts atomic.Int32
	b.mux.HandleFunc("POST /api/v2/accounts/1/jobs/5/run/{$}", func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		writeError(w, 500, "oops")
	})
	b.mux.HandleFunc("GET /api/v2/accounts/1/runs/{$}", func(w http.ResponseWriter, r *http.Request) {
		// A server that ignores include_related: the causes are unreadable.
		writeJSON(w, 200, []map[string]any{{"id": 7, "created_at": "2026-01-02 03:04:06+00:00"}}, &Pagination{Count: 1, TotalCount: 1})
	})
	_, _, err := b.client.Runs.Trigger(t.Context(), 1, 5, nil)
	if !errors.Is(err, ErrOutcomeUnknown) || posts.Load() != 1 {
		t.Errorf("err = %v after %d POSTs, want ErrOutcomeUnknown after 1", err, posts.Load())
	}
}

func TestTriggerUnreadableAnswerFindsRun(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := &fakeJobRuns{t: t, onPost: func(n int, w http.ResponseWriter, create func() map[string]any) {
		create()
		_, _ = io.WriteString(w, `{"status": {"code": 200}, "data": {"id": "not a number"`)
	}}
	f.install(b.mux)
	run, _, err := b.client.Runs.Trigger(t.Context(), 1, 5, nil)
	if err != nil || run.ID != 1001 || f.postCount() != 1 {
		t.Errorf("Trigger = %+v, %v after %d POSTs; want run 1001 after 1", run, err, f.postCount())
	}
}

func TestMalformedJSONIsNotRetried(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var calls atomic.Int32
	b.mux.HandleFunc("GET /api/v2/accounts/1/runs/2/{$}", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_, _ = io.WriteString(w, `{"data": {"id": "x"}}`)
	})
	_, _, err := b.client.Runs.Get(t.Context(), 1, 2, nil)
	if err == nil || !strings.Contains(err.Error(), "reading response") || calls.Load() != 1 {
		t.Errorf("err = %v after %d calls, want a decode error after 1", err, calls.Load())
	}
}
