package catalog_test

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to build the PostgreSQL warehouse

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
	"github.com/dbtlink/dbtlink/internal/catalog"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/store/storetest"
	"github.com/dbtlink/dbtlink/internal/warehouse"
)

// The end-to-end proof of issue 8, section 6: the emulator builds its
// project's tables in a real warehouse and runs its jobs (one failing a
// test); the catalog crawls the warehouse and syncs the runs with a
// read-only (Analyst) token, on each store backend.

const (
	omitted      = "model.jaffle_shop.locations" // its table is left out of the warehouse
	extraSchema  = "main"
	extraTable   = "orphan_table" // a table no node claims
	accountID    = 1
	emulatorTime = "2026-03-12T06:00:00Z"
)

type e2e struct {
	svc    *catalog.Service
	st     *store.Store
	emu    *emulator.Server
	admin  *dbtcloud.Client // triggers runs
	reader *dbtcloud.Client // Analyst: what the sync uses
	cfg    warehouse.Config
	exec   func(t *testing.T, stmt string)
}

func newEmulator(t *testing.T) (*emulator.Server, *dbtcloud.Client, *dbtcloud.Client) {
	t.Helper()
	at, _ := time.Parse(time.RFC3339, emulatorTime)
	srv, err := emulator.New(emulator.Options{Clock: emulator.NewFakeClock(at), RateLimitPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	client := func(token string) *dbtcloud.Client {
		c, err := dbtcloud.NewClient(srv.URL, token, dbtcloud.WithHTTPClient(srv.Client()),
			dbtcloud.WithRetryPolicy(dbtcloud.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond}))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	return srv, client(emulator.DemoToken), client(emulator.DemoAnalystToken)
}

// runJob triggers a job and moves the emulator's clock until the run ends.
func runJob(t *testing.T, srv *emulator.Server, c *dbtcloud.Client, jobID int64) *dbtcloud.Run {
	t.Helper()
	r, _, err := c.Runs.Trigger(t.Context(), accountID, jobID, &dbtcloud.TriggerRunRequest{Cause: "catalog e2e"})
	if err != nil {
		t.Fatalf("trigger job %d: %v", jobID, err)
	}
	for range 500 {
		srv.Advance(10 * time.Second)
		got, _, err := c.Runs.Get(t.Context(), accountID, r.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status.Terminal() {
			return got
		}
	}
	t.Fatalf("run %d of job %d did not end", r.ID, jobID)
	return nil
}

// buildWarehouse creates the project's relations (less one, plus an
// unclaimed table) through db, in the given dialect.
func buildWarehouse(t *testing.T, db *sql.DB, dialect string) {
	t.Helper()
	w, err := emulator.ProjectWarehouse(emulator.WarehouseOptions{
		Omit:  []string{omitted},
		Extra: []emulator.Relation{{Schema: extraSchema, Identifier: extraTable, Columns: []emulator.Column{{Name: "id", Type: "BIGINT", Position: 1}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	stmts, err := w.DDL(emulator.DDLOptions{Dialect: dialect})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(t.Context(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func duckdbWarehouse(t *testing.T) (warehouse.Config, func(*testing.T, string)) {
	t.Helper()
	// The manifest's database is jaffle_shop: DuckDB names a file's
	// catalog after the file.
	path := filepath.Join(t.TempDir(), "jaffle_shop.duckdb")
	exec := func(t *testing.T, stmt string) {
		t.Helper()
		db, err := sql.Open("duckdb", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.ExecContext(t.Context(), stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	buildWarehouse(t, db, "duckdb")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return warehouse.Config{Name: "duck", Type: warehouse.DuckDB, DSN: path}, exec
}

// postgresWarehouse builds the project in a PostgreSQL database named as
// the manifest's (jaffle_shop), on the server of DBTLINK_TEST_POSTGRES.
func postgresWarehouse(t *testing.T) (warehouse.Config, func(*testing.T, string)) {
	t.Helper()
	dsn := os.Getenv(storetest.EnvPostgres)
	if dsn == "" {
		if os.Getenv(storetest.EnvRequirePostgres) != "" {
			t.Fatalf("%s is not set and %s requires PostgreSQL", storetest.EnvPostgres, storetest.EnvRequirePostgres)
		}
		t.Skipf("%s is not set: the PostgreSQL warehouse is not tested", storetest.EnvPostgres)
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var exists bool
	if err := admin.QueryRowContext(t.Context(), `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'jaffle_shop')`).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if !exists {
		if _, err := admin.ExecContext(t.Context(), `CREATE DATABASE jaffle_shop`); err != nil && !strings.Contains(err.Error(), "already exists") {
			t.Fatal(err)
		}
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/jaffle_shop"
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	// One test at a time owns the jaffle_shop schemas.
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(t.Context(), `SELECT pg_advisory_lock(8008)`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(8008)`)
		_ = conn.Close()
	})
	exec := func(t *testing.T, stmt string) {
		t.Helper()
		if _, err := db.ExecContext(t.Context(), stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	exec(t, `DROP SCHEMA IF EXISTS main CASCADE`)
	exec(t, `DROP SCHEMA IF EXISTS raw CASCADE`)
	buildWarehouse(t, db, "postgres")
	host := u.Hostname()
	port := 5432
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			t.Fatal(err)
		}
	}
	return warehouse.Config{Name: "pg", Type: warehouse.Postgres, Host: host, Port: port, Database: "jaffle_shop", User: u.User.Username(), SSLMode: "disable",
		Filter: warehouse.Filter{IncludeSchemas: []string{"main", "raw"}}}, exec
}

func TestEndToEnd(t *testing.T) {
	warehouses := []struct {
		name  string
		build func(t *testing.T) (warehouse.Config, func(*testing.T, string))
	}{
		{"duckdb", duckdbWarehouse},
		{"postgres", postgresWarehouse},
	}
	for _, wh := range warehouses {
		for _, b := range storetest.Backends(t) {
			t.Run(wh.name+"/"+b.Name, func(t *testing.T) {
				cfg, exec := wh.build(t)
				st := storetest.Open(t, b)
				srv, admin, reader := newEmulator(t)
				e := &e2e{svc: &catalog.Service{Store: st}, st: st, emu: srv, admin: admin, reader: reader, cfg: cfg, exec: exec}
				e.run(t)
			})
		}
	}
}

func (e *e2e) run(t *testing.T) {
	ctx := t.Context()
	// The warehouse first.
	crawl, err := e.svc.Crawl(ctx, e.cfg, "", nil)
	if err != nil {
		t.Fatalf("crawl: %v", err)
	}
	// 19 relations of the project, less the omitted one and raw_tweets
	// (which has no known columns), plus the orphan.
	if crawl.Added < 17 || crawl.Removed != 0 {
		t.Fatalf("first crawl = %+v", crawl)
	}

	// dbt Cloud: a build, a docs build, then a build whose test fails: the
	// newest execution of each test is the one shown.
	runJob(t, e.emu, e.admin, emulator.DemoDailyJobID)
	runJob(t, e.emu, e.admin, emulator.DemoDocsJobID)
	failing := runJob(t, e.emu, e.admin, emulator.DemoFailingJobID)
	if failing.Status != dbtcloud.RunStatusError {
		t.Fatalf("job %d ended %v, want an error", emulator.DemoFailingJobID, failing.Status)
	}

	src := catalog.CloudSource{Name: "emu", AccountID: accountID, Client: e.reader}
	results, err := e.svc.SyncCloud(ctx, src, catalog.SyncOptions{}, nil)
	if err != nil {
		t.Fatalf("sync with an Analyst token: %v (%+v)", err, results)
	}
	prod := resultFor(t, results, "Production")
	if prod.Status != store.SyncOK || prod.Warehouse != e.cfg.Name {
		t.Fatalf("production sync = %+v", prod)
	}
	rep := prod.Report
	// Every model, seed and source is matched but the omitted model (and
	// the seed whose table the emulator cannot build).
	var missing []string
	for _, m := range rep.Missing {
		missing = append(missing, m.UniqueID)
	}
	slices.Sort(missing)
	if !slices.Equal(missing, []string{omitted, "seed.jaffle_shop.raw_tweets"}) {
		t.Errorf("missing = %v, want the omitted model and raw_tweets", missing)
	}
	if rep.Counts.Matched != rep.Counts.Relations-2 {
		t.Errorf("matched %d of %d relations", rep.Counts.Matched, rep.Counts.Relations)
	}
	// Column lineage: the synced manifest is the emulator's build step's, which carries compiled SQL for every
	// model but metricflow_time_spine (data/compiled_code.json in the emulator).
	if cl := rep.ColumnLineage; cl == nil || cl.Models != 12 || cl.Parsed != 12 || cl.Edges == 0 || cl.Skipped != "" {
		t.Errorf("column lineage report = %+v, want 12 models parsed with edges", cl)
	}
	up, err := e.svc.ColumnLineage(ctx, "main.customers", "customer_id", catalog.Upstream, 1)
	if err != nil {
		t.Fatalf("column lineage of customers.customer_id: %v", err)
	}
	if links := linkSet(up); !slices.Contains(links, "main.stg_customers.customer_id -> main.customers.customer_id copy") {
		t.Errorf("upstream of customers.customer_id = %q, want a copy from stg_customers.customer_id", links)
	}
	down, err := e.svc.ColumnLineage(ctx, "main.stg_orders", "order_id", catalog.Downstream, 1)
	if err != nil {
		t.Fatalf("column lineage of stg_orders.order_id: %v", err)
	}
	if links := linkSet(down); !slices.Contains(links, "main.stg_orders.order_id -> main.orders.order_id copy") {
		t.Errorf("downstream of stg_orders.order_id = %q, want a copy into orders.order_id", links)
	}

	var unclaimed []string
	for _, u := range rep.Unclaimed {
		unclaimed = append(unclaimed, u.Name)
	}
	if !slices.ContainsFunc(unclaimed, func(n string) bool { return strings.HasSuffix(n, "."+extraTable) }) {
		t.Errorf("unclaimed = %v, want the orphan table", unclaimed)
	}

	// The failing test shows on its table and its column.
	fails, err := e.svc.Tests(ctx, catalog.TestQuery{Failing: true})
	if err != nil || len(fails) == 0 {
		t.Fatalf("failing tests = %v, %v", fails, err)
	}
	ft := fails[0]
	if ft.Status != "fail" && ft.Status != "error" || ft.TableID == 0 {
		t.Fatalf("failing test = %+v, want a failure on a table", ft)
	}
	detail, err := e.svc.Table(ctx, ft.Table)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(detail.Tests, func(tr catalog.TestRow) bool { return tr.UniqueID == ft.UniqueID && tr.Status == ft.Status }) {
		t.Errorf("table %s does not show its failing test %s", ft.Table, ft.UniqueID)
	}
	if ft.Column != "" {
		col := columnOf(t, detail, ft.Column)
		if !slices.ContainsFunc(col.Tests, func(s string) bool { return strings.HasSuffix(s, ": "+ft.Status) }) {
			t.Errorf("column %s tests = %v, want the failing one", ft.Column, col.Tests)
		}
	}
	if len(detail.Models) == 0 || detail.Models[0].ExploreURL == "" || len(detail.Runs) == 0 {
		t.Errorf("table %s: dbt nodes %+v, runs %d; want a node with an Explore link and its runs", ft.Table, detail.Models, len(detail.Runs))
	}

	// Descriptions: dbt's shows; a user's wins and survives a re-crawl and
	// a forced re-sync.
	customers, err := e.svc.Table(ctx, "main.customers")
	if err != nil {
		t.Fatal(err)
	}
	if customers.DescriptionSource != catalog.FromDbt || customers.Description == "" {
		t.Errorf("customers description = %q from %q, want dbt's", customers.Description, customers.DescriptionSource)
	}
	if err := e.svc.SetDescription(ctx, "main.customers", "", "Curated by the growth squad."); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetDescription(ctx, "main.customers", "customer_id", "The key."); err != nil {
		t.Fatal(err)
	}

	// A dropped table is marked removed, kept, and the rest is unchanged.
	e.exec(t, `DROP TABLE "main"."`+extraTable+`"`)
	crawl2, err := e.svc.Crawl(ctx, e.cfg, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if crawl2.Removed != 1 || crawl2.Added != 0 {
		t.Errorf("re-crawl after a drop = %+v, want 1 removed", crawl2)
	}
	orphan, err := e.svc.Table(ctx, "main."+extraTable)
	if err != nil || orphan.RemovedAt.IsZero() {
		t.Errorf("dropped table = %+v, %v; want it kept and marked removed", orphan, err)
	}

	again, err := e.svc.SyncCloud(ctx, src, catalog.SyncOptions{}, nil)
	if err != nil || resultFor(t, again, "Production").Status != store.SyncUnchanged {
		t.Errorf("re-sync of the same runs = %+v, %v; want unchanged", again, err)
	}
	if _, err := e.svc.SyncCloud(ctx, src, catalog.SyncOptions{Force: true}, nil); err != nil {
		t.Fatal(err)
	}
	customers, err = e.svc.Table(ctx, "main.customers")
	if err != nil {
		t.Fatal(err)
	}
	if customers.Description != "Curated by the growth squad." || customers.DescriptionSource != catalog.FromUser {
		t.Errorf("after re-crawl and re-sync the description is %q from %q", customers.Description, customers.DescriptionSource)
	}
	if c := columnOf(t, customers, "customer_id"); c.Description != "The key." || c.DbtDescription == "" {
		t.Errorf("customer_id = %+v, want the user's description beside dbt's", c)
	}

	// Search, ranked: the table named customers comes first.
	hits, err := e.svc.Search(ctx, store.SearchParams{Query: "customers"})
	if err != nil || len(hits) == 0 || hits[0].Table == nil || hits[0].Table.Name != "customers" {
		t.Errorf("search customers = %+v, %v", hits, err)
	}
	if hits, err := e.svc.Search(ctx, store.SearchParams{Query: "growth squad"}); err != nil || len(hits) == 0 || hits[0].Table == nil || hits[0].Table.Name != "customers" {
		t.Errorf("search by the user's description = %+v, %v", hits, err)
	}

	// Lineage: customers reads the raw tables through staging views; its
	// downstream has no ephemeral node.
	lin, err := e.svc.Lineage(ctx, "main.customers", catalog.Upstream, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range lin.Vertices {
		names = append(names, v.Name)
	}
	for _, want := range []string{"jaffle_shop.main.stg_customers", "jaffle_shop.raw.raw_customers"} {
		if !slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, want) }) {
			t.Errorf("upstream of customers = %v, want %s", names, want)
		}
	}

	syncs, err := e.svc.Syncs(ctx)
	if err != nil || len(syncs) == 0 || syncs[0].Report == nil {
		t.Errorf("syncs = %+v, %v", syncs, err)
	}
}

func resultFor(t *testing.T, rs []catalog.SyncResult, env string) catalog.SyncResult {
	t.Helper()
	for _, r := range rs {
		if r.Environment == env {
			return r
		}
	}
	t.Fatalf("no sync result for environment %s in %+v", env, rs)
	return catalog.SyncResult{}
}

func columnOf(t *testing.T, d *catalog.TableDetail, name string) catalog.ColumnDetail {
	t.Helper()
	for _, c := range d.Columns {
		if strings.EqualFold(c.Name, name) {
			return c
		}
	}
	t.Fatalf("table %s has no column %s", d.FullName(), name)
	return catalog.ColumnDetail{}
}

// TestUploadHostileInputLeavesCatalog uploads a project, then a truncated
// manifest and a file that is not an artifact: each is refused with an
// error naming the file, and the catalog stays as the first upload left it.
func TestUploadHostileInputLeavesCatalog(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := t.Context()
			st := storetest.Open(t, b)
			svc := &catalog.Service{Store: st}
			manifest, err := os.ReadFile("../../dbtcloud/emulator/data/manifest.json")
			if err != nil {
				t.Fatal(err)
			}
			results, err := os.ReadFile("../../dbtcloud/emulator/data/run_results.json")
			if err != nil {
				t.Fatal(err)
			}
			files := func(m []byte, extra ...catalog.UploadFile) []catalog.UploadFile {
				return append([]catalog.UploadFile{{Name: "manifest.json", R: strings.NewReader(string(m))}, {Name: "run_results.json", R: strings.NewReader(string(results))}}, extra...)
			}
			res, err := svc.Upload(ctx, "jaffle", files(manifest), catalog.SyncOptions{}, nil)
			if err != nil || res.Status != store.SyncOK {
				t.Fatalf("upload = %+v, %v", res, err)
			}
			before := snapshotCounts(t, st)

			cases := []struct {
				name  string
				files []catalog.UploadFile
				want  string
			}{
				{"truncated manifest", files(manifest[:len(manifest)/2]), "manifest.json"},
				{"not an artifact", files(manifest, catalog.UploadFile{Name: "notes.txt", R: strings.NewReader("hello")}), "notes.txt"},
				{"two manifests", files(manifest, catalog.UploadFile{Name: "other.json", R: strings.NewReader(string(manifest))}), "manifest"},
			}
			for _, c := range cases {
				_, err := svc.Upload(ctx, "jaffle", c.files, catalog.SyncOptions{}, nil)
				var ie *catalog.InputError
				if !errors.As(err, &ie) || !strings.Contains(err.Error(), c.want) {
					t.Errorf("%s: err = %v, want an input error naming %s", c.name, err, c.want)
				}
				if after := snapshotCounts(t, st); after != before {
					t.Errorf("%s: the catalog changed: %v -> %v", c.name, before, after)
				}
			}
			// The same files again: nothing is read past the fingerprint.
			res, err = svc.Upload(ctx, "jaffle", files(manifest), catalog.SyncOptions{}, nil)
			if err != nil || res.Status != store.SyncUnchanged {
				t.Errorf("re-upload = %+v, %v; want unchanged", res, err)
			}
		})
	}
}

// snapshotCounts is what a failed upload must not change.
func snapshotCounts(t *testing.T, st *store.Store) [3]int {
	t.Helper()
	var c [3]int
	for i, q := range []string{`SELECT count(*) FROM catalog_nodes`, `SELECT count(*) FROM catalog_tests`, `SELECT count(*) FROM catalog_edges`} {
		if err := st.DB().QueryRowContext(t.Context(), q).Scan(&c[i]); err != nil {
			t.Fatal(err)
		}
	}
	return c
}
