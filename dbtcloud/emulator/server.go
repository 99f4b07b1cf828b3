package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure an emulator. The zero value is usable: the default seed, a real clock at speed 1, 5,000
// requests per minute per account, no logging.
type Options struct {
	// Addr is where New listens; defaults to "127.0.0.1:0" (a free port). NewHandler ignores it.
	Addr string
	// Seed is the initial data; nil means DefaultSeed().
	Seed *Seed
	// Clock supplies emulated time; nil means NewRealClock(1). Use NewFakeClock in tests.
	Clock Clock
	// RateLimitPerMinute caps requests per account per minute of emulated time. 0 means 5,000 (dbt Cloud's
	// documented limit); negative disables the limit.
	RateLimitPerMinute int
	// Logger receives one line per request and per webhook delivery; nil discards.
	Logger *slog.Logger
	// WebhookClient sends webhook deliveries; nil means a client with dbt Cloud's 10 s timeout.
	WebhookClient *http.Client
	// WebhookRetryDelay is the real time waited between delivery attempts; 0 means 2 s. Tests set it small.
	WebhookRetryDelay time.Duration
}

// Emulator is the dbt Cloud emulator as an http.Handler. Use New for a listening server, or NewHandler to mount it
// yourself (as `dbtlink emulator` does). It is safe for concurrent use.
type Emulator struct {
	clock     Clock
	log       *slog.Logger
	rateLimit int
	stopTick  func()
	mux       *http.ServeMux
	hooks     *webhookDispatcher

	mu            sync.Mutex
	simNow        time.Time
	accounts      map[int64]*account
	accountOrder  []int64
	projects      map[int64]*project
	envs          map[int64]*environment
	jobs          map[int64]*job
	conns         map[int64]*connection
	repos         map[int64]*repository
	nextObjectID  map[string]int64 // "project", "environment", "job": the next id a create assigns
	tokens        map[string]tokenInfo
	runs          []*run         // in id order
	latestByJob   map[int64]*run // job id -> its newest run
	active        []*run         // runs not yet terminal
	nextRunID     int64
	nextTriggerID int64
	nextStepID    int64
	triggerCounts map[int64]int
	faults        []*faultEntry
	nextFaultID   int
	rate          map[int64]*rateWindow
	subs          []*subscription // webhook subscriptions, in creation order
	nextSubNum    int
	nextEventNum  int
	defaultToken  string
	defaultAcct   int64
	serviceTokens []ServiceToken // the seed's service tokens, in seed order
	pendingEvents []event        // produced while e.mu is held, dispatched by end

	disco discoveryCache // the Discovery API's parsed runs

	closing     chan struct{} // closed when shutdown starts, so injected latency does not hold it up
	closingOnce sync.Once
}

// NewHandler builds an emulator without listening anywhere. Call Close when done to stop its clock ticker and
// webhook workers.
func NewHandler(opts Options) (*Emulator, error) {
	seed := opts.Seed
	if seed == nil {
		seed = DefaultSeed()
	}
	if err := seed.Validate(); err != nil {
		return nil, err
	}
	clock := opts.Clock
	if clock == nil {
		clock = NewRealClock(1)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	rl := opts.RateLimitPerMinute
	if rl == 0 {
		rl = 5000
	}
	e := &Emulator{
		clock: clock, log: logger, rateLimit: rl,
		simNow:   clock.Now(),
		accounts: map[int64]*account{}, projects: map[int64]*project{}, envs: map[int64]*environment{},
		jobs: map[int64]*job{}, conns: map[int64]*connection{}, repos: map[int64]*repository{},
		tokens: map[string]tokenInfo{}, triggerCounts: map[int64]int{},
		latestByJob: map[int64]*run{}, rate: map[int64]*rateWindow{}, closing: make(chan struct{}),
		// Run ids start high enough to look like dbt Cloud's and never collide with seeded ids.
		nextRunID: 70_000_000, nextTriggerID: 80_000_000, nextStepID: 90_000_000,
	}
	if err := e.load(seed); err != nil {
		return nil, err
	}
	if err := loadArtifacts(); err != nil {
		return nil, err
	}
	e.hooks = newWebhookDispatcher(e, opts.WebhookClient, opts.WebhookRetryDelay)
	e.mux = e.routes()
	e.stopTick = clock.OnTick(e.tick)
	return e, nil
}

// load turns the seed into state. Seeded objects were created 30 days before the clock's start, in seed order,
// so their timestamps are deterministic too.
func (e *Emulator) load(s *Seed) error {
	base := e.simNow.Add(-30 * 24 * time.Hour).UTC()
	n := 0
	at := func() time.Time { n++; return base.Add(time.Duration(n) * 37 * time.Minute) }
	next := map[string]int64{"account": 1, "project": 1000, "environment": 2000, "job": 3000}
	used := map[string]bool{}
	for _, a := range s.Accounts {
		used[fmt.Sprintf("account:%d", a.ID)] = true
		for _, p := range a.Projects {
			used[fmt.Sprintf("project:%d", p.ID)] = true
			for _, en := range p.Environments {
				used[fmt.Sprintf("environment:%d", en.ID)] = true
				for _, j := range en.Jobs {
					used[fmt.Sprintf("job:%d", j.ID)] = true
				}
			}
		}
	}
	id := func(kind string, given int64) int64 {
		if given != 0 {
			return given
		}
		for used[fmt.Sprintf("%s:%d", kind, next[kind])] {
			next[kind]++
		}
		v := next[kind]
		used[fmt.Sprintf("%s:%d", kind, v)] = true
		return v
	}
	var serviceTokens []accountServiceTokens
	for _, sa := range s.Accounts {
		a := &account{id: id("account", sa.ID), name: sa.Name, plan: sa.Plan, runSlots: sa.RunSlots,
			queueLimit: sa.QueueLimit, createdAt: at()}
		if a.plan == "" {
			a.plan = "team"
		}
		if a.runSlots == 0 {
			a.runSlots = 5
		}
		if a.queueLimit == 0 {
			a.queueLimit = 50
		}
		e.accounts[a.id] = a
		e.accountOrder = append(e.accountOrder, a.id)
		admin := []grant{{set: PermissionAccountAdmin}}
		for _, t := range sa.Tokens {
			e.tokens[t] = tokenInfo{accountID: a.id, grants: admin}
			if e.defaultToken == "" {
				e.defaultToken, e.defaultAcct = t, a.id
			}
		}
		for _, t := range sa.IPRestrictedTokens {
			e.tokens[t] = tokenInfo{accountID: a.id, ipRestricted: true, grants: admin}
		}
		serviceTokens = append(serviceTokens, accountServiceTokens{a.id, sa.ServiceTokens})
		for _, sp := range sa.Projects {
			p := &project{id: id("project", sp.ID), accountID: a.id, name: sp.Name, state: stateActive, createdAt: at()}
			p.updatedAt = p.createdAt
			// Every seeded project has a connection and a repository of its own, with ids derived from the
			// project's so that they are stable across seeds.
			c := &connection{id: p.id + 10_000, accountID: a.id, projectID: p.id,
				name: fmt.Sprintf("Emulated DuckDB (%s)", p.name), createdAt: p.createdAt}
			repo := &repository{id: p.id + 20_000, accountID: a.id, projectID: p.id, name: "jaffle_shop", createdAt: p.createdAt}
			e.conns[c.id], e.repos[repo.id] = c, repo
			p.connID, p.repoID = ptr(c.id), ptr(repo.id)
			e.projects[p.id] = p
			for _, se := range sp.Environments {
				en := &environment{id: id("environment", se.ID), accountID: a.id, projectID: p.id, name: se.Name,
					envType: se.Type, deployType: se.DeploymentType, dbtVersion: se.DBTVersion, state: stateActive, createdAt: at()}
				en.updatedAt = en.createdAt
				if en.envType == "" {
					en.envType = "deployment"
				}
				if en.dbtVersion == "" {
					en.dbtVersion = "1.11.0-latest"
				}
				e.envs[en.id] = en
				for _, sj := range se.Jobs {
					j := &job{id: id("job", sj.ID), accountID: a.id, projectID: p.id, envID: en.id, name: sj.Name,
						commands: sj.commands(), generateDocs: sj.GenerateDocs, generateSources: sj.RunGenerateSources,
						timeoutSeconds: sj.TimeoutSeconds, threads: sj.Threads, targetName: sj.TargetName,
						cron: sj.Cron, jobType: sj.JobType, behaviour: sj.Behaviour, state: stateActive, createdAt: at()}
					j.updatedAt = j.createdAt
					j.triggers.Schedule = j.cron != ""
					if j.threads == 0 {
						j.threads = 4
					}
					if j.targetName == "" {
						j.targetName = "default"
					}
					if j.jobType == "" {
						j.jobType = "other"
						if j.cron != "" {
							j.jobType = "scheduled"
						}
					}
					e.jobs[j.id] = j
				}
			}
		}
	}
	// Service tokens are loaded last, since their project scope may name projects whose ids were assigned.
	for _, st := range serviceTokens {
		for _, t := range st.tokens {
			ti := tokenInfo{accountID: st.accountID, name: t.Name}
			desc := ServiceToken{Name: t.Name, Token: t.Token, AccountID: st.accountID, ProjectIDs: t.ProjectIDs}
			var projects map[int64]bool
			if len(t.ProjectIDs) > 0 {
				projects = map[int64]bool{}
				for _, p := range t.ProjectIDs {
					if pr := e.projects[p]; pr == nil || pr.accountID != st.accountID {
						return fmt.Errorf("emulator: seed: service token %q: project %d is not a project of account %d", t.Name, p, st.accountID)
					}
					projects[p] = true
				}
			}
			for _, name := range t.PermissionSets {
				set, _ := ParsePermissionSet(name) // Validate checked it
				ti.grants = append(ti.grants, grant{set: set, projects: projects})
				desc.PermissionSets = append(desc.PermissionSets, set)
			}
			e.tokens[t.Token] = ti
			e.serviceTokens = append(e.serviceTokens, desc)
			if e.defaultToken == "" {
				e.defaultToken, e.defaultAcct = t.Token, st.accountID
			}
		}
	}
	if e.defaultToken == "" {
		return errors.New("emulator: seed: no account has a token, so no client could call the emulator")
	}
	// Objects created through the API get ids above every seeded one.
	e.nextObjectID = map[string]int64{}
	for kind, n := range next {
		e.nextObjectID[kind] = n
	}
	for k := range used {
		kind, num, _ := strings.Cut(k, ":")
		if v, err := strconv.ParseInt(num, 10, 64); err == nil && v >= e.nextObjectID[kind] {
			e.nextObjectID[kind] = v + 1
		}
	}
	return nil
}

type accountServiceTokens struct {
	accountID int64
	tokens    []SeedServiceToken
}

// tick lets runs move along when the clock moves, so webhooks fire even if nobody polls.
func (e *Emulator) tick() {
	e.mu.Lock()
	evs := e.advanceLocked(e.clock.Now())
	e.mu.Unlock()
	e.hooks.dispatch(evs)
}

// Close stops the clock ticker and the webhook workers. Deliveries in flight are abandoned.
func (e *Emulator) Close() {
	e.startClosing()
	e.stopTick()
	e.hooks.close()
}

func (e *Emulator) startClosing() { e.closingOnce.Do(func() { close(e.closing) }) }

// Clock returns the emulator's clock.
func (e *Emulator) Clock() Clock { return e.clock }

// Token returns the first token of the first seeded account (DemoToken with the default seed).
func (e *Emulator) Token() string { return e.defaultToken }

// AccountID returns the account Token reaches.
func (e *Emulator) AccountID() int64 { return e.defaultAcct }

// Advance moves a fake clock forward by d and lets runs (and webhooks) catch up before returning. It panics if the
// clock cannot be advanced by hand (a real clock): that is a mistake in the calling test.
func (e *Emulator) Advance(d time.Duration) {
	a, ok := e.clock.(Advancer)
	if !ok {
		panic(fmt.Sprintf("emulator: Advance needs a clock with an Advance method (such as FakeClock), have %T", e.clock))
	}
	a.Advance(d)
	e.tick() // in case the clock does not call OnTick subscribers
}

// TriggerCount reports how many runs of jobID were created through POST .../jobs/{id}/run/, including triggers
// whose answer a commit_then_drop fault swallowed.
func (e *Emulator) TriggerCount(jobID int64) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.triggerCounts[jobID]
}

// RunInfo is a snapshot of one run for test assertions.
type RunInfo struct {
	ID            int64     `json:"id"`
	AccountID     int64     `json:"account_id"`
	JobID         int64     `json:"job_id"`
	Status        int       `json:"status"`
	StatusHuman   string    `json:"status_humanized"`
	StatusMessage string    `json:"status_message,omitempty"`
	Cause         string    `json:"cause"`
	CreatedAt     time.Time `json:"created_at"`
	FinishedAt    time.Time `json:"finished_at,omitzero"`
	RetryingRunID int64     `json:"retrying_run_id,omitempty"`
	Steps         []string  `json:"steps"`
}

// Runs returns every run, oldest first, as of the clock's current reading.
func (e *Emulator) Runs() []RunInfo {
	e.mu.Lock()
	evs := e.advanceLocked(e.clock.Now())
	out := make([]RunInfo, 0, len(e.runs))
	for _, r := range e.runs {
		ri := RunInfo{ID: r.id, AccountID: r.accountID, JobID: r.jobID, Status: r.status,
			StatusHuman: statusHumanized(r.status), Cause: r.trigger.cause, CreatedAt: r.createdAt,
			FinishedAt: r.finishedAt, RetryingRunID: r.retryingRun}
		if r.message != nil {
			ri.StatusMessage = *r.message
		}
		for _, s := range r.steps {
			ri.Steps = append(ri.Steps, s.name)
		}
		out = append(out, ri)
	}
	e.mu.Unlock()
	e.hooks.dispatch(evs)
	return out
}

// ServeHTTP serves the dbt Cloud API, the /_emulator/ control endpoints and the stand-in web pages (pages.go).
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		// The query string is logged so a user can see the filters a client sent; tokens travel in the
		// Authorization header, never in the query, so nothing secret is written.
		e.log.Info("request", "method", r.Method, "path", r.URL.Path, "query", r.URL.RawQuery, "status", sw.code,
			"took", time.Since(start))
	}()
	if strings.HasPrefix(r.URL.Path, "/_emulator/") {
		e.control(sw, r)
		return
	}
	if e.servePage(sw, r) { // pages.go: stand-ins for dbt Cloud's web pages
		return
	}
	if f := e.takeFault(r); f != nil {
		if done := e.applyFault(f, sw, r); done {
			return
		}
	}
	e.serveAPI(sw, r)
}

func (e *Emulator) serveAPI(w http.ResponseWriter, r *http.Request) {
	if isDiscoveryPath(r.URL.Path) {
		e.serveDiscovery(w, r)
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/api/") {
		writeError(w, http.StatusNotFound, "Not found.", "the emulator serves /api/v2, /api/v3, /graphql (Discovery) and /_emulator/")
		return
	}
	if e.appendSlash(w, r) {
		return
	}
	ti, ok := e.authenticate(r)
	if !ok {
		writeError(w, http.StatusUnauthorized, "Invalid token.", "")
		return
	}
	if ti.ipRestricted {
		// The body dbt Cloud documents for a caller outside the IP allow-list (docs.getdbt.com FAQ "I'm receiving
		// a 403 error 'Forbidden: Access denied' when using service tokens").
		writeJSON(w, http.StatusForbidden, map[string]any{
			"status": errStatus(http.StatusForbidden, "Forbidden: Access denied", ""),
			"data": map[string]any{"account_id": ti.accountID, "user_id": nil, "is_service_token": ti.name != "",
				"account_access_denied": true},
		})
		return
	}
	if retry, limited := e.rateLimited(ti.accountID); limited {
		w.Header().Set("Retry-After", strconv.Itoa(retry))
		writeError(w, http.StatusTooManyRequests,
			fmt.Sprintf("Request was throttled. Expected available in %d seconds.", retry), "")
		return
	}
	// Objects of other accounts are not visible to this token, and dbt Cloud answers 404 for those, not 403. An
	// account id that is not a number names no account either.
	if a, ok, valid := pathAccount(r.URL.Path); ok && (!valid || a != ti.accountID) {
		writeError(w, http.StatusNotFound, "Not found.", "")
		return
	}
	// ServeMux would answer a POST missing its trailing slash with a 307 to the slashed path; Django cannot
	// redirect a POST and answers 404, so the emulator does too (v3 webhook paths have no trailing slash).
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !strings.HasSuffix(r.URL.Path, "/") &&
		!strings.Contains(r.URL.Path, "/webhooks/") {
		notFound(w)
		return
	}
	ctx := context.WithValue(r.Context(), tokenKey{}, ti)
	e.mux.ServeHTTP(w, r.WithContext(ctx))
}

// appendSlash answers a GET or HEAD whose path lacks the trailing slash of a served route the way Django's
// CommonMiddleware (APPEND_SLASH) does for dbt Cloud: 301 with Location set to the path with the slash and the query
// string kept, an empty body and Django's text/html content type. Like that middleware it runs before
// authentication, so the redirect needs no token. A path that is a route as it is (an artifact path such as
// .../artifacts/manifest.json, the v3 webhook paths) is served, not redirected. It reports whether it answered.
func (e *Emulator) appendSlash(w http.ResponseWriter, r *http.Request) bool {
	if (r.Method != http.MethodGet && r.Method != http.MethodHead) || strings.HasSuffix(r.URL.Path, "/") {
		return false
	}
	if _, pat := e.mux.Handler(r); pat != "/" && !slashRedirect(pat, r.URL.Path) {
		return false
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path += "/"
	r2.URL.RawPath = ""
	if _, pat := e.mux.Handler(r2); pat == "/" {
		return false
	}
	loc := r2.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		loc += "?" + r.URL.RawQuery
	}
	w.Header().Set("Location", loc)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusMovedPermanently)
	return true
}

// slashRedirect reports whether ServeMux reaches pattern from path (which has no trailing slash) only by its own
// trailing-slash redirect (a 307 with an HTML body, not what Django sends): ServeMux.Handler names the route's
// pattern in both cases. A {$} pattern matches only slashed paths; a {x...} pattern matches path directly when
// path fills the wildcard's segment.
func slashRedirect(pattern, path string) bool {
	if _, p, ok := strings.Cut(pattern, " "); ok {
		pattern = p
	}
	switch {
	case strings.HasSuffix(pattern, "{$}"):
		return true
	case strings.HasSuffix(pattern, "...}"):
		return len(strings.Split(strings.Trim(path, "/"), "/")) < len(strings.Split(strings.Trim(pattern, "/"), "/"))
	}
	return false
}

type tokenKey struct{}

func tokenFrom(r *http.Request) tokenInfo {
	ti, _ := r.Context().Value(tokenKey{}).(tokenInfo)
	return ti
}

// authenticate accepts "Token X" and "Bearer X" (case-insensitive scheme), as dbt Cloud does; a bare token is a 401.
func (e *Emulator) authenticate(r *http.Request) (tokenInfo, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || (!strings.EqualFold(scheme, "Token") && !strings.EqualFold(scheme, "Bearer")) {
		return tokenInfo{}, false
	}
	e.mu.Lock()
	ti, ok := e.tokens[strings.TrimSpace(tok)]
	e.mu.Unlock()
	return ti, ok
}

// pathAccount extracts {a} from /api/vN/accounts/{a}/...: ok says the path has one, valid that it is an integer.
// The router would take any segment as {a}, so serveAPI must turn away a non-numeric one itself.
func pathAccount(p string) (id int64, ok, valid bool) {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	if len(parts) < 4 || parts[0] != "api" || parts[2] != "accounts" {
		return 0, false, false
	}
	id, err := strconv.ParseInt(parts[3], 10, 64)
	return id, true, err == nil
}

type rateWindow struct {
	start        time.Time
	count        int
	blockedUntil time.Time
}

// rateLimited counts a request against the account's per-minute budget (in emulated time). Past the budget, dbt
// Cloud imposes a five-minute cooldown; Retry-After says how many emulated seconds remain.
func (e *Emulator) rateLimited(accountID int64) (int, bool) {
	if e.rateLimit < 0 {
		return 0, false
	}
	now := e.clock.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	w := e.rate[accountID]
	if w == nil {
		w = &rateWindow{start: now}
		e.rate[accountID] = w
	}
	if now.Before(w.blockedUntil) {
		return int((w.blockedUntil.Sub(now) + time.Second - 1) / time.Second), true
	}
	if now.Sub(w.start) >= time.Minute {
		w.start, w.count = now, 0
	}
	w.count++
	if w.count > e.rateLimit {
		w.blockedUntil = now.Add(5 * time.Minute)
		w.start, w.count = w.blockedUntil, 0
		return 300, true
	}
	return 0, false
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(c int) {
	if w.code == 0 {
		w.code = c
	}
	w.ResponseWriter.WriteHeader(c)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection for the drop faults.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ---- envelopes ----

type respStatus struct {
	Code             int     `json:"code"`
	IsSuccess        bool    `json:"is_success"`
	UserMessage      string  `json:"user_message"`
	DeveloperMessage *string `json:"developer_message"`
}

func okStatus() respStatus {
	empty := ""
	return respStatus{Code: 200, IsSuccess: true, UserMessage: "Success!", DeveloperMessage: &empty}
}

func errStatus(code int, user, dev string) respStatus {
	s := respStatus{Code: code, UserMessage: user}
	if dev != "" {
		s.DeveloperMessage = &dev
	}
	return s
}

type envelope struct {
	Status respStatus `json:"status"`
	Data   any        `json:"data"`
	Extra  *listExtra `json:"extra,omitempty"`
}

type listExtra struct {
	Filters    map[string]any `json:"filters"`
	OrderBy    string         `json:"order_by"`
	Pagination pagination     `json:"pagination"`
}

type pagination struct {
	Count      int `json:"count"`
	TotalCount int `json:"total_count"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "emulator: encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

func writeData(w http.ResponseWriter, data any) {
	writeJSON(w, http.StatusOK, envelope{Status: okStatus(), Data: data})
}

func writeError(w http.ResponseWriter, code int, user, dev string) {
	writeJSON(w, code, envelope{Status: errStatus(code, user, dev), Data: nil})
}

func badRequest(w http.ResponseWriter, dev string) {
	writeError(w, http.StatusBadRequest, "The request was invalid. Please double check the provided data and try again.", dev)
}

func notFound(w http.ResponseWriter) { writeError(w, http.StatusNotFound, "Not found.", "") }

// page is the result of applying limit/offset.
type page struct {
	limit, offset int
}

// parsePage reads limit (default 100, at most 100, as dbt Cloud enforces) and offset (default 0).
func parsePage(r *http.Request) (page, error) {
	p := page{limit: 100}
	q := r.URL.Query()
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return p, fmt.Errorf("limit must be a positive integer, got %q", v)
		}
		if n > 100 {
			return p, fmt.Errorf("limit must be less than or equal to 100, got %d", n)
		}
		p.limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return p, fmt.Errorf("offset must be a non-negative integer, got %q", v)
		}
		p.offset = n
	}
	return p, nil
}

func pageOf[T any](items []T, p page) []T {
	if p.offset >= len(items) {
		return []T{}
	}
	end := min(p.offset+p.limit, len(items))
	return items[p.offset:end]
}

func writeList[T any](w http.ResponseWriter, items []T, p page, filters map[string]any, orderBy string) {
	pg := pageOf(items, p)
	filters["limit"] = p.limit
	filters["offset"] = p.offset
	writeJSON(w, http.StatusOK, envelope{Status: okStatus(), Data: pg, Extra: &listExtra{
		Filters: filters, OrderBy: orderBy, Pagination: pagination{Count: len(pg), TotalCount: len(items)},
	}})
}

// parseState reads a soft-deletion state filter ("active" or 1, "deleted" or 2, "all") and returns which object
// states it admits.
func parseState(r *http.Request, def string) (admits func(state int) bool, echo any, err error) {
	v := r.URL.Query().Get("state")
	if v == "" {
		v = def
	}
	switch v {
	case "active", "1":
		return func(s int) bool { return s == stateActive }, v, nil
	case "all":
		return func(int) bool { return true }, v, nil
	case "deleted", "2":
		return func(s int) bool { return s == stateDeleted }, v, nil
	}
	return nil, v, fmt.Errorf("state must be active, deleted, all, 1 or 2, got %q", v)
}

func queryInt(r *http.Request, name string) (int64, bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("%s must be an integer, got %q", name, v)
	}
	return n, true, nil
}

func pathInt(r *http.Request, name string) (int64, bool) {
	n, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return n, err == nil
}

// parseIncludeRelated accepts "a,b", "['a','b']", `["a","b"]` and "[a,b]": dbt Cloud takes both the comma list and
// the Python-list spelling some clients send.
func parseIncludeRelated(r *http.Request) map[string]bool {
	out := map[string]bool{}
	for _, v := range r.URL.Query()["include_related"] {
		v = strings.TrimSpace(v)
		v = strings.TrimPrefix(v, "[")
		v = strings.TrimSuffix(v, "]")
		for _, part := range strings.Split(v, ",") {
			part = strings.Trim(strings.TrimSpace(part), `'"`)
			if part != "" {
				out[part] = true
			}
		}
	}
	return out
}

func sortedKeys[K int64 | int, V any](m map[K]V) []K {
	ks := make([]K, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i] < ks[j] })
	return ks
}

// ---- Server ----

// Server is a running emulator listening on a local port, shaped like httptest.Server.
type Server struct {
	*Emulator
	// URL is the base URL, e.g. "http://127.0.0.1:54321", with no trailing slash; use it as the dbt Cloud host.
	URL string
	// Token reaches AccountID (DemoToken and DemoAccountID with the default seed).
	Token     string
	AccountID int64

	ln   net.Listener
	hs   *http.Server
	tr   *http.Transport
	done chan struct{}
}

// New starts an emulator on Options.Addr (default 127.0.0.1:0).
func New(opts Options) (*Server, error) {
	e, err := NewHandler(opts)
	if err != nil {
		return nil, err
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		e.Close()
		return nil, fmt.Errorf("emulator: listen on %s: %w", addr, err)
	}
	s := &Server{Emulator: e, URL: "http://" + ln.Addr().String(), Token: e.Token(), AccountID: e.AccountID(),
		ln: ln, hs: &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}, tr: &http.Transport{},
		done: make(chan struct{})}
	go func() {
		defer close(s.done)
		_ = s.hs.Serve(ln) // returns http.ErrServerClosed on Close
	}()
	return s, nil
}

// Handler returns the emulator's http.Handler.
func (s *Server) Handler() http.Handler { return s.Emulator }

// Client returns an HTTP client for the server whose idle connections are closed by Close.
func (s *Server) Client() *http.Client {
	return &http.Client{Transport: s.tr}
}

// Close shuts the server down, waiting briefly for requests in flight, and stops the emulator.
func (s *Server) Close() {
	s.startClosing()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.hs.Shutdown(ctx); err != nil {
		_ = s.hs.Close()
	}
	<-s.done
	s.tr.CloseIdleConnections()
	s.Emulator.Close()
}

// ListenAndServe serves the emulator on addr until ctx is cancelled, then shuts down gracefully. It is what
// `dbtlink emulator` runs.
func (e *Emulator) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("emulator: listen on %s: %w", addr, err)
	}
	return e.Serve(ctx, ln)
}

// Serve serves the emulator on ln until ctx is cancelled.
func (e *Emulator) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("emulator: serve: %w", err)
	case <-ctx.Done():
	}
	e.startClosing()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("emulator: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("emulator: serve: %w", err)
	}
	return nil
}

// readJSONBody decodes a request body of at most 1 MiB.
func readJSONBody(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return errors.New("the request body is empty")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("the body is not valid JSON for this operation: %w", err)
	}
	return nil
}
