package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/tracker"
)

// runView is a tracked run as the pages show it.
type runView struct {
	store.Run
	Steps   []tracker.Step
	Failing []tracker.FailingNode
}

func newRunView(r store.Run) runView {
	return runView{Run: r, Steps: runSteps(r.Steps), Failing: failingNodes(r.FailingNodes)}
}

// Live says whether the page should follow the run.
func (v runView) Live() bool { return !v.State.Terminal() }

// Duration is how long the run ran, or has been running.
func (v runView) Duration() string {
	if v.StartedAt.IsZero() {
		return ""
	}
	end := v.FinishedAt
	if end.IsZero() {
		end = time.Now()
	}
	return end.Sub(v.StartedAt).Round(time.Second).String()
}

// connJobs is the jobs of one stored dbt Cloud connection, or why they
// could not be listed.
type connJobs struct {
	Connection string
	Jobs       []dbtcloud.Job
	Error      string
}

type runsData struct {
	Runs  []runView
	Conns []connJobs
	CSRF  string
	Next  int64
}

// runsPage lists the dbt Cloud jobs of every stored connection (read from
// dbt Cloud, as the API's /connections/{name}/jobs does) and the tracked
// runs, newest first.
func (h *Handler) runsPage(w http.ResponseWriter, r *http.Request, s *session) {
	d := runsData{CSRF: s.CSRF}
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	const pageSize = 50
	runs, err := h.runs.ListRuns(r.Context(), store.RunFilter{BeforeID: before, Limit: pageSize + 1})
	if err != nil {
		h.fail(w, r, s, err)
		return
	}
	if len(runs) > pageSize {
		runs = runs[:pageSize]
		d.Next = runs[pageSize-1].ID
	}
	for _, run := range runs {
		d.Runs = append(d.Runs, newRunView(run))
	}
	conns, err := h.runs.ListConnections(r.Context())
	if err != nil {
		h.fail(w, r, s, err)
		return
	}
	for _, c := range conns {
		cj := connJobs{Connection: c.Name}
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		jobs, err := h.runs.ListJobs(ctx, c.Name, nil)
		cancel()
		if err != nil {
			// One unreachable account must not hide the runs.
			h.log.LogAttrs(r.Context(), slog.LevelWarn, "web: list dbt Cloud jobs", slog.String("connection", c.Name), slog.Any("error", err))
			cj.Error = jobsError(err)
		}
		slices.SortFunc(jobs, func(a, b dbtcloud.Job) int { return int(a.ID - b.ID) })
		cj.Jobs = jobs
		d.Conns = append(d.Conns, cj)
	}
	h.render(w, r, http.StatusOK, "runs", page{Title: "Jobs and runs", Nav: "runs", Session: s, Data: d})
}

// jobsError says why jobs could not be listed, without internals.
func jobsError(err error) string {
	var api *dbtcloud.APIError
	switch {
	case errors.As(err, &api):
		return fmt.Sprintf("dbt Cloud answered %d: %s", api.StatusCode, api.UserMessage)
	case errors.Is(err, context.DeadlineExceeded):
		return "dbt Cloud did not answer within 10s"
	}
	return "the jobs could not be listed; the server log has the details"
}

type runData struct {
	Run      runView
	CSRF     string
	CanWrite bool
}

func (h *Handler) runID(w http.ResponseWriter, r *http.Request, s *session) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.errorPage(w, r, s, http.StatusNotFound, fmt.Sprintf("%q is not a run id; run ids are whole numbers (see Jobs and runs).", r.PathValue("id")))
		return 0, false
	}
	return id, true
}

func (h *Handler) runPage(w http.ResponseWriter, r *http.Request, s *session) {
	id, ok := h.runID(w, r, s)
	if !ok {
		return
	}
	run, err := h.runs.GetRun(r.Context(), id)
	if err != nil {
		h.fail(w, r, s, err)
		return
	}
	h.render(w, r, http.StatusOK, "run", page{Title: fmt.Sprintf("Run %d", id), Nav: "runs", Session: s, Data: runData{Run: newRunView(run), CSRF: s.CSRF, CanWrite: s.CanWrite()}})
}

// runEvents streams a run's state as server-sent events until it ends:
// an event "run" carrying the HTML of its live part (?view=row: its row
// of the runs table) each time the run changes, then "end". The browser
// swaps the HTML in; it never polls.
func (h *Handler) runEvents(w http.ResponseWriter, r *http.Request, s *session) {
	id, ok := h.runID(w, r, s)
	if !ok {
		return
	}
	tmpl := "run-live"
	if r.URL.Query().Get("view") == "row" {
		tmpl = "run-row"
	}
	run, err := h.runs.GetRun(r.Context(), id)
	if err != nil {
		h.fail(w, r, s, err)
		return
	}
	rc := http.NewResponseController(w)
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	t := h.pages.set["run"]
	var last []byte
	lastWrite := time.Now()
	for {
		var buf bytes.Buffer
		if err := t.ExecuteTemplate(&buf, tmpl, runData{Run: newRunView(run), CSRF: s.CSRF, CanWrite: s.CanWrite()}); err != nil {
			h.log.LogAttrs(r.Context(), slog.LevelError, "web: render run event", slog.Any("error", err))
			return
		}
		if !bytes.Equal(buf.Bytes(), last) {
			last = buf.Bytes()
			// The server's WriteTimeout would cut a long stream; each event
			// pushes the deadline on.
			_ = rc.SetWriteDeadline(time.Now().Add(time.Minute))
			if err := writeEvent(w, "run", buf.String()); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
			lastWrite = time.Now()
		} else if time.Since(lastWrite) > 20*time.Second {
			// A comment line keeps proxies from closing a quiet stream and
			// pushes the write deadline on.
			_ = rc.SetWriteDeadline(time.Now().Add(time.Minute))
			if _, err := w.Write([]byte(": still running\n\n")); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
			lastWrite = time.Now()
		}
		if run.State.Terminal() {
			_ = writeEvent(w, "end", string(run.State))
			_ = rc.Flush()
			return
		}
		// WaitRun returns at once when the run ends, else after a tick.
		run, err = h.runs.WaitRun(r.Context(), id, h.liveTick)
		if err != nil {
			if r.Context().Err() == nil {
				h.log.LogAttrs(r.Context(), slog.LevelWarn, "web: follow run", slog.Int64("run", id), slog.Any("error", err))
			}
			return
		}
	}
}

// writeEvent writes one server-sent event; data may span lines.
func writeEvent(w http.ResponseWriter, event, data string) error {
	var b strings.Builder
	b.WriteString("event: ")
	b.WriteString(event)
	b.WriteByte('\n')
	for line := range strings.SplitSeq(data, "\n") {
		b.WriteString("data: ")
		b.WriteString(strings.TrimRight(line, "\r"))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	_, err := w.Write([]byte(b.String()))
	return err
}

// trigger starts a tracked run of a job (write scope), then shows it.
func (h *Handler) trigger(w http.ResponseWriter, r *http.Request, s *session) {
	jobID, err := strconv.ParseInt(r.PostFormValue("job_id"), 10, 64)
	if err != nil || jobID <= 0 {
		h.errorPage(w, r, s, http.StatusBadRequest, "Pick a job to run: the form's job_id must be a dbt Cloud job id.")
		return
	}
	run, err := h.runs.CreateRun(r.Context(), tracker.RunRequest{
		Connection: r.PostFormValue("connection"), JobID: jobID,
		Trigger: dbtcloud.TriggerRunRequest{Cause: "Triggered from the dbtlink web UI (token " + s.TokenName + ")"},
	})
	if err != nil {
		h.fail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/runs/"+strconv.FormatInt(run.ID, 10), http.StatusSeeOther)
}

// cancel asks dbt Cloud to cancel a run (write scope).
func (h *Handler) cancel(w http.ResponseWriter, r *http.Request, s *session) {
	id, ok := h.runID(w, r, s)
	if !ok {
		return
	}
	run, err := h.runs.CancelRun(r.Context(), id)
	if err != nil {
		h.fail(w, r, s, err)
		return
	}
	if r.Header.Get("HX-Request") == "true" {
		// From the run page: its live part, redrawn in place.
		h.renderTemplate(w, r, http.StatusOK, "run", "run-live", runData{Run: newRunView(run), CSRF: s.CSRF, CanWrite: s.CanWrite()})
		return
	}
	http.Redirect(w, r, "/runs/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}
