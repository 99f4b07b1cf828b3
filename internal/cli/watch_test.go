package cli

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
)

// TestProgress pins the exact progress output in both modes over a
// scripted sequence of polls.
func TestProgress(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)
	ts := func(sec int) dbtcloud.Timestamp {
		return dbtcloud.Timestamp{Time: t0.Add(time.Duration(sec) * time.Second)}
	}
	step := func(i int, name string, st dbtcloud.RunStatus, start, end int) dbtcloud.RunStep {
		s := dbtcloud.RunStep{Index: i, Name: name, Status: st}
		if start >= 0 {
			s.StartedAt = ts(start)
		}
		if end >= 0 {
			s.FinishedAt = ts(end)
		}
		return s
	}
	// Each poll: the clock reading (seconds after t0) and the run.
	polls := []struct {
		at  int
		run dbtcloud.Run
	}{
		{0, dbtcloud.Run{ID: 7, Status: dbtcloud.RunStatusQueued, CreatedAt: ts(0)}},
		{20, dbtcloud.Run{ID: 7, Status: dbtcloud.RunStatusRunning, CreatedAt: ts(0), RunSteps: []dbtcloud.RunStep{
			step(1, "Clone git repository", dbtcloud.RunStatusSuccess, 7, 9),
			step(2, "Invoke dbt with `dbt build`", dbtcloud.RunStatusRunning, 9, -1),
		}}},
		{40, dbtcloud.Run{ID: 7, Status: dbtcloud.RunStatusRunning, CreatedAt: ts(0), RunSteps: []dbtcloud.RunStep{
			step(1, "Clone git repository", dbtcloud.RunStatusSuccess, 7, 9),
			step(2, "Invoke dbt with `dbt build`", dbtcloud.RunStatusRunning, 9, -1),
		}}},
		{80, dbtcloud.Run{ID: 7, Status: dbtcloud.RunStatusError, CreatedAt: ts(0), FinishedAt: ts(75), RunSteps: []dbtcloud.RunStep{
			step(1, "Clone git repository", dbtcloud.RunStatusSuccess, 7, 9),
			step(2, "Invoke dbt with `dbt build`", dbtcloud.RunStatusError, 9, 75),
		}}},
	}
	tests := []struct {
		name string
		tty  bool
		want string
	}{
		{
			name: "plain: a line per change",
			want: "run 7: Queued\n" +
				"run 7: Running\n" +
				"step 1 Clone git repository: Success (00:00:02)\n" +
				"step 2 Invoke dbt with `dbt build`: Error (00:01:06)\n" +
				"run 7: Error\n",
		},
		{
			name: "terminal: redrawn in place",
			tty:  true,
			want: "· daily · run 7 · Queued · 0s\nURL\n" +
				"\x1b[2A\x1b[J* daily · run 7 · Running · 20s\nURL\n\n  ✓ Clone git repository         2s\n  * Invoke dbt with `dbt build`  11s\n" +
				"\x1b[5A\x1b[J* daily · run 7 · Running · 40s\nURL\n\n  ✓ Clone git repository         2s\n  * Invoke dbt with `dbt build`  31s\n" +
				"\x1b[5A\x1b[JX daily · run 7 · Error · 1m15s\nURL\n\n  ✓ Clone git repository         2s\n  X Invoke dbt with `dbt build`  1m06s\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ios, _, _, errOut := TestStreams()
			ios.SetTTY(false, tt.tty, tt.tty)
			now := t0
			p := newProgress(ios, func() time.Time { return now }, "daily", "URL")
			for _, poll := range polls {
				now = t0.Add(time.Duration(poll.at) * time.Second)
				run := poll.run
				p.update(&run)
			}
			if got := errOut.String(); got != tt.want {
				t.Errorf("output:\n%q\nwant:\n%q", got, tt.want)
			}
		})
	}
}

// TestProgressUsesServerClock: durations of a run in flight are measured on
// dbt Cloud's clock (created_at + the duration it reports), not the local
// one, which may be behind (every running step read "0s") or ahead.
func TestProgressUsesServerClock(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)
	at := func(sec int) dbtcloud.Timestamp {
		return dbtcloud.Timestamp{Time: t0.Add(time.Duration(sec) * time.Second)}
	}
	run := dbtcloud.Run{ID: 7, Status: dbtcloud.RunStatusRunning, CreatedAt: at(0), Duration: "00:00:40", RunSteps: []dbtcloud.RunStep{
		{Index: 1, Name: "Clone", Status: dbtcloud.RunStatusSuccess, StartedAt: at(7), FinishedAt: at(9)},
		{Index: 2, Name: "Build", Status: dbtcloud.RunStatusRunning, StartedAt: at(9)},
	}}
	for _, skew := range []time.Duration{-10 * time.Minute, 0, 3 * time.Hour} {
		ios, _, _, errOut := TestStreams()
		ios.SetTTY(false, true, true)
		local := t0.Add(40*time.Second + skew)
		p := newProgress(ios, func() time.Time { return local }, "daily", "URL")
		p.update(&run)
		want := "* daily · run 7 · Running · 40s\nURL\n\n  ✓ Clone  2s\n  * Build  31s\n"
		if got := errOut.String(); got != want {
			t.Errorf("local clock off by %v:\n%q\nwant\n%q", skew, got, want)
		}
	}
	// Without a duration from dbt Cloud, the local clock is all there is.
	run.Duration = ""
	if got := serverNow(&run, t0.Add(time.Minute)); !got.Equal(t0.Add(time.Minute)) {
		t.Errorf("serverNow without duration = %v", got)
	}
	run.Duration = "26:01:02"
	if got := serverNow(&run, t0); !got.Equal(t0.Add(26*time.Hour + 62*time.Second)) {
		t.Errorf("serverNow(26:01:02) = %v", got)
	}
}

func TestRunCommands(t *testing.T) {
	t.Parallel()
	h := newRunHarness(t)
	failed := h.finishedRun(302)
	id := func(r *dbtcloud.Run) string { return strconv.FormatInt(r.ID, 10) }
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr []string
	}{
		{name: "get", args: []string{"run", "get", id(failed), "--steps"}, wantStdout: []string{
			"Status:    Error (Invoke dbt with `dbt test` failed.)", "Job:       302 (failing build)", "STEP  STATUS   DURATION  NAME", "5     Error    00:00:20  Invoke dbt with `dbt test`",
		}},
		{name: "get json", args: []string{"run", "get", id(failed), "--json"}, wantStdout: []string{`"status": 20`}},
		{name: "get unknown", args: []string{"run", "get", "123"}, wantCode: ExitNotFound},
		{name: "list", args: []string{"run", "list", "--job", "302", "--status", "error"}, wantStdout: []string{"ID        STATUS  JOB", id(failed) + "  Error   302 failing build"}},
		{name: "list bad status", args: []string{"run", "list", "--status", "done"}, wantCode: ExitUsage},
		{name: "watch a finished run", args: []string{"run", "watch", id(failed)}, wantStdout: []string{"Run " + id(failed) + " ended: Error"}},
		{name: "watch with exit status", args: []string{"run", "watch", id(failed), "--exit-status"}, wantCode: ExitRunError, wantStderr: []string{"Failing nodes:"}},
		{name: "cancel a finished run", args: []string{"run", "cancel", id(failed)}, wantStdout: []string{"Run " + id(failed) + " already ended (Error); nothing to cancel."}},
		{name: "retry", args: []string{"run", "retry", id(failed), "--wait", "--json"}, wantStdout: []string{`"status": 10`}},
		// Every command that waits checks --poll and --timeout alike.
		{name: "watch poll too short", args: []string{"run", "watch", id(failed), "--poll", "50ms"}, wantCode: ExitUsage,
			wantStderr: []string{"--poll 50ms is too short; use at least 100ms"}},
		{name: "retry negative timeout", args: []string{"run", "retry", id(failed), "--wait", "--timeout", "-1s"}, wantCode: ExitUsage,
			wantStderr: []string{"--timeout and --poll must be positive durations such as 30s or 15m"}},
		{name: "retry a success explains", args: []string{"run", "retry", "70000002"}, wantCode: ExitUsage,
			wantStderr: []string{"run 70000002 cannot be retried: it succeeded, so there is nothing to retry"}},
	}
	for _, tt := range tests {
		r := h.run(tt.args...)
		wantCode(t, r, tt.wantCode, tt.name)
		for _, w := range tt.wantStdout {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("%s: stdout lacks %q:\n%s", tt.name, w, r.stdout)
			}
		}
		for _, w := range tt.wantStderr {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%s: stderr lacks %q:\n%s", tt.name, w, r.stderr)
			}
		}
	}
}

// TestRunCancelTwice: dbt Cloud answers a cancel of a run that already
// ended with that run, so a second cancel used to print "Cancelled run N."
// again as if it had done something.
func TestRunCancelTwice(t *testing.T) {
	t.Parallel()
	h := newRunHarness(t)
	r := h.run("job", "run", "303")
	wantCode(t, r, 0, "trigger")
	id := strconv.FormatInt(h.lastRun().ID, 10)
	r = h.run("run", "retry", id)
	wantCode(t, r, ExitUsage, "retry a queued run")
	if want := "run " + id + " cannot be retried: it is still Queued; only a run that ended in error can be retried"; !strings.Contains(r.stderr, want) {
		t.Errorf("retry of a queued run: %q, want %q", r.stderr, want)
	}
	r = h.run("run", "cancel", id)
	wantCode(t, r, 0, "first cancel")
	if want := "Cancelled run " + id + ".\n"; r.stdout != want {
		t.Errorf("first cancel: %q, want %q", r.stdout, want)
	}
	r = h.run("run", "retry", id)
	wantCode(t, r, ExitUsage, "retry a cancelled run")
	if want := "run " + id + " cannot be retried: it was cancelled, not failed; only a run that ended in error can be retried (start a new one with `dbtlink job run 303`)"; !strings.Contains(r.stderr, want) {
		t.Errorf("retry of a cancelled run: %q, want %q", r.stderr, want)
	}
	r = h.run("run", "cancel", id)
	wantCode(t, r, 0, "second cancel")
	if want := "Run " + id + " already ended (Cancelled); nothing to cancel.\n"; r.stdout != want {
		t.Errorf("second cancel: %q, want %q", r.stdout, want)
	}
}

// TestProgressTicks: between polls the terminal view is redrawn on each
// tick, the elapsed times advancing on dbt Cloud's clock and the next
// check counting down; ticks stop drawing once the run ended, and stop
// ends the ticking goroutine.
func TestProgressTicks(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)
	at := func(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }
	ts := func(sec int) dbtcloud.Timestamp { return dbtcloud.Timestamp{Time: at(float64(sec))} }
	ios, _, _, errOut := TestStreams()
	ios.SetTTY(false, true, true)
	// The local clock is 10 minutes behind dbt Cloud's.
	local := at(20).Add(-10 * time.Minute)
	p := newProgress(ios, func() time.Time { return local }, "daily", "URL")
	p.urlShown = true
	ticks := make(chan time.Time) // unbuffered: a send returns once the previous tick was drawn
	tickerStopped := false
	stop := p.startTicking(ticks, func() { tickerStopped = true })

	p.update(&dbtcloud.Run{ID: 7, Status: dbtcloud.RunStatusRunning, CreatedAt: ts(0), Duration: "00:00:20", RunSteps: []dbtcloud.RunStep{
		{Index: 1, Name: "Clone", Status: dbtcloud.RunStatusSuccess, StartedAt: ts(7), FinishedAt: ts(9)},
		{Index: 2, Name: "Build", Status: dbtcloud.RunStatusRunning, StartedAt: ts(9)},
	}})
	p.scheduled(40 * time.Second)
	ticks <- local.Add(time.Second)
	ticks <- local.Add(2500 * time.Millisecond)
	ticks <- local.Add(41 * time.Second)
	stop()
	stop() // harmless
	if !tickerStopped {
		t.Error("the ticker was not stopped")
	}
	frame := func(elapsed, step, next string) string {
		s := "* daily · run 7 · Running · " + elapsed + "\n\n  ✓ Clone  2s\n  * Build  " + step + "\n"
		if next != "" {
			s += "\x1b[2m" + next + "\x1b[0m\n"
		}
		return s
	}
	want := frame("20s", "11s", "") +
		"\x1b[4A\x1b[J" + frame("20s", "11s", "next check in 40s") +
		"\x1b[5A\x1b[J" + frame("21s", "12s", "next check in 39s") +
		"\x1b[5A\x1b[J" + frame("23s", "14s", "next check in 38s") +
		"\x1b[5A\x1b[J" + frame("1m01s", "52s", "checking now…")
	if got := errOut.String(); got != want {
		t.Errorf("frames:\n%q\nwant:\n%q", got, want)
	}

	// The final frame is drawn by the poller, once; ticks after it draw nothing.
	errOut.Reset()
	p.update(&dbtcloud.Run{ID: 7, Status: dbtcloud.RunStatusSuccess, CreatedAt: ts(0), FinishedAt: ts(75)})
	p.tick(local.Add(time.Minute))
	if got, want := errOut.String(), "\x1b[5A\x1b[J✓ daily · run 7 · Success · 1m15s\n"; got != want {
		t.Errorf("end:\n%q\nwant:\n%q", got, want)
	}

	// Plain output never ticks.
	ios2, _, _, plain := TestStreams()
	q := newProgress(ios2, func() time.Time { return local }, "daily", "URL")
	q.update(&dbtcloud.Run{ID: 7, Status: dbtcloud.RunStatusQueued, CreatedAt: ts(0)})
	q.scheduled(time.Second)
	q.tick(local.Add(time.Second))
	if got := plain.String(); got != "run 7: Queued\n" {
		t.Errorf("plain output: %q", got)
	}
}

// TestRunListCause: run list shows each run's cause (the trigger comes with
// the list request), cut to fit a terminal.
func TestRunListCause(t *testing.T) {
	t.Parallel()
	h := newRunHarness(t)
	wantCode(t, h.run("job", "run", "301", "--cause", "nightly load of the warehouse, started by the orchestrator of the data platform team"), 0, "trigger")
	r := h.run("run", "list")
	wantCode(t, r, 0, "run list")
	if !strings.Contains(r.stdout, "nightly load of the warehouse, started by the orchestrator …") {
		t.Errorf("plain output: the cause is missing or not cut at 60:\n%s", r.stdout)
	}
	r = h.exec(execIn{tty: true}, "run", "list")
	wantCode(t, r, 0, "run list on a terminal")
	lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "  nightly loa…") || !strings.HasSuffix(lines[1], "…") {
		t.Fatalf("terminal output:\n%s", r.stdout)
	}
	for _, l := range lines {
		if n := utf8.RuneCountInString(l); n > 79 {
			t.Errorf("line of %d characters on an 80-column terminal: %q", n, l)
		}
	}
}

// readLog records the dbt Cloud reads of one run path, with the fake
// clock's time of each.
type readLog struct {
	next http.RoundTripper
	now  func() time.Time
	path string

	mu    sync.Mutex
	times []time.Time
	calls int
}

func (l *readLog) RoundTrip(r *http.Request) (*http.Response, error) {
	l.mu.Lock()
	l.calls++
	if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, l.path) {
		l.times = append(l.times, l.now())
	}
	l.mu.Unlock()
	return l.next.RoundTrip(r)
}

// TestRunWatchReadsOnce: run watch's own read of the run, with its steps,
// is the wait's first poll. It used to be followed at once by a poll that
// could only say the same again, and a run that had already ended was read
// twice, with a history lookup in between.
func TestRunWatchReadsOnce(t *testing.T) {
	t.Parallel()
	h := newRunHarness(t)
	ended := h.finishedRun(emulator.DemoDailyJobID)
	going := h.startRun(emulator.DemoDailyJobID)
	for _, tc := range []struct {
		name      string
		id        int64
		wantCalls int // all calls to dbt Cloud; 0 skips
	}{
		{name: "ended", id: ended.ID, wantCalls: 1},
		{name: "in flight", id: going.ID},
	} {
		ios, _, out, errOut := TestStreams()
		f := h.factory(ios)
		f.Now = h.fc.Now
		log := &readLog{next: h.transport, now: h.fc.Now, path: fmt.Sprintf("/runs/%d/", tc.id)}
		f.ClientOptions = append(f.ClientOptions, dbtcloud.WithHTTPClient(&http.Client{Transport: log}))
		cmd := NewCmdRunWatch(f, func(o *RunWatchOptions) error {
			o.Clock, o.Ticks = h.clock, h.ticks
			return runWatchRun(t.Context(), o)
		})
		cmd.SetArgs([]string{strconv.FormatInt(tc.id, 10)})
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		if err := cmd.ExecuteContext(t.Context()); err != nil {
			t.Fatalf("%s: run watch: %v\n%s", tc.name, err, errOut)
		}
		if !strings.Contains(out.String(), "ended: Success") {
			t.Errorf("%s: stdout %q", tc.name, out)
		}
		if tc.wantCalls > 0 && log.calls != tc.wantCalls {
			t.Errorf("%s: %d calls to dbt Cloud, want %d", tc.name, log.calls, tc.wantCalls)
		}
		for i := 1; i < len(log.times); i++ {
			if !log.times[i].After(log.times[i-1]) {
				t.Errorf("%s: run read twice at %v (reads at %v)", tc.name, log.times[i], log.times)
			}
		}
	}
}
