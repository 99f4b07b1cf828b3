//go:build cgo

package catalog

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
	"github.com/dbtlink/dbtlink/internal/connection"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/store/storetest"
	"github.com/dbtlink/dbtlink/internal/warehouse"
)

// badClients gives clients whose token dbt Cloud refuses.
type badClients struct{ client *dbtcloud.Client }

func (b badClients) ListConnections(ctx context.Context) ([]store.Connection, error) {
	return []store.Connection{{Name: "a", AccountID: 1}, {Name: "b", AccountID: 1}}, nil
}

func (b badClients) CloudClient(ctx context.Context, name string) (*dbtcloud.Client, store.Connection, error) {
	return b.client, store.Connection{Name: name, AccountID: 1}, nil
}

func TestWarehouses(t *testing.T) {
	t.Parallel()
	for _, be := range storetest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			st := storetest.Open(t, be)
			keys, err := connection.NewStore(t.TempDir(), connection.WithGetenv(func(string) string { return "" }))
			if err != nil {
				t.Fatal(err)
			}
			api := NewAPI(&Service{Store: st}, keys, nil)

			_, err = api.CreateWarehouse(ctx, NewWarehouse{Config: warehouse.Config{Name: "pg", Type: warehouse.Postgres, DSN: "postgres://u:secret-pw@h/db"}})
			var input *InputError
			if !errors.As(err, &input) || !strings.Contains(err.Error(), "holds a password") || strings.Contains(err.Error(), "secret-pw") {
				t.Errorf("DSN with a password: %v", err)
			}
			if _, err := api.CreateWarehouse(ctx, NewWarehouse{Config: warehouse.Config{Name: "pg", Type: warehouse.Postgres, DSN: "postgres://u@127.0.0.1:1/db"}, Password: "secret-pw"}); err != nil {
				t.Fatal(err)
			}
			cfg, tok, err := api.Config(ctx, "pg")
			if err != nil || tok.Reveal() != "secret-pw" || cfg.Name != "pg" || cfg.DSN != "postgres://u@127.0.0.1:1/db" {
				t.Errorf("config %v, password opened %t, err %v", cfg, tok.Reveal() == "secret-pw", err)
			}
			if _, err := api.CreateWarehouse(ctx, NewWarehouse{Config: warehouse.Config{Name: "pg", Type: warehouse.Postgres, DSN: "postgres://u@h/db"}}); !errors.Is(err, store.ErrExists) {
				t.Errorf("second pg: %v", err)
			}

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
			for _, s := range stmts {
				if _, err := db.ExecContext(ctx, s); err != nil {
					t.Fatal(err)
				}
			}
			db.Close()
			if _, err := api.CreateWarehouse(ctx, NewWarehouse{Config: warehouse.Config{Name: "duck", Type: warehouse.DuckDB, DSN: path}}); err != nil {
				t.Fatal(err)
			}
			// The scheduled crawl: pg cannot be reached, duck is crawled
			// all the same.
			err = api.CrawlWarehouses(ctx)
			var connect *warehouse.ConnectError
			if !errors.As(err, &connect) || connect.Warehouse != "pg" {
				t.Errorf("crawl all: %v, want pg's connect error", err)
			}
			views, err := api.ListWarehouses(ctx)
			if err != nil || len(views) != 2 {
				t.Fatalf("list: %v %v", views, err)
			}
			for _, v := range views {
				want := map[string]string{"duck": store.SyncOK, "pg": store.SyncError}[v.Name]
				if v.LatestCrawl == nil || v.LatestCrawl.Status != want {
					t.Errorf("%s: latest crawl %+v, want %s", v.Name, v.LatestCrawl, want)
				}
				if v.Name == "duck" && (v.HasPassword || v.LatestCrawl.Added != len(wh.Relations)) {
					t.Errorf("duck: %+v, want %d tables added", v, len(wh.Relations))
				}
			}
			testReplaceWarehouse(t, api, st, path, len(wh.Relations))
			if err := api.DeleteWarehouse(ctx, "pg"); err != nil {
				t.Fatal(err)
			}
			if _, err := api.GetWarehouse(ctx, "pg"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("deleted pg: %v", err)
			}
		})
	}
}

// testReplaceWarehouse replaces the crawled warehouse duck (a DuckDB file
// at path with n tables): a replacement that fails its test changes
// nothing, one that passes changes the configuration and keeps the crawled
// tables, their user descriptions and the crawl history; a crawl says its
// steps.
func testReplaceWarehouse(t *testing.T, api *API, st *store.Store, path string, n int) {
	t.Helper()
	ctx := t.Context()
	tables, err := st.ListCatalogTables(ctx, store.ListTablesParams{Warehouse: "duck"})
	if err != nil || len(tables) != n {
		t.Fatalf("duck tables: %d, %v", len(tables), err)
	}
	if err := st.SetTableDescription(ctx, tables[0].ID, "kept by hand"); err != nil {
		t.Fatal(err)
	}
	before, err := api.GetWarehouse(ctx, "duck")
	if err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.duckdb")
	_, _, err = api.ReplaceWarehouse(ctx, NewWarehouse{Config: warehouse.Config{Name: "duck", Type: warehouse.DuckDB, DSN: missing}}, true)
	var connect *warehouse.ConnectError
	if !errors.As(err, &connect) {
		t.Errorf("replace with a missing file: %v, want a connect error", err)
	}
	if v, err := api.GetWarehouse(ctx, "duck"); err != nil || v.Config.DSN != path {
		t.Errorf("after a failed replace: %+v, %v; want the old DSN kept", v.Config, err)
	}
	if _, _, err := api.ReplaceWarehouse(ctx, NewWarehouse{Config: warehouse.Config{Name: "nope", Type: warehouse.DuckDB, DSN: path}}, true); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("replace nope: %v, want not found", err)
	}
	cfg := warehouse.Config{Name: "duck", Type: warehouse.DuckDB, DSN: path, Filter: warehouse.Filter{ExcludeTables: []string{"tmp_*"}}}
	v, info, err := api.ReplaceWarehouse(ctx, NewWarehouse{Config: cfg}, true)
	if err != nil {
		t.Fatal(err)
	}
	if info == nil || info.Tables == 0 {
		t.Errorf("replace: test info %+v", info)
	}
	if len(v.Config.Filter.ExcludeTables) != 1 || !v.CreatedAt.Equal(before.CreatedAt) || v.LatestCrawl == nil || v.LatestCrawl.ID != before.LatestCrawl.ID {
		t.Errorf("replaced: %+v; want the new filter, the creation time and the latest crawl of %+v", v, before)
	}
	got, err := st.GetCatalogTable(ctx, tables[0].ID)
	if err != nil || got.UserDescription != "kept by hand" {
		t.Errorf("after replace: table %+v, %v; want its description kept", got, err)
	}
	var steps []string
	c, err := api.CrawlWarehouse(ctx, "duck", func(s string) { steps = append(steps, s) })
	if err != nil || c.Added != 0 || c.TablesSeen != n {
		t.Errorf("crawl after replace: %+v, %v", c, err)
	}
	if len(steps) < 3 || !strings.HasPrefix(steps[0], "connect to ") || !strings.HasPrefix(steps[len(steps)-1], "applied: ") {
		t.Errorf("crawl progress %q", steps)
	}
}

func TestSyncConnectionsNothingListed(t *testing.T) {
	t.Parallel()
	emu := newEmu(t)
	cl, err := dbtcloud.NewClient(emu.srv.URL, "not-a-token", dbtcloud.WithHTTPClient(emu.srv.Client()),
		dbtcloud.WithRetryPolicy(dbtcloud.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	st := storetest.Open(t, storetest.Backends(t)[0])
	api := NewAPI(&Service{Store: st}, nil, badClients{cl})
	res, err := api.SyncConnections(t.Context(), "", SyncOptions{})
	if !errors.Is(err, ErrNothingListed) || len(res) != 2 {
		t.Fatalf("results %v, err %v", res, err)
	}
	for _, r := range res {
		if r.Status != store.SyncError || r.Error == "" {
			t.Errorf("%s: %s %q", r.ScopeKey, r.Status, r.Error)
		}
	}
	if err := api.SyncConnection(t.Context(), "a", "schedule"); err == nil || errors.Is(err, ErrNothingListed) {
		t.Errorf("one connection: %v, want its own error", err)
	}
}
