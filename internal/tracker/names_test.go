package tracker

import (
	"log/slog"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
	"github.com/dbtlink/dbtlink/internal/store/storetest"
)

// Names reads every project and environment once and answers from its
// cache afterwards: a miss reloads at most every jobReloadEvery, and
// everything is read again after jobCacheTTL. The emulator refusing the
// project list after the first load shows which calls reached it.
func TestNamesCache(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emu.Close)
	local := &localClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	tr, err := New(ctx, Config{Store: storetest.Open(t, storetest.Backends(t)[0]), Keys: newKeys(t),
		Logger: slog.New(slog.DiscardHandler), Now: local.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.AddConnection(ctx, NewConnection{Name: "emu", Host: emu.URL, AccountID: emu.AccountID, Token: emu.Token}); err != nil {
		t.Fatal(err)
	}
	known := func(what string, wantErr bool, projects, envs []int64) {
		t.Helper()
		n, err := tr.Names(ctx, "emu", projects, envs)
		if (err != nil) != wantErr {
			t.Fatalf("%s: err = %v, want an error: %v", what, err, wantErr)
		}
		// A failed reload still returns the names read before.
		if n.Projects[emulator.DemoProjectID] != "analytics" || n.Environments[emulator.DemoProductionEnvID] != "Production" ||
			n.Projects[emulator.DemoLegacyProjectID] != "analytics_legacy" {
			t.Fatalf("%s: names = %+v", what, n)
		}
	}
	ours := []int64{emulator.DemoProjectID}
	known("first load", false, ours, []int64{emulator.DemoProductionEnvID})
	if _, err := emu.InjectFault(emulator.Fault{Path: "GET /api/v3/accounts/{a}/projects/", Kind: emulator.FaultStatus, Status: 403, Times: -1}); err != nil {
		t.Fatal(err)
	}
	known("cached", false, ours, nil)
	known("a miss just after a load is not reloaded", false, []int64{999}, nil)
	local.Advance(jobReloadEvery)
	known("a miss later is reloaded", true, []int64{999}, nil)
	known("known ids within the TTL", false, ours, nil)
	local.Advance(jobCacheTTL)
	known("known ids after the TTL are reloaded", true, ours, nil)
}
