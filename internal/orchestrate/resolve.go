package orchestrate

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sort"
	"strings"

	"github.com/dbtlink/dbtlink/dbtcloud"
)

// JobRef names a job either by id or by the names of its project,
// environment and job. ID wins when set.
type JobRef struct {
	ID          int64
	Project     string
	Environment string
	Job         string
}

// String describes the reference the way a user typed it.
func (r JobRef) String() string {
	if r.ID > 0 {
		return fmt.Sprintf("job %d", r.ID)
	}
	return fmt.Sprintf("job %q in project %q, environment %q", r.Job, r.Project, r.Environment)
}

// Candidate is one object a name lookup found (or could have found).
type Candidate struct {
	ID   int64
	Name string
}

func (c Candidate) String() string { return fmt.Sprintf("%q (id %d)", c.Name, c.ID) }

// NotFoundError says which level of a name lookup found nothing. Candidates
// lists the names that do exist at that level (at most maxCandidates), so
// the user can spot a typo.
type NotFoundError struct {
	// Level is "project", "environment" or "job".
	Level string
	Name  string
	// Scope says where we looked, e.g. `project "analytics"`; empty for projects.
	Scope      string
	Candidates []Candidate
	// NearMisses says Candidates are only the names containing Name, not
	// everything at this level (which the message must not suggest: "Prod"
	// listed only "Production", and a user took Staging to be missing).
	NearMisses bool
}

func (e *NotFoundError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "no %s named %q", e.Level, e.Name)
	if e.Scope != "" {
		fmt.Fprintf(&b, " in %s", e.Scope)
	}
	switch {
	case len(e.Candidates) > 0 && e.NearMisses:
		fmt.Fprintf(&b, "; %ss whose names contain it: %s (names must match exactly, but for case)", e.Level, joinCandidates(e.Candidates))
	case len(e.Candidates) > 0:
		fmt.Fprintf(&b, "; %ss there: %s", e.Level, joinCandidates(e.Candidates))
	default:
		fmt.Fprintf(&b, "; there are no %ss there, or the token cannot see them", e.Level)
	}
	return b.String()
}

// AmbiguousError says which level of a name lookup matched several objects,
// and lists them so the user can pick one by id.
type AmbiguousError struct {
	Level      string
	Name       string
	Scope      string
	Candidates []Candidate
}

func (e *AmbiguousError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %ss are named %q", len(e.Candidates), e.Level, e.Name)
	if e.Scope != "" {
		fmt.Fprintf(&b, " in %s", e.Scope)
	}
	fmt.Fprintf(&b, ": %s; rename one in dbt Cloud or pass the job id instead", joinCandidates(e.Candidates))
	return b.String()
}

func joinCandidates(cs []Candidate) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.String()
	}
	return strings.Join(parts, ", ")
}

// maxCandidates bounds the names listed in a NotFoundError: enough to spot a
// typo without flooding the terminal for an account with hundreds of jobs.
const maxCandidates = 20

// ResolveJob finds the job ref names. By id it is one Jobs.Get. By names it
// is three lookups (project, then environment in that project, then job in
// that project and environment), each of which must find exactly one
// object: an exact, case-sensitive name match, or, when nothing matches
// exactly, a case-insensitive one. It returns *NotFoundError or
// *AmbiguousError naming the level that failed; API errors are wrapped.
func ResolveJob(ctx context.Context, client *dbtcloud.Client, accountID int64, ref JobRef) (*dbtcloud.Job, error) {
	if ref.ID > 0 {
		job, _, err := client.Jobs.Get(ctx, accountID, ref.ID)
		if err != nil {
			return nil, fmt.Errorf("get job %d: %w", ref.ID, err)
		}
		return job, nil
	}
	if ref.Project == "" || ref.Environment == "" || ref.Job == "" {
		return nil, errors.New("a job is named by its id, or by all three of project, environment and job names")
	}

	projects, err := collect(client.Projects.ListIter(ctx, accountID, &dbtcloud.ProjectListOptions{NameIContains: ref.Project}),
		func(p *dbtcloud.Project) Candidate { return Candidate{p.ID, p.Name} })
	if err != nil {
		return nil, fmt.Errorf("look up project %q: %w", ref.Project, err)
	}
	project, err := pickOne("project", ref.Project, "", projects, func() ([]Candidate, error) {
		return collect(client.Projects.ListIter(ctx, accountID, nil),
			func(p *dbtcloud.Project) Candidate { return Candidate{p.ID, p.Name} })
	})
	if err != nil {
		return nil, err
	}

	envScope := fmt.Sprintf("project %q", project.Name)
	envs, err := collect(client.Environments.ListIter(ctx, accountID, project.ID, &dbtcloud.EnvironmentListOptions{NameIContains: ref.Environment}),
		func(e *dbtcloud.Environment) Candidate { return Candidate{e.ID, e.Name} })
	if err != nil {
		return nil, fmt.Errorf("look up environment %q in %s: %w", ref.Environment, envScope, err)
	}
	env, err := pickOne("environment", ref.Environment, envScope, envs, func() ([]Candidate, error) {
		return collect(client.Environments.ListIter(ctx, accountID, project.ID, nil),
			func(e *dbtcloud.Environment) Candidate { return Candidate{e.ID, e.Name} })
	})
	if err != nil {
		return nil, err
	}

	jobScope := fmt.Sprintf("project %q, environment %q", project.Name, env.Name)
	jobOpts := dbtcloud.JobListOptions{ProjectID: project.ID, EnvironmentID: env.ID}
	byName := jobOpts
	byName.NameIContains = ref.Job
	jobs, err := collect(client.Jobs.ListIter(ctx, accountID, &byName),
		func(j *dbtcloud.Job) Candidate { return Candidate{j.ID, j.Name} })
	if err != nil {
		return nil, fmt.Errorf("look up job %q in %s: %w", ref.Job, jobScope, err)
	}
	picked, err := pickOne("job", ref.Job, jobScope, jobs, func() ([]Candidate, error) {
		return collect(client.Jobs.ListIter(ctx, accountID, &jobOpts),
			func(j *dbtcloud.Job) Candidate { return Candidate{j.ID, j.Name} })
	})
	if err != nil {
		return nil, err
	}
	job, _, err := client.Jobs.Get(ctx, accountID, picked.ID)
	if err != nil {
		return nil, fmt.Errorf("get job %d (%s): %w", picked.ID, picked.Name, err)
	}
	return job, nil
}

// collect drains a paging iterator into candidates. The name__icontains
// filters keep these lists short; the fallback listing of a whole level
// stops at maxCandidates+1, which is all a NotFoundError shows.
func collect[T any](seq iter.Seq2[*T, error], conv func(*T) Candidate) ([]Candidate, error) {
	var out []Candidate
	for v, err := range seq {
		if err != nil {
			return nil, err
		}
		out = append(out, conv(v))
		if len(out) > 10*maxCandidates {
			break
		}
	}
	return out, nil
}

// pickOne applies the exact-name rule to the name__icontains matches. When
// nothing matches, listAll supplies the names that exist at this level.
func pickOne(level, name, scope string, found []Candidate, listAll func() ([]Candidate, error)) (Candidate, error) {
	var exact, folded []Candidate
	for _, c := range found {
		switch {
		case c.Name == name:
			exact = append(exact, c)
		case strings.EqualFold(c.Name, name):
			folded = append(folded, c)
		}
	}
	matches := exact
	if len(matches) == 0 {
		matches = folded
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		// Near misses (substring matches) are the most useful hint; without
		// any, list what exists at this level.
		cands, near := found, len(found) > 0
		if len(cands) == 0 {
			all, err := listAll()
			if err != nil {
				return Candidate{}, fmt.Errorf("no %s named %q; listing %ss failed too: %w", level, name, level, err)
			}
			cands = all
		}
		sortCandidates(cands)
		if len(cands) > maxCandidates {
			cands = cands[:maxCandidates]
		}
		return Candidate{}, &NotFoundError{Level: level, Name: name, Scope: scope, Candidates: cands, NearMisses: near}
	default:
		sortCandidates(matches)
		return Candidate{}, &AmbiguousError{Level: level, Name: name, Scope: scope, Candidates: matches}
	}
}

func sortCandidates(cs []Candidate) {
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].Name != cs[j].Name {
			return cs[i].Name < cs[j].Name
		}
		return cs[i].ID < cs[j].ID
	})
}
