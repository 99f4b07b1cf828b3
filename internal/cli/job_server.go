package cli

import (
	"context"
	"fmt"
	"strconv"
)

// `job list` and `job get` through a dbtlink server (--server URL). The
// server answers dbt Cloud's job objects; project and environment names
// are not looked up, so ids stand in for them where dbt Cloud's job
// object does not carry them.

func jobListServer(ctx context.Context, opts *JobListOptions) error {
	c, err := opts.Server()
	if err != nil {
		return err
	}
	conn, err := c.defaultConnection(ctx, opts.Connection)
	if err != nil {
		return err
	}
	jobs, err := c.ListJobs(ctx, conn, opts.ProjectID, opts.EnvironmentID, opts.NameContains)
	if err != nil {
		return fmt.Errorf("list the jobs of connection %q on the dbtlink server: %w", conn, err)
	}
	if opts.Limit > 0 && len(jobs) > opts.Limit {
		jobs = jobs[:opts.Limit]
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, jobs)
	}
	if len(jobs) == 0 {
		fmt.Fprintln(opts.IO.ErrOut, "No jobs match.")
		return nil
	}
	t := newTable(opts.IO.Out, "ID", "NAME", "PROJECT", "ENVIRONMENT", "TYPE", "LAST RUN")
	for _, j := range jobs {
		env := strconv.FormatInt(j.EnvironmentID, 10)
		if j.Environment != nil && j.Environment.Name != "" {
			env = j.Environment.Name
		}
		last := "-"
		if r := j.MostRecentRun; r != nil {
			last = fmt.Sprintf("%s (run %d)", r.Status, r.ID)
		}
		t.row(strconv.FormatInt(j.ID, 10), j.Name, strconv.FormatInt(j.ProjectID, 10), env, orDash(j.JobType), last)
	}
	return t.flush()
}

func jobGetServer(ctx context.Context, opts *JobGetOptions) error {
	c, err := opts.Server()
	if err != nil {
		return err
	}
	conn, err := c.defaultConnection(ctx, opts.Connection)
	if err != nil {
		return err
	}
	j, err := c.GetJob(ctx, conn, opts.JobID)
	if err != nil {
		return fmt.Errorf("get job %d of connection %q on the dbtlink server: %w", opts.JobID, conn, err)
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, j)
	}
	env := strconv.FormatInt(j.EnvironmentID, 10)
	if j.Environment != nil && j.Environment.Name != "" {
		env = fmt.Sprintf("%s (%d)", j.Environment.Name, j.EnvironmentID)
	}
	jobWriteSummary(opts.IO.Out, j, strconv.FormatInt(j.ProjectID, 10), env)
	return nil
}
