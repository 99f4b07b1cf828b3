package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dbtlink/dbtlink/internal/orchestrate"
	"github.com/dbtlink/dbtlink/internal/store"
)

// This file is `dbtlink --server URL job run`: the same command, with the
// run requested from a dbtlink server, which triggers it exactly once and
// follows it; the CLI long-polls the server instead of dbt Cloud.

// serverLongPoll is how long one GET /api/v1/runs/{id}?wait= may last; the
// server caps it at 60s.
const serverLongPoll = 30 * time.Second

// serverSettleWait bounds how long a run that has ended is waited on for
// the server to finish with it (failing nodes, artifacts) when no
// --timeout is given.
const serverSettleWait = 2 * time.Minute

// serverTriggerWait bounds how long `job run --server` without --wait
// waits for the server to have triggered the run, to print its dbt Cloud
// id as the local command does.
const serverTriggerWait = time.Minute

// validateServer checks the flags that depend on whether a server is used.
func (o *JobRunOptions) validateServer(cmd *cobra.Command) error {
	changed := cmd.Flags().Changed
	if o.ServerURL == "" {
		for _, name := range []string{"max-retries", "deadline", "cancel-at-deadline"} {
			if changed(name) {
				return usageError("--%s is a policy the dbtlink server applies while it follows the run, even when nobody waits; it needs --server URL (or $%s)", name, EnvServer)
			}
		}
		return nil
	}
	switch {
	case changed("reuse-existing"):
		return usageError("--reuse-existing cannot be used with --server: the server triggers every requested run exactly once and cannot attach to a run started elsewhere; drop the flag, or run without --server")
	case changed("retry-from-failure"):
		return usageError("--retry-from-failure cannot be used with --server: use --max-retries N, and the server reruns a failed run from the point of failure itself")
	case changed("poll"):
		return usageError("--poll cannot be used with --server: the server polls dbt Cloud (see `dbtlink serve --poll-min/--poll-max`), and dbtlink waits on the server with long polls")
	case o.MaxRetries < 0 || o.MaxRetries > 10:
		return usageError("--max-retries must be from 0 to 10, got %d", o.MaxRetries)
	case o.Deadline < 0:
		return usageError("--deadline must be a positive duration such as 45m or 2h")
	case o.CancelAtDeadline && o.Deadline == 0:
		return usageError("--cancel-at-deadline needs --deadline")
	}
	return nil
}

func jobRunServer(ctx context.Context, opts *JobRunOptions) error {
	c, err := opts.Server()
	if err != nil {
		return err
	}
	req := serverRunRequest{
		Connection: opts.Connection, JobID: opts.Ref.ID,
		Project: opts.Ref.Project, Environment: opts.Ref.Environment, Job: opts.Ref.Job,
		Trigger: opts.Request, MaxRetries: opts.MaxRetries, CancelAtDeadline: opts.CancelAtDeadline,
	}
	if req.Trigger.Cause == "" {
		req.Trigger.Cause = orchestrate.DefaultCause(Version, opts.Who())
	}
	if opts.Deadline > 0 {
		req.Deadline = opts.Deadline.String()
	}
	// Paths are checked before anything is triggered; the server then
	// stores exactly the artifacts asked for.
	for _, p := range opts.Artifacts {
		clean, err := artifactCleanPath(p, opts.OutputDir)
		if err != nil {
			return withCode(ExitUsage, err)
		}
		req.Artifacts = append(req.Artifacts, clean)
	}
	run, err := c.CreateRun(ctx, req)
	if err != nil {
		return serverCreateRunError(opts, err)
	}
	if err := writeGitHubOutputs(opts.Getenv, "dbtlink_run_id", strconv.FormatInt(run.ID, 10)); err != nil {
		return err
	}
	if !opts.Wait {
		return jobRunServerNoWait(ctx, opts, c, run)
	}
	name := c.jobName(ctx, run.Connection, run.JobID)
	if !opts.JSON {
		job := fmt.Sprintf("job %d", run.JobID)
		if name != "" {
			job += " (" + name + ")"
		}
		fmt.Fprintf(opts.IO.ErrOut, "Run of %s recorded by the dbtlink server %s as server run %d; waiting for it.\n", job, c.URL(), run.ID)
	}
	w := &serverWaiter{IO: opts.IO, Client: c, Getenv: opts.Getenv, Timeout: opts.Timeout, CancelOnTimeout: opts.CancelOnTimeout,
		Quiet: opts.JSON, shown: map[string]bool{}, JobName: name}
	if opts.Interrupts != nil {
		ch, stop := opts.Interrupts()
		defer stop()
		w.Interrupts = ch
	}
	final, waitErr := w.wait(ctx, run)
	return w.finish(ctx, final, waitErr, opts.Artifacts, opts.OutputDir, opts.JSON)
}

// jobRunServerNoWait waits only for the trigger, so that like the local
// command it prints the dbt Cloud run id and URL, and a refused trigger
// exits as it would locally.
func jobRunServerNoWait(ctx context.Context, opts *JobRunOptions, c *serverClient, run *serverRun) error {
	deadline := time.Now().Add(serverTriggerWait)
	delay := 100 * time.Millisecond
	for run.dbtID() == 0 && !serverStateTerminal(run.State) && time.Now().Before(deadline) {
		if err := sleepCtx(ctx, delay); err != nil {
			return withCode(ExitWaitTimeout, fmt.Errorf("stopped waiting for the trigger of server run %d; the server still triggers it", run.ID))
		}
		delay = min(delay*2, 2*time.Second)
		r, err := c.GetRun(ctx, run.ID, 0)
		if err != nil {
			return fmt.Errorf("read server run %d: %w", run.ID, err)
		}
		run = r
	}
	if run.State == srvFailed {
		return serverFailedError(run)
	}
	if id := run.dbtID(); id != 0 {
		if err := writeGitHubOutputs(opts.Getenv, "run_id", strconv.FormatInt(id, 10), "run_url", run.Href); err != nil {
			return err
		}
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, run)
	}
	if run.dbtID() == 0 {
		fmt.Fprintf(opts.IO.ErrOut, "Server run %d is %s: the server has not triggered it in dbt Cloud yet, and will.\n", run.ID, serverStateWord(run.State))
		return nil
	}
	fmt.Fprintf(opts.IO.Out, "%d\t%s\n", run.dbtID(), run.Href)
	return nil
}

func serverCreateRunError(opts *JobRunOptions, err error) error {
	var se *serverError
	if errors.As(err, &se) && se.Status == http.StatusNotFound {
		// A job id or names that match nothing, or names that match
		// several: exit 6, as the local command does.
		return withCode(ExitNotFound, fmt.Errorf("trigger the job: %w", err))
	}
	return fmt.Errorf("trigger the job: %w", err)
}

// serverFailedError is the error of a run in state failed: no dbt Cloud run
// exists. The exit code comes from the run's error_code, as the local
// command's would for the same answer: 5 when dbt Cloud refused the trigger
// with 401 or 403, 6 for 404 or a connection deleted before the trigger, 2
// for another 4xx; 1 for any other failure (and a code this CLI does not
// know yet). The error text is shown, never parsed.
func serverFailedError(run *serverRun) error {
	code := ExitRunError
	switch store.RunErrorCode(run.ErrorCode) {
	case store.RunErrTriggerAuth:
		code = ExitAuth
	case store.RunErrTriggerNotFound, store.RunErrConnectionDeleted:
		code = ExitNotFound
	case store.RunErrTriggerRefused:
		code = ExitUsage
	}
	why := run.Error
	if why == "" {
		why = "no reason given"
	}
	return withCode(code, fmt.Errorf("the dbtlink server could not start the run of job %d (server run %d): %s", run.JobID, run.ID, why))
}

// serverWaiter follows a run on the server and reports its end.
type serverWaiter struct {
	IO              *IOStreams
	Client          *serverClient
	Getenv          func(string) string
	Timeout         time.Duration
	CancelOnTimeout bool
	// Quiet leaves progress out (--json).
	Quiet bool
	// Interrupts delivers Ctrl-C while waiting.
	Interrupts <-chan os.Signal
	// JobName names the run's job in the first line, as locally.
	JobName string
	// WatchOnly is `run watch`: Ctrl-C stops watching and never offers to
	// cancel the run.
	WatchOnly bool

	lastState string
	lastDbtID int64
	shown     map[string]bool // steps whose end was printed
}

// update prints what changed, one plain line per change, on a terminal as
// elsewhere (the server's view of a run changes at most every few seconds).
func (w *serverWaiter) update(r *serverRun) {
	if w.Quiet {
		return
	}
	out := w.IO.ErrOut
	if id := r.dbtID(); id != 0 && id != w.lastDbtID {
		if w.lastDbtID == 0 {
			job := fmt.Sprintf("job %d", r.JobID)
			if w.JobName != "" {
				job += " (" + w.JobName + ")"
			}
			fmt.Fprintf(out, "Run %d of %s: %s\n", id, job, r.Href)
		} else {
			fmt.Fprintf(out, "Rerun from failure (%d of %d): run %d: %s\n", r.Retries, r.MaxRetries, id, r.Href)
		}
		w.lastDbtID = id
		w.lastState = ""
	}
	terminal := serverStateTerminal(r.State)
	if r.State != w.lastState && !terminal {
		w.lastState = r.State
		fmt.Fprintf(out, "%s: %s\n", r.label(), serverStateWord(r.State))
	}
	for _, s := range r.Steps {
		key := fmt.Sprintf("%d/%d", r.dbtID(), s.Index)
		if serverStateTerminal(s.Status) && !w.shown[key] {
			w.shown[key] = true
			d := ""
			if s.StartedAt != nil && s.FinishedAt != nil {
				d = " (" + clockDuration(s.FinishedAt.Sub(*s.StartedAt)) + ")"
			}
			fmt.Fprintf(out, "step %d %s: %s%s\n", s.Index, s.Name, serverStateWord(s.Status), d)
		}
	}
	if r.State != w.lastState {
		w.lastState = r.State
		fmt.Fprintf(out, "%s: %s\n", r.label(), serverStateWord(r.State))
	}
}

type serverPoll struct {
	run *serverRun
	err error
}

// wait follows run until the server is done with it. It returns the last
// run read and nil for success, or an error carrying the exit code as the
// local wait does: 1 error, 3 cancelled, 4 --timeout passed or waiting
// stopped; a failed run exits as its refused trigger would have locally.
func (w *serverWaiter) wait(ctx context.Context, run *serverRun) (*serverRun, error) {
	w.update(run)
	pollCtx, stopPoll := context.WithCancel(ctx)
	defer stopPoll()
	done := make(chan serverPoll, 1)
	go func() {
		r, err := w.poll(pollCtx, run)
		done <- serverPoll{r, err}
	}()
	var timeout <-chan time.Time
	if w.Timeout > 0 {
		t := time.NewTimer(w.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	var res serverPoll
	select {
	case res = <-done:
	case <-timeout:
		stopPoll()
		res = <-done
		return res.run, w.timedOut(ctx, res.run)
	case <-w.Interrupts:
		stopPoll()
		res = <-done
		return w.interrupted(ctx, res.run)
	}
	r, err := res.run, res.err
	switch {
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		// SIGTERM: stop waiting, leave the run to the server.
		return r, withCode(ExitWaitTimeout, fmt.Errorf("stopped waiting for %s; the dbtlink server still follows it%s", r.label(), r.serverRef()))
	case err != nil:
		return r, fmt.Errorf("wait for %s%s: %w", r.label(), r.serverRef(), err)
	}
	switch r.State {
	case srvSuccess:
		return r, nil
	case srvError:
		w.printFailure(r)
		return r, withCode(ExitRunError, fmt.Errorf("%s ended in error%s: %s", r.label(), serverStatusMessage(r), r.Href))
	case srvCancelled:
		return r, withCode(ExitRunCancelled, fmt.Errorf("%s was cancelled%s: %s", r.label(), serverStatusMessage(r), r.Href))
	}
	return r, serverFailedError(r)
}

// poll long-polls the run until the server is done with it. On error it
// returns the last run read with the error.
func (w *serverWaiter) poll(ctx context.Context, run *serverRun) (*serverRun, error) {
	var endedAt time.Time
	settleDelay := 200 * time.Millisecond
	for !run.settled() {
		var r *serverRun
		var err error
		if serverStateTerminal(run.State) {
			// Ended: the server is recording failing nodes and artifacts
			// (or rerunning); a long poll would answer at once.
			if endedAt.IsZero() {
				endedAt = time.Now()
			}
			if w.Timeout == 0 && time.Since(endedAt) > serverSettleWait {
				if !w.Quiet {
					fmt.Fprintf(w.IO.ErrOut, "warning: the server has not finished with %s after %s (artifacts: not yet handled); reporting it as it is\n", run.label(), serverSettleWait)
				}
				return run, nil
			}
			if err := sleepCtx(ctx, settleDelay); err != nil {
				return run, err
			}
			settleDelay = min(settleDelay*2, 3*time.Second)
			r, err = w.Client.GetRun(ctx, run.ID, 0)
		} else {
			endedAt, settleDelay = time.Time{}, 200*time.Millisecond
			// The long poll answers early only when the run ends; until
			// dbt Cloud has the run, short ones show its id and URL soon.
			wait := serverLongPoll
			if run.dbtID() == 0 {
				wait = 2 * time.Second
			}
			r, err = w.Client.GetRun(ctx, run.ID, wait)
		}
		if err != nil {
			if ctx.Err() != nil {
				return run, ctx.Err()
			}
			return run, err
		}
		run = r
		w.update(run)
	}
	return run, nil
}

func serverStatusMessage(r *serverRun) string {
	if m := strings.TrimSpace(r.StatusMessage); m != "" && m != "None" {
		return " (" + m + ")"
	}
	return ""
}

// printFailure shows where the run failed, the log lines the server kept,
// and the failing nodes.
func (w *serverWaiter) printFailure(r *serverRun) {
	out := w.IO.ErrOut
	first, rest, _ := strings.Cut(strings.TrimSpace(r.Error), "\n")
	if first != "" {
		fmt.Fprintf(out, "\n%s %s.\n", strings.ToUpper(r.label()[:1])+r.label()[1:], strings.TrimSuffix(first, "."))
	}
	if rest = strings.TrimSpace(rest); rest != "" {
		fmt.Fprintln(out, "From its log:")
		for _, l := range strings.Split(rest, "\n") {
			fmt.Fprintf(out, "  %s\n", l)
		}
	}
	if len(r.FailingNodes) > 0 {
		fmt.Fprintln(out, "Failing nodes:")
		t := newTable(out)
		for _, n := range r.FailingNodes {
			t.row("  "+n.UniqueID, n.Status, firstLine(n.Message))
		}
		_ = t.flush()
	}
}

// timedOut handles --timeout: cancel through the server if asked, exit 4.
func (w *serverWaiter) timedOut(ctx context.Context, r *serverRun) error {
	msg := fmt.Sprintf("%s did not finish within %s", r.label(), w.Timeout)
	if w.CancelOnTimeout {
		if _, err := w.Client.CancelRun(ctx, r.ID); err != nil && !isServerConflict(err) {
			msg += fmt.Sprintf("; cancelling it failed (%v), so it may still be %s", err, serverStateWord(r.State))
		} else {
			msg += "; the dbtlink server was asked to cancel it in dbt Cloud"
		}
	} else {
		msg += fmt.Sprintf("; it is still %s, and the dbtlink server follows it%s", serverStateWord(r.State), r.serverRef())
	}
	return withCode(ExitWaitTimeout, errors.New(msg))
}

func isServerConflict(err error) bool {
	var se *serverError
	return errors.As(err, &se) && se.Status == http.StatusConflict
}

// interrupted handles Ctrl-C as the local command does: on a terminal ask
// whether to cancel (a second Ctrl-C means no); without one (CI), cancel
// through the server at once. Leaving the run exits 4, cancelling 3.
//
// A run that had already ended when the cancel reached the server (which
// then answers 409) is reported as it ended, and the exit status follows
// that outcome, as locally: it returns the run as last known with nil for
// a success.
func (w *serverWaiter) interrupted(ctx context.Context, r *serverRun) (*serverRun, error) {
	leave := func() error {
		fmt.Fprintf(w.IO.ErrOut, "%s is still going; the dbtlink server follows it%s: %s\n", r.label(), r.serverRef(), r.Href)
		return &ExitError{Code: ExitWaitTimeout, Silent: true, Err: fmt.Errorf("stopped waiting for %s", r.label())}
	}
	if w.WatchOnly {
		fmt.Fprintf(w.IO.ErrOut, "\nStopped watching %s; it was left alone, and the dbtlink server follows it%s: %s\n", r.label(), r.serverRef(), r.Href)
		return r, &ExitError{Code: ExitWaitTimeout, Silent: true, Err: fmt.Errorf("stopped watching %s", r.label())}
	}
	if !confirmCancel(ctx, w.IO, w.Interrupts, r.label()) {
		return r, leave()
	}
	cctx, stop := cancelContext(ctx, w.Interrupts)
	defer stop()
	if _, err := w.Client.CancelRun(cctx, r.ID); err != nil {
		if cctx.Err() != nil {
			return r, leave()
		}
		if !isServerConflict(err) {
			return r, fmt.Errorf("cancel %s: %w (it may still be running: %s)", r.label(), err, r.Href)
		}
		// It had ended: say how, rather than claim a cancel.
		if got, gerr := w.Client.GetRun(ctx, r.ID, 0); gerr == nil && serverStateTerminal(got.State) &&
			!(got.State == srvCancelled && (got.StatusMessage == "" || got.StatusMessage == userCancelMessage)) {
			fmt.Fprintf(w.IO.ErrOut, "%s had already ended, before the cancel reached dbt Cloud: %s%s. Nothing was cancelled.\n",
				strings.ToUpper(got.label()[:1])+got.label()[1:], serverStateWord(got.State), serverStatusMessage(got))
			switch got.State {
			case srvSuccess:
				return got, nil
			case srvError:
				w.printFailure(got)
				return got, withCode(ExitRunError, fmt.Errorf("%s ended in error%s: %s", got.label(), serverStatusMessage(got), got.Href))
			case srvCancelled:
				return got, &ExitError{Code: ExitRunCancelled, Silent: true, Err: fmt.Errorf("%s had already been cancelled", got.label())}
			}
			return got, serverFailedError(got)
		}
	}
	fmt.Fprintf(w.IO.ErrOut, "Asked the dbtlink server to cancel %s in dbt Cloud.\n", r.label())
	return r, &ExitError{Code: ExitRunCancelled, Silent: true, Err: fmt.Errorf("%s cancelled", r.label())}
}

// finish does what follows the wait: GitHub outputs, artifacts from the
// server, the final line or JSON. The wait's error wins over a failed
// download, as locally.
func (w *serverWaiter) finish(ctx context.Context, final *serverRun, waitErr error, paths []string, dir string, asJSON bool) error {
	if final == nil {
		return waitErr
	}
	var pairs []string
	if id := final.dbtID(); id != 0 {
		pairs = append(pairs, "run_id", strconv.FormatInt(id, 10), "run_url", final.Href)
	}
	if serverStateTerminal(final.State) {
		pairs = append(pairs, "status", serverStateWord(final.State)) // as locally: Success, Error, ...
	}
	if err := writeGitHubOutputs(w.Getenv, pairs...); err != nil {
		return errors.Join(waitErr, err)
	}
	var dlErr error
	if len(paths) > 0 && (final.State == srvSuccess || final.State == srvError) {
		switch {
		case strings.HasPrefix(final.ArtifactsState, "failed"):
			dlErr = withCode(ExitUpstream, fmt.Errorf("the dbtlink server could not store the artifacts of %s: %s", final.label(), strings.TrimPrefix(final.ArtifactsState, "failed: ")))
		default:
			open := func(ctx context.Context, p string) (io.ReadCloser, error) {
				rc, err := w.Client.OpenArtifact(ctx, final.ID, p)
				if err != nil {
					return nil, fmt.Errorf("download artifact %s of %s from the dbtlink server: %w", p, final.label(), err)
				}
				return rc, nil
			}
			dlErr = saveArtifacts(ctx, open, final.dbtID(), paths, dir, 4, w.IO)
		}
		if dlErr != nil && waitErr != nil {
			fmt.Fprintf(w.IO.ErrOut, "warning: %v\n", dlErr)
		}
	}
	if asJSON {
		if err := writeJSON(w.IO.Out, final); err != nil {
			return err
		}
	} else if waitErr == nil {
		var took time.Duration
		if final.DbtCreatedAt != nil && final.FinishedAt != nil {
			took = final.FinishedAt.Sub(*final.DbtCreatedAt)
		}
		fmt.Fprintf(w.IO.Out, "Run %d succeeded in %s.\n", final.dbtID(), shortDuration(max(took, 0)))
	}
	if waitErr != nil {
		return waitErr
	}
	return dlErr
}
