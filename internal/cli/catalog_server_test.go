package cli

import (
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/dbtlink/dbtlink/internal/catalog"
	"github.com/dbtlink/dbtlink/internal/store"
)

const fakeServerToken = "dbtl_secret_token_for_tests"

// fakeCatalogServer answers the catalog routes of notes/catalog-api.md
// with canned answers built from the catalog types, and records what it
// was asked.
type fakeCatalogServer struct {
	mu   sync.Mutex
	reqs []string
	body map[string][]byte
}

func (s *fakeCatalogServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+fakeServerToken {
		http.Error(w, `{"error":{"code":"unauthorized","message":"bad token"}}`, http.StatusUnauthorized)
		return
	}
	s.mu.Lock()
	s.reqs = append(s.reqs, r.Method+" "+r.URL.EscapedPath()+"?"+r.URL.RawQuery)
	s.mu.Unlock()
	reply := func(code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(v)
	}
	fail := func(code int, c, msg string) {
		reply(code, map[string]any{"error": map[string]string{"code": c, "message": msg}})
	}
	orders := catalog.TableSummary{ID: 7, Warehouse: "pg", Database: "jaffle_shop", Schema: "main", Name: "orders", Kind: "table", Description: "All orders"}
	path := r.URL.EscapedPath()
	switch {
	case r.Method == "GET" && path == "/api/v1/catalog/search":
		reply(200, map[string]any{"results": []catalog.SearchResult{{Kind: "table", Table: &orders, Field: "name", Rank: 1}}})
	case r.Method == "GET" && path == "/api/v1/catalog/tables/main.orders":
		reply(200, catalog.TableDetail{TableSummary: orders, DescriptionSource: "dbt",
			Columns: []catalog.ColumnDetail{{Name: "order_id", DataType: "integer", Tests: []string{"unique: pass"}}},
			Models:  []catalog.NodeDetail{{Scope: "cloud:prod:1", UniqueID: "model.j.orders", ResourceType: "model", Materialized: "table", CompiledSQL: "select 1"}}})
	case r.Method == "GET" && path == "/api/v1/catalog/tables/orders":
		fail(409, "ambiguous", `"orders" names 2 tables: pg:a.main.orders (id 7), pg:b.main.orders (id 9)`)
	case r.Method == "GET" && path == "/api/v1/catalog/tables/nope":
		fail(404, "not_found", `no table "nope" in the catalog`)
	case r.Method == "GET" && path == "/api/v1/catalog/tables/main.orders/lineage":
		reply(200, catalog.LineageView{Start: "table:7", Vertices: []catalog.LineageItem{
			{LineageVertex: catalog.LineageVertex{Key: "table:7", TableID: 7}, Name: "jaffle_shop.main.orders"},
			{LineageVertex: catalog.LineageVertex{Key: "table:3", TableID: 3, Depth: -1}, Name: "jaffle_shop.main.stg_orders"}}})
	case r.Method == "GET" && path == "/api/v1/catalog/tests":
		n := int64(3)
		reply(200, map[string]any{"tests": []catalog.TestRow{{Scope: "cloud:prod:1", Name: "not_null_x", Status: "fail", Failures: &n, Table: "a.b.c"}}})
	case r.Method == "PUT" && path == "/api/v1/catalog/tables/main.orders/description":
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.body = map[string][]byte{"description": b}
		s.mu.Unlock()
		w.WriteHeader(204)
	case r.Method == "GET" && path == "/api/v1/catalog/syncs":
		reply(200, map[string]any{"syncs": []catalog.SyncStatus{{ScopeKey: "cloud:prod:1", Status: "ok", Report: &catalog.Report{Counts: catalog.ReportCounts{Matched: 4, Relations: 5, Missing: 1}}}}})
	case r.Method == "GET" && path == "/api/v1/warehouses":
		reply(200, map[string]any{"warehouses": []map[string]any{{"name": "pg", "type": "postgres", "latest_crawl": map[string]any{"status": "ok", "tables_seen": 12}}}})
	case r.Method == "POST" && path == "/api/v1/catalog/syncs":
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.body = map[string][]byte{"sync": b}
		s.mu.Unlock()
		reply(200, map[string]any{"results": []catalog.SyncResult{
			{ScopeKey: "cloud:prod:1", Project: "p", Environment: "Production", Status: "ok", Report: &catalog.Report{Counts: catalog.ReportCounts{Matched: 4, Relations: 5}}},
			{ScopeKey: "cloud:prod:2", Project: "p", Environment: "Staging", Status: "error", Error: "no completed run"}}})
	case r.Method == "POST" && path == "/api/v1/catalog/uploads":
		_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil {
			fail(400, "bad_request", err.Error())
			return
		}
		mr := multipart.NewReader(r.Body, params["boundary"])
		got := map[string][]byte{}
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			b, _ := io.ReadAll(p)
			got[p.FileName()] = b
		}
		s.mu.Lock()
		s.body = got
		s.mu.Unlock()
		reply(200, catalog.SyncResult{ScopeKey: "upload:" + r.URL.Query().Get("project"), Project: r.URL.Query().Get("project"), Status: "ok"})
	default:
		fail(404, "not_found", "no route "+r.Method+" "+path)
	}
}

func TestCatalogServerMode(t *testing.T) {
	fake := &fakeCatalogServer{}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	e := newCloudEnv(t)
	e.secrets = append(e.secrets, fakeServerToken)
	e.env[EnvServer] = srv.URL
	e.env[EnvServerToken] = fakeServerToken

	dir := t.TempDir()
	manifest := filepath.Join(dir, "manifest.json")
	if err := os.WriteFile(manifest, []byte(`{"metadata":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		args    []string
		code    int
		stdout  []string
		stderr  []string
		request string
	}{
		{args: []string{"catalog", "search", "orders", "--schema", "main", "--limit", "5"}, stdout: []string{"pg:jaffle_shop.main.orders", "All orders"},
			request: "GET /api/v1/catalog/search?limit=5&q=orders&schema=main"},
		{args: []string{"catalog", "show", "main.orders"}, stdout: []string{"jaffle_shop.main.orders", "order_id", "unique: pass", "dbt model model.j.orders"}},
		{args: []string{"catalog", "show", "main.orders", "--sql"}, stdout: []string{"select 1"}},
		{args: []string{"catalog", "show", "orders"}, code: ExitNotFound, stderr: []string{"pg:a.main.orders (id 7)", "pg:b.main.orders (id 9)"}},
		{args: []string{"catalog", "show", "nope"}, code: ExitNotFound},
		{args: []string{"catalog", "lineage", "main.orders", "--upstream", "--depth", "2"}, stdout: []string{"-1 <    jaffle_shop.main.stg_orders", "+0 *"},
			request: "GET /api/v1/catalog/tables/main.orders/lineage?depth=2&direction=up"},
		{args: []string{"catalog", "tests", "--failing", "--table", "main.orders"}, stdout: []string{"fail", "not_null_x"},
			request: "GET /api/v1/catalog/tests?failing=true&table=main.orders"},
		{args: []string{"catalog", "describe", "main.orders", "--column", "id", "--text", "the key"}, stdout: []string{"Described column id of main.orders"}},
		{args: []string{"catalog", "status"}, stdout: []string{"cloud:prod:1", "4/5", "pg (postgres): ok"}},
		{args: []string{"catalog", "sync", "prod", "--project", "p", "--exclude-job", "9"}, code: ExitUpstream,
			stdout: []string{"p / Production (cloud:prod:1): ok", "matched 4/5", "p / Staging (cloud:prod:2): error", "no completed run"}},
		{args: []string{"catalog", "upload", manifest, "--project", "jaffle"}, stdout: []string{"jaffle (upload:jaffle): ok"},
			request: "POST /api/v1/catalog/uploads?project=jaffle"},
		{args: []string{"catalog", "search", "x", "--db", "foo.db"}, code: ExitUsage, stderr: []string{"--db names a local catalog"}},
		{args: []string{"warehouse", "list"}, stdout: []string{"pg", "postgres", "ok"}},
		{args: []string{"warehouse", "list", "--db", "foo.db"}, code: ExitUsage, stderr: []string{"--db names a local catalog"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			fake.mu.Lock()
			fake.reqs = nil
			fake.mu.Unlock()
			r := e.run(tc.args...)
			wantCode(t, r, tc.code, strings.Join(tc.args, " "))
			for _, w := range tc.stdout {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
			for _, w := range tc.stderr {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if tc.request != "" {
				fake.mu.Lock()
				defer fake.mu.Unlock()
				if len(fake.reqs) != 1 || fake.reqs[0] != tc.request {
					t.Errorf("requests %q, want [%q]", fake.reqs, tc.request)
				}
			}
		})
	}
	// The bodies the server got.
	e.mustRun("catalog", "describe", "main.orders", "--text", "All of them")
	if got := string(fake.body["description"]); got != `{"text":"All of them"}` {
		t.Errorf("describe body %s", got)
	}
	e.run("catalog", "sync", "prod", "--project", "p", "--exclude-job", "9", "--warehouse", "pg", "--force")
	var sr syncRequest
	if err := json.Unmarshal(fake.body["sync"], &sr); err != nil {
		t.Fatal(err)
	}
	want := syncRequest{Connection: "prod", Force: true, Warehouse: "pg", Projects: syncFilterReq{Allow: []string{"p"}, Deny: []string{}},
		Environments: syncFilterReq{Allow: []string{}, Deny: []string{}}, Jobs: syncFilterReq{Allow: []string{}, Deny: []string{"9"}}}
	if !reflect.DeepEqual(sr, want) {
		t.Errorf("sync body %+v, want %+v", sr, want)
	}
	e.mustRun("catalog", "upload", manifest, "--project", "jaffle")
	if got := string(fake.body["manifest.json"]); got != `{"metadata":{}}` {
		t.Errorf("upload sent %q", got)
	}
	// A wrong token is an auth failure.
	e.env[EnvServerToken] = "dbtl_wrong"
	wantCode(t, e.run("catalog", "status"), ExitAuth, "bad token")
}

func TestCatalogFlagParsing(t *testing.T) {
	tests := []struct {
		args  []string
		code  int
		check func(t *testing.T, got any)
	}{
		{args: []string{"warehouse", "add", "w", "--type", "postgres", "--password", "hunter2"}, code: ExitUsage},
		{args: []string{"warehouse", "add", "w", "--type", "postgres", "--databases", "a,b", "--databases", "c", "--exclude-tables", "tmp_*,x.y", "--option", "k=v", "--option", "application_name=d"},
			check: func(t *testing.T, got any) {
				o := got.(*WarehouseAddOptions)
				if !reflect.DeepEqual(o.Databases, []string{"a", "b", "c"}) || !reflect.DeepEqual(o.ExcludeTables, []string{"tmp_*", "x.y"}) || len(o.Options) != 2 {
					t.Errorf("%+v", o)
				}
			}},
		{args: []string{"catalog", "sync", "--all", "prod"}, code: ExitUsage},
		{args: []string{"catalog", "sync", "prod", "--project", "1,jaffle*", "--exclude-environment", "Staging", "--include-ci", "--include-development", "--force", "--warehouse", "pg"},
			check: func(t *testing.T, got any) {
				o := got.(*CatalogSyncOptions)
				p := o.Opts.Plan
				if o.Connection != "prod" || !reflect.DeepEqual(p.Projects.Allow, []string{"1", "jaffle*"}) || !reflect.DeepEqual(p.Environments.Deny, []string{"Staging"}) ||
					!p.IncludeCI || !p.IncludeDevelopment || !o.Opts.Force || o.Opts.Warehouse != "pg" {
					t.Errorf("%+v", o)
				}
			}},
		{args: []string{"catalog", "upload", "m.json"}, code: ExitUsage},
		{args: []string{"catalog", "upload", "a", "b", "c", "d", "e", "--project", "p"}, code: ExitUsage},
		{args: []string{"catalog", "search", " "}, code: ExitUsage},
		{args: []string{"catalog", "search", "x", "--limit", "500"}, code: ExitUsage},
		{args: []string{"catalog", "search", "x", "--tag", "t", "--owner", "o", "--test-status", "fail", "--resource-type", "model", "--warehouse", "w", "--schema", "s"},
			check: func(t *testing.T, got any) {
				p := got.(*CatalogSearchOptions).Params
				want := store.SearchParams{Query: "x", Limit: 20, Warehouse: "w", Schema: "s", ResourceType: "model", Tag: "t", Owner: "o", TestStatus: "fail"}
				if !reflect.DeepEqual(p, want) {
					t.Errorf("%+v", p)
				}
			}},
		{args: []string{"catalog", "lineage", "t", "--upstream", "--downstream"}, code: ExitUsage},
		{args: []string{"catalog", "lineage", "t", "--depth", "-1"}, code: ExitUsage},
		{args: []string{"catalog", "lineage", "t", "--downstream", "--depth", "3"},
			check: func(t *testing.T, got any) {
				o := got.(*CatalogLineageOptions)
				if o.direction() != catalog.Downstream || o.Depth != 3 {
					t.Errorf("%+v", o)
				}
			}},
		{args: []string{"catalog", "tests", "--warnings"}, code: ExitUsage},
		{args: []string{"catalog", "describe", "t"}, code: ExitUsage},
		{args: []string{"catalog", "describe", "t", "--text", "a", "--stdin"}, code: ExitUsage},
		{args: []string{"catalog", "describe", "t", "--text", ""},
			check: func(t *testing.T, got any) {
				if o := got.(*CatalogDescribeOptions); o.Text != "" || o.Table != "t" {
					t.Errorf("%+v", o)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			ios, _, _, errOut := TestStreams()
			f := NewFactory(ios)
			f.Getenv = func(string) string { return "" }
			var got any
			root := &cobra.Command{Use: "dbtlink", SilenceErrors: true, SilenceUsage: true}
			root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError("%w", err) })
			wh := &cobra.Command{Use: "warehouse"}
			wh.AddCommand(NewCmdWarehouseAdd(f, func(o *WarehouseAddOptions) error { got = o; return nil }))
			cat := &cobra.Command{Use: "catalog"}
			cat.AddCommand(
				NewCmdCatalogSync(f, func(o *CatalogSyncOptions) error { got = o; return nil }),
				NewCmdCatalogUpload(f, func(o *CatalogUploadOptions) error { got = o; return nil }),
				NewCmdCatalogSearch(f, func(o *CatalogSearchOptions) error { got = o; return nil }),
				NewCmdCatalogLineage(f, func(o *CatalogLineageOptions) error { got = o; return nil }),
				NewCmdCatalogTests(f, func(o *CatalogTestsOptions) error { got = o; return nil }),
				NewCmdCatalogDescribe(f, func(o *CatalogDescribeOptions) error { got = o; return nil }),
			)
			root.AddCommand(wh, cat)
			root.SetArgs(tc.args)
			root.SetOut(io.Discard)
			root.SetErr(io.Discard)
			err := root.Execute()
			if code := exitCode(err); code != tc.code {
				t.Fatalf("exit %d, want %d (%v) %s", code, tc.code, err, errOut)
			}
			if tc.check != nil {
				tc.check(t, got)
			}
		})
	}
}

// TestCatalogHelp checks that every warehouse and catalog command has an
// example and every flag a usage line.
func TestCatalogHelp(t *testing.T) {
	ios, _, _, _ := TestStreams()
	root := NewRootCmd(NewFactory(ios))
	for _, top := range []string{"warehouse", "catalog"} {
		cmd, _, err := root.Find([]string{top})
		if err != nil {
			t.Fatal(err)
		}
		if len(cmd.Commands()) == 0 {
			t.Fatalf("%s has no subcommands", top)
		}
		for _, sub := range cmd.Commands() {
			if sub.Example == "" {
				t.Errorf("%s %s has no example", top, sub.Name())
			}
			if !strings.Contains(sub.Long, "Exit status") && !strings.Contains(cmd.Long, "Exit status") && top == "catalog" {
				t.Errorf("%s %s: no exit status documented", top, sub.Name())
			}
			sub.Flags().VisitAll(func(fl *pflag.Flag) {
				if strings.TrimSpace(fl.Usage) == "" {
					t.Errorf("%s %s --%s has no usage", top, sub.Name(), fl.Name)
				}
			})
		}
	}
}
