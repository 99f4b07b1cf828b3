package tracker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/internal/orchestrate"
	"github.com/dbtlink/dbtlink/internal/store"
)

// finalizeArgs follows one settled dbt Cloud run of a tracked run: the
// rerun policy, the failing nodes and the artifacts. DbtRunID is part of
// the unique key so that each attempt of a rerun policy is finalized once.
type finalizeArgs struct {
	RunID    int64 `json:"run_id"`
	DbtRunID int64 `json:"dbt_run_id"`
}

func (finalizeArgs) Kind() string { return kindFinalize }
func (finalizeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 8, UniqueOpts: river.UniqueOpts{ByArgs: true,
		ByState: append([]rivertype.JobState{rivertype.JobStateCompleted}, liveStates...)}}
}

type finalizeWorker struct {
	river.WorkerDefaults[finalizeArgs]
	t *Tracker
}

func (w *finalizeWorker) NextRetry(j *river.Job[finalizeArgs]) time.Time { return backoff(j.Attempt) }

func (w *finalizeWorker) Work(ctx context.Context, j *river.Job[finalizeArgs]) error {
	t := w.t
	r, err := t.st.GetRun(ctx, j.Args.RunID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if r.DbtRunID != j.Args.DbtRunID || !r.State.Terminal() {
		return nil // superseded by a rerun
	}
	lastAttempt := j.Attempt >= j.MaxAttempts
	err = t.finalize(ctx, r, lastAttempt)
	if err != nil && lastAttempt && ctx.Err() == nil {
		// Give up, but say so: a run without an artifacts state is not
		// Done, and its waiters would wait for ever.
		return t.setArtifactsState(ctx, r, "failed: "+err.Error())
	}
	return err
}

func (t *Tracker) finalize(ctx context.Context, r store.Run, lastAttempt bool) error {
	cl, c, err := t.client(ctx, r.Connection)
	if errors.Is(err, store.ErrNotFound) {
		return t.setArtifactsState(ctx, r, fmt.Sprintf("none: connection %q was deleted", r.Connection))
	}
	if err != nil {
		return err
	}
	t.enqueueLineage(ctx, r) // before a rerun replaces r's dbt Cloud run
	if r.State == store.RunError {
		retried, note, err := t.rerun(ctx, cl, c, r)
		if err != nil || retried {
			return err
		}
		if err := t.recordFailure(ctx, cl, c, r, note); err != nil {
			return err
		}
	}
	if err := t.storeArtifacts(ctx, cl, c, r, lastAttempt); err != nil {
		return err
	}
	t.enqueueCatalogSync(ctx, r.Connection, "run")
	return nil
}

// rerun applies the rerun-from-failure policy. It returns true when a new
// dbt Cloud run now carries the tracked run, and otherwise a note saying
// why a rerun the policy allowed was not made.
func (t *Tracker) rerun(ctx context.Context, cl *dbtcloud.Client, c store.Connection, r store.Run) (bool, string, error) {
	if r.Retries >= r.MaxRetries {
		if r.MaxRetries > 0 {
			return false, fmt.Sprintf("not rerun: %d of %d reruns used", r.Retries, r.MaxRetries), nil
		}
		return false, "", nil
	}
	// A retry posted before an interruption shows up as a newer run of the
	// job pointing back at this one.
	var next *dbtcloud.Run
	for run, err := range cl.Runs.ListIter(ctx, c.AccountID, &dbtcloud.RunListOptions{
		JobDefinitionID: r.JobID, IDGt: r.DbtRunID, OrderBy: "id", ListOptions: dbtcloud.ListOptions{Limit: pageSize},
	}) {
		if err != nil {
			return false, "", fmt.Errorf("look for a rerun of dbt Cloud run %d: %w", r.DbtRunID, err)
		}
		if run.RetryingRunID == r.DbtRunID {
			next = run
			break
		}
	}
	if next == nil {
		run, _, err := cl.Runs.Get(ctx, c.AccountID, r.DbtRunID, nil)
		if err != nil {
			return false, "", fmt.Errorf("read dbt Cloud run %d: %w", r.DbtRunID, err)
		}
		if !run.CanRetry {
			return false, fmt.Sprintf("not rerun: dbt Cloud cannot retry run %d (%s)", r.DbtRunID, run.RetryNotSupportedReason), nil
		}
		if next, _, err = cl.Runs.Retry(ctx, c.AccountID, r.DbtRunID); err != nil {
			return false, "", fmt.Errorf("rerun dbt Cloud run %d from failure: %w", r.DbtRunID, err)
		}
	}
	var attempts []int64
	_ = json.Unmarshal(r.Attempts, &attempts)
	attempts = append(attempts, next.ID)
	ab, _ := json.Marshal(attempts)
	state := stateOf(next.Status)
	var zero time.Time
	empty := ""
	u := store.RunUpdate{
		DbtRunID: &next.ID, State: &state, DbtStatus: ptr(int(next.Status)), StatusMessage: &empty, Href: &next.Href,
		DbtCreatedAt: ptr(next.CreatedAt.Time), StartedAt: &zero, FinishedAt: &zero, SettledAt: &zero,
		Steps: []byte("[]"), FailingNodes: []byte("[]"), Attempts: ab, Retries: ptr(r.Retries + 1),
	}
	var poll *rivertype.JobInsertResult
	err := t.st.InTx(ctx, func(tx *store.Tx) error {
		if _, _, err := tx.UpdateRun(ctx, r.ID, u); err != nil {
			return err
		}
		var err error
		poll, err = t.river.InsertTx(ctx, tx.SQL(), pollArgs{Connection: r.Connection}, nil)
		return err
	})
	if err != nil {
		return false, "", fmt.Errorf("record the rerun of run %d: %w", r.ID, err)
	}
	t.metrics.reruns.Inc()
	t.log.Info("run rerun from failure", "run", r.ID, "dbt_run", next.ID, "retry", r.Retries+1, "of", r.MaxRetries)
	t.nudgePoll(ctx, r.Connection, poll)
	return true, "", nil
}

// FailingNode is a dbt node that errored or failed; FailingNodes holds a
// JSON list of them.
type FailingNode struct {
	UniqueID string `json:"unique_id"`
	Status   string `json:"status"`
	Message  string `json:"message,omitempty"`
}

// recordFailure keeps the failing nodes, read from the failing step's
// run_results.json, and says in Error where the run failed, with the log
// lines that explain it, followed by note.
func (t *Tracker) recordFailure(ctx context.Context, cl *dbtcloud.Client, c store.Connection, r store.Run, note string) error {
	run := &dbtcloud.Run{ID: r.DbtRunID, Status: dbtcloud.RunStatus(r.DbtStatus), StatusMessage: r.StatusMessage}
	// FailureSummary fetches the steps itself when given none.
	f, err := orchestrate.FailureSummary(ctx, cl, c.AccountID, run)
	if err != nil {
		return fmt.Errorf("read why run %d failed: %w", r.ID, err)
	}
	nodes := []FailingNode{}
	for _, n := range f.Nodes {
		nodes = append(nodes, FailingNode{UniqueID: n.UniqueID, Status: n.Status, Message: n.Message})
	}
	b, err := json.Marshal(nodes)
	if err != nil {
		return err
	}
	var why []string
	if f.Step != nil {
		// The words of the CLI's local wait ("Run N failed at step ..."),
		// which prints this line through --server.
		why = append(why, fmt.Sprintf("failed at step %d, %s (%s)", f.Step.Index, f.Step.Name, f.Step.Status))
	}
	if f.NodesUnavailable != "" {
		why = append(why, "failing nodes unknown: "+f.NodesUnavailable)
	}
	if note != "" {
		why = append(why, note)
	}
	msg := strings.Join(why, "; ")
	if f.Step != nil && len(f.Step.LogTail) > 0 {
		msg += "\n" + strings.Join(f.Step.LogTail, "\n")
	}
	_, _, err = t.st.UpdateRun(ctx, r.ID, store.RunUpdate{FailingNodes: b, Error: &msg})
	return err
}

// artifactsFor decides which artifacts to keep: the request's list, or by
// the job's settings the manifest and run results, plus the catalog when
// the job generates docs and sources.json when it checks freshness.
func (t *Tracker) artifactsFor(ctx context.Context, cl *dbtcloud.Client, c store.Connection, r store.Run) ([]string, error) {
	if r.Artifacts != nil {
		return r.Artifacts, nil
	}
	job, err := t.cachedJob(ctx, cl, c, r.JobID)
	if err != nil {
		return nil, fmt.Errorf("read the settings of job %d: %w", r.JobID, err)
	}
	list := []string{"manifest.json", "run_results.json"}
	docs := job.GenerateDocs
	var req dbtcloud.TriggerRunRequest
	if json.Unmarshal(r.Request, &req) == nil && req.GenerateDocsOverride != nil {
		docs = *req.GenerateDocsOverride
	}
	if docs {
		list = append(list, "catalog.json")
	}
	if job.RunGenerateSources {
		list = append(list, "sources.json")
	}
	return list, nil
}

func (t *Tracker) storeArtifacts(ctx context.Context, cl *dbtcloud.Client, c store.Connection, r store.Run, lastAttempt bool) error {
	paths, err := t.artifactsFor(ctx, cl, c, r)
	if err == nil && len(paths) == 0 {
		return t.setArtifactsState(ctx, r, "none")
	}
	stored := 0
	for _, p := range paths {
		if err != nil {
			break
		}
		var ok bool
		ok, err = t.fetchArtifact(ctx, cl, c, r, p)
		if ok {
			stored++
		}
	}
	if err != nil {
		if lastAttempt {
			return t.setArtifactsState(ctx, r, "failed: "+err.Error())
		}
		return err
	}
	state := "stored"
	if stored == 0 {
		state = "none"
	}
	return t.setArtifactsState(ctx, r, state)
}

func (t *Tracker) setArtifactsState(ctx context.Context, r store.Run, s string) error {
	_, _, err := t.st.UpdateRun(ctx, r.ID, store.RunUpdate{ArtifactsState: &s})
	if err == nil {
		t.waiters.notify(r.ID)
	}
	return err
}

// fetchArtifact downloads one artifact to a temporary file, then stores it.
// Spooling keeps the database transaction short: on SQLite it holds the
// only connection, and a download can take minutes. A missing artifact
// (no catalog without docs) is not an error.
func (t *Tracker) fetchArtifact(ctx context.Context, cl *dbtcloud.Client, c store.Connection, r store.Run, p string) (bool, error) {
	body, _, err := cl.Artifacts.Get(ctx, c.AccountID, r.DbtRunID, p, 0)
	if errors.Is(err, dbtcloud.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("download %s of dbt Cloud run %d: %w", p, r.DbtRunID, err)
	}
	defer body.Close()
	f, err := os.CreateTemp("", "dbtlink-artifact-*")
	if err != nil {
		return false, fmt.Errorf("spool %s: %w", p, err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := io.Copy(f, body); err != nil {
		return false, fmt.Errorf("download %s of dbt Cloud run %d: %w", p, r.DbtRunID, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return false, err
	}
	if _, err := t.st.PutArtifact(ctx, r.ID, p, f); err != nil {
		return false, fmt.Errorf("store %s of run %d: %w", p, r.ID, err)
	}
	t.metrics.artifacts.Inc()
	return true, nil
}
