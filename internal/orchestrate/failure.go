package orchestrate

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dbtlink/dbtlink/artifacts"
	"github.com/dbtlink/dbtlink/dbtcloud"
)

// LogTailLines is how many lines of the failing step's log a Failure keeps:
// enough to show dbt's error summary without the whole log.
const LogTailLines = 30

// Failure explains why a run did not succeed.
type Failure struct {
	RunID         int64
	Status        dbtcloud.RunStatus
	StatusMessage string
	// Step is the step that failed (or was cancelled), nil when the run
	// has no such step (for example it was cancelled while queued).
	Step *FailedStep
	// Nodes are the dbt nodes that errored or failed in that step, read
	// from its run_results.json.
	Nodes []FailedNode
	// NodesUnavailable says why Nodes is empty when it could not be read
	// (no run_results.json for that step, or the download failed).
	NodesUnavailable string
}

// FailedStep is the step a run stopped at.
type FailedStep struct {
	Index  int
	Name   string
	Status dbtcloud.RunStatus
	// LogTail is the last LogTailLines lines of the step's log.
	LogTail []string
}

// FailedNode is a dbt node whose result was error, fail or runtime error.
type FailedNode struct {
	UniqueID string
	Status   string
	Message  string
}

// FailureSummary builds the Failure of run, fetching its steps (when run has
// none) and the failing step's run_results.json. A missing artifact is not
// an error: it is noted in NodesUnavailable, because a run that failed in
// git clone or dbt deps never wrote one.
func FailureSummary(ctx context.Context, client *dbtcloud.Client, accountID int64, run *dbtcloud.Run) (*Failure, error) {
	if run == nil {
		return nil, errors.New("failure summary: no run given")
	}
	if len(run.RunSteps) == 0 {
		full, _, err := client.Runs.Get(ctx, accountID, run.ID, &dbtcloud.RunGetOptions{IncludeRelated: []string{"run_steps"}})
		if err != nil {
			return nil, fmt.Errorf("get the steps of run %d: %w", run.ID, err)
		}
		run = full
	}
	f := &Failure{RunID: run.ID, Status: run.Status, StatusMessage: run.StatusMessage}
	step := failingStep(run.RunSteps)
	if step == nil {
		return f, nil
	}
	f.Step = &FailedStep{Index: step.Index, Name: step.Name, Status: step.Status, LogTail: tail(step.Logs, LogTailLines)}

	body, _, err := client.Artifacts.Get(ctx, accountID, run.ID, "run_results.json", step.Index)
	if err != nil {
		if errors.Is(err, dbtcloud.ErrNotFound) {
			f.NodesUnavailable = fmt.Sprintf("step %d wrote no run_results.json", step.Index)
			return f, nil
		}
		if ctx.Err() != nil {
			return f, ctx.Err()
		}
		f.NodesUnavailable = fmt.Sprintf("could not download run_results.json of step %d: %v", step.Index, err)
		return f, nil
	}
	defer body.Close()
	rr, err := artifacts.ReadRunResults(body, artifacts.WithName(fmt.Sprintf("run %d step %d run_results.json", run.ID, step.Index)))
	if err != nil {
		f.NodesUnavailable = fmt.Sprintf("could not read run_results.json of step %d: %v", step.Index, err)
		return f, nil
	}
	for _, r := range rr.Results {
		switch strings.ToLower(r.Status) {
		case "error", "fail", "runtime error":
			f.Nodes = append(f.Nodes, FailedNode{UniqueID: r.UniqueID, Status: strings.ToLower(r.Status), Message: strings.TrimSpace(r.Message)})
		}
	}
	return f, nil
}

// failingStep is the first step that ended in error, else the first that
// was cancelled.
func failingStep(steps []dbtcloud.RunStep) *dbtcloud.RunStep {
	for _, want := range []dbtcloud.RunStatus{dbtcloud.RunStatusError, dbtcloud.RunStatusCancelled} {
		for i := range steps {
			if steps[i].Status == want {
				return &steps[i]
			}
		}
	}
	return nil
}

// tail returns the last n non-empty-trailing lines of s.
func tail(s string, n int) []string {
	s = strings.TrimRight(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	if s == "" {
		return nil
	}
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}
