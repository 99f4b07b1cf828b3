package dbtcloud

import (
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"
)

// TestRetryNotify: the hook hears of every retry before its wait, with the
// attempt, the policy's bounds, the wait and the error; none after the
// last attempt.
func TestRetryNotify(t *testing.T) {
	t.Parallel()
	var events []RetryEvent
	b := setup(t, WithRetryNotify(func(ev RetryEvent) { events = append(events, ev) }))
	b.mux.HandleFunc("GET /api/v2/accounts/1/jobs/5/{$}", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, 503, "down")
	})
	_, _, err := b.client.Jobs.Get(t.Context(), 1, 5)
	if !errors.Is(err, ErrServer) {
		t.Fatalf("err = %v", err)
	}
	if len(events) != 3 { // 4 attempts in setup's policy
		t.Fatalf("%d events, want 3: %+v", len(events), events)
	}
	var waits []time.Duration
	for i, ev := range events {
		if ev.Attempt != i+1 || ev.MaxAttempts != 4 || ev.MaxElapsed != 30*time.Second || ev.Call != "GET api/v2/accounts/1/jobs/5/" || !errors.Is(ev.Err, ErrServer) {
			t.Errorf("event %d: %+v", i, ev)
		}
		waits = append(waits, ev.Wait)
	}
	if got := b.clock.Sleeps(); !slices.Equal(got, waits) {
		t.Errorf("waits told %v, slept %v", waits, got)
	}
	if _, err := NewClient("cloud.getdbt.com", "t", WithRetryNotify(nil)); err == nil {
		t.Error("WithRetryNotify(nil) accepted")
	}
}
