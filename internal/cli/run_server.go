package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// This file is `dbtlink --server URL run get|list|watch|cancel` and
// `artifact list|get`: the same commands, on the runs the dbtlink server
// follows. RUN_ID is the dbt Cloud run id, as locally (what `job run`
// prints); the server finds its run by it (GET /api/v1/runs?dbt_run_id=),
// so only runs triggered through the server are known there.
//
// Local-only flags, refused with --server, and why:
//   - run list --project, --environment: the server's runs record the job,
//     not its project or environment; filter by --job.
//   - run watch --poll: the server polls dbt Cloud on its own schedule and
//     the command long-polls the server.
//   - artifact list|get --step: the server keeps the files of the run as it
//     ended, not those of each step.
//
// `run retry` stays local (it is not in serverCommands): the API has no
// retry of a run, and a retry started elsewhere would be a run the server
// did not trigger and does not follow; the server reruns failed runs
// itself when asked at the trigger (`job run --server --max-retries N`).

// serverRunPage is one page of GET /api/v1/runs.
type serverRunPage struct {
	Runs       []serverRun `json:"runs"`
	NextBefore *int64      `json:"next_before"`
}

// serverRunFilter is the query of GET /api/v1/runs; zero fields do not
// filter.
type serverRunFilter struct {
	Connection string
	JobID      int64
	DbtRunID   int64
	States     []string
	Before     int64
	Limit      int
}

// maxServerRunPage is the largest page the server answers.
const maxServerRunPage = 100

func (c *serverClient) ListRuns(ctx context.Context, f serverRunFilter) (*serverRunPage, error) {
	q := url.Values{}
	if f.Connection != "" {
		q.Set("connection", f.Connection)
	}
	if f.JobID != 0 {
		q.Set("job_id", strconv.FormatInt(f.JobID, 10))
	}
	if f.DbtRunID != 0 {
		q.Set("dbt_run_id", strconv.FormatInt(f.DbtRunID, 10))
	}
	if len(f.States) > 0 {
		q.Set("state", strings.Join(f.States, ","))
	}
	if f.Before != 0 {
		q.Set("before", strconv.FormatInt(f.Before, 10))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(min(f.Limit, maxServerRunPage)))
	}
	var out serverRunPage
	if err := c.do(ctx, http.MethodGet, "/api/v1/runs", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// runByDbtID finds the server's run of dbt Cloud run dbtID (of connection
// conn, when not empty). None is exit 6.
func (c *serverClient) runByDbtID(ctx context.Context, conn string, dbtID int64) (*serverRun, error) {
	page, err := c.ListRuns(ctx, serverRunFilter{Connection: conn, DbtRunID: dbtID, Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("look up run %d on the dbtlink server: %w", dbtID, err)
	}
	if len(page.Runs) == 0 {
		where := ""
		if conn != "" {
			where = fmt.Sprintf(" of connection %q", conn)
		}
		return nil, withCode(ExitNotFound, fmt.Errorf("the dbtlink server %s follows no run %d%s: it knows only runs triggered through it (see `dbtlink run list --server %s`); for another run, leave out --server",
			c.URL(), dbtID, where, c.URL()))
	}
	return &page.Runs[0], nil
}

// serverElapsed is a run's duration so far, as the local commands count
// it (runElapsed): from its creation in dbt Cloud, queueing included, to
// its end, or to now while it goes on. A run not yet triggered counts from
// its creation on the server.
func serverElapsed(r *serverRun, now time.Time) time.Duration {
	start := r.DbtCreatedAt
	if start == nil {
		start = &r.CreatedAt
	}
	end := now
	if r.FinishedAt != nil {
		end = *r.FinishedAt
	}
	return max(end.Sub(*start), 0)
}

func optTimeString(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func serverRunIDString(r *serverRun) string {
	if id := r.dbtID(); id != 0 {
		return strconv.FormatInt(id, 10)
	}
	return "-"
}

// ---- run get ----

func runGetServer(ctx context.Context, opts *RunGetOptions) error {
	c, err := opts.Server()
	if err != nil {
		return err
	}
	run, err := c.runByDbtID(ctx, opts.Connection, opts.RunID)
	if err != nil {
		return err
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, run)
	}
	now := opts.Now()
	t := newTable(opts.IO.Out)
	// The rows of the local `run get` first, in its order; what only the
	// server knows (its run id, reruns, its error) follows as a paragraph.
	t.row("Run:", serverRunIDString(run))
	job := strconv.FormatInt(run.JobID, 10)
	if name := c.jobName(ctx, run.Connection, run.JobID); name != "" {
		job += " (" + name + ")" // as locally
	}
	t.row("Job:", job)
	status := serverStateWord(run.State) + serverStatusMessage(run)
	if run.ErrorCode != "" {
		status += " [" + run.ErrorCode + "]"
	}
	t.row("Status:", status)
	t.row("Cause:", run.Cause)
	created := run.DbtCreatedAt
	if created == nil {
		created = &run.CreatedAt
	}
	t.row("Created:", optTimeString(created))
	t.row("Started:", optTimeString(run.StartedAt))
	t.row("Finished:", optTimeString(run.FinishedAt))
	t.row("Duration:", shortDuration(serverElapsed(run, now)))
	t.row("URL:", orDash(run.Href))
	if err := t.flush(); err != nil {
		return err
	}
	// A paragraph of its own, so that the rows above are aligned as
	// locally.
	fmt.Fprintln(opts.IO.Out)
	st := newTable(opts.IO.Out)
	st.row("Server run:", strconv.FormatInt(run.ID, 10))
	if run.MaxRetries > 0 {
		st.row("Reruns:", fmt.Sprintf("%d of %d", run.Retries, run.MaxRetries))
	}
	if run.Error != "" {
		st.row("Error:", firstLine(run.Error))
	}
	if err := st.flush(); err != nil {
		return err
	}
	if opts.Steps && len(run.Steps) > 0 {
		fmt.Fprintln(opts.IO.Out)
		st := newTable(opts.IO.Out, "STEP", "STATUS", "DURATION", "NAME")
		for _, s := range run.Steps {
			var d time.Duration
			if s.StartedAt != nil {
				end := now
				if s.FinishedAt != nil {
					end = *s.FinishedAt
				}
				d = max(end.Sub(*s.StartedAt), 0)
			}
			st.row(strconv.Itoa(s.Index), serverStateWord(s.Status), clockDuration(d), s.Name)
		}
		return st.flush()
	}
	return nil
}

// ---- run list ----

// serverListStates are the --status values with --server: dbt Cloud's, and
// the server's own pending (not yet triggered) and failed (trigger refused).
var serverListStates = []string{"pending", "queued", "starting", "running", "success", "error", "cancelled", "failed"}

func runListServer(ctx context.Context, opts *RunListOptions) error {
	if opts.ProjectID != 0 || opts.EnvironmentID != 0 {
		return usageError("--project and --environment cannot be used with --server: the server's runs record their job, not its project or environment; filter with --job JOB_ID, or leave out --server")
	}
	f := serverRunFilter{Connection: opts.Connection, JobID: opts.JobID}
	for _, s := range opts.Statuses {
		s = strings.ToLower(strings.TrimSpace(s))
		if !containsString(serverListStates, s) {
			return usageError("--status %q is not one of %s", s, strings.Join(serverListStates, ", "))
		}
		f.States = append(f.States, s)
	}
	c, err := opts.Server()
	if err != nil {
		return err
	}
	runs := []serverRun{}
	for len(runs) < opts.Limit {
		f.Limit = opts.Limit - len(runs)
		page, err := c.ListRuns(ctx, f)
		if err != nil {
			return fmt.Errorf("list runs on the dbtlink server: %w", err)
		}
		runs = append(runs, page.Runs...)
		if page.NextBefore == nil {
			break
		}
		f.Before = *page.NextBefore
	}
	if len(runs) > opts.Limit {
		runs = runs[:opts.Limit]
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, runs)
	}
	if len(runs) == 0 {
		fmt.Fprintln(opts.IO.ErrOut, "No runs match.")
		return nil
	}
	now := opts.Now()
	names := map[string]string{} // "connection/job id" to the job's name
	t := newTable(opts.IO.Out, "ID", "STATUS", "JOB", "CREATED", "DURATION", "CAUSE", "SERVER RUN")
	for i := range runs {
		r := &runs[i]
		key := r.Connection + "/" + strconv.FormatInt(r.JobID, 10)
		name, ok := names[key]
		if !ok {
			name = c.jobName(ctx, r.Connection, r.JobID)
			names[key] = name
		}
		job := strconv.FormatInt(r.JobID, 10)
		if name != "" {
			job += " " + name // as locally
		}
		created := r.DbtCreatedAt
		if created == nil {
			created = &r.CreatedAt
		}
		cause := "-"
		if c := strings.Join(strings.Fields(r.Cause), " "); c != "" {
			cause = truncateRunes(c, 60)
		}
		t.row(serverRunIDString(r), serverStateWord(r.State), job, optTimeString(created),
			shortDuration(serverElapsed(r, now)), cause, strconv.FormatInt(r.ID, 10))
	}
	return t.flush()
}

func containsString(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

// ---- run watch ----

func runWatchServer(ctx context.Context, opts *RunWatchOptions) error {
	if opts.Poll > 0 {
		return usageError("--poll cannot be used with --server: the server polls dbt Cloud (see `dbtlink serve --poll-min/--poll-max`), and dbtlink waits on the server with long polls")
	}
	c, err := opts.Server()
	if err != nil {
		return err
	}
	run, err := c.runByDbtID(ctx, opts.Connection, opts.RunID)
	if err != nil {
		return err
	}
	w := &serverWaiter{IO: opts.IO, Client: c, Timeout: opts.Timeout, shown: map[string]bool{}, WatchOnly: true,
		JobName: c.jobName(ctx, run.Connection, run.JobID)}
	if opts.Interrupts != nil {
		ch, stop := opts.Interrupts()
		defer stop()
		w.Interrupts = ch
	}
	final, err := w.wait(ctx, run)
	var ee *ExitError
	if !opts.ExitStatus && errors.As(err, &ee) && (ee.Code == ExitRunError || ee.Code == ExitRunCancelled) {
		// The outcome was shown; without --exit-status it is not a failure of watching.
		err = nil
	}
	if err == nil {
		fmt.Fprintf(opts.IO.Out, "Run %s ended: %s\n", serverRunIDString(final), serverStateWord(final.State))
	}
	return err
}

// ---- run cancel ----

func runCancelServer(ctx context.Context, opts *RunCancelOptions) error {
	c, err := opts.Server()
	if err != nil {
		return err
	}
	run, err := c.runByDbtID(ctx, opts.Connection, opts.RunID)
	if err != nil {
		return err
	}
	if !serverStateTerminal(run.State) {
		r, err := c.CancelRun(ctx, run.ID)
		switch {
		case err == nil:
			run = r
		case isServerConflict(err):
			// It ended meanwhile: report it as it is.
			if run, err = c.GetRun(ctx, run.ID, 0); err != nil {
				return fmt.Errorf("read run %d on the dbtlink server: %w", opts.RunID, err)
			}
		default:
			return fmt.Errorf("cancel run %d through the dbtlink server: %w", opts.RunID, err)
		}
		if serverStateTerminal(run.State) && run.State != srvCancelled && !opts.JSON {
			fmt.Fprintf(opts.IO.Out, "Run %d already ended (%s); nothing to cancel.\n", opts.RunID, serverStateWord(run.State))
			return nil
		}
	} else if !opts.JSON {
		fmt.Fprintf(opts.IO.Out, "Run %d already ended (%s); nothing to cancel.\n", opts.RunID, serverStateWord(run.State))
		return nil
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, run)
	}
	if run.State == srvCancelled {
		fmt.Fprintf(opts.IO.Out, "Cancelled run %d.\n", opts.RunID)
	} else {
		fmt.Fprintf(opts.IO.Out, "Asked dbt Cloud to cancel run %d; it is %s for now.\n", opts.RunID, serverStateWord(run.State))
	}
	return nil
}

// ---- artifact list and get ----

type serverArtifact struct {
	Path     string    `json:"path"`
	Size     int64     `json:"size"`
	SHA256   string    `json:"sha256"`
	StoredAt time.Time `json:"stored_at"`
}

func (c *serverClient) ListArtifacts(ctx context.Context, id int64) ([]serverArtifact, error) {
	var out struct {
		Artifacts []serverArtifact `json:"artifacts"`
	}
	if err := c.do(ctx, http.MethodGet, fmt.Sprintf("/api/v1/runs/%d/artifacts", id), nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Artifacts, nil
}

func refuseServerStep(step int) error {
	if step != 0 {
		return usageError("--step cannot be used with --server: the server keeps the files of the run as it ended, not those of each step; leave out --step, or --server")
	}
	return nil
}

func artifactListServer(ctx context.Context, opts *ArtifactListOptions) error {
	if err := refuseServerStep(opts.Step); err != nil {
		return err
	}
	c, err := opts.Server()
	if err != nil {
		return err
	}
	run, err := c.runByDbtID(ctx, opts.Connection, opts.RunID)
	if err != nil {
		return err
	}
	arts, err := c.ListArtifacts(ctx, run.ID)
	if err != nil {
		return fmt.Errorf("list artifacts of run %d on the dbtlink server: %w", opts.RunID, err)
	}
	paths := make([]string, 0, len(arts))
	for _, a := range arts {
		paths = append(paths, a.Path)
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, paths)
	}
	if len(paths) == 0 {
		why := "it stores them when the run ends"
		switch {
		case run.ArtifactsState == "none":
			why = "none were asked for"
		case strings.HasPrefix(run.ArtifactsState, "failed"):
			why = run.ArtifactsState
		}
		fmt.Fprintf(opts.IO.ErrOut, "The dbtlink server has no artifacts of run %d (%s).\n", opts.RunID, why)
		return nil
	}
	for _, p := range paths {
		fmt.Fprintln(opts.IO.Out, p)
	}
	return nil
}

func artifactGetServer(ctx context.Context, opts *ArtifactGetOptions) error {
	if err := refuseServerStep(opts.Step); err != nil {
		return err
	}
	c, err := opts.Server()
	if err != nil {
		return err
	}
	run, err := c.runByDbtID(ctx, opts.Connection, opts.RunID)
	if err != nil {
		return err
	}
	open := func(ctx context.Context, p string) (io.ReadCloser, error) {
		rc, err := c.OpenArtifact(ctx, run.ID, p)
		if err != nil {
			return nil, fmt.Errorf("download artifact %s of run %d from the dbtlink server: %w", p, opts.RunID, err)
		}
		return rc, nil
	}
	return saveArtifacts(ctx, open, opts.RunID, opts.Paths, opts.Dir, opts.Parallel, opts.IO)
}
