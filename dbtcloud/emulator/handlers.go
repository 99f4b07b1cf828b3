package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

func (e *Emulator) routes() *http.ServeMux {
	m := http.NewServeMux()
	// v2
	m.HandleFunc("GET /api/v2/accounts/{$}", e.need(actReadAccount, e.listAccounts))
	m.HandleFunc("GET /api/v2/accounts/{a}/{$}", e.need(actReadAccount, e.getAccount))
	m.HandleFunc("GET /api/v2/accounts/{a}/jobs/{$}", e.need(actReadJobs, e.listJobs))
	m.HandleFunc("GET /api/v2/accounts/{a}/jobs/{j}/{$}", e.need(actReadJobs, e.getJob))
	m.HandleFunc("POST /api/v2/accounts/{a}/jobs/{j}/run/{$}", e.need(actWriteRuns, e.triggerRun))
	m.HandleFunc("POST /api/v2/accounts/{a}/jobs/{j}/rerun/{$}", e.need(actWriteRuns, e.rerunJob))
	m.HandleFunc("GET /api/v2/accounts/{a}/jobs/{j}/artifacts/{path...}", e.need(actReadRuns, e.getJobArtifact))
	m.HandleFunc("GET /api/v2/accounts/{a}/runs/{$}", e.need(actReadRuns, e.listRuns))
	m.HandleFunc("GET /api/v2/accounts/{a}/runs/{r}/{$}", e.need(actReadRuns, e.getRun))
	m.HandleFunc("POST /api/v2/accounts/{a}/runs/{r}/cancel/{$}", e.need(actWriteRuns, e.cancelRun))
	m.HandleFunc("GET /api/v2/accounts/{a}/runs/{r}/retry/{$}", e.need(actReadRuns, e.getRetryDetails))
	m.HandleFunc("POST /api/v2/accounts/{a}/runs/{r}/retry/{$}", e.need(actWriteRuns, e.retryRun))
	m.HandleFunc("GET /api/v2/accounts/{a}/runs/{r}/artifacts/{$}", e.need(actReadRuns, e.listRunArtifacts))
	m.HandleFunc("GET /api/v2/accounts/{a}/runs/{r}/artifacts/{path...}", e.need(actReadRuns, e.getRunArtifact))
	// v3
	m.HandleFunc("GET /api/v3/accounts/{a}/projects/{$}", e.need(actReadProjects, e.listProjects))
	m.HandleFunc("GET /api/v3/accounts/{a}/projects/{p}/{$}", e.need(actReadProjects, e.getProject))
	m.HandleFunc("GET /api/v3/accounts/{a}/projects/{p}/environments/{$}", e.need(actReadEnvironments, e.listEnvironments))
	m.HandleFunc("GET /api/v3/accounts/{a}/projects/{p}/environments/{e}/{$}", e.need(actReadEnvironments, e.getEnvironment))
	m.HandleFunc("GET /api/v3/accounts/{a}/webhooks/subscriptions", e.need(actWebhooks, e.listSubscriptions))
	m.HandleFunc("POST /api/v3/accounts/{a}/webhooks/subscriptions", e.need(actWebhooks, e.createSubscription))
	m.HandleFunc("GET /api/v3/accounts/{a}/webhooks/subscription/{id}", e.need(actWebhooks, e.getSubscription))
	m.HandleFunc("PUT /api/v3/accounts/{a}/webhooks/subscription/{id}", e.need(actWebhooks, e.updateSubscription))
	m.HandleFunc("DELETE /api/v3/accounts/{a}/webhooks/subscription/{id}", e.need(actWebhooks, e.deleteSubscription))
	e.adminRoutes(m) // admin.go
	m.HandleFunc("/", e.fallback(m))
	return m
}

// fallback answers paths no route takes: 405 when the path exists for another method (as Django REST framework
// answers), else 404, both in dbt's envelope. A GET missing its trailing slash never gets here: serveAPI
// redirects it (301) to the slashed path first, as Django's APPEND_SLASH does.
func (e *Emulator) fallback(m *http.ServeMux) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, method := range []string{"GET", "POST", "PUT", "DELETE"} {
			r2 := r.Clone(r.Context())
			r2.Method = method
			if _, pat := m.Handler(r2); pat != "/" && pat != "" {
				allow = append(allow, method)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("Method %q not allowed.", r.Method), "")
			return
		}
		notFound(w)
	}
}

func baseURL(r *http.Request) string { return "http://" + r.Host }

// begin locks the state and brings runs up to the current time; the caller must call end.
func (e *Emulator) begin() {
	e.mu.Lock()
	e.pendingEvents = append(e.pendingEvents, e.advanceLocked(e.clock.Now())...)
}

func (e *Emulator) end() {
	evs := e.pendingEvents
	e.pendingEvents = nil
	e.mu.Unlock()
	e.hooks.dispatch(evs)
}

// ---- accounts ----

func (e *Emulator) listAccounts(w http.ResponseWriter, r *http.Request) {
	ti := tokenFrom(r)
	e.begin()
	defer e.end()
	accts := []wireAccount{e.wireAccount(e.accounts[ti.accountID], baseURL(r))}
	writeJSON(w, http.StatusOK, envelope{Status: okStatus(), Data: accts, Extra: &listExtra{
		Filters: map[string]any{"pk__in": []int64{ti.accountID}}, OrderBy: "id",
		Pagination: pagination{Count: 1, TotalCount: 1},
	}})
}

func (e *Emulator) getAccount(w http.ResponseWriter, r *http.Request) {
	id, ok := pathInt(r, "a")
	e.begin()
	defer e.end()
	a := e.accounts[id]
	if !ok || a == nil {
		notFound(w)
		return
	}
	writeData(w, e.wireAccount(a, baseURL(r)))
}

// ---- jobs ----

func (e *Emulator) listJobs(w http.ResponseWriter, r *http.Request) {
	acct, _ := pathInt(r, "a")
	p, err := parsePage(r)
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	filters := map[string]any{"account_id": acct}
	admits, stateEcho, err := parseState(r, "active")
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	filters["state"] = stateEcho
	var projectID, envID int64
	var hasProject, hasEnv bool
	if projectID, hasProject, err = queryInt(r, "project_id"); err != nil {
		badRequest(w, err.Error())
		return
	}
	if envID, hasEnv, err = queryInt(r, "environment_id"); err != nil {
		badRequest(w, err.Error())
		return
	}
	name := r.URL.Query().Get("name__icontains")
	orderBy := r.URL.Query().Get("order_by")
	if orderBy == "" {
		orderBy = "id"
	}
	less, err := jobOrder(orderBy)
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	rel := parseIncludeRelated(r)
	e.begin()
	defer e.end()
	var out []wireJob
	var picked []*job
	for _, j := range e.jobsSorted() {
		if !admits(j.state) || j.accountID != acct || (hasProject && j.projectID != projectID) || (hasEnv && j.envID != envID) || !inScope(r, j.projectID) {
			continue
		}
		if name != "" && !strings.Contains(strings.ToLower(j.name), strings.ToLower(name)) {
			continue
		}
		picked = append(picked, j)
	}
	sort.SliceStable(picked, func(a, b int) bool { return less(picked[a], picked[b]) })
	for _, j := range picked {
		out = append(out, e.wireJob(j, rel, baseURL(r)))
	}
	if hasProject {
		filters["project_id"] = projectID
	}
	if hasEnv {
		filters["environment_id"] = envID
	}
	if name != "" {
		filters["name__icontains"] = name
	}
	writeList(w, orEmpty(out), p, filters, orderBy)
}

func jobOrder(by string) (func(a, b *job) bool, error) {
	desc := strings.HasPrefix(by, "-")
	var less func(a, b *job) bool
	switch strings.TrimPrefix(by, "-") {
	case "id", "created_at":
		less = func(a, b *job) bool { return a.id < b.id }
	case "name":
		less = func(a, b *job) bool { return a.name < b.name || (a.name == b.name && a.id < b.id) }
	default:
		return nil, fmt.Errorf("order_by must be id, name or created_at (with - for descending), got %q", by)
	}
	if desc {
		return func(a, b *job) bool { return less(b, a) }, nil
	}
	return less, nil
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (e *Emulator) findJob(r *http.Request) *job {
	acct, _ := pathInt(r, "a")
	id, ok := pathInt(r, "j")
	if !ok {
		return nil
	}
	j := e.jobs[id]
	if j == nil || j.state != stateActive || j.accountID != acct || !inScope(r, j.projectID) {
		return nil
	}
	return j
}

func (e *Emulator) getJob(w http.ResponseWriter, r *http.Request) {
	rel := parseIncludeRelated(r)
	e.begin()
	defer e.end()
	j := e.findJob(r)
	if j == nil {
		notFound(w)
		return
	}
	writeData(w, e.wireJob(j, rel, baseURL(r)))
}

// triggerBody is the Trigger Job Run request. Pointers tell "absent" from zero values.
type triggerBody struct {
	Cause                  *string  `json:"cause"`
	GitSHA                 *string  `json:"git_sha"`
	GitBranch              *string  `json:"git_branch"`
	AzurePullRequestID     *int64   `json:"azure_pull_request_id"`
	GithubPullRequestID    *int64   `json:"github_pull_request_id"`
	GitlabMergeRequestID   *int64   `json:"gitlab_merge_request_id"`
	NonNativePullRequestID *int64   `json:"non_native_pull_request_id"`
	SchemaOverride         *string  `json:"schema_override"`
	DBTVersionOverride     *string  `json:"dbt_version_override"`
	ThreadsOverride        *int     `json:"threads_override"`
	TargetNameOverride     *string  `json:"target_name_override"`
	GenerateDocsOverride   *bool    `json:"generate_docs_override"`
	TimeoutSecondsOverride *int     `json:"timeout_seconds_override"`
	StepsOverride          []string `json:"steps_override"`
}

func (b triggerBody) validate() error {
	if b.Cause == nil || strings.TrimSpace(*b.Cause) == "" {
		return fmt.Errorf("cause: This field is required")
	}
	if len(*b.Cause) > 255 {
		return fmt.Errorf("cause: Ensure this field has no more than 255 characters")
	}
	if b.GitSHA != nil && b.GitBranch != nil {
		return fmt.Errorf("git_sha and git_branch cannot both be set")
	}
	if b.ThreadsOverride != nil && *b.ThreadsOverride < 1 {
		return fmt.Errorf("threads_override: Ensure this value is greater than or equal to 1")
	}
	if b.TimeoutSecondsOverride != nil && *b.TimeoutSecondsOverride < 0 {
		return fmt.Errorf("timeout_seconds_override: Ensure this value is greater than or equal to 0")
	}
	for i, s := range b.StepsOverride {
		if !strings.HasPrefix(strings.TrimSpace(s), "dbt ") {
			return fmt.Errorf("steps_override[%d]: %q is not a dbt command", i, s)
		}
	}
	return nil
}

func (e *Emulator) triggerRun(w http.ResponseWriter, r *http.Request) {
	var body triggerBody
	if err := readJSONBody(r, &body); err != nil {
		badRequest(w, err.Error())
		return
	}
	if err := body.validate(); err != nil {
		badRequest(w, err.Error())
		return
	}
	rel := parseIncludeRelated(r)
	e.begin()
	defer e.end()
	j := e.findJob(r)
	if j == nil {
		notFound(w)
		return
	}
	tr := trigger{cause: *body.Cause, causeCategory: "api", gitSHA: body.GitSHA, gitBranch: body.GitBranch,
		azurePR: body.AzurePullRequestID, githubPR: body.GithubPullRequestID, gitlabMR: body.GitlabMergeRequestID,
		nonNativePR: body.NonNativePullRequestID, schemaOverride: body.SchemaOverride,
		dbtVersionOverride: body.DBTVersionOverride, threadsOverride: body.ThreadsOverride,
		targetNameOverride: body.TargetNameOverride, generateDocsOverride: body.GenerateDocsOverride,
		timeoutSecondsOverride: body.TimeoutSecondsOverride, stepsOverride: body.StepsOverride}
	if tr.githubPR != nil || tr.gitlabMR != nil || tr.azurePR != nil || tr.nonNativePR != nil {
		tr.causeCategory = "ci"
	}
	run := e.newRunLocked(j, tr, nil, e.clock.Now())
	e.triggerCounts[j.id]++
	writeData(w, e.wireRun(run, rel, baseURL(r)))
}

func (e *Emulator) rerunJob(w http.ResponseWriter, r *http.Request) {
	e.begin()
	defer e.end()
	j := e.findJob(r)
	if j == nil {
		notFound(w)
		return
	}
	latest := e.latestRun(j.id)
	tr := trigger{cause: "Rerun from the API", causeCategory: "rerun"}
	var run *run
	if latest != nil && e.retryReason(latest) == "" {
		run = e.newRunLocked(j, tr, latest, e.clock.Now())
	} else {
		// Not a retryable failure (a success, a run still going, no run at all): a new run, which queues
		// behind any run of the job still in progress.
		run = e.newRunLocked(j, tr, nil, e.clock.Now())
	}
	writeData(w, e.wireRun(run, nil, baseURL(r)))
}

// ---- runs ----

func (e *Emulator) findRun(r *http.Request) *run {
	acct, _ := pathInt(r, "a")
	id, ok := pathInt(r, "r")
	if !ok {
		return nil
	}
	// Runs are appended in id order, so a binary search finds one.
	i := sort.Search(len(e.runs), func(i int) bool { return e.runs[i].id >= id })
	if i >= len(e.runs) || e.runs[i].id != id || e.runs[i].accountID != acct || !inScope(r, e.runs[i].projectID) {
		return nil
	}
	return e.runs[i]
}

type runFilter struct {
	jobID, envID, projectID, idGT int64
	hasJob, hasEnv, hasProject    bool
	hasIDGT                       bool
	status                        map[int]bool
	createdFrom, createdTo        time.Time
	finishedFrom, finishedTo      time.Time
	hasCreated, hasFinished       bool
	includeState                  bool
}

func (f runFilter) match(r *run) bool {
	switch {
	case !f.includeState,
		f.hasJob && r.jobID != f.jobID,
		f.hasEnv && r.envID != f.envID,
		f.hasProject && r.projectID != f.projectID,
		f.hasIDGT && r.id <= f.idGT,
		f.status != nil && !f.status[r.status],
		f.hasCreated && (r.createdAt.Before(f.createdFrom) || r.createdAt.After(f.createdTo)),
		f.hasFinished && (r.finishedAt.IsZero() || r.finishedAt.Before(f.finishedFrom) || r.finishedAt.After(f.finishedTo)):
		return false
	}
	return true
}

// parseStatusIn accepts only the bracketed list dbt Cloud understands, "[1,2,3]"; "1,2,3" and repeated parameters
// are rejected with a 400 as dbt Cloud rejects them.
func parseStatusIn(vals []string) (map[int]bool, error) {
	if len(vals) != 1 {
		return nil, fmt.Errorf("status__in must be given once, as a list like [1,2,3]")
	}
	v := strings.TrimSpace(vals[0])
	if !strings.HasPrefix(v, "[") || !strings.HasSuffix(v, "]") {
		return nil, fmt.Errorf("status__in must be a list like [1,2,3], got %q", v)
	}
	out := map[int]bool{}
	for _, part := range strings.Split(v[1:len(v)-1], ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("status__in: %q is not a status code", part)
		}
		out[n] = true
	}
	return out, nil
}

// parseRange reads a __range filter: two timestamps as ["a","b"], [a,b] or a,b; each RFC 3339, dbt's
// space-separated form, or a plain date.
func parseRange(v string) (time.Time, time.Time, error) {
	s := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(v), "["), "]")
	parts := strings.Split(s, ",")
	if len(parts) != 2 {
		return time.Time{}, time.Time{}, fmt.Errorf("a range needs two timestamps, got %q", v)
	}
	var ts [2]time.Time
	for i, p := range parts {
		p = strings.Trim(strings.TrimSpace(p), `'"`)
		t, err := parseAnyTime(p)
		if err != nil {
			return time.Time{}, time.Time{}, err
		}
		ts[i] = t
	}
	if len(strings.TrimSpace(strings.Trim(strings.TrimSpace(parts[1]), `'"`))) == len("2006-01-02") {
		ts[1] = ts[1].Add(24*time.Hour - time.Nanosecond) // a date as the end includes that whole day
	}
	return ts[0], ts[1], nil
}

func parseAnyTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999-07:00", "2006-01-02 15:04:05.999999Z07:00",
		"2006-01-02T15:04:05.999999", "2006-01-02 15:04:05.999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a timestamp", s)
}

func runOrder(by string) (func(a, b *run) bool, error) {
	desc := strings.HasPrefix(by, "-")
	var less func(a, b *run) bool
	switch strings.TrimPrefix(by, "-") {
	case "id":
		less = func(a, b *run) bool { return a.id < b.id }
	case "created_at":
		less = func(a, b *run) bool {
			return a.createdAt.Before(b.createdAt) || (a.createdAt.Equal(b.createdAt) && a.id < b.id)
		}
	case "finished_at":
		// Unfinished runs sort as null, which Postgres puts last ascending and first descending.
		less = func(a, b *run) bool {
			switch {
			case a.finishedAt.IsZero() && b.finishedAt.IsZero():
				return a.id < b.id
			case a.finishedAt.IsZero():
				return false
			case b.finishedAt.IsZero():
				return true
			}
			return a.finishedAt.Before(b.finishedAt) || (a.finishedAt.Equal(b.finishedAt) && a.id < b.id)
		}
	default:
		return nil, fmt.Errorf("order_by must be id, created_at or finished_at (with - for descending), got %q", by)
	}
	if desc {
		return func(a, b *run) bool { return less(b, a) }, nil
	}
	return less, nil
}

func (e *Emulator) listRuns(w http.ResponseWriter, r *http.Request) {
	acct, _ := pathInt(r, "a")
	q := r.URL.Query()
	p, err := parsePage(r)
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	filters := map[string]any{"account_id": acct}
	var f runFilter
	var stateEcho any
	var admits func(int) bool
	if admits, stateEcho, err = parseState(r, "all"); err != nil {
		badRequest(w, err.Error())
		return
	}
	f.includeState = admits(stateActive) // runs are never deleted
	filters["state"] = stateEcho
	for _, spec := range []struct {
		name string
		dst  *int64
		has  *bool
	}{{"job_definition_id", &f.jobID, &f.hasJob}, {"environment_id", &f.envID, &f.hasEnv},
		{"project_id", &f.projectID, &f.hasProject}, {"id__gt", &f.idGT, &f.hasIDGT}} {
		if *spec.dst, *spec.has, err = queryInt(r, spec.name); err != nil {
			badRequest(w, err.Error())
			return
		}
		if *spec.has {
			filters[spec.name] = *spec.dst
		}
	}
	if st, has, err := queryInt(r, "status"); err != nil {
		badRequest(w, err.Error())
		return
	} else if has {
		f.status = map[int]bool{int(st): true}
		filters["status"] = st
	}
	if vals, ok := q["status__in"]; ok {
		set, err := parseStatusIn(vals)
		if err != nil {
			badRequest(w, err.Error())
			return
		}
		if f.status != nil { // both given: a run must satisfy both
			for k := range set {
				if !f.status[k] {
					delete(set, k)
				}
			}
		}
		f.status = set
		filters["status__in"] = vals[0]
	}
	if v := q.Get("created_at__range"); v != "" {
		if f.createdFrom, f.createdTo, err = parseRange(v); err != nil {
			badRequest(w, "created_at__range: "+err.Error())
			return
		}
		f.hasCreated = true
		filters["created_at__range"] = v
	}
	if v := q.Get("finished_at__range"); v != "" {
		if f.finishedFrom, f.finishedTo, err = parseRange(v); err != nil {
			badRequest(w, "finished_at__range: "+err.Error())
			return
		}
		f.hasFinished = true
		filters["finished_at__range"] = v
	}
	orderBy := q.Get("order_by")
	if orderBy == "" {
		orderBy = "id"
	}
	less, err := runOrder(orderBy)
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	rel := parseIncludeRelated(r)
	e.begin()
	defer e.end()
	var picked []*run
	for _, run := range e.runs {
		if run.accountID == acct && f.match(run) && inScope(r, run.projectID) {
			picked = append(picked, run)
		}
	}
	sort.SliceStable(picked, func(a, b int) bool { return less(picked[a], picked[b]) })
	pg := pageOf(picked, p)
	out := make([]wireRun, 0, len(pg))
	for _, run := range pg {
		out = append(out, e.wireRun(run, rel, baseURL(r)))
	}
	filters["limit"], filters["offset"] = p.limit, p.offset
	writeJSON(w, http.StatusOK, envelope{Status: okStatus(), Data: out, Extra: &listExtra{
		Filters: filters, OrderBy: orderBy, Pagination: pagination{Count: len(out), TotalCount: len(picked)},
	}})
}

func (e *Emulator) getRun(w http.ResponseWriter, r *http.Request) {
	rel := parseIncludeRelated(r)
	e.begin()
	defer e.end()
	run := e.findRun(r)
	if run == nil {
		notFound(w)
		return
	}
	writeData(w, e.wireRun(run, rel, baseURL(r)))
}

func (e *Emulator) cancelRun(w http.ResponseWriter, r *http.Request) {
	e.begin()
	defer e.end()
	run := e.findRun(r)
	if run == nil {
		notFound(w)
		return
	}
	// Cancelling a finished run changes nothing and answers the run as it is, as dbt Cloud does.
	e.pendingEvents = append(e.pendingEvents, e.cancelLocked(run, e.clock.Now())...)
	writeData(w, e.wireRun(run, nil, baseURL(r)))
}

func (e *Emulator) getRetryDetails(w http.ResponseWriter, r *http.Request) {
	e.begin()
	defer e.end()
	run := e.findRun(r)
	if run == nil {
		notFound(w)
		return
	}
	type details struct {
		FailedStep   *string  `json:"failed_step"`
		SkippedSteps []string `json:"skipped_steps"`
	}
	d := details{SkippedSteps: []string{}}
	if fs := run.failedStep(); fs != nil {
		d.FailedStep = ptr(fs.name)
		for _, c := range skippedCommands(run, e.jobs[run.jobID]) {
			d.SkippedSteps = append(d.SkippedSteps, "Invoke dbt with `"+c+"`")
		}
		if run.docs {
			d.SkippedSteps = append(d.SkippedSteps, "Invoke dbt with `dbt docs generate`")
		}
	}
	writeData(w, d)
}

func (e *Emulator) retryRun(w http.ResponseWriter, r *http.Request) {
	e.begin()
	defer e.end()
	run := e.findRun(r)
	if run == nil {
		notFound(w)
		return
	}
	if reason := e.retryReason(run); reason != "" {
		badRequest(w, "this run cannot be retried: "+reason)
		return
	}
	nr := e.newRunLocked(e.jobs[run.jobID], trigger{cause: "Retry of run " + strconv.FormatInt(run.id, 10),
		causeCategory: "rerun"}, run, e.clock.Now())
	writeData(w, e.wireRun(nr, nil, baseURL(r)))
}

// ---- artifacts ----

func (e *Emulator) listRunArtifacts(w http.ResponseWriter, r *http.Request) {
	e.begin()
	defer e.end()
	run := e.findRun(r)
	if run == nil {
		notFound(w)
		return
	}
	var list []string
	if v := r.URL.Query().Get("step"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			badRequest(w, fmt.Sprintf("step must be an integer, got %q", v))
			return
		}
		if n < 1 || n > len(run.steps) {
			writeError(w, http.StatusNotFound, "Not found.", fmt.Sprintf("run %d has steps 1 to %d, not %d", run.id, len(run.steps), n))
			return
		}
		list = e.stepArtifactList(run, run.steps[n-1])
	} else {
		list = e.artifactList(run)
	}
	if list == nil {
		writeData(w, nil) // dbt Cloud answers data: null when a run saved no artifacts
		return
	}
	writeData(w, list)
}

func (e *Emulator) getRunArtifact(w http.ResponseWriter, r *http.Request) {
	e.begin()
	defer e.end()
	run := e.findRun(r)
	if run == nil {
		notFound(w)
		return
	}
	e.serveArtifact(w, r, run)
}

func (e *Emulator) serveArtifact(w http.ResponseWriter, r *http.Request, run *run) {
	path := strings.TrimPrefix(r.PathValue("path"), "/")
	var files map[string]func() []byte
	if v := r.URL.Query().Get("step"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			badRequest(w, fmt.Sprintf("step must be an integer, got %q", v))
			return
		}
		if n < 1 || n > len(run.steps) || !terminal(run.status) {
			notFound(w)
			return
		}
		files = e.stepFiles(run, run.steps[n-1])
	} else if s := e.stepWriting(run, path); s != nil {
		files = e.stepFiles(run, s)
	}
	gen, ok := files[path]
	if !ok {
		writeError(w, http.StatusNotFound, "The requested artifact was not found.", fmt.Sprintf("no %s for run %d", path, run.id))
		return
	}
	b := gen()
	ct := "text/plain; charset=utf-8"
	if strings.HasSuffix(path, ".json") {
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

func (e *Emulator) getJobArtifact(w http.ResponseWriter, r *http.Request) {
	e.begin()
	defer e.end()
	j := e.findJob(r)
	if j == nil {
		notFound(w)
		return
	}
	path := strings.TrimPrefix(r.PathValue("path"), "/")
	for i := len(e.runs) - 1; i >= 0; i-- {
		if run := e.runs[i]; run.jobID == j.id && e.stepWriting(run, path) != nil {
			e.serveArtifact(w, r, run)
			return
		}
	}
	writeError(w, http.StatusNotFound, "The requested artifact was not found.", fmt.Sprintf("no run of job %d has %s", j.id, path))
}

// ---- v3 projects and environments ----

// projectOrderFields are the project fields order_by may name (with "-" for descending): the spec lets it take
// any field of the project, and these are the project's own scalar fields.
var projectOrderFields = map[string]func(a, b *project) int{
	"id":         func(a, b *project) int { return cmpInt(a.id, b.id) },
	"name":       func(a, b *project) int { return strings.Compare(a.name, b.name) },
	"account_id": func(a, b *project) int { return cmpInt(a.accountID, b.accountID) },
	"created_at": func(a, b *project) int { return a.createdAt.Compare(b.createdAt) },
	"updated_at": func(a, b *project) int { return a.updatedAt.Compare(b.updatedAt) },
	"state":      func(a, b *project) int { return cmpInt(int64(a.state), int64(b.state)) },
	"description": func(a, b *project) int {
		return strings.Compare(a.description, b.description)
	},
	"dbt_project_subdirectory": func(a, b *project) int { return cmpOptString(a.subdirectory, b.subdirectory) },
	"connection_id":            func(a, b *project) int { return cmpOptInt(a.connID, b.connID) },
	"repository_id":            func(a, b *project) int { return cmpOptInt(a.repoID, b.repoID) },
	// Projects have type 0 (DEFAULT) and no semantic layer config, docs or freshness job ids of their own here:
	// ordering by them keeps id order.
	"type":                     func(a, b *project) int { return 0 },
	"semantic_layer_config_id": func(a, b *project) int { return 0 },
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// cmpOptInt and cmpOptString sort nulls last ascending (and so first descending), as PostgreSQL does.
func cmpOptInt(a, b *int64) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	return cmpInt(*a, *b)
}

func cmpOptString(a, b *string) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	return strings.Compare(*a, *b)
}

// projectOrder parses order_by for projects: one field, or several separated by commas, each optionally with "-";
// ties are broken by id.
func projectOrder(by string) (func(a, b *project) bool, error) {
	var keys []func(a, b *project) int
	for _, f := range strings.Split(by, ",") {
		f = strings.TrimSpace(f)
		desc := strings.HasPrefix(f, "-")
		cmp, ok := projectOrderFields[strings.TrimPrefix(f, "-")]
		if !ok {
			names := make([]string, 0, len(projectOrderFields))
			for n := range projectOrderFields {
				names = append(names, n)
			}
			sort.Strings(names)
			return nil, fmt.Errorf("order_by: %q is not a project field; use one of %s (with - for descending)", f, strings.Join(names, ", "))
		}
		if desc {
			c := cmp
			cmp = func(a, b *project) int { return c(b, a) }
		}
		keys = append(keys, cmp)
	}
	return func(a, b *project) bool {
		for _, k := range keys {
			if c := k(a, b); c != 0 {
				return c < 0
			}
		}
		return a.id < b.id
	}, nil
}

func (e *Emulator) listProjects(w http.ResponseWriter, r *http.Request) {
	acct, _ := pathInt(r, "a")
	q := r.URL.Query()
	p, err := parsePage(r)
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	admits, stateEcho, err := parseState(r, "active")
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	name := q.Get("name__icontains")
	filters := map[string]any{"account_id": acct, "state": stateEcho}
	if name != "" {
		filters["name__icontains"] = name
	}
	var pk, pkGT int64
	var hasPK, hasPKGT bool
	if pk, hasPK, err = queryInt(r, "pk"); err != nil {
		badRequest(w, err.Error())
		return
	}
	if pkGT, hasPKGT, err = queryInt(r, "pk__gt"); err != nil {
		badRequest(w, err.Error())
		return
	}
	var pkIn map[int64]bool
	if vals, ok := q["pk__in"]; ok {
		if pkIn, err = parseIDList("pk__in", vals); err != nil {
			badRequest(w, err.Error())
			return
		}
		filters["pk__in"] = sortedKeys(pkIn)
	}
	if hasPK {
		filters["pk"] = pk
	}
	if hasPKGT {
		filters["pk__gt"] = pkGT
	}
	orderBy := q.Get("order_by")
	if orderBy == "" {
		orderBy = "id"
	}
	less, err := projectOrder(orderBy)
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	rel := parseIncludeRelated(r)
	e.begin()
	defer e.end()
	var picked []*project
	for _, id := range sortedKeys(e.projects) {
		pr := e.projects[id]
		switch {
		case !admits(pr.state), pr.accountID != acct, !inScope(r, pr.id),
			name != "" && !strings.Contains(strings.ToLower(pr.name), strings.ToLower(name)),
			hasPK && pr.id != pk, hasPKGT && pr.id <= pkGT, pkIn != nil && !pkIn[pr.id]:
			continue
		}
		picked = append(picked, pr)
	}
	sort.SliceStable(picked, func(a, b int) bool { return less(picked[a], picked[b]) })
	out := make([]wireProject, 0, len(picked))
	for _, pr := range picked {
		out = append(out, e.wireProjectRelated(pr, rel, baseURL(r)))
	}
	writeList(w, out, p, filters, orderBy)
}

// parseIDList reads a list of ids given as "[1,2]", "1,2" or the parameter repeated (form style, as the spec
// declares pk__in).
func parseIDList(name string, vals []string) (map[int64]bool, error) {
	out := map[int64]bool{}
	for _, v := range vals {
		v = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(v), "["), "]")
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			n, err := strconv.ParseInt(part, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %q is not an id", name, part)
			}
			out[n] = true
		}
	}
	return out, nil
}

func (e *Emulator) findProject(r *http.Request) *project {
	return e.findProjectByID(r, r.PathValue("p"))
}

func (e *Emulator) findProjectByID(r *http.Request, idText string) *project {
	acct, _ := pathInt(r, "a")
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil {
		return nil
	}
	pr := e.projects[id]
	if pr == nil || pr.state != stateActive || pr.accountID != acct || !inScope(r, pr.id) {
		return nil
	}
	return pr
}

func (e *Emulator) getProject(w http.ResponseWriter, r *http.Request) {
	rel := parseIncludeRelated(r)
	e.begin()
	defer e.end()
	pr := e.findProject(r)
	if pr == nil {
		notFound(w)
		return
	}
	writeData(w, e.wireProjectRelated(pr, rel, baseURL(r)))
}

// listEnvironments serves both the project's environment list (/projects/{p}/environments/) and the account-wide
// one (/environments/), which takes the project as a project_id filter instead.
func (e *Emulator) listEnvironments(w http.ResponseWriter, r *http.Request) {
	acct, _ := pathInt(r, "a")
	q := r.URL.Query()
	p, err := parsePage(r)
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	admits, stateEcho, err := parseState(r, "active")
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	filters := map[string]any{"account_id": acct, "state": stateEcho}
	name, icontains, dtype := q.Get("name"), q.Get("name__icontains"), q.Get("deployment_type")
	switch dtype {
	case "", "production", "staging":
	default:
		badRequest(w, fmt.Sprintf("deployment_type: %q is not a valid choice.", dtype))
		return
	}
	for k, v := range map[string]string{"name": name, "name__icontains": icontains, "deployment_type": dtype} {
		if v != "" {
			filters[k] = v
		}
	}
	var projectIDs map[int64]bool
	if vals, ok := q["project_id__in"]; ok {
		if projectIDs, err = parseIDList("project_id__in", vals); err != nil {
			badRequest(w, err.Error())
			return
		}
		filters["project_id__in"] = vals[0]
	}
	projectID, hasProject, err := queryInt(r, "project_id")
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	e.begin()
	defer e.end()
	if r.PathValue("p") != "" { // the project's own list: the path names the project
		pr := e.findProject(r)
		if pr == nil {
			notFound(w)
			return
		}
		projectID, hasProject = pr.id, true
	}
	if hasProject {
		filters["project_id"] = projectID
	}
	out := []wireEnvironment{}
	for _, id := range sortedKeys(e.envs) {
		en := e.envs[id]
		switch {
		case !admits(en.state), en.accountID != acct, !inScope(r, en.projectID),
			hasProject && en.projectID != projectID,
			projectIDs != nil && !projectIDs[en.projectID],
			name != "" && en.name != name,
			icontains != "" && !strings.Contains(strings.ToLower(en.name), strings.ToLower(icontains)),
			dtype != "" && en.deployType != dtype:
			continue
		}
		out = append(out, e.wireEnvironment(en, true))
	}
	writeList(w, out, p, filters, "id")
}

func (e *Emulator) findEnvironment(r *http.Request, pr *project, idText string) *environment {
	id, err := strconv.ParseInt(idText, 10, 64)
	if pr == nil || err != nil {
		return nil
	}
	en := e.envs[id]
	if en == nil || en.state != stateActive || en.projectID != pr.id {
		return nil
	}
	return en
}

func (e *Emulator) getEnvironment(w http.ResponseWriter, r *http.Request) {
	e.begin()
	defer e.end()
	en := e.findEnvironment(r, e.findProject(r), r.PathValue("e"))
	if en == nil {
		notFound(w)
		return
	}
	writeData(w, e.wireEnvironment(en, true))
}

// statusJSON is used by the control endpoints, which answer plain JSON without dbt's envelope.
func statusJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
