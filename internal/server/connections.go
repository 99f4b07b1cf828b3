package server

import (
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
	jobs, err := s.backend.ListJobs(r.Context(), r.PathValue("name"), opts)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if jobs == nil {
		jobs = []dbtcloud.Job{} // [] rather than null
	}
	s.writeJSON(w, r, http.StatusOK, struct {
		Jobs []dbtcloud.Job `json:"jobs"`
	}{jobs})
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
	s.writeJSON(w, r, http.StatusOK, job)
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
