package cli

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
)

// TestRetryForEveryCommand checks that DBTLINK_RETRY_FOR is read in one
// place (Factory.Client), so commands beyond job run honour it: with the
// bench's no-retry policy a single 503 fails the command, and
// DBTLINK_RETRY_FOR=1m turns retries back on so the same 503 is retried.
// A bad value is a usage error naming the variable and the expected form.
func TestRetryForEveryCommand(t *testing.T) {
	t.Parallel()
	e := newCloudEnv(t)
	e.addDemo("demo")
	run := e.finishedRun(emulator.DemoDailyJobID)
	runID := strconv.FormatInt(run.ID, 10)

	commands := []struct {
		name string
		args []string
	}{
		{"job list", []string{"job", "list"}},
		{"job get", []string{"job", "get", strconv.FormatInt(emulator.DemoDailyJobID, 10)}},
		{"run get", []string{"run", "get", runID}},
		{"run list", []string{"run", "list"}},
		{"artifact list", []string{"artifact", "list", runID}},
	}
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			for _, tc := range []struct {
				retryFor  string
				wantCode  int
				wantSleep bool
				wantErr   string
			}{
				{retryFor: "", wantCode: ExitUpstream},
				{retryFor: "1m", wantCode: ExitOK, wantSleep: true},
				{retryFor: "0", wantCode: ExitUpstream},
				{retryFor: "soon", wantCode: ExitUsage, wantErr: `DBTLINK_RETRY_FOR="soon" is not a duration such as 30s or 2m`},
			} {
				// Subtests share the emulator's fault list, so they run in turn.
				e.emu.ClearFaults()
				if _, err := e.emu.InjectFault(emulator.Fault{Method: "GET", Path: "/api/", Kind: emulator.FaultStatus, Status: 503}); err != nil {
					t.Fatal(err)
				}
				var mu sync.Mutex
				var sleeps []time.Duration
				ios, _, out, errOut := TestStreams()
				f := e.factory(ios)
				env := map[string]string{}
				for k, v := range e.env {
					env[k] = v
				}
				if tc.retryFor != "" {
					env[envRetryFor] = tc.retryFor
				}
				f.Getenv = func(k string) string { return env[k] }
				// A fake sleep keeps the default policy's backoff out of the test's run time.
				f.ClientOptions = append(f.ClientOptions, dbtcloud.WithClock(time.Now, func(ctx context.Context, d time.Duration) error {
					mu.Lock()
					sleeps = append(sleeps, d)
					mu.Unlock()
					return ctx.Err()
				}))
				code := Run(t.Context(), f, c.args)
				if code != tc.wantCode {
					t.Errorf("%s=%q: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", envRetryFor, tc.retryFor, code, tc.wantCode, out, errOut)
				}
				if got := len(sleeps) > 0; got != tc.wantSleep {
					t.Errorf("%s=%q: slept %v, want a retry wait: %v", envRetryFor, tc.retryFor, sleeps, tc.wantSleep)
				}
				if tc.wantErr != "" && !strings.Contains(errOut.String(), tc.wantErr) {
					t.Errorf("%s=%q: stderr %q, want it to contain %q", envRetryFor, tc.retryFor, errOut, tc.wantErr)
				}
			}
		})
	}
}
