package store_test

import (
	"context"
	"testing"

	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/google/go-cmp/cmp"
)

func TestColumnLineageRoundTripAndResync(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		snap := store.Snapshot{Scope: store.CatalogScope{Key: "upload:cl", Kind: store.ScopeUpload}}
		snap.ColumnLineage = store.ColumnLineage{
			Edges: []store.ColumnEdge{
				{ChildID: "model.p.orders", ChildColumn: "amount", ParentID: "model.p.stg_payments",
					ParentRelation: "db.s.stg_payments", ParentColumn: "amount", Kind: store.ColumnTransform},
				{ChildID: "model.p.orders", ChildColumn: "id", ParentID: "model.p.stg_orders",
					ParentRelation: "db.s.stg_orders", ParentColumn: "id", Kind: store.ColumnCopy, Via: []string{"model.p.eph", "model.p.eph2"}},
				{ChildID: "model.p.orders", ChildColumn: "", ParentID: "model.p.stg_orders",
					ParentRelation: "db.s.stg_orders", ParentColumn: "id", Kind: store.ColumnJoin},
				{ChildID: "model.p.stg_orders", ChildColumn: "id", ParentRelation: "raw.orders", ParentColumn: "ID", Kind: store.ColumnCopy},
			},
			Gaps: []store.ColumnGap{{UniqueID: "model.p.orders", Column: "note", Reason: "column note is ambiguous"}},
		}
		scope, err := s.WriteSnapshot(ctx, snap)
		if err != nil {
			t.Fatal(err)
		}
		up, err := s.ColumnParents(ctx, scope.ID, "model.p.orders", "ID")
		if err != nil {
			t.Fatal(err)
		}
		want := []store.ColumnEdge{
			{ScopeID: scope.ID, ChildID: "model.p.orders", ChildColumn: "id", ParentID: "model.p.stg_orders",
				ParentRelation: "db.s.stg_orders", ParentColumn: "id", Kind: store.ColumnCopy, Via: []string{"model.p.eph", "model.p.eph2"}},
			{ScopeID: scope.ID, ChildID: "model.p.orders", ChildColumn: "", ParentID: "model.p.stg_orders",
				ParentRelation: "db.s.stg_orders", ParentColumn: "id", Kind: store.ColumnJoin},
		}
		if diff := cmp.Diff(want, up); diff != "" {
			t.Errorf("parents (-want +got):\n%s", diff)
		}
		down, err := s.ColumnChildren(ctx, scope.ID, "model.p.stg_orders", "id")
		if err != nil {
			t.Fatal(err)
		}
		if len(down) != 2 || down[0].ChildColumn != "" || down[1].ChildColumn != "id" {
			t.Errorf("children: %+v", down)
		}
		gaps, err := s.ColumnGaps(ctx, scope.ID, "model.p.orders")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]store.ColumnGap{{ScopeID: scope.ID, UniqueID: "model.p.orders", Column: "note", Reason: "column note is ambiguous"}}, gaps); diff != "" {
			t.Errorf("gaps (-want +got):\n%s", diff)
		}
		// A re-sync replaces the rows.
		snap.ColumnLineage = store.ColumnLineage{}
		if _, err := s.WriteSnapshot(ctx, snap); err != nil {
			t.Fatal(err)
		}
		up, err = s.ColumnParents(ctx, scope.ID, "model.p.orders", "id")
		if err != nil || len(up) != 0 {
			t.Errorf("after resync: %v, %v", up, err)
		}
		gaps, err = s.ColumnGaps(ctx, scope.ID, "model.p.orders")
		if err != nil || len(gaps) != 0 {
			t.Errorf("gaps after resync: %v, %v", gaps, err)
		}
	})
}
