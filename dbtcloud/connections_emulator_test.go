package dbtcloud_test

import (
	"testing"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
)

// TestEmulatorConnections reads the emulated project's connection the
// three ways: with the project, by id, and listed; all agree.
func TestEmulatorConnections(t *testing.T) {
	t.Parallel()
	b := newEmuBench(t, emulator.Options{})
	ctx, acct := t.Context(), b.srv.AccountID
	p, _, err := b.c.Projects.Get(ctx, acct, emulator.DemoProjectID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Connection == nil || p.Connection.ID != p.ConnectionID || p.Connection.Adapter() != "duckdb" || p.Connection.Details.String("path") != "jaffle_shop.duckdb" {
		t.Fatalf("project's connection %+v", p.Connection)
	}
	c, _, err := b.c.Connections.Get(ctx, acct, emulator.DemoProjectID, p.ConnectionID)
	if err != nil || c.ID != p.ConnectionID || c.Adapter() != "duckdb" || c.Details.String("database") != "jaffle_shop" {
		t.Errorf("Connections.Get = %+v, %v", c, err)
	}
	var ids []int64
	for conn, err := range b.c.Connections.ListIter(ctx, acct, emulator.DemoProjectID, &dbtcloud.ConnectionListOptions{State: dbtcloud.StateActive}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, conn.ID)
	}
	if len(ids) != 1 || ids[0] != p.ConnectionID {
		t.Errorf("Connections.ListIter = %v, want [%d]", ids, p.ConnectionID)
	}
	if _, _, err := b.c.Connections.Get(ctx, acct, emulator.DemoLegacyProjectID, p.ConnectionID); err == nil {
		t.Error("another project's connection was found")
	}
}
