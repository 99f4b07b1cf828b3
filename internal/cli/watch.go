package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/internal/orchestrate"
)

// This file waits for a run while showing its progress; `job run --wait`,
// `run watch` and `run retry --wait` share it.

// progress renders a run while it is being waited for. On a terminal it
// redraws a small block in place each poll (cursor up, clear to the end of
// the screen), like `gh run watch` without the alternate screen, so the
// final state stays in the scrollback. Otherwise it prints a plain line
// only when something changed, which reads well in CI logs. It writes to
// stderr so that stdout carries only the result (or --json).
//
// On a terminal it also ticks between polls (see startTicking): the elapsed
// times advance and "next check in 40s" counts down, with no API call. mu
// keeps those frames from interleaving with the poller's.
type progress struct {
	w     io.Writer
	tty   bool
	width int
	now   func() time.Time

	jobName string
	url     string
	// urlShown says the caller printed the URL already, so frames leave it out.
	urlShown bool

	mu       sync.Mutex
	last     *dbtcloud.Run // the last run read, redrawn by ticks
	nextPoll time.Time     // local time of the next status check; zero if unknown

	drawn      int // lines of the last TTY frame
	lastStatus dbtcloud.RunStatus
	// skew is dbt Cloud's clock minus ours, as read from the last poll (see
	// serverNow); in-flight durations are measured on dbt Cloud's clock.
	skew       time.Duration
	stepsShown map[int]bool // steps whose end was printed (plain mode)
}

func newProgress(ios *IOStreams, now func() time.Time, jobName, url string) *progress {
	return &progress{w: ios.ErrOut, tty: ios.IsStderrTTY(), width: ios.StderrWidth(), now: now,
		jobName: jobName, url: url, stepsShown: map[int]bool{}}
}

// update shows run as read by one poll.
func (p *progress) update(run *dbtcloud.Run) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last, p.nextPoll = run, time.Time{}
	if p.url == "" {
		p.url = run.Href
	}
	local := p.now()
	p.skew = serverNow(run, local).Sub(local)
	if p.tty {
		p.redraw(run, local)
		return
	}
	// A run that left the queue and finished steps within one poll reads
	// in order: "run: Running" first, then its steps, then the final state.
	terminal := run.Status.Terminal()
	if run.Status != p.lastStatus && !terminal {
		p.lastStatus = run.Status
		fmt.Fprintf(p.w, "run %d: %s\n", run.ID, run.Status)
	}
	for _, s := range run.RunSteps {
		if s.Status.Terminal() && !p.stepsShown[s.Index] {
			p.stepsShown[s.Index] = true
			fmt.Fprintf(p.w, "step %d %s: %s (%s)\n", s.Index, s.Name, s.Status, clockDuration(stepDuration(s, local.Add(p.skew))))
		}
	}
	if run.Status != p.lastStatus {
		p.lastStatus = run.Status
		fmt.Fprintf(p.w, "run %d: %s\n", run.ID, run.Status)
	}
}

// scheduled notes when the poller will check next (on a terminal, the
// frame says so).
func (p *progress) scheduled(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nextPoll = p.now().Add(d)
	if p.tty && p.last != nil && !p.last.Status.Terminal() {
		p.redraw(p.last, p.now())
	}
}

// pollFailed prints a failed poll's warning below the frame.
func (p *progress) pollFailed(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.w, msg)
	p.drawn = 0 // the warning broke the frame; draw a new one below it
}

// tick redraws the last run read as of local time now, between polls. The
// run's elapsed time and its running step's advance on dbt Cloud's clock
// (the offset recorded at the last poll); nothing is asked of dbt Cloud.
func (p *progress) tick(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.last != nil && !p.last.Status.Terminal() {
		p.redraw(p.last, now)
	}
}

// startTicking redraws the frame on every tick from ticks until the
// returned stop is called. stop waits for the ticking goroutine to end, so
// nothing is drawn after it returns; it may be called more than once.
func (p *progress) startTicking(ticks <-chan time.Time, stopTicks func()) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			case t := <-ticks:
				p.tick(t)
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(quit)
			<-done
			if stopTicks != nil {
				stopTicks()
			}
		})
	}
}

// realTicks is the ticker of the terminal view: once a second.
func realTicks() (<-chan time.Time, func()) {
	t := time.NewTicker(time.Second)
	return t.C, t.Stop
}

// redraw draws run as of local time local.
func (p *progress) redraw(run *dbtcloud.Run, local time.Time) {
	now := local.Add(p.skew)
	// Every line fits the terminal (longer ones would wrap, and the next
	// redraw, which moves up by lines drawn, would leave rows behind). What
	// gives way is a name: the job's in the header, the steps' below, never
	// a state or a duration.
	room := p.width - 1
	tail := fmt.Sprintf(" · run %d · %s · %s", run.ID, run.Status, shortDuration(runElapsed(run, now)))
	head := statusSymbol(run.Status) + " " + truncateRunes(p.jobName, max(room-2-utf8.RuneCountInString(tail), 1)) + tail
	lines := []string{head}
	if p.url != "" && !p.urlShown {
		lines = append(lines, p.url)
	}
	if len(run.RunSteps) > 0 {
		lines = append(lines, "")
		nameWidth, durWidth := 0, 0
		durs := make([]string, len(run.RunSteps))
		for i, s := range run.RunSteps {
			nameWidth = max(nameWidth, utf8.RuneCountInString(s.Name))
			if !s.StartedAt.IsZero() {
				durs[i] = shortDuration(stepDuration(s, now))
			}
			durWidth = max(durWidth, len(durs[i]))
		}
		// "  ✓ " before the name, two spaces and the duration after it.
		nameWidth = max(min(nameWidth, room-4-2-durWidth), 1)
		for i, s := range run.RunSteps {
			name := truncateRunes(s.Name, nameWidth)
			lines = append(lines, strings.TrimRight(fmt.Sprintf("  %s %-*s  %s", statusSymbol(s.Status), nameWidth, name, durs[i]), " "))
		}
	}
	next := ""
	if !p.nextPoll.IsZero() && !run.Status.Terminal() {
		next = "checking now…"
		if left := p.nextPoll.Sub(local); left > 0 {
			next = "next check in " + shortDuration((left+time.Second-1)/time.Second*time.Second) // rounded up
		}
	}
	var b strings.Builder
	if p.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA\x1b[J", p.drawn)
	}
	for _, l := range lines {
		b.WriteString(truncateRunes(l, p.width-1))
		b.WriteByte('\n')
	}
	if next != "" {
		// Dimmed: it is about dbtlink, not the run.
		b.WriteString("\x1b[2m" + truncateRunes(next, p.width-1) + "\x1b[0m\n")
		lines = append(lines, next)
	}
	p.drawn = len(lines)
	_, _ = io.WriteString(p.w, b.String())
}

// statusSymbol marks a run or step state the way `gh run watch` does.
func statusSymbol(s dbtcloud.RunStatus) string {
	switch s {
	case dbtcloud.RunStatusSuccess:
		return "✓"
	case dbtcloud.RunStatusError:
		return "X"
	case dbtcloud.RunStatusCancelled:
		return "-"
	case dbtcloud.RunStatusRunning, dbtcloud.RunStatusStarting:
		return "*"
	}
	return "·"
}

// serverNow estimates dbt Cloud's clock from a run it has just returned,
// so that durations of a run in flight do not depend on the local clock: a
// clock behind dbt Cloud's would show "0s" for every running step, one
// ahead would inflate them (and an emulator with accelerated time is far
// ahead). dbt Cloud computes an unfinished run's duration ("HH:MM:SS") when
// it answers, so created_at + duration is its now. Without both, or once
// the run finished, local is returned.
func serverNow(r *dbtcloud.Run, local time.Time) time.Time {
	if r.CreatedAt.IsZero() || !r.FinishedAt.IsZero() {
		return local
	}
	d, ok := orchestrate.ParseClockDuration(r.Duration)
	if !ok {
		return local
	}
	return r.CreatedAt.Add(d)
}

func runElapsed(r *dbtcloud.Run, now time.Time) time.Duration {
	if r.CreatedAt.IsZero() {
		return 0
	}
	end := now
	if !r.FinishedAt.IsZero() {
		end = r.FinishedAt.Time
	}
	return max(end.Sub(r.CreatedAt.Time), 0)
}

func stepDuration(s dbtcloud.RunStep, now time.Time) time.Duration {
	if s.StartedAt.IsZero() {
		return 0
	}
	end := now
	if !s.FinishedAt.IsZero() {
		end = s.FinishedAt.Time
	}
	return max(end.Sub(s.StartedAt.Time), 0)
}

// shortDuration is "45s", "3m07s", "1h02m03s".
func shortDuration(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm%02ds", h, m, s)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}

// clockDuration is "00:01:05", the form dbt Cloud uses for durations.
func clockDuration(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%02d:%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second))
}

func truncateRunes(s string, n int) string {
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// waitMaxErrors is how long polls of a waited run may keep failing (each
// after the client's own retries) before the wait gives up, exit 7: long
// enough to ride out a dbt Cloud incident or a network blip, short enough
// that an unreachable host ends the command.
const waitMaxErrors = 10 * time.Minute

// waiter holds what waiting for a run and reporting its end needs.
type waiter struct {
	IO        *IOStreams
	Now       func() time.Time
	Client    *dbtcloud.Client
	AccountID int64
	JobName   string

	Timeout         time.Duration
	Poll            time.Duration
	CancelOnTimeout bool
	// Clock is the polling clock; nil is the real one.
	Clock orchestrate.Clock
	// Ticks starts the ticker that redraws the terminal view between polls
	// and returns its channel and stop; nil is a real one-second ticker.
	Ticks func() (<-chan time.Time, func())
	// URLShown says the caller printed the run's URL already.
	URLShown bool
	// Fresh says the run passed to wait was just read (returned by a
	// trigger, or got with its steps), so the first poll is skipped.
	Fresh bool

	// Interrupts delivers Ctrl-C while waiting. When set, the first one
	// offers to cancel the run (see jobRunLong), or with WatchOnly stops
	// watching and leaves the run alone (exit 4).
	Interrupts <-chan os.Signal
	// WatchOnly is `run watch`: the run belongs to someone else, so Ctrl-C
	// never offers to cancel it.
	WatchOnly bool
}

// notifyInterrupt subscribes to SIGINT for the duration of a wait.
func notifyInterrupt() (<-chan os.Signal, func()) {
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt)
	return ch, func() { signal.Stop(ch) }
}

// wait follows run to its end and reports it. It returns the last run read
// and nil for Success, or an error carrying the exit code: 1 for Error
// (after printing the failing step, its log tail and failing nodes), 3 for
// Cancelled, 4 when --timeout passed or the user stopped waiting.
func (w *waiter) wait(ctx context.Context, run *dbtcloud.Run) (*dbtcloud.Run, error) {
	url := run.Href
	if url == "" {
		url = w.Client.RunURL(w.AccountID, run.ProjectID, run.ID)
	}
	p := newProgress(w.IO, w.Now, w.JobName, url)
	p.urlShown = w.URLShown
	var lastPollErr string
	var lastPollErrAt time.Time
	opts := orchestrate.WaitOptions{
		Timeout: w.Timeout, Poll: w.Poll, CancelOnTimeout: w.CancelOnTimeout, Clock: w.Clock,
		JobID: run.JobDefinitionID, Steps: true, OnUpdate: p.update, OnSchedule: p.scheduled,
		MaxErrorDuration: waitMaxErrors,
		OnPollError: func(err error) {
			// Once a minute while the same failure goes on, not every poll.
			msg := userMessage(err, "")
			now := w.Now()
			if msg == lastPollErr && now.Sub(lastPollErrAt) < time.Minute {
				return
			}
			lastPollErr, lastPollErrAt = msg, now
			p.pollFailed(fmt.Sprintf("warning: could not read run %d (%s); still waiting, and giving up if dbt Cloud stays unreachable for %s", run.ID, msg, shortDuration(waitMaxErrors)))
		},
	}
	// Retry warnings from the client go below the frame, as poll errors do.
	if p.tty {
		w.IO.notice = p.pollFailed
		defer func() { w.IO.notice = nil }()
	}
	stopTicking := func() {}
	if p.tty {
		ticks := w.Ticks
		if ticks == nil {
			ticks = realTicks
		}
		stopTicking = p.startTicking(ticks())
	}
	defer stopTicking()
	if w.Fresh {
		opts.Initial = run
	}
	waitCtx, stopWait := context.WithCancel(ctx)
	defer stopWait()
	type result struct {
		run *dbtcloud.Run
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := orchestrate.Wait(waitCtx, w.Client, w.AccountID, run.ID, opts)
		done <- result{r, err}
	}()
	var res result
	select {
	case res = <-done:
		stopTicking()
	case <-w.Interrupts:
		stopWait()
		res = <-done // the poller stops at once
		// No frame may be drawn over the prompt. Answering no ends the
		// wait too, so the view has nothing to resume.
		stopTicking()
		last := res.run
		if last == nil {
			last = run
		}
		return w.interrupted(ctx, last, url)
	}
	final, err := res.run, res.err
	var te *orchestrate.TimeoutError
	switch {
	case errors.As(err, &te):
		return final, withCode(ExitWaitTimeout, err)
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		// SIGTERM (or a caller's cancel): stop waiting, leave the run alone.
		return final, withCode(ExitWaitTimeout, fmt.Errorf("stopped waiting for run %d; it may still be running: follow it with `dbtlink run watch %d`", run.ID, run.ID))
	case err != nil:
		return final, lookupError("run", run.ID, w.AccountID, fmt.Sprintf("wait for run %d", run.ID), err)
	}
	switch final.Status {
	case dbtcloud.RunStatusSuccess:
		return final, nil
	case dbtcloud.RunStatusError:
		w.printFailure(ctx, final)
		return final, withCode(ExitRunError, fmt.Errorf("run %d ended in error%s: %s", final.ID, statusMessage(final), url))
	default:
		return final, withCode(ExitRunCancelled, fmt.Errorf("run %d was cancelled%s: %s", final.ID, statusMessage(final), url))
	}
}

func statusMessage(r *dbtcloud.Run) string {
	if m := strings.TrimSpace(r.StatusMessage); m != "" && m != "None" {
		return " (" + m + ")"
	}
	return ""
}

// interrupted handles Ctrl-C while waiting: on a terminal ask whether to
// cancel the run (a second Ctrl-C means no); without one, cancel at once,
// because CI systems stop a job with SIGINT and expect its work to stop.
//
// It returns the run as last known and the error carrying the exit code;
// a run that had succeeded before the cancel reached dbt Cloud is returned
// with nil, as if the wait had seen it end.
func (w *waiter) interrupted(ctx context.Context, run *dbtcloud.Run, url string) (*dbtcloud.Run, error) {
	leave := func() error {
		fmt.Fprintf(w.IO.ErrOut, "Run %d is still going in dbt Cloud: %s\nFollow it with: dbtlink run watch %d\n", run.ID, url, run.ID)
		return &ExitError{Code: ExitWaitTimeout, Silent: true, Err: fmt.Errorf("stopped waiting for run %d", run.ID)}
	}
	if w.WatchOnly {
		fmt.Fprintf(w.IO.ErrOut, "\nStopped watching run %d; it was left alone: %s\nFollow it again with: dbtlink run watch %d\n", run.ID, url, run.ID)
		return run, &ExitError{Code: ExitWaitTimeout, Silent: true, Err: fmt.Errorf("stopped watching run %d", run.ID)}
	}
	if !confirmCancel(ctx, w.IO, w.Interrupts, fmt.Sprintf("run %d", run.ID)) {
		return run, leave()
	}
	cctx, stop := cancelContext(ctx, w.Interrupts)
	defer stop()
	got, _, err := w.Client.Runs.Cancel(cctx, w.AccountID, run.ID)
	if err != nil {
		if cctx.Err() != nil {
			return run, leave()
		}
		return run, fmt.Errorf("cancel run %d: %w (it may still be running: %s)", run.ID, err, url)
	}
	if endedOnItsOwn(got) {
		return got, w.endedBeforeCancel(ctx, got, url)
	}
	fmt.Fprintf(w.IO.ErrOut, "Cancelled run %d in dbt Cloud.\n", run.ID)
	return run, &ExitError{Code: ExitRunCancelled, Silent: true, Err: fmt.Errorf("run %d cancelled", run.ID)}
}

// userCancelMessage is the status_message dbt Cloud gives a run that a
// cancel call stopped (ours, or another user's).
const userCancelMessage = "Cancelled by user."

// endedOnItsOwn reports whether got, dbt Cloud's answer to our cancel, is a
// run that had already ended: dbt Cloud answers a cancel of a finished run
// with the run as it is, a success or an error, or a cancel of its own (its
// job's timeout: "The run timed out after 600 seconds and was cancelled.").
// A run still stopping, or cancelled by a user, is not.
func endedOnItsOwn(got *dbtcloud.Run) bool {
	if got == nil || !got.Status.Terminal() {
		return false
	}
	msg := strings.TrimSpace(got.StatusMessage)
	return got.Status != dbtcloud.RunStatusCancelled || (msg != "" && msg != "None" && msg != userCancelMessage)
}

// endedBeforeCancel tells the user what really became of a run that had
// ended before our cancel reached dbt Cloud, and returns the error whose
// exit status follows the run's real outcome (nil for a success), as if
// the wait had seen it end.
func (w *waiter) endedBeforeCancel(ctx context.Context, got *dbtcloud.Run, url string) error {
	ended := "ended"
	if !got.FinishedAt.IsZero() {
		ended += " at " + got.FinishedAt.UTC().Format("15:04:05 UTC")
	}
	fmt.Fprintf(w.IO.ErrOut, "Run %d had already %s, before the cancel reached dbt Cloud: %s%s. Nothing was cancelled.\n",
		got.ID, ended, got.Status, statusMessage(got))
	switch got.Status {
	case dbtcloud.RunStatusSuccess:
		return nil
	case dbtcloud.RunStatusError:
		w.printFailure(ctx, got)
		return withCode(ExitRunError, fmt.Errorf("run %d ended in error%s: %s", got.ID, statusMessage(got), url))
	}
	return &ExitError{Code: ExitRunCancelled, Silent: true, Err: fmt.Errorf("run %d had already been cancelled by dbt Cloud%s", got.ID, statusMessage(got))}
}

// printFailure shows why a run failed: the failing step, the end of its
// log, and the dbt nodes that errored or failed.
func (w *waiter) printFailure(ctx context.Context, run *dbtcloud.Run) {
	f, err := orchestrate.FailureSummary(ctx, w.Client, w.AccountID, run)
	if err != nil {
		fmt.Fprintf(w.IO.ErrOut, "warning: could not read why run %d failed: %v\n", run.ID, err)
		return
	}
	writeFailure(w.IO.ErrOut, f)
}

func writeFailure(out io.Writer, f *orchestrate.Failure) {
	if f.Step == nil {
		return
	}
	fmt.Fprintf(out, "\nRun %d failed at step %d, %s (%s).\n", f.RunID, f.Step.Index, f.Step.Name, f.Step.Status)
	if len(f.Step.LogTail) > 0 {
		fmt.Fprintln(out, "From its log:")
		for _, l := range f.Step.LogTail {
			fmt.Fprintf(out, "  %s\n", l)
		}
	}
	switch {
	case len(f.Nodes) > 0:
		fmt.Fprintln(out, "Failing nodes:")
		t := newTable(out)
		for _, n := range f.Nodes {
			t.row("  "+n.UniqueID, n.Status, firstLine(n.Message))
		}
		_ = t.flush()
	case f.NodesUnavailable != "":
		fmt.Fprintf(out, "No failing nodes to show: %s.\n", f.NodesUnavailable)
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// confirmCancel asks on a terminal whether to cancel what (a run) after a
// Ctrl-C; off a terminal (CI) the answer is yes. A second Ctrl-C, or the
// end of ctx, while asking means no.
func confirmCancel(ctx context.Context, io *IOStreams, interrupts <-chan os.Signal, what string) bool {
	if !io.CanPrompt() {
		return true
	}
	fmt.Fprintf(io.ErrOut, "\nCancel %s in dbt Cloud? [y/N] ", what)
	answer := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(io.In).ReadString('\n')
		answer <- line
	}()
	select {
	case a := <-answer:
		a = strings.ToLower(strings.TrimSpace(a))
		return a == "y" || a == "yes"
	case <-interrupts:
	case <-ctx.Done():
	}
	fmt.Fprintln(io.ErrOut)
	return false
}

// cancelContext is ctx, ended early by another Ctrl-C: a second Ctrl-C
// while cancelling abandons the cancel.
func cancelContext(ctx context.Context, interrupts <-chan os.Signal) (context.Context, context.CancelFunc) {
	cctx, stop := context.WithCancel(ctx)
	go func() {
		select {
		case <-interrupts:
			stop()
		case <-cctx.Done():
		}
	}()
	return cctx, stop
}
