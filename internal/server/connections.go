package server

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/internal/connection"
	"github.com/dbtlink/dbtlink/internal/store"
)

// connectionJSON is a connection as the API shows it. It has no token
// field at all, so no change to the store type can leak one.
type connectionJSON struct {
	Name      string    `json:"name"`
	Host      string    `json:"host"`
	AccountID int64     `json:"account_id"`
	Default   bool      `json:"default"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func toConnectionJSON(c store.Connection) connectionJSON {
	return connectionJSON{
		Name:      c.Name,
		Host:      c.Host,
		AccountID: c.AccountID,
		Default:   c.Default,
		CreatedAt: c.CreatedAt.UTC(),
		UpdatedAt: c.UpdatedAt.UTC(),
	}
}

func (s *Server) listConnections(w http.ResponseWriter, r *http.Request) {
	conns, err := s.backend.ListConnections(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]connectionJSON, 0, len(conns))
	for _, c := range conns {
		out = append(out, toConnectionJSON(c))
	}
	s.writeJSON(w, r, http.StatusOK, struct {
		Connections []connectionJSON `json:"connections"`
	}{out})
}

func (s *Server) createConnection(w http.ResponseWriter, r *http.Request) {
	var in ConnectionInput
	if err := s.decodeJSON(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.backend.CreateConnection(r.Context(), in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, toConnectionJSON(c))
}

func (s *Server) deleteConnection(w http.ResponseWriter, r *http.Request) {
	if err := s.backend.DeleteConnection(r.Context(), r.PathValue("name")); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// reportJSON is connection.Report as the API shows it. Check.Err is left
// out: Message already says what was found in words, and the error is for
// local verbose output.
type reportJSON struct {
	OK        bool          `json:"ok"`
	Host      string        `json:"host"`
	AccountID int64         `json:"account_id"`
	Checks    []checkJSON   `json:"checks"`
	Accounts  []accountJSON `json:"accounts"`
}

type checkJSON struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Detail string `json:"detail"`
}

type accountJSON struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// testConnection answers 200 even when a check fails: the test itself
// worked, and its report (ok false) is the answer.
func (s *Server) testConnection(w http.ResponseWriter, r *http.Request) {
	rep, err := s.backend.TestConnection(r.Context(), r.PathValue("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, toReportJSON(rep))
}

func toReportJSON(rep connection.Report) reportJSON {
	out := reportJSON{
		OK:        rep.OK(),
		Host:      rep.Host,
		AccountID: rep.AccountID,
		Checks:    make([]checkJSON, 0, len(rep.Checks)),
		Accounts:  make([]accountJSON, 0, len(rep.Accounts)),
	}
	for _, c := range rep.Checks {
		out.Checks = append(out.Checks, checkJSON{Name: c.Name, Status: string(c.Status), Detail: c.Message})
	}
	for _, a := range rep.Accounts {
		out.Accounts = append(out.Accounts, accountJSON{ID: a.ID, Name: a.Name})
	}
	return out
}

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	opts := &dbtcloud.JobListOptions{NameIContains: q.Get("name")}
	var err error
	if opts.ProjectID, err = queryID(q.Get("project_id"), "project_id"); err != nil {
		s.fail(w, r, err)
		return
	}
	if opts.EnvironmentID, err = queryID(q.Get("environment_id"), "environment_id"); err != nil {
		s.fail(w, r, err)
		return
	}
	// The same related objects and order as `dbtlink job list` asks dbt
	// Cloud for, so that its output through the server is the same.
	opts.OrderBy = "id"
	opts.IncludeRelated = []string{"environment", "most_recent_run"}
	jobs, err := s.backend.ListJobs(r.Context(), r.PathValue("name"), opts)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, struct {
		Jobs []jobJSON `json:"jobs"`
	}{s.namedJobs(r, jobs)})
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "job id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	job, err := s.backend.GetJob(r.Context(), r.PathValue("name"), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.namedJobs(r, []dbtcloud.Job{*job})[0])
}

// jobJSON is a dbt Cloud job with the names of its project and
// environment, which dbt Cloud's job object gives only as ids. A name is
// null when it could not be read (dbt Cloud failed, or the token may not
// read projects or environments).
type jobJSON struct {
	dbtcloud.Job
	ProjectName     *string `json:"project_name"`
	EnvironmentName *string `json:"environment_name"`
}

// namedJobs adds the names to jobs (never nil, so that no jobs encode as
// []). Failing to read the names is logged and leaves those not known
// before null: the jobs themselves were read, and a client can still show
// the ids.
func (s *Server) namedJobs(r *http.Request, jobs []dbtcloud.Job) []jobJSON {
	out := make([]jobJSON, len(jobs))
	if len(jobs) == 0 {
		return out
	}
	var projects, envs []int64
	for _, j := range jobs {
		projects, envs = append(projects, j.ProjectID), append(envs, j.EnvironmentID)
	}
	names, err := s.backend.Names(r.Context(), r.PathValue("name"), projects, envs)
	if err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "could not read project and environment names; job answers carry ids only",
			slog.String("connection", r.PathValue("name")), slog.String("error", err.Error()))
	}
	for i, j := range jobs {
		out[i].Job = j
		if n, ok := names.Projects[j.ProjectID]; ok {
			out[i].ProjectName = &n
		}
		if n, ok := names.Environments[j.EnvironmentID]; ok {
			out[i].EnvironmentName = &n
		}
	}
	return out
}

// pathID reads a positive integer path value.
func pathID(r *http.Request, name, what string) (int64, error) {
	v := r.PathValue(name)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, badRequest("%s %q is not a positive integer", what, v)
	}
	return id, nil
}

// queryID reads an optional positive integer query parameter; empty is 0.
func queryID(v, name string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, badRequest("query parameter %s must be a positive integer, not %q", name, v)
	}
	return id, nil
}
