//go:build cgo

package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
	"github.com/dbtlink/dbtlink/internal/catalog"
	"github.com/dbtlink/dbtlink/internal/connection"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/store/storetest"
)

// whPassword is the password of a test warehouse; it must never be seen.
const whPassword = "wh-password-never-shown-42"

// emuClients is catalog.CloudClients over the emulator: one connection,
// "prod". The tracker implements it in dbtlink serve.
type emuClients struct {
	emu    *emulator.Server
	client *dbtcloud.Client
}

func (e *emuClients) ListConnections(ctx context.Context) ([]store.Connection, error) {
	return []store.Connection{{Name: "prod", Host: e.emu.URL, AccountID: e.emu.AccountID}}, nil
}

func (e *emuClients) CloudClient(ctx context.Context, name string) (*dbtcloud.Client, store.Connection, error) {
	if name != "" && name != "prod" {
		return nil, store.Connection{}, fmt.Errorf("connection %q: %w", name, store.ErrNotFound)
	}
	return e.client, store.Connection{Name: "prod", Host: e.emu.URL, AccountID: e.emu.AccountID}, nil
}

// newEmulator starts the emulator on a fake clock and runs jobs 304
// (docs: catalog.json and sources.json) then 302 (a failing test), so the
// latest test results are 302's.
func newEmulator(t *testing.T) *emuClients {
	t.Helper()
	emu, err := emulator.New(emulator.Options{Clock: emulator.NewFakeClock(time.Date(2026, 3, 12, 6, 0, 0, 0, time.UTC)), RateLimitPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emu.Close)
	cl, err := dbtcloud.NewClient(emu.URL, emu.Token, dbtcloud.WithHTTPClient(emu.Client()),
		dbtcloud.WithRetryPolicy(dbtcloud.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	for _, job := range []int64{emulator.DemoDocsJobID, emulator.DemoFailingJobID} {
		r, _, err := cl.Runs.Trigger(t.Context(), emu.AccountID, job, &dbtcloud.TriggerRunRequest{Cause: "catalog api test"})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; ; i++ {
			if i == 500 {
				t.Fatalf("run of job %d did not end", job)
			}
			emu.Advance(5 * time.Second)
			got, _, err := cl.Runs.Get(t.Context(), emu.AccountID, r.ID, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status.Terminal() {
				break
			}
		}
	}
	return &emuClients{emu: emu, client: cl}
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

func TestCatalogAPI(t *testing.T) {
	t.Parallel()
	emu := newEmulator(t)
	duck := duckWarehouse(t)
	for _, be := range storetest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			testCatalogAPI(t, be, emu, duck)
		})
	}
}

// A crawl streamed with ?progress=true is newline-delimited JSON, which
// kin-openapi does not decode: each line is checked against the schema
// here, and the last one is what the response check sees.
func init() {
	openapi3filter.RegisterBodyDecoder("application/x-ndjson", func(r io.Reader, _ http.Header, schema *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		var last any
		dec := json.NewDecoder(r)
		for {
			var v any
			if err := dec.Decode(&v); errors.Is(err, io.EOF) {
				return last, nil
			} else if err != nil {
				return nil, err
			}
			if err := schema.Value.VisitJSON(v); err != nil {
				return nil, fmt.Errorf("line %v: %w", v, err)
			}
			last = v
		}
	})
}

// crawlLines decodes a crawl streamed with ?progress=true.
func crawlLines(t *testing.T, body string) []crawlLine {
	t.Helper()
	var out []crawlLine
	for l := range strings.SplitSeq(strings.TrimSpace(body), "\n") {
		var cl crawlLine
		if err := json.Unmarshal([]byte(l), &cl); err != nil {
			t.Fatalf("streamed crawl line %q: %v", l, err)
		}
		out = append(out, cl)
	}
	return out
}

func testCatalogAPI(t *testing.T, be storetest.Backend, emu *emuClients, duck string) {
	_, router := loadDoc(t)
	st := storetest.Open(t, be)
	keys, err := connection.NewStore(t.TempDir(), connection.WithGetenv(func(string) string { return "" }))
	if err != nil {
		t.Fatal(err)
	}
	api := catalog.NewAPI(&catalog.Service{Store: st}, keys, emu)
	const uploadLimit = 4 << 20
	b := setup(t, func(c *Config) { c.Catalog = api; c.MaxUploadBytes = uploadLimit })
	covered := map[string]bool{}
	// call sends a request, checks its status and its conformance to
	// openapi.json, and returns the answer.
	var call caller = func(t *testing.T, method, target, token, body string, status int, hdrs ...header) *answer {
		t.Helper()
		w := &answer{ResponseRecorder: b.do(t, method, target, token, body, hdrs...)}
		if w.Code != status {
			t.Fatalf("%s %s: status %d, want %d: %.500s", method, target, w.Code, status, w.Body)
		}
		if conform(t, router, b, method, target, token, body, hdrs, w, status == 400) {
			covered[w.pattern] = true
		}
		return w
	}

	// Warehouse connections.
	call(t, "GET", "/api/v1/warehouses", "read", "", 200)
	call(t, "POST", "/api/v1/warehouses", "read", `{"name":"duck","type":"duckdb","config":{"dsn":"x.duckdb"}}`, 403)
	w := call(t, "POST", "/api/v1/warehouses", "write", fmt.Sprintf(`{"name":"duck","type":"duckdb","config":{"dsn":%q}}`, duck), 201)
	if v := decode[catalog.WarehouseView](t, w.ResponseRecorder); v.Name != "duck" || v.Config.DSN != duck || v.HasPassword {
		t.Errorf("created %+v", v)
	}
	call(t, "POST", "/api/v1/warehouses", "write", fmt.Sprintf(`{"name":"duck","type":"duckdb","config":{"dsn":%q}}`, duck), 409)
	w = call(t, "POST", "/api/v1/warehouses", "write", `{"name":"pg","type":"postgres","config":{"dsn":"postgres://u:`+whPassword+`@127.0.0.1:1/db"}}`, 400)
	wantError(t, w.ResponseRecorder, 400, codeBadRequest, "holds a password")
	w = call(t, "POST", "/api/v1/warehouses", "write", `{"name":"pg","type":"postgres","config":{"dsn":"postgres://u@127.0.0.1:1/db?connect_timeout=2"},"password":"`+whPassword+`"}`, 201)
	if v := decode[catalog.WarehouseView](t, w.ResponseRecorder); !v.HasPassword {
		t.Errorf("pg: has_password false")
	}
	if row, err := st.GetWarehouse(t.Context(), "pg"); err != nil || len(row.SealedSecret) == 0 || bytes.Contains(row.SealedSecret, []byte(whPassword)) || bytes.Contains(row.Config, []byte(whPassword)) {
		t.Errorf("pg row: %v, the password is not sealed", err)
	}
	w = call(t, "POST", "/api/v1/warehouses/pg/test", "write", "", 502)
	wantError(t, w.ResponseRecorder, 502, codeUpstream, "connect to warehouse pg")
	w = call(t, "POST", "/api/v1/warehouses/duck/test", "write", "", 200)
	if got := decode[struct {
		OK   bool                  `json:"ok"`
		Info catalog.WarehouseInfo `json:"info"`
	}](t, w.ResponseRecorder); !got.OK || got.Info.CurrentDatabase != "jaffle_shop" || got.Info.Tables == 0 {
		t.Errorf("test: %+v", got)
	}
	call(t, "POST", "/api/v1/warehouses/nope/crawl", "write", "", 404)
	w = call(t, "POST", "/api/v1/warehouses/duck/crawl", "write", "", 200)
	crawl := decode[catalog.CrawlResult](t, w.ResponseRecorder)
	if crawl.Status != store.SyncOK || crawl.Added == 0 || crawl.TablesSeen != crawl.Added {
		t.Errorf("crawl: %+v", crawl)
	}
	// The crawl again, its steps streamed.
	call(t, "POST", "/api/v1/warehouses/nope/crawl?progress=true", "write", "", 404)
	w = call(t, "POST", "/api/v1/warehouses/duck/crawl?progress=true", "write", "", 200)
	lines := crawlLines(t, w.Body.String())
	if last := lines[len(lines)-1]; len(lines) < 3 || lines[0].Progress == "" || last.Crawl == nil || last.Crawl.TablesSeen != crawl.TablesSeen || last.Crawl.Added != 0 {
		t.Errorf("streamed crawl: %+v", lines)
	}
	latest := lines[len(lines)-1].Crawl.ID
	w = call(t, "POST", "/api/v1/warehouses/pg/crawl?progress=true", "write", "", 200)
	if lines := crawlLines(t, w.Body.String()); lines[len(lines)-1].Status != 502 || lines[len(lines)-1].Error == nil || !strings.Contains(lines[len(lines)-1].Error.Message, "connect to warehouse pg") {
		t.Errorf("streamed crawl of pg: %+v, want a 502 error line", lines)
	}
	// Replacing a warehouse in place: a failed test keeps the old one,
	// the crawled tables stay.
	call(t, "PUT", "/api/v1/warehouses/duck", "read", fmt.Sprintf(`{"type":"duckdb","config":{"dsn":%q}}`, duck), 403)
	call(t, "PUT", "/api/v1/warehouses/nope", "write", fmt.Sprintf(`{"type":"duckdb","config":{"dsn":%q}}`, duck), 404)
	w = call(t, "PUT", "/api/v1/warehouses/duck", "write", fmt.Sprintf(`{"name":"other","type":"duckdb","config":{"dsn":%q}}`, duck), 400)
	wantError(t, w.ResponseRecorder, 400, codeBadRequest, "give one name")
	call(t, "PUT", "/api/v1/warehouses/duck?test=true", "write", `{"type":"duckdb","config":{"dsn":"`+filepath.ToSlash(filepath.Join(t.TempDir(), "missing.duckdb"))+`"}}`, 502)
	w = call(t, "PUT", "/api/v1/warehouses/duck?test=true", "write", fmt.Sprintf(`{"type":"duckdb","config":{"dsn":%q,"filter":{"exclude_tables":["tmp_*"]}}}`, duck), 200)
	if got := decode[struct {
		Warehouse catalog.WarehouseView
		Info      *catalog.WarehouseInfo
	}](t, w.ResponseRecorder); got.Warehouse.Config.DSN != duck || len(got.Warehouse.Config.Filter.ExcludeTables) != 1 || got.Info == nil || got.Warehouse.LatestCrawl == nil {
		t.Errorf("replaced duck: %+v", got)
	}
	w = call(t, "GET", "/api/v1/warehouses/duck", "read", "", 200)
	if v := decode[catalog.WarehouseView](t, w.ResponseRecorder); v.LatestCrawl == nil || v.LatestCrawl.ID != latest {
		t.Errorf("get duck: latest crawl %+v, want %d", v.LatestCrawl, latest)
	}
	w = call(t, "GET", "/api/v1/warehouses", "read", "", 200)
	if got := decode[struct{ Warehouses []catalog.WarehouseView }](t, w.ResponseRecorder); len(got.Warehouses) != 2 {
		t.Errorf("warehouses: %+v", got)
	}

	// A sync of the stored dbt Cloud connection.
	call(t, "POST", "/api/v1/catalog/syncs", "read", `{}`, 403)
	call(t, "POST", "/api/v1/catalog/syncs", "write", `{"connection":"nope"}`, 404)
	w = call(t, "POST", "/api/v1/catalog/syncs", "write", `{"connection":"prod","projects":{"allow":["analytics"]},"environments":{"allow":["Production"]}}`, 200)
	res := decode[struct{ Results []catalog.SyncResult }](t, w.ResponseRecorder).Results
	if len(res) == 0 {
		t.Fatal("sync: no results")
	}
	var synced bool
	for _, r := range res {
		if r.Status == store.SyncError {
			t.Errorf("sync of %s failed: %s", r.ScopeKey, r.Error)
		}
		if r.Status == store.SyncOK && r.Warehouse == "duck" && r.Report != nil && r.Report.Counts.Matched > 0 {
			synced = true
		}
	}
	if !synced {
		t.Errorf("no scope was laid on warehouse duck: %s", w.Body)
	}
	// Every environment: those without runs are skipped (nothing to read
	// yet), and each scope says how it ended.
	w = call(t, "POST", "/api/v1/catalog/syncs", "write", "", 200)
	statuses := map[string]string{}
	for _, r := range decode[struct{ Results []catalog.SyncResult }](t, w.ResponseRecorder).Results {
		statuses[r.ScopeKey] = r.Status
	}
	if statuses["cloud:prod:201"] != store.SyncUnchanged || statuses["cloud:prod:202"] != catalog.SyncSkipped {
		t.Errorf("second sync: %v", statuses)
	}

	// Queries.
	w = call(t, "GET", "/api/v1/catalog/search?q=customers&limit=5", "read", "", 200)
	hits := decode[struct{ Results []catalog.SearchResult }](t, w.ResponseRecorder).Results
	found := false
	for _, h := range hits {
		found = found || (h.Table != nil && h.Table.Name == "customers" && h.Table.Warehouse == "duck")
	}
	if !found {
		t.Errorf("search customers: %s", w.Body)
	}
	call(t, "GET", "/api/v1/catalog/search", "read", "", 400)
	w = call(t, "GET", "/api/v1/catalog/tables?warehouse=duck&limit=3", "read", "", 200)
	page := decode[struct {
		Tables    []catalog.TableSummary
		NextAfter int64 `json:"next_after"`
	}](t, w.ResponseRecorder)
	if len(page.Tables) != 3 || page.NextAfter != page.Tables[2].ID {
		t.Errorf("tables page: %s", w.Body)
	}
	w = call(t, "GET", fmt.Sprintf("/api/v1/catalog/tables?warehouse=duck&after=%d&limit=1000", page.NextAfter), "read", "", 200)
	rest := decode[struct {
		Tables    []catalog.TableSummary
		NextAfter int64 `json:"next_after"`
	}](t, w.ResponseRecorder)
	if len(rest.Tables)+3 != crawl.Added || rest.NextAfter != 0 {
		t.Errorf("rest: %d tables, next %d; crawl added %d", len(rest.Tables), rest.NextAfter, crawl.Added)
	}
	call(t, "GET", "/api/v1/catalog/tables?failing=maybe", "read", "", 400)
	w = call(t, "GET", "/api/v1/catalog/tables/"+url.PathEscape("main.customers"), "read", "", 200)
	detail := decode[catalog.TableDetail](t, w.ResponseRecorder)
	if detail.Name != "customers" || len(detail.Columns) == 0 || len(detail.Models) == 0 {
		t.Errorf("table detail: %.500s", w.Body)
	}
	call(t, "GET", "/api/v1/catalog/tables/no_such_table", "read", "", 404)
	w = call(t, "GET", fmt.Sprintf("/api/v1/catalog/tables/%d/columns", detail.ID), "read", "", 200)
	if cols := decode[struct{ Columns []catalog.ColumnDetail }](t, w.ResponseRecorder).Columns; len(cols) != len(detail.Columns) {
		t.Errorf("columns: %d, detail has %d", len(cols), len(detail.Columns))
	}
	w = call(t, "GET", "/api/v1/catalog/tables/customers/lineage?direction=up&depth=1", "read", "", 200)
	lin := decode[catalog.LineageView](t, w.ResponseRecorder)
	if len(lin.Vertices) < 2 || len(lin.Edges) == 0 {
		t.Errorf("lineage: %s", w.Body)
	}
	call(t, "GET", "/api/v1/catalog/tables/customers/lineage?direction=sideways", "read", "", 400)
	// The emulator's build and run steps write compiled SQL into their
	// manifest: customers.customer_id is a copy of stg_customers'.
	w = call(t, "GET", "/api/v1/catalog/tables/customers/columns/customer_id/lineage?direction=up", "read", "", 200)
	clin := decode[catalog.ColumnLineageView](t, w.ResponseRecorder)
	table := map[string]string{}
	for _, c := range clin.Columns {
		table[c.Key] = c.Table + "." + c.Column
	}
	if !slices.ContainsFunc(clin.Edges, func(e catalog.ColumnLineageLink) bool {
		return table[e.From] == "jaffle_shop.main.stg_customers.customer_id" && table[e.To] == "jaffle_shop.main.customers.customer_id" && e.Kind == "copy"
	}) {
		t.Errorf("column lineage lacks stg_customers.customer_id -> customers.customer_id (copy): %s", w.Body)
	}
	call(t, "GET", "/api/v1/catalog/tables/customers/columns/customer_id/lineage?direction=sideways", "read", "", 400)
	call(t, "GET", "/api/v1/catalog/tables/no_such_table/columns/id/lineage", "read", "", 404)
	w = call(t, "GET", "/api/v1/catalog/tests?failing=true", "read", "", 200)
	failing := decode[struct{ Tests []catalog.TestRow }](t, w.ResponseRecorder).Tests
	if len(failing) == 0 {
		t.Errorf("no failing test after job 302: %s", w.Body)
	}
	for _, tr := range failing {
		if tr.Status != "fail" && tr.Status != "error" {
			t.Errorf("failing=true lists %s with status %s", tr.UniqueID, tr.Status)
		}
	}
	w = call(t, "GET", "/api/v1/catalog/jobs", "read", "", 200)
	if jobs := decode[struct{ Jobs []catalog.JobRow }](t, w.ResponseRecorder).Jobs; len(jobs) == 0 {
		t.Errorf("no jobs: %s", w.Body)
	}
	w = call(t, "GET", fmt.Sprintf("/api/v1/catalog/runs?job=%d&limit=10", emulator.DemoDocsJobID), "read", "", 200)
	runs := decode[struct{ Runs []catalog.RunRow }](t, w.ResponseRecorder).Runs
	if len(runs) == 0 {
		t.Errorf("no runs of the docs job: %s", w.Body)
	}
	for _, r := range runs {
		if r.JobID != emulator.DemoDocsJobID {
			t.Errorf("runs?job=%d lists a run of job %d", emulator.DemoDocsJobID, r.JobID)
		}
	}
	call(t, "GET", "/api/v1/catalog/syncs", "read", "", 200)

	// Descriptions: read scope cannot write them.
	desc := `{"text":"One row per customer, from the API."}`
	call(t, "PUT", "/api/v1/catalog/tables/customers/description", "read", desc, 403)
	call(t, "PUT", "/api/v1/catalog/tables/customers/description", "write", desc, 204)
	call(t, "PUT", "/api/v1/catalog/tables/customers/description", "write", `{"text":"The customer's id.","column":"customer_id"}`, 204)
	w = call(t, "GET", "/api/v1/catalog/tables/customers", "read", "", 200)
	if d := decode[catalog.TableDetail](t, w.ResponseRecorder); d.Description != "One row per customer, from the API." || d.DescriptionSource != catalog.FromUser {
		t.Errorf("after PUT: description %q from %q", d.Description, d.DescriptionSource)
	}

	testUploads(t, call, uploadLimit)

	call(t, "DELETE", "/api/v1/warehouses/pg", "write", "", 403)
	call(t, "DELETE", "/api/v1/warehouses/pg", "admin", "", 204)
	call(t, "DELETE", "/api/v1/warehouses/pg", "admin", "", 404)

	for _, rt := range b.srv.routes {
		if isCatalogRoute(rt.pattern) && !covered[rt.pattern] {
			t.Errorf("route %s has no successful conformance case", rt.pattern)
		}
	}
	b.mu.Lock()
	answers := strings.Join(b.answers, "\n")
	b.mu.Unlock()
	if strings.Contains(answers, whPassword) || strings.Contains(b.logs.String(), whPassword) {
		t.Errorf("the warehouse password was shown in an answer or the log")
	}
}

type caller func(t *testing.T, method, target, token, body string, status int, hdrs ...header) *answer

func testUploads(t *testing.T, call caller, limit int) {
	manifest := readGz(t, "../catalog/testdata/manifest_1.11.json.gz")
	results, err := os.ReadFile("../catalog/testdata/run_results_1.11.json")
	if err != nil {
		t.Fatal(err)
	}
	multi := func(files map[string][]byte) (string, header) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for name, body := range files {
			fw, err := mw.CreateFormFile("file", name)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = fw.Write(body)
		}
		_ = mw.Close()
		return buf.String(), header{"Content-Type", mw.FormDataContentType()}
	}
	snapshot := func() string {
		w := call(t, "GET", "/api/v1/catalog/syncs", "read", "", 200)
		tw := call(t, "GET", "/api/v1/catalog/tables?limit=1000", "read", "", 200)
		return w.Body.String() + tw.Body.String()
	}

	body, ct := multi(map[string][]byte{"manifest.json": gz(t, manifest), "run_results.json": results})
	call(t, "POST", "/api/v1/catalog/uploads?project=core", "read", body, 403, ct)
	w := call(t, "POST", "/api/v1/catalog/uploads?project=core", "write", body, 200, ct)
	if res := decode[catalog.SyncResult](t, w.ResponseRecorder); res.Status != store.SyncOK || res.ScopeKey != "upload:core" || res.Nodes == 0 {
		t.Errorf("upload: %s", w.Body)
	}
	// A single gzip body.
	w = call(t, "POST", "/api/v1/catalog/uploads?project=single", "write", string(gz(t, manifest)), 200, header{"Content-Encoding", "gzip"})
	if res := decode[catalog.SyncResult](t, w.ResponseRecorder); res.Status != store.SyncOK || res.ScopeKey != "upload:single" {
		t.Errorf("single upload: %s", w.Body)
	}

	before := snapshot()
	z := gz(t, manifest)
	for _, c := range []struct {
		name, body string
		hdrs       []header
		status     int
	}{
		{"truncated gzip", string(z[:len(z)/2]), []header{{"Content-Encoding", "gzip"}}, 400},
		{"truncated json", string(manifest[:len(manifest)/2]), nil, 400},
		{"not an artifact", `{"hello":"world"}`, nil, 400},
		{"two manifests", "", nil, 400},
		{"no project", "", nil, 400},
		{"too big", strings.Repeat(" ", limit+1), nil, 413},
		{"too big once decompressed", string(gz(t, []byte(strings.Repeat(" ", limit+1)))), nil, 413},
	} {
		target := "/api/v1/catalog/uploads?project=core"
		body, hdrs := c.body, c.hdrs
		switch c.name {
		case "two manifests":
			var h header
			body, h = multi(map[string][]byte{"a/manifest.json": manifest, "b/manifest.json": manifest})
			hdrs = []header{h}
		case "no project":
			target = "/api/v1/catalog/uploads"
			body = string(manifest)
		}
		w := call(t, "POST", target, "write", body, c.status, hdrs...)
		if c.status == 413 {
			wantError(t, w.ResponseRecorder, 413, codeTooLarge, "limit")
		}
		if after := snapshot(); after != before {
			t.Errorf("%s: the catalog changed", c.name)
		}
	}
}

func gz(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readGz(t *testing.T, path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
