package orchestrate_test

import (
	"strings"
	"testing"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
	"github.com/dbtlink/dbtlink/internal/orchestrate"
)

func TestFailureSummary(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		job           int64
		wantStep      int
		wantStepName  string
		wantNodes     []string // unique ids, in order
		wantNodeState string
		wantNoNodes   string // part of NodesUnavailable
	}{
		{
			name: "test step fails", job: emulator.DemoFailingJobID, wantStep: 5, wantStepName: "Invoke dbt with `dbt test`",
			wantNodeState: "fail",
		},
		{
			name: "model step errors", job: runFailID, wantStep: 4, wantStepName: "Invoke dbt with `dbt run`",
			wantNodeState: "error",
		},
		{
			name: "deps fails: no run_results", job: depsFailID, wantStep: 3, wantStepName: "Invoke dbt with `dbt deps`",
			wantNoNodes: "step 3 wrote no run_results.json",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			run := b.finish(t, b.trigger(t, tt.job).ID)
			if run.Status != dbtcloud.RunStatusError {
				t.Fatalf("run ended %v, want Error", run.Status)
			}
			f, err := orchestrate.FailureSummary(t.Context(), b.client, b.acct, run)
			if err != nil {
				t.Fatal(err)
			}
			if f.Step == nil || f.Step.Index != tt.wantStep || f.Step.Name != tt.wantStepName || f.Step.Status != dbtcloud.RunStatusError {
				t.Fatalf("failing step %+v, want %d %q", f.Step, tt.wantStep, tt.wantStepName)
			}
			if n := len(f.Step.LogTail); n == 0 || n > orchestrate.LogTailLines {
				t.Errorf("log tail has %d lines", n)
			}
			if tt.wantNoNodes != "" {
				if len(f.Nodes) != 0 || !strings.Contains(f.NodesUnavailable, tt.wantNoNodes) {
					t.Errorf("nodes %+v, unavailable %q; want none because %q", f.Nodes, f.NodesUnavailable, tt.wantNoNodes)
				}
				return
			}
			if len(f.Nodes) == 0 {
				t.Fatalf("no failing nodes (%s)", f.NodesUnavailable)
			}
			for _, n := range f.Nodes {
				if n.Status != tt.wantNodeState || n.UniqueID == "" || n.Message == "" {
					t.Errorf("node %+v, want status %q with id and message", n, tt.wantNodeState)
				}
			}
		})
	}
}

// TestFailureSummaryCancelledInQueue: a run cancelled before it started has
// no failing step, and that is not an error.
func TestFailureSummaryCancelledInQueue(t *testing.T) {
	t.Parallel()
	b := setup(t)
	run := b.trigger(t, emulator.DemoSlowJobID)
	cancelled, _, err := b.client.Runs.Cancel(t.Context(), b.acct, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	f, err := orchestrate.FailureSummary(t.Context(), b.client, b.acct, cancelled)
	if err != nil {
		t.Fatal(err)
	}
	if f.Status != dbtcloud.RunStatusCancelled || f.Step != nil || len(f.Nodes) != 0 {
		t.Errorf("summary %+v", f)
	}
}
