package dbtcloud

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// Object states used by dbt Cloud's state fields and state filters.
const (
	StateActive  = 1
	StateDeleted = 2
)

// IDList is a list of ids that decodes from JSON numbers or numeric strings:
// dbt Cloud sends webhook job_ids as strings although it accepts numbers.
type IDList []int64

// UnmarshalJSON implements json.Unmarshaler.
func (l *IDList) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*l = nil
		return nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("dbtcloud: id list: %w", err)
	}
	out := make(IDList, 0, len(raw))
	for _, r := range raw {
		s := string(bytes.Trim(bytes.TrimSpace(r), `"`))
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("dbtcloud: id list: invalid id %s", r)
		}
		out = append(out, id)
	}
	*l = out
	return nil
}

// Account is a dbt Cloud account.
//
// dbt Cloud API docs: https://docs.getdbt.com/dbt-cloud/api-v2#/operations/Retrieve%20Account
type Account struct {
	ID                      int64     `json:"id"`
	Name                    string    `json:"name"`
	State                   int       `json:"state"`
	Plan                    string    `json:"plan"`
	Identifier              string    `json:"identifier"`
	RunSlots                int       `json:"run_slots"`
	QueueLimit              int       `json:"queue_limit"`
	DeveloperSeats          int       `json:"developer_seats"`
	ReadOnlySeats           int       `json:"read_only_seats"`
	RunDurationLimitSeconds int       `json:"run_duration_limit_seconds"`
	Locked                  bool      `json:"locked"`
	LockReason              string    `json:"lock_reason"`
	PendingCancel           bool      `json:"pending_cancel"`
	DocsJobID               int64     `json:"docs_job_id"`
	FreshnessJobID          int64     `json:"freshness_job_id"`
	CreatedAt               Timestamp `json:"created_at"`
	UpdatedAt               Timestamp `json:"updated_at"`
}

// Project is a dbt Cloud project (v3 API).
//
// dbt Cloud API docs: https://docs.getdbt.com/dbt-cloud/api-v3#/operations/Retrieve%20Project
type Project struct {
	ID           int64  `json:"id"`
	AccountID    int64  `json:"account_id"`
	Name         string `json:"name"`
	Description  string `json:"description"`
	State        int    `json:"state"`
	ConnectionID int64  `json:"connection_id"`
	RepositoryID int64  `json:"repository_id"`
	// Connection is the project's warehouse connection with its details,
	// which dbt Cloud's project answers carry; nil when it has none.
	Connection             *Connection `json:"connection,omitempty"`
	DBTProjectSubdirectory string      `json:"dbt_project_subdirectory"`
	DocsJobID              int64       `json:"docs_job_id"`
	FreshnessJobID         int64       `json:"freshness_job_id"`
	SkippedSetup           bool        `json:"skipped_setup"`
	CreatedAt              Timestamp   `json:"created_at"`
	UpdatedAt              Timestamp   `json:"updated_at"`
}

// Environment is a dbt Cloud environment (v3 API).
//
// dbt Cloud API docs: https://docs.getdbt.com/dbt-cloud/api-v3#/operations/Retrieve%20Projects%20Environment
type Environment struct {
	ID            int64  `json:"id"`
	AccountID     int64  `json:"account_id"`
	ProjectID     int64  `json:"project_id"`
	ConnectionID  int64  `json:"connection_id"`
	CredentialsID int64  `json:"credentials_id"`
	RepositoryID  int64  `json:"repository_id"`
	Name          string `json:"name"`
	// Type is "deployment" or "development".
	Type string `json:"type"`
	// DeploymentType is "production", "staging" or empty (general).
	DeploymentType         string    `json:"deployment_type"`
	DBTVersion             string    `json:"dbt_version"`
	RawDBTVersion          string    `json:"raw_dbt_version"`
	UseCustomBranch        bool      `json:"use_custom_branch"`
	CustomBranch           string    `json:"custom_branch"`
	SupportsDocs           bool      `json:"supports_docs"`
	DBTProjectSubdirectory string    `json:"dbt_project_subdirectory"`
	State                  int       `json:"state"`
	CreatedAt              Timestamp `json:"created_at"`
	UpdatedAt              Timestamp `json:"updated_at"`
}

// Job is a dbt Cloud job definition.
//
// dbt Cloud API docs: https://docs.getdbt.com/dbt-cloud/api-v2#/operations/Retrieve%20Job
type Job struct {
	ID                       int64        `json:"id"`
	AccountID                int64        `json:"account_id"`
	ProjectID                int64        `json:"project_id"`
	EnvironmentID            int64        `json:"environment_id"`
	Name                     string       `json:"name"`
	Description              string       `json:"description"`
	DBTVersion               string       `json:"dbt_version"`
	ExecuteSteps             []string     `json:"execute_steps"`
	State                    int          `json:"state"`
	JobType                  string       `json:"job_type"`
	DeferringJobDefinitionID int64        `json:"deferring_job_definition_id"`
	DeferringEnvironmentID   int64        `json:"deferring_environment_id"`
	Triggers                 JobTriggers  `json:"triggers"`
	Settings                 JobSettings  `json:"settings"`
	Schedule                 JobSchedule  `json:"schedule"`
	Execution                JobExecution `json:"execution"`
	GenerateDocs             bool         `json:"generate_docs"`
	RunGenerateSources       bool         `json:"run_generate_sources"`
	CronHumanized            string       `json:"cron_humanized"`
	NextRun                  Timestamp    `json:"next_run"`
	CreatedAt                Timestamp    `json:"created_at"`
	UpdatedAt                Timestamp    `json:"updated_at"`

	// Present only with the matching include_related value.
	Environment            *Environment `json:"environment,omitempty"`
	MostRecentRun          *Run         `json:"most_recent_run,omitempty"`
	MostRecentCompletedRun *Run         `json:"most_recent_completed_run,omitempty"`
}

// JobTriggers says what starts a job's runs.
type JobTriggers struct {
	GitHubWebhook      bool `json:"github_webhook"`
	GitProviderWebhook bool `json:"git_provider_webhook"`
	Schedule           bool `json:"schedule"`
	OnMerge            bool `json:"on_merge"`
	CustomBranchOnly   bool `json:"custom_branch_only"`
}

// JobSettings are a job's dbt settings.
type JobSettings struct {
	Threads    int    `json:"threads"`
	TargetName string `json:"target_name"`
}

// JobExecution holds a job's execution limits; 0 means no timeout.
type JobExecution struct {
	TimeoutSeconds int `json:"timeout_seconds"`
}

// JobSchedule is a job's schedule. Date and Time are kept loosely typed
// because their shape depends on their "type".
type JobSchedule struct {
	Cron string          `json:"cron"`
	Date json.RawMessage `json:"date,omitempty"`
	Time json.RawMessage `json:"time,omitempty"`
}

// Run is one execution of a job.
//
// dbt Cloud API docs: https://docs.getdbt.com/dbt-cloud/api-v2#/operations/Retrieve%20Run
type Run struct {
	ID              int64 `json:"id"`
	TriggerID       int64 `json:"trigger_id"`
	AccountID       int64 `json:"account_id"`
	ProjectID       int64 `json:"project_id"`
	EnvironmentID   int64 `json:"environment_id"`
	JobDefinitionID int64 `json:"job_definition_id"`
	// JobID equals JobDefinitionID.
	JobID           int64     `json:"job_id"`
	Status          RunStatus `json:"status"`
	StatusHumanized string    `json:"status_humanized"`
	// StatusMessage explains an error or cancellation ("Cancelled by user.").
	StatusMessage string `json:"status_message"`
	Href          string `json:"href"`
	DBTVersion    string `json:"dbt_version"`
	GitBranch     string `json:"git_branch"`
	GitSHA        string `json:"git_sha"`

	InProgress  bool `json:"in_progress"`
	IsComplete  bool `json:"is_complete"`
	IsSuccess   bool `json:"is_success"`
	IsError     bool `json:"is_error"`
	IsCancelled bool `json:"is_cancelled"`
	// IsRunning is often null, hence the pointer.
	IsRunning *bool `json:"is_running"`

	ArtifactsSaved      bool    `json:"artifacts_saved"`
	ArtifactS3Path      string  `json:"artifact_s3_path"`
	HasDocsGenerated    bool    `json:"has_docs_generated"`
	HasSourcesGenerated bool    `json:"has_sources_generated"`
	NotificationsSent   bool    `json:"notifications_sent"`
	BlockedBy           []int64 `json:"blocked_by"`
	DeferringRunID      int64   `json:"deferring_run_id"`
	ExecutedByThreadID  string  `json:"executed_by_thread_id"`
	OwnerThreadID       string  `json:"owner_thread_id"`

	CanRetry bool `json:"can_retry"`
	// RetryNotSupportedReason is e.g. RETRY_UNSUPPORTED_CMD or RETRY_NOT_FAILED_RUN.
	RetryNotSupportedReason string `json:"retry_not_supported_reason"`
	RetryingRunID           int64  `json:"retrying_run_id"`

	CreatedAt       Timestamp `json:"created_at"`
	UpdatedAt       Timestamp `json:"updated_at"`
	DequeuedAt      Timestamp `json:"dequeued_at"`
	StartedAt       Timestamp `json:"started_at"`
	FinishedAt      Timestamp `json:"finished_at"`
	LastCheckedAt   Timestamp `json:"last_checked_at"`
	LastHeartbeatAt Timestamp `json:"last_heartbeat_at"`
	ShouldStartAt   Timestamp `json:"should_start_at"`

	// Durations are "HH:MM:SS" strings, with human text alongside.
	Duration                string `json:"duration"`
	QueuedDuration          string `json:"queued_duration"`
	RunDuration             string `json:"run_duration"`
	DurationHumanized       string `json:"duration_humanized"`
	QueuedDurationHumanized string `json:"queued_duration_humanized"`
	RunDurationHumanized    string `json:"run_duration_humanized"`
	CreatedAtHumanized      string `json:"created_at_humanized"`
	FinishedAtHumanized     string `json:"finished_at_humanized"`

	// Present only with the matching include_related value.
	Trigger     *RunTrigger  `json:"trigger,omitempty"`
	Job         *Job         `json:"job,omitempty"`
	Environment *Environment `json:"environment,omitempty"`
	RunSteps    []RunStep    `json:"run_steps,omitempty"`
}

// RunTrigger records why and with which overrides a run was started.
type RunTrigger struct {
	ID                     int64     `json:"id"`
	Cause                  string    `json:"cause"`
	CauseCategory          string    `json:"cause_category"`
	JobDefinitionID        int64     `json:"job_definition_id"`
	GitBranch              string    `json:"git_branch"`
	GitSHA                 string    `json:"git_sha"`
	GitHubPullRequestID    int64     `json:"github_pull_request_id"`
	GitLabMergeRequestID   int64     `json:"gitlab_merge_request_id"`
	AzurePullRequestID     int64     `json:"azure_pull_request_id"`
	NonNativePullRequestID int64     `json:"non_native_pull_request_id"`
	SchemaOverride         string    `json:"schema_override"`
	DBTVersionOverride     string    `json:"dbt_version_override"`
	ThreadsOverride        int       `json:"threads_override"`
	TargetNameOverride     string    `json:"target_name_override"`
	GenerateDocsOverride   *bool     `json:"generate_docs_override"`
	TimeoutSecondsOverride int       `json:"timeout_seconds_override"`
	StepsOverride          []string  `json:"steps_override"`
	CreatedAt              Timestamp `json:"created_at"`
}

// RunStep is one step of a run (clone, profile, deps, then one per command).
type RunStep struct {
	ID                 int64     `json:"id"`
	RunID              int64     `json:"run_id"`
	AccountID          int64     `json:"account_id"`
	Index              int       `json:"index"`
	Name               string    `json:"name"`
	Status             RunStatus `json:"status"`
	StatusHumanized    string    `json:"status_humanized"`
	Logs               string    `json:"logs"`
	DebugLogs          string    `json:"debug_logs"`
	TruncatedDebugLogs string    `json:"truncated_debug_logs"`
	LogPath            string    `json:"log_path"`
	DebugLogPath       string    `json:"debug_log_path"`
	Duration           string    `json:"duration"`
	DurationHumanized  string    `json:"duration_humanized"`
	StartedAt          Timestamp `json:"started_at"`
	FinishedAt         Timestamp `json:"finished_at"`
	CreatedAt          Timestamp `json:"created_at"`
	UpdatedAt          Timestamp `json:"updated_at"`
}

// RunFailureDetails says where a failed run stopped, as returned by
// GET .../runs/{id}/retry/.
type RunFailureDetails struct {
	FailedStep   string   `json:"failed_step"`
	SkippedSteps []string `json:"skipped_steps"`
}

// WebhookSubscription is a v3 webhook subscription.
//
// dbt Cloud API docs: https://docs.getdbt.com/dbt-cloud/api-v3#/operations/Retrieve%20Webhooks%20Subscription
type WebhookSubscription struct {
	// ID looks like "wsu_...".
	ID          string   `json:"id"`
	AccountID   int64    `json:"account_id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	ClientURL   string   `json:"client_url"`
	EventTypes  []string `json:"event_types"`
	// JobIDs is empty for "all jobs". dbt Cloud answers with strings.
	JobIDs           IDList    `json:"job_ids"`
	Active           bool      `json:"active"`
	HTTPStatusCode   string    `json:"http_status_code"`
	DispatchedAt     Timestamp `json:"dispatched_at"`
	DeactivateReason string    `json:"deactivate_reason"`
	// HMACSecret is returned only by Create; keep it secret.
	HMACSecret string `json:"hmac_secret,omitempty"`
}

// WebhookSubscriptionRequest creates or updates a webhook subscription.
type WebhookSubscriptionRequest struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	ClientURL   string   `json:"client_url"`
	EventTypes  []string `json:"event_types"`
	// JobIDs empty means all jobs.
	JobIDs []int64 `json:"job_ids"`
	Active bool    `json:"active"`
}

// Webhook event types.
const (
	EventJobRunStarted   = "job.run.started"
	EventJobRunCompleted = "job.run.completed"
	EventJobRunErrored   = "job.run.errored"
)
