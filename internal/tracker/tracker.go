package tracker

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/internal/connection"
	"github.com/dbtlink/dbtlink/internal/store"
)

// Config configures a Tracker. Zero fields take the defaults named.
type Config struct {
	// Store is the database; required. River shares its *sql.DB.
	Store *store.Store
	// Keys seals and opens connection tokens and webhook secrets; required.
	// It is the CLI's connection store of the same dbtlink home, whose key
	// (DBTLINK_SECRET_KEY or the key file) every server on one database
	// must share.
	Keys *connection.Store
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Registry receives the tracker's metrics; nil registers none.
	Registry prometheus.Registerer
	// ClientOptions are added to every dbt Cloud client (tests: retry
	// policies, transports).
	ClientOptions []dbtcloud.Option
	// RequestsPerMinute is the per-account budget of dbt Cloud calls of
	// this process (default 3000, leaving dbt Cloud's 5000 a margin for
	// other tools).
	RequestsPerMinute int
	// Workers is the number of jobs worked at once (default 20).
	Workers int
	// PollMin and PollMax bound the interval between polls of an account
	// (defaults 2s and 30s); see poll.go for how it adapts in between.
	PollMin, PollMax time.Duration
	// WebhookPoll is the polling interval of an account whose webhooks
	// are known to arrive: polling becomes a safety net (default 5m).
	WebhookPoll time.Duration
	// RescueAfter is how long a job may run before another process (or
	// this one, after a restart on PostgreSQL) takes it over as stuck
	// (default 2m). Every job's timeout is set below it.
	RescueAfter time.Duration
	// FetchInterval is how often idle workers look for new jobs (default
	// 200ms).
	FetchInterval time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time

	// CatalogSyncer, if set, syncs the catalog from a connection after a
	// tracked run finished, after a webhook said an untracked run did,
	// and every CatalogSyncInterval (0: never on schedule).
	CatalogSyncer       CatalogSyncer
	CatalogSyncInterval time.Duration
	// CatalogCrawler, if set, crawls every stored warehouse every
	// CatalogCrawlInterval (0: never).
	CatalogCrawler       CatalogCrawler
	CatalogCrawlInterval time.Duration
	// CatalogJobTimeout bounds one catalog sync or crawl job (default
	// 30m, see catalogsync.go); the other jobs keep RescueAfter's. River's
	// rescuer honours it too, so a catalog job of a server that died is
	// taken over only once this (and a minute) has passed.
	CatalogJobTimeout time.Duration

	// Lineage, if set, sends OpenLineage events for every dbt Cloud run
	// that ends, from a job of its own (see lineage.go).
	Lineage LineageEmitter
}

func (c *Config) withDefaults() error {
	if c.Store == nil {
		return errors.New("tracker: no store")
	}
	if c.Keys == nil {
		return errors.New("tracker: no key store")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.RequestsPerMinute == 0 {
		c.RequestsPerMinute = 3000
	}
	if c.Workers == 0 {
		c.Workers = 20
	}
	if c.PollMin == 0 {
		c.PollMin = 2 * time.Second
	}
	if c.PollMax == 0 {
		c.PollMax = 30 * time.Second
	}
	if c.WebhookPoll == 0 {
		c.WebhookPoll = 5 * time.Minute
	}
	if c.RescueAfter == 0 {
		c.RescueAfter = 2 * time.Minute
	}
	if c.FetchInterval == 0 {
		c.FetchInterval = 200 * time.Millisecond
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.CatalogJobTimeout == 0 {
		c.CatalogJobTimeout = DefaultCatalogJobTimeout
	}
	switch {
	case c.CatalogJobTimeout < time.Second:
		return fmt.Errorf("tracker: catalog job timeout %s is too short; use 1s or more", c.CatalogJobTimeout)
	case c.PollMin <= 0 || c.PollMax < c.PollMin:
		return fmt.Errorf("tracker: poll interval bounds %s..%s: the minimum must be positive and at most the maximum", c.PollMin, c.PollMax)
	case c.RescueAfter < 2*time.Second:
		return fmt.Errorf("tracker: rescue-after %s is too short; use 2s or more", c.RescueAfter)
	case c.Workers < 1 || c.RequestsPerMinute < 1:
		return errors.New("tracker: workers and requests per minute must be positive")
	}
	return nil
}

// Tracker records runs, triggers them exactly once, follows them to their
// end and keeps what they left. It implements the server's Backend.
type Tracker struct {
	cfg     Config
	st      *store.Store
	river   *river.Client[*sql.Tx]
	log     *slog.Logger
	metrics *metrics
	waiters *waiters

	mu      sync.Mutex
	clients map[string]cachedClient // by connection name
	jobs    map[string]*jobIndex    // by connection name
	names   map[string]*nameIndex   // by connection name
	polls   map[string]*pollState
	// expected caches the expected duration of each job's runs.
	expected map[expectKey]expectation
}

type cachedClient struct {
	updated time.Time
	client  *dbtcloud.Client
	conn    store.Connection
}

// New builds a tracker over cfg.Store, migrating River's tables. It does
// not start working: call Start.
func New(ctx context.Context, cfg Config) (*Tracker, error) {
	if err := cfg.withDefaults(); err != nil {
		return nil, err
	}
	t := &Tracker{
		cfg:      cfg,
		st:       cfg.Store,
		log:      cfg.Logger,
		waiters:  newWaiters(),
		clients:  map[string]cachedClient{},
		jobs:     map[string]*jobIndex{},
		names:    map[string]*nameIndex{},
		expected: map[expectKey]expectation{},
	}
	t.metrics = newMetrics(cfg.Registry, cfg.Store)
	driver := riverDriver(cfg.Store)
	if err := migrateRiver(ctx, cfg.Store, driver); err != nil {
		return nil, err
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &triggerWorker{t: t})
	river.AddWorker(workers, &pollWorker{t: t})
	river.AddWorker(workers, &finalizeWorker{t: t})
	river.AddWorker(workers, &cancelWorker{t: t})
	river.AddWorker(workers, &deadlineWorker{t: t})
	if cfg.Lineage != nil {
		t.addLineageWorker(workers)
	}
	rcfg := &river.Config{
		// Polls have their own queue: behind thousands of triggers in one
		// queue, an account's next pass would wait its turn and runs would
		// settle late.
		Queues: map[string]river.QueueConfig{
			river.QueueDefault: {MaxWorkers: cfg.Workers},
			queuePoll:          {MaxWorkers: pollWorkers},
		},
		Workers:              workers,
		RescueStuckJobsAfter: cfg.RescueAfter,
		JobTimeout:           jobTimeout(cfg.RescueAfter),
		FetchPollInterval:    cfg.FetchInterval,
		FetchCooldown:        min(cfg.FetchInterval, 100*time.Millisecond),
		// No LISTEN/NOTIFY: both drivers go through database/sql.
		PollOnly: true,
		Logger:   quietRiverLogger(cfg.Logger),
	}
	t.addCatalogWorkers(workers, rcfg)
	rc, err := river.NewClient(driver, rcfg)
	if err != nil {
		return nil, fmt.Errorf("tracker: start the job queue: %w", err)
	}
	t.river = rc
	return t, nil
}

// jobTimeout keeps every job's timeout under the rescue delay, as River
// requires: a job still running when it is rescued would run twice.
func jobTimeout(rescueAfter time.Duration) time.Duration {
	return rescueAfter * 3 / 4
}

func riverDriver(st *store.Store) riverdriver.Driver[*sql.Tx] {
	if st.Dialect() == store.SQLite {
		return riversqlite.New(st.DB())
	}
	return riverdatabasesql.New(st.DB())
}

func migrateRiver(ctx context.Context, st *store.Store, driver riverdriver.Driver[*sql.Tx]) error {
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("tracker: job queue migrations: %w", err)
	}
	if st.Dialect() == store.Postgres {
		unlock, err := lockRiverMigrations(ctx, st.DB())
		if err != nil {
			return fmt.Errorf("tracker: job queue migrations: %w", err)
		}
		defer unlock()
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("tracker: migrate the job queue tables in the %s database: %w", st.Dialect(), err)
	}
	return nil
}

// riverLockKey is the advisory lock of River's migrations in one schema.
const riverLockKey = `hashtext('dbtlink river migrations'), hashtext(coalesce(current_schema(), ''))`

// lockRiverMigrations keeps servers that start together on a new
// PostgreSQL schema from applying River's migrations at the same time,
// which fails (River takes no lock of its own): a session advisory lock,
// keyed by the schema and held on a connection of its own while the
// migrations run on others. A process that dies holding it releases it
// with its session.
func lockRiverMigrations(ctx context.Context, db *sql.DB) (unlock func(), err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(`+riverLockKey+`)`); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("take the migration lock: %w", err)
	}
	return func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+riverLockKey+`)`); err != nil {
			// Drop the session rather than pool it with the lock held.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		_ = conn.Close()
	}, nil
}

// Start recovers work left by a process that died and starts the workers.
//
// On SQLite the caller guarantees that this process alone uses the
// database (the serve command holds a lock file), so any job still marked
// running was orphaned by a crash and is made available at once, rather
// than after RescueAfter. On PostgreSQL other processes may be working
// those jobs, so River's rescuer, which runs on the elected leader, takes
// over jobs that outlive RescueAfter.
func (t *Tracker) Start(ctx context.Context) error {
	if t.st.Dialect() == store.SQLite {
		n, err := resetOrphanedJobs(ctx, t.st.DB())
		if err != nil {
			return fmt.Errorf("tracker: recover interrupted jobs: %w", err)
		}
		if n > 0 {
			t.log.Info("resumed jobs interrupted by the previous process", "jobs", n)
		}
	}
	if err := t.river.Start(ctx); err != nil {
		return fmt.Errorf("tracker: start workers: %w", err)
	}
	// Make sure every account with runs in flight has a poller, whatever
	// happened before (the poll job is unique per connection, so this
	// adds nothing when one is already scheduled).
	conns, err := t.st.ActiveConnections(ctx)
	if err != nil {
		return fmt.Errorf("tracker: list accounts with runs in flight: %w", err)
	}
	for _, c := range conns {
		if _, err := t.river.Insert(ctx, pollArgs{Connection: c}, nil); err != nil {
			return fmt.Errorf("tracker: schedule polling of %s: %w", c, err)
		}
	}
	return nil
}

// Stop stops fetching new jobs and waits for the ones running, until ctx
// ends; then it cancels them (they are resumed by the next process).
func (t *Tracker) Stop(ctx context.Context) error {
	err := t.river.Stop(ctx)
	if err != nil && ctx.Err() != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		return t.river.StopAndCancel(cctx)
	}
	return err
}

// Ready reports whether the store answers and the workers run.
func (t *Tracker) Ready(ctx context.Context) error {
	if err := t.st.Ping(ctx); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	select {
	case <-t.river.Stopped():
		return errors.New("the job workers have stopped")
	default:
	}
	return nil
}

// client returns the dbt Cloud client of a stored connection ("" is the
// default one), cached until the connection changes.
func (t *Tracker) client(ctx context.Context, name string) (*dbtcloud.Client, store.Connection, error) {
	var c store.Connection
	var err error
	if name == "" {
		c, err = t.st.DefaultConnection(ctx)
		if errors.Is(err, store.ErrNotFound) {
			return nil, c, &InputError{Msg: "no connection given and the server has no default connection; create one (POST /api/v1/connections or `dbtlink connection add --server URL`) or name one"}
		}
	} else {
		c, err = t.st.GetConnection(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			return nil, c, fmt.Errorf("connection %q: %w", name, store.ErrNotFound)
		}
	}
	if err != nil {
		return nil, c, err
	}
	t.mu.Lock()
	cc, ok := t.clients[c.Name]
	t.mu.Unlock()
	if ok && cc.updated.Equal(c.UpdatedAt) {
		return cc.client, cc.conn, nil
	}
	tok, err := t.cfg.Keys.OpenSecret(c.Name, connectionRecord(c.Name), c.SealedToken)
	if err != nil {
		return nil, c, fmt.Errorf("connection %q: %w", c.Name, err)
	}
	opts := append([]dbtcloud.Option{
		dbtcloud.WithRateLimit(t.cfg.RequestsPerMinute),
		dbtcloud.WithLogger(t.log),
		dbtcloud.WithTransport(t.metrics.transport(nil)),
	}, t.cfg.ClientOptions...)
	cl, err := dbtcloud.NewClient(c.Host, tok.Reveal(), opts...)
	if err != nil {
		return nil, c, fmt.Errorf("connection %q: %w", c.Name, err)
	}
	t.mu.Lock()
	t.clients[c.Name] = cachedClient{updated: c.UpdatedAt, client: cl, conn: c}
	t.mu.Unlock()
	return cl, c, nil
}

// connectionRecord and webhookRecord are the associated data that bind a
// sealed secret to its row.
func connectionRecord(name string) string { return "db/connection/" + name }
func webhookRecord(name string) string    { return "db/webhook/" + name }

// quietRiverLogger passes River's warnings and errors on and drops its
// routine info lines, which would drown the server's own log.
func quietRiverLogger(l *slog.Logger) *slog.Logger {
	return slog.New(levelFilter{h: l.Handler(), min: slog.LevelWarn})
}

type levelFilter struct {
	h   slog.Handler
	min slog.Level
}

func (f levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= f.min && f.h.Enabled(ctx, l)
}
func (f levelFilter) Handle(ctx context.Context, r slog.Record) error { return f.h.Handle(ctx, r) }
func (f levelFilter) WithAttrs(as []slog.Attr) slog.Handler {
	return levelFilter{h: f.h.WithAttrs(as), min: f.min}
}
func (f levelFilter) WithGroup(g string) slog.Handler {
	return levelFilter{h: f.h.WithGroup(g), min: f.min}
}

// resetOrphanedJobs makes every job marked running available again. It is
// only called on SQLite, whose single owner has just started, so no job can
// really be running. This is the one statement dbtlink runs on River's own
// table: River offers no call that takes a running job back (JobRetry
// leaves running jobs alone), and waiting for its rescuer would delay the
// recovery after a crash by RescueAfter.
func resetOrphanedJobs(ctx context.Context, db *sql.DB) (int64, error) {
	res, err := db.ExecContext(ctx, `UPDATE river_job SET state = 'available' WHERE state = 'running'`)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
