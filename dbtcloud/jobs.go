package dbtcloud

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strings"
)

// JobsService handles job definitions.
//
// dbt Cloud API docs: https://docs.getdbt.com/dbt-cloud/api-v2#/operations/List%20Jobs
type JobsService service

// JobListOptions filters Jobs.List.
type JobListOptions struct {
	ProjectID     int64
	EnvironmentID int64
	// NameIContains keeps jobs whose name contains this, ignoring case.
	NameIContains string
	// State is StateActive or StateDeleted; 0 leaves it to the server
	// (which defaults to active).
	State int
	// OrderBy is a field name such as "id" or "-id" (descending).
	OrderBy string
	// IncludeRelated asks for related objects: most_recent_run,
	// most_recent_completed_run, environment, ...
	IncludeRelated []string
	ListOptions
}

func (o *JobListOptions) values() (url.Values, error) {
	q := url.Values{}
	if o == nil {
		return q, nil
	}
	setInt(q, "project_id", o.ProjectID)
	setInt(q, "environment_id", o.EnvironmentID)
	setStr(q, "name__icontains", o.NameIContains)
	setInt(q, "state", int64(o.State))
	setStr(q, "order_by", o.OrderBy)
	setStr(q, "include_related", strings.Join(o.IncludeRelated, ","))
	return q, o.ListOptions.encode(q)
}

// List returns one page of the account's jobs.
//
//meta:operation GET /api/v2/accounts/{account_id}/jobs/
func (s *JobsService) List(ctx context.Context, accountID int64, opts *JobListOptions) ([]Job, *Response, error) {
	if err := checkID("account", accountID); err != nil {
		return nil, nil, err
	}
	q, err := opts.values()
	if err != nil {
		return nil, nil, err
	}
	var out []Job
	resp, err := s.client.do(ctx, &apiRequest{method: http.MethodGet, path: accountPath("v2", accountID, "jobs/"), query: q, account: accountID, idempotent: true}, &out)
	if err != nil {
		return nil, resp, err
	}
	return out, resp, nil
}

// ListIter yields every matching job, page by page. opts is copied.
func (s *JobsService) ListIter(ctx context.Context, accountID int64, opts *JobListOptions) iter.Seq2[*Job, error] {
	var o JobListOptions
	if opts != nil {
		o = *opts
	}
	return pages(o.ListOptions, func(j *Job) int64 { return j.ID }, func(lo ListOptions) ([]Job, *Response, error) {
		o.ListOptions = lo
		return s.List(ctx, accountID, &o)
	})
}

// Get returns one job definition.
//
//meta:operation GET /api/v2/accounts/{account_id}/jobs/{id}/
func (s *JobsService) Get(ctx context.Context, accountID, jobID int64) (*Job, *Response, error) {
	if err := checkID("account", accountID); err != nil {
		return nil, nil, err
	}
	if err := checkID("job", jobID); err != nil {
		return nil, nil, err
	}
	var out Job
	resp, err := s.client.do(ctx, &apiRequest{method: http.MethodGet, path: accountPath("v2", accountID, "jobs/%d/", jobID), account: accountID, idempotent: true}, &out)
	if err != nil {
		return nil, resp, err
	}
	return &out, resp, nil
}

// Rerun reruns a job from the point of failure if its latest run failed,
// otherwise starts a new run. It is not idempotent: when the outcome is
// unknown (no answer after sending) the error wraps ErrOutcomeUnknown and
// nothing is retried. Only a 429 (not accepted) is retried.
//
//meta:operation POST /api/v2/accounts/{account_id}/jobs/{job_id}/rerun/
func (s *JobsService) Rerun(ctx context.Context, accountID, jobID int64) (*Run, *Response, error) {
	if err := checkID("account", accountID); err != nil {
		return nil, nil, err
	}
	if err := checkID("job", jobID); err != nil {
		return nil, nil, err
	}
	var out Run
	resp, err := s.client.doUnsafe(ctx, &apiRequest{method: http.MethodPost, path: accountPath("v2", accountID, "jobs/%d/rerun/", jobID), account: accountID}, &out)
	if err != nil {
		return nil, resp, err
	}
	return &out, resp, nil
}
