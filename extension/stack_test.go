//go:build cgo

package extension

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
	ctx := context.Background()
	emu, err := emulator.New(emulator.Options{Clock: emulator.NewRealClock(20), RateLimitPerMinute: -1})
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
	if _, err := cat.CreateWarehouse(ctx, catalog.NewWarehouse{Config: warehouse.Config{Name: "duck", Type: warehouse.DuckDB, DSN: duckWarehouse(t)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cat.CrawlWarehouse(ctx, "duck", nil); err != nil {
		t.Fatal(err)
	}
	for _, job := range []int64{emulator.DemoDocsJobID, emulator.DemoFailingJobID} {
		run, err := tr.CreateRun(ctx, tracker.RunRequest{JobID: job, Trigger: dbtcloud.TriggerRunRequest{Cause: "extension test setup"}})
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
	plain, prefix, hash, err := server.GenerateToken()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateAPIToken(ctx, store.APIToken{Name: "browser", Prefix: prefix, Hash: hash, Scope: store.ScopeRead}); err != nil {
		t.Fatal(err)
	}
	return &stack{emu: emu, st: st, tr: tr, cat: cat, read: plain}
}

// duckWarehouse builds the emulator project's warehouse in a DuckDB file
// named after its database, so names match the manifest's.
func duckWarehouse(t *testing.T) string {
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
		if _, err := db.ExecContext(t.Context(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return path
}

// apiBackend is server.Backend over the tracker and the store, as
// `dbtlink serve` wires it.
type apiBackend struct {
	*tracker.Tracker
	st *store.Store
}

func (b apiBackend) CreateConnection(ctx context.Context, in server.ConnectionInput) (store.Connection, error) {
	return b.AddConnection(ctx, tracker.NewConnection{Name: in.Name, Host: in.Host, AccountID: in.AccountID, Token: in.Token, Default: in.Default})
}

func (b apiBackend) ApplyWebhook(ctx context.Context, conn string, ev *dbtcloud.WebhookEvent, raw []byte) (server.WebhookOutcome, error) {
	o, err := b.Tracker.ApplyWebhook(ctx, conn, ev, raw)
	return server.WebhookOutcome(o), err
}

func (b apiBackend) APITokenByHash(ctx context.Context, hash []byte) (store.APIToken, error) {
	return b.st.APITokenByHash(ctx, hash)
}

func (b apiBackend) TouchAPIToken(ctx context.Context, id int64, at time.Time) error {
	return b.st.TouchAPIToken(ctx, id, at)
}
