package dbtcloud

import (
	"strconv"
	"strings"
)

// RunStatus is the numeric status of a run or run step.
type RunStatus int

// Run statuses. Success, Error and Cancelled are terminal; a run that hits
// its job timeout ends as Cancelled with a status message saying so.
const (
	RunStatusQueued    RunStatus = 1
	RunStatusStarting  RunStatus = 2
	RunStatusRunning   RunStatus = 3
	RunStatusSuccess   RunStatus = 10
	RunStatusError     RunStatus = 20
	RunStatusCancelled RunStatus = 30
)

// String returns the word dbt Cloud uses in status_humanized, or
// "Unknown(N)" for a code this package does not know.
func (s RunStatus) String() string {
	switch s {
	case RunStatusQueued:
		return "Queued"
	case RunStatusStarting:
		return "Starting"
	case RunStatusRunning:
		return "Running"
	case RunStatusSuccess:
		return "Success"
	case RunStatusError:
		return "Error"
	case RunStatusCancelled:
		return "Cancelled"
	}
	return "Unknown(" + strconv.Itoa(int(s)) + ")"
}

// Terminal reports whether the run has finished (Success, Error or Cancelled).
func (s RunStatus) Terminal() bool {
	return s == RunStatusSuccess || s == RunStatusError || s == RunStatusCancelled
}

// ParseRunStatus parses a status word (case-insensitive, as in
// status_humanized) or a numeric code.
func ParseRunStatus(s string) (RunStatus, bool) {
	for _, st := range []RunStatus{RunStatusQueued, RunStatusStarting, RunStatusRunning, RunStatusSuccess, RunStatusError, RunStatusCancelled} {
		if strings.EqualFold(s, st.String()) || s == strconv.Itoa(int(st)) {
			return st, true
		}
	}
	return 0, false
}
