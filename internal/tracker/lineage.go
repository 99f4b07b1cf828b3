package tracker

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/internal/store"
)

// LineageEmitter sends the OpenLineage events of a finished dbt Cloud run
// of a stored connection. It is an interface so that the tracker does not
// depend on package openlineage; *openlineage.Router implements it.
//
// sent is the delivery's progress, the number of events each destination
// has taken by its key: EmitRun skips those and counts up as it sends, even
// when it fails, and the tracker keeps the map in the River job between
// attempts, so that a retry resumes each destination where it stopped
// instead of sending everything again.
type LineageEmitter interface {
	EmitRun(ctx context.Context, conn string, client *dbtcloud.Client, accountID, dbtRunID int64, sent map[string]int) error
}

const kindLineage = "dbtlink.openlineage"

// lineageTimeout bounds one delivery attempt. The server-wide job timeout
// (three quarters of --rescue-after, 90s by default) is too short for a
// large run: thousands of events, each posted in turn with the HTTP
// transport's retries, plus the artifact downloads. River's rescuer
// honours a worker's own timeout, so a longer attempt is not rescued (and
// run twice) while it works; the price is that an attempt lost with its
// process is retried only once this has passed. An attempt that times out
// resumes, on the next one, where it stopped.
const lineageTimeout = 15 * time.Minute

// lineageStep names the resumable step whose cursor is the progress map.
const lineageStep = "deliver"

// lineageArgs sends the events of one settled dbt Cloud run. Each attempt
// of a rerun policy is a dbt Cloud run of its own and gets its events.
// Completed jobs count for uniqueness, so a retried finalize does not send
// them twice.
type lineageArgs struct {
	RunID    int64 `json:"run_id"`
	DbtRunID int64 `json:"dbt_run_id"`
}

func (lineageArgs) Kind() string { return kindLineage }
func (lineageArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 6, UniqueOpts: river.UniqueOpts{ByArgs: true,
		ByState: append([]rivertype.JobState{rivertype.JobStateCompleted}, liveStates...)}}
}

type lineageWorker struct {
	river.WorkerDefaults[lineageArgs]
	t *Tracker
	// runs counts deliveries by outcome: sent, retry (a failed attempt
	// River tries again) and lost (the last attempt failed).
	runs *prometheus.CounterVec
}

// addLineageWorker registers the delivery job and its metric.
func (t *Tracker) addLineageWorker(workers *river.Workers) {
	w := &lineageWorker{t: t, runs: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dbtlink_openlineage_runs_total",
		Help: "dbt Cloud runs whose OpenLineage events the server sent, by outcome (sent, retry, lost).",
	}, []string{"outcome"})}
	if t.cfg.Registry != nil {
		t.cfg.Registry.MustRegister(w.runs)
	}
	river.AddWorker(workers, w)
}

func (w *lineageWorker) NextRetry(j *river.Job[lineageArgs]) time.Time { return backoff(j.Attempt) }

// Timeout gives an attempt lineageTimeout rather than the server-wide one.
func (w *lineageWorker) Timeout(*river.Job[lineageArgs]) time.Duration { return lineageTimeout }

// Work sends the events; an error makes River retry the job later, which
// is what makes delivery survive a receiver that is down for a while. The
// work is one River resumable step whose cursor is the per-destination
// progress: River stores it in the job's metadata when the attempt fails
// or times out, and hands it to the next attempt. A process that dies mid
// attempt stores nothing, so the next one resends that attempt's events:
// delivery is at least once, exactly once as long as attempts end.
func (w *lineageWorker) Work(ctx context.Context, j *river.Job[lineageArgs]) error {
	river.ResumableStepCursor(ctx, lineageStep, nil, func(ctx context.Context, sent map[string]int) error {
		if sent == nil {
			sent = map[string]int{}
		}
		err := w.deliver(ctx, j, sent)
		if len(sent) > 0 {
			if cerr := river.ResumableSetCursor(ctx, sent); cerr != nil {
				return errors.Join(err, cerr)
			}
		}
		return err
	})
	return nil // the step's error, if any, is the job's: River returns it
}

func (w *lineageWorker) deliver(ctx context.Context, j *river.Job[lineageArgs], sent map[string]int) error {
	t := w.t
	r, err := t.st.GetRun(ctx, j.Args.RunID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	cl, c, err := t.client(ctx, r.Connection)
	if errors.Is(err, store.ErrNotFound) {
		return nil // the connection was deleted
	}
	if err != nil {
		return err
	}
	err = t.cfg.Lineage.EmitRun(ctx, r.Connection, cl, c.AccountID, j.Args.DbtRunID, sent)
	if err == nil {
		w.runs.WithLabelValues("sent").Inc()
	} else {
		level, outcome := slog.LevelInfo, "retry"
		if j.Attempt >= j.MaxAttempts {
			level, outcome = slog.LevelWarn, "lost" // the last try
		}
		w.runs.WithLabelValues(outcome).Inc()
		t.log.LogAttrs(ctx, level, "OpenLineage events not sent", slog.Int64("run", r.ID), slog.Int64("dbt_run", j.Args.DbtRunID),
			slog.Int("attempt", j.Attempt), slog.Int("max_attempts", j.MaxAttempts), slog.Any("delivered", sent), slog.Any("error", err))
	}
	return err
}

// enqueueLineage asks for the events of r's current dbt Cloud run. It
// never fails its caller: lineage must not hold up a run's end.
func (t *Tracker) enqueueLineage(ctx context.Context, r store.Run) {
	if t.cfg.Lineage == nil || r.DbtRunID == 0 {
		return
	}
	if _, err := t.river.Insert(context.WithoutCancel(ctx), lineageArgs{RunID: r.ID, DbtRunID: r.DbtRunID}, nil); err != nil {
		t.log.LogAttrs(ctx, slog.LevelWarn, "enqueue OpenLineage events", slog.Int64("run", r.ID), slog.Any("error", err))
	}
}
