package tracker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/internal/orchestrate"
	"github.com/dbtlink/dbtlink/internal/store"
)

// Polling, in short: one poll job per connection (unique, so one process
// at a time polls an account) makes a pass and snoozes until the next.
// A pass costs one list call whatever the number of runs, plus one per 100
// runs that ended since the last pass:
//
//   - finished runs: GET runs/?finished_at__range=[cursor-overlap, ...]
//     &id__gt=<oldest tracked - 1>&order_by=finished_at, paged. Every
//     tracked run in it is settled; the cursor is the newest finished_at
//     seen, on dbt Cloud's clock, so clock skew between us and dbt Cloud
//     does not matter;
//   - runs in flight: GET runs/?status__in=[1,2,3]&id__gt=..., paged, on
//     every pass while it is one page and at most every inflightEvery
//     otherwise. It updates queued/running, and a tracked run that is
//     neither in flight nor among the finished (deleted, or ended in a
//     window the cursor missed) is read on its own;
//   - with one or two runs in flight, a GET per run is cheaper, and is
//     what the pass does.
//
// The interval adapts like `dbtlink job run --wait` (orchestrate.Schedule,
// with the expected duration taken from the job's last settled run in the
// store, so no API call is spent on it, and orchestrate.Pace following a
// dbt Cloud whose clock runs faster than ours, such as an emulator with
// --speed): the minimum over the runs in flight, bounded by PollMin and
// PollMax. While webhooks for the account
// arrive, the interval is WebhookPoll: webhooks settle runs and polling is
// the safety net.
const (
	finishedOverlap = 10 * time.Second
	inflightEvery   = 2 * time.Minute
	fewRuns         = 2
	pageSize        = 100
	maxLookupsEach  = 20
)

type pollArgs struct {
	Connection string `json:"connection"`
}

func (pollArgs) Kind() string { return kindPoll }
func (pollArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queuePoll, MaxAttempts: 1000, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: liveStates}}
}

// queuePoll is the queue of poll jobs, and pollWorkers how many accounts a
// process polls at once.
const (
	queuePoll   = "poll"
	pollWorkers = 4
)

type pollWorker struct {
	river.WorkerDefaults[pollArgs]
	t *Tracker
}

// Work makes one pass and snoozes until the next. Errors are logged and
// retried after a pause, never returned, so the poller is never discarded
// after many transient failures.
func (w *pollWorker) Work(ctx context.Context, j *river.Job[pollArgs]) error {
	t := w.t
	next, err := t.pollPass(ctx, j.Args.Connection)
	if errors.Is(err, errStopPolling) {
		return nil
	}
	if err != nil {
		if ctx.Err() != nil {
			return river.JobSnooze(0) // shutting down: resume at once elsewhere
		}
		t.metrics.pollErrors.Inc()
		t.log.Warn("poll failed; will retry", "connection", j.Args.Connection, "error", err)
		next = t.cfg.PollMax
	}
	return river.JobSnooze(next)
}

var errStopPolling = errors.New("stop polling")

// pollState is what one process remembers between passes of a connection.
// Only the connection's poll job, one at a time, uses it.
type pollState struct {
	lastInflight time.Time
	// pace measures how fast the account's clock runs, from the runs in
	// flight each pass reads, as `dbtlink job run --wait` does: against an
	// emulator with --speed the schedule is read on its clock, so the
	// server follows the demo at its speed; a real dbt Cloud runs at ours
	// and is polled as before. It restarts whenever the account has no run
	// in flight, so an emulator restarted at another speed is measured
	// afresh.
	pace orchestrate.Pace
}

func (t *Tracker) pollStateOf(conn string) *pollState {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.polls == nil {
		t.polls = map[string]*pollState{}
	}
	ps, ok := t.polls[conn]
	if !ok {
		ps = &pollState{}
		t.polls[conn] = ps
	}
	return ps
}

// pollPass polls one connection and returns the delay until the next pass.
func (t *Tracker) pollPass(ctx context.Context, conn string) (time.Duration, error) {
	active, err := t.activeRuns(ctx, conn)
	if err != nil {
		return 0, err
	}
	if len(active) == 0 {
		// Idle: keep the job, scheduled far out; a new run brings it
		// forward (nudgePoll).
		t.pollStateOf(conn).pace = orchestrate.Pace{}
		return t.cfg.PollMax, nil
	}
	cl, c, err := t.client(ctx, conn)
	if errors.Is(err, store.ErrNotFound) {
		t.log.Warn("connection deleted: its runs in flight are no longer followed", "connection", conn, "runs", len(active))
		return 0, errStopPolling
	}
	if err != nil {
		return 0, err
	}
	t.metrics.polls.Inc()
	byDbt := make(map[int64]store.Run, len(active))
	minID := active[0].DbtRunID
	for _, r := range active {
		byDbt[r.DbtRunID] = r
		minID = min(minID, r.DbtRunID)
	}
	if len(active) <= fewRuns {
		err = t.pollEach(ctx, cl, c, active)
	} else {
		err = t.pollList(ctx, cl, c, byDbt, minID)
	}
	if err != nil {
		return 0, err
	}
	return t.nextInterval(ctx, conn, active)
}

// activeRuns lists every triggered run of conn still in flight.
func (t *Tracker) activeRuns(ctx context.Context, conn string) ([]store.Run, error) {
	var all []store.Run
	f := store.RunFilter{Connection: conn, States: store.ActiveStates, OnlyTriggered: true, Limit: 1000}
	for {
		page, err := t.st.ListRuns(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("list runs in flight of %s: %w", conn, err)
		}
		all = append(all, page...)
		if len(page) < f.Limit {
			return all, nil
		}
		f.BeforeID = page[len(page)-1].ID
	}
}

func (t *Tracker) pollEach(ctx context.Context, cl *dbtcloud.Client, c store.Connection, runs []store.Run) error {
	ps := t.pollStateOf(c.Name)
	for _, r := range runs {
		run, _, err := cl.Runs.Get(ctx, c.AccountID, r.DbtRunID, &dbtcloud.RunGetOptions{IncludeRelated: []string{"run_steps"}})
		if err != nil {
			return fmt.Errorf("get dbt Cloud run %d: %w", r.DbtRunID, err)
		}
		ps.pace.Observe(run, t.cfg.Now())
		if err := t.apply(ctx, []store.Run{r}, []*dbtcloud.Run{run}); err != nil {
			return err
		}
	}
	return nil
}

func (t *Tracker) pollList(ctx context.Context, cl *dbtcloud.Client, c store.Connection, byDbt map[int64]store.Run, minID int64) error {
	ps := t.pollStateOf(c.Name)
	now := t.cfg.Now()
	inflight := map[int64]bool{}
	listedInflight := false
	if len(byDbt) <= pageSize || now.Sub(ps.lastInflight) >= inflightEvery {
		var seen []store.Run
		var runs []*dbtcloud.Run
		opts := &dbtcloud.RunListOptions{
			StatusIn: []dbtcloud.RunStatus{dbtcloud.RunStatusQueued, dbtcloud.RunStatusStarting, dbtcloud.RunStatusRunning},
			IDGt:     minID - 1, OrderBy: "id", ListOptions: dbtcloud.ListOptions{Limit: pageSize},
		}
		for run, err := range cl.Runs.ListIter(ctx, c.AccountID, opts) {
			if err != nil {
				return fmt.Errorf("list runs in flight: %w", err)
			}
			inflight[run.ID] = true
			ps.pace.Observe(run, t.cfg.Now())
			if r, ok := byDbt[run.ID]; ok && stateOf(run.Status) != r.State {
				seen, runs = append(seen, r), append(runs, run)
			}
		}
		if err := t.apply(ctx, seen, runs); err != nil {
			return err
		}
		listedInflight = true
		ps.lastInflight = now
	}

	cursor, err := t.st.PollCursor(ctx, c.Name)
	if err != nil {
		return err
	}
	if cursor.IsZero() {
		for _, r := range byDbt {
			if cursor.IsZero() || r.DbtCreatedAt.Before(cursor) {
				cursor = r.DbtCreatedAt
			}
		}
	}
	newest := cursor
	settled := map[int64]bool{}
	opts := &dbtcloud.RunListOptions{
		FinishedAtRange: &dbtcloud.TimeRange{From: cursor.Add(-finishedOverlap), To: farFuture(now)},
		IDGt:            minID - 1, OrderBy: "finished_at", IncludeRelated: []string{"run_steps"},
		ListOptions: dbtcloud.ListOptions{Limit: pageSize},
	}
	var seen []store.Run
	var runs []*dbtcloud.Run
	flush := func() error {
		err := t.apply(ctx, seen, runs)
		seen, runs = seen[:0], runs[:0]
		return err
	}
	for run, err := range cl.Runs.ListIter(ctx, c.AccountID, opts) {
		if err != nil {
			return fmt.Errorf("list finished runs: %w", err)
		}
		if run.FinishedAt.After(newest) {
			newest = run.FinishedAt.Time
		}
		r, ok := byDbt[run.ID]
		if !ok || !run.Status.Terminal() {
			continue
		}
		settled[run.ID] = true
		seen, runs = append(seen, r), append(runs, run)
		if len(seen) == pageSize {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if newest.After(cursor) {
		if err := t.st.SetPollCursor(ctx, c.Name, newest); err != nil {
			return err
		}
	}
	if !listedInflight {
		return nil
	}
	// A tracked run neither in flight nor just finished: read it.
	var lost []store.Run
	for id, r := range byDbt {
		if !inflight[id] && !settled[id] {
			lost = append(lost, r)
		}
	}
	if len(lost) > maxLookupsEach {
		lost = lost[:maxLookupsEach]
	}
	return t.pollEach(ctx, cl, c, lost)
}

// farFuture bounds the finished_at range: dbt Cloud wants both ends, and
// an end far ahead tolerates any clock skew (and the emulator's speed-up).
func farFuture(now time.Time) time.Time { return now.AddDate(1, 0, 0) }

// apply records what dbt Cloud says of runs (pairs of the same index): a
// change of state in flight, or the end. One transaction for all.
func (t *Tracker) apply(ctx context.Context, rs []store.Run, runs []*dbtcloud.Run) error {
	if len(rs) == 0 {
		return nil
	}
	var ended []store.Run
	err := t.st.InTx(ctx, func(tx *store.Tx) error {
		ended = ended[:0]
		for i, r := range rs {
			run := runs[i]
			u := updateFromRun(run)
			if !run.Status.Terminal() {
				if stateOf(run.Status) == r.State {
					continue
				}
				u.IfActive = true
				if _, _, err := tx.UpdateRun(ctx, r.ID, u); err != nil {
					return err
				}
				continue
			}
			ok, err := t.settle(ctx, tx, r, u)
			if err != nil {
				return err
			}
			if ok {
				if !run.FinishedAt.IsZero() {
					r.FinishedAt = run.FinishedAt.Time
				}
				ended = append(ended, r)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record run states: %w", err)
	}
	for _, r := range ended {
		t.log.Info("run ended", "run", r.ID, "dbt_run", r.DbtRunID)
	}
	t.settled(ended...)
	return nil
}

// nextInterval picks the delay until the next pass.
func (t *Tracker) nextInterval(ctx context.Context, conn string, active []store.Run) (time.Duration, error) {
	if ok, err := t.webhooksHealthy(ctx, conn); err != nil {
		return 0, err
	} else if ok {
		return t.cfg.WebhookPoll, nil
	}
	now := t.cfg.Now()
	ps := t.pollStateOf(conn)
	expected := map[int64]time.Duration{}
	next := t.cfg.PollMax
	for _, r := range active {
		e, ok := expected[r.JobID]
		if !ok {
			var err error
			if e, err = t.expectedDuration(ctx, conn, r.JobID); err != nil {
				return 0, err
			}
			expected[r.JobID] = e
		}
		sched := orchestrate.Schedule{Expected: e}
		d := sched.Next(now.Sub(r.DbtCreatedAt))
		next = min(next, ps.pace.Adjust(sched, d, r.DbtCreatedAt, now))
	}
	return max(next, t.cfg.PollMin), nil
}

// expectedDuration is how long the job's last settled run took, or 0.
// Answers are remembered for expectedTTL: a pass over 10,000 runs of
// 10,000 jobs would otherwise read the store 10,000 times.
func (t *Tracker) expectedDuration(ctx context.Context, conn string, jobID int64) (time.Duration, error) {
	k := expectKey{conn, jobID}
	now := t.cfg.Now()
	t.mu.Lock()
	e, ok := t.expected[k]
	t.mu.Unlock()
	if ok && now.Sub(e.at) < expectedTTL {
		return e.d, nil
	}
	prev, err := t.st.ListRuns(ctx, store.RunFilter{Connection: conn, JobID: jobID,
		States: []store.RunState{store.RunSuccess, store.RunError}, Limit: 1})
	if err != nil {
		return 0, err
	}
	var d time.Duration
	if len(prev) == 1 && !prev[0].DbtCreatedAt.IsZero() && prev[0].FinishedAt.After(prev[0].DbtCreatedAt) {
		d = prev[0].FinishedAt.Sub(prev[0].DbtCreatedAt)
	}
	t.mu.Lock()
	t.expected[k] = expectation{d: d, at: now}
	t.mu.Unlock()
	return d, nil
}

type expectKey struct {
	conn string
	job  int64
}

type expectation struct {
	d  time.Duration
	at time.Time
}

const expectedTTL = 5 * time.Minute

// webhooksHealthy: the account has a subscription and an event arrived
// recently enough that a missing one would be noticed.
func (t *Tracker) webhooksHealthy(ctx context.Context, conn string) (bool, error) {
	if _, err := t.st.GetWebhookSubscription(ctx, conn); errors.Is(err, store.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	last, err := t.st.LastWebhookAt(ctx, conn)
	if err != nil || last.IsZero() {
		return false, err
	}
	return t.cfg.Now().Sub(last) < 2*t.cfg.WebhookPoll, nil
}
