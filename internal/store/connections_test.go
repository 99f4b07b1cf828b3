package store_test

import (
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/google/go-cmp/cmp"
)

func newConnection(name string) store.Connection {
	return store.Connection{
		Name:        name,
		Host:        name + ".us1.dbt.com",
		AccountID:   42,
		SealedToken: []byte("sealed:" + name),
		KeyID:       "key1",
	}
}

func defaultName(t *testing.T, s *store.Store) string {
	t.Helper()
	c, err := s.DefaultConnection(t.Context())
	if err != nil {
		t.Fatalf("DefaultConnection: %v", err)
	}
	return c.Name
}

func TestConnections(t *testing.T) {
	t.Parallel()
	eachWithClock(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := t.Context()
		_, err := s.DefaultConnection(ctx)
		wantErr(t, err, store.ErrNotFound)

		// The first connection is the default, asked or not.
		beta, err := s.CreateConnection(ctx, newConnection("beta"))
		must(t, err)
		want := newConnection("beta")
		want.Default = true
		want.CreatedAt, want.UpdatedAt = stored(clk.Now()), stored(clk.Now())
		if diff := cmp.Diff(want, beta); diff != "" {
			t.Errorf("CreateConnection returned (-want +got):\n%s", diff)
		}
		got, err := s.GetConnection(ctx, "beta")
		must(t, err)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GetConnection (-want +got):\n%s", diff)
		}

		// Later ones are not, unless asked; then they are the only one.
		alpha, err := s.CreateConnection(ctx, newConnection("alpha"))
		must(t, err)
		if alpha.Default || defaultName(t, s) != "beta" {
			t.Errorf("second connection: Default = %v, default is %q; want false, beta", alpha.Default, defaultName(t, s))
		}
		gamma := newConnection("gamma")
		gamma.Default = true
		_, err = s.CreateConnection(ctx, gamma)
		must(t, err)
		if got := defaultName(t, s); got != "gamma" {
			t.Errorf("default after creating gamma as default = %q", got)
		}

		_, err = s.CreateConnection(ctx, newConnection("alpha"))
		wantErr(t, err, store.ErrExists)

		list, err := s.ListConnections(ctx)
		must(t, err)
		var names []string
		defaults := 0
		for _, c := range list {
			names = append(names, c.Name)
			if c.Default {
				defaults++
			}
		}
		if diff := cmp.Diff([]string{"alpha", "beta", "gamma"}, names); diff != "" || defaults != 1 {
			t.Errorf("ListConnections: names (-want +got):\n%s; %d defaults", diff, defaults)
		}

		must(t, s.SetDefaultConnection(ctx, "alpha"))
		if got := defaultName(t, s); got != "alpha" {
			t.Errorf("default after SetDefaultConnection(alpha) = %q", got)
		}
		wantErr(t, s.SetDefaultConnection(ctx, "nope"), store.ErrNotFound)
		if got := defaultName(t, s); got != "alpha" {
			t.Errorf("a failed SetDefaultConnection changed the default to %q", got)
		}
		must(t, s.SetDefaultConnection(ctx, ""))
		_, err = s.DefaultConnection(ctx)
		wantErr(t, err, store.ErrNotFound)

		clk.Advance(time.Minute)
		must(t, s.UpdateConnectionToken(ctx, "beta", []byte("resealed"), "key2"))
		got, err = s.GetConnection(ctx, "beta")
		must(t, err)
		if string(got.SealedToken) != "resealed" || got.KeyID != "key2" || !got.UpdatedAt.Equal(stored(clk.Now())) || !got.CreatedAt.Equal(beta.CreatedAt) {
			t.Errorf("after UpdateConnectionToken: %+v", got)
		}
		wantErr(t, s.UpdateConnectionToken(ctx, "nope", []byte("x"), "k"), store.ErrNotFound)

		must(t, s.DeleteConnection(ctx, "beta"))
		wantErr(t, s.DeleteConnection(ctx, "beta"), store.ErrNotFound)
		_, err = s.GetConnection(ctx, "beta")
		wantErr(t, err, store.ErrNotFound)
	})
}

func TestConnectionDeletedKeepsItsRuns(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		_, err := s.CreateConnection(ctx, newConnection("prod"))
		must(t, err)
		r, err := s.CreateRun(ctx, newRun("m1"))
		must(t, err)
		must(t, s.DeleteConnection(ctx, "prod"))
		if _, err := s.GetRun(ctx, r.ID); err != nil {
			t.Fatalf("run of a deleted connection: %v", err)
		}
	})
}
