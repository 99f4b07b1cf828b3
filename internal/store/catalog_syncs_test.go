package store_test

import (
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/google/go-cmp/cmp"
)

func TestCatalogSyncs(t *testing.T) {
	t.Parallel()
	eachWithClock(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := t.Context()
		started := stored(clk.Now())
		a, err := s.StartSync(ctx, "cloud:prod:3", "runs 100, 101")
		must(t, err)
		want := store.CatalogSync{ID: a.ID, ScopeKey: "cloud:prod:3", Source: "runs 100, 101", StartedAt: started, Status: store.SyncRunning}
		if diff := cmp.Diff(want, a); diff != "" {
			t.Errorf("StartSync (-want +got):\n%s", diff)
		}

		clk.Advance(time.Second)
		report := []byte(`{"matched":10,"unmatched":["model.shop.x"]}`)
		done, err := s.FinishSync(ctx, a.ID, store.SyncOK, "", report)
		must(t, err)
		want.FinishedAt, want.Status, want.Report = stored(clk.Now()), store.SyncOK, report
		if diff := cmp.Diff(want, done); diff != "" {
			t.Errorf("FinishSync (-want +got):\n%s", diff)
		}
		got, err := s.GetSync(ctx, a.ID)
		must(t, err)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GetSync (-want +got):\n%s", diff)
		}

		b, err := s.StartSync(ctx, "cloud:prod:3", "run 102")
		must(t, err)
		b, err = s.FinishSync(ctx, b.ID, store.SyncError, "manifest.json: unexpected EOF", nil)
		must(t, err)
		if b.Error != "manifest.json: unexpected EOF" || b.Report != nil || b.Status != store.SyncError {
			t.Errorf("failed sync = %+v", b)
		}
		c, err := s.StartSync(ctx, "upload:shop", "upload")
		must(t, err)

		list, err := s.ListSyncs(ctx, "cloud:prod:3", 0)
		must(t, err)
		if len(list) != 2 || list[0].ID != b.ID || list[1].ID != a.ID {
			t.Errorf("ListSyncs(cloud:prod:3) = %+v, want syncs %d, %d", list, b.ID, a.ID)
		}
		list, err = s.ListSyncs(ctx, "", 1)
		must(t, err)
		if len(list) != 1 || list[0].ID != c.ID {
			t.Errorf("ListSyncs(all, 1) = %+v, want sync %d", list, c.ID)
		}
		latest, err := s.LatestSyncs(ctx)
		must(t, err)
		if len(latest) != 2 || latest[0].ID != b.ID || latest[1].ID != c.ID || latest[1].Status != store.SyncRunning {
			t.Errorf("LatestSyncs = %+v, want %d and the running %d", latest, b.ID, c.ID)
		}

		_, err = s.FinishSync(ctx, 999999, store.SyncOK, "", nil)
		wantErr(t, err, store.ErrNotFound)
		_, err = s.GetSync(ctx, 999999)
		wantErr(t, err, store.ErrNotFound)
		if _, err := s.FinishSync(ctx, c.ID, store.SyncRunning, "", nil); err == nil {
			t.Error("FinishSync with status running succeeded")
		}
		if _, err := s.StartSync(ctx, "", "x"); err == nil {
			t.Error("StartSync without a scope key succeeded")
		}
	})
}

// A sync left running by a process that died is ended by AbandonSyncs
// once it is old enough; a younger one and finished ones are left alone.
func TestAbandonSyncs(t *testing.T) {
	t.Parallel()
	eachWithClock(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := t.Context()
		old, err := s.StartSync(ctx, "upload:a", "files")
		must(t, err)
		done, err := s.StartSync(ctx, "upload:b", "files")
		must(t, err)
		_, err = s.FinishSync(ctx, done.ID, store.SyncOK, "", nil)
		must(t, err)
		clk.Advance(2 * time.Hour)
		young, err := s.StartSync(ctx, "upload:c", "files")
		must(t, err)

		n, err := s.AbandonSyncs(ctx, clk.Now().Add(-time.Hour), "abandoned: test")
		must(t, err)
		if n != 1 {
			t.Errorf("AbandonSyncs ended %d syncs, want 1", n)
		}
		for _, c := range []struct {
			id           int64
			status, text string
		}{{old.ID, store.SyncError, "abandoned: test"}, {done.ID, store.SyncOK, ""}, {young.ID, store.SyncRunning, ""}} {
			got, err := s.GetSync(ctx, c.id)
			must(t, err)
			if got.Status != c.status || got.Error != c.text {
				t.Errorf("sync %d: status %q error %q, want %q %q", c.id, got.Status, got.Error, c.status, c.text)
			}
		}
	})
}
