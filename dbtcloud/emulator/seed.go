package emulator

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Seed describes the accounts, projects, environments and jobs an emulator starts with. See the package
// documentation for the file format and testdata/seed.example.yaml for a worked example.
type Seed struct {
	Accounts []SeedAccount `yaml:"accounts" json:"accounts"`
}

// SeedAccount is one dbt Cloud account.
type SeedAccount struct {
	ID       int64  `yaml:"id" json:"id"`
	Name     string `yaml:"name" json:"name"`
	Plan     string `yaml:"plan" json:"plan"`           // defaults to "team"
	RunSlots int    `yaml:"run_slots" json:"run_slots"` // concurrent runs; defaults to 5
	// QueueLimit is reported on the account; the emulator does not enforce it. Defaults to 50.
	QueueLimit int `yaml:"queue_limit" json:"queue_limit"`
	// Tokens are API tokens (personal access or service tokens) that reach this account.
	Tokens []string `yaml:"tokens" json:"tokens"`
	// IPRestrictedTokens authenticate but are refused with 403 account_access_denied, as dbt Cloud answers a caller
	// outside the account's IP allow-list.
	IPRestrictedTokens []string `yaml:"ip_restricted_tokens" json:"ip_restricted_tokens"`
	// Tokens carry the Account Admin permission set; ServiceTokens carry the permission sets they name, and the
	// emulator answers dbt Cloud's 403 for calls those sets do not allow (see PermissionSet).
	ServiceTokens []SeedServiceToken `yaml:"service_tokens" json:"service_tokens"`
	Projects      []SeedProject      `yaml:"projects" json:"projects"`
}

// SeedServiceToken is a dbt Cloud service token with its permission sets.
type SeedServiceToken struct {
	// Name is the token's name in dbt Cloud's Service Tokens page; `dbtlink emulator` derives a variable name from it.
	Name  string `yaml:"name" json:"name"`
	Token string `yaml:"token" json:"token"`
	// PermissionSets in the API's spelling ("job_admin") or the docs' ("Job Admin"); at least one.
	PermissionSets []string `yaml:"permission_sets" json:"permission_sets"`
	// ProjectIDs scopes the (project-level) permission sets to these projects; empty means all projects. Objects of
	// other projects are invisible to the token (404), as in dbt Cloud.
	ProjectIDs []int64 `yaml:"project_ids" json:"project_ids"`
}

// SeedProject is one project with its environments.
type SeedProject struct {
	ID           int64             `yaml:"id" json:"id"`
	Name         string            `yaml:"name" json:"name"`
	Environments []SeedEnvironment `yaml:"environments" json:"environments"`
}

// SeedEnvironment is one environment with its jobs.
type SeedEnvironment struct {
	ID   int64  `yaml:"id" json:"id"`
	Name string `yaml:"name" json:"name"`
	// Type is "deployment" (default) or "development".
	Type string `yaml:"type" json:"type"`
	// DeploymentType is "production", "staging" or empty (a general deployment environment).
	DeploymentType string    `yaml:"deployment_type" json:"deployment_type"`
	DBTVersion     string    `yaml:"dbt_version" json:"dbt_version"` // defaults to "1.11.0-latest"
	Jobs           []SeedJob `yaml:"jobs" json:"jobs"`
}

// SeedJob is one job definition and how its runs behave.
type SeedJob struct {
	ID   int64  `yaml:"id" json:"id"`
	Name string `yaml:"name" json:"name"`
	// ExecuteSteps are the job's dbt commands; defaults to ["dbt build"]. "commands" is accepted as an alias.
	ExecuteSteps       []string `yaml:"execute_steps" json:"execute_steps"`
	Commands           []string `yaml:"commands" json:"commands"`
	GenerateDocs       bool     `yaml:"generate_docs" json:"generate_docs"`
	RunGenerateSources bool     `yaml:"run_generate_sources" json:"run_generate_sources"`
	// TimeoutSeconds ends a run as Cancelled once it has been running that long; 0 means no timeout.
	TimeoutSeconds int           `yaml:"timeout_seconds" json:"timeout_seconds"`
	Threads        int           `yaml:"threads" json:"threads"`         // defaults to 4
	TargetName     string        `yaml:"target_name" json:"target_name"` // defaults to "default"
	Cron           string        `yaml:"cron" json:"cron"`               // reported only; the emulator never schedules runs
	JobType        string        `yaml:"job_type" json:"job_type"`       // defaults to "scheduled" when cron is set, else "other"
	Behaviour      SeedBehaviour `yaml:"behaviour" json:"behaviour"`
}

// SeedBehaviour says how a job's runs play out on the emulated clock.
type SeedBehaviour struct {
	// Outcome is "success" (default) or "error".
	Outcome string `yaml:"outcome" json:"outcome"`
	// FailStep is the 1-based index into the job's commands of the step that fails when Outcome is "error"; it
	// defaults to the last command. 0 makes `dbt deps` fail, so the run has no run_results (RETRY_NO_RUN_RESULTS).
	FailStep *int `yaml:"fail_step" json:"fail_step"`
	// FailingNode is the unique_id of the node that errors (a model) or fails (a test); defaults to
	// model.jaffle_shop.orders for commands that run models and the first test otherwise.
	FailingNode string `yaml:"failing_node" json:"failing_node"`
	// StepSeconds gives each command's duration in emulated seconds; missing entries use the last given value, or 30.
	StepSeconds []float64 `yaml:"step_seconds" json:"step_seconds"`
	// QueueSeconds is how long a run waits in the queue before it may start; defaults to 2.
	QueueSeconds *float64 `yaml:"queue_seconds" json:"queue_seconds"`
	// StartingSeconds is how long a run stays in Starting; defaults to 5.
	StartingSeconds *float64 `yaml:"starting_seconds" json:"starting_seconds"`
}

// LoadSeed reads a seed file (YAML, or JSON, which is YAML too).
func LoadSeed(path string) (*Seed, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("emulator: read seed: %w", err)
	}
	s, err := ParseSeed(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// ParseSeed parses and validates a seed. Unknown keys are errors, so a typo does not silently fall back to a
// default. Errors name the offending entry, e.g. `accounts[0].projects[1].environments[0].deployment_type`.
func ParseSeed(b []byte) (*Seed, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var s Seed
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("emulator: seed: the seed is empty; it needs at least one account with a token")
		}
		return nil, fmt.Errorf("emulator: parse seed: %w", err)
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// Validate checks the seed and reports every problem found, each prefixed with where it is.
func (s *Seed) Validate() error {
	var errs []error
	bad := func(where, format string, args ...any) {
		errs = append(errs, fmt.Errorf("emulator: seed: %s: %s", where, fmt.Sprintf(format, args...)))
	}
	if len(s.Accounts) == 0 {
		bad("accounts", "at least one account is required")
	}
	ids := map[string]string{} // "kind:id" -> where, to catch duplicate ids
	dup := func(kind string, id int64, where string) {
		if id == 0 {
			return
		}
		k := fmt.Sprintf("%s:%d", kind, id)
		if prev, ok := ids[k]; ok {
			bad(where+".id", "%s id %d already used at %s", kind, id, prev)
			return
		}
		ids[k] = where
	}
	tokens := map[string]string{}
	for ai, a := range s.Accounts {
		aw := fmt.Sprintf("accounts[%d]", ai)
		dup("account", a.ID, aw)
		if a.ID < 0 {
			bad(aw+".id", "must be positive")
		}
		if strings.TrimSpace(a.Name) == "" {
			bad(aw+".name", "is required")
		}
		if a.RunSlots < 0 {
			bad(aw+".run_slots", "must not be negative")
		}
		for ti, t := range append(append([]string{}, a.Tokens...), a.IPRestrictedTokens...) {
			tw := fmt.Sprintf("%s.tokens[%d]", aw, ti)
			if ti >= len(a.Tokens) {
				tw = fmt.Sprintf("%s.ip_restricted_tokens[%d]", aw, ti-len(a.Tokens))
			}
			if strings.TrimSpace(t) == "" || strings.ContainsAny(t, " \t\r\n") {
				bad(tw, "a token must be non-empty and contain no spaces")
				continue
			}
			if prev, ok := tokens[t]; ok {
				bad(tw, "token already used at %s", prev)
			}
			tokens[t] = tw
		}
		names := map[string]bool{}
		for ti, st := range a.ServiceTokens {
			tw := fmt.Sprintf("%s.service_tokens[%d]", aw, ti)
			if strings.TrimSpace(st.Name) == "" {
				bad(tw+".name", "is required")
			} else if names[strings.ToLower(st.Name)] {
				bad(tw+".name", "%q is already the name of another service token of this account", st.Name)
			}
			names[strings.ToLower(st.Name)] = true
			if strings.TrimSpace(st.Token) == "" || strings.ContainsAny(st.Token, " \t\r\n") {
				bad(tw+".token", "a token must be non-empty and contain no spaces")
			} else if prev, ok := tokens[st.Token]; ok {
				bad(tw+".token", "token already used at %s", prev)
			} else {
				tokens[st.Token] = tw
			}
			if len(st.PermissionSets) == 0 {
				bad(tw+".permission_sets", "give at least one permission set, e.g. [analyst]")
			}
			for pi, ps := range st.PermissionSets {
				set, err := ParsePermissionSet(ps)
				if err != nil {
					bad(fmt.Sprintf("%s.permission_sets[%d]", tw, pi), "%v", err)
					continue
				}
				if permissionTable[set].accountLevel && len(st.ProjectIDs) > 0 {
					bad(fmt.Sprintf("%s.permission_sets[%d]", tw, pi), "%s is an account-level permission set and cannot be scoped to projects; drop project_ids or use a project-level set", set)
				}
			}
			for pi, id := range st.ProjectIDs {
				if id <= 0 {
					bad(fmt.Sprintf("%s.project_ids[%d]", tw, pi), "must be a positive project id")
				}
			}
		}
		for pi, p := range a.Projects {
			pw := fmt.Sprintf("%s.projects[%d]", aw, pi)
			dup("project", p.ID, pw)
			if p.ID < 0 {
				bad(pw+".id", "must be positive")
			}
			if strings.TrimSpace(p.Name) == "" {
				bad(pw+".name", "is required")
			}
			for ei, e := range p.Environments {
				ew := fmt.Sprintf("%s.environments[%d]", pw, ei)
				dup("environment", e.ID, ew)
				if e.ID < 0 {
					bad(ew+".id", "must be positive")
				}
				if strings.TrimSpace(e.Name) == "" {
					bad(ew+".name", "is required")
				}
				switch e.DeploymentType {
				case "", "production", "staging":
				default:
					bad(ew+".deployment_type", "%q is not one of production, staging (or empty)", e.DeploymentType)
				}
				switch e.Type {
				case "", "deployment", "development":
				default:
					bad(ew+".type", "%q is not one of deployment, development", e.Type)
				}
				for ji, j := range e.Jobs {
					validateJob(fmt.Sprintf("%s.jobs[%d]", ew, ji), j, bad, dup)
				}
			}
		}
	}
	return errors.Join(errs...)
}

func validateJob(jw string, j SeedJob, bad func(string, string, ...any), dup func(string, int64, string)) {
	dup("job", j.ID, jw)
	if j.ID < 0 {
		bad(jw+".id", "must be positive")
	}
	if strings.TrimSpace(j.Name) == "" {
		bad(jw+".name", "is required")
	}
	if len(j.ExecuteSteps) > 0 && len(j.Commands) > 0 {
		bad(jw, "give execute_steps or commands, not both")
	}
	for ci, c := range j.commands() {
		if !strings.HasPrefix(strings.TrimSpace(c), "dbt ") {
			bad(fmt.Sprintf("%s.execute_steps[%d]", jw, ci), "%q does not start with \"dbt \"", c)
		}
	}
	if j.TimeoutSeconds < 0 {
		bad(jw+".timeout_seconds", "must not be negative")
	}
	if j.Threads < 0 {
		bad(jw+".threads", "must not be negative")
	}
	b := j.Behaviour
	switch b.Outcome {
	case "", "success", "error":
	default:
		bad(jw+".behaviour.outcome", "%q is not one of success, error", b.Outcome)
	}
	if b.FailStep != nil && (*b.FailStep < 0 || *b.FailStep > len(j.commands())) {
		bad(jw+".behaviour.fail_step", "%d is outside 0..%d (0 is `dbt deps`, 1.. the job's commands)", *b.FailStep, len(j.commands()))
	}
	secs := func(where string, d float64) {
		// NaN fails both comparisons; past maxSeedSeconds a time.Duration would overflow and run backwards.
		if !(d >= 0 && d <= maxSeedSeconds) {
			bad(where, "%v is not a number of seconds from 0 to %.0f", d, float64(maxSeedSeconds))
		}
	}
	for i, d := range b.StepSeconds {
		secs(fmt.Sprintf("%s.behaviour.step_seconds[%d]", jw, i), d)
	}
	if b.QueueSeconds != nil {
		secs(jw+".behaviour.queue_seconds", *b.QueueSeconds)
	}
	if b.StartingSeconds != nil {
		secs(jw+".behaviour.starting_seconds", *b.StartingSeconds)
	}
}

// maxSeedSeconds bounds the durations a seed gives (about 31 years), well inside time.Duration's 292.
const maxSeedSeconds = 1e9

func (j SeedJob) commands() []string {
	if len(j.Commands) > 0 {
		return j.Commands
	}
	if len(j.ExecuteSteps) > 0 {
		return j.ExecuteSteps
	}
	return []string{"dbt build"}
}

// Default demo identifiers, so tests and docs can name them.
const (
	DemoAccountID      = 1
	DemoToken          = "dbtc_emulator_demo_token"
	DemoIPBlockedToken = "dbtc_emulator_ip_restricted_token"
	// Service tokens of account 1 with narrower permission sets than DemoToken's Account Admin.
	DemoAnalystToken      = "dbtc_emulator_analyst_token"       // "analyst": Analyst on all projects (reads, never runs)
	DemoMetadataOnlyToken = "dbtc_emulator_metadata_only_token" // "metadata": Metadata Only (Discovery API only: every Admin API call is a 403)
	DemoJobRunnerToken    = "dbtc_emulator_job_runner_token"    // "runner": Job Runner on project 101 only
	OtherAccountID        = 2
	OtherToken            = "dbtc_emulator_other_account_token"

	DemoProjectID       = 101 // "analytics"
	DemoLegacyProjectID = 102 // "analytics_legacy": a second project so name lookups can be ambiguous
	DemoProductionEnvID = 201
	DemoStagingEnvID    = 202
	DemoLegacyProdEnvID = 203

	DemoDailyJobID   = 301 // "daily build": succeeds
	DemoFailingJobID = 302 // "failing build": dbt run then dbt test; the test step fails
	DemoSlowJobID    = 303 // "slow build": 20 minutes, times out after 15
	DemoDocsJobID    = 304 // "docs build": generates docs and source freshness
	DemoStagingJobID = 305 // "daily build" in Staging: same name as 301, another environment
	DemoLegacyJobID  = 306 // "daily build" in analytics_legacy/Production
)

// DefaultSeed returns the demo seed: account 1 with token DemoToken (Account Admin) and service tokens
// DemoAnalystToken, DemoMetadataOnlyToken and DemoJobRunnerToken, project "analytics" (environments "Production"
// and "Staging") holding a succeeding job, a failing job, a slow job that times out and a docs-generating job, and a
// second project "analytics_legacy" whose names overlap, so callers can test ambiguous name lookups. Account 2 exists
// so cross-account access can be tested.
func DefaultSeed() *Seed {
	one := 1
	fail2 := 2
	return &Seed{Accounts: []SeedAccount{
		{
			ID: DemoAccountID, Name: "Emulated Jaffle Shop", Plan: "team", RunSlots: 2,
			Tokens: []string{DemoToken}, IPRestrictedTokens: []string{DemoIPBlockedToken},
			ServiceTokens: []SeedServiceToken{
				{Name: "analyst", Token: DemoAnalystToken, PermissionSets: []string{string(PermissionAnalyst)}},
				{Name: "metadata", Token: DemoMetadataOnlyToken, PermissionSets: []string{string(PermissionMetadataOnly)}},
				{Name: "runner", Token: DemoJobRunnerToken, PermissionSets: []string{string(PermissionJobRunner)}, ProjectIDs: []int64{DemoProjectID}},
			},
			Projects: []SeedProject{
				{ID: DemoProjectID, Name: "analytics", Environments: []SeedEnvironment{
					{ID: DemoProductionEnvID, Name: "Production", DeploymentType: "production", Jobs: []SeedJob{
						{ID: DemoDailyJobID, Name: "daily build", ExecuteSteps: []string{"dbt build"}, Cron: "0 6 * * *",
							Behaviour: SeedBehaviour{StepSeconds: []float64{60}}},
						{ID: DemoFailingJobID, Name: "failing build", ExecuteSteps: []string{"dbt run", "dbt test"},
							Behaviour: SeedBehaviour{Outcome: "error", FailStep: &fail2, StepSeconds: []float64{40, 20}}},
						{ID: DemoSlowJobID, Name: "slow build", ExecuteSteps: []string{"dbt build"}, TimeoutSeconds: 900,
							Behaviour: SeedBehaviour{StepSeconds: []float64{1200}}},
						{ID: DemoDocsJobID, Name: "docs build", ExecuteSteps: []string{"dbt build"}, GenerateDocs: true,
							RunGenerateSources: true, Behaviour: SeedBehaviour{StepSeconds: []float64{45, 15}}},
					}},
					{ID: DemoStagingEnvID, Name: "Staging", DeploymentType: "staging", Jobs: []SeedJob{
						{ID: DemoStagingJobID, Name: "daily build", ExecuteSteps: []string{"dbt build --target staging"},
							Threads: 8, TargetName: "staging", Behaviour: SeedBehaviour{StepSeconds: []float64{30}}},
					}},
				}},
				{ID: DemoLegacyProjectID, Name: "analytics_legacy", Environments: []SeedEnvironment{
					{ID: DemoLegacyProdEnvID, Name: "Production", DeploymentType: "production", DBTVersion: "1.5.0-latest", Jobs: []SeedJob{
						{ID: DemoLegacyJobID, Name: "daily build", ExecuteSteps: []string{"dbt seed", "dbt run"},
							Behaviour: SeedBehaviour{Outcome: "error", FailStep: &one, StepSeconds: []float64{10, 20}}},
					}},
				}},
			},
		},
		{
			ID: OtherAccountID, Name: "Someone Else's Account", Plan: "enterprise", RunSlots: 1,
			Tokens: []string{OtherToken},
			Projects: []SeedProject{
				{ID: 111, Name: "analytics", Environments: []SeedEnvironment{
					{ID: 211, Name: "Production", DeploymentType: "production", Jobs: []SeedJob{
						{ID: 311, Name: "daily build"},
					}},
				}},
			},
		},
	}}
}

func secondsOr(p *float64, def float64) time.Duration {
	if p == nil {
		return seconds(def)
	}
	return seconds(*p)
}

func seconds(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
