package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/spf13/cobra"
)

// jobParseID reads a positional dbt Cloud id (what is "job" or "run").
func jobParseID(what, s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || id <= 0 {
		return 0, usageError("%s id %q is not a positive number (it is the number in the dbt Cloud URL, e.g. .../%ss/12345/)", what, s, what)
	}
	return id, nil
}

// notFoundError says in words that an object named by id is not there. It
// wraps dbt Cloud's error, so errors.Is(err, dbtcloud.ErrNotFound) holds,
// but prints only the sentence: the HTTP detail adds nothing for a 404.
type notFoundError struct {
	msg string
	err error
}

func (e *notFoundError) Error() string { return e.msg }
func (e *notFoundError) Unwrap() error { return e.err }

// lookupError describes err from reading object what (a "job", a "run")
// by id: a 404 in words ("job 999 was not found in account 1 (...)"), exit
// 6; any other error as "action: err", with its detail.
func lookupError(what string, id, accountID int64, action string, err error) error {
	if errors.Is(err, dbtcloud.ErrNotFound) {
		return withCode(ExitNotFound, &notFoundError{
			msg: fmt.Sprintf("%s %d was not found in account %d (it does not exist, or this token cannot see it)", what, id, accountID),
			err: err,
		})
	}
	return fmt.Errorf("%s: %w", action, err)
}

// ---- job list ----

// JobListOptions holds the dependencies and flags of `job list`.
type JobListOptions struct {
	IO     *IOStreams
	Client func(...dbtcloud.Option) (*dbtcloud.Client, int64, error)
	// Server, ServerURL and Connection: see JobRunOptions.
	Server     func() (*serverClient, error)
	ServerURL  string
	Connection string

	ProjectID     int64
	EnvironmentID int64
	NameContains  string
	State         string
	Limit         int
	JSON          bool
}

// jobAccountClient adapts Factory.Client to the (client, account id) pair the
// commands need, keeping the connection itself out of their options.
func jobAccountClient(f *Factory) func(...dbtcloud.Option) (*dbtcloud.Client, int64, error) {
	return func(extra ...dbtcloud.Option) (*dbtcloud.Client, int64, error) {
		c, conn, err := f.Client(extra...)
		if err != nil {
			return nil, 0, err
		}
		return c, conn.AccountID, nil
	}
}

// NewCmdJobList builds `dbtlink job list`.
func NewCmdJobList(f *Factory, runF func(*JobListOptions) error) *cobra.Command {
	opts := &JobListOptions{IO: f.IO, Client: jobAccountClient(f), Server: f.Server}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the account's jobs",
		Long: `List the jobs of the connection's account, with each job's most recent run.
Every page is fetched (dbt Cloud returns at most 100 jobs per request) unless
--limit stops earlier.`,
		Example: `  dbtlink job list --project-id 101 --name-contains daily
  dbtlink job list --state all --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch opts.State {
			case "active", "deleted", "all":
			default:
				return usageError("--state must be active, deleted or all, got %q", opts.State)
			}
			if opts.Limit < 0 {
				return usageError("--limit must be 0 (no limit) or positive, got %d", opts.Limit)
			}
			opts.ServerURL, opts.Connection = f.ServerURL(), f.ConnectionName
			if opts.ServerURL != "" && opts.State != "active" {
				return usageError("--state %s cannot be used with --server: the server lists active jobs only", opts.State)
			}
			if runF != nil {
				return runF(opts)
			}
			if opts.ServerURL != "" {
				return jobListServer(cmd.Context(), opts)
			}
			return jobListRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.Int64Var(&opts.ProjectID, "project-id", 0, "only jobs of this project")
	fl.Int64Var(&opts.EnvironmentID, "environment-id", 0, "only jobs of this environment")
	fl.StringVar(&opts.NameContains, "name-contains", "", "only jobs whose name contains this text, ignoring case")
	fl.StringVar(&opts.State, "state", "active", "which jobs: active, deleted or all")
	fl.IntVar(&opts.Limit, "limit", 0, "list at most this many jobs (0: all)")
	fl.BoolVar(&opts.JSON, "json", false, "print the jobs as JSON (dbt Cloud's job objects)")
	return cmd
}

func jobListRun(ctx context.Context, opts *JobListOptions) error {
	client, accountID, err := opts.Client()
	if err != nil {
		return err
	}
	// dbt Cloud's state filter takes one state, so "all" is two walks.
	states := map[string][]int{"active": {dbtcloud.StateActive}, "deleted": {dbtcloud.StateDeleted},
		"all": {dbtcloud.StateActive, dbtcloud.StateDeleted}}[opts.State]
	jobs := []dbtcloud.Job{}
	for _, st := range states {
		lo := &dbtcloud.JobListOptions{
			ProjectID: opts.ProjectID, EnvironmentID: opts.EnvironmentID, NameIContains: opts.NameContains,
			State: st, OrderBy: "id", IncludeRelated: []string{"environment", "most_recent_run"},
		}
		if opts.Limit > 0 {
			lo.Limit = min(opts.Limit, 100)
		}
		for j, err := range client.Jobs.ListIter(ctx, accountID, lo) {
			if err != nil {
				return fmt.Errorf("list jobs of account %d: %w", accountID, err)
			}
			if opts.Limit > 0 && len(jobs) >= opts.Limit {
				break
			}
			jobs = append(jobs, *j)
		}
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, jobs)
	}
	if len(jobs) == 0 {
		fmt.Fprintln(opts.IO.ErrOut, "No jobs match.")
		return nil
	}
	return jobWriteTable(opts.IO.Out, jobs, jobProjectNames(ctx, client, accountID))
}

// jobWriteTable is the table of `job list`, locally and through --server:
// projects maps project ids to names; a job's environment name comes with
// the job (include_related). Where a name is not known, the id stands in.
func jobWriteTable(w io.Writer, jobs []dbtcloud.Job, projects map[int64]string) error {
	t := newTable(w, "ID", "NAME", "PROJECT", "ENVIRONMENT", "TYPE", "LAST RUN")
	for _, j := range jobs {
		project := strconv.FormatInt(j.ProjectID, 10)
		if name, ok := projects[j.ProjectID]; ok {
			project = name
		}
		env := strconv.FormatInt(j.EnvironmentID, 10)
		if j.Environment != nil && j.Environment.Name != "" {
			env = j.Environment.Name
		}
		last := "-"
		if r := j.MostRecentRun; r != nil {
			last = fmt.Sprintf("%s (run %d)", r.Status, r.ID)
		}
		t.row(strconv.FormatInt(j.ID, 10), j.Name, project, env, orDash(j.JobType), last)
	}
	return t.flush()
}

// jobProjectNames maps project ids to names for the table. It is only a
// nicety: on any error the table shows ids.
func jobProjectNames(ctx context.Context, client *dbtcloud.Client, accountID int64) map[int64]string {
	names := map[int64]string{}
	for p, err := range client.Projects.ListIter(ctx, accountID, nil) {
		if err != nil {
			return names
		}
		names[p.ID] = p.Name
	}
	return names
}

// orDash shows an empty value as "-" in tables and summaries.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// ---- job get ----

// JobGetOptions holds the dependencies and flags of `job get`.
type JobGetOptions struct {
	IO     *IOStreams
	Client func(...dbtcloud.Option) (*dbtcloud.Client, int64, error)
	// Server, ServerURL and Connection: see JobRunOptions.
	Server     func() (*serverClient, error)
	ServerURL  string
	Connection string

	JobID int64
	JSON  bool
}

// NewCmdJobGet builds `dbtlink job get`.
func NewCmdJobGet(f *Factory, runF func(*JobGetOptions) error) *cobra.Command {
	opts := &JobGetOptions{IO: f.IO, Client: jobAccountClient(f), Server: f.Server}
	cmd := &cobra.Command{
		Use:   "get JOB_ID",
		Short: "Show one job's definition",
		Long: `Show a job: its project and environment, dbt commands, schedule and triggers,
whether it generates docs and sources, and its timeout.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := jobParseID("job", args[0])
			if err != nil {
				return err
			}
			opts.JobID = id
			opts.ServerURL, opts.Connection = f.ServerURL(), f.ConnectionName
			if runF != nil {
				return runF(opts)
			}
			if opts.ServerURL != "" {
				return jobGetServer(cmd.Context(), opts)
			}
			return jobGetRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the job as JSON (dbt Cloud's job object)")
	return cmd
}

func jobGetRun(ctx context.Context, opts *JobGetOptions) error {
	client, accountID, err := opts.Client()
	if err != nil {
		return err
	}
	j, _, err := client.Jobs.Get(ctx, accountID, opts.JobID)
	if err != nil {
		return lookupError("job", opts.JobID, accountID, fmt.Sprintf("get job %d of account %d", opts.JobID, accountID), err)
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, j)
	}
	// Names make the summary readable; failing to fetch them is not worth
	// failing the command, so ids stand in.
	var project, env string
	if p, _, err := client.Projects.Get(ctx, accountID, j.ProjectID); err == nil {
		project = p.Name
	}
	if e, _, err := client.Environments.Get(ctx, accountID, j.ProjectID, j.EnvironmentID); err == nil {
		env = e.Name
	}
	jobWriteSummary(opts.IO.Out, j, jobNameAndID(project, j.ProjectID), jobNameAndID(env, j.EnvironmentID))
	return nil
}

func jobWriteSummary(w io.Writer, j *dbtcloud.Job, project, env string) {
	yesNo := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	state := "active"
	if j.State == dbtcloud.StateDeleted {
		state = "deleted"
	}
	fmt.Fprintf(w, "Job %d: %s\n", j.ID, j.Name)
	if j.Description != "" {
		fmt.Fprintf(w, "  description:       %s\n", j.Description)
	}
	fmt.Fprintf(w, "  project:           %s\n", project)
	fmt.Fprintf(w, "  environment:       %s\n", env)
	fmt.Fprintf(w, "  type:              %s\n", orDash(j.JobType))
	fmt.Fprintf(w, "  state:             %s\n", state)
	if j.DBTVersion != "" {
		fmt.Fprintf(w, "  dbt version:       %s\n", j.DBTVersion)
	}
	fmt.Fprintf(w, "  commands:\n")
	if len(j.ExecuteSteps) == 0 {
		fmt.Fprintf(w, "    (none)\n")
	}
	for i, s := range j.ExecuteSteps {
		fmt.Fprintf(w, "    %d. %s\n", i+1, s)
	}
	fmt.Fprintf(w, "  schedule:          %s\n", jobScheduleText(j))
	fmt.Fprintf(w, "  triggers:          %s\n", jobTriggersText(j.Triggers))
	fmt.Fprintf(w, "  generate docs:     %s\n", yesNo(j.GenerateDocs))
	fmt.Fprintf(w, "  generate sources:  %s\n", yesNo(j.RunGenerateSources))
	timeout := "none"
	if j.Execution.TimeoutSeconds > 0 {
		timeout = (time.Duration(j.Execution.TimeoutSeconds) * time.Second).String()
	}
	fmt.Fprintf(w, "  timeout:           %s\n", timeout)
	fmt.Fprintf(w, "  threads:           %d\n", j.Settings.Threads)
	fmt.Fprintf(w, "  target name:       %s\n", orDash(j.Settings.TargetName))
	if j.DeferringJobDefinitionID != 0 {
		fmt.Fprintf(w, "  defers to job:     %d\n", j.DeferringJobDefinitionID)
	}
	if j.DeferringEnvironmentID != 0 {
		fmt.Fprintf(w, "  defers to env:     %d\n", j.DeferringEnvironmentID)
	}
}

// jobScheduleText describes when a job runs on its own. dbt Cloud fills
// in a cron even for jobs that are never scheduled, so the schedule trigger,
// not the cron, decides.
func jobScheduleText(j *dbtcloud.Job) string {
	if !j.Triggers.Schedule {
		return "none (the schedule trigger is off)"
	}
	if j.Schedule.Cron == "" {
		return "on, with no cron"
	}
	s := j.Schedule.Cron
	if j.CronHumanized != "" && j.CronHumanized != "Custom cron: "+j.Schedule.Cron {
		s += " (" + j.CronHumanized + ")"
	}
	return s
}

func jobTriggersText(t dbtcloud.JobTriggers) string {
	var on []string
	if t.Schedule {
		on = append(on, "schedule")
	}
	if t.GitProviderWebhook || t.GitHubWebhook {
		on = append(on, "pull requests (CI)")
	}
	if t.OnMerge {
		on = append(on, "merge")
	}
	if len(on) == 0 {
		return "none (runs only when triggered through the API or the UI)"
	}
	return strings.Join(on, ", ")
}
