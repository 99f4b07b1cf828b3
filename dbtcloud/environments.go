package dbtcloud

import (
	"context"
	"iter"
	"net/http"
	"net/url"
)

// EnvironmentsService handles a project's environments (v3 API).
//
// dbt Cloud API docs: https://docs.getdbt.com/dbt-cloud/api-v3#/operations/List%20Projects%20Environments
type EnvironmentsService service

// EnvironmentListOptions filters Environments.List.
type EnvironmentListOptions struct {
	// Name is an exact name match.
	Name string
	// NameIContains keeps environments whose name contains this, ignoring case.
	NameIContains string
	// DeploymentType is "production" or "staging".
	DeploymentType string
	// Type is "deployment" or "development".
	Type string
	// State is StateActive or StateDeleted; 0 leaves it to the server.
	State int
	ListOptions
}

func (o *EnvironmentListOptions) values() (url.Values, error) {
	q := url.Values{}
	if o == nil {
		return q, nil
	}
	setStr(q, "name", o.Name)
	setStr(q, "name__icontains", o.NameIContains)
	setStr(q, "deployment_type", o.DeploymentType)
	setStr(q, "type", o.Type)
	setInt(q, "state", int64(o.State))
	return q, o.ListOptions.encode(q)
}

// List returns one page of a project's environments.
//
//meta:operation GET /api/v3/accounts/{account_id}/projects/{project_id}/environments/
func (s *EnvironmentsService) List(ctx context.Context, accountID, projectID int64, opts *EnvironmentListOptions) ([]Environment, *Response, error) {
	if err := checkID("account", accountID); err != nil {
		return nil, nil, err
	}
	if err := checkID("project", projectID); err != nil {
		return nil, nil, err
	}
	q, err := opts.values()
	if err != nil {
		return nil, nil, err
	}
	var out []Environment
	resp, err := s.client.do(ctx, &apiRequest{method: http.MethodGet, path: accountPath("v3", accountID, "projects/%d/environments/", projectID), query: q, account: accountID, idempotent: true}, &out)
	if err != nil {
		return nil, resp, err
	}
	return out, resp, nil
}

// ListIter yields every matching environment, page by page. opts is copied.
func (s *EnvironmentsService) ListIter(ctx context.Context, accountID, projectID int64, opts *EnvironmentListOptions) iter.Seq2[*Environment, error] {
	var o EnvironmentListOptions
	if opts != nil {
		o = *opts
	}
	return pages(o.ListOptions, func(e *Environment) int64 { return e.ID }, func(lo ListOptions) ([]Environment, *Response, error) {
		o.ListOptions = lo
		return s.List(ctx, accountID, projectID, &o)
	})
}

// Get returns one environment.
//
//meta:operation GET /api/v3/accounts/{account_id}/projects/{project_id}/environments/{id}/
func (s *EnvironmentsService) Get(ctx context.Context, accountID, projectID, environmentID int64) (*Environment, *Response, error) {
	for _, c := range []struct {
		what string
		id   int64
	}{{"account", accountID}, {"project", projectID}, {"environment", environmentID}} {
		if err := checkID(c.what, c.id); err != nil {
			return nil, nil, err
		}
	}
	var out Environment
	resp, err := s.client.do(ctx, &apiRequest{method: http.MethodGet, path: accountPath("v3", accountID, "projects/%d/environments/%d/", projectID, environmentID), account: accountID, idempotent: true}, &out)
	if err != nil {
		return nil, resp, err
	}
	return &out, resp, nil
}
