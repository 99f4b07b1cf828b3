package emulator

import (
	"fmt"
	"strings"
	"time"
)

// The emulator's own wire structs. They are written from the contract (CONTRACT.md, the OpenAPI specs and the
// recorded responses), deliberately not shared with package dbtcloud, so the client and the emulator check each
// other.

// Timestamp layouts dbt Cloud uses: runs have a space between date and time; jobs, accounts and v2 objects use T
// with a +00:00 offset; v3 projects and environments come with T and Z here, to keep clients honest about both.
const (
	runTimeLayout = "2006-01-02 15:04:05.000000-07:00"
	objTimeLayout = "2006-01-02T15:04:05.000000-07:00"
	v3TimeLayout  = "2006-01-02T15:04:05.000000Z"
)

func runTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(runTimeLayout)
	return &s
}

func objTime(t time.Time) string { return t.UTC().Format(objTimeLayout) }
func v3Time(t time.Time) string  { return t.UTC().Format(v3TimeLayout) }

// clockDuration formats d as dbt Cloud's "HH:MM:SS".
func clockDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
}

// humanize formats d like dbt Cloud's *_humanized fields: the two largest non-zero units ("1 minute, 50 seconds",
// "2 weeks, 1 day"), and "0 minutes" for nothing.
func humanize(d time.Duration) string {
	s := int64(d / time.Second)
	if s <= 0 {
		return "0 minutes"
	}
	units := []struct {
		name string
		secs int64
	}{{"year", 365 * 86400}, {"month", 30 * 86400}, {"week", 7 * 86400}, {"day", 86400}, {"hour", 3600}, {"minute", 60}, {"second", 1}}
	var parts []string
	for i, u := range units {
		if n := s / u.secs; n > 0 {
			parts = append(parts, plural(n, u.name))
			s -= n * u.secs
			if i+1 < len(units) {
				if m := s / units[i+1].secs; m > 0 {
					parts = append(parts, plural(m, units[i+1].name))
				}
			}
			break
		}
	}
	return strings.Join(parts, ", ")
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

func ptr[T any](v T) *T { return &v }

// ---- accounts ----

type wireAccount struct {
	ID                             int64   `json:"id"`
	Name                           string  `json:"name"`
	State                          int     `json:"state"`
	Plan                           string  `json:"plan"`
	PendingCancel                  bool    `json:"pending_cancel"`
	RunSlots                       int     `json:"run_slots"`
	DeveloperSeats                 int     `json:"developer_seats"`
	ITSeats                        int     `json:"it_seats"`
	ExplorerSeats                  int     `json:"explorer_seats"`
	AnalystSeats                   int     `json:"analyst_seats"`
	ReadOnlySeats                  int     `json:"read_only_seats"`
	QueueLimit                     int     `json:"queue_limit"`
	PodMemoryRequestMebibytes      int     `json:"pod_memory_request_mebibytes"`
	DevelopPodMemoryRequestMib     int     `json:"develop_pod_memory_request_mebibytes"`
	RunDurationLimitSeconds        int     `json:"run_duration_limit_seconds"`
	EnterpriseAuthenticationMethod *string `json:"enterprise_authentication_method"`
	EnterpriseLoginSlug            *string `json:"enterprise_login_slug"`
	EnterpriseUniqueIdentifier     *string `json:"enterprise_unique_identifier"`
	BillingEmailAddress            *string `json:"billing_email_address"`
	Locked                         bool    `json:"locked"`
	LockReason                     *string `json:"lock_reason"`
	LockCause                      *string `json:"lock_cause"`
	UnlockIfSubscriptionRenewed    bool    `json:"unlock_if_subscription_renewed"`
	UnlockedAt                     *string `json:"unlocked_at"`
	DevelopFileSystem              bool    `json:"develop_file_system"`
	BusinessCritical               bool    `json:"business_critical"`
	StarterRepoURL                 *string `json:"starter_repo_url"`
	SSOReauth                      bool    `json:"sso_reauth"`
	GitAuthLevel                   string  `json:"git_auth_level"`
	Identifier                     string  `json:"identifier"`
	TrialEndDate                   *string `json:"trial_end_date"`
	StaticSubdomain                *string `json:"static_subdomain"`
	VanitySubdomain                *string `json:"vanity_subdomain"`
	RunLockedUntil                 *string `json:"run_locked_until"`
	CopilotLockedUntil             *string `json:"copilot_locked_until"`
	AgentCreditLocked              bool    `json:"agent_credit_locked"`
	AccountMigrationEvents         []any   `json:"account_migration_events"`
	Groups                         []any   `json:"groups"`
	DocsJobID                      *int64  `json:"docs_job_id"`
	FreshnessJobID                 *int64  `json:"freshness_job_id"`
	DocsJob                        any     `json:"docs_job"`
	FreshnessJob                   any     `json:"freshness_job"`
	EnterpriseLoginURL             string  `json:"enterprise_login_url"`
	CreatedAt                      string  `json:"created_at"`
	UpdatedAt                      string  `json:"updated_at"`
}

func (e *Emulator) wireAccount(a *account, base string) wireAccount {
	return wireAccount{
		ID: a.id, Name: a.name, State: 1, Plan: a.plan, RunSlots: a.runSlots, DeveloperSeats: 10, ReadOnlySeats: 10,
		QueueLimit: a.queueLimit, PodMemoryRequestMebibytes: 600, DevelopPodMemoryRequestMib: 600,
		RunDurationLimitSeconds: 86400, DevelopFileSystem: true, GitAuthLevel: "team",
		Identifier: fmt.Sprintf("emulated-%d", a.id), AccountMigrationEvents: []any{}, Groups: []any{},
		EnterpriseLoginURL: base + "/enterprise-login/None/",
		CreatedAt:          objTime(a.createdAt), UpdatedAt: objTime(a.createdAt),
	}
}

// ---- projects and environments (v3) ----

type wireProject struct {
	ID                     int64   `json:"id"`
	Name                   string  `json:"name"`
	AccountID              int64   `json:"account_id"`
	Description            string  `json:"description"`
	ConnectionID           *int64  `json:"connection_id"`
	RepositoryID           *int64  `json:"repository_id"`
	SemanticLayerConfigID  *int64  `json:"semantic_layer_config_id"`
	SkippedSetup           bool    `json:"skipped_setup"`
	State                  int     `json:"state"`
	DBTProjectSubdirectory *string `json:"dbt_project_subdirectory"`
	DocsJobID              *int64  `json:"docs_job_id"`
	FreshnessJobID         *int64  `json:"freshness_job_id"`
	Type                   int     `json:"type"`
	CreatedAt              string  `json:"created_at"`
	UpdatedAt              string  `json:"updated_at"`
	Connection             any     `json:"connection"`
	Environments           any     `json:"environments"`
	Repository             any     `json:"repository"`
	GroupPermissions       any     `json:"group_permissions"`
	DocsJob                any     `json:"docs_job"`
	FreshnessJob           any     `json:"freshness_job"`
	FusionReadiness        any     `json:"fusion_readiness"`
	DefaultVersion         *string `json:"default_version"`
}

func (e *Emulator) wireProject(p *project) wireProject {
	wp := wireProject{
		ID: p.id, Name: p.name, AccountID: p.accountID, Description: p.description, ConnectionID: p.connID,
		RepositoryID: p.repoID, DBTProjectSubdirectory: p.subdirectory,
		State: p.state, CreatedAt: v3Time(p.createdAt), UpdatedAt: v3Time(p.updatedAt), GroupPermissions: []any{},
		DefaultVersion: ptr("latest"),
	}
	for _, j := range e.jobsSorted() {
		if j.state != stateActive {
			continue
		}
		if j.projectID == p.id && j.generateDocs && wp.DocsJobID == nil {
			wp.DocsJobID = ptr(j.id)
		}
		if j.projectID == p.id && j.generateSources && wp.FreshnessJobID == nil {
			wp.FreshnessJobID = ptr(j.id)
		}
	}
	return wp
}

type wireEnvironment struct {
	ID                      int64   `json:"id"`
	AccountID               int64   `json:"account_id"`
	ProjectID               int64   `json:"project_id"`
	ConnectionID            *int64  `json:"connection_id"`
	RepositoryID            *int64  `json:"repository_id"`
	CredentialsID           *int64  `json:"credentials_id"`
	ExtendedAttributesID    *int64  `json:"extended_attributes_id"`
	CreatedByID             *int64  `json:"created_by_id"`
	Name                    string  `json:"name"`
	DBTVersion              string  `json:"dbt_version"`
	RawDBTVersion           string  `json:"raw_dbt_version"`
	Type                    string  `json:"type"`
	UseCustomBranch         bool    `json:"use_custom_branch"`
	CustomBranch            *string `json:"custom_branch"`
	SupportsDocs            bool    `json:"supports_docs"`
	DeploymentType          *string `json:"deployment_type"`
	IsDeferrable            bool    `json:"is_deferrable"`
	EnableModelQueryHistory bool    `json:"enable_model_query_history"`
	DBTProjectSubdirectory  *string `json:"dbt_project_subdirectory"`
	State                   int     `json:"state"`
	CreatedAt               string  `json:"created_at"`
	UpdatedAt               string  `json:"updated_at"`
	Project                 any     `json:"project"`
	Credentials             any     `json:"credentials"`
	FusionReadiness         any     `json:"fusion_readiness"`
	// The recorded environment answers carry these too: the related connection and repository (the project's),
	// and jobs and custom_environment_variables, null unless asked for (the emulator never fills them).
	Connection                 any `json:"connection"`
	Repository                 any `json:"repository"`
	Jobs                       any `json:"jobs"`
	CustomEnvironmentVariables any `json:"custom_environment_variables"`
}

func (e *Emulator) wireEnvironment(en *environment, v3 bool) wireEnvironment {
	ts := objTime
	if v3 {
		ts = v3Time
	}
	we := wireEnvironment{
		ID: en.id, AccountID: en.accountID, ProjectID: en.projectID, Name: en.name, DBTVersion: en.dbtVersion,
		RawDBTVersion: en.dbtVersion, Type: en.envType, State: en.state, CreatedAt: ts(en.createdAt),
		UpdatedAt: ts(en.updatedAt), IsDeferrable: en.deployType == "production", CredentialsID: en.credentialsID,
		UseCustomBranch: en.useCustomBranch, CustomBranch: en.customBranch,
	}
	// An environment uses its project's connection and repository.
	if p := e.projects[en.projectID]; p != nil {
		we.ConnectionID, we.RepositoryID = p.connID, p.repoID
		if v3 && p.connID != nil && e.conns[*p.connID] != nil {
			we.Connection = e.wireConnection(e.conns[*p.connID])
		}
		if v3 && p.repoID != nil && e.repos[*p.repoID] != nil {
			we.Repository = e.wireRepository(e.repos[*p.repoID])
		}
	}
	if en.deployType != "" {
		we.DeploymentType = ptr(en.deployType)
	}
	for _, j := range e.jobs {
		if j.envID == en.id && j.generateDocs && j.state == stateActive {
			we.SupportsDocs = true
		}
	}
	return we
}

// ---- jobs ----

type wireJob struct {
	ID                            int64            `json:"id"`
	AccountID                     int64            `json:"account_id"`
	ProjectID                     int64            `json:"project_id"`
	EnvironmentID                 int64            `json:"environment_id"`
	Name                          string           `json:"name"`
	Description                   string           `json:"description"`
	DBTVersion                    *string          `json:"dbt_version"`
	RawDBTVersion                 *string          `json:"raw_dbt_version"`
	CreatedAt                     string           `json:"created_at"`
	UpdatedAt                     string           `json:"updated_at"`
	ExecuteSteps                  []string         `json:"execute_steps"`
	State                         int              `json:"state"`
	DeferringJobDefinitionID      *int64           `json:"deferring_job_definition_id"`
	DeferringEnvironmentID        *int64           `json:"deferring_environment_id"`
	LifecycleWebhooks             bool             `json:"lifecycle_webhooks"`
	LifecycleWebhooksURL          *string          `json:"lifecycle_webhooks_url"`
	Triggers                      wireJobTriggers  `json:"triggers"`
	Settings                      wireJobSettings  `json:"settings"`
	Schedule                      wireJobSchedule  `json:"schedule"`
	Execution                     wireJobExecution `json:"execution"`
	GenerateDocs                  bool             `json:"generate_docs"`
	RunGenerateSources            bool             `json:"run_generate_sources"`
	GenerateSources               bool             `json:"generate_sources"`
	IsDeferrable                  bool             `json:"is_deferrable"`
	JobType                       string           `json:"job_type"`
	RunCompareChanges             bool             `json:"run_compare_changes"`
	RunLint                       bool             `json:"run_lint"`
	ErrorsOnLintFailure           bool             `json:"errors_on_lint_failure"`
	CostOptimizationFeatures      []string         `json:"cost_optimization_features"`
	TriggersOnDraftPR             bool             `json:"triggers_on_draft_pr"`
	RunFailureCount               int              `json:"run_failure_count"`
	JobCompletionTriggerCondition any              `json:"job_completion_trigger_condition"`
	CronHumanized                 string           `json:"cron_humanized"`
	NextRun                       *string          `json:"next_run"`
	NextRunHumanized              *string          `json:"next_run_humanized"`
	Account                       any              `json:"account"`
	Project                       any              `json:"project"`
	Environment                   any              `json:"environment"`
	FusionReadiness               any              `json:"fusion_readiness"`
	MostRecentRun                 any              `json:"most_recent_run,omitempty"`
	MostRecentCompletedRun        any              `json:"most_recent_completed_run,omitempty"`
}

type wireJobTriggers struct {
	GithubWebhook      bool `json:"github_webhook"`
	GitProviderWebhook bool `json:"git_provider_webhook"`
	Schedule           bool `json:"schedule"`
	OnMerge            bool `json:"on_merge"`
	CustomBranchOnly   bool `json:"custom_branch_only"`
}

type wireJobSettings struct {
	Threads    int    `json:"threads"`
	TargetName string `json:"target_name"`
}

type wireJobSchedule struct {
	Cron string         `json:"cron"`
	Date map[string]any `json:"date"`
	Time map[string]any `json:"time"`
}

type wireJobExecution struct {
	TimeoutSeconds int `json:"timeout_seconds"`
}

func (e *Emulator) wireJob(j *job, rel map[string]bool, base string) wireJob {
	cron := j.cron
	if cron == "" {
		cron = "0 * * * *"
	}
	wj := wireJob{
		ID: j.id, AccountID: j.accountID, ProjectID: j.projectID, EnvironmentID: j.envID, Name: j.name,
		Description: j.description, DBTVersion: j.dbtVersion, RawDBTVersion: j.dbtVersion,
		CreatedAt: objTime(j.createdAt), UpdatedAt: objTime(j.updatedAt), ExecuteSteps: j.commands, State: j.state,
		Triggers: j.triggers,
		Settings: wireJobSettings{Threads: j.threads, TargetName: j.targetName},
		Schedule: wireJobSchedule{Cron: cron, Date: map[string]any{"type": "custom_cron", "cron": cron},
			Time: map[string]any{"type": "every_hour", "interval": 1}},
		Execution:    wireJobExecution{TimeoutSeconds: j.timeoutSeconds},
		GenerateDocs: j.generateDocs, RunGenerateSources: j.generateSources, GenerateSources: j.generateSources,
		JobType: j.jobType, ErrorsOnLintFailure: true, CostOptimizationFeatures: []string{},
		CronHumanized: "Custom cron: " + cron,
	}
	for _, r := range e.runs {
		if r.jobID == j.id && r.status == StatusError {
			wj.RunFailureCount++
		}
	}
	if rel["environment"] {
		wj.Environment = e.wireEnvironment(e.envs[j.envID], false)
	}
	if rel["project"] {
		wj.Project = e.wireProject(e.projects[j.projectID])
	}
	if rel["most_recent_run"] {
		if r := e.latestRun(j.id); r != nil {
			wj.MostRecentRun = e.wireRun(r, nil, base)
		}
	}
	if rel["most_recent_completed_run"] {
		var last *run
		for _, r := range e.runs {
			if r.jobID == j.id && terminal(r.status) && (last == nil || r.id > last.id) {
				last = r
			}
		}
		if last != nil {
			wj.MostRecentCompletedRun = e.wireRun(last, nil, base)
		}
	}
	return wj
}

// ---- runs ----

type wireRun struct {
	ID                      int64        `json:"id"`
	TriggerID               int64        `json:"trigger_id"`
	AccountID               int64        `json:"account_id"`
	EnvironmentID           int64        `json:"environment_id"`
	ProjectID               int64        `json:"project_id"`
	JobDefinitionID         int64        `json:"job_definition_id"`
	JobID                   int64        `json:"job_id"`
	Status                  int          `json:"status"`
	DBTVersion              string       `json:"dbt_version"`
	GitBranch               string       `json:"git_branch"`
	GitSHA                  string       `json:"git_sha"`
	StatusMessage           *string      `json:"status_message"`
	OwnerThreadID           *string      `json:"owner_thread_id"`
	ExecutedByThreadID      *string      `json:"executed_by_thread_id"`
	DeferringRunID          *int64       `json:"deferring_run_id"`
	ArtifactsSaved          bool         `json:"artifacts_saved"`
	ArtifactS3Path          *string      `json:"artifact_s3_path"`
	HasDocsGenerated        bool         `json:"has_docs_generated"`
	HasSourcesGenerated     bool         `json:"has_sources_generated"`
	NotificationsSent       bool         `json:"notifications_sent"`
	BlockedBy               []int64      `json:"blocked_by"`
	ScribeEnabled           bool         `json:"scribe_enabled"`
	CreatedAt               *string      `json:"created_at"`
	UpdatedAt               *string      `json:"updated_at"`
	DequeuedAt              *string      `json:"dequeued_at"`
	StartedAt               *string      `json:"started_at"`
	FinishedAt              *string      `json:"finished_at"`
	LastCheckedAt           *string      `json:"last_checked_at"`
	LastHeartbeatAt         *string      `json:"last_heartbeat_at"`
	ShouldStartAt           *string      `json:"should_start_at"`
	Trigger                 *wireTrigger `json:"trigger"`
	Job                     *wireJob     `json:"job"`
	Environment             any          `json:"environment"`
	RunSteps                []wireStep   `json:"run_steps"`
	RunRetries              []wireRun    `json:"run_retries,omitempty"`
	StatusHumanized         string       `json:"status_humanized"`
	InProgress              bool         `json:"in_progress"`
	IsComplete              bool         `json:"is_complete"`
	IsSuccess               bool         `json:"is_success"`
	IsError                 bool         `json:"is_error"`
	IsCancelled             bool         `json:"is_cancelled"`
	IsRunning               *bool        `json:"is_running"`
	Href                    string       `json:"href"`
	Duration                string       `json:"duration"`
	QueuedDuration          string       `json:"queued_duration"`
	RunDuration             string       `json:"run_duration"`
	DurationHumanized       string       `json:"duration_humanized"`
	QueuedDurationHumanized string       `json:"queued_duration_humanized"`
	RunDurationHumanized    string       `json:"run_duration_humanized"`
	CreatedAtHumanized      string       `json:"created_at_humanized"`
	FinishedAtHumanized     string       `json:"finished_at_humanized"`
	RetryingRunID           *int64       `json:"retrying_run_id"`
	CanRetry                bool         `json:"can_retry"`
	RetryNotSupportedReason *string      `json:"retry_not_supported_reason"`
	UsedRepoCache           *bool        `json:"used_repo_cache"`
}

type wireTrigger struct {
	ID                     int64    `json:"id"`
	Cause                  string   `json:"cause"`
	CauseCategory          string   `json:"cause_category"`
	JobDefinitionID        int64    `json:"job_definition_id"`
	GitBranch              *string  `json:"git_branch"`
	GitSHA                 *string  `json:"git_sha"`
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
	CreatedAt              *string  `json:"created_at"`
	UpdatedAt              *string  `json:"updated_at"`
}

type wireStep struct {
	ID                 int64   `json:"id"`
	RunID              int64   `json:"run_id"`
	AccountID          int64   `json:"account_id"`
	Index              int     `json:"index"`
	Status             int     `json:"status"`
	Name               string  `json:"name"`
	Logs               string  `json:"logs"`
	DebugLogs          string  `json:"debug_logs"`
	LogPath            *string `json:"log_path"`
	DebugLogPath       *string `json:"debug_log_path"`
	LogLocation        string  `json:"log_location"`
	TruncatedDebugLogs string  `json:"truncated_debug_logs"`
	StatusHumanized    string  `json:"status_humanized"`
	StatusColor        string  `json:"status_color"`
	CreatedAt          *string `json:"created_at"`
	UpdatedAt          *string `json:"updated_at"`
	StartedAt          *string `json:"started_at"`
	FinishedAt         *string `json:"finished_at"`
	Duration           string  `json:"duration"`
	DurationHumanized  string  `json:"duration_humanized"`
}

func (e *Emulator) wireRun(r *run, rel map[string]bool, base string) wireRun {
	now := e.simNow
	end := now
	if !r.finishedAt.IsZero() {
		end = r.finishedAt
	}
	queuedEnd := end
	if !r.dequeuedAt.IsZero() {
		queuedEnd = r.dequeuedAt
	}
	var runDur time.Duration
	if !r.startedAt.IsZero() {
		runDur = end.Sub(r.startedAt)
	}
	w := wireRun{
		ID: r.id, TriggerID: r.trigger.id, AccountID: r.accountID, EnvironmentID: r.envID, ProjectID: r.projectID,
		JobDefinitionID: r.jobID, JobID: r.jobID, Status: r.status, DBTVersion: r.dbtVersion,
		GitBranch: r.gitBranch, GitSHA: r.gitSHA, StatusMessage: r.message, BlockedBy: []int64{},
		ScribeEnabled: true, RunSteps: []wireStep{},
		CreatedAt: runTime(r.createdAt), UpdatedAt: runTime(r.updatedAt), DequeuedAt: runTime(r.dequeuedAt),
		StartedAt: runTime(r.startedAt), FinishedAt: runTime(r.finishedAt),
		StatusHumanized: statusHumanized(r.status), InProgress: r.inProgress(), IsComplete: terminal(r.status),
		IsSuccess: r.status == StatusSuccess, IsError: r.status == StatusError, IsCancelled: r.status == StatusCancelled,
		Href:     fmt.Sprintf("%s/deploy/%d/projects/%d/runs/%d/", base, r.accountID, r.projectID, r.id),
		Duration: clockDuration(end.Sub(r.createdAt)), QueuedDuration: clockDuration(queuedEnd.Sub(r.createdAt)),
		RunDuration: clockDuration(runDur), DurationHumanized: humanize(end.Sub(r.createdAt)),
		QueuedDurationHumanized: humanize(queuedEnd.Sub(r.createdAt)), RunDurationHumanized: humanize(runDur),
		CreatedAtHumanized: humanize(now.Sub(r.createdAt)) + " ago",
	}
	if !r.finishedAt.IsZero() {
		w.FinishedAtHumanized = humanize(now.Sub(r.finishedAt)) + " ago"
	}
	if r.status == StatusQueued {
		w.BlockedBy = e.blockers(r)
	}
	if r.status >= StatusStarting {
		w.ExecutedByThreadID = ptr(fmt.Sprintf("dbt-run-%d-emu", r.id))
	}
	if terminal(r.status) {
		w.NotificationsSent = true
		if e.hasArtifacts(r) {
			w.ArtifactsSaved = true
			w.ArtifactS3Path = ptr(fmt.Sprintf("prod/runs/%d/artifacts/target", r.id))
			w.HasDocsGenerated = e.stepWriting(r, "catalog.json") != nil
			w.HasSourcesGenerated = e.stepWriting(r, "sources.json") != nil
		}
	}
	if r.retryingRun != 0 {
		w.RetryingRunID = ptr(r.retryingRun)
	}
	if reason := e.retryReason(r); reason == "" {
		w.CanRetry = true
	} else {
		w.RetryNotSupportedReason = ptr(reason)
	}
	if rel["trigger"] {
		w.Trigger = e.wireTrigger(r)
	}
	if rel["job"] {
		wj := e.wireJob(e.jobs[r.jobID], nil, base)
		w.Job = &wj
	}
	if rel["environment"] {
		w.Environment = e.wireEnvironment(e.envs[r.envID], false)
	}
	if rel["run_steps"] {
		for _, s := range r.steps {
			if !s.started() {
				continue // dbt Cloud lists a step once it starts
			}
			w.RunSteps = append(w.RunSteps, e.wireStep(r, s, rel["debug_logs"]))
		}
	}
	if rel["run_retries"] {
		w.RunRetries = []wireRun{}
		for _, o := range e.runs {
			if o.retryingRun == r.id {
				w.RunRetries = append(w.RunRetries, e.wireRun(o, nil, base))
			}
		}
	}
	return w
}

func (e *Emulator) wireTrigger(r *run) *wireTrigger {
	t := r.trigger
	return &wireTrigger{
		ID: t.id, Cause: t.cause, CauseCategory: t.causeCategory, JobDefinitionID: r.jobID,
		GitBranch: t.gitBranch, GitSHA: t.gitSHA, AzurePullRequestID: t.azurePR, GithubPullRequestID: t.githubPR,
		GitlabMergeRequestID: t.gitlabMR, NonNativePullRequestID: t.nonNativePR, SchemaOverride: t.schemaOverride,
		DBTVersionOverride: t.dbtVersionOverride, ThreadsOverride: t.threadsOverride,
		TargetNameOverride: t.targetNameOverride, GenerateDocsOverride: t.generateDocsOverride,
		TimeoutSecondsOverride: t.timeoutSecondsOverride, StepsOverride: t.stepsOverride,
		CreatedAt: runTime(t.createdAt), UpdatedAt: runTime(t.createdAt),
	}
}

func (e *Emulator) wireStep(r *run, s *step, fullDebug bool) wireStep {
	end := e.simNow
	if s.finished() {
		end = s.finishedAt
	}
	logs := e.stepLogs(r, s)
	debug := "[debug] " + strings.ReplaceAll(logs, "\n", "\n[debug] ")
	truncated := debug
	if !fullDebug {
		debug = "" // without include_related=debug_logs, dbt Cloud truncates; we send the truncated copy only
	}
	color := map[int]string{StatusRunning: "blue", StatusSuccess: "green", StatusError: "red", StatusCancelled: "gray"}[s.status]
	return wireStep{
		ID: s.id, RunID: r.id, AccountID: r.accountID, Index: s.index, Status: s.status, Name: s.name,
		Logs: logs, DebugLogs: debug, TruncatedDebugLogs: truncated, LogLocation: "db",
		StatusHumanized: statusHumanized(s.status), StatusColor: color,
		CreatedAt: runTime(s.startedAt), UpdatedAt: runTime(end), StartedAt: runTime(s.startedAt),
		FinishedAt: runTime(s.finishedAt),
		Duration:   clockDuration(end.Sub(s.startedAt)), DurationHumanized: humanize(end.Sub(s.startedAt)),
	}
}

func (e *Emulator) jobsSorted() []*job {
	out := make([]*job, 0, len(e.jobs))
	for _, id := range sortedKeys(e.jobs) {
		out = append(out, e.jobs[id])
	}
	return out
}
