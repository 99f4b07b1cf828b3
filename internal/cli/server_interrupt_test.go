package cli

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestServerInterruptAfterRunEnded: through --server, Ctrl-C after dbt
// Cloud had ended the run on its own (the server answers the cancel with
// 409) says how the run ended and exits by that outcome, not "cancelled".
// The server is a script: its run is running until the cancel comes, and
// has succeeded by then.
func TestServerInterruptAfterRunEnded(t *testing.T) {
	t.Parallel()
	polling := make(chan struct{}, 1)
	var cancelled atomic.Bool
	const running = `{"id": 1, "connection": "emu", "job_id": 301, "state": "running", "dbt_run_id": 70000001, "href": "H"}`
	const ended = `{"id": 1, "connection": "emu", "job_id": 301, "state": "success", "dbt_run_id": 70000001, "href": "H", "done": true}`
	mux := http.NewServeMux()
	answer := func(w http.ResponseWriter, status int, body string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
	mux.HandleFunc("POST /api/v1/runs", func(w http.ResponseWriter, r *http.Request) { answer(w, http.StatusCreated, running) })
	mux.HandleFunc("GET /api/v1/connections/emu/jobs/301", func(w http.ResponseWriter, r *http.Request) {
		answer(w, http.StatusOK, `{"id": 301, "name": "daily build"}`)
	})
	mux.HandleFunc("GET /api/v1/runs/1", func(w http.ResponseWriter, r *http.Request) {
		if cancelled.Load() {
			answer(w, http.StatusOK, ended)
			return
		}
		select { // a long poll, until the client gives up on it
		case polling <- struct{}{}:
		default:
		}
		<-r.Context().Done()
	})
	mux.HandleFunc("POST /api/v1/runs/1/cancel", func(w http.ResponseWriter, r *http.Request) {
		cancelled.Store(true)
		answer(w, http.StatusConflict, `{"error": {"code": "conflict", "message": "run 1 has ended"}}`)
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)

	ios, _, out, errOut := TestStreams()
	f := NewFactory(ios)
	f.Getenv = func(k string) string {
		return map[string]string{EnvServerToken: "dbtl_test", "DBTLINK_HOME": t.TempDir(), "DBTLINK_RETRY_FOR": "1s"}[k]
	}
	f.ServerFlag = ts.URL
	interrupts := make(chan os.Signal, 1)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	go func() {
		select {
		case <-polling:
			interrupts <- os.Interrupt
		case <-ctx.Done():
		}
	}()
	cmd := NewCmdJobRun(f, func(o *JobRunOptions) error {
		o.Interrupts = func() (<-chan os.Signal, func()) { return interrupts, func() {} }
		return jobRunServer(ctx, o)
	})
	cmd.SetArgs([]string{"301", "--wait"})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(ctx)
	if code := exitCode(err); code != ExitOK {
		t.Fatalf("exit %d (%v), want 0\nstderr:\n%s", code, err, errOut)
	}
	want := "Run 70000001 had already ended, before the cancel reached dbt Cloud: Success. Nothing was cancelled."
	if !strings.Contains(errOut.String(), want) || strings.Contains(errOut.String(), "Asked the dbtlink server to cancel") {
		t.Errorf("stderr lacks %q, or claims a cancel:\n%s", want, errOut)
	}
	if !strings.Contains(out.String(), "Run 70000001 succeeded") {
		t.Errorf("stdout:\n%s", out)
	}
}
