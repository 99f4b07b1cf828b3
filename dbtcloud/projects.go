package dbtcloud

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

// ProjectsService handles projects (v3 API).
//
// dbt Cloud API docs: https://docs.getdbt.com/dbt-cloud/api-v3#/operations/List%20Projects
type ProjectsService service

// ProjectListOptions filters Projects.List.
type ProjectListOptions struct {
	// NameIContains keeps projects whose name contains this, ignoring case.
	NameIContains string
	// State is StateActive or StateDeleted; 0 leaves it to the server.
	State int
	ListOptions
}

func (o *ProjectListOptions) values() (url.Values, error) {
	q := url.Values{}
	if o == nil {
		return q, nil
	}
	setStr(q, "name__icontains", o.NameIContains)
	setInt(q, "state", int64(o.State))
	return q, o.ListOptions.encode(q)
}

// List returns one page of the account's projects.
//
//meta:operation GET /api/v3/accounts/{account_id}/projects/
func (s *ProjectsService) List(ctx context.Context, accountID int64, opts *ProjectListOptions) ([]Project, *Response, error) {
	if err := checkID("account", accountID); err != nil {
		return nil, nil, err
	}
	q, err := opts.values()
	if err != nil {
		return nil, nil, err
	}
	var out []Project
	resp, err := s.client.do(ctx, &apiRequest{method: http.MethodGet, path: accountPath("v3", accountID, "projects/"), query: q, account: accountID, idempotent: true}, &out)
	if err != nil {
		return nil, resp, err
	}
	return out, resp, nil
}

// ListIter yields every matching project, page by page. opts is copied.
func (s *ProjectsService) ListIter(ctx context.Context, accountID int64, opts *ProjectListOptions) iter.Seq2[*Project, error] {
	var o ProjectListOptions
	if opts != nil {
		o = *opts
	}
	return pages(o.ListOptions, func(p *Project) int64 { return p.ID }, func(lo ListOptions) ([]Project, *Response, error) {
		o.ListOptions = lo
		return s.List(ctx, accountID, &o)
	})
}

// Get returns one project.
//
//meta:operation GET /api/v3/accounts/{account_id}/projects/{id}/
func (s *ProjectsService) Get(ctx context.Context, accountID, projectID int64) (*Project, *Response, error) {
	if err := checkID("account", accountID); err != nil {
		return nil, nil, err
	}
	if err := checkID("project", projectID); err != nil {
		return nil, nil, err
	}
	var out Project
	resp, err := s.client.do(ctx, &apiRequest{method: http.MethodGet, path: accountPath("v3", accountID, "projects/%d/", projectID), account: accountID, idempotent: true}, &out)
	if err != nil {
		return nil, resp, err
	}
	return &out, resp, nil
}

func setStr(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}

func setInt(q url.Values, k string, v int64) {
	if v != 0 {
		q.Set(k, strconv.FormatInt(v, 10))
	}
}
