package store_test

import (
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/internal/store"
)

func TestScopes(t *testing.T) {
	t.Parallel()
	eachWithClock(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := t.Context()
		list, err := s.ListScopes(ctx)
		must(t, err)
		if list == nil || len(list) != 0 {
			t.Errorf("ListScopes of an empty store = %#v, want an empty list", list)
		}
		for _, key := range []string{"upload:b", "cloud:prod:3"} {
			_, err := s.WriteSnapshot(ctx, store.Snapshot{Scope: fullScope(key)})
			must(t, err)
		}
		list, err = s.ListScopes(ctx)
		must(t, err)
		if len(list) != 2 || list[0].Key != "cloud:prod:3" || list[1].Key != "upload:b" {
			t.Errorf("ListScopes = %+v, want cloud:prod:3 then upload:b", list)
		}
		byID, err := s.GetScopeByID(ctx, list[1].ID)
		must(t, err)
		if byID != list[1] {
			t.Errorf("GetScopeByID = %+v, want %+v", byID, list[1])
		}

		// An unchanged sync: only SyncedAt moves.
		clk.Advance(time.Hour)
		must(t, s.TouchScope(ctx, "upload:b", time.Time{}))
		touched, err := s.GetScope(ctx, "upload:b")
		must(t, err)
		want := list[1]
		want.SyncedAt = stored(clk.Now())
		if touched != want {
			t.Errorf("after TouchScope: %+v, want %+v", touched, want)
		}
		at := catalogAt.Add(48 * time.Hour)
		must(t, s.TouchScope(ctx, "upload:b", at))
		must(t, s.SetScopeFingerprint(ctx, "upload:b", ""))
		touched, err = s.GetScope(ctx, "upload:b")
		must(t, err)
		want.SyncedAt, want.Fingerprint = stored(at), ""
		if touched != want {
			t.Errorf("after TouchScope(at) and SetScopeFingerprint: %+v, want %+v", touched, want)
		}

		wantErr(t, s.TouchScope(ctx, "upload:missing", at), store.ErrNotFound)
		wantErr(t, s.SetScopeFingerprint(ctx, "upload:missing", "x"), store.ErrNotFound)
		wantErr(t, s.DeleteScope(ctx, "upload:missing"), store.ErrNotFound)
		_, err = s.GetScope(ctx, "upload:missing")
		wantErr(t, err, store.ErrNotFound)
		_, err = s.GetScopeByID(ctx, 999999)
		wantErr(t, err, store.ErrNotFound)
	})
}
