package cli

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
)

// TestInterruptAfterRunEnded: Ctrl-C during --wait (in CI, where it
// cancels at once) when dbt Cloud had already ended the run on its own
// says what really happened, and the exit status follows the real outcome.
func TestInterruptAfterRunEnded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		job        int64
		wantCode   int
		wantStderr []string
		wantStdout string
	}{
		{name: "dbt Cloud's own timeout", job: emulator.DemoSlowJobID, wantCode: ExitRunCancelled,
			wantStderr: []string{"had already ended", "before the cancel reached dbt Cloud: Cancelled (The run timed out after 900 seconds and was cancelled.). Nothing was cancelled."}},
		{name: "success", job: emulator.DemoDailyJobID, wantCode: ExitOK,
			wantStderr: []string{"before the cancel reached dbt Cloud: Success. Nothing was cancelled."}, wantStdout: "succeeded in"},
		{name: "error", job: emulator.DemoFailingJobID, wantCode: ExitRunError,
			wantStderr: []string{"before the cancel reached dbt Cloud: Error", "failed at step"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newRunHarness(t)
			sleeping := make(chan struct{}, 1)
			h.clock = interruptClock{now: h.fc.Now, sleeping: sleeping}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			go func() {
				select {
				case <-sleeping:
				case <-ctx.Done():
					return
				}
				h.fc.Advance(2 * time.Hour) // the run ends in dbt Cloud meanwhile
				h.interrupts <- os.Interrupt
			}()
			r := h.exec(execIn{}, "job", "run", strconv.FormatInt(tt.job, 10), "--wait")
			wantCode(t, r, tt.wantCode, tt.name)
			for _, w := range tt.wantStderr {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if strings.Contains(r.stderr, "Cancelled run") {
				t.Errorf("claims to have cancelled the run:\n%s", r.stderr)
			}
			if !strings.Contains(r.stdout, tt.wantStdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.wantStdout, r.stdout)
			}
		})
	}
}

// TestRunWatchInterrupt: Ctrl-C during `run watch` stops watching, leaves
// the run alone and exits 4, as the exit-code table says (not 130).
func TestRunWatchInterrupt(t *testing.T) {
	t.Parallel()
	for _, tty := range []bool{false, true} {
		t.Run("tty="+strconv.FormatBool(tty), func(t *testing.T) {
			t.Parallel()
			h := newRunHarness(t)
			run := h.startRun(emulator.DemoSlowJobID)
			sleeping := make(chan struct{}, 1)
			h.clock = interruptClock{now: h.fc.Now, sleeping: sleeping}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			go func() {
				select {
				case <-sleeping:
				case <-ctx.Done():
					return
				}
				h.interrupts <- os.Interrupt
			}()
			r := h.exec(execIn{tty: tty}, "run", "watch", strconv.FormatInt(run.ID, 10))
			wantCode(t, r, ExitWaitTimeout, "run watch, Ctrl-C")
			want := "Stopped watching run " + strconv.FormatInt(run.ID, 10) + "; it was left alone"
			if !strings.Contains(r.stderr, want) || strings.Contains(r.stderr, "[y/N]") {
				t.Errorf("stderr lacks %q, or asks to cancel:\n%s", want, r.stderr)
			}
			if got := h.lastRun().Status; got == emulator.StatusCancelled {
				t.Errorf("the watched run was cancelled")
			}
		})
	}
}
