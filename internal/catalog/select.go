package catalog

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/internal/store"
)

// Filter keeps or drops projects, environments or jobs. Each entry is an id
// ("123") or a name glob ("analytics*", path.Match syntax, compared
// ignoring case). An empty Allow keeps everything not denied; Deny wins.
type Filter struct {
	Allow []string
	Deny  []string
}

// Keep reports whether the object passes the filter.
func (f Filter) Keep(id int64, name string) bool {
	if slices.ContainsFunc(f.Deny, func(p string) bool { return filterMatch(p, id, name) }) {
		return false
	}
	return len(f.Allow) == 0 || slices.ContainsFunc(f.Allow, func(p string) bool { return filterMatch(p, id, name) })
}

func filterMatch(pattern string, id int64, name string) bool {
	if n, err := strconv.ParseInt(pattern, 10, 64); err == nil {
		return n == id
	}
	ok, _ := path.Match(strings.ToLower(pattern), strings.ToLower(name))
	return ok
}

func (f Filter) check(what string) error {
	for _, p := range slices.Concat(f.Allow, f.Deny) {
		if strings.TrimSpace(p) == "" {
			return fmt.Errorf("%s filter: empty entry; give an id or a name glob", what)
		}
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("%s filter: bad glob %q: %w", what, p, err)
		}
	}
	return nil
}

// PlanOptions narrow what Plan looks at.
type PlanOptions struct {
	Projects     Filter
	Environments Filter
	Jobs         Filter
	// IncludeDevelopment also plans development environments, whose runs
	// build developers' schemas; off by default.
	IncludeDevelopment bool
	// IncludeCI also reads CI jobs (job_type "ci"), whose runs build
	// pull-request schemas; off by default.
	IncludeCI bool
}

// EnvPlan is what a sync of one environment will read.
type EnvPlan struct {
	AccountID int64
	// AccessURL is the dbt Cloud host, for links.
	AccessURL   string
	Project     dbtcloud.Project
	Environment dbtcloud.Environment
	// Jobs are the environment's jobs that passed the filters, each with
	// its latest completed run (nil when it has none).
	Jobs []JobPlan
	// Manifests are the manifest candidates, newest run first: Fetch reads
	// the first that exists.
	Manifests []ArtifactRef
	// RunResults are read all.
	RunResults []ArtifactRef
	// Catalogs and Sources are candidates, newest first; none is fine.
	Catalogs []ArtifactRef
	Sources  []ArtifactRef
	// Fingerprint names the chosen runs and steps: unchanged means the
	// artifacts are the ones read last time.
	Fingerprint string
}

// Scope returns the store scope the plan syncs, for connection conn.
func (p *EnvPlan) Scope(conn string) store.CatalogScope {
	return store.CatalogScope{
		Key: fmt.Sprintf("cloud:%s:%d", conn, p.Environment.ID), Kind: store.ScopeDbtCloud, Connection: conn,
		AccountID: p.AccountID, ProjectID: p.Project.ID, ProjectName: p.Project.Name,
		EnvironmentID: p.Environment.ID, EnvironmentName: p.Environment.Name, Fingerprint: p.Fingerprint,
	}
}

// JobPlan is one job and its latest completed run.
type JobPlan struct {
	Job dbtcloud.Job
	Run *dbtcloud.Run
}

// ArtifactRef is one artifact of one run step.
type ArtifactRef struct {
	RunID int64
	JobID int64
	// Step counts from 1; 0 lets dbt Cloud pick the last step that wrote
	// the file (used when the run's steps are unknown).
	Step     int
	StepName string
	Path     string
	// RunFinishedAt is the run's finish time.
	RunFinishedAt time.Time
}

func (a ArtifactRef) String() string {
	s := fmt.Sprintf("%s of run %d (job %d", a.Path, a.RunID, a.JobID)
	if a.Step > 0 {
		s += fmt.Sprintf(", step %d", a.Step)
		if a.StepName != "" {
			s += " " + strconv.Quote(a.StepName)
		}
	}
	return s + ")"
}

// stepCommand returns the dbt subcommand of a run step name such as
// "Invoke dbt with `dbt build --select x`" ("build", "docs generate",
// "source freshness"), or "" for clone, profile and other steps.
func stepCommand(name string) string {
	i := strings.IndexByte(name, '`')
	j := strings.LastIndexByte(name, '`')
	if i < 0 || j <= i {
		return ""
	}
	return dbtSubcommand(name[i+1 : j])
}

// dbtSubcommand returns the subcommand of a command line "dbt [flags] sub
// [args]", joining the two-word ones.
func dbtSubcommand(cmdline string) string {
	f := strings.Fields(cmdline)
	if len(f) == 0 || f[0] != "dbt" {
		return ""
	}
	var words []string
	for _, w := range f[1:] {
		if strings.HasPrefix(w, "-") {
			if len(words) == 0 {
				continue
			}
			break
		}
		words = append(words, strings.ToLower(w))
		if len(words) == 1 && words[0] != "docs" && words[0] != "source" {
			break
		}
		if len(words) == 2 {
			break
		}
	}
	switch {
	case len(words) == 0:
		return ""
	case words[0] == "source" && len(words) == 2 && (words[1] == "freshness" || words[1] == "snapshot-freshness"):
		return "source freshness"
	}
	return strings.Join(words, " ")
}

// Step kinds.
var (
	resultSteps   = map[string]bool{"build": true, "run": true, "test": true, "seed": true, "snapshot": true, "retry": true}
	manifestSteps = map[string]bool{"build": true, "run": true, "compile": true, "docs generate": true, "retry": true}
)

// Plan lists the account's projects, environments and jobs, keeps those
// the options allow, and chooses for each environment the runs and steps
// to read (see the package doc for the rules). It makes only GET calls.
// Environments whose jobs have no completed run are returned with no
// manifest candidates; Fetch refuses them with a clear error.
func Plan(ctx context.Context, client *dbtcloud.Client, accountID int64, opts PlanOptions) ([]EnvPlan, error) {
	for what, f := range map[string]Filter{"project": opts.Projects, "environment": opts.Environments, "job": opts.Jobs} {
		if err := f.check(what); err != nil {
			return nil, fmt.Errorf("plan: %w", err)
		}
	}
	var plans []EnvPlan
	for p, err := range client.Projects.ListIter(ctx, accountID, nil) {
		if err != nil {
			return nil, fmt.Errorf("plan: list projects of account %d: %w", accountID, err)
		}
		if !opts.Projects.Keep(p.ID, p.Name) {
			continue
		}
		for e, err := range client.Environments.ListIter(ctx, accountID, p.ID, nil) {
			if err != nil {
				return nil, fmt.Errorf("plan: list environments of project %q (%d): %w", p.Name, p.ID, err)
			}
			if e.Type == "development" && !opts.IncludeDevelopment {
				continue
			}
			if !opts.Environments.Keep(e.ID, e.Name) {
				continue
			}
			ep, err := planEnvironment(ctx, client, accountID, *p, *e, opts)
			if err != nil {
				return nil, err
			}
			plans = append(plans, ep)
		}
	}
	return plans, nil
}

func planEnvironment(ctx context.Context, client *dbtcloud.Client, accountID int64, p dbtcloud.Project, e dbtcloud.Environment, opts PlanOptions) (EnvPlan, error) {
	ep := EnvPlan{AccountID: accountID, AccessURL: client.Host(), Project: p, Environment: e}
	where := fmt.Sprintf("environment %q (%d) of project %q", e.Name, e.ID, p.Name)
	for j, err := range client.Jobs.ListIter(ctx, accountID, &dbtcloud.JobListOptions{ProjectID: p.ID, EnvironmentID: e.ID}) {
		if err != nil {
			return EnvPlan{}, fmt.Errorf("plan: list jobs of %s: %w", where, err)
		}
		if j.EnvironmentID != 0 && j.EnvironmentID != e.ID {
			continue
		}
		if (strings.EqualFold(j.JobType, "ci") && !opts.IncludeCI) || !opts.Jobs.Keep(j.ID, j.Name) {
			continue
		}
		run, err := latestCompletedRun(ctx, client, accountID, j.ID)
		if err != nil {
			return EnvPlan{}, fmt.Errorf("plan: latest run of job %q (%d) in %s: %w", j.Name, j.ID, where, err)
		}
		ep.Jobs = append(ep.Jobs, JobPlan{Job: *j, Run: run})
	}
	// Newest run first; ties by run id.
	var runs []JobPlan
	for _, jp := range ep.Jobs {
		if jp.Run != nil {
			runs = append(runs, jp)
		}
	}
	slices.SortFunc(runs, func(a, b JobPlan) int {
		return cmp.Or(b.Run.FinishedAt.Time.Compare(a.Run.FinishedAt.Time), cmp.Compare(b.Run.ID, a.Run.ID))
	})
	for _, jp := range runs {
		r, j := jp.Run, jp.Job
		ref := func(step int, name, file string) ArtifactRef {
			return ArtifactRef{RunID: r.ID, JobID: j.ID, Step: step, StepName: name, Path: file, RunFinishedAt: r.FinishedAt.Time}
		}
		var manifest, catalog, sources *ArtifactRef
		var results []ArtifactRef
		for _, s := range r.RunSteps {
			if s.Status != dbtcloud.RunStatusSuccess && s.Status != dbtcloud.RunStatusError {
				continue // never ran, or was cancelled: wrote nothing to trust
			}
			c := stepCommand(s.Name)
			switch {
			case resultSteps[c]:
				results = append(results, ref(s.Index, s.Name, "run_results.json"))
			case c == "docs generate":
				a := ref(s.Index, s.Name, "catalog.json")
				catalog = &a
			case c == "source freshness":
				a := ref(s.Index, s.Name, "sources.json")
				sources = &a
			}
			if manifestSteps[c] {
				a := ref(s.Index, s.Name, "manifest.json")
				manifest = &a
			}
		}
		if len(r.RunSteps) == 0 {
			// Steps unknown: let dbt Cloud pick the last step of each file.
			results = append(results, ref(0, "", "run_results.json"))
		}
		if manifest == nil {
			a := ref(0, "", "manifest.json")
			manifest = &a
		}
		if catalog == nil && j.GenerateDocs && len(r.RunSteps) == 0 {
			a := ref(0, "", "catalog.json")
			catalog = &a
		}
		if sources == nil && j.RunGenerateSources && len(r.RunSteps) == 0 {
			a := ref(0, "", "sources.json")
			sources = &a
		}
		ep.Manifests = append(ep.Manifests, *manifest)
		ep.RunResults = append(ep.RunResults, results...)
		if catalog != nil {
			ep.Catalogs = append(ep.Catalogs, *catalog)
		}
		if sources != nil {
			ep.Sources = append(ep.Sources, *sources)
		}
	}
	ep.Fingerprint = fingerprint(ep)
	return ep, nil
}

// latestCompletedRun is the job's newest run that ended in success or
// error, with its steps; nil when there is none.
func latestCompletedRun(ctx context.Context, client *dbtcloud.Client, accountID, jobID int64) (*dbtcloud.Run, error) {
	runs, _, err := client.Runs.List(ctx, accountID, &dbtcloud.RunListOptions{
		JobDefinitionID: jobID,
		StatusIn:        []dbtcloud.RunStatus{dbtcloud.RunStatusSuccess, dbtcloud.RunStatusError},
		IncludeRelated:  []string{"run_steps"},
		OrderBy:         "-finished_at",
		ListOptions:     dbtcloud.ListOptions{Limit: 1},
	})
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, nil
	}
	r := runs[0]
	if len(r.RunSteps) == 0 {
		// Some list answers leave related objects out; ask for the run.
		full, _, err := client.Runs.Get(ctx, accountID, r.ID, &dbtcloud.RunGetOptions{IncludeRelated: []string{"run_steps"}})
		if err != nil {
			return nil, err
		}
		r = *full
	}
	// Logs are not needed and can be large.
	for i := range r.RunSteps {
		r.RunSteps[i].Logs, r.RunSteps[i].DebugLogs, r.RunSteps[i].TruncatedDebugLogs = "", "", ""
	}
	return &r, nil
}

// fingerprint hashes the environment and every chosen artifact, so that it
// changes when any run, step or job selection changes.
func fingerprint(ep EnvPlan) string {
	h := sha256.New()
	fmt.Fprintf(h, "env %d project %d\n", ep.Environment.ID, ep.Project.ID)
	for _, jp := range ep.Jobs {
		id := int64(0)
		if jp.Run != nil {
			id = jp.Run.ID
		}
		fmt.Fprintf(h, "job %d run %d\n", jp.Job.ID, id)
	}
	for _, group := range [][]ArtifactRef{ep.Manifests, ep.RunResults, ep.Catalogs, ep.Sources} {
		for _, a := range group {
			fmt.Fprintf(h, "%s %d %d\n", a.Path, a.RunID, a.Step)
		}
	}
	return "dbtcloud:" + hex.EncodeToString(h.Sum(nil))
}

// jobsAndRuns turns the plan's jobs and runs into the store's rows.
func jobsAndRuns(client *dbtcloud.Client, ep EnvPlan) ([]store.CatalogJob, []store.CatalogRun) {
	host := strings.TrimRight(ep.AccessURL, "/")
	var jobs []store.CatalogJob
	var runs []store.CatalogRun
	for _, jp := range ep.Jobs {
		j := jp.Job
		cj := store.CatalogJob{JobID: j.ID, Name: j.Name, GenerateDocs: j.GenerateDocs, RunFreshness: j.RunGenerateSources,
			Steps: j.ExecuteSteps, URL: fmt.Sprintf("%s/deploy/%d/projects/%d/jobs/%d", host, ep.AccountID, ep.Project.ID, j.ID)}
		if j.Triggers.Schedule {
			cj.Schedule = j.Schedule.Cron
		}
		if r := jp.Run; r != nil {
			cj.LastRunID, cj.LastRunStatus = r.ID, runStatus(r.Status)
			cr := store.CatalogRun{RunID: r.ID, JobID: j.ID, Status: runStatus(r.Status), StartedAt: r.StartedAt.Time,
				FinishedAt: r.FinishedAt.Time, URL: cmp.Or(r.Href, client.RunURL(ep.AccountID, ep.Project.ID, r.ID)), GitSHA: r.GitSHA}
			if !r.StartedAt.IsZero() && !r.FinishedAt.IsZero() {
				cr.Duration = r.FinishedAt.Sub(r.StartedAt.Time).Seconds()
			}
			runs = append(runs, cr)
		}
		jobs = append(jobs, cj)
	}
	return jobs, runs
}

// runStatus is the lower-case word of a run status ("success", "error").
func runStatus(s dbtcloud.RunStatus) string { return strings.ToLower(s.String()) }
