package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
	"github.com/dbtlink/dbtlink/internal/orchestrate"
)

// runHarness runs the run commands against the cloudEnv emulator with the
// polling clock stepping the emulator's fake clock, so waiting for a
// 20-minute job takes no real time.
type runHarness struct {
	*cloudEnv
	fc *emulator.FakeClock
	// clock is the polling clock; tests that interrupt a wait replace it.
	clock      orchestrate.Clock
	interrupts chan os.Signal
	// ticks drives the terminal view's redraws; by default it never fires.
	ticks func() (<-chan time.Time, func())
}

func newRunHarness(t *testing.T) *runHarness {
	t.Helper()
	e := newCloudEnv(t)
	e.env["DBT_CLOUD_HOST"] = e.emu.URL
	e.env["DBT_CLOUD_API_TOKEN"] = emulator.DemoToken
	e.env["DBT_CLOUD_ACCOUNT_ID"] = "1"
	fc := e.emu.Clock().(*emulator.FakeClock)
	return &runHarness{cloudEnv: e, fc: fc, clock: orchestrate.SteppedClock{Clock: fc}, interrupts: make(chan os.Signal, 2),
		ticks: func() (<-chan time.Time, func()) { return nil, func() {} }}
}

type execIn struct {
	stdin io.Reader
	tty   bool
	// errOut replaces the stderr buffer (to wait for a prompt).
	errOut *notifyBuffer
}

// exec runs `dbtlink job run|run <sub> args...` with the harness's clock
// and interrupts, and maps the error to an exit status as Run does.
func (h *runHarness) exec(in execIn, args ...string) cloudResult {
	h.t.Helper()
	ios, stdin, out, errBuf := TestStreams()
	if in.stdin != nil {
		ios.In = in.stdin
	}
	_ = stdin
	var errOut interface{ String() string } = errBuf
	if in.errOut != nil {
		ios.ErrOut, errOut = in.errOut, in.errOut
	}
	if in.tty {
		ios.SetTTY(true, true, true)
	}
	f := h.factory(ios)
	f.Now = h.fc.Now
	interrupts := func() (<-chan os.Signal, func()) { return h.interrupts, func() {} }
	ctx := h.t.Context()
	var cmd *cobra.Command
	rest := args[min(2, len(args)):]
	switch {
	case args[0] == "job" && args[1] == "run":
		cmd = NewCmdJobRun(f, func(o *JobRunOptions) error {
			o.Clock, o.Interrupts, o.Ticks = h.clock, interrupts, h.ticks
			o.Who = func() string { return "ana@laptop" }
			return jobRunRun(ctx, o)
		})
	case args[0] == "run" && args[1] == "watch":
		cmd = NewCmdRunWatch(f, func(o *RunWatchOptions) error {
			o.Clock, o.Interrupts, o.Ticks = h.clock, interrupts, h.ticks
			return runWatchRun(ctx, o)
		})
	case args[0] == "run" && args[1] == "retry":
		cmd = NewCmdRunRetry(f, func(o *RunRetryOptions) error {
			o.Clock, o.Interrupts, o.Ticks = h.clock, interrupts, h.ticks
			return runRetryRun(ctx, o)
		})
	default:
		cmd, rest = NewRootCmd(f), args
	}
	cmd.SetArgs(rest)
	cmd.SetOut(ios.Out)
	cmd.SetErr(ios.ErrOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(ctx)
	if err != nil {
		var ee *ExitError
		if !errors.As(err, &ee) || !ee.Silent {
			fmt.Fprintf(ios.ErrOut, "error: %s\n", userMessage(err, f.resolvedConnection)) // as Run does
		}
	}
	r := cloudResult{code: exitCode(err), stdout: out.String(), stderr: errOut.String()}
	for _, s := range h.secrets {
		if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
			h.t.Fatalf("dbtlink %v printed a secret", args)
		}
	}
	return r
}

func (h *runHarness) run(args ...string) cloudResult {
	h.t.Helper()
	return h.exec(execIn{}, args...)
}

// lastRun is the newest run in the emulator.
func (h *runHarness) lastRun() emulator.RunInfo {
	h.t.Helper()
	runs := h.emu.Runs()
	if len(runs) == 0 {
		h.t.Fatal("the emulator has no runs")
	}
	return runs[len(runs)-1]
}

// normalize replaces the emulator's random port so outputs can be compared.
func (h *runHarness) normalize(s string) string { return strings.ReplaceAll(s, h.emu.URL, "EMU") }

func TestJobRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string   // exact, after normalize; "" skips
		wantStderr []string // substrings
		// wantEmulator is the status of the newest run in the emulator; 0 skips.
		wantEmulator int
		wantCause    string // prefix of the newest run's cause
	}{
		{
			name: "no wait prints id and URL", args: []string{"job", "run", "301"},
			wantStdout: "70000001\tEMU/deploy/1/projects/101/runs/70000001/\n", wantCause: "Triggered by dbtlink dev (ana@laptop) [dbtlink:",
		},
		{
			name: "by names", args: []string{"job", "run", "--project", "analytics", "--environment", "Staging", "--job", "daily build", "--cause", "nightly"},
			wantStdout: "70000001\tEMU/deploy/1/projects/101/runs/70000001/\n", wantCause: "nightly [dbtlink:",
		},
		{
			name: "wait for success", args: []string{"job", "run", "301", "--wait"},
			wantStdout: "Run 70000001 succeeded in 1m13s.\n", wantEmulator: emulator.StatusSuccess,
			wantStderr: []string{"step 4 Invoke dbt with `dbt build`: Success (00:01:00)\nrun 70000001: Success\n"},
		},
		{
			name: "wait for failure shows the failing step and nodes", args: []string{"job", "run", "302", "--wait"},
			wantCode: ExitRunError, wantStdout: "", wantEmulator: emulator.StatusError,
			wantStderr: []string{
				"Run 70000001 failed at step 5, Invoke dbt with `dbt test` (Error).\nFrom its log:\n",
				"Failing nodes:\n  test.jaffle_shop.not_null_stg_customers_customer_id.e2cfb1f9aa  fail  Got 3 results, configured to fail if != 0\n",
				"error: run 70000001 ended in error",
			},
		},
		{
			name: "job timeout in dbt Cloud is a cancel", args: []string{"job", "run", "303", "--wait"},
			wantCode: ExitRunCancelled, wantEmulator: emulator.StatusCancelled, wantStderr: []string{"error: run 70000001 was cancelled"},
		},
		{
			name: "wait timeout leaves the run", args: []string{"job", "run", "303", "--wait", "--timeout", "5m"},
			wantCode: ExitWaitTimeout, wantEmulator: emulator.StatusRunning,
			wantStderr: []string{"run 70000001 did not finish within 5m0s; it is still running in dbt Cloud (follow it with `dbtlink run watch 70000001`)"},
		},
		{
			name: "wait timeout cancels on request", args: []string{"job", "run", "303", "--wait", "--timeout", "5m", "--cancel-on-timeout"},
			wantCode: ExitWaitTimeout, wantEmulator: emulator.StatusCancelled,
			wantStderr: []string{"run 70000001 did not finish within 5m0s; it was cancelled in dbt Cloud"},
		},
		{
			name: "json", args: []string{"job", "run", "301", "--wait", "--json", "--poll", "30s"},
			wantStderr: []string{"run 70000001: Success"}, wantEmulator: emulator.StatusSuccess,
		},
		{
			name: "unknown job id", args: []string{"job", "run", "999"}, wantCode: ExitNotFound,
			wantStderr: []string{"error: job 999 was not found in account 1"},
		},
		{
			name: "unknown job name lists candidates", args: []string{"job", "run", "--project", "analytics", "--environment", "Production", "--job", "weekly"},
			wantCode:   ExitNotFound,
			wantStderr: []string{`error: no job named "weekly" in project "analytics", environment "Production"; jobs there: "daily build" (id 301), "docs build" (id 304), "failing build" (id 302), "slow build" (id 303)`},
		},
		{name: "id and names", args: []string{"job", "run", "301", "--job", "x"}, wantCode: ExitUsage},
		{name: "no job", args: []string{"job", "run"}, wantCode: ExitUsage},
		{name: "two names only", args: []string{"job", "run", "--project", "a", "--job", "x"}, wantCode: ExitUsage},
		{name: "timeout without wait", args: []string{"job", "run", "301", "--timeout", "1m"}, wantCode: ExitUsage},
		{name: "overrides with rerun", args: []string{"job", "run", "301", "--retry-from-failure", "--git-branch", "x"}, wantCode: ExitUsage},
		{name: "sha and branch", args: []string{"job", "run", "301", "--git-sha", "abc", "--git-branch", "main"}, wantCode: ExitUsage},
		{name: "docs both ways", args: []string{"job", "run", "301", "--generate-docs", "--no-generate-docs"}, wantCode: ExitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newRunHarness(t)
			r := h.run(tt.args...)
			wantCode(t, r, tt.wantCode, strings.Join(tt.args, " "))
			if tt.wantStdout != "" && h.normalize(r.stdout) != tt.wantStdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", h.normalize(r.stdout), tt.wantStdout)
			}
			for _, want := range tt.wantStderr {
				if !strings.Contains(h.normalize(r.stderr), want) {
					t.Errorf("stderr:\n%s\nlacks:\n%s", h.normalize(r.stderr), want)
				}
			}
			if tt.wantEmulator != 0 {
				if got := h.lastRun().Status; got != tt.wantEmulator {
					t.Errorf("emulator run status %d, want %d", got, tt.wantEmulator)
				}
			}
			if tt.wantCause != "" {
				if got := h.lastRun().Cause; !strings.HasPrefix(got, tt.wantCause) {
					t.Errorf("cause %q, want prefix %q", got, tt.wantCause)
				}
			}
		})
	}
}

func TestJobRunOverridesReachDBTCloud(t *testing.T) {
	t.Parallel()
	h := newRunHarness(t)
	r := h.run("job", "run", "301", "--git-sha", "abc123", "--github-pr", "42",
		"--schema-override", "dbt_pr_42", "--dbt-version-override", "1.9.0-latest", "--threads-override", "8",
		"--target-name-override", "ci", "--no-generate-docs", "--timeout-seconds-override", "0",
		"--steps-override", "dbt seed", "--steps-override", "dbt build -s state:modified+", "--json")
	wantCode(t, r, 0, "job run with overrides")
	id := h.lastRun().ID
	got, _, err := h.client().Runs.Get(t.Context(), 1, id, &dbtcloud.RunGetOptions{IncludeRelated: []string{"trigger"}})
	if err != nil {
		t.Fatal(err)
	}
	g := got.Trigger
	if g == nil || g.GitSHA != "abc123" || g.GitHubPullRequestID != 42 || g.SchemaOverride != "dbt_pr_42" ||
		g.DBTVersionOverride != "1.9.0-latest" || g.ThreadsOverride != 8 || g.TargetNameOverride != "ci" ||
		g.GenerateDocsOverride == nil || *g.GenerateDocsOverride || g.TimeoutSecondsOverride != 0 ||
		strings.Join(g.StepsOverride, "|") != "dbt seed|dbt build -s state:modified+" {
		t.Errorf("trigger recorded %+v", g)
	}
	if !strings.Contains(r.stdout, `"id": `+strconv.FormatInt(id, 10)) {
		t.Errorf("--json printed %s", r.stdout)
	}
}

func TestJobRunGitHubOutput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"job", "run", "301"}, "run_id=70000001\nrun_url=EMU/deploy/1/projects/101/runs/70000001/\n"},
		{[]string{"job", "run", "302", "--wait"}, "run_id=70000001\nrun_url=EMU/deploy/1/projects/101/runs/70000001/\nstatus=Error\n"},
	}
	for _, tt := range tests {
		h := newRunHarness(t)
		path := filepath.Join(t.TempDir(), "github_output")
		if err := os.WriteFile(path, []byte("earlier=1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		h.env["GITHUB_OUTPUT"] = path
		h.run(tt.args...)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := h.normalize(string(b)); got != "earlier=1\n"+tt.want {
			t.Errorf("%v: $GITHUB_OUTPUT:\n%s\nwant:\n%s", tt.args, got, "earlier=1\n"+tt.want)
		}
	}
}

func TestJobRunReuseAndRerun(t *testing.T) {
	t.Parallel()
	h := newRunHarness(t)
	first := h.startRun(emulator.DemoDailyJobID)
	r := h.run("job", "run", "301", "--reuse-existing")
	wantCode(t, r, 0, "reuse")
	if !strings.HasPrefix(r.stdout, strconv.FormatInt(first.ID, 10)+"\t") || !strings.Contains(r.stderr, "was already Queued; following it") {
		t.Errorf("reuse printed:\n%s%s", r.stdout, r.stderr)
	}
	if n := h.emu.TriggerCount(emulator.DemoDailyJobID); n != 1 {
		t.Errorf("%d triggers, want 1", n)
	}

	if strings.Contains(r.stderr, "overrides") {
		t.Errorf("reuse without overrides speaks of overrides:\n%s", r.stderr)
	}
	r = h.run("job", "run", "301", "--reuse-existing", "--git-branch", "feature/x")
	if !strings.Contains(r.stderr, "(the overrides given were not applied)") {
		t.Errorf("reuse with an override does not say it was dropped:\n%s", r.stderr)
	}

	failed := h.finishedRun(emulator.DemoFailingJobID)
	r = h.run("job", "run", "302", "--retry-from-failure", "--wait")
	// The emulator's `dbt retry` succeeds.
	wantCode(t, r, ExitOK, "rerun of a failing job")
	if got := h.lastRun().RetryingRunID; got != failed.ID {
		t.Errorf("rerun retries run %d, want %d", got, failed.ID)
	}
	if want := fmt.Sprintf("Rerunning run %d of job 302 (failing build) from its point of failure", failed.ID); !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}
	// After a success there is nothing to rerun from: dbt Cloud starts a
	// normal run, and dbtlink says so instead of "Reran".
	r = h.run("job", "run", "302", "--retry-from-failure")
	wantCode(t, r, ExitOK, "rerun after a success")
	if !strings.Contains(r.stderr, "did not fail, so there was nothing to rerun from failure; dbt Cloud started a new run of the whole job") {
		t.Errorf("rerun after a success:\n%s", r.stderr)
	}
}

func TestJobRunOutputDirNeedsWait(t *testing.T) {
	t.Parallel()
	h := newRunHarness(t)
	for _, args := range [][]string{
		{"job", "run", "301", "-o", "target/"},
		{"job", "run", "301", "--output-dir", "target/"},
		{"job", "run", "301", "--output", "target/", "--wait"},
	} {
		r := h.run(args...)
		wantCode(t, r, ExitUsage, strings.Join(args, " "))
		if !strings.Contains(r.stderr, "--output") {
			t.Errorf("%v: stderr\n%s", args, r.stderr)
		}
	}
	if n := h.emu.TriggerCount(emulator.DemoDailyJobID); n != 0 {
		t.Errorf("%d triggers, want none", n)
	}
}

// interruptClock is a polling clock that never fires: the wait sits in its
// first sleep until the test interrupts it, and says when it got there.
type interruptClock struct {
	now      func() time.Time
	sleeping chan struct{}
}

func (c interruptClock) Now() time.Time { return c.now() }
func (c interruptClock) After(time.Duration) <-chan time.Time {
	select {
	case c.sleeping <- struct{}{}:
	default:
	}
	return nil
}

func TestJobRunInterrupt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		tty    bool
		answer string // typed at the prompt; "" means a second Ctrl-C instead
		// wantCode and the run's state in dbt Cloud afterwards.
		wantCode     int
		wantEmulator int
		wantStderr   string
	}{
		{name: "CI: first Ctrl-C cancels", wantCode: ExitRunCancelled, wantEmulator: emulator.StatusCancelled, wantStderr: "Cancelled run 70000001 in dbt Cloud.\n"},
		{name: "terminal: yes cancels", tty: true, answer: "y\n", wantCode: ExitRunCancelled, wantEmulator: emulator.StatusCancelled,
			wantStderr: "Cancel run 70000001 in dbt Cloud? [y/N] Cancelled run 70000001 in dbt Cloud.\n"},
		{name: "terminal: no leaves it", tty: true, answer: "n\n", wantCode: ExitWaitTimeout, wantEmulator: emulator.StatusQueued,
			wantStderr: "Cancel run 70000001 in dbt Cloud? [y/N] Run 70000001 is still going in dbt Cloud: EMU/deploy/1/projects/101/runs/70000001/\nFollow it with: dbtlink run watch 70000001\n"},
		{name: "terminal: second Ctrl-C leaves it", tty: true, wantCode: ExitWaitTimeout, wantEmulator: emulator.StatusQueued,
			wantStderr: "Cancel run 70000001 in dbt Cloud? [y/N] \nRun 70000001 is still going"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newRunHarness(t)
			sleeping := make(chan struct{}, 1)
			h.clock = interruptClock{now: h.fc.Now, sleeping: sleeping}
			errOut := newNotifyBuffer()
			var tickerStopped, promptBeforeStop bool
			h.ticks = func() (<-chan time.Time, func()) {
				return nil, func() { tickerStopped, promptBeforeStop = true, strings.Contains(errOut.String(), "[y/N]") }
			}
			stdinR, stdinW := io.Pipe()
			t.Cleanup(func() { _ = stdinW.Close() })
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			go func() {
				select {
				case <-sleeping:
				case <-ctx.Done():
					return
				}
				h.interrupts <- os.Interrupt
				if !tt.tty {
					return
				}
				if _, ok := errOut.waitFor(ctx, "[y/N] "); !ok {
					return
				}
				if tt.answer != "" {
					_, _ = io.WriteString(stdinW, tt.answer)
				} else {
					h.interrupts <- os.Interrupt
				}
			}()
			r := h.exec(execIn{tty: tt.tty, stdin: stdinR, errOut: errOut}, "job", "run", "303", "--wait")
			wantCode(t, r, tt.wantCode, tt.name)
			if !strings.Contains(h.normalize(r.stderr), tt.wantStderr) {
				t.Errorf("stderr:\n%q\nlacks:\n%q", h.normalize(r.stderr), tt.wantStderr)
			}
			if got := h.lastRun().Status; got != tt.wantEmulator {
				t.Errorf("emulator run status %d, want %d", got, tt.wantEmulator)
			}
			if tt.tty && (!tickerStopped || promptBeforeStop) {
				t.Errorf("terminal view: ticker stopped %v, after the prompt was shown %v; want stopped before it", tickerStopped, promptBeforeStop)
			}
		})
	}
}

// TestJobRunTerminalView: on a terminal the URL is printed once, the
// ticker is stopped when the run ends and the final frame is drawn once.
func TestJobRunTerminalView(t *testing.T) {
	t.Parallel()
	h := newRunHarness(t)
	stopped := 0
	h.ticks = func() (<-chan time.Time, func()) { return nil, func() { stopped++ } }
	r := h.exec(execIn{tty: true}, "job", "run", "301", "--wait")
	wantCode(t, r, 0, "job run --wait")
	stderr := h.normalize(r.stderr)
	if n := strings.Count(stderr, "EMU/deploy/1/projects/101/runs/70000001/"); n != 1 {
		t.Errorf("the run URL is printed %d times:\n%s", n, stderr)
	}
	if n := strings.Count(stderr, "· run 70000001 · Success"); n != 1 {
		t.Errorf("the final frame is drawn %d times:\n%s", n, stderr)
	}
	if !strings.Contains(stderr, "\x1b[2mnext check in ") {
		t.Errorf("no frame says when the next check is due:\n%q", stderr)
	}
	if stopped != 1 {
		t.Errorf("ticker stopped %d times, want 1", stopped)
	}
}
