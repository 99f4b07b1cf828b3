package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/internal/orchestrate"
)

// classifyOrchestrateError maps name lookups that found none or several to
// 6 and a wait that timed out to 4.
func classifyOrchestrateError(err error) (int, bool) {
	var nf *orchestrate.NotFoundError
	var amb *orchestrate.AmbiguousError
	switch {
	case errors.As(err, &nf), errors.As(err, &amb):
		return ExitNotFound, true
	case errors.Is(err, orchestrate.ErrWaitTimeout):
		return ExitWaitTimeout, true
	}
	return 0, false
}

func newCmdRun(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Inspect, follow, cancel and retry dbt Cloud runs",
	}
	cmd.AddCommand(NewCmdRunGet(f, nil), NewCmdRunList(f, nil), NewCmdRunWatch(f, nil), NewCmdRunCancel(f, nil), NewCmdRunRetry(f, nil))
	return cmd
}

// ---- run get ----

// RunGetOptions holds the dependencies and flags of `run get`.
type RunGetOptions struct {
	IO     *IOStreams
	Client func(...dbtcloud.Option) (*dbtcloud.Client, int64, error)
	Now    func() time.Time
	// Server, ServerURL and Connection: see JobRunOptions.
	Server     func() (*serverClient, error)
	ServerURL  string
	Connection string

	RunID int64
	Steps bool
	JSON  bool
}

// NewCmdRunGet builds `dbtlink run get`.
func NewCmdRunGet(f *Factory, runF func(*RunGetOptions) error) *cobra.Command {
	opts := &RunGetOptions{IO: f.IO, Client: jobAccountClient(f), Now: f.Now, Server: f.Server}
	cmd := &cobra.Command{
		Use:   "get RUN_ID",
		Short: "Show one run",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := jobParseID("run", args[0])
			if err != nil {
				return err
			}
			opts.RunID = id
			opts.ServerURL, opts.Connection = f.ServerURL(), f.ConnectionName
			if runF != nil {
				return runF(opts)
			}
			if opts.ServerURL != "" {
				return runGetServer(cmd.Context(), opts)
			}
			return runGetRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Steps, "steps", false, "show the run's steps")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the run as JSON (with its trigger, job and, with --steps, steps)")
	return cmd
}

func runGetRun(ctx context.Context, opts *RunGetOptions) error {
	client, acct, err := opts.Client()
	if err != nil {
		return err
	}
	rel := []string{"trigger", "job"}
	if opts.Steps {
		rel = append(rel, "run_steps")
	}
	run, _, err := client.Runs.Get(ctx, acct, opts.RunID, &dbtcloud.RunGetOptions{IncludeRelated: rel})
	if err != nil {
		return lookupError("run", opts.RunID, acct, fmt.Sprintf("get run %d", opts.RunID), err)
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, run)
	}
	out := opts.IO.Out
	t := newTable(out)
	job := strconv.FormatInt(run.JobDefinitionID, 10)
	if run.Job != nil && run.Job.Name != "" {
		job += " (" + run.Job.Name + ")"
	}
	t.row("Run:", strconv.FormatInt(run.ID, 10))
	t.row("Job:", job)
	t.row("Status:", run.Status.String()+statusMessage(run))
	if run.Trigger != nil {
		t.row("Cause:", displayCause(run.Trigger.Cause))
	}
	t.row("Created:", timeOrDash(run.CreatedAt))
	t.row("Started:", timeOrDash(run.StartedAt))
	t.row("Finished:", timeOrDash(run.FinishedAt))
	t.row("Duration:", shortDuration(runElapsed(run, serverNow(run, opts.Now()))))
	if run.Status == dbtcloud.RunStatusError {
		retry := "yes (dbtlink run retry " + strconv.FormatInt(run.ID, 10) + ")"
		if !run.CanRetry {
			retry = "no: " + retryRefusal(run)
		}
		t.row("Retry:", retry)
	}
	t.row("URL:", run.Href)
	if err := t.flush(); err != nil {
		return err
	}
	if opts.Steps && len(run.RunSteps) > 0 {
		fmt.Fprintln(out)
		st := newTable(out, "STEP", "STATUS", "DURATION", "NAME")
		for _, s := range run.RunSteps {
			st.row(strconv.Itoa(s.Index), s.Status.String(), clockDuration(stepDuration(s, serverNow(run, opts.Now()))), s.Name)
		}
		return st.flush()
	}
	return nil
}

// displayCause is a run's cause as tables and summaries show it: without
// the " [dbtlink:<hex>]" marker dbtlink appends when it triggers a run (its
// own bookkeeping, which finds the run again after a lost answer). --json
// keeps the cause as dbt Cloud has it. The dbtlink server keeps the cause
// it was given, without the marker, so both show the same words.
func displayCause(cause string) string {
	if m, ok := dbtcloud.ExtractTriggerMarker(cause); ok {
		return strings.TrimSuffix(cause, " [dbtlink:"+m+"]")
	}
	return cause
}

func timeOrDash(t dbtcloud.Timestamp) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// ---- run list ----

// RunListOptions holds the dependencies and flags of `run list`.
type RunListOptions struct {
	IO     *IOStreams
	Client func(...dbtcloud.Option) (*dbtcloud.Client, int64, error)
	Now    func() time.Time
	// Server, ServerURL and Connection: see JobRunOptions.
	Server     func() (*serverClient, error)
	ServerURL  string
	Connection string

	JobID         int64
	ProjectID     int64
	EnvironmentID int64
	Statuses      []string
	Limit         int
	JSON          bool
}

// NewCmdRunList builds `dbtlink run list`.
func NewCmdRunList(f *Factory, runF func(*RunListOptions) error) *cobra.Command {
	opts := &RunListOptions{IO: f.IO, Client: jobAccountClient(f), Now: f.Now, Server: f.Server}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List recent runs, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Limit < 1 {
				return usageError("--limit must be at least 1")
			}
			opts.ServerURL, opts.Connection = f.ServerURL(), f.ConnectionName
			if runF != nil {
				return runF(opts)
			}
			if opts.ServerURL != "" {
				return runListServer(cmd.Context(), opts)
			}
			return runListRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.Int64Var(&opts.JobID, "job", 0, "only runs of this job id")
	fl.Int64Var(&opts.ProjectID, "project", 0, "only runs in this project id")
	fl.Int64Var(&opts.EnvironmentID, "environment", 0, "only runs in this environment id")
	fl.StringSliceVar(&opts.Statuses, "status", nil, "only runs in these states: queued, starting, running, success, error, cancelled")
	fl.IntVar(&opts.Limit, "limit", 20, "show at most this many runs")
	fl.BoolVar(&opts.JSON, "json", false, "print the runs as a JSON array")
	return cmd
}

func runListRun(ctx context.Context, opts *RunListOptions) error {
	lo := &dbtcloud.RunListOptions{
		JobDefinitionID: opts.JobID, ProjectID: opts.ProjectID, EnvironmentID: opts.EnvironmentID,
		// The trigger carries the cause; it comes with the same request.
		OrderBy: "-id", IncludeRelated: []string{"job", "trigger"},
		ListOptions: dbtcloud.ListOptions{Limit: min(opts.Limit, 100)},
	}
	for _, s := range opts.Statuses {
		st, ok := dbtcloud.ParseRunStatus(strings.TrimSpace(s))
		if !ok {
			return usageError("--status %q is not one of queued, starting, running, success, error, cancelled", s)
		}
		lo.StatusIn = append(lo.StatusIn, st)
	}
	client, acct, err := opts.Client()
	if err != nil {
		return err
	}
	runs := []*dbtcloud.Run{}
	for r, err := range client.Runs.ListIter(ctx, acct, lo) {
		if err != nil {
			return fmt.Errorf("list runs: %w", err)
		}
		runs = append(runs, r)
		if len(runs) == opts.Limit {
			break
		}
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, runs)
	}
	if len(runs) == 0 {
		fmt.Fprintln(opts.IO.ErrOut, "No runs match.")
		return nil
	}
	header := []string{"ID", "STATUS", "JOB", "CREATED", "DURATION", "CAUSE"}
	rows := [][]string{header}
	for _, r := range runs {
		job := strconv.FormatInt(r.JobDefinitionID, 10)
		if r.Job != nil && r.Job.Name != "" {
			job += " " + r.Job.Name
		}
		cause := "-"
		if r.Trigger != nil && strings.TrimSpace(displayCause(r.Trigger.Cause)) != "" {
			cause = strings.Join(strings.Fields(displayCause(r.Trigger.Cause)), " ")
		}
		rows = append(rows, []string{strconv.FormatInt(r.ID, 10), r.Status.String(), job, timeOrDash(r.CreatedAt),
			shortDuration(runElapsed(r, serverNow(r, opts.Now()))), cause})
	}
	// The cause, last, gets what the other columns leave of a terminal's
	// width (at least 10 characters); 60 when the output is not a terminal.
	causeWidth := 60
	if opts.IO.IsStdoutTTY() {
		used := 0
		for col := range len(header) - 1 {
			w := 0
			for _, row := range rows {
				w = max(w, utf8.RuneCountInString(row[col]))
			}
			used += w + 2 // the table's padding
		}
		causeWidth = max(opts.IO.TerminalWidth()-1-used, 10)
	}
	t := newTable(opts.IO.Out)
	for i, row := range rows {
		if i > 0 {
			row[len(row)-1] = truncateRunes(row[len(row)-1], causeWidth)
		}
		t.row(row...)
	}
	return t.flush()
}

// ---- run watch ----

// RunWatchOptions holds the dependencies and flags of `run watch`.
type RunWatchOptions struct {
	IO     *IOStreams
	Client func(...dbtcloud.Option) (*dbtcloud.Client, int64, error)
	Now    func() time.Time
	Clock  orchestrate.Clock
	// Ticks drives the terminal view's redraws between polls; nil is a
	// real one-second ticker.
	Ticks func() (<-chan time.Time, func())
	// Server, ServerURL and Connection: see JobRunOptions.
	Server     func() (*serverClient, error)
	ServerURL  string
	Connection string

	// Interrupts subscribes to Ctrl-C while watching (tests send on a
	// channel); Ctrl-C stops watching and leaves the run alone.
	Interrupts func() (<-chan os.Signal, func())

	RunID      int64
	Poll       time.Duration
	Timeout    time.Duration
	ExitStatus bool
	// Getenv and OpenLineage: the run's events once it ended, as for
	// `job run --wait`.
	Getenv      func(string) string
	OpenLineage openLineageFlags
}

// NewCmdRunWatch builds `dbtlink run watch`.
func NewCmdRunWatch(f *Factory, runF func(*RunWatchOptions) error) *cobra.Command {
	opts := &RunWatchOptions{IO: f.IO, Client: jobAccountClient(f), Now: f.Now, Server: f.Server, Interrupts: notifyInterrupt,
		Getenv: f.Getenv}
	cmd := &cobra.Command{
		Use:   "watch RUN_ID",
		Short: "Follow a run until it ends",
		Long: `Follow a run (started by anyone) until it ends, showing its steps.

Exit status: 0 once the run ends, whatever its outcome, unless --exit-status
is given: then 1 if it ended in error and 3 if it was cancelled. 4 when
--timeout passes, and on Ctrl-C, which stops watching and leaves the run
alone (never cancels it: 'dbtlink run cancel RUN_ID' does).

` + openLineageEnvHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := jobParseID("run", args[0])
			if err != nil {
				return err
			}
			opts.RunID = id
			if err := checkWaitDurations(opts.Timeout, opts.Poll); err != nil {
				return err
			}
			opts.ServerURL, opts.Connection = f.ServerURL(), f.ConnectionName
			if err := opts.OpenLineage.checkWaiting(opts.Getenv, true, opts.ServerURL != ""); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			if opts.ServerURL != "" {
				return runWatchServer(cmd.Context(), opts)
			}
			return runWatchRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().DurationVar(&opts.Poll, "poll", 0, "fixed interval between status checks (default adaptive)")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 0, "stop watching after this long and exit 4 (default no limit)")
	cmd.Flags().BoolVar(&opts.ExitStatus, "exit-status", false, "exit 1 if the run ends in error, 3 if it is cancelled")
	addOpenLineageFlags(cmd.Flags(), &opts.OpenLineage, false)
	return cmd
}

func runWatchRun(ctx context.Context, opts *RunWatchOptions) error {
	client, acct, err := opts.Client()
	if err != nil {
		return err
	}
	// The steps come with this read, so it is the wait's first poll too.
	run, _, err := client.Runs.Get(ctx, acct, opts.RunID, &dbtcloud.RunGetOptions{IncludeRelated: []string{"job", "run_steps"}})
	if err != nil {
		return lookupError("run", opts.RunID, acct, fmt.Sprintf("get run %d", opts.RunID), err)
	}
	name := fmt.Sprintf("job %d", run.JobDefinitionID)
	if run.Job != nil && run.Job.Name != "" {
		name = run.Job.Name
	}
	w := &waiter{IO: opts.IO, Now: opts.Now, Client: client, AccountID: acct, JobName: name,
		Timeout: opts.Timeout, Poll: opts.Poll, Clock: opts.Clock, Ticks: opts.Ticks, Fresh: true, WatchOnly: true}
	if opts.Interrupts != nil {
		ch, stop := opts.Interrupts()
		defer stop()
		w.Interrupts = ch
	}
	final, err := lineageWait{IO: opts.IO, Flags: &opts.OpenLineage, Getenv: opts.Getenv}.wait(ctx, w, run)
	var ee *ExitError
	if !opts.ExitStatus && errors.As(err, &ee) && (ee.Code == ExitRunError || ee.Code == ExitRunCancelled) {
		// The outcome was shown; without --exit-status it is not a failure of watching.
		fmt.Fprintf(opts.IO.Out, "Run %d ended: %s\n", final.ID, final.Status)
		return nil
	}
	if err == nil {
		fmt.Fprintf(opts.IO.Out, "Run %d ended: %s\n", final.ID, final.Status)
	}
	return err
}

// ---- run cancel ----

// RunCancelOptions holds the dependencies and flags of `run cancel`.
type RunCancelOptions struct {
	IO     *IOStreams
	Client func(...dbtcloud.Option) (*dbtcloud.Client, int64, error)
	// Server, ServerURL and Connection: see JobRunOptions.
	Server     func() (*serverClient, error)
	ServerURL  string
	Connection string

	RunID int64
	JSON  bool
}

// NewCmdRunCancel builds `dbtlink run cancel`.
func NewCmdRunCancel(f *Factory, runF func(*RunCancelOptions) error) *cobra.Command {
	opts := &RunCancelOptions{IO: f.IO, Client: jobAccountClient(f), Server: f.Server}
	cmd := &cobra.Command{
		Use:   "cancel RUN_ID",
		Short: "Cancel a run",
		Long:  "Cancel a queued or running run. Cancelling a run that has already ended changes nothing and is not an error.",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := jobParseID("run", args[0])
			if err != nil {
				return err
			}
			opts.RunID = id
			opts.ServerURL, opts.Connection = f.ServerURL(), f.ConnectionName
			if runF != nil {
				return runF(opts)
			}
			if opts.ServerURL != "" {
				return runCancelServer(cmd.Context(), opts)
			}
			return runCancelRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the run as JSON")
	return cmd
}

func runCancelRun(ctx context.Context, opts *RunCancelOptions) error {
	client, acct, err := opts.Client()
	if err != nil {
		return err
	}
	// dbt Cloud answers a cancel of a run that already ended with that run,
	// so a run cancelled earlier would read "Cancelled run N." again: look
	// first, and cancel only a run still in flight.
	run, _, err := client.Runs.Get(ctx, acct, opts.RunID, nil)
	if err != nil {
		return lookupError("run", opts.RunID, acct, fmt.Sprintf("get run %d", opts.RunID), err)
	}
	if !run.Status.Terminal() {
		run, _, err = client.Runs.Cancel(ctx, acct, opts.RunID)
		if err != nil {
			return lookupError("run", opts.RunID, acct, fmt.Sprintf("cancel run %d", opts.RunID), err)
		}
	} else if !opts.JSON {
		fmt.Fprintf(opts.IO.Out, "Run %d already ended (%s); nothing to cancel.\n", run.ID, run.Status)
		return nil
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, run)
	}
	if run.Status == dbtcloud.RunStatusCancelled {
		fmt.Fprintf(opts.IO.Out, "Cancelled run %d.\n", run.ID)
	} else {
		fmt.Fprintf(opts.IO.Out, "Asked dbt Cloud to cancel run %d; it is %s for now.\n", run.ID, run.Status)
	}
	return nil
}

// ---- run retry ----

// RunRetryOptions holds the dependencies and flags of `run retry`.
type RunRetryOptions struct {
	IO         *IOStreams
	Client     func(...dbtcloud.Option) (*dbtcloud.Client, int64, error)
	Getenv     func(string) string
	Now        func() time.Time
	Interrupts func() (<-chan os.Signal, func())
	Clock      orchestrate.Clock
	// Ticks drives the terminal view's redraws between polls; nil is a
	// real one-second ticker.
	Ticks func() (<-chan time.Time, func())

	RunID           int64
	Wait            bool
	Timeout         time.Duration
	Poll            time.Duration
	CancelOnTimeout bool
	JSON            bool
	// OpenLineage: with --wait, the new run's events once it ended, as for
	// `job run --wait`.
	OpenLineage openLineageFlags
}

// NewCmdRunRetry builds `dbtlink run retry`.
func NewCmdRunRetry(f *Factory, runF func(*RunRetryOptions) error) *cobra.Command {
	opts := &RunRetryOptions{IO: f.IO, Client: jobAccountClient(f), Getenv: f.Getenv, Now: f.Now, Interrupts: notifyInterrupt}
	cmd := &cobra.Command{
		Use:   "retry RUN_ID",
		Short: "Retry a failed run from its point of failure",
		Long: `Retry a failed run from its point of failure: dbt Cloud starts a new run that
re-executes only what failed or was skipped. dbt Cloud allows it only for the
job's latest run, when it failed, used dbt 1.6 or later, ran retryable
commands and wrote run_results.json; otherwise dbtlink says which rule
applies. To rerun a job whatever happened, use 'dbtlink job run JOB_ID
--retry-from-failure'.

With --wait, the exit status follows the new run as for 'job run --wait',
and the new run's OpenLineage events are sent as 'job run --wait' sends them.

It works locally only: a dbtlink server has no retry of a run, and a retry
started elsewhere is a run the server does not follow. Have the server rerun
failed runs itself with 'dbtlink job run JOB_ID --server URL --max-retries N'.

` + openLineageEnvHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := jobParseID("run", args[0])
			if err != nil {
				return err
			}
			opts.RunID = id
			if err := checkWaitDurations(opts.Timeout, opts.Poll); err != nil {
				return err
			}
			switch {
			case !opts.Wait && (opts.Timeout > 0 || opts.Poll > 0 || opts.CancelOnTimeout):
				return usageError("--timeout, --poll and --cancel-on-timeout need --wait")
			case opts.CancelOnTimeout && opts.Timeout == 0:
				return usageError("--cancel-on-timeout needs --timeout")
			}
			if err := opts.OpenLineage.checkWaiting(opts.Getenv, opts.Wait, false); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runRetryRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.Wait, "wait", false, "wait for the new run to finish; the exit status follows its outcome")
	fl.DurationVar(&opts.Timeout, "timeout", 0, "with --wait: stop waiting after this long and exit 4")
	fl.DurationVar(&opts.Poll, "poll", 0, "with --wait: fixed interval between status checks (default adaptive)")
	fl.BoolVar(&opts.CancelOnTimeout, "cancel-on-timeout", false, "with --timeout: cancel the new run when the timeout passes")
	fl.BoolVar(&opts.JSON, "json", false, "print the new run (the final run with --wait) as JSON")
	addOpenLineageFlags(fl, &opts.OpenLineage, false)
	return cmd
}

// retryRefusal says in plain words why dbt Cloud will not retry r. "Did
// not fail" alone misleads for a run that is still going or was cancelled,
// so those say what the run is and what to do instead.
func retryRefusal(r *dbtcloud.Run) string {
	reason := r.RetryNotSupportedReason
	if reason != "" && reason != "RETRY_NOT_FAILED_RUN" {
		return retryReason(reason)
	}
	switch {
	case !r.Status.Terminal():
		return fmt.Sprintf("it is still %s; only a run that ended in error can be retried (follow it with `dbtlink run watch %d`)", r.Status, r.ID)
	case r.Status == dbtcloud.RunStatusSuccess:
		return "it succeeded, so there is nothing to retry"
	case r.Status == dbtcloud.RunStatusCancelled:
		return fmt.Sprintf("it was cancelled, not failed; only a run that ended in error can be retried (start a new one with `dbtlink job run %d`)", r.JobDefinitionID)
	case reason == "":
		return retryReason("")
	}
	return retryReason(reason)
}

// retryReason explains dbt Cloud's retry_not_supported_reason in plain words.
func retryReason(code string) string {
	switch code {
	case "RETRY_UNSUPPORTED_CMD":
		return "the run's commands cannot be retried from the point of failure (retry supports build, run, test, seed, snapshot and similar commands)"
	case "RETRY_UNSUPPORTED_VERSION":
		return "the run used a dbt version older than 1.6, which cannot retry from the point of failure"
	case "RETRY_NOT_LATEST_RUN":
		return "the job has run again since; only a job's latest run can be retried"
	case "RETRY_NOT_FAILED_RUN":
		return "the run did not fail, so there is nothing to retry"
	case "RETRY_NO_RUN_RESULTS":
		return "the run stopped before dbt wrote run_results.json (for example in git clone or dbt deps), so dbt does not know what to retry; start a new run instead"
	case "":
		return "dbt Cloud gave no reason"
	}
	return "dbt Cloud says " + code
}

func runRetryRun(ctx context.Context, opts *RunRetryOptions) error {
	client, acct, err := opts.Client()
	if err != nil {
		return err
	}
	old, _, err := client.Runs.Get(ctx, acct, opts.RunID, &dbtcloud.RunGetOptions{IncludeRelated: []string{"job"}})
	if err != nil {
		return lookupError("run", opts.RunID, acct, fmt.Sprintf("get run %d", opts.RunID), err)
	}
	if !old.CanRetry {
		return usageError("run %d cannot be retried: %s", old.ID, retryRefusal(old))
	}
	run, _, err := client.Runs.Retry(ctx, acct, opts.RunID)
	if err != nil {
		return lookupError("run", opts.RunID, acct, fmt.Sprintf("retry run %d", opts.RunID), err)
	}
	url := run.Href
	if url == "" {
		url = client.RunURL(acct, run.ProjectID, run.ID)
	}
	if err := writeGitHubOutputs(opts.Getenv, "run_id", strconv.FormatInt(run.ID, 10), "run_url", url); err != nil {
		return err
	}
	if !opts.Wait {
		if opts.JSON {
			return writeJSON(opts.IO.Out, run)
		}
		fmt.Fprintf(opts.IO.Out, "%d\t%s\n", run.ID, url)
		return nil
	}
	name := fmt.Sprintf("job %d", old.JobDefinitionID)
	if old.Job != nil && old.Job.Name != "" {
		name = old.Job.Name
	}
	if !opts.JSON {
		fmt.Fprintf(opts.IO.ErrOut, "Run %d retries run %d: %s\n", run.ID, old.ID, url)
	}
	w := &waiter{IO: opts.IO, Now: opts.Now, Client: client, AccountID: acct, JobName: name,
		Timeout: opts.Timeout, Poll: opts.Poll, CancelOnTimeout: opts.CancelOnTimeout, Clock: opts.Clock, Fresh: true,
		Ticks: opts.Ticks, URLShown: !opts.JSON}
	if opts.Interrupts != nil {
		ch, stop := opts.Interrupts()
		defer stop()
		w.Interrupts = ch
	}
	final, waitErr := lineageWait{IO: opts.IO, Flags: &opts.OpenLineage, Getenv: opts.Getenv}.wait(ctx, w, run)
	return finishRun(ctx, opts.IO, opts.Getenv, client, acct, final, waitErr, nil, "", opts.JSON)
}
