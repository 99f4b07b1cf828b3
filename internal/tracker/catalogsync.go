package tracker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/internal/store"
)

// CatalogSyncer syncs the catalog from a stored dbt Cloud connection. The
// tracker calls it from its job queue after a run finished (reason "run"),
// a webhook said one did ("webhook"), or on schedule ("schedule"); it is
// an interface so the tracker does not depend on the catalog.
type CatalogSyncer interface {
	SyncConnection(ctx context.Context, conn, reason string) error
}

// CatalogCrawler crawls every stored warehouse connection.
type CatalogCrawler interface {
	CrawlWarehouses(ctx context.Context) error
}

// DefaultCatalogJobTimeout is how long a catalog sync or crawl job may run
// unless Config.CatalogJobTimeout says otherwise. A first sync of a large
// account downloads every environment's artifacts, and a crawl reads
// every table of a warehouse: both take minutes, far past the 90s the
// other jobs get.
const DefaultCatalogJobTimeout = 30 * time.Minute

// catalogJobGrace is how much longer than the catalog job timeout River
// lets the job run: the job's own deadline fires first, so the sync or
// crawl sees why it was stopped and records that before River gives up on
// the job.
const catalogJobGrace = time.Minute

const (
	kindCatalogSync     = "dbtlink.catalog_sync"
	kindCatalogSchedule = "dbtlink.catalog_schedule"
	kindCatalogCrawl    = "dbtlink.catalog_crawl"
)

// catalogSyncArgs syncs one connection. The unique key leaves the reason
// out: while a sync of a connection waits, further requests are folded
// into it. River counts a running job as present too, so a request
// arriving while one runs (it may have listed the runs already) goes to
// the other Second, which keeps at most one sync waiting per connection.
type catalogSyncArgs struct {
	Connection string `json:"connection" river:"unique"`
	Second     bool   `json:"second,omitempty" river:"unique"`
	Reason     string `json:"reason"`
}

func (catalogSyncArgs) Kind() string { return kindCatalogSync }
func (catalogSyncArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: liveStates}}
}

type catalogSyncWorker struct {
	river.WorkerDefaults[catalogSyncArgs]
	t *Tracker
}

func (w *catalogSyncWorker) NextRetry(j *river.Job[catalogSyncArgs]) time.Time {
	return backoff(j.Attempt)
}

func (w *catalogSyncWorker) Timeout(*river.Job[catalogSyncArgs]) time.Duration {
	return w.t.cfg.CatalogJobTimeout + catalogJobGrace
}

// catalogJobContext bounds a catalog job by the configured timeout, with a
// cause that says what stopped it and how to allow more: the sync or crawl
// records it as its error.
func (t *Tracker) catalogJobContext(ctx context.Context, what string) (context.Context, context.CancelFunc) {
	d := t.cfg.CatalogJobTimeout
	return context.WithTimeoutCause(ctx, d, fmt.Errorf("%s stopped after %s: the catalog job timeout (raise dbtlink serve --catalog-job-timeout)", what, d))
}

func (w *catalogSyncWorker) Work(ctx context.Context, j *river.Job[catalogSyncArgs]) error {
	t := w.t
	ctx, cancel := t.catalogJobContext(ctx, "catalog sync of connection "+j.Args.Connection)
	defer cancel()
	err := t.cfg.CatalogSyncer.SyncConnection(ctx, j.Args.Connection, j.Args.Reason)
	status := "ok"
	if err != nil {
		status = "error"
		t.log.LogAttrs(ctx, slog.LevelWarn, "catalog sync failed", slog.String("connection", j.Args.Connection),
			slog.String("reason", j.Args.Reason), slog.Any("error", withCause(ctx, err)))
	}
	t.metrics.catalogSyncs.WithLabelValues(status).Inc()
	// A failed scope is recorded in the catalog with its error; retrying
	// would only repeat it until the next run or schedule.
	return nil
}

// catalogScheduleArgs is the periodic job that enqueues a sync of every
// stored connection.
type catalogScheduleArgs struct{}

func (catalogScheduleArgs) Kind() string { return kindCatalogSchedule }
func (catalogScheduleArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: liveStates}}
}

type catalogScheduleWorker struct {
	river.WorkerDefaults[catalogScheduleArgs]
	t *Tracker
}

func (w *catalogScheduleWorker) Work(ctx context.Context, j *river.Job[catalogScheduleArgs]) error {
	conns, err := w.t.st.ListConnections(ctx)
	if err != nil {
		return err
	}
	for _, c := range conns {
		w.t.enqueueCatalogSync(ctx, c.Name, "schedule")
	}
	return nil
}

// catalogCrawlArgs is the periodic crawl of every stored warehouse.
type catalogCrawlArgs struct{}

func (catalogCrawlArgs) Kind() string { return kindCatalogCrawl }
func (catalogCrawlArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: liveStates}}
}

type catalogCrawlWorker struct {
	river.WorkerDefaults[catalogCrawlArgs]
	t *Tracker
}

func (w *catalogCrawlWorker) Timeout(*river.Job[catalogCrawlArgs]) time.Duration {
	return w.t.cfg.CatalogJobTimeout + catalogJobGrace
}

func (w *catalogCrawlWorker) Work(ctx context.Context, j *river.Job[catalogCrawlArgs]) error {
	t := w.t
	ctx, cancel := t.catalogJobContext(ctx, "catalog crawl")
	defer cancel()
	started := time.Now()
	err := t.cfg.CatalogCrawler.CrawlWarehouses(ctx)
	t.metrics.crawlDuration.Observe(time.Since(started).Seconds())
	if err != nil {
		// Each warehouse's crawl is recorded with its error.
		t.log.LogAttrs(ctx, slog.LevelWarn, "catalog crawl failed", slog.Any("error", withCause(ctx, err)))
	}
	return nil
}

// addCatalogWorkers registers the catalog's workers and periodic jobs on
// a River configuration being built.
func (t *Tracker) addCatalogWorkers(workers *river.Workers, cfg *river.Config) {
	if t.cfg.CatalogSyncer != nil {
		river.AddWorker(workers, &catalogSyncWorker{t: t})
		river.AddWorker(workers, &catalogScheduleWorker{t: t})
		if d := t.cfg.CatalogSyncInterval; d > 0 {
			cfg.PeriodicJobs = append(cfg.PeriodicJobs, river.NewPeriodicJob(river.PeriodicInterval(d),
				func() (river.JobArgs, *river.InsertOpts) { return catalogScheduleArgs{}, nil }, nil))
		}
	}
	if t.cfg.CatalogCrawler != nil {
		river.AddWorker(workers, &catalogCrawlWorker{t: t})
		if d := t.cfg.CatalogCrawlInterval; d > 0 {
			cfg.PeriodicJobs = append(cfg.PeriodicJobs, river.NewPeriodicJob(river.PeriodicInterval(d),
				func() (river.JobArgs, *river.InsertOpts) { return catalogCrawlArgs{}, nil }, nil))
		}
	}
}

// enqueueCatalogSync asks for a sync of conn, folded into one already
// waiting. It never fails its caller: a run's end must not wait on the
// catalog, and the next run or schedule syncs again.
func (t *Tracker) enqueueCatalogSync(ctx context.Context, conn, reason string) {
	if t.cfg.CatalogSyncer == nil || conn == "" {
		return
	}
	ctx = context.WithoutCancel(ctx)
	args := catalogSyncArgs{Connection: conn, Reason: reason}
	res, err := t.river.Insert(ctx, args, nil)
	if err == nil && res.UniqueSkippedAsDuplicate && res.Job != nil && res.Job.State == rivertype.JobStateRunning {
		var running catalogSyncArgs
		if json.Unmarshal(res.Job.EncodedArgs, &running) == nil {
			args.Second = !running.Second
			_, err = t.river.Insert(ctx, args, nil)
		}
	}
	if err != nil {
		t.log.LogAttrs(ctx, slog.LevelWarn, "enqueue a catalog sync", slog.String("connection", conn), slog.Any("error", err))
	}
}

// withCause adds to err why ctx ended, when it ended with a cause of its
// own (the catalog job timeout) that err does not already say.
func withCause(ctx context.Context, err error) error {
	cause := context.Cause(ctx)
	if cause == nil || cause == ctx.Err() || errors.Is(err, cause) {
		return err
	}
	return fmt.Errorf("%w (%v)", err, cause)
}

func newCatalogMetrics(m *metrics, reg prometheus.Registerer) {
	m.catalogSyncs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dbtlink_catalog_syncs_total",
		Help: "Catalog syncs of a dbt Cloud connection run by the server, by status (ok, error).",
	}, []string{"status"})
	m.crawlDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "dbtlink_catalog_crawl_duration_seconds",
		Help:    "Duration of the server's scheduled crawls of every stored warehouse.",
		Buckets: prometheus.ExponentialBuckets(0.5, 2, 14),
	})
	if reg != nil {
		reg.MustRegister(m.catalogSyncs, m.crawlDuration)
	}
}

// CloudClient returns the dbt Cloud client of a stored connection ("" is
// the default one), built as the tracker's own (rate limit, metrics) and
// cached until the connection changes. The catalog's syncs use it.
func (t *Tracker) CloudClient(ctx context.Context, name string) (*dbtcloud.Client, store.Connection, error) {
	return t.client(ctx, name)
}
