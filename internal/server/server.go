package server

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dbtlink/dbtlink/internal/store"
)

// Defaults of Config.
const (
	DefaultMaxBodyBytes = 1 << 20
	DefaultMaxWait      = 60 * time.Second
	// readyTimeout bounds Backend.Ready, so that a probe answers before
	// the orchestrator's own probe timeout even when the store hangs.
	readyTimeout = 5 * time.Second
)

// Config configures a Server.
type Config struct {
	// Backend does the work; required.
	Backend Backend
	// Logger receives request logs and the details of internal errors.
	// Defaults to slog.Default().
	Logger *slog.Logger
	// Registry holds the server's metrics and is what /metrics serves, so
	// the tracker's metrics registered on it are served too. Nil means a
	// new registry holding only the server's metrics.
	Registry *prometheus.Registry
	// Now is the clock for recording token use. Defaults to time.Now.
	Now func() time.Time
	// MaxBodyBytes bounds request bodies, webhook deliveries included;
	// larger ones are answered 413. Defaults to DefaultMaxBodyBytes (1 MiB).
	MaxBodyBytes int64
	// MaxWait caps the ?wait= long poll of GET /api/v1/runs/{id}; longer
	// waits are shortened to it. Defaults to DefaultMaxWait (60s). The
	// http.Server's WriteTimeout must exceed it.
	MaxWait time.Duration
	// Version is the dbtlink version, shown as the OpenAPI document's
	// info.version. Empty means "dev".
	Version string
	// Catalog answers /api/v1/catalog and /api/v1/warehouses; nil answers
	// them 404.
	Catalog Catalog
	// MaxUploadBytes bounds an artifact upload (as sent, and each
	// decompressed total); larger ones are answered 413. Defaults to
	// DefaultMaxUploadBytes (512 MiB).
	MaxUploadBytes int64
	// Web, if set, answers every path outside the API (/api/, /webhooks/,
	// /healthz, /readyz, /metrics): the browser UI of internal/web. Nil
	// answers them with the API's JSON 404.
	Web http.Handler
	// ExtensionOrigins are the browser extension origins
	// (chrome-extension://<id>) whose requests to /api/ the server answers
	// with CORS headers; see cors.go. Empty allows none.
	ExtensionOrigins []string
}

// Server is the HTTP API of `dbtlink serve`. It implements http.Handler.
type Server struct {
	backend  Backend
	log      *slog.Logger
	metrics  *Metrics
	promhttp http.Handler // serves the registry
	now      func() time.Time
	maxBody  int64
	maxWait  time.Duration
	openapi  []byte
	mux      *http.ServeMux
	badPath  http.Handler // answers paths that are not clean
	routes   []route

	catalog   Catalog
	maxUpload int64
	web       http.Handler

	corsOrigins map[string]struct{}

	touchMu sync.Mutex
	touched map[int64]time.Time // token id -> last recorded use
}

// New returns a Server for cfg. It fails when cfg has no Backend or when
// the metrics cannot be registered.
func New(cfg Config) (*Server, error) {
	if cfg.Backend == nil {
		return nil, errors.New("server: Config.Backend is required")
	}
	if cfg.MaxBodyBytes < 0 || cfg.MaxWait < 0 || cfg.MaxUploadBytes < 0 {
		return nil, errors.New("server: Config.MaxBodyBytes, Config.MaxWait and Config.MaxUploadBytes must not be negative")
	}
	s := &Server{
		backend: cfg.Backend,
		log:     cfg.Logger,
		now:     cfg.Now,
		maxBody: cfg.MaxBodyBytes,
		maxWait: cfg.MaxWait,
		touched: map[int64]time.Time{},

		catalog:   cfg.Catalog,
		maxUpload: cfg.MaxUploadBytes,
		web:       cfg.Web,
	}
	if s.maxUpload == 0 {
		s.maxUpload = DefaultMaxUploadBytes
	}
	s.corsOrigins = map[string]struct{}{}
	for _, o := range cfg.ExtensionOrigins {
		if err := CheckExtensionOrigin(o); err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
		s.corsOrigins[strings.TrimSuffix(o, "/")] = struct{}{}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.maxBody == 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.maxWait == 0 {
		s.maxWait = DefaultMaxWait
	}
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	s.promhttp = promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelError),
		// A collector that fails should not hide the others.
		ErrorHandling: promhttp.ContinueOnError,
	})
	var err error
	if s.metrics, err = NewMetrics(reg); err != nil {
		return nil, fmt.Errorf("server: register metrics: %w", err)
	}
	if s.openapi, err = openAPIDocument(cfg.Version); err != nil {
		return nil, err
	}

	s.routes = s.routeTable()
	s.mux = http.NewServeMux()
	for _, rt := range s.routes {
		s.mux.Handle(rt.pattern, s.wrap(rt))
	}
	// Without a catch-all the mux would answer unknown paths in plain
	// text; every answer of this API is JSON. The rest of the site is the
	// web UI's, when there is one.
	s.mux.Handle("/api/", s.wrap(route{pattern: "/api/", label: "unmatched", handler: s.unmatched}))
	s.mux.Handle("/webhooks/", s.wrap(route{pattern: "/webhooks/", label: "unmatched", handler: s.unmatched}))
	if s.web != nil {
		s.mux.Handle("/", s.wrap(route{pattern: "/", label: "web", handler: s.serveWeb}))
	} else {
		s.mux.Handle("/", s.wrap(route{pattern: "/", label: "unmatched", handler: s.unmatched}))
	}
	s.badPath = s.wrap(route{label: "unclean_path", handler: s.rejectPath})
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.cors(w, r) {
		return
	}
	if !cleanURLPath(r.URL.Path) {
		s.badPath.ServeHTTP(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// cleanURLPath reports whether p has no "." or ".." segments and no empty
// ones. ServeMux would redirect such a path to its clean form, which for
// ".../artifacts/../../x" means another route than the client wrote; a
// client sending one has built its path wrongly (or is probing), so it is
// told so instead. p is the decoded path: "%2e%2e" counts as "..".
func cleanURLPath(p string) bool {
	for seg := range strings.SplitSeq(strings.TrimPrefix(p, "/"), "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return !strings.Contains(p, "//")
}

func (s *Server) rejectPath(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, http.StatusBadRequest, codeBadRequest,
		fmt.Sprintf(`path %q has "." or ".." segments or an empty one; send the clean path (artifact paths are relative to the run, without "..")`, r.URL.Path))
}

// route is one entry of the API: its ServeMux pattern, the scope a token
// needs for it, and its handler.
type route struct {
	pattern string
	// scope is the token scope required; "" means no bearer token, which
	// only the health probes (open) and the webhook receiver
	// (authenticated by its HMAC signature) use.
	scope   store.Scope
	handler http.HandlerFunc
	// label names the route in metrics and logs; defaults to pattern.
	label string
}

func (s *Server) routeTable() []route {
	const (
		none  = store.Scope("")
		read  = store.ScopeRead
		write = store.ScopeWrite
		admin = store.ScopeAdmin
	)
	return []route{
		{pattern: "GET /healthz", scope: none, handler: s.healthz},
		{pattern: "GET /readyz", scope: none, handler: s.readyz},
		{pattern: "GET /metrics", scope: read, handler: s.serveMetrics},
		{pattern: "GET /api/v1/openapi.json", scope: read, handler: s.serveOpenAPI},

		{pattern: "GET /api/v1/connections", scope: read, handler: s.listConnections},
		{pattern: "POST /api/v1/connections", scope: admin, handler: s.createConnection},
		{pattern: "DELETE /api/v1/connections/{name}", scope: admin, handler: s.deleteConnection},
		{pattern: "POST /api/v1/connections/{name}/test", scope: write, handler: s.testConnection},
		{pattern: "GET /api/v1/connections/{name}/jobs", scope: read, handler: s.listJobs},
		{pattern: "GET /api/v1/connections/{name}/jobs/{id}", scope: read, handler: s.getJob},

		{pattern: "GET /api/v1/runs", scope: read, handler: s.listRuns},
		{pattern: "POST /api/v1/runs", scope: write, handler: s.createRun},
		{pattern: "GET /api/v1/runs/{id}", scope: read, handler: s.getRun},
		{pattern: "POST /api/v1/runs/{id}/cancel", scope: write, handler: s.cancelRun},
		{pattern: "GET /api/v1/runs/{id}/artifacts", scope: read, handler: s.listArtifacts},
		{pattern: "GET /api/v1/runs/{id}/artifacts/{path...}", scope: read, handler: s.getArtifact},

		{pattern: "GET /api/v1/catalog/search", scope: read, handler: s.searchCatalog},
		{pattern: "GET /api/v1/catalog/tables", scope: read, handler: s.listCatalogTables},
		{pattern: "GET /api/v1/catalog/tables/{ref}", scope: read, handler: s.getCatalogTable},
		{pattern: "GET /api/v1/catalog/tables/{ref}/columns", scope: read, handler: s.getCatalogColumns},
		{pattern: "GET /api/v1/catalog/tables/{ref}/lineage", scope: read, handler: s.getCatalogLineage},
		{pattern: "GET /api/v1/catalog/tables/{ref}/columns/{column}/lineage", scope: read, handler: s.getCatalogColumnLineage},
		{pattern: "PUT /api/v1/catalog/tables/{ref}/description", scope: write, handler: s.setCatalogDescription},
		{pattern: "GET /api/v1/catalog/tests", scope: read, handler: s.listCatalogTests},
		{pattern: "GET /api/v1/catalog/jobs", scope: read, handler: s.listCatalogJobs},
		{pattern: "GET /api/v1/catalog/runs", scope: read, handler: s.listCatalogRuns},
		{pattern: "GET /api/v1/catalog/syncs", scope: read, handler: s.listCatalogSyncs},
		{pattern: "POST /api/v1/catalog/syncs", scope: write, handler: s.createCatalogSync},
		{pattern: "POST /api/v1/catalog/uploads", scope: write, handler: s.createCatalogUpload},

		{pattern: "GET /api/v1/warehouses", scope: read, handler: s.listWarehouses},
		{pattern: "POST /api/v1/warehouses", scope: write, handler: s.createWarehouse},
		{pattern: "GET /api/v1/warehouses/{name}", scope: read, handler: s.getWarehouse},
		{pattern: "PUT /api/v1/warehouses/{name}", scope: write, handler: s.replaceWarehouse},
		{pattern: "DELETE /api/v1/warehouses/{name}", scope: admin, handler: s.deleteWarehouse},
		{pattern: "POST /api/v1/warehouses/{name}/test", scope: write, handler: s.testWarehouse},
		{pattern: "POST /api/v1/warehouses/{name}/crawl", scope: write, handler: s.crawlWarehouse},

		{pattern: "POST /webhooks/dbt-cloud/{connection}", scope: none, handler: s.receiveWebhook},
	}
}

// reqState is what the middleware learns about a request, for its log
// line: handlers and auth fill it in.
type reqState struct {
	id    string
	token string // name of the API token used, if any
}

type stateKey struct{}

func requestID(r *http.Request) string {
	if st, ok := r.Context().Value(stateKey{}).(*reqState); ok {
		return st.id
	}
	return ""
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read does not fail
	return hex.EncodeToString(b[:])
}

// wrap puts a route behind the middleware: request id, metrics and
// logging outermost so they see the final status, then panic recovery,
// then authentication.
func (s *Server) wrap(rt route) http.Handler {
	label := rt.label
	if label == "" {
		label = rt.pattern
	}
	// Health probes come every few seconds; their log lines would drown
	// the rest.
	logLevel := slog.LevelInfo
	if rt.pattern == "GET /healthz" || rt.pattern == "GET /readyz" {
		logLevel = slog.LevelDebug
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		st := &reqState{id: newRequestID()}
		r = r.WithContext(context.WithValue(r.Context(), stateKey{}, st))
		rec := &recorder{ResponseWriter: w}
		rec.Header().Set("X-Request-Id", st.id)
		defer func() {
			elapsed := time.Since(start)
			status := rec.statusCode()
			s.metrics.Requests.WithLabelValues(label, fmt.Sprint(status)).Inc()
			s.metrics.Duration.WithLabelValues(label).Observe(elapsed.Seconds())
			level := logLevel
			if status >= 500 {
				level = slog.LevelError
			}
			// The query string is left out: it is not needed to follow a
			// request, and a client could put anything in it.
			attrs := []slog.Attr{
				slog.String("method", r.Method),
				slog.String("route", label),
				slog.String("path", r.URL.Path),
				slog.Int("status", status),
				slog.Duration("duration", elapsed),
				slog.Int64("bytes", rec.bytes),
				slog.String("request_id", st.id),
			}
			if st.token != "" {
				attrs = append(attrs, slog.String("token", st.token))
			}
			s.log.LogAttrs(r.Context(), level, "http request", attrs...)
		}()
		defer s.recoverPanic(rec, r)
		if rt.scope != "" && !s.authenticate(rec, r, rt.scope) {
			return
		}
		rt.handler(rec, r)
	})
}

// recoverPanic turns a handler's panic into a 500, logging the panic value
// and stack; neither reaches the client.
func (s *Server) recoverPanic(w *recorder, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		// The handler asked net/http to abort the response; let it.
		panic(v)
	}
	s.log.LogAttrs(r.Context(), slog.LevelError, "panic serving request",
		slog.String("request_id", requestID(r)), slog.String("route", r.Pattern),
		slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
	if w.status != 0 {
		// Too late for an error answer; the status already went out.
		return
	}
	s.writeError(w, r, http.StatusInternalServerError, codeInternal,
		fmt.Sprintf("internal error; the server log has the details under request id %s", requestID(r)))
}

// recorder remembers the status and size of an answer for the log line.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (flush,
// deadlines).
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *recorder) statusCode() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// unmatched answers requests no route matches: 405 when the path exists
// with other methods, else 404.
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		if m == r.Method || (m == http.MethodGet && r.Method == http.MethodHead) {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); !catchAll(pattern) {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		s.writeError(w, r, http.StatusMethodNotAllowed, codeMethodNotAllowed,
			fmt.Sprintf("%s is not allowed on %s; use %s", r.Method, r.URL.Path, strings.Join(allowed, ", ")))
		return
	}
	s.writeError(w, r, http.StatusNotFound, codeNotFound,
		fmt.Sprintf("no route %s %s; GET /api/v1/openapi.json lists the routes", r.Method, r.URL.Path))
}

// catchAll reports whether a ServeMux pattern is one of the catch-alls
// rather than a route.
func catchAll(pattern string) bool {
	return pattern == "" || pattern == "/" || pattern == "/api/" || pattern == "/webhooks/"
}

// serveWeb hands a path outside the API to the web UI; the API's own
// top-level routes (/healthz, /readyz, /metrics) asked with another
// method keep their JSON 405.
func (s *Server) serveWeb(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/healthz", "/readyz", "/metrics":
		s.unmatched(w, r)
		return
	}
	s.web.ServeHTTP(w, r)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, r, http.StatusOK, map[string]string{"status": "ok"})
}

// userinfo matches the credentials of a URL ("postgres://user:pw@").
var userinfo = regexp.MustCompile(`://[^/@\s]*@`)

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	err := s.backend.Ready(ctx)
	if err == nil {
		s.writeJSON(w, r, http.StatusOK, map[string]string{"status": "ready"})
		return
	}
	s.log.LogAttrs(r.Context(), slog.LevelWarn, "not ready", slog.String("request_id", requestID(r)), slog.Any("error", err))
	reason := err.Error()
	if ctx.Err() != nil {
		reason = fmt.Sprintf("the readiness check did not finish within %s", readyTimeout)
	}
	// /readyz is open to anyone who can reach the server. Backend.Ready
	// promises words, not DSNs, but a driver error may still quote a URL;
	// its credentials are cut as a second line of defence.
	reason = userinfo.ReplaceAllString(reason, "://")
	s.writeJSON(w, r, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": reason})
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	s.promhttp.ServeHTTP(w, r)
}

//go:embed openapi.json
var openAPIJSON []byte

// openAPIDocument returns the embedded document with info.version set.
func openAPIDocument(version string) ([]byte, error) {
	if version == "" {
		version = "dev"
	}
	var doc map[string]any
	if err := json.Unmarshal(openAPIJSON, &doc); err != nil {
		return nil, fmt.Errorf("server: the embedded openapi.json is not JSON: %w", err)
	}
	info, ok := doc["info"].(map[string]any)
	if !ok {
		return nil, errors.New("server: the embedded openapi.json has no info object")
	}
	info["version"] = version
	return json.MarshalIndent(doc, "", "  ")
}

func (s *Server) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(s.openapi)
}
