package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/internal/catalog"
	"github.com/dbtlink/dbtlink/internal/connection"
	"github.com/dbtlink/dbtlink/internal/server"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/tracker"
	"github.com/dbtlink/dbtlink/internal/web"
)

// EnvDB names the variable holding the server database, as --db.
const EnvDB = "DBTLINK_DB"

// ServeOptions holds the flags of `dbtlink serve`.
type ServeOptions struct {
	IO     *IOStreams
	Getenv func(string) string

	Addr              string
	DB                string
	Workers           int
	PollMin, PollMax  time.Duration
	WebhookPoll       time.Duration
	RescueAfter       time.Duration
	RequestsPerMinute int
	LogFormat         string

	// The catalog's.
	CatalogSyncInterval  time.Duration
	CatalogCrawlInterval time.Duration
	CatalogJobTimeout    time.Duration
	CatalogSource        string
	MaxUploadBytes       int64

	OpenLineage openLineageFlags
	// The web UI's.
	Web           bool
	SecureCookies bool
	// The browser extension's origins, answered with CORS headers.
	ExtensionOrigins []string
}

// NewCmdServe builds `dbtlink serve`.
func NewCmdServe(f *Factory, runF func(*ServeOptions) error) *cobra.Command {
	opts := &ServeOptions{IO: f.IO, Getenv: f.Getenv}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the dbtlink server: an HTTP API that runs and watches dbt Cloud jobs durably",
		Long: `Run the dbtlink server until interrupted (Ctrl-C or SIGTERM).

The server keeps connections, runs, artifacts and API tokens in a database:
by default a SQLite file in the dbtlink home directory, which one server
process owns; with --db postgres://... several servers share the work, each
run followed by exactly one of them. Runs requested through the API are
recorded before dbt Cloud is called and are triggered exactly once and
followed to their end across crashes and restarts.

Every API route but /healthz and /readyz needs a token:

  dbtlink token create --name ci --scope write

Standard output gets one line, export DBTLINK_SERVER=<url>, once the server listens
(with the real port when --addr ends in :0); the log goes to standard error.

Connection tokens and webhook secrets are encrypted with the key of the
dbtlink home directory (or DBTLINK_SECRET_KEY): every server sharing one
database needs the same key.

The catalog (/api/v1/catalog, /api/v1/warehouses) is kept in the same
database: warehouse passwords are sealed with that key too. Every stored
dbt Cloud connection is synced into it after each tracked run ends, when a
webhook says a run completed, and every --catalog-sync-interval; stored
warehouses are crawled every --catalog-crawl-interval. 0 turns either
schedule off. One such sync or crawl is stopped, and recorded as failed
with the reason, after --catalog-job-timeout. Syncs read the runs'
artifacts, or with --catalog-source discovery the same runs' metadata
through dbt Cloud's Discovery API.

The browser UI is served at / (turn it off with --web=false): open the
server's URL and log in with a token from ` + "`dbtlink token create`" + `; a read
token browses the catalog and the runs, a write token can also trigger and
cancel runs. The browser keeps a session cookie, never the token; sessions
live in the server's memory, so a restart logs browsers out. Behind a proxy
that terminates TLS, pass --secure-cookies.

The browser extension (extension/, ` + "`make extension`" + `) calls the catalog API
with a read token from dbt Cloud's pages; pass its origin with
--extension-origin chrome-extension://<id> so the server answers it (and no
other origin) across origins.

With --openlineage-url or --openlineage-file, each dbt Cloud run the server
follows sends OpenLineage events once it ends, from a job of its own that is
retried while the receiver fails (it never delays the run's watch); runs of
a connection named in --openlineage-connection go to that URL instead, and
--openlineage-connection-dataset-namespace names each connection's warehouse.

` + openLineageEnvHelp,
		Example: `  dbtlink serve
  dbtlink serve --addr 0.0.0.0:8765 --db postgres://dbtlink@db.internal:5432/dbtlink
  curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8765/api/v1/runs`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return serveRun(cmd.Context(), f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Addr, "addr", "127.0.0.1:8765", "address to listen on; a port of 0 picks a free one")
	fl.StringVar(&opts.DB, "db", "", "database: a postgres:// URL, or a SQLite file path (default: $DBTLINK_DB, else dbtlink.db in the dbtlink home directory)")
	fl.IntVar(&opts.Workers, "workers", 20, "jobs (triggers, polls, artifact downloads) worked at once by this process")
	fl.DurationVar(&opts.PollMin, "poll-min", 2*time.Second, "shortest interval between two polls of one dbt Cloud account")
	fl.DurationVar(&opts.PollMax, "poll-max", 30*time.Second, "longest interval between two polls of an account with runs in flight")
	fl.DurationVar(&opts.WebhookPoll, "webhook-poll", 5*time.Minute, "polling interval of an account whose webhooks arrive (the safety net)")
	fl.DurationVar(&opts.RescueAfter, "rescue-after", 2*time.Minute, "on PostgreSQL, how long a job of a dead server is left before another server takes it over; the takeover itself runs every 30s, so allow up to this plus 30s (and ~15s more when the dead server was the leader)")
	fl.IntVar(&opts.RequestsPerMinute, "requests-per-minute", 3000, "budget of dbt Cloud calls per account and minute for this process")
	fl.StringVar(&opts.LogFormat, "log-format", "text", "log format on standard error: text or json")
	fl.DurationVar(&opts.CatalogSyncInterval, "catalog-sync-interval", time.Hour, "how often every stored dbt Cloud connection is synced into the catalog (besides after each run); 0 disables the schedule")
	fl.StringVar(&opts.CatalogSource, "catalog-source", catalog.SourceArtifacts, "where catalog syncs read dbt's metadata: artifacts (the runs' files) or discovery (dbt Cloud's Discovery API, at the endpoint derived from each connection's host)")
	fl.DurationVar(&opts.CatalogCrawlInterval, "catalog-crawl-interval", 6*time.Hour, "how often every stored warehouse is crawled into the catalog; 0 disables the schedule")
	fl.DurationVar(&opts.CatalogJobTimeout, "catalog-job-timeout", tracker.DefaultCatalogJobTimeout, "how long one server-side catalog sync of a connection (downloads included) or crawl of every warehouse may run before it is stopped and recorded as failed; 1s or more")
	addOpenLineageFlags(fl, &opts.OpenLineage, true)
	fl.BoolVar(&opts.Web, "web", true, "serve the browser UI at / (the API stays under /api/)")
	fl.BoolVar(&opts.SecureCookies, "secure-cookies", false, "mark the web UI's cookies Secure on plain HTTP too, for a server behind a TLS-terminating proxy (on TLS they always are)")
	fl.StringArrayVar(&opts.ExtensionOrigins, "extension-origin", nil, "origin of the dbtlink browser extension (chrome-extension://<id>, the id chrome://extensions shows) allowed to call the API across origins; repeat for several; none by default")
	fl.Int64Var(&opts.MaxUploadBytes, "max-upload-bytes", server.DefaultMaxUploadBytes, "largest artifact upload (POST /api/v1/catalog/uploads) accepted, in bytes, compressed and decompressed")
	return cmd
}

// serverDSN picks the database: --db, then DBTLINK_DB, then the SQLite
// file in the dbtlink home directory.
func serverDSN(f *Factory, flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if v := f.Getenv(EnvDB); v != "" {
		return v, nil
	}
	home, err := f.home()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, "dbtlink.db"), nil
}

func isPostgresDSN(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// openServerStore opens the server database for `dbtlink serve`. On SQLite
// it first takes the file's lock: one server process owns a SQLite
// database. Commands that only change a few rows (token, webhook) use
// openServerStoreShared, which SQLite's own locking makes safe next to a
// running server.
func openServerStore(ctx context.Context, f *Factory, flag string) (*store.Store, func(), error) {
	return openServerDB(ctx, f, flag, true)
}

func openServerStoreShared(ctx context.Context, f *Factory, flag string) (*store.Store, func(), error) {
	return openServerDB(ctx, f, flag, false)
}

func openServerDB(ctx context.Context, f *Factory, flag string, exclusive bool) (*store.Store, func(), error) {
	dsn, err := serverDSN(f, flag)
	if err != nil {
		return nil, nil, err
	}
	unlock := func() {}
	if exclusive && !isPostgresDSN(dsn) {
		path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, nil, withCode(ExitUsage, fmt.Errorf("create the directory of %s: %w", path, err))
		}
		unlock, err = connection.LockFile(path+".lock", 0)
		if err != nil {
			if errors.Is(err, connection.ErrLocked) {
				return nil, nil, withCode(ExitUsage, fmt.Errorf("another dbtlink process (a running `dbtlink serve`?) is using %s; stop it, or use PostgreSQL (--db postgres://...) to run several servers", path))
			}
			return nil, nil, withCode(ExitUsage, err)
		}
	}
	st, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		unlock()
		return nil, nil, withCode(ExitUsage, err)
	}
	return st, func() { _ = st.Close(); unlock() }, nil
}

func serveRun(ctx context.Context, f *Factory, opts *ServeOptions) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()

	var handler slog.Handler
	switch opts.LogFormat {
	case "text":
		handler = slog.NewTextHandler(opts.IO.ErrOut, nil)
	case "json":
		handler = slog.NewJSONHandler(opts.IO.ErrOut, nil)
	default:
		return usageError("--log-format must be text or json, got %q", opts.LogFormat)
	}
	logger := slog.New(handler)
	if opts.CatalogJobTimeout < time.Second {
		return usageError("--catalog-job-timeout %s is too short: use 1s or more (such as 30m)", opts.CatalogJobTimeout)
	}

	keys, err := f.OpenStore()
	if err != nil {
		return err
	}
	st, closeStore, err := openServerStore(ctx, f, opts.DB)
	if err != nil {
		return err
	}
	defer closeStore()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if opts.CatalogSyncInterval < 0 || opts.CatalogCrawlInterval < 0 || opts.MaxUploadBytes < 1 {
		return usageError("--catalog-sync-interval and --catalog-crawl-interval must be 0 (off) or more, and --max-upload-bytes positive")
	}
	// The catalog syncs through the tracker's dbt Cloud clients, and the
	// tracker schedules the catalog's syncs: the catalog gets its clients
	// once the tracker exists.
	source, err := catalog.ParseSource(opts.CatalogSource)
	if err != nil {
		return usageError("--catalog-source: %v", err)
	}
	lineage, err := serveLineage(&opts.OpenLineage, opts.Getenv, logger)
	if err != nil {
		return err
	}
	// A sync running longer than the job timeout allows died with its
	// process; the next sync records it as failed.
	cat := catalog.NewAPI(&catalog.Service{Store: st, Logger: logger, AbandonAfter: opts.CatalogJobTimeout + 5*time.Minute}, keys, nil)
	cat.Source = source
	tr, err := tracker.New(ctx, tracker.Config{
		Store: st, Keys: keys, Logger: logger, Registry: reg, ClientOptions: f.ClientOptions,
		Workers: opts.Workers, PollMin: opts.PollMin, PollMax: opts.PollMax, WebhookPoll: opts.WebhookPoll,
		RescueAfter: opts.RescueAfter, RequestsPerMinute: opts.RequestsPerMinute,
		CatalogSyncer: cat, CatalogSyncInterval: opts.CatalogSyncInterval,
		CatalogCrawler: cat, CatalogCrawlInterval: opts.CatalogCrawlInterval, CatalogJobTimeout: opts.CatalogJobTimeout,
		Lineage: lineage,
	})
	if err != nil {
		return withCode(ExitUsage, err)
	}
	cat.Clients = tr
	be := backend{tr, st}
	var ui http.Handler
	if opts.Web {
		if ui, err = web.New(web.Config{Catalog: cat, Runs: tr, Tokens: be, HashToken: server.HashToken, Logger: logger,
			SecureCookies: opts.SecureCookies, Version: Version}); err != nil {
			return err
		}
	}
	srv, err := server.New(server.Config{Backend: be, Logger: logger, Registry: reg, Version: Version,
		Catalog: cat, MaxUploadBytes: opts.MaxUploadBytes, Web: ui, ExtensionOrigins: opts.ExtensionOrigins})
	if err != nil {
		return err
	}

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", opts.Addr)
	if err != nil {
		return usageError("listen on %s: %w (choose another address with --addr, or port 0 for a free one)", opts.Addr, err)
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		// Long polls last up to the server's MaxWait (60s).
		WriteTimeout: 2 * time.Minute,
		IdleTimeout:  2 * time.Minute,
		ErrorLog:     slog.NewLogLogger(handler, slog.LevelWarn),
	}
	if err := tr.Start(ctx); err != nil {
		_ = ln.Close()
		return err
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	url := "http://" + ln.Addr().String()
	// An export line, as the emulator prints: eval "$(...)" or paste it.
	if _, err := fmt.Fprintf(opts.IO.Out, "export %s=%s\n", EnvServer, url); err != nil {
		return err
	}
	logger.Info("dbtlink server listening", "url", url, "database", string(st.Dialect()), "version", Version)

	select {
	case <-ctx.Done():
	case err := <-served:
		if !errors.Is(err, http.ErrServerClosed) {
			logger.Error("server stopped", "error", err)
		}
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx)
	if err := tr.Stop(sctx); err != nil {
		logger.Warn("workers did not stop cleanly; their jobs resume on the next start", "error", err)
	}
	return nil
}

// backend adapts the tracker to the server's Backend.
type backend struct {
	*tracker.Tracker
	st *store.Store
}

func (b backend) CreateConnection(ctx context.Context, in server.ConnectionInput) (store.Connection, error) {
	return b.AddConnection(ctx, tracker.NewConnection{Name: in.Name, Host: in.Host, AccountID: in.AccountID, Token: in.Token, Default: in.Default})
}

func (b backend) ApplyWebhook(ctx context.Context, conn string, ev *dbtcloud.WebhookEvent, raw []byte) (server.WebhookOutcome, error) {
	o, err := b.Tracker.ApplyWebhook(ctx, conn, ev, raw)
	return server.WebhookOutcome(o), err
}

func (b backend) APITokenByHash(ctx context.Context, hash []byte) (store.APIToken, error) {
	return b.st.APITokenByHash(ctx, hash)
}

func (b backend) TouchAPIToken(ctx context.Context, id int64, at time.Time) error {
	return b.st.TouchAPIToken(ctx, id, at)
}

// classifyServerStoreError maps the errors of the server's tracker and
// store: a refused request is a usage error, a missing object not found.
func classifyServerStoreError(err error) (int, bool) {
	var ie *tracker.InputError
	switch {
	case errors.As(err, &ie):
		return ExitUsage, true
	case errors.Is(err, store.ErrNotFound):
		return ExitNotFound, true
	case errors.Is(err, store.ErrExists):
		return ExitUsage, true
	}
	return 0, false
}
