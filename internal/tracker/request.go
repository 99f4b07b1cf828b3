package tracker

import (
	"errors"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/internal/store"
)

// RunRequest asks the tracker to trigger a job and follow the run.
type RunRequest struct {
	// Connection names the stored connection; empty means the default one.
	Connection string `json:"connection,omitempty"`
	// JobID, or else Project + Environment + Job names, picks the job.
	JobID       int64  `json:"job_id,omitempty"`
	Project     string `json:"project,omitempty"`
	Environment string `json:"environment,omitempty"`
	Job         string `json:"job,omitempty"`

	// Trigger is the body sent to dbt Cloud: cause and every override.
	Trigger dbtcloud.TriggerRunRequest `json:"trigger"`

	// Deadline, when positive, is how long the run may take from now.
	Deadline time.Duration `json:"-"`
	// CancelAtDeadline cancels the dbt Cloud run at the deadline.
	CancelAtDeadline bool `json:"cancel_at_deadline,omitempty"`
	// MaxRetries reruns a failed run from the point of failure up to this
	// many times.
	MaxRetries int `json:"max_retries,omitempty"`
	// Artifacts lists the artifacts to store when the run ends; nil means
	// the job's settings decide (run_results.json and manifest.json, plus
	// catalog.json when the job generates docs, sources.json when it
	// checks source freshness); an empty list stores none.
	Artifacts []string `json:"artifacts,omitempty"`
}

// InputError is a request the tracker refuses as given; its message says
// what was wrong and how to fix it. The API answers it with 400.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// NotFoundError is a request naming a job, project or environment that
// dbt Cloud does not have (or the token cannot see), or names that match
// several. It matches store.ErrNotFound, so the API answers it with 404.
type NotFoundError struct{ Msg string }

func (e *NotFoundError) Error() string { return e.Msg }

// Is makes errors.Is(err, store.ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == store.ErrNotFound }

// ErrConflict is matched by errors for an action the run's state forbids,
// such as cancelling a run that has ended. The API answers it with 409.
var ErrConflict = errors.New("conflict")
