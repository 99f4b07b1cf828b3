//go:build cgo

package extension

import (
	"testing"

	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
	"github.com/dbtlink/dbtlink/internal/catalog"
	"github.com/dbtlink/dbtlink/internal/servetest"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/tracker"
)

// stack is what the extension talks to, in-process: the emulator (whose
// stand-in pages the browser opens), a SQLite store, the tracker and a
// catalog built as internal/web's tests build theirs: the emulator's project
// in DuckDB, crawled, then synced after a docs build and a failing build.
type stack struct {
	emu  *emulator.Server
	st   *store.Store
	tr   *tracker.Tracker
	cat  *catalog.API
	read string
}

func newStack(t *testing.T) *stack {
	t.Helper()
	base := servetest.New(t, 20, "extension test setup")
	return &stack{emu: base.Emu, st: base.Store, tr: base.Tracker, cat: base.Catalog,
		read: servetest.Token(t, base.Store, "browser", store.ScopeRead)}
}
