package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/internal/catalog"
	"github.com/dbtlink/dbtlink/internal/connection"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/tracker"
	"github.com/dbtlink/dbtlink/internal/warehouse"
)

const docServer = "http://dbtlink.test"

// loadDoc loads the document the server serves and checks that it is a
// valid OpenAPI 3.0 document.
func loadDoc(t *testing.T) (*openapi3.T, routers.Router) {
	t.Helper()
	b := setup(t)
	w := b.do(t, "GET", "/api/v1/openapi.json", "read", "")
	wantStatus(t, w, 200)
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(w.Body.Bytes())
	if err != nil {
		t.Fatalf("load openapi.json: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI document: %v", err)
	}
	if doc.Info.Version != "v0.0.0-test" {
		t.Errorf("info.version = %q, want Config.Version", doc.Info.Version)
	}
	doc.Servers = openapi3.Servers{{URL: docServer}}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatalf("router: %v", err)
	}
	return doc, router
}

// docPath turns a ServeMux pattern into its method and OpenAPI path: a
// {name...} wildcard is a plain {name} parameter in OpenAPI, which has no
// multi-segment parameters.
func docPath(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	return method, strings.ReplaceAll(path, "...}", "}")
}

func TestOpenAPIListsEveryRouteAndNothingElse(t *testing.T) {
	t.Parallel()
	doc, _ := loadDoc(t)
	s, err := New(Config{Backend: newFakeBackend()})
	if err != nil {
		t.Fatal(err)
	}
	inCode := map[string]route{}
	for _, rt := range s.routes {
		m, p := docPath(rt.pattern)
		inCode[m+" "+p] = rt
	}
	inDoc := map[string]*openapi3.Operation{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			inDoc[method+" "+path] = op
		}
	}
	for k := range inCode {
		if inDoc[k] == nil {
			t.Errorf("route %s is not in openapi.json", k)
		}
	}
	for k, op := range inDoc {
		rt, ok := inCode[k]
		if !ok {
			t.Errorf("openapi.json describes %s, which the server does not route", k)
			continue
		}
		// Security: open routes say so; the others need the bearer token
		// and name the scope the code checks.
		if rt.scope == "" {
			if op.Security == nil || len(*op.Security) != 0 {
				t.Errorf("%s is open in the code but not in openapi.json (security: [])", k)
			}
			continue
		}
		if op.Security != nil {
			t.Errorf("%s overrides security in openapi.json but needs the bearer token", k)
		}
		if got := op.Extensions["x-dbtlink-scope"]; got != string(rt.scope) {
			t.Errorf("%s: x-dbtlink-scope %v, the code needs %q", k, got, rt.scope)
		}
		if !strings.Contains(op.Description, "the "+string(rt.scope)+" scope") {
			t.Errorf("%s: the description does not name the %s scope", k, rt.scope)
		}
	}
	if got := doc.Security; len(got) != 1 || got[0]["bearerAuth"] == nil {
		t.Errorf("the document's default security is %v, want bearerAuth", got)
	}
}

// jsonFields lists the JSON names of a struct type's fields, embedded
// structs flattened, as encoding/json sees them.
func jsonFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		switch {
		case name == "-":
			continue
		case f.Anonymous && tag == "":
			out = append(out, jsonFields(f.Type)...)
			continue
		case !f.IsExported():
			continue
		case name == "":
			name = f.Name
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// TestOpenAPISchemasMatchGoTypes checks the schemas against the types the
// code decodes and encodes. Answers are also checked by the conformance
// test (closed schemas, every field required), but request bodies are
// only decoded, so a field added to RunRequest and not documented would
// go unseen without this.
func TestOpenAPISchemasMatchGoTypes(t *testing.T) {
	t.Parallel()
	doc, _ := loadDoc(t)
	for schema, typ := range map[string]reflect.Type{
		"RunRequest":        reflect.TypeFor[runRequestJSON](),
		"TriggerRunRequest": reflect.TypeFor[dbtcloud.TriggerRunRequest](),
		"ConnectionInput":   reflect.TypeFor[ConnectionInput](),
		"Connection":        reflect.TypeFor[connectionJSON](),
		"Run":               reflect.TypeFor[runJSON](),
		"Artifact":          reflect.TypeFor[artifactJSON](),
		"Report":            reflect.TypeFor[reportJSON](),
		"Check":             reflect.TypeFor[checkJSON](),
		"Account":           reflect.TypeFor[accountJSON](),
		"Error":             reflect.TypeFor[errorBody](),

		"WarehouseInput":             reflect.TypeFor[warehouseInput](),
		"DescriptionRequest":         reflect.TypeFor[descriptionRequest](),
		"SyncRequest":                reflect.TypeFor[syncRequest](),
		"NameFilter":                 reflect.TypeFor[filterJSON](),
		"CatalogWarehouseView":       reflect.TypeFor[catalog.WarehouseView](),
		"CatalogWarehouseInfo":       reflect.TypeFor[catalog.WarehouseInfo](),
		"CatalogCrawlResult":         reflect.TypeFor[catalog.CrawlResult](),
		"WarehouseConfig":            reflect.TypeFor[warehouse.Config](),
		"CatalogSyncResult":          reflect.TypeFor[catalog.SyncResult](),
		"CatalogSyncStatus":          reflect.TypeFor[catalog.SyncStatus](),
		"CatalogSearchResult":        reflect.TypeFor[catalog.SearchResult](),
		"CatalogTableSummary":        reflect.TypeFor[catalog.TableSummary](),
		"CatalogTableDetail":         reflect.TypeFor[catalog.TableDetail](),
		"CatalogColumnDetail":        reflect.TypeFor[catalog.ColumnDetail](),
		"CatalogLineageView":         reflect.TypeFor[catalog.LineageView](),
		"CatalogLineageItem":         reflect.TypeFor[catalog.LineageItem](),
		"CatalogColumnLineageView":   reflect.TypeFor[catalog.ColumnLineageView](),
		"CatalogColumnLineageItem":   reflect.TypeFor[catalog.ColumnLineageItem](),
		"CatalogColumnLineageLink":   reflect.TypeFor[catalog.ColumnLineageLink](),
		"CatalogColumnLineageReport": reflect.TypeFor[catalog.ColumnLineageReport](),
		"CatalogColumnGap":           reflect.TypeFor[store.ColumnGap](),
		"CatalogTestRow":             reflect.TypeFor[catalog.TestRow](),
		"CatalogJobRow":              reflect.TypeFor[catalog.JobRow](),
		"CatalogRunRow":              reflect.TypeFor[catalog.RunRow](),
		"CatalogReport":              reflect.TypeFor[catalog.Report](),
	} {
		s := doc.Components.Schemas[schema]
		if s == nil {
			t.Errorf("no schema %s", schema)
			continue
		}
		var props []string
		for p := range s.Value.Properties {
			props = append(props, p)
		}
		sort.Strings(props)
		if want := jsonFields(typ); !slices.Equal(props, want) {
			t.Errorf("schema %s has properties %v; %s has %v", schema, props, typ, want)
		}
		if s.Value.AdditionalProperties.Has == nil || *s.Value.AdditionalProperties.Has {
			t.Errorf("schema %s allows other properties; the code refuses or never sends them", schema)
		}
	}

	var states []string
	for _, st := range runStates {
		states = append(states, string(st))
	}
	if got := enumOf(doc.Components.Schemas["Run"].Value.Properties["state"]); !slices.Equal(got, states) {
		t.Errorf("Run.state enum %v, want %v", got, states)
	}
	codes := []string{codeBadRequest, codeConflict, codeForbidden, codeInternal, codeMethodNotAllowed,
		codeNotFound, codeTimeout, codeTooLarge, codeUnauthorized, codeUpstream}
	got := enumOf(doc.Components.Schemas["Error"].Value.Properties["error"].Value.Properties["code"])
	slices.Sort(got)
	if !slices.Equal(got, codes) {
		t.Errorf("Error.code enum %v, want %v", got, codes)
	}
	outcomes := enumOf(doc.Components.Schemas["WebhookOutcome"].Value.Properties["outcome"])
	if want := []string{string(WebhookApplied), string(WebhookRecorded), string(WebhookDuplicate)}; !slices.Equal(outcomes, want) {
		t.Errorf("WebhookOutcome enum %v, want %v", outcomes, want)
	}
}

func enumOf(s *openapi3.SchemaRef) []string {
	var out []string
	for _, v := range s.Value.Enum {
		out = append(out, fmt.Sprint(v))
	}
	return out
}

// TestOpenAPIConformance sends requests for every route through the real
// handlers and checks each request and answer against the document.
func TestOpenAPIConformance(t *testing.T) {
	t.Parallel()
	_, router := loadDoc(t)
	b := setup(t)
	be := b.be
	be.conns = []store.Connection{{Name: "prod", Host: "https://ab123.us1.dbt.com", AccountID: 1, Default: true, CreatedAt: testNow, UpdatedAt: testNow}}
	be.report = connection.Report{Host: "https://ab123.us1.dbt.com", AccountID: 1, Checks: []connection.Check{
		{Name: "host", Status: "pass", Message: "ok"}, {Name: "token", Status: "fail", Message: "rejected"}, {Name: "account", Status: "skip", Message: "skipped"}}}
	be.jobs = []dbtcloud.Job{{ID: 301, AccountID: 1, ProjectID: 7, EnvironmentID: 5, Name: "Daily", ExecuteSteps: []string{"dbt build"},
		CreatedAt:     dbtcloud.Timestamp{Time: testNow},
		Environment:   &dbtcloud.Environment{ID: 5, ProjectID: 7, Name: "Production"},
		MostRecentRun: &dbtcloud.Run{ID: 9001, JobDefinitionID: 301, Status: dbtcloud.RunStatusSuccess}}}
	// Project 7 is named, environment 5 is not: one name each way, null
	// and a string, is validated against the schema.
	be.names = tracker.Names{Projects: map[int64]string{7: "Analytics"}}
	be.runs[5] = store.Run{ID: 5, Connection: "prod", AccountID: 1, JobID: 301, State: store.RunRunning, DbtRunID: 9001, DbtStatus: 3,
		TriggerAttemptedAt: testNow, StartedAt: testNow, Steps: []byte(`[{"name":"dbt build"}]`), CreatedAt: testNow, UpdatedAt: testNow}
	be.runs[6] = store.Run{ID: 6, State: store.RunSuccess, CreatedAt: testNow, UpdatedAt: testNow, SettledAt: testNow}
	be.listed = []store.Run{be.runs[6], be.runs[5]}
	be.artifacts[5] = []store.Artifact{
		{RunID: 5, Path: "manifest.json", Size: 2, SHA256: "ab", StoredAt: testNow},
		{RunID: 5, Path: "dbt.log", Size: 3, SHA256: "cd", StoredAt: testNow},
	}
	be.contents["5/manifest.json"] = "{}"
	be.contents["5/dbt.log"] = "log"
	hook := webhookBody("ev-conf", 9001)
	newConn := `{"name":"staging","host":"ab123.us1.dbt.com","account_id":1,"token":"` + connToken + `","default":false}`

	cases := []struct {
		method, target, token, body string
		hdrs                        []header
		arrange                     func() // changes the fake before the request
		status                      int
		// badRequest: the request is meant to break the document's rules
		// (to see the error answer), so only the answer is checked.
		badRequest bool
	}{
		{method: "GET", target: "/healthz", status: 200},
		{method: "GET", target: "/readyz", status: 200},
		{method: "GET", target: "/readyz", arrange: func() { be.ready = errors.New("job queue stopped") }, status: 503},
		{method: "GET", target: "/metrics", token: "read", arrange: func() { be.ready = nil }, status: 200},
		{method: "GET", target: "/metrics", status: 401, badRequest: true},
		{method: "GET", target: "/api/v1/openapi.json", token: "read", status: 200},

		{method: "GET", target: "/api/v1/connections", token: "read", status: 200},
		{method: "GET", target: "/api/v1/connections", token: "revoked", status: 401},
		{method: "POST", target: "/api/v1/connections", token: "admin", body: newConn, status: 201},
		{method: "POST", target: "/api/v1/connections", token: "admin", body: newConn, status: 409},
		{method: "POST", target: "/api/v1/connections", token: "write", body: newConn, status: 403},
		{method: "POST", target: "/api/v1/connections", token: "admin", body: `{"name":"x","host":"h","account_id":1,"token":"t","tokn":"t"}`, status: 400, badRequest: true},
		{method: "POST", target: "/api/v1/connections", token: "admin", body: `{"name":"` + strings.Repeat("x", DefaultMaxBodyBytes) + `","host":"h","account_id":1,"token":"t"}`, status: 413},
		{method: "DELETE", target: "/api/v1/connections/staging", token: "admin", status: 204},
		{method: "DELETE", target: "/api/v1/connections/nope", token: "admin",
			arrange: func() { be.errs["DeleteConnection"] = fmt.Errorf("connection %q: %w", "nope", store.ErrNotFound) }, status: 404},
		{method: "POST", target: "/api/v1/connections/prod/test", token: "write", status: 200},

		{method: "GET", target: "/api/v1/connections/prod/jobs?project_id=7&environment_id=5&name=dai", token: "read", status: 200},
		{method: "GET", target: "/api/v1/connections/prod/jobs", token: "read",
			arrange: func() {
				be.errs["ListJobs"] = &dbtcloud.APIError{StatusCode: 503, UserMessage: "Down for maintenance."}
			}, status: 502},
		{method: "GET", target: "/api/v1/connections/prod/jobs", token: "read",
			arrange: func() { be.errs["ListJobs"] = context.DeadlineExceeded }, status: 504},
		{method: "GET", target: "/api/v1/connections/prod/jobs", token: "read",
			arrange: func() { be.errs["ListJobs"] = errors.New("boom") }, status: 500},
		{method: "GET", target: "/api/v1/connections/prod/jobs/301", token: "read", status: 200},
		{method: "GET", target: "/api/v1/connections/prod/jobs/302", token: "read", status: 404},

		{method: "GET", target: "/api/v1/runs?connection=prod&job_id=301&state=success,running&before=100&limit=1", token: "read", status: 200},
		{method: "GET", target: "/api/v1/runs", token: "read", status: 200},
		{method: "GET", target: "/api/v1/runs?state=done", token: "read", status: 400, badRequest: true},
		{method: "POST", target: "/api/v1/runs", token: "write", status: 201,
			body: `{"job_id":301,"trigger":{"cause":"conformance","generate_docs_override":true,"timeout_seconds_override":0},"deadline":"1h30m","max_retries":1,"artifacts":[]}`},
		{method: "POST", target: "/api/v1/runs", token: "write", body: `{"job_id":301,"deadline":"soon"}`, status: 400},
		{method: "GET", target: "/api/v1/runs/5", token: "read", status: 200},
		{method: "GET", target: "/api/v1/runs/5?wait=2s", token: "read", status: 200},
		{method: "GET", target: "/api/v1/runs/6", token: "read", status: 200},
		{method: "GET", target: "/api/v1/runs/404", token: "read", status: 404},
		{method: "GET", target: "/api/v1/runs/5?wait=soon", token: "read", status: 400},
		{method: "POST", target: "/api/v1/runs/5/cancel", token: "write", status: 202},
		{method: "POST", target: "/api/v1/runs/6/cancel", token: "write", status: 409},
		{method: "GET", target: "/api/v1/runs/5/artifacts", token: "read", status: 200},
		{method: "GET", target: "/api/v1/runs/5/artifacts/manifest.json", token: "read", status: 200},
		{method: "GET", target: "/api/v1/runs/5/artifacts/dbt.log", token: "read", status: 200},
		{method: "GET", target: "/api/v1/runs/5/artifacts/catalog.json", token: "read", status: 404},
		{method: "GET", target: "/api/v1/runs/5/artifacts/a%5Cb", token: "read", status: 400},

		{method: "POST", target: "/webhooks/dbt-cloud/prod", body: hook, hdrs: []header{signed(hook)}, status: 200},
		{method: "POST", target: "/webhooks/dbt-cloud/prod", body: hook, hdrs: []header{signed(hook)}, status: 200},
		{method: "POST", target: "/webhooks/dbt-cloud/prod", body: hook, hdrs: []header{{"Authorization", "00"}}, status: 401},
		{method: "POST", target: "/webhooks/dbt-cloud/staging", body: hook, hdrs: []header{signed(hook)}, status: 404},
		{method: "POST", target: "/webhooks/dbt-cloud/prod", body: `{"eventId":"x"}`, hdrs: []header{signed(`{"eventId":"x"}`)}, status: 400, badRequest: true},
	}
	covered := map[string]bool{}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s %s %d", c.method, c.target, c.status), func(t *testing.T) {
			be.errs = map[string]error{}
			if c.arrange != nil {
				c.arrange()
			}
			w := &answer{ResponseRecorder: b.do(t, c.method, c.target, c.token, c.body, c.hdrs...)}
			if w.Code != c.status {
				t.Fatalf("status %d, want %d: %.300s", w.Code, c.status, w.Body)
			}

			if conform(t, router, b, c.method, c.target, c.token, c.body, c.hdrs, w, c.badRequest) {
				covered[w.pattern] = true
			}
		})
	}
	for _, rt := range b.srv.routes {
		// The catalog's routes need a real catalog: TestCatalogAPI
		// checks them against the document, and their coverage.
		if isCatalogRoute(rt.pattern) {
			continue
		}
		if !covered[rt.pattern] {
			t.Errorf("route %s has no successful conformance case", rt.pattern)
		}
	}
}

// answer is an answer with the route pattern that served it.
type answer struct {
	*httptest.ResponseRecorder
	pattern string
}

// conform checks a request and the answer w it got against openapi.json
// (the request only unless badRequest) and reports whether the answer was
// a success, which counts as covering its route.
func conform(t *testing.T, router routers.Router, b *testBundle, method, target, token, body string, hdrs []header, w *answer, badRequest bool) bool {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, docServer+target, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+b.tokens[token])
	}
	for _, h := range hdrs {
		req.Header.Set(h.key, h.value)
	}
	_, pattern := b.srv.mux.Handler(req)
	w.pattern = pattern
	route, params, err := router.FindRoute(req)
	if err != nil {
		t.Fatalf("openapi.json has no operation for this request: %v", err)
	}
	reqIn := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{MultiError: true, AuthenticationFunc: checkBearer,
			// kin-openapi decodes neither gzip bodies nor multipart
			// parts of any name, both of which uploads take.
			ExcludeRequestBody: strings.HasPrefix(target, "/api/v1/catalog/uploads")},
	}
	if !badRequest {
		if err := openapi3filter.ValidateRequest(t.Context(), reqIn); err != nil {
			t.Errorf("the request does not match openapi.json:\n%v", err)
		}
	}
	respIn := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: reqIn,
		Status:                 w.Code,
		Header:                 w.Header(),
		Body:                   io.NopCloser(bytes.NewReader(w.Body.Bytes())),
		Options:                &openapi3filter.Options{MultiError: true, IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(t.Context(), respIn); err != nil {
		t.Errorf("the answer does not match openapi.json:\n%v\nbody: %.600s", err, w.Body)
	}
	return w.Code < 300
}

func isCatalogRoute(pattern string) bool {
	return strings.Contains(pattern, "/api/v1/catalog/") || strings.Contains(pattern, "/api/v1/warehouses")
}

// checkBearer stands in for authentication during request validation: it
// checks that a request to a route the document protects carries a token.
func checkBearer(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecuritySchemeName != "bearerAuth" {
		return fmt.Errorf("unknown security scheme %q", in.SecuritySchemeName)
	}
	if !strings.HasPrefix(in.RequestValidationInput.Request.Header.Get("Authorization"), "Bearer ") {
		return errors.New("no bearer token")
	}
	return nil
}

// Server is an http.Handler.
var _ http.Handler = (*Server)(nil)
