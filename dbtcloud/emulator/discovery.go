package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"

	graphql "github.com/graph-gophers/graphql-go"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"

	art "github.com/dbtlink/dbtlink/artifacts"
)

// The Discovery (GraphQL) API. Parsing, validation and execution are graph-gophers/graphql-go's (no code
// generation step, resolvers are plain methods); the emulator adds dbt Cloud's authentication, its permission
// check, its error codes, relay paging and the complexity limit. See the package doc, "Discovery API".

// DiscoveryPaths are the paths the emulator serves the Discovery API on. dbt Cloud serves it on its own host
// (metadata.cloud.getdbt.com/graphql, PREFIX.metadata.REGION.dbt.com/graphql); a local emulator has one host, so a
// client points its Discovery endpoint at EMULATOR/graphql, which dbtcloud.DiscoveryURL derives for a loopback
// host. /beta/graphql is the path of dbt's earlier Metadata API, which older clients still send.
var DiscoveryPaths = []string{"/graphql", "/graphql/", "/beta/graphql"}

func isDiscoveryPath(p string) bool {
	for _, d := range DiscoveryPaths {
		if p == d {
			return true
		}
	}
	return false
}

const (
	// discoveryMaxDepth bounds field nesting; the deepest query the schema allows a purpose for
	// (environment.applied.models.edges.node.tests.executionInfo.lastRunStatus) has depth 8.
	discoveryMaxDepth = 10
	// DiscoveryComplexityLimit is the most complex query the emulator answers (see checkComplexity for how a
	// query is scored). dbt does not publish its limit; this one lets a page of 100 nodes with every field,
	// catalog columns and tests through, and turns away a page of 500 with them.
	DiscoveryComplexityLimit = 100_000
	// discoveryMaxBody bounds the request body.
	discoveryMaxBody = 1 << 20
)

var (
	discoSchemaOnce sync.Once
	discoSchema     *graphql.Schema
	discoSchemaErr  error
)

type emulatorKey struct{}

func discoverySchemaParsed() (*graphql.Schema, error) {
	discoSchemaOnce.Do(func() {
		discoSchema, discoSchemaErr = graphql.ParseSchema(discoverySchema, &discoRootShared{},
			graphql.MaxDepth(discoveryMaxDepth), graphql.MaxParallelism(4))
		if discoSchemaErr != nil {
			discoSchemaErr = fmt.Errorf("emulator: discovery schema: %w", discoSchemaErr)
		}
	})
	return discoSchema, discoSchemaErr
}

// discoRootShared is the schema's root resolver; the emulator of a request travels in its context, so that one
// parsed schema serves every emulator in the process.
type discoRootShared struct{}

func rootOf(ctx context.Context) *discoRoot {
	e, _ := ctx.Value(emulatorKey{}).(*Emulator)
	return &discoRoot{e: e}
}

func (*discoRootShared) Environment(ctx context.Context, args envArgs) (*envR, error) {
	return rootOf(ctx).Environment(ctx, args)
}

func (*discoRootShared) Job(ctx context.Context, args jobArgs) (*jobR, error) {
	return rootOf(ctx).Job(ctx, args)
}

// discoErr is a resolver error with dbt's extensions.code.
type discoErr struct {
	code, msg string
}

func discoveryError(code, msg string) error { return &discoErr{code: code, msg: msg} }

func (e *discoErr) Error() string              { return e.msg }
func (e *discoErr) Extensions() map[string]any { return map[string]any{"code": e.code} }
func (e *discoErr) Is(target error) bool       { t, ok := target.(*discoErr); return ok && t.code == e.code }

// mayDiscovery says whether the token may read the Discovery API for a project. docs.getdbt.com's service token
// page says Metadata Only tokens "authorize requests to the Discovery API"; which other sets may is not tabulated,
// so the emulator lets through the sets that read both projects and runs (Analyst, Read-Only, Job Viewer, the
// admin sets, ...), which are what the Discovery API describes, and turns away the rest (Job Runner, Webhooks
// Only, Semantic Layer Only, Billing Admin, Security Admin).
func (ti tokenInfo) mayDiscovery(projectID int64) bool {
	for _, g := range ti.grants {
		row := permissionTable[g.set]
		if g.set != PermissionMetadataOnly && (row.projects < read || row.runs < read) {
			continue
		}
		if projectID == 0 || g.projects == nil || g.projects[projectID] {
			return true
		}
	}
	return false
}

type gqlRequest struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName"`
	Variables     map[string]any `json:"variables"`
}

// gqlError is one entry of "errors", shaped as dbt Cloud's (Apollo-style) errors are: message, locations, path,
// extensions.code.
type gqlError struct {
	Message    string               `json:"message"`
	Locations  []gqlerrors.Location `json:"locations,omitempty"`
	Path       []any                `json:"path,omitempty"`
	Extensions map[string]any       `json:"extensions"`
}

type gqlResponse struct {
	Data   json.RawMessage `json:"data,omitempty"`
	Errors []gqlError      `json:"errors,omitempty"`
}

func writeGQLErrors(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, gqlResponse{Errors: []gqlError{{Message: msg, Extensions: map[string]any{"code": code}}}})
}

// serveDiscovery answers POST (JSON or form body) and GET (?query=) GraphQL requests.
func (e *Emulator) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	ti, ok := e.authenticate(r)
	if !ok {
		writeGQLErrors(w, http.StatusUnauthorized, "UNAUTHENTICATED",
			"Invalid or missing token: send Authorization: Bearer <service token> (or Token <service token>)")
		return
	}
	if ti.ipRestricted {
		writeGQLErrors(w, http.StatusForbidden, "FORBIDDEN", "Forbidden: Access denied")
		return
	}
	if !ti.mayDiscovery(0) {
		msg := "This token may not read the Discovery API"
		if ti.name != "" {
			msg = fmt.Sprintf("Service token %q (%s) may not read the Discovery API; use a token with the Metadata Only permission set", ti.name, ti.setNames())
		}
		writeGQLErrors(w, http.StatusForbidden, "FORBIDDEN", msg)
		return
	}
	if retry, limited := e.rateLimited(ti.accountID); limited {
		w.Header().Set("Retry-After", strconv.Itoa(retry))
		writeGQLErrors(w, http.StatusTooManyRequests, "RATE_LIMITED", fmt.Sprintf("Too many requests; retry in %d seconds", retry))
		return
	}
	req, err := readGQLRequest(r)
	if err != nil {
		writeGQLErrors(w, http.StatusBadRequest, "BAD_REQUEST", err.Error())
		return
	}
	schema, err := discoverySchemaParsed()
	if err != nil {
		writeGQLErrors(w, http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", err.Error())
		return
	}
	ctx := context.WithValue(context.WithValue(r.Context(), tokenKey{}, ti), emulatorKey{}, e)
	resp := schema.Exec(ctx, req.Query, req.OperationName, req.Variables)
	out := gqlResponse{Data: resp.Data}
	status := http.StatusOK
	for _, qe := range resp.Errors {
		ge := gqlError{Message: qe.Message, Locations: qe.Locations, Path: qe.Path, Extensions: map[string]any{}}
		for k, v := range qe.Extensions {
			ge.Extensions[k] = v
		}
		if _, ok := ge.Extensions["code"]; !ok {
			ge.Extensions["code"] = errorCode(qe)
		}
		switch ge.Extensions["code"] {
		case "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED":
			// Apollo Server answers a document it cannot run with 400 and no data.
			status = http.StatusBadRequest
			out.Data = nil
		}
		out.Errors = append(out.Errors, ge)
	}
	if len(out.Data) == 0 && status == http.StatusOK {
		out.Data = json.RawMessage("null")
	}
	writeJSON(w, status, out)
}

// errorCode classifies a graph-gophers error into dbt's codes.
func errorCode(qe *gqlerrors.QueryError) string {
	switch {
	case qe.Rule == "MaxDepthExceeded":
		return "COMPLEXITY_EXCEEDED"
	case errors.Is(qe.Err, gqlerrors.ErrSyntax) || strings.HasPrefix(qe.Message, "syntax error"):
		return "GRAPHQL_PARSE_FAILED"
	case qe.Rule != "":
		return "GRAPHQL_VALIDATION_FAILED"
	case qe.ResolverError != nil:
		return "INTERNAL_SERVER_ERROR"
	}
	return "GRAPHQL_VALIDATION_FAILED"
}

func readGQLRequest(r *http.Request) (gqlRequest, error) {
	var req gqlRequest
	switch r.Method {
	case http.MethodGet:
		q := r.URL.Query()
		req.Query, req.OperationName = q.Get("query"), q.Get("operationName")
		if v := q.Get("variables"); v != "" {
			if err := json.Unmarshal([]byte(v), &req.Variables); err != nil {
				return req, fmt.Errorf("variables is not a JSON object: %v", err)
			}
		}
	case http.MethodPost:
		body, err := io.ReadAll(io.LimitReader(r.Body, discoveryMaxBody+1))
		if err != nil {
			return req, fmt.Errorf("read body: %v", err)
		}
		if len(body) > discoveryMaxBody {
			return req, fmt.Errorf("the body is larger than %d bytes", discoveryMaxBody)
		}
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if ct == "application/x-www-form-urlencoded" {
			// Some clients (requests.post(url, data={...})) send the query as a form.
			vals, err := parseForm(string(body))
			if err != nil {
				return req, err
			}
			req.Query, req.OperationName = vals["query"], vals["operationName"]
			if v := vals["variables"]; v != "" {
				if err := json.Unmarshal([]byte(v), &req.Variables); err != nil {
					return req, fmt.Errorf("variables is not a JSON object: %v", err)
				}
			}
			break
		}
		if err := json.Unmarshal(body, &req); err != nil {
			return req, fmt.Errorf(`the body must be JSON {"query": "...", "variables": {...}}: %v`, err)
		}
	default:
		return req, fmt.Errorf("method %s: send the query with POST (or GET ?query=)", r.Method)
	}
	if strings.TrimSpace(req.Query) == "" {
		return req, errors.New("no query: send {\"query\": \"{ environment(id: ...) { ... } }\"}")
	}
	return req, nil
}

func parseForm(s string) (map[string]string, error) {
	r, _ := http.NewRequest(http.MethodPost, "/", strings.NewReader(s))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if err := r.ParseForm(); err != nil {
		return nil, fmt.Errorf("the form body cannot be parsed: %v", err)
	}
	out := map[string]string{}
	for k := range r.PostForm {
		out[k] = r.PostForm.Get(k)
	}
	return out, nil
}

// ---- complexity ----

// connectionFields are the paged fields, whose subfields count once per node of a page.
var connectionFields = map[string]bool{
	"applied.models": true, "applied.sources": true, "applied.seeds": true, "applied.snapshots": true,
	"applied.tests": true, "applied.exposures": true, "applied.resources": true,
	"definition.exposures": true, "definition.metrics": true, "definition.semanticModels": true, "definition.savedQueries": true, "definition.groups": true,
}

// heavyFields are what docs.getdbt.com's "Reasonable use" names as most complex: code and catalog columns.
var heavyFields = map[string]bool{"rawCode": true, "compiledCode": true, "rawSql": true, "compiledSql": true}

// nestedListGuess is how many entries a nested list (tests of a model, columns, parents) is taken to hold.
const nestedListGuess = 10

// checkComplexity scores the query under the root field: every selected field counts 1 (code 5) times the number
// of objects it is asked for, that is the product of the page sizes (first, default 100) of the connections above
// it, the number of nodes of a job-level list, and 10 for each nested list (tests, columns, parents). A score over
// DiscoveryComplexityLimit is dbt's COMPLEXITY_EXCEEDED.
func checkComplexity(ctx context.Context, d *discoEnv, jobRun *discoRun) error {
	paths := graphql.SelectedFieldNames(ctx)
	mult := map[string]int{}
	multOf := func(prefix string) int {
		if m, ok := mult[prefix]; ok {
			return m
		}
		m := 1
		last := prefix[strings.LastIndex(prefix, ".")+1:]
		switch {
		case connectionFields[prefix]:
			var a pageArgs
			m = discoveryDefaultPage
			if ok, err := graphql.DecodeSelectedFieldArgs(ctx, prefix, &a); ok && err == nil && a.First != nil {
				m = max(1, int(*a.First))
			}
		case prefix == "applied.lineage":
			m = max(1, len(d.manifest.Nodes))
		case prefix == "applied.modelHistoricalRuns":
			m = 10
		case jobRun != nil && !strings.Contains(prefix, "."):
			m = max(1, len(d.nodesOf(jobNodeType(prefix))))
		case last == "tests" || last == "columns" || last == "parentIds" || last == "dependsOn" || last == "fqn" || last == "tags":
			m = nestedListGuess
		}
		mult[prefix] = m
		return m
	}
	score := 0
	for _, p := range paths {
		parts := strings.Split(p, ".")
		m := 1
		for i := 1; i < len(parts); i++ {
			m *= multOf(strings.Join(parts[:i], "."))
			if m > DiscoveryComplexityLimit {
				break
			}
		}
		w := 1
		if heavyFields[parts[len(parts)-1]] || (parts[len(parts)-1] == "columns" && len(parts) > 1 && parts[len(parts)-2] == "catalog") {
			w = 5
		}
		score += w * m
		if score > DiscoveryComplexityLimit {
			return discoveryError("COMPLEXITY_EXCEEDED", fmt.Sprintf(
				"This query exceeds the complexity limit (%d): split it into smaller queries, ask for fewer fields or smaller pages (first), and prefer the environment endpoint to job-level queries", DiscoveryComplexityLimit))
		}
	}
	return nil
}

func jobNodeType(field string) art.ResourceType {
	switch field {
	case "models":
		return "model"
	case "seeds":
		return "seed"
	case "snapshots":
		return "snapshot"
	case "sources":
		return "source"
	case "tests":
		return "test"
	}
	return ""
}
