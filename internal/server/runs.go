package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/tracker"
)

const (
	defaultRunLimit = 100
	maxRunLimit     = 100
)

// runStates are every RunState, for checking ?state= (the store lists
// only the active ones).
var runStates = []store.RunState{
	store.RunPending, store.RunQueued, store.RunStarting, store.RunRunning,
	store.RunSuccess, store.RunError, store.RunCancelled, store.RunFailed,
}

// runJSON is a tracked run as the API shows it. Times are RFC 3339 in
// UTC; those not known yet are null rather than the zero time, which
// clients would take for a date.
type runJSON struct {
	ID            int64          `json:"id"`
	Connection    string         `json:"connection"`
	AccountID     int64          `json:"account_id"`
	JobID         int64          `json:"job_id"`
	State         store.RunState `json:"state"`
	DbtRunID      *int64         `json:"dbt_run_id"`
	DbtStatus     int            `json:"dbt_status"`
	StatusMessage string         `json:"status_message"`
	Href          string         `json:"href"`
	Cause         string         `json:"cause"`
	// Triggered: the trigger was sent to dbt Cloud, so a dbt Cloud run may
	// exist even while dbt_run_id is still null.
	Triggered        bool            `json:"triggered"`
	CreatedAt        time.Time       `json:"created_at"`
	UpdatedAt        time.Time       `json:"updated_at"`
	DbtCreatedAt     *time.Time      `json:"dbt_created_at"`
	StartedAt        *time.Time      `json:"started_at"`
	FinishedAt       *time.Time      `json:"finished_at"`
	SettledAt        *time.Time      `json:"settled_at"`
	DeadlineAt       *time.Time      `json:"deadline_at"`
	CancelAtDeadline bool            `json:"cancel_at_deadline"`
	MaxRetries       int             `json:"max_retries"`
	Retries          int             `json:"retries"`
	Steps            json.RawMessage `json:"steps"`
	FailingNodes     json.RawMessage `json:"failing_nodes"`
	Attempts         json.RawMessage `json:"attempts"`
	ArtifactsState   string          `json:"artifacts_state"`
	Error            string          `json:"error"`
	// ErrorCode says why a failed run failed, for programs.
	ErrorCode store.RunErrorCode `json:"error_code"`
	// Done: the run has ended and dbtlink has finished with it (rerun
	// policy, failing nodes, artifacts); nothing about it changes any more.
	// A run in error that is not done may still be rerun.
	Done bool `json:"done"`
}

func (s *Server) toRunJSON(ctx context.Context, run store.Run) runJSON {
	out := runJSON{
		ID:               run.ID,
		Connection:       run.Connection,
		AccountID:        run.AccountID,
		JobID:            run.JobID,
		State:            run.State,
		DbtStatus:        run.DbtStatus,
		StatusMessage:    run.StatusMessage,
		Href:             run.Href,
		Cause:            run.Cause,
		Triggered:        !run.TriggerAttemptedAt.IsZero(),
		CreatedAt:        run.CreatedAt.UTC(),
		UpdatedAt:        run.UpdatedAt.UTC(),
		DbtCreatedAt:     optTime(run.DbtCreatedAt),
		StartedAt:        optTime(run.StartedAt),
		FinishedAt:       optTime(run.FinishedAt),
		SettledAt:        optTime(run.SettledAt),
		DeadlineAt:       optTime(run.DeadlineAt),
		CancelAtDeadline: run.CancelAtDeadline,
		MaxRetries:       run.MaxRetries,
		Retries:          run.Retries,
		Steps:            s.jsonArray(ctx, run.ID, "steps", run.Steps),
		FailingNodes:     s.jsonArray(ctx, run.ID, "failing_nodes", run.FailingNodes),
		Attempts:         s.jsonArray(ctx, run.ID, "attempts", run.Attempts),
		ArtifactsState:   run.ArtifactsState,
		Error:            run.Error,
		ErrorCode:        run.ErrorCode,
		Done:             tracker.Done(run),
	}
	if run.DbtRunID != 0 {
		out.DbtRunID = &run.DbtRunID
	}
	return out
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// jsonArray passes a stored JSON list through, or [] when there is none.
// A stored value that is not a JSON array would make the whole answer
// fail to encode (or break clients); it is logged and shown as [].
func (s *Server) jsonArray(ctx context.Context, runID int64, field string, b []byte) json.RawMessage {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return json.RawMessage("[]")
	}
	if b[0] != '[' || !json.Valid(b) {
		s.log.LogAttrs(ctx, slog.LevelWarn, "stored run field is not a JSON array; shown as []",
			slog.Int64("run_id", runID), slog.String("field", field))
		return json.RawMessage("[]")
	}
	return json.RawMessage(b)
}

// runRequestJSON is the body of POST /api/v1/runs: a tracker.RunRequest
// with its deadline as a duration string, which JSON has no type for.
type runRequestJSON struct {
	tracker.RunRequest
	// Deadline is a Go duration ("45m", "1h30m"); empty or "0s": none.
	Deadline string `json:"deadline,omitempty"`
}

func (s *Server) createRun(w http.ResponseWriter, r *http.Request) {
	var body runRequestJSON
	if err := s.decodeJSON(w, r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	req := body.RunRequest
	if body.Deadline != "" {
		d, err := time.ParseDuration(body.Deadline)
		if err != nil || d < 0 {
			s.fail(w, r, badRequest(`deadline %q is not a positive duration; use Go's form, such as "45m", "2h" or "1h30m" (units h, m, s)`, body.Deadline))
			return
		}
		req.Deadline = d
	}
	run, err := s.backend.CreateRun(r.Context(), req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/runs/%d", run.ID))
	s.writeJSON(w, r, http.StatusCreated, s.toRunJSON(r.Context(), run))
}

// getRun answers the run, after waiting up to ?wait= for it to end: a
// long poll, so that clients watching a run need neither tight polling
// nor a stream. The answer is 200 whether or not the run ended; its state
// says which.
func (s *Server) getRun(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "run id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	wait, err := s.parseWait(r.URL.Query().Get("wait"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var run store.Run
	if wait > 0 {
		run, err = s.backend.WaitRun(r.Context(), id, wait)
	} else {
		run, err = s.backend.GetRun(r.Context(), id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.toRunJSON(r.Context(), run))
}

// parseWait reads ?wait=, capped at MaxWait so a client cannot hold a
// connection (and a server goroutine) open for long.
func (s *Server) parseWait(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, badRequest(`query parameter wait must be a duration such as "30s" (at most %s), not %q`, s.maxWait, v)
	}
	return min(d, s.maxWait), nil
}

func (s *Server) listRuns(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.RunFilter{Connection: q.Get("connection")}
	var err error
	if f.JobID, err = queryID(q.Get("job_id"), "job_id"); err != nil {
		s.fail(w, r, err)
		return
	}
	if f.DbtRunID, err = queryID(q.Get("dbt_run_id"), "dbt_run_id"); err != nil {
		s.fail(w, r, err)
		return
	}
	if f.BeforeID, err = queryID(q.Get("before"), "before"); err != nil {
		s.fail(w, r, err)
		return
	}
	if f.States, err = parseStates(q.Get("state")); err != nil {
		s.fail(w, r, err)
		return
	}
	limit := defaultRunLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxRunLimit {
			s.fail(w, r, badRequest("query parameter limit must be an integer from 1 to %d, not %q", maxRunLimit, v))
			return
		}
		limit = n
	}
	// One more than shown tells whether an older page exists, so the last
	// page has next_before null instead of leading to an empty page.
	f.Limit = limit + 1
	runs, err := s.backend.ListRuns(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var next *int64
	if len(runs) > limit {
		runs = runs[:limit]
		next = &runs[limit-1].ID
	}
	out := make([]runJSON, 0, len(runs))
	for _, run := range runs {
		out = append(out, s.toRunJSON(r.Context(), run))
	}
	s.writeJSON(w, r, http.StatusOK, struct {
		Runs       []runJSON `json:"runs"`
		NextBefore *int64    `json:"next_before"`
	}{out, next})
}

// parseStates reads ?state=a,b.
func parseStates(v string) ([]store.RunState, error) {
	if v == "" {
		return nil, nil
	}
	var out []store.RunState
	for _, name := range strings.Split(v, ",") {
		st := store.RunState(strings.TrimSpace(name))
		if !validState(st) {
			names := make([]string, len(runStates))
			for i, s := range runStates {
				names[i] = string(s)
			}
			return nil, badRequest("query parameter state: %q is not a run state; use one or more of %s, separated by commas",
				name, strings.Join(names, ", "))
		}
		out = append(out, st)
	}
	return out, nil
}

func validState(st store.RunState) bool {
	for _, s := range runStates {
		if s == st {
			return true
		}
	}
	return false
}

func (s *Server) cancelRun(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "run id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	run, err := s.backend.CancelRun(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// 202: dbt Cloud has been asked; the run ends (cancelled, or finished
	// first) when dbt Cloud says so.
	s.writeJSON(w, r, http.StatusAccepted, s.toRunJSON(r.Context(), run))
}

type artifactJSON struct {
	Path     string    `json:"path"`
	Size     int64     `json:"size"`
	SHA256   string    `json:"sha256"`
	StoredAt time.Time `json:"stored_at"`
}

func (s *Server) listArtifacts(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "run id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	arts, err := s.backend.ListArtifacts(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]artifactJSON, 0, len(arts))
	for _, a := range arts {
		out = append(out, artifactJSON{Path: a.Path, Size: a.Size, SHA256: a.SHA256, StoredAt: a.StoredAt.UTC()})
	}
	s.writeJSON(w, r, http.StatusOK, struct {
		Artifacts []artifactJSON `json:"artifacts"`
	}{out})
}

func (s *Server) getArtifact(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "run id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := r.PathValue("path")
	if err := checkArtifactPath(p); err != nil {
		s.fail(w, r, err)
		return
	}
	art, body, err := s.backend.OpenArtifact(r.Context(), id, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer body.Close()
	ctype := "application/octet-stream"
	if strings.HasSuffix(p, ".json") {
		ctype = "application/json"
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	// Artifacts are data to save, never pages for a browser to render.
	h.Set("X-Content-Type-Options", "nosniff")
	if art.Size >= 0 {
		h.Set("Content-Length", strconv.FormatInt(art.Size, 10))
	}
	w.WriteHeader(http.StatusOK)
	// Streamed: manifests run to hundreds of megabytes.
	n, err := io.Copy(w, body)
	if err != nil || n != art.Size {
		// The status is out; the client sees a body shorter than
		// Content-Length and knows the download failed.
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "artifact download cut short",
			slog.String("request_id", requestID(r)), slog.Int64("run_id", id), slog.String("path", p),
			slog.Int64("sent", n), slog.Int64("size", art.Size), slog.Any("error", err))
	}
}

// checkArtifactPath refuses paths that could name a file outside the
// run's artifacts, whatever the store does with them: absolute paths,
// ".." or "." segments, backslashes (a separator on Windows), and control
// characters.
func checkArtifactPath(p string) error {
	bad := p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, `\`) || path.Clean(p) != p
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			bad = true
		}
	}
	for _, c := range p {
		if c < 0x20 || c == 0x7f {
			bad = true
		}
	}
	if bad {
		return badRequest(`artifact path %q must be relative and clean, like "manifest.json" or "compiled/model.sql": no leading "/", no ".." or "." segments, no backslashes`, p)
	}
	return nil
}
