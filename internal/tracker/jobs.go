package tracker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/internal/store"
)

// Job kinds. Their names are stored in the database: never rename them.
const (
	kindTrigger  = "dbtlink.trigger"
	kindPoll     = "dbtlink.poll"
	kindFinalize = "dbtlink.finalize"
	kindCancel   = "dbtlink.cancel"
	kindDeadline = "dbtlink.deadline"
)

// liveStates are the job states in which a unique job counts as present.
// Completed jobs are left out, so a finished job never blocks the next.
var liveStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled,
}

// backoff is the retry delay of jobs that failed on a transient error: a
// few seconds at first, at most a minute, rather than River's default that
// grows to hours.
func backoff(attempt int) time.Time {
	d := time.Second << min(attempt, 6)
	return time.Now().Add(min(d, time.Minute))
}

// ---- trigger ----

type triggerArgs struct {
	RunID int64 `json:"run_id"`
}

func (triggerArgs) Kind() string { return kindTrigger }
func (triggerArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 50, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: liveStates}}
}

type triggerWorker struct {
	river.WorkerDefaults[triggerArgs]
	t *Tracker
}

func (w *triggerWorker) NextRetry(j *river.Job[triggerArgs]) time.Time { return backoff(j.Attempt) }

// Work triggers the run once. Before each POST the attempt is committed;
// a later attempt (after an error or a crash) first asks dbt Cloud for a
// run bearing the marker and posts again only when that lookup proves
// there is none.
func (w *triggerWorker) Work(ctx context.Context, j *river.Job[triggerArgs]) error {
	t := w.t
	r, err := t.st.GetRun(ctx, j.Args.RunID)
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("run %d no longer exists", j.Args.RunID))
	}
	if err != nil {
		return err
	}
	if r.State.Terminal() || r.DbtRunID != 0 {
		return nil
	}
	cl, c, err := t.client(ctx, r.Connection)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return t.failRun(ctx, r, store.RunErrConnectionDeleted, fmt.Sprintf("connection %q was deleted before the run could be triggered", r.Connection))
		}
		return err
	}
	if !r.TriggerAttemptedAt.IsZero() {
		found, _, err := cl.Runs.FindTriggered(ctx, c.AccountID, r.JobID, r.Marker, r.TriggerAttemptedAt)
		if err != nil {
			return fmt.Errorf("look for run %d in dbt Cloud: %w", r.ID, err)
		}
		if found != nil {
			t.log.Info("found the run triggered before an interruption", "run", r.ID, "dbt_run", found.ID)
			return t.recordTriggered(ctx, cl, c, r, found)
		}
	}
	var req dbtcloud.TriggerRunRequest
	if err := json.Unmarshal(r.Request, &req); err != nil {
		return t.failRun(ctx, r, store.RunErrRequestInvalid, fmt.Sprintf("the stored trigger request does not decode: %v", err))
	}
	now := t.cfg.Now().UTC()
	if _, ok, err := t.st.UpdateRun(ctx, r.ID, store.RunUpdate{TriggerAttemptedAt: &now, IfActive: true}); err != nil || !ok {
		return err // !ok: cancelled or failed meanwhile
	}
	run, _, err := cl.Runs.TriggerWithMarker(ctx, c.AccountID, r.JobID, r.Marker, &req)
	if err != nil {
		var ae *dbtcloud.APIError
		if errors.As(err, &ae) && ae.StatusCode >= 400 && ae.StatusCode < 500 && ae.StatusCode != 429 {
			// dbt Cloud refused: no run exists and asking again will
			// not change that.
			return t.failRun(ctx, r, refusedCode(ae.StatusCode), fmt.Sprintf("dbt Cloud refused to trigger job %d: %s", r.JobID, describeAPIError(ae)))
		}
		return fmt.Errorf("trigger job %d for run %d: %w", r.JobID, r.ID, err)
	}
	return t.recordTriggered(ctx, cl, c, r, run)
}

// recordTriggered stores the dbt Cloud run id, applies webhook events that
// arrived before it was known, and makes sure the account is polled.
//
// A run found by its marker may have ended already (its trigger's answer
// was lost, and the lookup came after a crash or a pause longer than the
// run): it is settled here, since the poller follows only runs in flight
// and would never settle it.
func (t *Tracker) recordTriggered(ctx context.Context, cl *dbtcloud.Client, c store.Connection, r store.Run, run *dbtcloud.Run) error {
	ended := run.Status.Terminal()
	if ended && len(run.RunSteps) == 0 {
		full, _, err := cl.Runs.Get(ctx, c.AccountID, run.ID, &dbtcloud.RunGetOptions{IncludeRelated: []string{"run_steps"}})
		if err != nil {
			return fmt.Errorf("read dbt Cloud run %d of run %d: %w", run.ID, r.ID, err)
		}
		run = full
	}
	state := stateOf(run.Status)
	attempts, _ := json.Marshal([]int64{run.ID})
	u := store.RunUpdate{
		DbtRunID: &run.ID, State: &state, DbtStatus: ptr(int(run.Status)), Href: &run.Href,
		DbtCreatedAt: ptr(run.CreatedAt.Time), Attempts: attempts, IfActive: true,
	}
	if ended {
		e := updateFromRun(run)
		u.StatusMessage, u.StartedAt, u.FinishedAt, u.Steps = e.StatusMessage, e.StartedAt, e.FinishedAt, e.Steps
	}
	var poll *rivertype.JobInsertResult
	var settled bool
	err := t.st.InTx(ctx, func(tx *store.Tx) error {
		if ended {
			var err error
			settled, err = t.settle(ctx, tx, r, u)
			return err
		}
		nr, ok, err := tx.UpdateRun(ctx, r.ID, u)
		if err != nil || !ok {
			return err
		}
		r = nr
		if poll, err = t.river.InsertTx(ctx, tx.SQL(), pollArgs{Connection: r.Connection}, nil); err != nil {
			return fmt.Errorf("schedule polling: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record dbt Cloud run %d of run %d: %w", run.ID, r.ID, err)
	}
	t.log.Info("run triggered", "run", r.ID, "dbt_run", run.ID, "job", r.JobID, "ended", ended)
	t.metrics.triggered.Inc()
	if ended {
		r.DbtRunID = run.ID
		if settled {
			r.FinishedAt = run.FinishedAt.Time
			t.settled(r)
		}
	} else {
		t.nudgePoll(ctx, r.Connection, poll)
	}
	return t.applyPendingEvents(ctx, r)
}

// nudgePoll brings the account's next poll forward when it is scheduled
// further away than PollMin, so that a new run is looked at soon even when
// the poller had slowed down for older runs.
func (t *Tracker) nudgePoll(ctx context.Context, conn string, res *rivertype.JobInsertResult) {
	if res == nil || !res.UniqueSkippedAsDuplicate || res.Job == nil || res.Job.State != rivertype.JobStateScheduled {
		return
	}
	if time.Until(res.Job.ScheduledAt) <= t.cfg.PollMin {
		return
	}
	if ok, err := t.webhooksHealthy(ctx, conn); err == nil && ok {
		return // webhooks will tell; polling stays the slow safety net
	}
	if _, err := t.river.JobRetry(ctx, res.Job.ID); err != nil {
		t.log.Warn("could not bring the next poll forward", "error", err)
	}
}

func (t *Tracker) failRun(ctx context.Context, r store.Run, code store.RunErrorCode, why string) error {
	st := store.RunFailed
	now := t.cfg.Now().UTC()
	if _, _, err := t.st.UpdateRun(ctx, r.ID, store.RunUpdate{State: &st, Error: &why, ErrorCode: &code, SettledAt: &now, IfActive: true}); err != nil {
		return err
	}
	t.log.Warn("run failed", "run", r.ID, "reason", why)
	t.waiters.notify(r.ID)
	return nil
}

// refusedCode is the error code of a trigger dbt Cloud refused with status
// (a 4xx other than 429).
func refusedCode(status int) store.RunErrorCode {
	switch status {
	case 401, 403:
		return store.RunErrTriggerAuth
	case 404:
		return store.RunErrTriggerNotFound
	}
	return store.RunErrTriggerRefused
}

func describeAPIError(ae *dbtcloud.APIError) string {
	if ae.UserMessage != "" {
		return fmt.Sprintf("%d %s", ae.StatusCode, ae.UserMessage)
	}
	return fmt.Sprintf("HTTP %d", ae.StatusCode)
}

func stateOf(s dbtcloud.RunStatus) store.RunState {
	switch s {
	case dbtcloud.RunStatusQueued:
		return store.RunQueued
	case dbtcloud.RunStatusStarting:
		return store.RunStarting
	case dbtcloud.RunStatusRunning:
		return store.RunRunning
	case dbtcloud.RunStatusSuccess:
		return store.RunSuccess
	case dbtcloud.RunStatusError:
		return store.RunError
	case dbtcloud.RunStatusCancelled:
		return store.RunCancelled
	}
	return store.RunQueued
}

func ptr[T any](v T) *T { return &v }

// ---- cancel ----

type cancelArgs struct {
	RunID int64 `json:"run_id"`
}

func (cancelArgs) Kind() string { return kindCancel }
func (cancelArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 30, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: liveStates}}
}

type cancelWorker struct {
	river.WorkerDefaults[cancelArgs]
	t *Tracker
}

func (w *cancelWorker) NextRetry(j *river.Job[cancelArgs]) time.Time { return backoff(j.Attempt) }

func (w *cancelWorker) Work(ctx context.Context, j *river.Job[cancelArgs]) error {
	return w.t.cancelInDbtCloud(ctx, j.Args.RunID, "")
}

// cancelInDbtCloud cancels the run's dbt Cloud run and settles it from the
// answer. A run not yet triggered is waited for (the job is snoozed).
func (t *Tracker) cancelInDbtCloud(ctx context.Context, id int64, why string) error {
	r, err := t.st.GetRun(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if r.State.Terminal() {
		return nil
	}
	if r.DbtRunID == 0 {
		return river.JobSnooze(time.Second)
	}
	cl, c, err := t.client(ctx, r.Connection)
	if err != nil {
		return err
	}
	run, _, err := cl.Runs.Cancel(ctx, c.AccountID, r.DbtRunID)
	if err != nil {
		return fmt.Errorf("cancel dbt Cloud run %d of run %d: %w", r.DbtRunID, r.ID, err)
	}
	if !run.Status.Terminal() {
		return nil // dbt Cloud will end it; the poller settles it
	}
	u := updateFromRun(run)
	if why != "" {
		u.Error = &why
	}
	var done bool
	if err := t.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		done, err = t.settle(ctx, tx, r, u)
		return err
	}); err != nil {
		return err
	}
	if done {
		t.settled(r)
	}
	return nil
}

// updateFromRun is the update that records what dbt Cloud says of a run.
func updateFromRun(run *dbtcloud.Run) store.RunUpdate {
	state := stateOf(run.Status)
	u := store.RunUpdate{
		State: &state, DbtStatus: ptr(int(run.Status)), StatusMessage: &run.StatusMessage,
	}
	if run.Href != "" {
		u.Href = &run.Href
	}
	if !run.StartedAt.IsZero() {
		u.StartedAt = ptr(run.StartedAt.Time)
	}
	if !run.FinishedAt.IsZero() {
		u.FinishedAt = ptr(run.FinishedAt.Time)
	}
	if len(run.RunSteps) > 0 {
		u.Steps = stepsJSON(run.RunSteps)
	}
	return u
}

// Step is a run step as kept in the store: what a caller needs to see
// where a run is or where it failed, without the logs.
type Step struct {
	Index      int       `json:"index"`
	Name       string    `json:"name"`
	Status     string    `json:"status"`
	Duration   string    `json:"duration,omitempty"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
}

func stepsJSON(steps []dbtcloud.RunStep) []byte {
	out := make([]Step, len(steps))
	for i, s := range steps {
		out[i] = Step{Index: s.Index, Name: s.Name, Status: string(stateOf(s.Status)), Duration: s.Duration,
			StartedAt: s.StartedAt.Time, FinishedAt: s.FinishedAt.Time}
	}
	b, _ := json.Marshal(out)
	return b
}

// ---- deadline ----

type deadlineArgs struct {
	RunID int64 `json:"run_id"`
}

func (deadlineArgs) Kind() string { return kindDeadline }
func (deadlineArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 30, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: liveStates}}
}

type deadlineWorker struct {
	river.WorkerDefaults[deadlineArgs]
	t *Tracker
}

func (w *deadlineWorker) NextRetry(j *river.Job[deadlineArgs]) time.Time { return backoff(j.Attempt) }

// Work runs at the run's deadline.
func (w *deadlineWorker) Work(ctx context.Context, j *river.Job[deadlineArgs]) error {
	t := w.t
	r, err := t.st.GetRun(ctx, j.Args.RunID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil || r.State.Terminal() {
		return err
	}
	t.metrics.deadlines.Inc()
	if !r.CancelAtDeadline {
		msg := fmt.Sprintf("still %s at its deadline (%s)", r.State, r.DeadlineAt.Format(time.RFC3339))
		_, _, err := t.st.UpdateRun(ctx, r.ID, store.RunUpdate{Error: &msg, IfActive: true})
		return err
	}
	return t.cancelInDbtCloud(ctx, r.ID, fmt.Sprintf("cancelled at its deadline (%s)", r.DeadlineAt.Format(time.RFC3339)))
}
