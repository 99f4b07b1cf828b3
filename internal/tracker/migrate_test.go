package tracker_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/dbtlink/dbtlink/internal/connection"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/store/storetest"
	"github.com/dbtlink/dbtlink/internal/tracker"
)

// TestNewConcurrentPostgres: servers started together on a new PostgreSQL
// schema all start; River's migrations are applied once, not raced.
func TestNewConcurrentPostgres(t *testing.T) {
	t.Parallel()
	var pg storetest.Backend
	for _, b := range storetest.Backends(t) {
		if b.Name == string(store.Postgres) {
			pg = b
		}
	}
	if pg.DSN == "" {
		t.Skipf("needs PostgreSQL: set %s", storetest.EnvPostgres)
	}
	keys, err := connection.NewStore(t.TempDir(), connection.WithGetenv(func(string) string { return "" }))
	if err != nil {
		t.Fatal(err)
	}
	const servers = 4
	stores := make([]*store.Store, servers)
	for i := range stores {
		stores[i] = storetest.Open(t, pg)
	}
	errs := make([]error, servers)
	var wg sync.WaitGroup
	for i, st := range stores {
		wg.Go(func() {
			_, errs[i] = tracker.New(context.Background(), tracker.Config{Store: st, Keys: keys, Logger: slog.New(slog.DiscardHandler)})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("server %d: %v", i, err)
		}
	}
}
