package tracker_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/store/storetest"
	"github.com/dbtlink/dbtlink/internal/tracker"
)

// fakeSyncer records the syncs the tracker asks for. While block is open
// a sync does not return.
type fakeSyncer struct {
	mu    sync.Mutex
	calls []string // "conn/reason"
	block chan struct{}
}

func (f *fakeSyncer) SyncConnection(ctx context.Context, conn, reason string) error {
	f.mu.Lock()
	f.calls = append(f.calls, conn+"/"+reason)
	block := f.block
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (f *fakeSyncer) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// waitCalls polls until the syncer was called n times, with a deadline.
func (f *fakeSyncer) waitCalls(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for f.count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("the catalog syncer was called %d times, want %d", f.count(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCatalogSyncAfterRun(t *testing.T) {
	t.Parallel()
	for _, be := range storetest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			syncer := &fakeSyncer{}
			b := setup(t, be, func(c *tracker.Config) { c.CatalogSyncer = syncer })
			ctx := context.Background()
			r, err := b.tr.CreateRun(ctx, tracker.RunRequest{Project: "analytics", Environment: "Production", Job: "daily build"})
			if err != nil {
				t.Fatal(err)
			}
			if got := b.waitEnd(t, r.ID); got.State != store.RunSuccess {
				t.Fatalf("run ended %s", got.State)
			}
			syncer.waitCalls(t, 1)
			syncer.mu.Lock()
			got := syncer.calls[0]
			syncer.mu.Unlock()
			if got != "emu/run" {
				t.Errorf("sync %q, want emu/run", got)
			}
			// A second run ends while a sync is running: it gets one
			// follow-up sync, not one per request.
			syncer.mu.Lock()
			syncer.block = make(chan struct{})
			syncer.mu.Unlock()
			r2, err := b.tr.CreateRun(ctx, tracker.RunRequest{Project: "analytics", Environment: "Production", Job: "daily build"})
			if err != nil {
				t.Fatal(err)
			}
			b.waitEnd(t, r2.ID)
			syncer.waitCalls(t, 2) // the sync after run 2, now blocked
			r3, err := b.tr.CreateRun(ctx, tracker.RunRequest{Project: "analytics", Environment: "Production", Job: "daily build"})
			if err != nil {
				t.Fatal(err)
			}
			r4, err := b.tr.CreateRun(ctx, tracker.RunRequest{Project: "analytics", Environment: "Production", Job: "daily build"})
			if err != nil {
				t.Fatal(err)
			}
			b.waitEnd(t, r3.ID)
			b.waitEnd(t, r4.ID)
			// Their finalize jobs enqueue the sync as they end.
			jobs := func(where string) int {
				var n int
				if err := b.st.DB().QueryRowContext(ctx, `SELECT count(*) FROM river_job WHERE `+where).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			deadline := time.Now().Add(20 * time.Second)
			for jobs(`kind = 'dbtlink.finalize' AND state = 'completed'`) < 4 {
				if time.Now().After(deadline) {
					t.Fatal("the finalize jobs of runs 3 and 4 did not complete")
				}
				time.Sleep(10 * time.Millisecond)
			}
			if n := jobs(`kind = 'dbtlink.catalog_sync' AND state IN ('available', 'running', 'scheduled', 'retryable', 'pending')`); n != 2 {
				t.Errorf("%d catalog sync jobs live, want 2 (the running one and one follow-up)", n)
			}
			syncer.mu.Lock()
			close(syncer.block)
			syncer.block = nil
			syncer.mu.Unlock()
			syncer.waitCalls(t, 3)
			for jobs(`kind = 'dbtlink.catalog_sync' AND state = 'completed'`) < 3 {
				if time.Now().After(deadline) {
					t.Fatal("the catalog syncs did not complete")
				}
				time.Sleep(10 * time.Millisecond)
			}
			if n := syncer.count(); n != 3 {
				t.Errorf("%d syncs for 4 runs (3 and 4 ended during one), want 3", n)
			}
		})
	}
}

func TestCatalogSyncAfterWebhook(t *testing.T) {
	t.Parallel()
	be := storetest.Backends(t)[0]
	syncer := &fakeSyncer{}
	b := setup(t, be, func(c *tracker.Config) { c.CatalogSyncer = syncer })
	ev := &dbtcloud.WebhookEvent{EventID: "ev-untracked", EventType: "job.run.completed", AccountID: b.emu.AccountID}
	ev.Data.RunID = 987654
	out, err := b.tr.ApplyWebhook(t.Context(), "emu", ev, []byte(`{}`))
	if err != nil || out != tracker.WebhookRecorded {
		t.Fatalf("apply: %v %v", out, err)
	}
	syncer.waitCalls(t, 1)
	syncer.mu.Lock()
	defer syncer.mu.Unlock()
	if syncer.calls[0] != "emu/webhook" {
		t.Errorf("sync %q, want emu/webhook", syncer.calls[0])
	}
}
