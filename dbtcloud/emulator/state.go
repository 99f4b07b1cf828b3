package emulator

import (
	"crypto/sha1"
	"fmt"
	"strings"
	"time"
)

// Run status codes, as dbt Cloud numbers them (runs and run steps share them).
const (
	StatusQueued    = 1
	StatusStarting  = 2
	StatusRunning   = 3
	StatusSuccess   = 10
	StatusError     = 20
	StatusCancelled = 30
)

func statusHumanized(s int) string {
	switch s {
	case StatusQueued:
		return "Queued"
	case StatusStarting:
		return "Starting"
	case StatusRunning:
		return "Running"
	case StatusSuccess:
		return "Success"
	case StatusError:
		return "Error"
	case StatusCancelled:
		return "Cancelled"
	}
	return "Unknown"
}

func terminal(s int) bool { return s == StatusSuccess || s == StatusError || s == StatusCancelled }

type account struct {
	id         int64
	name       string
	plan       string
	runSlots   int
	queueLimit int
	createdAt  time.Time
}

// Objects are soft-deleted as dbt Cloud deletes them: state becomes stateDeleted, they vanish from reads and from
// lists unless state=deleted or state=all asks for them, and whatever belonged to them is deleted with them.
const (
	stateActive  = 1
	stateDeleted = 2
)

type project struct {
	id, accountID        int64
	name                 string
	description          string
	subdirectory         *string
	connID, repoID       *int64 // nil: none set, as for a project created through the API
	state                int
	createdAt, updatedAt time.Time
}

type environment struct {
	id, accountID, projectID  int64
	name, envType, deployType string
	dbtVersion                string
	useCustomBranch           bool
	customBranch              *string
	credentialsID             *int64
	state                     int
	createdAt, updatedAt      time.Time
}

// connection and repository are the warehouse connection and git repository of a seeded project. They cannot be
// created or changed through the emulator; a project's connection_id and repository_id may point at any of its
// account's.
type connection struct {
	id, accountID, projectID int64
	name                     string
	createdAt                time.Time
}

type repository struct {
	id, accountID, projectID int64
	name                     string // "jaffle_shop"; full_name is "dbtlink-emulator/" + name
	createdAt                time.Time
}

type job struct {
	id, accountID, projectID, envID int64
	name                            string
	commands                        []string
	generateDocs, generateSources   bool
	timeoutSeconds                  int
	threads                         int
	targetName                      string
	cron, jobType                   string
	behaviour                       SeedBehaviour
	description                     string
	dbtVersion                      *string
	triggers                        wireJobTriggers
	state                           int
	createdAt, updatedAt            time.Time
}

type tokenInfo struct {
	accountID    int64
	ipRestricted bool
	name         string  // a service token's name; empty for the seed's plain tokens
	grants       []grant // plain tokens carry Account Admin on all projects
}

// trigger is what started a run: the trigger request body plus bookkeeping.
type trigger struct {
	id                     int64
	cause                  string
	causeCategory          string
	gitSHA, gitBranch      *string
	azurePR, githubPR      *int64
	gitlabMR, nonNativePR  *int64
	schemaOverride         *string
	dbtVersionOverride     *string
	threadsOverride        *int
	targetNameOverride     *string
	generateDocsOverride   *bool
	timeoutSecondsOverride *int
	stepsOverride          []string
	createdAt              time.Time
}

// step is one run step. Setup steps (clone, profile) have no command; dbt steps have one.
type step struct {
	id         int64
	index      int // 1-based
	name       string
	command    string // e.g. "dbt build"; "" for setup steps
	duration   time.Duration
	fails      bool
	status     int // 0 until the step starts
	startedAt  time.Time
	finishedAt time.Time
}

func (s *step) started() bool  { return s.status != 0 }
func (s *step) finished() bool { return terminal(s.status) }

type run struct {
	id          int64
	accountID   int64
	projectID   int64
	envID       int64
	jobID       int64
	trigger     trigger
	status      int
	message     *string
	dbtVersion  string
	gitBranch   string
	gitSHA      string
	createdAt   time.Time
	updatedAt   time.Time
	eligibleAt  time.Time
	startDelay  time.Duration
	dequeuedAt  time.Time
	startedAt   time.Time
	finishedAt  time.Time
	timeout     time.Duration
	steps       []*step
	cur         int // index into steps of the running step
	docs        bool
	sources     bool
	failingNode string
	retryingRun int64 // the failed run this run retries, 0 if none
	// retryOf holds, for a retry run, the failed run's failing step results to re-run.
	retryOf *run
}

func (r *run) inProgress() bool { return !terminal(r.status) }

// failedStep returns the step that ended the run with an error, or nil.
func (r *run) failedStep() *step {
	if r.status != StatusError {
		return nil
	}
	for _, s := range r.steps {
		if s.status == StatusError {
			return s
		}
	}
	return nil
}

// planSteps lays out a run's steps: clone, profile, deps, then (if sources are generated) source freshness, the
// commands, and (if docs are generated) docs generate. failCmd is the 1-based command that fails, 0 for deps, -1
// for none.
func planSteps(commands []string, docs, sources bool, failCmd int, durations []float64, connName string) []*step {
	var steps []*step
	add := func(name, cmd string, d time.Duration, fails bool) {
		steps = append(steps, &step{index: len(steps) + 1, name: name, command: cmd, duration: d, fails: fails})
	}
	add("Clone git repository", "", 2*time.Second, false)
	add("Create profile from connection "+connName, "", time.Second, false)
	add("Invoke dbt with `dbt deps`", "dbt deps", 3*time.Second, failCmd == 0)
	if failCmd == 0 {
		return steps
	}
	if sources {
		add("Invoke dbt with `dbt source freshness`", "dbt source freshness", 5*time.Second, false)
	}
	for i, c := range commands {
		d := 30.0
		if len(durations) > 0 {
			d = durations[min(i, len(durations)-1)]
		}
		add("Invoke dbt with `"+c+"`", c, seconds(d), failCmd == i+1)
		if failCmd == i+1 {
			return steps
		}
	}
	if docs {
		d := 10.0
		if len(durations) > len(commands) {
			d = durations[len(commands)]
		}
		add("Invoke dbt with `dbt docs generate`", "dbt docs generate", seconds(d), false)
	}
	return steps
}

// dbtSubcommand returns the subcommand of a dbt command line: "build" for "dbt build -s x", "docs generate",
// "source freshness".
func dbtSubcommand(cmd string) string {
	f := strings.Fields(cmd)
	if len(f) < 2 {
		return ""
	}
	if len(f) >= 3 && (f[1] == "docs" || f[1] == "source") {
		return f[1] + " " + f[2]
	}
	return f[1]
}

// retrySupported lists the commands `dbt retry` can resume, per dbt's documentation.
var retrySupported = map[string]bool{
	"build": true, "compile": true, "clone": true, "docs generate": true, "seed": true, "snapshot": true,
	"test": true, "run": true, "run-operation": true,
}

// retryReason explains why a run cannot be retried, or returns "" when it can.
func (e *Emulator) retryReason(r *run) string {
	if r.status != StatusError {
		return "RETRY_NOT_FAILED_RUN"
	}
	if latest := e.latestRun(r.jobID); latest != nil && latest.id != r.id {
		return "RETRY_NOT_LATEST_RUN"
	}
	if v := r.dbtVersion; versionBefore(v, 1, 6) {
		return "RETRY_UNSUPPORTED_VERSION"
	}
	fs := r.failedStep()
	if fs == nil || fs.command == "dbt deps" || fs.command == "" {
		return "RETRY_NO_RUN_RESULTS"
	}
	if !retrySupported[dbtSubcommand(fs.command)] {
		return "RETRY_UNSUPPORTED_CMD"
	}
	return ""
}

// versionBefore reports whether a dbt version string like "1.5.0-latest" is older than major.minor. Versionless
// strings ("latest", "versionless") are never older.
func versionBefore(v string, major, minor int) bool {
	var ma, mi int
	if _, err := fmt.Sscanf(v, "%d.%d", &ma, &mi); err != nil {
		return false
	}
	return ma < major || (ma == major && mi < minor)
}

// latestRun returns the newest run of jobID, or nil. It is asked for every run an answer shows (can_retry), so it
// is an index lookup rather than a scan of every run.
func (e *Emulator) latestRun(jobID int64) *run { return e.latestByJob[jobID] }

// blockers returns the ids of earlier, unfinished runs of the same job: a job's runs never overlap.
func (e *Emulator) blockers(r *run) []int64 {
	ids := []int64{}
	for _, o := range e.active {
		if o.jobID == r.jobID && o.id < r.id && o.inProgress() {
			ids = append(ids, o.id)
		}
	}
	return ids
}

// activeSummary is what nextTransition needs to know about the other active runs, gathered in one pass over
// e.active so that a scan of n active runs costs O(n), not O(n²).
type activeSummary struct {
	busy   map[int64]int   // account id -> its runs starting or running: the run slots in use
	oldest map[int64]int64 // job id -> the lowest id among its unfinished runs (a later one has blockers)
}

// summarize refills sum from e.active. Every run in e.active is unfinished.
func (e *Emulator) summarize(sum *activeSummary) {
	if sum.busy == nil {
		sum.busy, sum.oldest = map[int64]int{}, map[int64]int64{}
	}
	clear(sum.busy)
	clear(sum.oldest)
	for _, o := range e.active {
		if o.status == StatusStarting || o.status == StatusRunning {
			sum.busy[o.accountID]++
		}
		if id, ok := sum.oldest[o.jobID]; !ok || o.id < id {
			sum.oldest[o.jobID] = o.id
		}
	}
}

// nextTransition reports when r next changes state given the current state of every run (summarised in sum), and
// whether it will change at all without outside help (a queued run waiting for a slot or for an earlier run will
// not).
func (e *Emulator) nextTransition(r *run, sum *activeSummary) (time.Time, bool) {
	switch r.status {
	case StatusQueued:
		if sum.oldest[r.jobID] < r.id || sum.busy[r.accountID] >= e.accounts[r.accountID].runSlots {
			return time.Time{}, false
		}
		return later(r.eligibleAt, e.simNow), true
	case StatusStarting:
		return r.dequeuedAt.Add(r.startDelay), true
	case StatusRunning:
		s := r.steps[r.cur]
		t := s.startedAt.Add(s.duration)
		if r.timeout > 0 {
			if to := r.startedAt.Add(r.timeout); to.Before(t) {
				t = to
			}
		}
		return t, true
	}
	return time.Time{}, false
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// advanceLocked replays every run transition due up to now, in time order (ties by run id), so the result does not
// depend on how often anyone looked. It returns the webhook events the transitions produced. e.mu must be held.
func (e *Emulator) advanceLocked(now time.Time) []event {
	var events []event
	var sum activeSummary
	for {
		var best *run
		var bestT time.Time
		e.summarize(&sum)
		for _, r := range e.active {
			t, ok := e.nextTransition(r, &sum)
			if !ok || t.After(now) {
				continue
			}
			if best == nil || t.Before(bestT) || (t.Equal(bestT) && r.id < best.id) {
				best, bestT = r, t
			}
		}
		if best == nil {
			break
		}
		e.simNow = later(e.simNow, bestT)
		events = append(events, e.apply(best, bestT)...)
		if terminal(best.status) {
			e.removeActive(best)
		}
	}
	e.simNow = later(e.simNow, now)
	return events
}

func (e *Emulator) removeActive(r *run) {
	for i, o := range e.active {
		if o == r {
			e.active = append(e.active[:i], e.active[i+1:]...)
			return
		}
	}
}

// apply performs r's next transition at t.
func (e *Emulator) apply(r *run, t time.Time) []event {
	r.updatedAt = t
	switch r.status {
	case StatusQueued:
		r.status = StatusStarting
		r.dequeuedAt = t
		return nil
	case StatusStarting:
		r.status = StatusRunning
		r.startedAt = t
		e.startStep(r, 0, t)
		return []event{{kind: eventStarted, run: r, at: t}}
	case StatusRunning:
		s := r.steps[r.cur]
		if r.timeout > 0 && !r.startedAt.Add(r.timeout).After(t) && t.Before(s.startedAt.Add(s.duration)) {
			s.status, s.finishedAt = StatusCancelled, t
			msg := fmt.Sprintf("The run timed out after %d seconds and was cancelled.", int(r.timeout/time.Second))
			return e.finish(r, StatusCancelled, &msg, t)
		}
		s.finishedAt = t
		if s.fails {
			s.status = StatusError
			msg := fmt.Sprintf("%s failed.", s.name)
			return e.finish(r, StatusError, &msg, t)
		}
		s.status = StatusSuccess
		if r.cur+1 < len(r.steps) {
			e.startStep(r, r.cur+1, t)
			return nil
		}
		return e.finish(r, StatusSuccess, nil, t)
	}
	return nil
}

func (e *Emulator) startStep(r *run, i int, t time.Time) {
	r.cur = i
	s := r.steps[i]
	e.nextStepID++
	s.id = e.nextStepID
	s.status = StatusRunning
	s.startedAt = t
}

func (e *Emulator) finish(r *run, status int, msg *string, t time.Time) []event {
	r.status = status
	r.message = msg
	r.finishedAt = t
	r.updatedAt = t
	var evs []event
	if status == StatusError {
		// dbt Cloud sends job.run.errored at once and job.run.completed after storing artifacts.
		evs = append(evs, event{kind: eventErrored, run: r, at: t})
	}
	return append(evs, event{kind: eventCompleted, run: r, at: t})
}

// cancelLocked cancels r at t as a user would.
func (e *Emulator) cancelLocked(r *run, t time.Time) []event {
	if terminal(r.status) {
		return nil
	}
	if r.status == StatusRunning {
		s := r.steps[r.cur]
		s.status, s.finishedAt = StatusCancelled, t
	}
	msg := "Cancelled by user."
	evs := e.finish(r, StatusCancelled, &msg, t)
	e.removeActive(r)
	return evs
}

// newRunLocked queues a run of j at now. failedRun, when set, makes it a retry of that run from the failed step.
func (e *Emulator) newRunLocked(j *job, tr trigger, failedRun *run, now time.Time) *run {
	env := e.envs[j.envID]
	e.nextRunID++
	e.nextTriggerID++
	tr.id = e.nextTriggerID
	tr.createdAt = now
	r := &run{
		id: e.nextRunID, accountID: j.accountID, projectID: j.projectID, envID: j.envID, jobID: j.id,
		trigger: tr, status: StatusQueued, dbtVersion: env.dbtVersion, gitBranch: "main",
		gitSHA:    fmt.Sprintf("%x", sha1.Sum([]byte(fmt.Sprintf("emulated commit for run %d", e.nextRunID)))),
		createdAt: now, updatedAt: now,
		eligibleAt: now.Add(secondsOr(j.behaviour.QueueSeconds, 2)),
		startDelay: secondsOr(j.behaviour.StartingSeconds, 5),
		docs:       j.generateDocs, sources: j.generateSources, failingNode: j.behaviour.FailingNode,
	}
	if j.dbtVersion != nil { // a job's own dbt version overrides its environment's
		r.dbtVersion = *j.dbtVersion
	}
	if tr.dbtVersionOverride != nil {
		r.dbtVersion = *tr.dbtVersionOverride
	}
	if tr.gitBranch != nil {
		r.gitBranch = *tr.gitBranch
	}
	if tr.gitSHA != nil {
		r.gitSHA = *tr.gitSHA
	}
	if tr.generateDocsOverride != nil {
		r.docs = *tr.generateDocsOverride
	}
	if j.timeoutSeconds > 0 {
		r.timeout = time.Duration(j.timeoutSeconds) * time.Second
	}
	if tr.timeoutSecondsOverride != nil {
		r.timeout = time.Duration(*tr.timeoutSecondsOverride) * time.Second
	}
	commands := j.commands
	if len(tr.stepsOverride) > 0 {
		commands = tr.stepsOverride
	}
	failCmd := -1
	if j.behaviour.Outcome == "error" {
		failCmd = len(j.commands)
		if j.behaviour.FailStep != nil {
			failCmd = *j.behaviour.FailStep
		}
		if failCmd > len(commands) {
			failCmd = len(commands)
		}
	}
	durations := j.behaviour.StepSeconds
	if failedRun != nil {
		// Rerun from the point of failure: `dbt retry` stands in for the failed step, then the steps the failed
		// run skipped. Retries succeed: whatever broke is assumed fixed.
		r.retryingRun = failedRun.id
		r.retryOf = failedRun
		fs := failedRun.failedStep()
		commands = []string{"dbt retry"}
		commands = append(commands, skippedCommands(failedRun, j)...)
		durations = []float64{fs.duration.Seconds()}
		failCmd = -1
		r.sources = false
	}
	r.steps = planSteps(commands, r.docs, r.sources, failCmd, durations, e.connectionName(j))
	e.runs = append(e.runs, r)
	e.active = append(e.active, r)
	e.latestByJob[j.id] = r // run ids only grow
	return r
}

// skippedCommands lists the commands of j that a failed run never reached.
func skippedCommands(r *run, j *job) []string {
	fs := r.failedStep()
	if fs == nil {
		return nil
	}
	cmds := j.commands
	if len(r.trigger.stepsOverride) > 0 {
		cmds = r.trigger.stepsOverride
	}
	for i, c := range cmds {
		if "Invoke dbt with `"+c+"`" == fs.name {
			return append([]string{}, cmds[i+1:]...)
		}
	}
	return nil
}

func (e *Emulator) connectionName(j *job) string {
	p := e.projects[j.projectID]
	if p.connID != nil && e.conns[*p.connID] != nil {
		return e.conns[*p.connID].name
	}
	return fmt.Sprintf("Emulated DuckDB (%s)", p.name)
}
