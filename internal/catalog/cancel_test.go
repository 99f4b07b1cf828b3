package catalog_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/internal/catalog"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/store/storetest"
)

// TestSyncStoppedMidwayIsRecorded stops a sync's context while it runs, at
// each of its steps, with a cause as the server's catalog job timeout
// gives one: the sync is recorded as an error that says the cause, never
// left running.
func TestSyncStoppedMidwayIsRecorded(t *testing.T) {
	manifest, err := os.ReadFile("../../dbtcloud/emulator/data/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	cause := errors.New("catalog sync stopped after 30m0s: the catalog job timeout")
	for _, step := range []string{"build the catalog", "matched"} {
		for _, b := range storetest.Backends(t) {
			t.Run(b.Name+"/"+step, func(t *testing.T) {
				st := storetest.Open(t, b)
				svc := &catalog.Service{Store: st}
				ctx, cancel := context.WithCancelCause(t.Context())
				defer cancel(nil)
				progress := func(msg string) {
					if strings.Contains(msg, step) {
						cancel(cause)
					}
				}
				files := []catalog.UploadFile{{Name: "manifest.json", R: strings.NewReader(string(manifest))}}
				res, err := svc.Upload(ctx, "jaffle", files, catalog.SyncOptions{}, progress)
				if err == nil {
					t.Fatalf("upload = %+v; want an error after the context was stopped", res)
				}
				syncs, err := st.ListSyncs(t.Context(), "upload:jaffle", 10)
				if err != nil {
					t.Fatal(err)
				}
				if len(syncs) != 1 {
					t.Fatalf("%d syncs recorded, want 1", len(syncs))
				}
				if s := syncs[0]; s.Status != store.SyncError || !strings.Contains(s.Error, cause.Error()) {
					t.Errorf("sync recorded as %q with error %q; want %q with the cause %q", s.Status, s.Error, store.SyncError, cause)
				}
				if !strings.Contains(res.Error, cause.Error()) {
					t.Errorf("result error %q does not say the cause", res.Error)
				}
			})
		}
	}
}

// TestSyncEndsAbandonedSyncs leaves a sync running, as a process killed
// mid-sync does, and checks that the next sync, once AbandonAfter has
// passed, records it as failed and why.
func TestSyncEndsAbandonedSyncs(t *testing.T) {
	manifest, err := os.ReadFile("../../dbtcloud/emulator/data/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			st := storetest.Open(t, b)
			dead, err := st.StartSync(t.Context(), "upload:other", "files")
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now().Add(2 * time.Hour)
			svc := &catalog.Service{Store: st, AbandonAfter: time.Hour, Now: func() time.Time { return now }}
			files := []catalog.UploadFile{{Name: "manifest.json", R: strings.NewReader(string(manifest))}}
			if _, err := svc.Upload(t.Context(), "jaffle", files, catalog.SyncOptions{}, nil); err != nil {
				t.Fatal(err)
			}
			got, err := st.GetSync(t.Context(), dead.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != store.SyncError || !strings.Contains(got.Error, "abandoned") {
				t.Errorf("the dead sync is %q with error %q; want %q, abandoned", got.Status, got.Error, store.SyncError)
			}
		})
	}
}
