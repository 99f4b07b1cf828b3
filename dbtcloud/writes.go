package dbtcloud

import (
	"context"
	"fmt"
	"iter"
	"net/http"
)

// Creating, updating and deleting jobs, projects and environments, and the account-wide environment list.
//
// dbt Cloud updates these objects with POST to the object's path and a whole body (the spec marks most fields
// required), so Update methods send the full request: read the object, change it, send it back (Job.Request and
// friends build the request from an object read earlier). Creates and Deletes are not idempotent: only a 429 is
// retried, and when the outcome is unknown (no answer after sending) the error wraps ErrOutcomeUnknown, since a
// repeated create would make a second object and a repeated delete would get a 404 for the object it deleted.
// Updates are retried like reads (the same body twice gives the same object). dbt Cloud answers a delete with
// the deleted object (state StateDeleted); a server that answers 204 gives a nil object and no error.

// JobRequest is the body of Jobs.Create and Jobs.Update.
//
// dbt Cloud API docs: https://docs.getdbt.com/dbt-cloud/api-v2#/operations/Create%20Job
type JobRequest struct {
	// AccountID is set by the method from its accountID argument.
	AccountID     int64  `json:"account_id"`
	ProjectID     int64  `json:"project_id"`
	EnvironmentID int64  `json:"environment_id"`
	Name          string `json:"name"`
	Description   string `json:"description"`
	// DBTVersion overrides the environment's dbt version; empty sends null (use the environment's).
	DBTVersion   *string  `json:"dbt_version"`
	ExecuteSteps []string `json:"execute_steps"`
	// JobType is "scheduled", "ci", "merge", "other", ...; empty leaves it to dbt Cloud.
	JobType  string      `json:"job_type,omitempty"`
	Triggers JobTriggers `json:"triggers"`
	// Settings zero values send dbt Cloud's defaults: 4 threads, target name "default".
	Settings           JobSettings  `json:"settings"`
	Execution          JobExecution `json:"execution"`
	Schedule           *JobSchedule `json:"schedule,omitempty"`
	GenerateDocs       bool         `json:"generate_docs"`
	RunGenerateSources bool         `json:"run_generate_sources"`
	// State is StateActive; 0 sends StateActive. Update with StateDeleted deletes the job.
	State int `json:"state"`
}

// Request returns the JobRequest that recreates j as it is, for changing and passing to Jobs.Update.
func (j *Job) Request() *JobRequest {
	r := &JobRequest{AccountID: j.AccountID, ProjectID: j.ProjectID, EnvironmentID: j.EnvironmentID, Name: j.Name,
		Description: j.Description, ExecuteSteps: append([]string(nil), j.ExecuteSteps...), JobType: j.JobType,
		Triggers: j.Triggers, Settings: j.Settings, Execution: j.Execution, GenerateDocs: j.GenerateDocs,
		RunGenerateSources: j.RunGenerateSources, State: j.State}
	if j.DBTVersion != "" {
		v := j.DBTVersion
		r.DBTVersion = &v
	}
	if j.Schedule.Cron != "" {
		s := j.Schedule
		r.Schedule = &s
	}
	return r
}

func (r JobRequest) normalized(accountID int64) JobRequest {
	r.AccountID = accountID
	if r.State == 0 {
		r.State = StateActive
	}
	if r.ExecuteSteps == nil {
		r.ExecuteSteps = []string{}
	}
	// dbt Cloud's defaults for a new job; zero threads would be refused.
	if r.Settings.Threads == 0 {
		r.Settings.Threads = 4
	}
	if r.Settings.TargetName == "" {
		r.Settings.TargetName = "default"
	}
	return r
}

// Create creates a job and returns it.
//
//meta:operation POST /api/v2/accounts/{account_id}/jobs/
func (s *JobsService) Create(ctx context.Context, accountID int64, req *JobRequest) (*Job, *Response, error) {
	if err := checkID("account", accountID); err != nil {
		return nil, nil, err
	}
	if req == nil {
		return nil, nil, errNilRequest("Jobs.Create")
	}
	body := req.normalized(accountID)
	var out Job
	resp, err := s.client.doUnsafe(ctx, &apiRequest{method: http.MethodPost, path: accountPath("v2", accountID, "jobs/"), body: body, account: accountID}, &out)
	if err != nil {
		return nil, resp, err
	}
	return &out, resp, nil
}

// Update replaces a job's definition with req and returns the job.
//
//meta:operation POST /api/v2/accounts/{account_id}/jobs/{id}/
func (s *JobsService) Update(ctx context.Context, accountID, jobID int64, req *JobRequest) (*Job, *Response, error) {
	if err := checkIDs(idCheck{"account", accountID}, idCheck{"job", jobID}); err != nil {
		return nil, nil, err
	}
	if req == nil {
		return nil, nil, errNilRequest("Jobs.Update")
	}
	body := req.normalized(accountID)
	var out Job
	resp, err := s.client.do(ctx, &apiRequest{method: http.MethodPost, path: accountPath("v2", accountID, "jobs/%d/", jobID), body: body, account: accountID, idempotent: true}, &out)
	if err != nil {
		return nil, resp, err
	}
	return &out, resp, nil
}

// Delete deletes a job and returns it as deleted (State StateDeleted), or nil if the server sent no body.
//
//meta:operation DELETE /api/v2/accounts/{account_id}/jobs/{id}/
func (s *JobsService) Delete(ctx context.Context, accountID, jobID int64) (*Job, *Response, error) {
	if err := checkIDs(idCheck{"account", accountID}, idCheck{"job", jobID}); err != nil {
		return nil, nil, err
	}
	var out *Job
	resp, err := s.client.doUnsafe(ctx, &apiRequest{method: http.MethodDelete, path: accountPath("v2", accountID, "jobs/%d/", jobID), account: accountID}, &out)
	if err != nil {
		return nil, resp, err
	}
	return out, resp, nil
}

// ProjectRequest is the body of Projects.Create and Projects.Update.
//
// dbt Cloud API docs: https://docs.getdbt.com/dbt-cloud/api-v3#/operations/Create%20Project
type ProjectRequest struct {
	// AccountID is set by the method from its accountID argument.
	AccountID   int64  `json:"account_id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// DBTProjectSubdirectory is where the dbt project lies in its repository; empty sends null (the root).
	DBTProjectSubdirectory *string `json:"dbt_project_subdirectory"`
	// ConnectionID and RepositoryID point the project at an existing connection and repository; 0 leaves them out.
	ConnectionID int64 `json:"connection_id,omitempty"`
	RepositoryID int64 `json:"repository_id,omitempty"`
	// Type is 0 (default) or 1 (hybrid).
	Type int `json:"type"`
	// State is StateActive; 0 sends StateActive. Update with StateDeleted deletes the project.
	State int `json:"state"`
}

// Request returns the ProjectRequest that recreates p as it is.
func (p *Project) Request() *ProjectRequest {
	r := &ProjectRequest{AccountID: p.AccountID, Name: p.Name, Description: p.Description,
		ConnectionID: p.ConnectionID, RepositoryID: p.RepositoryID, State: p.State}
	if p.DBTProjectSubdirectory != "" {
		d := p.DBTProjectSubdirectory
		r.DBTProjectSubdirectory = &d
	}
	return r
}

func (r ProjectRequest) normalized(accountID int64) ProjectRequest {
	r.AccountID = accountID
	if r.State == 0 {
		r.State = StateActive
	}
	return r
}

// Create creates a project and returns it.
//
//meta:operation POST /api/v3/accounts/{account_id}/projects/
func (s *ProjectsService) Create(ctx context.Context, accountID int64, req *ProjectRequest) (*Project, *Response, error) {
	if err := checkID("account", accountID); err != nil {
		return nil, nil, err
	}
	if req == nil {
		return nil, nil, errNilRequest("Projects.Create")
	}
	var out Project
	resp, err := s.client.doUnsafe(ctx, &apiRequest{method: http.MethodPost, path: accountPath("v3", accountID, "projects/"), body: req.normalized(accountID), account: accountID}, &out)
	if err != nil {
		return nil, resp, err
	}
	return &out, resp, nil
}

// Update replaces a project's settings with req and returns the project.
//
//meta:operation POST /api/v3/accounts/{account_id}/projects/{id}/
func (s *ProjectsService) Update(ctx context.Context, accountID, projectID int64, req *ProjectRequest) (*Project, *Response, error) {
	if err := checkIDs(idCheck{"account", accountID}, idCheck{"project", projectID}); err != nil {
		return nil, nil, err
	}
	if req == nil {
		return nil, nil, errNilRequest("Projects.Update")
	}
	var out Project
	resp, err := s.client.do(ctx, &apiRequest{method: http.MethodPost, path: accountPath("v3", accountID, "projects/%d/", projectID), body: req.normalized(accountID), account: accountID, idempotent: true}, &out)
	if err != nil {
		return nil, resp, err
	}
	return &out, resp, nil
}

// Delete deletes a project, and with it its environments and jobs, and returns it as deleted, or nil if the
// server sent no body.
//
//meta:operation DELETE /api/v3/accounts/{account_id}/projects/{id}/
func (s *ProjectsService) Delete(ctx context.Context, accountID, projectID int64) (*Project, *Response, error) {
	if err := checkIDs(idCheck{"account", accountID}, idCheck{"project", projectID}); err != nil {
		return nil, nil, err
	}
	var out *Project
	resp, err := s.client.doUnsafe(ctx, &apiRequest{method: http.MethodDelete, path: accountPath("v3", accountID, "projects/%d/", projectID), account: accountID}, &out)
	if err != nil {
		return nil, resp, err
	}
	return out, resp, nil
}

// EnvironmentRequest is the body of Environments.Create and Environments.Update.
//
// dbt Cloud API docs: https://docs.getdbt.com/dbt-cloud/api-v3#/operations/Create%20Projects%20Environment
type EnvironmentRequest struct {
	// AccountID and ProjectID are set by the method from its arguments.
	AccountID int64  `json:"account_id"`
	ProjectID int64  `json:"project_id"`
	Name      string `json:"name"`
	// DBTVersion is e.g. "1.10.0-latest" or "latest"; required by dbt Cloud.
	DBTVersion string `json:"dbt_version"`
	// Type is "deployment" or "development"; empty sends "deployment".
	Type string `json:"type"`
	// DeploymentType is "production", "staging" or empty (a general deployment environment, sent as null).
	DeploymentType  *string `json:"deployment_type"`
	UseCustomBranch bool    `json:"use_custom_branch"`
	CustomBranch    *string `json:"custom_branch"`
	CredentialsID   *int64  `json:"credentials_id,omitempty"`
	SupportsDocs    bool    `json:"supports_docs"`
	// State is StateActive; 0 sends StateActive. Update with StateDeleted deletes the environment.
	State int `json:"state"`
}

// Request returns the EnvironmentRequest that recreates e as it is.
func (e *Environment) Request() *EnvironmentRequest {
	r := &EnvironmentRequest{AccountID: e.AccountID, ProjectID: e.ProjectID, Name: e.Name, DBTVersion: e.DBTVersion,
		Type: e.Type, UseCustomBranch: e.UseCustomBranch, SupportsDocs: e.SupportsDocs, State: e.State}
	if e.DeploymentType != "" {
		d := e.DeploymentType
		r.DeploymentType = &d
	}
	if e.CustomBranch != "" {
		b := e.CustomBranch
		r.CustomBranch = &b
	}
	if e.CredentialsID != 0 {
		c := e.CredentialsID
		r.CredentialsID = &c
	}
	return r
}

func (r EnvironmentRequest) normalized(accountID, projectID int64) EnvironmentRequest {
	r.AccountID, r.ProjectID = accountID, projectID
	if r.State == 0 {
		r.State = StateActive
	}
	if r.Type == "" {
		r.Type = "deployment"
	}
	return r
}

// Create creates an environment in a project and returns it.
//
//meta:operation POST /api/v3/accounts/{account_id}/projects/{project_id}/environments/
func (s *EnvironmentsService) Create(ctx context.Context, accountID, projectID int64, req *EnvironmentRequest) (*Environment, *Response, error) {
	if err := checkIDs(idCheck{"account", accountID}, idCheck{"project", projectID}); err != nil {
		return nil, nil, err
	}
	if req == nil {
		return nil, nil, errNilRequest("Environments.Create")
	}
	var out Environment
	resp, err := s.client.doUnsafe(ctx, &apiRequest{method: http.MethodPost, path: accountPath("v3", accountID, "projects/%d/environments/", projectID), body: req.normalized(accountID, projectID), account: accountID}, &out)
	if err != nil {
		return nil, resp, err
	}
	return &out, resp, nil
}

// Update replaces an environment's settings with req and returns the environment.
//
//meta:operation POST /api/v3/accounts/{account_id}/projects/{project_id}/environments/{id}/
func (s *EnvironmentsService) Update(ctx context.Context, accountID, projectID, environmentID int64, req *EnvironmentRequest) (*Environment, *Response, error) {
	if err := checkIDs(idCheck{"account", accountID}, idCheck{"project", projectID}, idCheck{"environment", environmentID}); err != nil {
		return nil, nil, err
	}
	if req == nil {
		return nil, nil, errNilRequest("Environments.Update")
	}
	var out Environment
	resp, err := s.client.do(ctx, &apiRequest{method: http.MethodPost, path: accountPath("v3", accountID, "projects/%d/environments/%d/", projectID, environmentID), body: req.normalized(accountID, projectID), account: accountID, idempotent: true}, &out)
	if err != nil {
		return nil, resp, err
	}
	return &out, resp, nil
}

// Delete deletes an environment, and with it its jobs, and returns it as deleted, or nil if the server sent no
// body.
//
//meta:operation DELETE /api/v3/accounts/{account_id}/projects/{project_id}/environments/{id}/
func (s *EnvironmentsService) Delete(ctx context.Context, accountID, projectID, environmentID int64) (*Environment, *Response, error) {
	if err := checkIDs(idCheck{"account", accountID}, idCheck{"project", projectID}, idCheck{"environment", environmentID}); err != nil {
		return nil, nil, err
	}
	var out *Environment
	resp, err := s.client.doUnsafe(ctx, &apiRequest{method: http.MethodDelete, path: accountPath("v3", accountID, "projects/%d/environments/%d/", projectID, environmentID), account: accountID}, &out)
	if err != nil {
		return nil, resp, err
	}
	return out, resp, nil
}

// AccountEnvironmentListOptions filters Environments.ListAccount.
type AccountEnvironmentListOptions struct {
	// ProjectID keeps one project's environments; 0 lists every project's.
	ProjectID int64
	EnvironmentListOptions
}

// ListAccount returns one page of the account's environments, across projects. dbt Cloud serves this list on v3
// although openapi-v3.yaml does not document it.
//
//meta:operation GET /api/v3/accounts/{account_id}/environments/
func (s *EnvironmentsService) ListAccount(ctx context.Context, accountID int64, opts *AccountEnvironmentListOptions) ([]Environment, *Response, error) {
	if err := checkID("account", accountID); err != nil {
		return nil, nil, err
	}
	var o AccountEnvironmentListOptions
	if opts != nil {
		o = *opts
	}
	q, err := o.EnvironmentListOptions.values()
	if err != nil {
		return nil, nil, err
	}
	setInt(q, "project_id", o.ProjectID)
	var out []Environment
	resp, err := s.client.do(ctx, &apiRequest{method: http.MethodGet, path: accountPath("v3", accountID, "environments/"), query: q, account: accountID, idempotent: true}, &out)
	if err != nil {
		return nil, resp, err
	}
	return out, resp, nil
}

// ListAccountIter yields every matching environment of the account, page by page. opts is copied.
func (s *EnvironmentsService) ListAccountIter(ctx context.Context, accountID int64, opts *AccountEnvironmentListOptions) iter.Seq2[*Environment, error] {
	var o AccountEnvironmentListOptions
	if opts != nil {
		o = *opts
	}
	return pages(o.ListOptions, func(e *Environment) int64 { return e.ID }, func(lo ListOptions) ([]Environment, *Response, error) {
		o.ListOptions = lo
		return s.ListAccount(ctx, accountID, &o)
	})
}

type idCheck struct {
	what string
	id   int64
}

// checkIDs checks each id as checkID does.
func checkIDs(ids ...idCheck) error {
	for _, c := range ids {
		if err := checkID(c.what, c.id); err != nil {
			return err
		}
	}
	return nil
}

func errNilRequest(method string) error {
	return fmt.Errorf("dbtcloud: %s: the request is nil; pass the object's fields", method)
}
