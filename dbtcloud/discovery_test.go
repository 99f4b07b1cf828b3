package dbtcloud

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

func TestDiscoveryEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host string
		opts []DiscoveryOption
		want string
	}{
		{"cloud.getdbt.com", nil, "https://metadata.cloud.getdbt.com/graphql"},
		{"https://emea.dbt.com/api/v2", nil, "https://metadata.emea.dbt.com/graphql"},
		{"au.dbt.com", nil, "https://metadata.au.dbt.com/graphql"},
		{"ab123.us1.dbt.com", nil, "https://ab123.metadata.us1.dbt.com/graphql"},
		{"us1.dbt.com", []DiscoveryOption{WithHostPrefix("AB123")}, "https://ab123.metadata.us1.dbt.com/graphql"},
		{"ab123.us1.dbt.com", []DiscoveryOption{WithHostPrefix("ab123")}, "https://ab123.metadata.us1.dbt.com/graphql"},
		{"cloud.getdbt.com", []DiscoveryOption{WithHostPrefix("ab123")}, "https://metadata.cloud.getdbt.com/graphql"},
		{"dbt.acme.internal", nil, "https://metadata.dbt.acme.internal/graphql"},
		{"127.0.0.1:8080", nil, "http://127.0.0.1:8080/graphql"},
		{"cloud.getdbt.com", []DiscoveryOption{WithDiscoveryEndpoint("https://proxy.example.com/dbt/graphql")}, "https://proxy.example.com/dbt/graphql"},
		{"cloud.getdbt.com", []DiscoveryOption{WithDiscoveryEndpoint("metadata.example.com")}, "https://metadata.example.com/graphql"},
		{"cloud.getdbt.com", []DiscoveryOption{WithDiscoveryEndpoint("http://localhost:9000")}, "http://localhost:9000/graphql"},
	}
	for _, tt := range tests {
		c, err := NewClient(tt.host, testToken)
		if err != nil {
			t.Fatal(err)
		}
		d, err := c.Discovery(tt.opts...)
		if err != nil {
			t.Errorf("%s: %v", tt.host, err)
			continue
		}
		if d.Endpoint() != tt.want {
			t.Errorf("%s %d option(s): endpoint %s, want %s", tt.host, len(tt.opts), d.Endpoint(), tt.want)
		}
	}
	c, _ := NewClient("cloud.getdbt.com", testToken)
	for i, bad := range []DiscoveryOption{
		WithDiscoveryEndpoint("http://metadata.example.com/graphql"), // clear text off loopback
		WithDiscoveryEndpoint("https://metadata.example.com/graphql?token=x"),
		WithDiscoveryEndpoint("  "),
		WithHostPrefix("a.b"),
		WithHostPrefix(""),
		nil,
	} {
		if _, err := c.Discovery(bad); err == nil {
			t.Errorf("bad option %d accepted", i)
		} else if strings.Contains(err.Error(), testToken) {
			t.Errorf("error leaks the token: %v", err)
		}
	}
}

func gqlPage(after string, ids []string, next bool, end string) []byte {
	edges := []map[string]any{}
	for _, id := range ids {
		edges = append(edges, map[string]any{"node": map[string]any{"uniqueId": id}})
	}
	b, _ := json.Marshal(map[string]any{"data": map[string]any{"environment": map[string]any{"applied": map[string]any{"models": map[string]any{
		"totalCount": 9, "pageInfo": map[string]any{"hasNextPage": next, "endCursor": end}, "edges": edges}}}}})
	return b
}

func TestDiscoveryListPagesAndStops(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var afters []string
	b.mux.HandleFunc("POST /graphql", func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "Bearer "+testToken {
			t.Errorf("Authorization = %q", got)
		}
		var req gqlBody
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			t.Fatal(err)
		}
		after, _ := req.Variables["after"].(string)
		afters = append(afters, after)
		if req.Variables["first"] != 2.0 || req.Variables["environmentId"] != 7.0 {
			t.Errorf("variables = %v", req.Variables)
		}
		switch after {
		case "":
			w.Write(gqlPage(after, []string{"a", "b"}, true, "c1"))
		case "c1":
			w.Write(gqlPage(after, []string{"c", "d"}, true, "c2"))
		case "c2":
			w.Write(gqlPage(after, []string{"e"}, false, "c3"))
		case "stuck":
			w.Write(gqlPage(after, []string{"x"}, true, "stuck"))
		}
	})
	d, err := b.client.Discovery()
	if err != nil {
		t.Fatal(err)
	}
	nodes, err := d.ListAll(t.Context(), 7, AppliedModels, nil, PageOptions{First: 2})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range nodes {
		got = append(got, n.UniqueID)
	}
	if strings.Join(got, ",") != "a,b,c,d,e" || strings.Join(afters, ",") != ",c1,c2" {
		t.Fatalf("nodes %v after %v", got, afters)
	}
	// A server that hands back the cursor it was given would loop forever.
	b.mux.HandleFunc("POST /stuck/graphql", func(w http.ResponseWriter, r *http.Request) {
		w.Write(gqlPage("", []string{"x"}, true, ""))
	})
	stuck, _ := b.client.Discovery(WithDiscoveryEndpoint(b.server.URL + "/stuck/graphql"))
	if _, err := stuck.ListAll(t.Context(), 7, AppliedModels, nil, PageOptions{First: 2}); err == nil || !strings.Contains(err.Error(), "paging stuck") {
		t.Fatalf("stuck paging: %v", err)
	}
}

func TestDiscoveryErrorsAndRetries(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var calls atomic.Int32
	b.mux.HandleFunc("POST /graphql", func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		var req gqlBody
		_ = json.NewDecoder(r.Body).Decode(&req)
		switch req.OperationName {
		case "Flaky":
			if n < 3 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.Write([]byte(`{"data": {"environment": {"dbtProjectName": "p", "adapterType": "duckdb"}}}`))
		case "Complex":
			w.Write([]byte(`{"data": {"environment": null}, "errors": [{"message": "This query exceeds the complexity limit", "extensions": {"code": "COMPLEXITY_EXCEEDED"}}]}`))
		case "Invalid":
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"errors": [{"message": "Cannot query field \"x\" on type \"Environment\".", "locations": [{"line": 1, "column": 3}], "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}]}`))
		case "Denied":
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"errors": [{"message": "Invalid token", "extensions": {"code": "UNAUTHENTICATED"}}]}`))
		}
	})
	d, _ := b.client.Discovery()
	var env struct {
		Environment DiscoveryEnvironment `json:"environment"`
	}
	if err := d.Query(t.Context(), "Flaky", "query Flaky { environment(id: 1) { dbtProjectName } }", nil, &env); err != nil || env.Environment.AdapterType != "duckdb" {
		t.Fatalf("after two 503s: %v %+v", err, env)
	}
	if n := len(b.clock.Sleeps()); n != 2 {
		t.Fatalf("%d backoff waits, want 2", n)
	}
	tests := []struct {
		op, code string
		http     error
	}{
		{"Complex", "COMPLEXITY_EXCEEDED", nil},
		{"Invalid", "GRAPHQL_VALIDATION_FAILED", nil},
		{"Denied", "UNAUTHENTICATED", ErrUnauthorized},
	}
	for _, tt := range tests {
		before := calls.Load()
		err := d.Query(t.Context(), tt.op, "query "+tt.op+" { x }", nil, nil)
		var ge *GraphQLError
		if !errors.As(err, &ge) || !ge.HasCode(tt.code) || ge.Code() != tt.code || !strings.Contains(err.Error(), tt.code) {
			t.Fatalf("%s: %v", tt.op, err)
		}
		if tt.http != nil && !errors.Is(err, tt.http) {
			t.Errorf("%s: %v does not match %v", tt.op, err, tt.http)
		}
		if got := calls.Load() - before; got != 1 {
			t.Errorf("%s: %d attempts; a refused query is not retried", tt.op, got)
		}
		if strings.Contains(err.Error(), testToken) {
			t.Errorf("error leaks the token: %v", err)
		}
	}
}
