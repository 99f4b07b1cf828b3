package tracker_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/store/storetest"
	"github.com/dbtlink/dbtlink/internal/tracker"
)

// TestTriggerFoundEnded: a trigger whose answer is lost, and whose run is
// found by its marker only after it ended, is settled and finalized like
// any other. The poller follows runs in flight only, so a run recorded as
// ended without being settled would never get its steps, artifacts or
// rerun policy, and a waiter for its end would wait forever.
func TestTriggerFoundEnded(t *testing.T) {
	t.Parallel()
	for _, be := range storetest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, be)
			// dbt Cloud creates the run but its answer is lost, and the
			// client's own lookup fails: the trigger job retries after
			// two seconds, by when the run (half a second) has ended.
			faults := []emulator.Fault{
				{Method: "POST", Path: "/api/v2/accounts/{a}/jobs/{j}/run/", Kind: emulator.FaultCommitThenDrop},
				{Method: "GET", Path: "/api/v2/accounts/{a}/runs/", Kind: emulator.FaultStatus, Status: 400},
			}
			for _, f := range faults {
				if _, err := b.emu.InjectFault(f); err != nil {
					t.Fatal(err)
				}
			}
			r, err := b.tr.CreateRun(context.Background(), tracker.RunRequest{JobID: emulator.DemoDailyJobID})
			if err != nil {
				t.Fatal(err)
			}
			got := b.waitEnd(t, r.ID)
			if got.State != store.RunSuccess || got.DbtRunID == 0 || got.SettledAt.IsZero() || got.FinishedAt.IsZero() || got.ArtifactsState != "stored" {
				t.Fatalf("run %+v", got)
			}
			var steps []tracker.Step
			if err := json.Unmarshal(got.Steps, &steps); err != nil || len(steps) == 0 {
				t.Errorf("steps %s: %v", got.Steps, err)
			}
			if n := b.emu.TriggerCount(emulator.DemoDailyJobID); n != 1 {
				t.Errorf("emulator saw %d triggers, want 1", n)
			}
		})
	}
}
