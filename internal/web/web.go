// Package web is the browser UI of `dbtlink serve`: server-rendered pages
// over the catalog (search, browse, table, lineage, sync status) and the
// tracked runs (jobs, runs with live progress, trigger, cancel).
//
// Pages are html/template, enhanced by htmx 2 (results as you type) and
// cytoscape with the dagre layered layout (the lineage graph); both are
// vendored under static/vendor (see VENDOR.md there) and embedded, so the
// binary needs no network and the user no npm build. Every page reads
// without JavaScript; scripts are files served from /static/, never inline,
// so the Content-Security-Policy allows scripts from 'self' only.
//
// Written by hand, and why: sessions and CSRF tokens are a few dozen lines
// over crypto/rand and a map (gorilla/csrf and a session library would add
// more than they save for one login form and a handful of POSTs; Go's
// http.CrossOriginProtection adds the Origin check); the SQL highlighter is
// a small tokenizer (the Go highlighters emit inline styles, which the CSP
// forbids, or need a stylesheet per theme); the SVG export of the lineage
// graph and, beyond 150 vertices, its layered layout are in lineage.js: the
// cytoscape-svg extension would be one more vendored script for a few
// dozen lines, and dagre's crossing minimisation takes seconds on 500
// vertices with no option through cytoscape-dagre to cut it short, while
// the server already knows each vertex's distance from the table. Markdown
// is goldmark, sanitised by bluemonday.
//
// Sessions live in the process's memory: a restart logs browsers out, and
// several servers behind one address need sticky routing (a known limit).
//
// Page handlers call the same catalog and tracker methods as the JSON API
// under /api/, never the API over HTTP.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/internal/catalog"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/tracker"
)

// Catalog is what the pages read of the catalog; *catalog.API implements
// it.
type Catalog interface {
	Search(ctx context.Context, p store.SearchParams) ([]catalog.SearchResult, error)
	ListTables(ctx context.Context, p store.ListTablesParams) ([]catalog.TableSummary, error)
	Table(ctx context.Context, ref string) (*catalog.TableDetail, error)
	Lineage(ctx context.Context, ref string, dir catalog.Direction, depth int) (*catalog.LineageView, error)
	ColumnLineage(ctx context.Context, ref, column string, dir catalog.Direction, depth int) (*catalog.ColumnLineageView, error)
	Tests(ctx context.Context, q catalog.TestQuery) ([]catalog.TestRow, error)
	TestHistory(ctx context.Context, scopeKey, uniqueID string, limit int) ([]catalog.TestResultRow, error)
	SchemaCounts(ctx context.Context) ([]catalog.SchemaCount, error)
	Syncs(ctx context.Context) ([]catalog.SyncStatus, error)
	ListWarehouses(ctx context.Context) ([]catalog.WarehouseView, error)
}

var _ Catalog = (*catalog.API)(nil)

// Runs is what the pages use of the tracker; *tracker.Tracker implements
// it.
type Runs interface {
	ListConnections(ctx context.Context) ([]store.Connection, error)
	ListJobs(ctx context.Context, conn string, opts *dbtcloud.JobListOptions) ([]dbtcloud.Job, error)
	CreateRun(ctx context.Context, req tracker.RunRequest) (store.Run, error)
	GetRun(ctx context.Context, id int64) (store.Run, error)
	// WaitRun returns once the run is terminal, or after d with its current
	// state; the live view uses it as its tick.
	WaitRun(ctx context.Context, id int64, d time.Duration) (store.Run, error)
	ListRuns(ctx context.Context, f store.RunFilter) ([]store.Run, error)
	CancelRun(ctx context.Context, id int64) (store.Run, error)
}

var _ Runs = (*tracker.Tracker)(nil)

// Tokens finds API tokens: a browser logs in with one.
type Tokens interface {
	// APITokenByHash finds a token by the hash HashToken gives, or returns
	// an error matching store.ErrNotFound.
	APITokenByHash(ctx context.Context, hash []byte) (store.APIToken, error)
}

// Config configures a Handler.
type Config struct {
	// Catalog backs the catalog pages; nil shows them as "no catalog".
	Catalog Catalog
	// Runs backs the jobs and runs pages; required.
	Runs Runs
	// Tokens and HashToken check the token a user logs in with; required.
	// HashToken is server.HashToken, passed in so the two never disagree.
	Tokens    Tokens
	HashToken func(plain string) []byte
	// Logger receives internal errors. Defaults to slog.Default().
	Logger *slog.Logger
	// Now is the clock of sessions. Defaults to time.Now.
	Now func() time.Time
	// SessionTTL is how long a session lasts without use. Defaults to 12h.
	SessionTTL time.Duration
	// SecureCookies marks cookies Secure even on plain HTTP, for a server
	// behind a TLS-terminating proxy; on TLS connections they always are.
	SecureCookies bool
	// LiveTick is how often the live view of a run reads its state.
	// Defaults to 500ms.
	LiveTick time.Duration
	// Version is shown in the footer.
	Version string
}

// Handler serves the web UI. It implements http.Handler; `dbtlink serve`
// mounts it at / beside the API.
type Handler struct {
	cat      Catalog
	runs     Runs
	tokens   Tokens
	hash     func(string) []byte
	log      *slog.Logger
	now      func() time.Time
	secure   bool
	liveTick time.Duration
	version  string

	sessions *sessions
	assets   *assets
	pages    *pages
	mux      *http.ServeMux
	cop      *http.CrossOriginProtection
}

// New returns the web UI for cfg.
func New(cfg Config) (*Handler, error) {
	if cfg.Runs == nil || cfg.Tokens == nil || cfg.HashToken == nil {
		return nil, errors.New("web: Config.Runs, Config.Tokens and Config.HashToken are required")
	}
	h := &Handler{cat: cfg.Catalog, runs: cfg.Runs, tokens: cfg.Tokens, hash: cfg.HashToken, log: cfg.Logger, now: cfg.Now,
		secure: cfg.SecureCookies, liveTick: cfg.LiveTick, version: cfg.Version}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.liveTick <= 0 {
		h.liveTick = 500 * time.Millisecond
	}
	if h.version == "" {
		h.version = "dev"
	}
	ttl := cfg.SessionTTL
	if ttl <= 0 {
		ttl = 12 * time.Hour
	}
	h.sessions = newSessions(h.now, ttl)
	var err error
	if h.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	if h.pages, err = parsePages(h.assets); err != nil {
		return nil, err
	}
	h.cop = http.NewCrossOriginProtection()
	h.routes()
	return h, nil
}

func (h *Handler) routes() {
	m := http.NewServeMux()
	open := func(pattern string, fn http.HandlerFunc) { m.Handle(pattern, fn) }
	read := func(pattern string, fn pageFunc) { m.Handle(pattern, h.authed(store.ScopeRead, fn)) }
	write := func(pattern string, fn pageFunc) { m.Handle(pattern, h.authed(store.ScopeWrite, fn)) }

	open("GET /static/{name}", h.assets.serve)
	open("GET /login", h.loginPage)
	open("POST /login", h.login)
	read("POST /logout", h.logout)

	read("GET /{$}", h.home)
	read("GET /search", h.search)
	read("GET /browse", h.browse)
	read("GET /browse/{warehouse}", h.browse)
	read("GET /browse/{warehouse}/{database}", h.browse)
	read("GET /browse/{warehouse}/{database}/{schema}", h.browseSchema)
	read("GET /tables/{ref}", h.table)
	read("GET /tables/{ref}/lineage", h.lineage)
	read("GET /tables/{ref}/lineage.json", h.lineageJSON)
	read("GET /tables/{ref}/columns/{column}/lineage", h.columnLineage)
	read("GET /tables/{ref}/columns/{column}/lineage.json", h.columnLineageJSON)
	read("GET /tests/{scope}/{id}", h.testHistory)
	read("GET /runs", h.runsPage)
	read("GET /runs/{id}", h.runPage)
	read("GET /runs/{id}/events", h.runEvents)
	write("POST /runs", h.trigger)
	write("POST /runs/{id}/cancel", h.cancel)
	read("GET /syncs", h.syncs)
	open("/", h.notFound)
	h.mux = m
}

// ServeHTTP implements http.Handler: security headers on every answer,
// cross-origin POSTs refused before any handler runs.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("X-Frame-Options", "DENY")
	if err := h.cop.Check(r); err != nil {
		h.errorPage(w, r, nil, http.StatusForbidden, "This form was sent from another site, so it was refused. Go back to the page and send it again.")
		return
	}
	h.mux.ServeHTTP(w, r)
}

// contentSecurityPolicy allows scripts, styles and requests to this origin
// only: no inline script or style, no eval (htmx is configured not to use
// it), no framing. Images allow data: and blob: for the graph's PNG export.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// pageFunc is a handler that runs with a checked session.
type pageFunc func(w http.ResponseWriter, r *http.Request, s *session)

// authed checks the session of r and the scope it needs, then runs fn.
// Without a session a GET is sent to the login page (and back after); a
// state-changing request must also carry the session's CSRF token.
func (h *Handler) authed(need store.Scope, fn pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := h.currentSession(r)
		if err != nil {
			h.fail(w, r, nil, err)
			return
		}
		if s == nil {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				if r.Header.Get("HX-Request") == "true" {
					// A fragment request: tell htmx to load the login page.
					w.Header().Set("HX-Redirect", loginURL(r))
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				http.Redirect(w, r, loginURL(r), http.StatusSeeOther)
				return
			}
			h.errorPage(w, r, nil, http.StatusUnauthorized, "You are not logged in (or your session ended). Log in, then send the form again.")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !s.checkCSRF(r) {
			h.errorPage(w, r, s, http.StatusForbidden, "This form's security token is missing or out of date. Reload the page and send it again.")
			return
		}
		if !s.Scope.Allows(need) {
			h.errorPage(w, r, s, http.StatusForbidden, fmt.Sprintf(
				"This needs a token with the %s scope; you logged in with %q, which has %s. Log in with a %s token (`dbtlink token create --name N --scope %s`).",
				need, s.TokenName, s.Scope, need, need))
			return
		}
		fn(w, r, s)
	})
}

func loginURL(r *http.Request) string {
	next := r.URL.Path
	if r.URL.RawQuery != "" {
		next += "?" + r.URL.RawQuery
	}
	if r.Header.Get("HX-Request") == "true" {
		if cur := r.Header.Get("HX-Current-URL"); cur != "" {
			if i := strings.Index(cur, "://"); i >= 0 {
				if j := strings.Index(cur[i+3:], "/"); j >= 0 {
					next = cur[i+3+j:]
				}
			}
		}
	}
	return "/login?next=" + urlQueryEscape(next)
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	s, _ := h.currentSession(r)
	h.errorPage(w, r, s, http.StatusNotFound, fmt.Sprintf("There is no page at %s.", r.URL.Path))
}
