package emulator

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func (b *bundle) gql(t *testing.T, token, query string, vars map[string]any) reply {
	t.Helper()
	body := map[string]any{"query": query}
	if vars != nil {
		body["variables"] = vars
	}
	auth := ""
	if token != "" {
		auth = "Bearer " + token
	}
	return b.callAs(t, auth, "POST", "/graphql", body)
}

// dig walks decoded JSON by object keys and array indexes.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

func gqlCode(r reply) string {
	c, _ := dig(r.body, "errors", 0, "extensions", "code").(string)
	return c
}

// finish runs job to its end.
func (b *bundle) finish(t *testing.T, jobID int64) int64 {
	t.Helper()
	id := b.trigger(t, jobID, nil)
	for range 200 {
		b.srv.Advance(time.Minute)
		if terminal(status(b.getRun(t, id, ""))) {
			return id
		}
	}
	t.Fatalf("run %d of job %d did not end", id, jobID)
	return 0
}

func TestDiscoveryAuthAndPermissions(t *testing.T) {
	b := setup(t)
	q := `{ environment(id: 201) { dbtProjectName } }`
	tests := []struct {
		name, auth string
		code       int
		gqlCode    string
	}{
		{"no token", "", http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"unknown token", "Bearer nope", http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"bare token", DemoMetadataOnlyToken, http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"Metadata Only, Bearer", "Bearer " + DemoMetadataOnlyToken, http.StatusOK, ""},
		{"Metadata Only, Token", "Token " + DemoMetadataOnlyToken, http.StatusOK, ""},
		{"Analyst", "bearer " + DemoAnalystToken, http.StatusOK, ""},
		{"Account Admin", "Token " + DemoToken, http.StatusOK, ""},
		{"Job Runner", "Bearer " + DemoJobRunnerToken, http.StatusForbidden, "FORBIDDEN"},
		{"IP restricted", "Bearer " + DemoIPBlockedToken, http.StatusForbidden, "FORBIDDEN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := b.callAs(t, tc.auth, "POST", "/graphql", map[string]any{"query": q})
			wantCode(t, r, tc.code)
			if got := gqlCode(r); got != tc.gqlCode {
				t.Fatalf("code = %q, want %q: %s", got, tc.gqlCode, r.raw)
			}
			if tc.code == http.StatusOK && dig(r.body, "data", "environment", "dbtProjectName") != "jaffle_shop" {
				t.Fatalf("answer: %s", r.raw)
			}
			if strings.Contains(string(r.raw), DemoJobRunnerToken) {
				t.Fatal("the answer repeats the token")
			}
		})
	}
	// Metadata Only still gets nothing from the Admin API.
	wantCode(t, b.callAs(t, "Token "+DemoMetadataOnlyToken, "GET", acctPath("jobs/"), nil), http.StatusForbidden)
	// Another account's environment and job are not found, as missing ones are.
	for _, q := range []string{`{ environment(id: 201) { dbtProjectName } }`, `{ job(id: 301) { runId } }`, `{ environment(id: 99999) { dbtProjectName } }`} {
		r := b.gql(t, OtherToken, q, nil)
		wantCode(t, r, http.StatusOK)
		if gqlCode(r) != "NOT_FOUND" || dig(r.body, "data") == nil {
			t.Errorf("%s as another account: %s", q, r.raw)
		}
	}
}

func TestDiscoveryErrorsShapedLikeDbtCloud(t *testing.T) {
	b := setup(t)
	tests := []struct {
		name, query string
		code        int
		gqlCode     string
		msg         string
	}{
		{"unknown field", `{ environment(id: 201) { applied { models(first: 1) { edges { node { uniqueId colour } } } } } }`,
			http.StatusBadRequest, "GRAPHQL_VALIDATION_FAILED", `Cannot query field "colour" on type "ModelAppliedStateNode".`},
		{"unknown argument", `{ environment(id: 201) { applied { models(last: 1) { totalCount } } } }`,
			http.StatusBadRequest, "GRAPHQL_VALIDATION_FAILED", `Unknown argument "last"`},
		{"syntax", `{ environment(id: 201) { applied `, http.StatusBadRequest, "GRAPHQL_PARSE_FAILED", "syntax error"},
		{"page too big", `{ environment(id: 201) { applied { models(first: 501) { totalCount } } } }`,
			http.StatusOK, "BAD_USER_INPUT", "first must be between 0 and 500"},
		{"bad cursor", `{ environment(id: 201) { applied { models(after: "xyz") { totalCount } } } }`,
			http.StatusOK, "BAD_USER_INPUT", "Invalid cursor"},
		{"over complex", `{ environment(id: 201) { applied { models(first: 500) { edges { node { uniqueId name description rawCode compiledCode
			catalog { columns { name type comment description tags meta } } columns { name description type tags meta }
			tests { uniqueId name columnName executionInfo { lastRunStatus lastRunError executeCompletedAt } } } } } } } }`,
			http.StatusOK, "COMPLEXITY_EXCEEDED", "exceeds the complexity limit"},
		{"too deep", `{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } }`,
			http.StatusOK, "COMPLEXITY_EXCEEDED", "exceeds max depth"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := b.gql(t, DemoMetadataOnlyToken, tc.query, nil)
			wantCode(t, r, tc.code)
			if got := gqlCode(r); got != tc.gqlCode {
				t.Fatalf("code = %q, want %q: %s", got, tc.gqlCode, r.raw)
			}
			if msg, _ := dig(r.body, "errors", 0, "message").(string); !strings.Contains(msg, tc.msg) {
				t.Fatalf("message %q lacks %q", msg, tc.msg)
			}
			if tc.code == http.StatusBadRequest && r.body["data"] != nil {
				t.Fatalf("a document that cannot run has no data: %s", r.raw)
			}
		})
	}
	// The same query with a page of 100 is within the limit.
	r := b.gql(t, DemoMetadataOnlyToken, `{ environment(id: 201) { applied { models(first: 100) { edges { node { uniqueId name description rawCode compiledCode
			catalog { columns { name type comment description tags meta } } columns { name description type tags meta }
			tests { uniqueId name columnName executionInfo { lastRunStatus lastRunError executeCompletedAt } } } } } } } }`, nil)
	if r.code != http.StatusOK || r.body["errors"] != nil {
		t.Fatalf("a page of 100: %.500s", r.raw)
	}
}

func TestDiscoveryPagingAndFilters(t *testing.T) {
	b := setup(t)
	var ids []string
	after := ""
	pages := 0
	for {
		r := b.gql(t, DemoAnalystToken, `query P($after: String) { environment(id: 201) { applied {
			models(first: 5, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { uniqueId } } } } } }`,
			map[string]any{"after": after})
		wantCode(t, r, http.StatusOK)
		conn := dig(r.body, "data", "environment", "applied", "models")
		if n := num(dig(conn, "totalCount")); n != 13 {
			t.Fatalf("totalCount = %v, want the project's 13 models", n)
		}
		edges, _ := dig(conn, "edges").([]any)
		for _, e := range edges {
			ids = append(ids, dig(e, "node", "uniqueId").(string))
		}
		pages++
		if dig(conn, "pageInfo", "hasNextPage") != true {
			if len(edges) != 3 {
				t.Fatalf("last page has %d models, want 3", len(edges))
			}
			break
		}
		after = dig(conn, "pageInfo", "endCursor").(string)
		if pages > 5 {
			t.Fatal("paging does not end")
		}
	}
	if pages != 3 || len(ids) != 13 || ids[0] >= ids[12] {
		t.Fatalf("%d pages, ids %v", pages, ids)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Fatalf("model %s on two pages", id)
		}
		seen[id] = true
	}

	// resources takes several types and unique ids (case-sensitive), with fragments per type.
	r := b.gql(t, DemoAnalystToken, `{ environment(id: 201) { applied { resources(filter: {types: [Model, Source],
		uniqueIds: ["model.jaffle_shop.orders", "source.jaffle_shop.ecom.raw_orders", "MODEL.jaffle_shop.customers"]}) {
		totalCount edges { node { __typename uniqueId ... on ModelAppliedStateNode { materializedType }
		... on SourceAppliedStateNode { sourceName } } } } } } }`, nil)
	edges, _ := dig(r.body, "data", "environment", "applied", "resources", "edges").([]any)
	if len(edges) != 2 || dig(edges[0], "node", "__typename") != "ModelAppliedStateNode" || dig(edges[0], "node", "materializedType") != "table" ||
		dig(edges[1], "node", "__typename") != "SourceAppliedStateNode" || dig(edges[1], "node", "sourceName") != "ecom" {
		t.Fatalf("resources: %s", r.raw)
	}
	// Filters on models and sources.
	r = b.gql(t, DemoAnalystToken, `{ environment(id: 201) { applied {
		m: models(filter: {identifier: "ORDERS"}) { totalCount }
		s: sources(filter: {sourceNames: ["ecom"], identifier: "raw_items"}) { edges { node { uniqueId } } } } } }`, nil)
	if dig(r.body, "data", "environment", "applied", "m", "totalCount") != 1.0 ||
		dig(r.body, "data", "environment", "applied", "s", "edges", 0, "node", "uniqueId") != "source.jaffle_shop.ecom.raw_items" {
		t.Fatalf("filters: %s", r.raw)
	}
	// The lineage of models with their parents.
	r = b.gql(t, DemoAnalystToken, `{ environment(id: 201) { applied { lineage(filter: {types: [Model], uniqueIds: ["model.jaffle_shop.orders"]}) {
		uniqueId resourceType ... on LineageNodeWithParents { parentIds } } } } }`, nil)
	parents, _ := dig(r.body, "data", "environment", "applied", "lineage", 0, "parentIds").([]any)
	if len(parents) != 2 || fmt.Sprint(parents) != "[model.jaffle_shop.stg_orders model.jaffle_shop.order_items]" {
		t.Fatalf("lineage: %s", r.raw)
	}
	// A form-encoded body, as some Python clients send.
	form := url.Values{"query": {`{ environment(id: 201) { dbtProjectName } }`}}
	req, _ := http.NewRequestWithContext(t.Context(), "POST", b.srv.URL+"/graphql", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Token "+DemoAnalystToken)
	resp, err := b.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("form body: %d", resp.StatusCode)
	}
}

func TestDiscoveryAnswersFromExecutedRuns(t *testing.T) {
	b := setup(t)
	q := `{ environment(id: 201) { applied {
		models(filter: {uniqueIds: ["model.jaffle_shop.orders"]}) { edges { node { uniqueId
			executionInfo { lastRunId lastJobDefinitionId lastRunStatus executeCompletedAt lastSuccessRunId }
			catalog { type columns { name type index description } } } } }
		tests(filter: {uniqueIds: ["test.jaffle_shop.not_null_customers_customer_id.5c9bf9911d"]}) { edges { node {
			testedNodeUniqueId testMetadata { name } executionInfo { lastRunStatus lastRunFailures lastRunError } } } }
		sources(filter: {uniqueIds: ["source.jaffle_shop.ecom.raw_orders"]}) { edges { node {
			freshness { freshnessStatus maxLoadedAt freshnessRunId freshnessChecked criteria { warnAfter { count period } } } } } } } } }`
	node := func(r reply, list string) any {
		return dig(r.body, "data", "environment", "applied", list, "edges", 0, "node")
	}
	// Before any run: the definitions, and nothing executed.
	r := b.gql(t, DemoMetadataOnlyToken, q, nil)
	if dig(node(r, "models"), "executionInfo", "lastRunStatus") != nil || dig(node(r, "models"), "catalog") != nil ||
		dig(node(r, "sources"), "freshness", "freshnessChecked") != false {
		t.Fatalf("before any run: %s", r.raw)
	}
	docs := b.finish(t, DemoDocsJobID)
	r = b.gql(t, DemoMetadataOnlyToken, q, nil)
	m := node(r, "models")
	if num(dig(m, "executionInfo", "lastRunId")) != float64(docs) || dig(m, "executionInfo", "lastRunStatus") != "success" ||
		num(dig(m, "executionInfo", "lastJobDefinitionId")) != DemoDocsJobID || dig(m, "catalog", "type") == nil {
		t.Fatalf("after the docs build: %s", r.raw)
	}
	if cols, _ := dig(m, "catalog", "columns").([]any); len(cols) == 0 || dig(cols[0], "name") != "order_id" || dig(cols[0], "description") == nil {
		t.Fatalf("catalog columns with their documentation: %v", dig(m, "catalog"))
	}
	if s := node(r, "sources"); dig(s, "freshness", "freshnessStatus") != "pass" || num(dig(s, "freshness", "freshnessRunId")) != float64(docs) {
		t.Fatalf("freshness: %v", s)
	}
	// The failing build's test step fails one test; its last run is now that one.
	failing := b.finish(t, DemoFailingJobID)
	r = b.gql(t, DemoMetadataOnlyToken, `{ environment(id: 201) { applied { tests(first: 100) { edges { node { uniqueId
		executionInfo { lastRunId lastRunStatus lastRunFailures lastRunError } } } } } } }`, nil)
	edges, _ := dig(r.body, "data", "environment", "applied", "tests", "edges").([]any)
	failed := 0
	for _, e := range edges {
		if dig(e, "node", "executionInfo", "lastRunStatus") == "fail" {
			failed++
			if num(dig(e, "node", "executionInfo", "lastRunFailures")) != 3 || num(dig(e, "node", "executionInfo", "lastRunId")) != float64(failing) ||
				!strings.Contains(fmt.Sprint(dig(e, "node", "executionInfo", "lastRunError")), "Got 3 results") {
				t.Fatalf("failed test: %v", e)
			}
		}
	}
	if failed != 1 {
		t.Fatalf("%d failed tests, want 1: %.800s", failed, r.raw)
	}
	// modelHistoricalRuns: both runs built orders, newest first.
	r = b.gql(t, DemoMetadataOnlyToken, `{ environment(id: 201) { applied { modelHistoricalRuns(uniqueId: "model.jaffle_shop.orders", lastRunCount: 5) {
		runId jobId status executionTime executeCompletedAt } } } }`, nil)
	runs, _ := dig(r.body, "data", "environment", "applied", "modelHistoricalRuns").([]any)
	if len(runs) != 2 || num(dig(runs[0], "runId")) != float64(failing) || num(dig(runs[1], "runId")) != float64(docs) {
		t.Fatalf("historical runs: %s", r.raw)
	}
	// The job-level endpoint: the latest run without runId, a given run with it, and that run's results.
	r = b.gql(t, DemoMetadataOnlyToken, fmt.Sprintf(`{ latest: job(id: %d) { runId } given: job(id: %d, runId: %d) { runId
		tests(uniqueIds: ["test.jaffle_shop.not_null_customers_customer_id.5c9bf9911d"]) { status failures state }
		sources { uniqueId state freshnessChecked } } wrong: job(id: %d, runId: %d) { runId } }`,
		DemoFailingJobID, DemoDocsJobID, docs, DemoDailyJobID, docs), nil)
	if num(dig(r.body, "data", "latest", "runId")) != float64(failing) || num(dig(r.body, "data", "given", "runId")) != float64(docs) ||
		dig(r.body, "data", "given", "tests", 0, "status") != "pass" || dig(r.body, "data", "given", "sources", 0, "state") != "pass" ||
		dig(r.body, "data", "wrong") != nil || gqlCode(r) != "NOT_FOUND" {
		t.Fatalf("job-level: %s", r.raw)
	}
}
