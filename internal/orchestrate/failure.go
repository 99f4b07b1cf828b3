package orchestrate

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/dbtlink/dbtlink/artifacts"
	"github.com/dbtlink/dbtlink/dbtcloud"
)

// LogTailLines is at most how many lines of the failing step's log a
// Failure keeps: enough to show dbt's errors and summary without the whole
// log.
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
	// LogTail is the part of the step's log that explains the failure, at
	// most LogTailLines lines: the lines carrying dbt's error and failure
	// markers with a little context, and the final summary (see
	// explainLog). Where lines were left out it holds a marker line such as
	// "… (120 earlier lines omitted)". A log without any marker gives its
	// last lines.
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
	f.Step = &FailedStep{Index: step.Index, Name: step.Name, Status: step.Status, LogTail: explainLog(step.Logs, LogTailLines)}

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

// failureMarkers are the texts dbt prints on the lines that say what went
// wrong, in the run log and in its end-of-run summary.
var failureMarkers = []string{
	"ERROR", "Error in ", "Failure in ", "Database Error", "Compilation Error", "Runtime Error",
	"Parsing Error", "Dependency Error", "FAIL ", "Completed with ",
}

// summaryMarkers start dbt's final summary, which is always kept.
var summaryMarkers = []string{"Finished running ", "Completed successfully", "Completed with "}

// Lines kept around a marked line: dbt prints the detail of a failure (the
// database message, "Got 3 results, configured to fail if != 0", the path
// of the compiled SQL) on the lines after "Failure in ...".
const (
	contextBefore = 1
	contextAfter  = 3
	summaryKeep   = 8 // lines of the final summary kept when there is no room for more
)

// explainLog picks, from a step's log, the lines that explain a failure,
// at most limit of them plus markers for what was left out. The last lines
// of a long dbt log are often only "PASS" lines of tests that ran after the
// failing one, so a plain tail would miss the failure itself.
func explainLog(log string, limit int) []string {
	log = strings.TrimRight(strings.ReplaceAll(log, "\r\n", "\n"), "\n")
	if log == "" {
		return nil
	}
	lines := strings.Split(log, "\n")
	if len(lines) <= limit {
		return lines
	}
	keep := make([]bool, len(lines))
	marked := false
	for i, l := range lines {
		if !hasAny(stripANSI(l), failureMarkers) {
			continue
		}
		marked = true
		keep[i] = true
		// Context is the failure's detail, never another node's progress
		// line: "2 of 27 PASS ..." after a FAIL says nothing about it.
		for j := i - 1; j >= max(i-contextBefore, 0) && !isNodeProgress(lines[j]); j-- {
			keep[j] = true
		}
		for j := i + 1; j <= min(i+contextAfter, len(lines)-1) && !isNodeProgress(lines[j]); j++ {
			keep[j] = true
		}
	}
	if !marked {
		return withOmissions(lines, tailMask(len(lines), limit))
	}
	// The final summary: from its first line to the end, or the last
	// summaryKeep lines when the log has no summary line.
	summary := len(lines) - min(summaryKeep, len(lines))
	for _, m := range summaryMarkers {
		if i := lastIndexContaining(lines, m); i >= 0 {
			summary = i
			break
		}
	}
	for j := summary; j < len(lines); j++ {
		keep[j] = true
	}
	// Over the limit: keep the latest kept lines (dbt repeats every failure
	// in its end-of-run summary, so the last ones are the most complete),
	// but always the last summaryKeep lines of the log.
	kept := 0
	for _, k := range keep {
		if k {
			kept++
		}
	}
	for i := 0; kept > limit && i < len(lines)-summaryKeep; i++ {
		if keep[i] {
			keep[i] = false
			kept--
		}
	}
	for i := 0; kept > limit; i++ { // only with a tiny limit
		if keep[i] {
			keep[i] = false
			kept--
		}
	}
	return withOmissions(lines, keep)
}

// nodeProgress matches dbt's per-node progress lines of nodes that did not
// fail: "12 of 27 PASS test ...", "3 of 13 OK created sql view model ...",
// "4 of 13 START sql table model ...", "5 of 13 SKIP relation ...".
var nodeProgress = regexp.MustCompile(`\b\d+ of \d+ (PASS|OK|START|SKIP|WARN)\b`)

func isNodeProgress(l string) bool { return nodeProgress.MatchString(stripANSI(l)) }

// withOmissions returns the kept lines, with a marker line where others
// were left out.
func withOmissions(lines []string, keep []bool) []string {
	var out []string
	for i := 0; i < len(lines); {
		if keep[i] {
			out = append(out, lines[i])
			i++
			continue
		}
		j := i
		for j < len(lines) && !keep[j] {
			j++
		}
		switch {
		case i == 0:
			out = append(out, fmt.Sprintf("… (%d earlier %s omitted)", j-i, plural(j-i, "line")))
		case j == len(lines):
			out = append(out, fmt.Sprintf("… (%d later %s omitted)", j-i, plural(j-i, "line")))
		default:
			out = append(out, fmt.Sprintf("… (%d %s omitted)", j-i, plural(j-i, "line")))
		}
		i = j
	}
	return out
}

func tailMask(n, limit int) []bool {
	keep := make([]bool, n)
	for i := max(n-limit, 0); i < n; i++ {
		keep[i] = true
	}
	return keep
}

func lastIndexContaining(lines []string, sub string) int {
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(stripANSI(lines[i]), sub) {
			return i
		}
	}
	return -1
}

func hasAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// stripANSI removes terminal color sequences (ESC [ ... letter), which dbt
// Cloud logs may carry, so markers match.
func stripANSI(s string) string {
	if !strings.Contains(s, "\x1b[") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] < 0x40 || s[j] > 0x7e) {
				j++
			}
			i = j
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
