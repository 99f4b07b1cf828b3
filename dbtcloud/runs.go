package dbtcloud

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// RunsService handles runs.
//
// dbt Cloud API docs: https://docs.getdbt.com/dbt-cloud/api-v2#/operations/List%20Runs
type RunsService service

// TimeRange is an inclusive [From, To] filter on a timestamp field.
type TimeRange struct {
	From time.Time
	// To zero means open-ended (encoded as one day past now).
	To time.Time
}

func (r *TimeRange) encode(now time.Time) string {
	to := r.To
	if to.IsZero() {
		to = now.Add(24 * time.Hour)
	}
	b, _ := json.Marshal([]string{r.From.UTC().Format(time.RFC3339Nano), to.UTC().Format(time.RFC3339Nano)})
	return string(b)
}

// RunListOptions filters Runs.List.
type RunListOptions struct {
	// JobDefinitionID is the job id.
	JobDefinitionID int64
	EnvironmentID   int64
	ProjectID       int64
	Status          RunStatus
	// StatusIn is sent as "[1,2,3]", the only encoding dbt Cloud accepts.
	StatusIn        []RunStatus
	CreatedAtRange  *TimeRange
	FinishedAtRange *TimeRange
	// IDGt keeps runs with an id greater than this.
	IDGt  int64
	State int
	// IncludeRelated: trigger, job, environment, repository, run_steps,
	// run_retries, debug_logs, ...
	IncludeRelated []string
	// OrderBy is id, created_at or finished_at, with "-" for descending.
	OrderBy string
	ListOptions
}

func (o *RunListOptions) values(now time.Time) (url.Values, error) {
	q := url.Values{}
	if o == nil {
		return q, nil
	}
	setInt(q, "job_definition_id", o.JobDefinitionID)
	setInt(q, "environment_id", o.EnvironmentID)
	setInt(q, "project_id", o.ProjectID)
	setInt(q, "status", int64(o.Status))
	if len(o.StatusIn) > 0 {
		parts := make([]string, len(o.StatusIn))
		for i, st := range o.StatusIn {
			parts[i] = strconv.Itoa(int(st))
		}
		q.Set("status__in", "["+strings.Join(parts, ",")+"]")
	}
	if o.CreatedAtRange != nil {
		q.Set("created_at__range", o.CreatedAtRange.encode(now))
	}
	if o.FinishedAtRange != nil {
		q.Set("finished_at__range", o.FinishedAtRange.encode(now))
	}
	setInt(q, "id__gt", o.IDGt)
	setInt(q, "state", int64(o.State))
	setStr(q, "include_related", strings.Join(o.IncludeRelated, ","))
	setStr(q, "order_by", o.OrderBy)
	return q, o.ListOptions.encode(q)
}

// List returns one page of the account's runs.
//
//meta:operation GET /api/v2/accounts/{account_id}/runs/
func (s *RunsService) List(ctx context.Context, accountID int64, opts *RunListOptions) ([]Run, *Response, error) {
	if err := checkID("account", accountID); err != nil {
		return nil, nil, err
	}
	q, err := opts.values(s.client.now())
	if err != nil {
		return nil, nil, err
	}
	var out []Run
	resp, err := s.client.do(ctx, &apiRequest{method: http.MethodGet, path: accountPath("v2", accountID, "runs/"), query: q, account: accountID, idempotent: true}, &out)
	if err != nil {
		return nil, resp, err
	}
	return out, resp, nil
}

// ListIter yields every matching run, page by page. opts is copied.
func (s *RunsService) ListIter(ctx context.Context, accountID int64, opts *RunListOptions) iter.Seq2[*Run, error] {
	var o RunListOptions
	if opts != nil {
		o = *opts
	}
	return pages(o.ListOptions, func(r *Run) int64 { return r.ID }, func(lo ListOptions) ([]Run, *Response, error) {
		o.ListOptions = lo
		return s.List(ctx, accountID, &o)
	})
}

// RunGetOptions selects related objects for Runs.Get.
type RunGetOptions struct {
	// IncludeRelated: trigger, job, environment, repository, run_steps,
	// run_retries, debug_logs, ...
	IncludeRelated []string
}

// Get returns one run.
//
//meta:operation GET /api/v2/accounts/{account_id}/runs/{id}/
func (s *RunsService) Get(ctx context.Context, accountID, runID int64, opts *RunGetOptions) (*Run, *Response, error) {
	if err := checkAccountRun(accountID, runID); err != nil {
		return nil, nil, err
	}
	q := url.Values{}
	if opts != nil {
		setStr(q, "include_related", strings.Join(opts.IncludeRelated, ","))
	}
	var out Run
	resp, err := s.client.do(ctx, &apiRequest{method: http.MethodGet, path: accountPath("v2", accountID, "runs/%d/", runID), query: q, account: accountID, idempotent: true}, &out)
	if err != nil {
		return nil, resp, err
	}
	return &out, resp, nil
}

// Cancel cancels a run and returns it (status Cancelled once dbt Cloud has
// processed it). Cancelling twice is harmless, so Cancel is retried like a GET.
//
//meta:operation POST /api/v2/accounts/{account_id}/runs/{run_id}/cancel/
func (s *RunsService) Cancel(ctx context.Context, accountID, runID int64) (*Run, *Response, error) {
	if err := checkAccountRun(accountID, runID); err != nil {
		return nil, nil, err
	}
	var out Run
	resp, err := s.client.do(ctx, &apiRequest{method: http.MethodPost, path: accountPath("v2", accountID, "runs/%d/cancel/", runID), account: accountID, idempotent: true}, &out)
	if err != nil {
		return nil, resp, err
	}
	return &out, resp, nil
}

// Retry starts a new run that retries a failed run from its point of
// failure (check Run.CanRetry first). Like Jobs.Rerun it is never retried
// on an unknown outcome; such errors wrap ErrOutcomeUnknown.
//
//meta:operation POST /api/v2/accounts/{account_id}/runs/{run_id}/retry/
func (s *RunsService) Retry(ctx context.Context, accountID, runID int64) (*Run, *Response, error) {
	if err := checkAccountRun(accountID, runID); err != nil {
		return nil, nil, err
	}
	var out Run
	resp, err := s.client.doUnsafe(ctx, &apiRequest{method: http.MethodPost, path: accountPath("v2", accountID, "runs/%d/retry/", runID), account: accountID}, &out)
	if err != nil {
		return nil, resp, err
	}
	return &out, resp, nil
}

// FailureDetails says which step a failed run stopped at and which steps
// it skipped.
//
//meta:operation GET /api/v2/accounts/{account_id}/runs/{run_id}/retry/
func (s *RunsService) FailureDetails(ctx context.Context, accountID, runID int64) (*RunFailureDetails, *Response, error) {
	if err := checkAccountRun(accountID, runID); err != nil {
		return nil, nil, err
	}
	var out RunFailureDetails
	resp, err := s.client.do(ctx, &apiRequest{method: http.MethodGet, path: accountPath("v2", accountID, "runs/%d/retry/", runID), account: accountID, idempotent: true}, &out)
	if err != nil {
		return nil, resp, err
	}
	return &out, resp, nil
}

func checkAccountRun(accountID, runID int64) error {
	if err := checkID("account", accountID); err != nil {
		return err
	}
	return checkID("run", runID)
}
