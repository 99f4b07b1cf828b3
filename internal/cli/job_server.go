package cli

import (
	"context"
	"fmt"
	"strconv"

	"github.com/dbtlink/dbtlink/dbtcloud"
)

// `job list` and `job get` through a dbtlink server (--server URL). The
// server answers dbt Cloud's job objects with the names of their project
// and environment, so the output is the local one: the same table and
// summary, names where they are known and ids where they are not. --json
// prints dbt Cloud's job objects alone, as locally.

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
		plain := make([]dbtcloud.Job, len(jobs))
		for i := range jobs {
			plain[i] = jobs[i].Job
		}
		return writeJSON(opts.IO.Out, plain)
	}
	if len(jobs) == 0 {
		fmt.Fprintln(opts.IO.ErrOut, "No jobs match.")
		return nil
	}
	projects := map[int64]string{}
	for _, j := range jobs {
		if j.ProjectName != "" {
			projects[j.ProjectID] = j.ProjectName
		}
	}
	list := make([]dbtcloud.Job, len(jobs))
	for i, j := range jobs {
		list[i] = j.Job
		if (j.Environment == nil || j.Environment.Name == "") && j.EnvironmentName != "" {
			list[i].Environment = &dbtcloud.Environment{ID: j.EnvironmentID, Name: j.EnvironmentName}
		}
	}
	return jobWriteTable(opts.IO.Out, list, projects)
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
		return writeJSON(opts.IO.Out, &j.Job)
	}
	jobWriteSummary(opts.IO.Out, &j.Job, jobNameAndID(j.ProjectName, j.ProjectID), jobNameAndID(j.EnvironmentName, j.EnvironmentID))
	return nil
}

// jobNameAndID is how `job get` shows a project or an environment:
// "name (id)", or the id alone when the name is not known.
func jobNameAndID(name string, id int64) string {
	if name == "" {
		return strconv.FormatInt(id, 10)
	}
	return fmt.Sprintf("%s (%d)", name, id)
}
