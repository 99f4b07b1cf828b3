package tracker_test

import (
	"context"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/store/storetest"
	"github.com/dbtlink/dbtlink/internal/tracker"
)

// TestWaitRunAwaitsRerun: a waiter is not told that a run failed while
// its rerun policy is about to rerun it; it gets the rerun's end.
func TestWaitRunAwaitsRerun(t *testing.T) {
	t.Parallel()
	be := storetest.Backends(t)[0] // the wait does not depend on the database
	b := setup(t, be)
	ctx := context.Background()
	r, err := b.tr.CreateRun(ctx, tracker.RunRequest{JobID: emulator.DemoFailingJobID, MaxRetries: 1, Artifacts: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.tr.WaitRun(ctx, r.ID, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != store.RunSuccess || got.Retries != 1 {
		t.Fatalf("WaitRun answered state %s after %d reruns (artifacts %q), want the rerun's success", got.State, got.Retries, got.ArtifactsState)
	}
}
