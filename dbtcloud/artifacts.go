package dbtcloud

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// ArtifactsService downloads run artifacts (manifest.json, run_results.json,
// catalog.json, sources.json, compiled files...).
//
// dbt Cloud API docs: https://docs.getdbt.com/dbt-cloud/api-v2#/operations/Retrieve%20Run%20Artifact
type ArtifactsService service

// List returns the artifact paths of a run, relative to target/. step
// selects a step (counted from 1): only the files that step wrote, and an
// error matching ErrNotFound for a step the run does not have; 0 sends no
// step and lets dbt Cloud choose. A run (or step) without artifacts gives an
// empty list.
//
//meta:operation GET /api/v2/accounts/{account_id}/runs/{run_id}/artifacts/
func (s *ArtifactsService) List(ctx context.Context, accountID, runID int64, step int) ([]string, *Response, error) {
	if err := checkAccountRun(accountID, runID); err != nil {
		return nil, nil, err
	}
	q, err := stepQuery(step)
	if err != nil {
		return nil, nil, err
	}
	var out []string
	resp, err := s.client.do(ctx, &apiRequest{method: http.MethodGet, path: accountPath("v2", accountID, "runs/%d/artifacts/", runID), query: q, account: accountID, idempotent: true}, &out)
	if err != nil {
		return nil, resp, err
	}
	if out == nil {
		out = []string{}
	}
	return out, resp, nil
}

// Get streams one artifact of a run; the caller must close the body. The
// body is never buffered: the per-request timeout covers only the wait for
// the response headers, and reading is governed by ctx. Failures are
// retried only before the body is handed over. A missing artifact (e.g.
// catalog.json without docs) gives an error matching ErrNotFound.
//
//meta:operation GET /api/v2/accounts/{account_id}/runs/{run_id}/artifacts/{remainder}
func (s *ArtifactsService) Get(ctx context.Context, accountID, runID int64, path string, step int) (io.ReadCloser, *Response, error) {
	if err := checkAccountRun(accountID, runID); err != nil {
		return nil, nil, err
	}
	p, err := escapeArtifactPath(path)
	if err != nil {
		return nil, nil, err
	}
	q, err := stepQuery(step)
	if err != nil {
		return nil, nil, err
	}
	return s.client.stream(ctx, &apiRequest{method: http.MethodGet, path: accountPath("v2", accountID, "runs/%d/artifacts/", runID) + p, query: q, account: accountID, idempotent: true})
}

// GetLatestForJob streams the given artifact of the job's latest run that
// produced it; see Get for streaming and retry behaviour.
//
//meta:operation GET /api/v2/accounts/{account_id}/jobs/{job_id}/artifacts/{remainder}
func (s *ArtifactsService) GetLatestForJob(ctx context.Context, accountID, jobID int64, path string) (io.ReadCloser, *Response, error) {
	if err := checkID("account", accountID); err != nil {
		return nil, nil, err
	}
	if err := checkID("job", jobID); err != nil {
		return nil, nil, err
	}
	p, err := escapeArtifactPath(path)
	if err != nil {
		return nil, nil, err
	}
	return s.client.stream(ctx, &apiRequest{method: http.MethodGet, path: accountPath("v2", accountID, "jobs/%d/artifacts/", jobID) + p, account: accountID, idempotent: true})
}

func stepQuery(step int) (url.Values, error) {
	q := url.Values{}
	if step < 0 {
		return nil, fmt.Errorf("dbtcloud: invalid step %d (steps count from 1; 0 means the last)", step)
	}
	if step > 0 {
		q.Set("step", strconv.Itoa(step))
	}
	return q, nil
}

// escapeArtifactPath escapes each segment of a path relative to target/,
// refusing empty, "." and ".." segments so that a path can never climb out
// of the artifacts endpoint.
func escapeArtifactPath(p string) (string, error) {
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return "", fmt.Errorf("dbtcloud: empty artifact path")
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if s == "" || s == "." || s == ".." {
			return "", fmt.Errorf("dbtcloud: invalid artifact path %q: empty, \".\" or \"..\" segment", p)
		}
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/"), nil
}
