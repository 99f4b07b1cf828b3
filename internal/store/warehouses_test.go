package store_test

import (
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/google/go-cmp/cmp"
)

func newWarehouse(name string) store.Warehouse {
	return store.Warehouse{
		Name:         name,
		Type:         "postgres",
		Config:       []byte(`{"host":"db.internal","database":"analytics"}`),
		SealedSecret: []byte("sealed:" + name),
		KeyID:        "key1",
	}
}

func TestWarehouses(t *testing.T) {
	t.Parallel()
	eachWithClock(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := t.Context()
		created, err := s.CreateWarehouse(ctx, newWarehouse("prod"))
		must(t, err)
		want := newWarehouse("prod")
		want.CreatedAt, want.UpdatedAt = stored(clk.Now()), stored(clk.Now())
		if diff := cmp.Diff(want, created); diff != "" {
			t.Errorf("CreateWarehouse returned (-want +got):\n%s", diff)
		}
		got, err := s.GetWarehouse(ctx, "prod")
		must(t, err)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GetWarehouse (-want +got):\n%s", diff)
		}
		_, err = s.CreateWarehouse(ctx, newWarehouse("prod"))
		wantErr(t, err, store.ErrExists)

		// No secret is NULL and reads back nil.
		bare := newWarehouse("alpha")
		bare.SealedSecret, bare.KeyID = nil, ""
		_, err = s.CreateWarehouse(ctx, bare)
		must(t, err)
		got, err = s.GetWarehouse(ctx, "alpha")
		must(t, err)
		if got.SealedSecret != nil {
			t.Errorf("warehouse without secret read back SealedSecret %q", got.SealedSecret)
		}

		list, err := s.ListWarehouses(ctx)
		must(t, err)
		var names []string
		for _, w := range list {
			names = append(names, w.Name)
		}
		if diff := cmp.Diff([]string{"alpha", "prod"}, names); diff != "" {
			t.Errorf("ListWarehouses names (-want +got):\n%s", diff)
		}

		clk.Advance(time.Minute)
		upd := newWarehouse("prod")
		upd.Type, upd.Config, upd.SealedSecret, upd.KeyID = "snowflake", []byte(`{"account":"x"}`), []byte("new"), "key2"
		updated, err := s.UpdateWarehouse(ctx, upd)
		must(t, err)
		want = upd
		want.CreatedAt, want.UpdatedAt = created.CreatedAt, stored(clk.Now())
		if diff := cmp.Diff(want, updated); diff != "" {
			t.Errorf("UpdateWarehouse returned (-want +got):\n%s", diff)
		}
		_, err = s.UpdateWarehouse(ctx, newWarehouse("nope"))
		wantErr(t, err, store.ErrNotFound)

		// Key rotation: find what is still on a key, reseal it.
		on2, err := s.WarehousesSealedWith(ctx, "key2")
		must(t, err)
		if len(on2) != 1 || on2[0].Name != "prod" {
			t.Errorf("WarehousesSealedWith(key2) = %+v, want prod alone", on2)
		}
		on0, err := s.WarehousesSealedWith(ctx, "")
		must(t, err)
		if len(on0) != 0 {
			t.Errorf("WarehousesSealedWith(\"\") lists warehouses without a secret: %+v", on0)
		}
		must(t, s.UpdateWarehouseSecret(ctx, "prod", []byte("resealed"), "key3"))
		got, err = s.GetWarehouse(ctx, "prod")
		must(t, err)
		if string(got.SealedSecret) != "resealed" || got.KeyID != "key3" || string(got.Config) != `{"account":"x"}` {
			t.Errorf("after UpdateWarehouseSecret: %+v", got)
		}
		wantErr(t, s.UpdateWarehouseSecret(ctx, "nope", []byte("x"), "k"), store.ErrNotFound)

		must(t, s.DeleteWarehouse(ctx, "prod"))
		wantErr(t, s.DeleteWarehouse(ctx, "prod"), store.ErrNotFound)
		_, err = s.GetWarehouse(ctx, "prod")
		wantErr(t, err, store.ErrNotFound)
	})
}

func TestWarehouseRefusesIncomplete(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		for _, tc := range []struct {
			name string
			edit func(*store.Warehouse)
		}{
			{"no name", func(w *store.Warehouse) { w.Name = "" }},
			{"no type", func(w *store.Warehouse) { w.Type = "" }},
			{"no config", func(w *store.Warehouse) { w.Config = nil }},
		} {
			w := newWarehouse("w")
			tc.edit(&w)
			if _, err := s.CreateWarehouse(t.Context(), w); err == nil {
				t.Errorf("%s: CreateWarehouse accepted %+v", tc.name, w)
			}
		}
		if list, err := s.ListWarehouses(t.Context()); err != nil || len(list) != 0 {
			t.Errorf("after refused creates: %v, %v", list, err)
		}
	})
}
