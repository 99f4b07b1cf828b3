//go:build cgo

package web

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
	"github.com/dbtlink/dbtlink/internal/catalog"
	"github.com/dbtlink/dbtlink/internal/server"
	"github.com/dbtlink/dbtlink/internal/servetest"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/tracker"
)

// stack is the whole of `dbtlink serve` in-process: the emulator on a
// fast real clock, a SQLite store, the tracker, the catalog (the
// emulator's project built in DuckDB, crawled, then synced after a docs
// build and a failing build), the API with the web UI mounted, and a read
// and a write token.
type stack struct {
	emu    *emulator.Server
	st     *store.Store
	tr     *tracker.Tracker
	cat    *catalog.API
	ts     *httptest.Server
	read   string
	write  string
	failed catalog.TestRow // a failing test on a column
}

// stackSpeed makes an emulated minute last three real seconds: job 301
// (one 60 s step) is seen running for about that long, job 303 (20 min)
// runs for a minute, long enough to be cancelled.
const stackSpeed = 20

func newStack(t *testing.T) *stack {
	t.Helper()
	ctx := context.Background()
	base := servetest.New(t, stackSpeed, "web test setup")
	emu, st, tr, cat, log := base.Emu, base.Store, base.Tracker, base.Catalog, base.Logger

	ui, err := New(Config{Catalog: cat, Runs: tr, Tokens: st, HashToken: server.HashToken, Logger: log, LiveTick: 50 * time.Millisecond, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Backend: servetest.Backend{Tracker: tr, Store: st}, Logger: log, Catalog: cat, Web: ui})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	s := &stack{emu: emu, st: st, tr: tr, cat: cat, ts: ts, read: servetest.Token(t, st, "reader", store.ScopeRead), write: servetest.Token(t, st, "writer", store.ScopeWrite)}
	fails, err := cat.Tests(ctx, catalog.TestQuery{Failing: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fails {
		if f.Column != "" && f.TableID != 0 {
			s.failed = f
			break
		}
	}
	if s.failed.UniqueID == "" {
		t.Fatalf("the setup has no failing test on a column: %+v", fails)
	}
	return s
}
