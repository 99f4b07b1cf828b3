package orchestrate

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/dbtlink/dbtlink/dbtcloud"
)

// MaxCauseLength is the longest cause dbt Cloud keeps.
const MaxCauseLength = 255

// DefaultCause is the cause recorded for runs dbtlink starts when the user
// gives none: "Triggered by dbtlink <version> (<who>)", where who is
// typically user@host, cut to MaxCauseLength.
func DefaultCause(version, who string) string {
	c := "Triggered by dbtlink " + version
	if who != "" {
		c += " (" + who + ")"
	}
	return TruncateCause(c)
}

// TruncateCause cuts cause to MaxCauseLength bytes without splitting a
// UTF-8 character.
func TruncateCause(cause string) string {
	if len(cause) <= MaxCauseLength {
		return cause
	}
	cut := MaxCauseLength
	for cut > 0 && !utf8.RuneStart(cause[cut]) {
		cut--
	}
	return cause[:cut]
}

// TriggerOptions choose how Trigger starts (or finds) a run.
type TriggerOptions struct {
	// Request is the trigger body: cause and overrides. An empty cause is
	// replaced by dbtcloud.DefaultTriggerCause; callers normally set one
	// with DefaultCause.
	Request dbtcloud.TriggerRunRequest
	// ReuseExisting attaches to the job's newest run that is still queued,
	// starting or running, and starts a new one only if there is none.
	// Overrides in Request are not applied to a reused run.
	ReuseExisting bool
	// RetryFromFailure uses POST .../jobs/{id}/rerun/: dbt Cloud reruns
	// from the point of failure if the job's latest run failed, and starts
	// a normal run otherwise. Request is ignored: rerun takes no body.
	RetryFromFailure bool
}

// How says how Trigger obtained the run.
type How string

const (
	// Started means a new run was triggered.
	Started How = "started"
	// Reused means a run already in flight was attached to.
	Reused How = "reused"
	// Rerun means the job was rerun (from failure when its last run failed).
	Rerun How = "rerun"
)

// Triggered is the run Trigger returns and how it came about.
type Triggered struct {
	Run *dbtcloud.Run
	How How
}

// Trigger starts a run of job according to opts. A plain trigger goes
// through dbtcloud's safe Runs.Trigger, which finds the run it created
// when an answer is lost, so a run is never started twice; a rerun cannot
// be made safe that way and is never repeated (its error then wraps
// dbtcloud.ErrOutcomeUnknown).
func Trigger(ctx context.Context, client *dbtcloud.Client, accountID int64, job *dbtcloud.Job, opts TriggerOptions) (*Triggered, error) {
	if job == nil || job.ID <= 0 {
		return nil, fmt.Errorf("trigger: no job given")
	}
	if opts.ReuseExisting {
		runs, _, err := client.Runs.List(ctx, accountID, &dbtcloud.RunListOptions{
			JobDefinitionID: job.ID,
			StatusIn:        []dbtcloud.RunStatus{dbtcloud.RunStatusQueued, dbtcloud.RunStatusStarting, dbtcloud.RunStatusRunning},
			OrderBy:         "-id",
			ListOptions:     dbtcloud.ListOptions{Limit: 1},
		})
		if err != nil {
			return nil, fmt.Errorf("look for a run of job %d already in progress: %w", job.ID, err)
		}
		if len(runs) > 0 {
			return &Triggered{Run: &runs[0], How: Reused}, nil
		}
	}
	if opts.RetryFromFailure {
		run, _, err := client.Jobs.Rerun(ctx, accountID, job.ID)
		if err != nil {
			return nil, fmt.Errorf("rerun job %d: %w", job.ID, err)
		}
		return &Triggered{Run: run, How: Rerun}, nil
	}
	req := opts.Request
	req.Cause = TruncateCause(strings.TrimSpace(req.Cause))
	run, _, err := client.Runs.Trigger(ctx, accountID, job.ID, &req)
	if err != nil {
		return nil, fmt.Errorf("trigger job %d: %w", job.ID, err)
	}
	return &Triggered{Run: run, How: Started}, nil
}
