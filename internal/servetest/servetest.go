//go:build cgo

// Package servetest builds, for tests, what `dbtlink serve` runs
// in-process over the emulator: a store, the tracker, and a catalog whose
// warehouse is the emulator's project built in DuckDB, crawled, then
// synced after a docs build and a failing build. The web UI's and the
// browser extension's tests start from it, each adding its own HTTP side.
// It needs cgo for DuckDB.
package servetest

import (
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
	"github.com/dbtlink/dbtlink/internal/catalog"
	"github.com/dbtlink/dbtlink/internal/connection"
	"github.com/dbtlink/dbtlink/internal/server"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/store/storetest"
	"github.com/dbtlink/dbtlink/internal/tracker"
	"github.com/dbtlink/dbtlink/internal/warehouse"
)

// Stack is the emulator, the store, the started tracker (connection
// "emu") and the synced catalog.
type Stack struct {
	Emu     *emulator.Server
	Store   *store.Store
	Tracker *tracker.Tracker
	Catalog *catalog.API
	Logger  *slog.Logger
}

// New builds a Stack whose emulator runs speed emulated seconds a real
// second; cause is the trigger cause of the setup's runs. Everything is
// closed when t ends.
func New(t testing.TB, speed float64, cause string) *Stack {
	t.Helper()
	ctx := context.Background()
	emu, err := emulator.New(emulator.Options{Clock: emulator.NewRealClock(speed), RateLimitPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emu.Close)
	st := storetest.Open(t, storetest.Backends(t)[0])
	keys, err := connection.NewStore(t.TempDir(), connection.WithGetenv(func(string) string { return "" }))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	cat := catalog.NewAPI(&catalog.Service{Store: st, Logger: log}, keys, nil)
	tr, err := tracker.New(ctx, tracker.Config{
		Store: st, Keys: keys, Logger: log,
		PollMin: 20 * time.Millisecond, PollMax: 200 * time.Millisecond, RescueAfter: 3 * time.Second, FetchInterval: 20 * time.Millisecond,
		ClientOptions: []dbtcloud.Option{dbtcloud.WithRetryPolicy(dbtcloud.RetryPolicy{MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})},
	})
	if err != nil {
		t.Fatal(err)
	}
	cat.Clients = tr
	if _, err := tr.AddConnection(ctx, tracker.NewConnection{Name: "emu", Host: emu.URL, AccountID: emu.AccountID, Token: emu.Token, Default: true}); err != nil {
		t.Fatal(err)
	}
	if err := tr.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := tr.Stop(sctx); err != nil {
			t.Errorf("stop the tracker: %v", err)
		}
	})

	// The warehouse, then two dbt Cloud runs, then the sync.
	if _, err := cat.CreateWarehouse(ctx, catalog.NewWarehouse{Config: warehouse.Config{Name: "duck", Type: warehouse.DuckDB, DSN: DuckWarehouse(t)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cat.CrawlWarehouse(ctx, "duck", nil); err != nil {
		t.Fatal(err)
	}
	for _, job := range []int64{emulator.DemoDocsJobID, emulator.DemoFailingJobID} {
		run, err := tr.CreateRun(ctx, tracker.RunRequest{JobID: job, Trigger: dbtcloud.TriggerRunRequest{Cause: cause}})
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(60 * time.Second)
		for !run.State.Terminal() {
			if time.Now().After(deadline) {
				t.Fatalf("run of job %d did not end: %+v", job, run)
			}
			if run, err = tr.WaitRun(ctx, run.ID, 5*time.Second); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := cat.SyncConnections(ctx, "emu", catalog.SyncOptions{}); err != nil {
		t.Fatalf("sync: %v", err)
	}
	return &Stack{Emu: emu, Store: st, Tracker: tr, Catalog: cat, Logger: log}
}

// Token stores an API token of scope named name and returns it in plain.
func Token(t testing.TB, st *store.Store, name string, scope store.Scope) string {
	t.Helper()
	plain, prefix, hash, err := server.GenerateToken()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateAPIToken(context.Background(), store.APIToken{Name: name, Prefix: prefix, Hash: hash, Scope: scope}); err != nil {
		t.Fatal(err)
	}
	return plain
}

// DuckWarehouse builds the emulator project's warehouse in a DuckDB file
// named after its database, so names match the manifest's.
func DuckWarehouse(t testing.TB) string {
	t.Helper()
	wh, err := emulator.ProjectWarehouse(emulator.WarehouseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stmts, err := wh.DDL(emulator.DDLOptions{Dialect: "duckdb"})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), wh.Database+".duckdb")
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.ExecContext(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return path
}

// Backend is server.Backend over the tracker and the store, as `dbtlink
// serve` wires it (internal/cli's backend, which tests elsewhere cannot
// import).
type Backend struct {
	*tracker.Tracker
	Store *store.Store
}

// CreateConnection implements server.Backend.
func (b Backend) CreateConnection(ctx context.Context, in server.ConnectionInput) (store.Connection, error) {
	return b.AddConnection(ctx, tracker.NewConnection{Name: in.Name, Host: in.Host, AccountID: in.AccountID, Token: in.Token, Default: in.Default})
}

// ApplyWebhook implements server.Backend.
func (b Backend) ApplyWebhook(ctx context.Context, conn string, ev *dbtcloud.WebhookEvent, raw []byte) (server.WebhookOutcome, error) {
	o, err := b.Tracker.ApplyWebhook(ctx, conn, ev, raw)
	return server.WebhookOutcome(o), err
}

// APITokenByHash implements server.Backend.
func (b Backend) APITokenByHash(ctx context.Context, hash []byte) (store.APIToken, error) {
	return b.Store.APITokenByHash(ctx, hash)
}

// TouchAPIToken implements server.Backend.
func (b Backend) TouchAPIToken(ctx context.Context, id int64, at time.Time) error {
	return b.Store.TouchAPIToken(ctx, id, at)
}
