package store

import (
	"errors"
	"time"
)

// Sentinel errors. Methods wrap them with context; match with errors.Is.
var (
	// ErrNotFound: the object does not exist. Getters never return nil, nil.
	ErrNotFound = errors.New("not found")
	// ErrExists: an object with the same unique key exists.
	ErrExists = errors.New("already exists")
)

// Dialect names the database behind a Store.
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Connection is a dbt Cloud connection kept in the store. The store never
// sees the token in plain text: SealedToken is the AES-GCM envelope made by
// internal/connection, bound to the connection's name.
type Connection struct {
	Name        string
	Host        string
	AccountID   int64
	SealedToken []byte
	// KeyID names the key SealedToken was sealed with, so that rotation can
	// find the records still on an old key without opening them.
	KeyID     string
	Default   bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Scope is what an API token may do. Each scope includes the ones before it.
type Scope string

// The scopes, weakest first.
const (
	ScopeRead  Scope = "read"
	ScopeWrite Scope = "write"
	ScopeAdmin Scope = "admin"
)

// Allows reports whether a token with scope s may do what needs want.
func (s Scope) Allows(want Scope) bool { return s.rank() >= want.rank() && want.rank() > 0 }

func (s Scope) rank() int {
	switch s {
	case ScopeRead:
		return 1
	case ScopeWrite:
		return 2
	case ScopeAdmin:
		return 3
	}
	return 0
}

// Valid reports whether s is one of the three scopes.
func (s Scope) Valid() bool { return s.rank() > 0 }

// APIToken is a bearer token of the server's API. Only a hash of the
// secret is stored.
type APIToken struct {
	ID   int64
	Name string
	// Prefix is the first characters of the token, shown in listings so a
	// user can tell tokens apart without the secret.
	Prefix     string
	Hash       []byte
	Scope      Scope
	CreatedAt  time.Time
	LastUsedAt time.Time // zero: never used
	RevokedAt  time.Time // zero: active
}

// RunState is where a tracked run is. The dbt Cloud states mirror the run
// status codes; Pending and Failed are dbtlink's own.
type RunState string

// The run states.
const (
	// RunPending: recorded, dbt Cloud not yet known to have a run.
	RunPending   RunState = "pending"
	RunQueued    RunState = "queued"
	RunStarting  RunState = "starting"
	RunRunning   RunState = "running"
	RunSuccess   RunState = "success"
	RunError     RunState = "error"
	RunCancelled RunState = "cancelled"
	// RunFailed: dbt Cloud refused the trigger or it could not be made; no
	// dbt Cloud run exists.
	RunFailed RunState = "failed"
)

// RunErrorCode is why a run is in state failed, as a word clients branch on
// (the API's error_code; the CLI's exit code comes from it). Error says the
// same in words, with details.
type RunErrorCode string

// The run error codes. New codes may be added; a client that does not know
// one treats it as a plain failure.
const (
	// RunErrTriggerAuth: dbt Cloud answered the trigger 401 or 403 (bad
	// token, or one without access to the job).
	RunErrTriggerAuth RunErrorCode = "trigger_auth"
	// RunErrTriggerNotFound: dbt Cloud answered the trigger 404 (no such
	// job in the account).
	RunErrTriggerNotFound RunErrorCode = "trigger_not_found"
	// RunErrTriggerRefused: dbt Cloud refused the trigger with another 4xx
	// (the request itself was wrong, e.g. an override it does not accept).
	RunErrTriggerRefused RunErrorCode = "trigger_refused"
	// RunErrConnectionDeleted: the run's connection was deleted before the
	// trigger was sent.
	RunErrConnectionDeleted RunErrorCode = "connection_deleted"
	// RunErrRequestInvalid: the stored trigger request could not be read.
	RunErrRequestInvalid RunErrorCode = "request_invalid"
)

// Terminal reports whether a run in state s has ended.
func (s RunState) Terminal() bool {
	switch s {
	case RunSuccess, RunError, RunCancelled, RunFailed:
		return true
	}
	return false
}

// ActiveStates are the states of runs that are still followed.
var ActiveStates = []RunState{RunPending, RunQueued, RunStarting, RunRunning}

// Run is a run requested through dbtlink and followed to its end.
type Run struct {
	ID         int64
	Connection string
	AccountID  int64
	JobID      int64
	// Marker is the trigger marker put in the dbt Cloud cause, unique, so a
	// run whose trigger outcome is unknown can be found again.
	Marker string
	Cause  string
	// Request is the JSON trigger request (the overrides), kept as sent.
	Request []byte

	// Policy.
	DeadlineAt time.Time // zero: none
	// CancelAtDeadline: cancel the dbt Cloud run at DeadlineAt (otherwise
	// the deadline only marks the run as late).
	CancelAtDeadline bool
	MaxRetries       int // reruns from failure allowed
	Retries          int // reruns done
	// Artifacts lists the artifact paths to store on completion; nil means
	// "per the job's settings" (decided by the tracker).
	Artifacts []string

	State         RunState
	DbtRunID      int64 // 0 until dbt Cloud has the run
	DbtStatus     int
	StatusMessage string
	Href          string
	// TriggerAttemptedAt is set, and committed, just before each POST to
	// dbt Cloud: a run pending with it set may exist in dbt Cloud.
	TriggerAttemptedAt time.Time
	// DbtCreatedAt, StartedAt and FinishedAt are dbt Cloud's timestamps.
	DbtCreatedAt time.Time
	StartedAt    time.Time
	FinishedAt   time.Time
	// SettledAt is when dbtlink learned the run had ended (its own clock).
	SettledAt time.Time
	// Steps is the JSON list of run steps (name, status, timings).
	Steps []byte
	// FailingNodes is the JSON list of failing nodes read from run_results.
	FailingNodes []byte
	// Attempts is the JSON history of dbt Cloud run ids across reruns.
	Attempts []byte
	// ArtifactsState: "" (not yet), "stored", "none", "failed: <why>".
	ArtifactsState string
	// Error says why the run failed or what went wrong last, in words.
	Error string
	// ErrorCode says why a failed run failed, for programs; "" for runs
	// that did not fail (and runs failed before codes were stored).
	ErrorCode RunErrorCode
	CreatedAt time.Time
	UpdatedAt time.Time
}

// RunUpdate changes some fields of a run; nil fields are left as they are.
type RunUpdate struct {
	State              *RunState
	DbtRunID           *int64
	DbtStatus          *int
	StatusMessage      *string
	Href               *string
	TriggerAttemptedAt *time.Time
	DbtCreatedAt       *time.Time
	StartedAt          *time.Time
	FinishedAt         *time.Time
	SettledAt          *time.Time
	Steps              []byte // nil: unchanged
	FailingNodes       []byte
	Attempts           []byte
	ArtifactsState     *string
	Error              *string
	ErrorCode          *RunErrorCode
	Retries            *int
	// IfActive applies the update only while the run is not terminal, so a
	// late poll answer never overwrites a settled run.
	IfActive bool
}

// RunFilter selects runs for ListRuns. Zero fields do not filter.
type RunFilter struct {
	Connection string
	JobID      int64
	// DbtRunID keeps the run whose current dbt Cloud run id is this one
	// (after a rerun from failure, the rerun's id).
	DbtRunID int64
	States   []RunState
	// OnlyTriggered keeps runs that have a dbt Cloud run id.
	OnlyTriggered bool
	// BeforeID pages backwards: runs are returned newest first (by ID).
	BeforeID int64
	Limit    int // 0: 100
}

// Artifact describes a stored artifact of a run.
type Artifact struct {
	RunID    int64
	Path     string
	Size     int64
	SHA256   string
	StoredAt time.Time
}

// WebhookSubscription is a dbt Cloud webhook subscription whose deliveries
// this server verifies. SealedSecret is the HMAC secret, sealed like tokens.
type WebhookSubscription struct {
	Connection     string
	SubscriptionID string
	URL            string
	SealedSecret   []byte
	KeyID          string
	CreatedAt      time.Time
}

// WebhookEvent is a verified delivery, kept once per event id.
type WebhookEvent struct {
	EventID    string
	Connection string
	AccountID  int64
	DbtRunID   int64
	EventType  string
	DbtStatus  int
	Payload    []byte
	ReceivedAt time.Time
	// AppliedAt is when the event settled or updated a tracked run; zero
	// while no tracked run matched it.
	AppliedAt time.Time
}
