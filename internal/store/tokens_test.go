package store_test

import (
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/google/go-cmp/cmp"
)

func TestAPITokens(t *testing.T) {
	t.Parallel()
	eachWithClock(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := t.Context()
		ci := store.APIToken{Name: "ci", Prefix: "dbl_ab12", Hash: []byte("hash-1"), Scope: store.ScopeWrite}
		first, err := s.CreateAPIToken(ctx, ci)
		must(t, err)
		if first.ID == 0 || !first.CreatedAt.Equal(stored(clk.Now())) || !first.LastUsedAt.IsZero() || !first.RevokedAt.IsZero() {
			t.Errorf("CreateAPIToken = %+v", first)
		}

		// An active name and a hash are unique.
		_, err = s.CreateAPIToken(ctx, store.APIToken{Name: "ci", Prefix: "x", Hash: []byte("hash-2"), Scope: store.ScopeRead})
		wantErr(t, err, store.ErrExists)
		_, err = s.CreateAPIToken(ctx, store.APIToken{Name: "other", Prefix: "x", Hash: []byte("hash-1"), Scope: store.ScopeRead})
		wantErr(t, err, store.ErrExists)
		if _, err = s.CreateAPIToken(ctx, store.APIToken{Name: "bad", Hash: []byte("h"), Scope: "root"}); err == nil {
			t.Error("CreateAPIToken with scope root succeeded")
		}

		got, err := s.APITokenByHash(ctx, []byte("hash-1"))
		must(t, err)
		if diff := cmp.Diff(first, got); diff != "" {
			t.Errorf("APITokenByHash (-want +got):\n%s", diff)
		}
		_, err = s.APITokenByHash(ctx, []byte("nope"))
		wantErr(t, err, store.ErrNotFound)

		// Touch only moves forward.
		used := clk.Now().Add(time.Hour)
		must(t, s.TouchAPIToken(ctx, first.ID, used))
		must(t, s.TouchAPIToken(ctx, first.ID, used.Add(-time.Minute)))
		got, err = s.APITokenByHash(ctx, []byte("hash-1"))
		must(t, err)
		if !got.LastUsedAt.Equal(stored(used)) {
			t.Errorf("LastUsedAt = %v, want %v", got.LastUsedAt, stored(used))
		}
		wantErr(t, s.TouchAPIToken(ctx, 999999, used), store.ErrNotFound)

		// Revoking frees the name; the revoked token stays readable.
		clk.Advance(time.Minute)
		must(t, s.RevokeAPIToken(ctx, "ci"))
		wantErr(t, s.RevokeAPIToken(ctx, "ci"), store.ErrNotFound)
		got, err = s.APITokenByHash(ctx, []byte("hash-1"))
		must(t, err)
		if !got.RevokedAt.Equal(stored(clk.Now())) {
			t.Errorf("RevokedAt = %v, want %v", got.RevokedAt, stored(clk.Now()))
		}
		second, err := s.CreateAPIToken(ctx, store.APIToken{Name: "ci", Prefix: "dbl_cd34", Hash: []byte("hash-2"), Scope: store.ScopeAdmin})
		must(t, err)

		list, err := s.ListAPITokens(ctx)
		must(t, err)
		if len(list) != 2 || list[0].ID != first.ID || list[1].ID != second.ID || list[0].RevokedAt.IsZero() || list[1].Scope != store.ScopeAdmin {
			t.Errorf("ListAPITokens = %+v", list)
		}
	})
}
