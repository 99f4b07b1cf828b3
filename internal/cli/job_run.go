package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/internal/orchestrate"
)

// JobRunOptions holds the dependencies and flags of `job run`.
type JobRunOptions struct {
	IO     *IOStreams
	Client func(...dbtcloud.Option) (*dbtcloud.Client, int64, error)
	Getenv func(string) string
	Now    func() time.Time
	// Who is "user@host" for the default cause.
	Who func() string
	// Interrupts subscribes to Ctrl-C while waiting (tests send on a channel).
	Interrupts func() (<-chan os.Signal, func())
	// Clock is the polling clock; nil means the real one.
	Clock orchestrate.Clock
	// Ticks drives the terminal view's redraws between polls; nil is a
	// real one-second ticker.
	Ticks func() (<-chan time.Time, func())

	Ref     orchestrate.JobRef
	Request dbtcloud.TriggerRunRequest

	GenerateDocs, NoGenerateDocs bool
	TimeoutSecondsOverride       int
	timeoutSecondsSet            bool
	// overridesGiven says a trigger override flag was given (which
	// --reuse-existing then does not apply).
	overridesGiven bool

	Wait             bool
	Timeout          time.Duration
	Poll             time.Duration
	ReuseExisting    bool
	RetryFromFailure bool
	CancelOnTimeout  bool
	Artifacts        []string
	OutputDir        string
	JSON             bool

	// Server is the dbtlink server client; ServerURL is set when the run
	// goes through a server (--server or $DBTLINK_SERVER).
	Server    func() (*serverClient, error)
	ServerURL string
	// Connection is --connection, which the server resolves by name.
	Connection string
	// Server-only policy flags.
	MaxRetries       int
	Deadline         time.Duration
	CancelAtDeadline bool

	OpenLineage openLineageFlags
}

const jobRunLong = `Trigger a dbt Cloud job, optionally wait for it, and fetch its artifacts.

Name the job by id, or by its project, environment and job names (each must
match exactly one object; the error lists the candidates otherwise). Names
are compared exactly first; a name that matches nothing exactly matches one
that differs only in case.

Without --wait, dbtlink prints the run id and URL and exits 0 as soon as dbt
Cloud has queued the run. A trigger whose answer is lost is never repeated
blindly: dbtlink finds the run it created, so one command makes one run.

With --wait, progress is shown on stderr (redrawn in place on a terminal,
one line per change otherwise), and the exit status follows the run:
0 success, 1 error (the failing step's log tail and failing dbt nodes are
printed), 3 cancelled, 4 --timeout passed (after cancelling the run if
--cancel-on-timeout).

Polling is adaptive by default: dense near the end expected from the job's
previous successful run, sparse otherwise, never slower than once a minute
for a job with no history. The schedule follows dbt Cloud's clock, so a
local emulator started with --speed 20 is polled twenty times as often.
--poll sets a fixed interval instead.

Ctrl-C while waiting: on a terminal, dbtlink asks "Cancel run N in dbt
Cloud? [y/N]"; yes cancels the run and exits 3, no (or a second Ctrl-C)
leaves it running, prints how to follow it with 'dbtlink run watch N' and
exits 4. If dbt Cloud had already ended the run (it succeeded, failed, or
hit its own timeout) before the cancel reached it, dbtlink says so and exits
as the run ended (0, 1 or 3). Without a terminal (CI), the first Ctrl-C cancels the run and
exits 3, because CI systems stop a job with SIGINT and expect its work to
stop; a second Ctrl-C during the cancel abandons it (exit 4). SIGTERM stops
waiting and leaves the run alone (exit 4).

In GitHub Actions ($GITHUB_OUTPUT set), the step outputs run_id and run_url,
and status when waited.

With --server URL (or $DBTLINK_SERVER; the API token comes from
$DBTLINK_SERVER_TOKEN), the run is requested from a dbtlink server, which
triggers it exactly once and follows it even if this command stops; the
flags and exit codes are the same. The server also takes --max-retries
(rerun from failure) and --deadline with --cancel-at-deadline. --poll,
--reuse-existing and --retry-from-failure are local only and refused.
Without --wait the command waits for the trigger, to print the dbt Cloud run
id; a trigger dbt Cloud refused exits as it would locally (5, 6 or 2).
Ctrl-C asks the server to cancel the run (in CI at once, on a terminal after
asking); the step outputs also get dbtlink_run_id, the server's run id.

With --wait and --openlineage-url or --openlineage-file (or their variables),
the run's OpenLineage events are sent once it ended, waiting at most
--openlineage-timeout; a delivery problem is a warning, never the exit
status. Through --server, the server sends them (configure dbtlink serve).

Environment:
  DBTLINK_RETRY_FOR  how long to keep retrying failed dbt Cloud calls
                     (a Go duration; default 2m)

` + openLineageEnvHelp

const jobRunExample = `  dbtlink job run 301
  dbtlink job run --project analytics --environment Production --job "daily build" --wait
  dbtlink job run 301 --wait --timeout 30m --cancel-on-timeout --artifacts manifest.json,run_results.json -o target/
  dbtlink job run 301 --git-branch feature/x --schema-override dbt_pr_42 --steps-override "dbt build -s state:modified+"
  dbtlink job run 301 --retry-from-failure --wait
  dbtlink --server http://dbtlink.internal:8765 job run 301 --wait --max-retries 1 --deadline 45m`

// NewCmdJobRun builds `dbtlink job run`.
func NewCmdJobRun(f *Factory, runF func(*JobRunOptions) error) *cobra.Command {
	opts := &JobRunOptions{
		IO: f.IO, Client: jobAccountClient(f), Getenv: f.Getenv, Now: f.Now,
		Who: whoAmI(f.Getenv), Interrupts: notifyInterrupt, Server: f.Server,
	}
	cmd := &cobra.Command{
		Use:     "run [JOB_ID | --project P --environment E --job J]",
		Short:   "Trigger a job, optionally wait for it and fetch its artifacts",
		Long:    jobRunLong,
		Example: jobRunExample,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				id, err := jobParseID("job", args[0])
				if err != nil {
					return err
				}
				opts.Ref.ID = id
			}
			opts.timeoutSecondsSet = cmd.Flags().Changed("timeout-seconds-override")
			opts.ServerURL, opts.Connection = f.ServerURL(), f.ConnectionName
			if err := opts.validateServer(cmd); err != nil {
				return err
			}
			if err := opts.validate(cmd); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			if opts.ServerURL != "" {
				return jobRunServer(cmd.Context(), opts)
			}
			return jobRunRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Ref.Project, "project", "", "project name (with --environment and --job, instead of JOB_ID)")
	fl.StringVar(&opts.Ref.Environment, "environment", "", "environment name in that project")
	fl.StringVar(&opts.Ref.Job, "job", "", "job name in that environment")

	fl.StringVar(&opts.Request.Cause, "cause", "", "why the run was started, shown in dbt Cloud (default \"Triggered by dbtlink VERSION (user@host)\"; cut to 255 characters)")
	fl.StringVar(&opts.Request.GitSHA, "git-sha", "", "commit to run")
	fl.StringVar(&opts.Request.GitBranch, "git-branch", "", "branch to run")
	fl.Int64Var(&opts.Request.GitHubPullRequestID, "github-pr", 0, "GitHub pull request number the run is for")
	fl.Int64Var(&opts.Request.GitLabMergeRequestID, "gitlab-mr", 0, "GitLab merge request number the run is for")
	fl.Int64Var(&opts.Request.AzurePullRequestID, "azure-pr", 0, "Azure DevOps pull request number the run is for")
	fl.Int64Var(&opts.Request.NonNativePullRequestID, "non-native-pr", 0, "pull request number from another git provider")
	fl.StringVar(&opts.Request.SchemaOverride, "schema-override", "", "schema to build into instead of the environment's")
	fl.StringVar(&opts.Request.DBTVersionOverride, "dbt-version-override", "", "dbt version to use instead of the environment's")
	fl.IntVar(&opts.Request.ThreadsOverride, "threads-override", 0, "number of dbt threads")
	fl.StringVar(&opts.Request.TargetNameOverride, "target-name-override", "", "dbt target name")
	fl.BoolVar(&opts.GenerateDocs, "generate-docs", false, "generate docs after the run, whatever the job says")
	fl.BoolVar(&opts.NoGenerateDocs, "no-generate-docs", false, "do not generate docs, whatever the job says")
	fl.IntVar(&opts.TimeoutSecondsOverride, "timeout-seconds-override", 0, "dbt Cloud's own run timeout in seconds (0 means none)")
	fl.StringArrayVar(&opts.Request.StepsOverride, "steps-override", nil, "dbt command to run instead of the job's steps (repeat for several)")

	fl.BoolVar(&opts.Wait, "wait", false, "wait for the run to finish; the exit status follows its outcome")
	fl.DurationVar(&opts.Timeout, "timeout", 0, "with --wait: stop waiting after this long and exit 4 (e.g. 30m; default no limit)")
	fl.DurationVar(&opts.Poll, "poll", 0, "with --wait: fixed interval between status checks (default adaptive)")
	fl.BoolVar(&opts.ReuseExisting, "reuse-existing", false, "attach to a run of the job that is already queued or running instead of starting another")
	fl.BoolVar(&opts.RetryFromFailure, "retry-from-failure", false, "rerun the job from the point of failure if its last run failed (else a normal run); takes no overrides")
	fl.BoolVar(&opts.CancelOnTimeout, "cancel-on-timeout", false, "with --timeout: cancel the run in dbt Cloud when the timeout passes")
	fl.StringSliceVar(&opts.Artifacts, "artifacts", nil, "with --wait: artifacts to download once the run ended in success or error, e.g. manifest.json,run_results.json")
	fl.StringVarP(&opts.OutputDir, "output", "o", ".", "with --artifacts: directory to save them into, created if missing (as artifact get's --output)")
	// The flag's first name, kept working for scripts that use it.
	fl.StringVar(&opts.OutputDir, "output-dir", ".", "the same as --output")
	_ = fl.MarkHidden("output-dir")
	fl.BoolVar(&opts.JSON, "json", false, "print the run (the final run with --wait) as JSON")
	addOpenLineageFlags(fl, &opts.OpenLineage, false)
	fl.IntVar(&opts.MaxRetries, "max-retries", 0, "with --server: rerun a failed run from the point of failure up to N times (0 to 10)")
	fl.DurationVar(&opts.Deadline, "deadline", 0, "with --server: how long the run may take from now, e.g. 45m; the server marks it late, or cancels it with --cancel-at-deadline")
	fl.BoolVar(&opts.CancelAtDeadline, "cancel-at-deadline", false, "with --server and --deadline: the server cancels the run at its deadline, even if nobody waits")
	return cmd
}

func (o *JobRunOptions) validate(cmd *cobra.Command) error {
	names := o.Ref.Project != "" || o.Ref.Environment != "" || o.Ref.Job != ""
	switch {
	case o.Ref.ID > 0 && names:
		return usageError("give either JOB_ID or --project/--environment/--job, not both")
	case o.Ref.ID == 0 && !names:
		return usageError("which job? Give JOB_ID, or --project, --environment and --job")
	case o.Ref.ID == 0 && (o.Ref.Project == "" || o.Ref.Environment == "" || o.Ref.Job == ""):
		return usageError("naming a job takes all three of --project, --environment and --job")
	case o.Request.GitSHA != "" && o.Request.GitBranch != "":
		return usageError("--git-sha and --git-branch cannot both be given: dbt Cloud refuses the pair (the commit already fixes the code)")
	case o.GenerateDocs && o.NoGenerateDocs:
		return usageError("--generate-docs and --no-generate-docs contradict each other")
	}
	if err := checkWaitDurations(o.Timeout, o.Poll); err != nil {
		return err
	}
	switch {
	case !o.Wait && (o.Timeout > 0 || o.Poll > 0 || o.CancelOnTimeout || len(o.Artifacts) > 0 || outputGiven(cmd)):
		return usageError("--timeout, --poll, --cancel-on-timeout, --artifacts and --output need --wait")
	case outputGiven(cmd) && len(o.Artifacts) == 0:
		return usageError("--output is where --artifacts are saved; name the artifacts too, e.g. --artifacts manifest.json,run_results.json")
	case o.CancelOnTimeout && o.Timeout == 0:
		return usageError("--cancel-on-timeout needs --timeout")
	}
	if err := o.OpenLineage.checkWaiting(o.Getenv, o.Wait, o.ServerURL != ""); err != nil {
		return err
	}
	if o.GenerateDocs || o.NoGenerateDocs {
		v := o.GenerateDocs
		o.Request.GenerateDocsOverride = &v
	}
	if o.timeoutSecondsSet {
		if o.TimeoutSecondsOverride < 0 {
			return usageError("--timeout-seconds-override must be 0 (no timeout) or more")
		}
		v := o.TimeoutSecondsOverride
		o.Request.TimeoutSecondsOverride = &v
	}
	for _, name := range triggerOverrideFlags {
		if !cmd.Flags().Changed(name) {
			continue
		}
		o.overridesGiven = true
		if o.RetryFromFailure {
			// POST .../rerun/ takes no body, so overrides would be dropped silently.
			return usageError("--%s cannot be used with --retry-from-failure: dbt Cloud's rerun takes no overrides", name)
		}
	}
	return nil
}

// outputGiven reports whether -o/--output (or its old name --output-dir)
// was given.
func outputGiven(cmd *cobra.Command) bool {
	return cmd.Flags().Changed("output") || cmd.Flags().Changed("output-dir")
}

// triggerOverrideFlags are the flags that go into the trigger's body.
var triggerOverrideFlags = []string{"cause", "git-sha", "git-branch", "github-pr", "gitlab-mr", "azure-pr", "non-native-pr",
	"schema-override", "dbt-version-override", "threads-override", "target-name-override", "generate-docs",
	"no-generate-docs", "timeout-seconds-override", "steps-override"}

func jobRunRun(ctx context.Context, opts *JobRunOptions) error {
	client, acct, err := opts.Client()
	if err != nil {
		return err
	}
	job, err := orchestrate.ResolveJob(ctx, client, acct, opts.Ref)
	if err != nil {
		if opts.Ref.ID > 0 && errors.Is(err, dbtcloud.ErrNotFound) {
			return lookupError("job", opts.Ref.ID, acct, "", err)
		}
		return err
	}
	req := opts.Request
	if req.Cause == "" {
		req.Cause = orchestrate.DefaultCause(Version, opts.Who())
	}
	tr, err := orchestrate.Trigger(ctx, client, acct, job, orchestrate.TriggerOptions{
		Request: req, ReuseExisting: opts.ReuseExisting, RetryFromFailure: opts.RetryFromFailure,
	})
	if err != nil {
		return err
	}
	run := tr.Run
	url := run.Href
	if url == "" {
		url = client.RunURL(acct, job.ProjectID, run.ID)
	}
	if err := writeGitHubOutputs(opts.Getenv, "run_id", strconv.FormatInt(run.ID, 10), "run_url", url); err != nil {
		return err
	}
	switch tr.How {
	case orchestrate.Reused:
		dropped := ""
		if opts.overridesGiven {
			dropped = " (the overrides given were not applied)"
		}
		fmt.Fprintf(opts.IO.ErrOut, "Run %d of job %d (%s) was already %s; following it instead of starting another%s.\n",
			run.ID, job.ID, job.Name, run.Status, dropped)
	case orchestrate.Rerun:
		// dbt Cloud's rerun retries the failed run only when the job's
		// last run failed; otherwise it starts a normal run.
		if run.RetryingRunID > 0 {
			fmt.Fprintf(opts.IO.ErrOut, "Rerunning run %d of job %d (%s) from its point of failure: run %d.\n", run.RetryingRunID, job.ID, job.Name, run.ID)
		} else {
			fmt.Fprintf(opts.IO.ErrOut, "The last run of job %d (%s) did not fail, so there was nothing to rerun from failure; dbt Cloud started a new run of the whole job: run %d.\n", job.ID, job.Name, run.ID)
		}
	}
	if !opts.Wait {
		if opts.JSON {
			return writeJSON(opts.IO.Out, run)
		}
		fmt.Fprintf(opts.IO.Out, "%d\t%s\n", run.ID, url)
		return nil
	}
	if !opts.JSON {
		fmt.Fprintf(opts.IO.ErrOut, "Run %d of job %d (%s): %s\n", run.ID, job.ID, job.Name, url)
	}

	w := &waiter{IO: opts.IO, Now: opts.Now, Client: client, AccountID: acct, JobName: job.Name,
		Timeout: opts.Timeout, Poll: opts.Poll, CancelOnTimeout: opts.CancelOnTimeout, Clock: opts.Clock, Fresh: true,
		Ticks: opts.Ticks, URLShown: !opts.JSON}
	if opts.Interrupts != nil {
		ch, stop := opts.Interrupts()
		defer stop()
		w.Interrupts = ch
	}
	final, waitErr := lineageWait{IO: opts.IO, Flags: &opts.OpenLineage, Getenv: opts.Getenv}.wait(ctx, w, run)
	return finishRun(ctx, opts.IO, opts.Getenv, client, acct, final, waitErr, opts.Artifacts, opts.OutputDir, opts.JSON)
}

// checkWaitDurations checks --timeout and --poll, as every command that
// waits for a run takes them.
func checkWaitDurations(timeout, poll time.Duration) error {
	switch {
	case timeout < 0, poll < 0:
		return usageError("--timeout and --poll must be positive durations such as 30s or 15m")
	case poll > 0 && poll < 100*time.Millisecond:
		return usageError("--poll %s is too short; use at least 100ms (and 5s or more against dbt Cloud)", poll)
	}
	return nil
}

// finishRun does what follows a wait in `job run` and `run retry`: the
// GitHub status output, artifacts, the final line or JSON. The wait's error
// (and its exit code) wins over a failed download when both happen.
func finishRun(ctx context.Context, ios *IOStreams, getenv func(string) string, client *dbtcloud.Client, acct int64,
	final *dbtcloud.Run, waitErr error, paths []string, dir string, asJSON bool) error {
	if final == nil {
		return waitErr
	}
	if final.Status.Terminal() {
		if err := writeGitHubOutputs(getenv, "status", final.Status.String()); err != nil {
			return errors.Join(waitErr, err)
		}
	}
	var dlErr error
	if len(paths) > 0 && (final.Status == dbtcloud.RunStatusSuccess || final.Status == dbtcloud.RunStatusError) {
		dlErr = downloadArtifacts(ctx, client, acct, final.ID, 0, paths, dir, 4, ios)
		if dlErr != nil && waitErr != nil {
			fmt.Fprintf(ios.ErrOut, "warning: %v\n", dlErr)
		}
	}
	if asJSON {
		if err := writeJSON(ios.Out, final); err != nil {
			return err
		}
	} else if waitErr == nil {
		fmt.Fprintf(ios.Out, "Run %d succeeded in %s.\n", final.ID, shortDuration(runElapsed(final, final.FinishedAt.Time)))
	}
	if waitErr != nil {
		return waitErr
	}
	return dlErr
}

// whoAmI returns "user@host" for default causes, from $USER (or the OS
// account) and the host name; parts it cannot find are left out.
func whoAmI(getenv func(string) string) func() string {
	return func() string {
		name := getenv("USER")
		if name == "" {
			if u, err := user.Current(); err == nil {
				name = u.Username
			}
		}
		host, _ := os.Hostname()
		switch {
		case name != "" && host != "":
			return name + "@" + host
		case name != "":
			return name
		}
		return host
	}
}
