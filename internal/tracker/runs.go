package tracker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/internal/orchestrate"
	"github.com/dbtlink/dbtlink/internal/store"
)

// Bounds of a run request.
const (
	maxRetriesLimit = 10
	maxDeadline     = 7 * 24 * time.Hour
)

// DefaultCause is the trigger cause of runs requested without one.
const DefaultCause = "Triggered by dbtlink serve"

// CreateRun resolves the job, records the run with its trigger marker and
// queues the trigger, in one transaction: once CreateRun returns, the run
// will be triggered exactly once and followed to its end, whatever
// crashes. It returns the recorded run, still pending.
func (t *Tracker) CreateRun(ctx context.Context, req RunRequest) (store.Run, error) {
	if err := validateRequest(&req); err != nil {
		return store.Run{}, err
	}
	cl, c, err := t.client(ctx, req.Connection)
	if err != nil {
		return store.Run{}, err
	}
	jobID := req.JobID
	if jobID > 0 {
		if _, err := t.cachedJob(ctx, cl, c, jobID); err != nil {
			if errors.Is(err, dbtcloud.ErrNotFound) {
				return store.Run{}, &NotFoundError{Msg: fmt.Sprintf("job %d does not exist in account %d of connection %q (or the token cannot see it)", jobID, c.AccountID, c.Name)}
			}
			return store.Run{}, fmt.Errorf("check job %d: %w", jobID, err)
		}
	} else {
		job, err := orchestrate.ResolveJob(ctx, cl, c.AccountID, orchestrate.JobRef{Project: req.Project, Environment: req.Environment, Job: req.Job})
		if err != nil {
			var nf *orchestrate.NotFoundError
			var amb *orchestrate.AmbiguousError
			if errors.As(err, &nf) || errors.As(err, &amb) {
				return store.Run{}, &NotFoundError{Msg: err.Error()}
			}
			return store.Run{}, fmt.Errorf("find the job: %w", err)
		}
		jobID = job.ID
	}
	trig := req.Trigger
	trig.Cause = orchestrate.TruncateCause(strings.TrimSpace(trig.Cause))
	if trig.Cause == "" {
		trig.Cause = DefaultCause
	}
	body, err := json.Marshal(trig)
	if err != nil {
		return store.Run{}, fmt.Errorf("encode the trigger request: %w", err)
	}
	r := store.Run{
		Connection:       c.Name,
		AccountID:        c.AccountID,
		JobID:            jobID,
		Marker:           dbtcloud.NewTriggerMarker(),
		Cause:            trig.Cause,
		Request:          body,
		CancelAtDeadline: req.CancelAtDeadline,
		MaxRetries:       req.MaxRetries,
		Artifacts:        req.Artifacts,
		State:            store.RunPending,
	}
	if req.Deadline > 0 {
		r.DeadlineAt = t.cfg.Now().Add(req.Deadline).UTC()
	}
	err = t.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if r, err = tx.CreateRun(ctx, r); err != nil {
			return err
		}
		if _, err := t.river.InsertTx(ctx, tx.SQL(), triggerArgs{RunID: r.ID}, nil); err != nil {
			return fmt.Errorf("queue the trigger: %w", err)
		}
		if !r.DeadlineAt.IsZero() {
			if _, err := t.river.InsertTx(ctx, tx.SQL(), deadlineArgs{RunID: r.ID}, &river.InsertOpts{ScheduledAt: r.DeadlineAt}); err != nil {
				return fmt.Errorf("queue the deadline: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return store.Run{}, fmt.Errorf("record the run of job %d: %w", jobID, err)
	}
	t.log.Info("run recorded", "run", r.ID, "connection", r.Connection, "job", jobID)
	return r, nil
}

func validateRequest(req *RunRequest) error {
	switch {
	case req.JobID < 0:
		return &InputError{Msg: fmt.Sprintf("job_id %d is not a job id; give a positive id, or project, environment and job names", req.JobID)}
	case req.JobID > 0 && (req.Project != "" || req.Environment != "" || req.Job != ""):
		return &InputError{Msg: "give either job_id or the project, environment and job names, not both"}
	case req.JobID == 0 && (req.Project == "" || req.Environment == "" || req.Job == ""):
		return &InputError{Msg: "no job: give job_id, or all three of project, environment and job names"}
	case req.MaxRetries < 0 || req.MaxRetries > maxRetriesLimit:
		return &InputError{Msg: fmt.Sprintf("max_retries %d is out of range; use 0 to %d", req.MaxRetries, maxRetriesLimit)}
	case req.Deadline < 0 || req.Deadline > maxDeadline:
		return &InputError{Msg: fmt.Sprintf("deadline %s is out of range; use a duration up to %s", req.Deadline, maxDeadline)}
	case req.CancelAtDeadline && req.Deadline == 0:
		return &InputError{Msg: "cancel_at_deadline needs a deadline"}
	}
	for _, a := range req.Artifacts {
		if a == "" || strings.HasPrefix(a, "/") || strings.Contains(a, "\\") || path.Clean(a) != a || strings.HasPrefix(a, "..") {
			return &InputError{Msg: fmt.Sprintf("artifact %q is not a clean relative path like run_results.json or compiled/my_project/models/a.sql", a)}
		}
	}
	return nil
}

// GetRun returns a run.
func (t *Tracker) GetRun(ctx context.Context, id int64) (store.Run, error) {
	r, err := t.st.GetRun(ctx, id)
	if err != nil {
		return r, fmt.Errorf("run %d: %w", id, err)
	}
	return r, nil
}

// ListRuns lists runs, newest first.
func (t *Tracker) ListRuns(ctx context.Context, f store.RunFilter) ([]store.Run, error) {
	return t.st.ListRuns(ctx, f)
}

// waitRecheck is how often WaitRun reads the run again, for runs settled
// by another process (this process's own settlements wake it at once).
const waitRecheck = 500 * time.Millisecond

// WaitRun returns the run once it is Done (a run in error may still be
// rerun, and its failing nodes and artifacts come after its end), or after
// d with its current state. Reads use ctx, not the wait's own timer, so a
// wait that ends while the database is busy still answers with the run.
func (t *Tracker) WaitRun(ctx context.Context, id int64, d time.Duration) (store.Run, error) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		ch := t.waiters.watch(id)
		r, err := t.GetRun(ctx, id)
		if err != nil || Done(r) {
			t.waiters.unwatch(id, ch)
			return r, err
		}
		recheck := time.NewTimer(waitRecheck)
		select {
		case <-ch:
		case <-recheck.C:
		case <-timer.C:
			recheck.Stop()
			t.waiters.unwatch(id, ch)
			return t.GetRun(ctx, id)
		case <-ctx.Done():
			recheck.Stop()
			t.waiters.unwatch(id, ch)
			return r, ctx.Err()
		}
		recheck.Stop()
		t.waiters.unwatch(id, ch)
	}
}

// Done reports whether dbtlink has finished with a run: it has ended in
// dbt Cloud and what follows the end (rerun policy, failing nodes,
// artifacts) is done, so nothing about it will change any more. A run in
// error can still be rerun until then, and its failing nodes are not yet
// known. A run that failed to trigger is done at once.
func Done(r store.Run) bool {
	switch {
	case r.State == store.RunFailed:
		return true
	case !r.State.Terminal():
		return false
	}
	return r.ArtifactsState != ""
}

// CancelRun asks for the run to be cancelled in dbt Cloud. A run not yet
// triggered is cancelled as soon as dbt Cloud has it.
func (t *Tracker) CancelRun(ctx context.Context, id int64) (store.Run, error) {
	r, err := t.GetRun(ctx, id)
	if err != nil {
		return r, err
	}
	if r.State.Terminal() {
		return r, fmt.Errorf("run %d has already ended (%s): %w", id, r.State, ErrConflict)
	}
	if _, err := t.river.Insert(ctx, cancelArgs{RunID: id}, nil); err != nil {
		return r, fmt.Errorf("queue the cancellation of run %d: %w", id, err)
	}
	return r, nil
}

// ListArtifacts lists the stored artifacts of a run.
func (t *Tracker) ListArtifacts(ctx context.Context, runID int64) ([]store.Artifact, error) {
	if _, err := t.GetRun(ctx, runID); err != nil {
		return nil, err
	}
	return t.st.ListArtifacts(ctx, runID)
}

// OpenArtifact streams a stored artifact.
func (t *Tracker) OpenArtifact(ctx context.Context, runID int64, p string) (store.Artifact, io.ReadCloser, error) {
	return t.st.OpenArtifact(ctx, runID, p)
}

// settle records the end of a run (in tx) and queues what follows it. It
// returns whether this call settled it (false: it had already ended).
func (t *Tracker) settle(ctx context.Context, tx *store.Tx, r store.Run, u store.RunUpdate) (bool, error) {
	now := t.cfg.Now().UTC()
	u.SettledAt = &now
	u.IfActive = true
	nr, ok, err := tx.UpdateRun(ctx, r.ID, u)
	if err != nil || !ok {
		return false, err
	}
	if _, err := t.river.InsertTx(ctx, tx.SQL(), finalizeArgs{RunID: r.ID, DbtRunID: nr.DbtRunID}, nil); err != nil {
		return false, fmt.Errorf("queue the completion of run %d: %w", r.ID, err)
	}
	return true, nil
}

// settled is called after the transaction that settled runs commits.
func (t *Tracker) settled(runs ...store.Run) {
	now := t.cfg.Now()
	for _, r := range runs {
		t.waiters.notify(r.ID)
		if !r.FinishedAt.IsZero() {
			t.metrics.pollLag.Observe(max(now.Sub(r.FinishedAt), 0).Seconds())
		}
	}
}

// waiters wakes WaitRun calls when this process settles a run.
type waiters struct {
	mu sync.Mutex
	m  map[int64][]chan struct{}
}

func newWaiters() *waiters { return &waiters{m: map[int64][]chan struct{}{}} }

func (w *waiters) watch(id int64) chan struct{} {
	ch := make(chan struct{})
	w.mu.Lock()
	w.m[id] = append(w.m[id], ch)
	w.mu.Unlock()
	return ch
}

func (w *waiters) unwatch(id int64, ch chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	list := w.m[id]
	for i, c := range list {
		if c == ch {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(w.m, id)
	} else {
		w.m[id] = list
	}
}

func (w *waiters) notify(id int64) {
	w.mu.Lock()
	list := w.m[id]
	delete(w.m, id)
	w.mu.Unlock()
	for _, ch := range list {
		close(ch)
	}
}
