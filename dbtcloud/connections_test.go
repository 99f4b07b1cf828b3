package dbtcloud

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestConnections reads connections the three ways dbt Cloud gives them:
// with the project, one by id, and a page of a project's, from the
// recorded answers.
func TestConnections(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c, ctx := b.client, t.Context()
	b.mux.HandleFunc("GET /api/v3/accounts/123456/projects/123457/{$}", serveFile(t, "project_get_response.json"))
	b.mux.HandleFunc("GET /api/v3/accounts/54321/projects/123467/connections/32544/{$}", serveFile(t, "connection_get_response.json"))
	b.mux.HandleFunc("GET /api/v3/accounts/54321/projects/123467/connections/{$}", func(w http.ResponseWriter, r *http.Request) {
		checkQuery(t, r, url.Values{"state": {"1"}, "limit": {"1"}})
		serveFile(t, "connection_list_response.json")(w, r)
	})

	p, _, err := c.Projects.Get(ctx, 123456, 123457)
	if err != nil {
		t.Fatal(err)
	}
	if p.Connection == nil || p.Connection.ID != p.ConnectionID || p.Connection.Adapter() != "bigquery" || p.Connection.Details.String("project_id") != "REDACTED" {
		t.Errorf("Projects.Get connection = %+v", p.Connection)
	}
	got, _, err := c.Connections.Get(ctx, 54321, 123467, 32544)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Bigquery" || got.Adapter() != "bigquery" || got.Details.String("timeout_seconds") != "300" || got.CreatedAt.IsZero() {
		t.Errorf("Connections.Get = %+v", got)
	}
	list, _, err := c.Connections.List(ctx, 54321, 123467, &ConnectionListOptions{State: StateActive, ListOptions: ListOptions{Limit: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Adapter() != "snowflake" || list[0].Details.String("account") != "ANONYMIZED" {
		t.Errorf("Connections.List = %+v", list)
	}
	n := 0
	for conn, err := range c.Connections.ListIter(ctx, 54321, 123467, &ConnectionListOptions{State: StateActive, ListOptions: ListOptions{Limit: 1}}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if conn.ID != 32544 {
			t.Errorf("ListIter = %+v", conn)
		}
	}
	if n != 1 {
		t.Errorf("ListIter yielded %d connections, want 1", n)
	}
	if _, _, err := c.Connections.Get(ctx, 54321, 123467, 0); err == nil || !strings.Contains(err.Error(), "connection") {
		t.Errorf("Get with connection 0: %v", err)
	}
}

// TestConnectionAdapter: the adapter comes from the adapter connection's
// adapter_type, the account-level adapter_version, or the type.
func TestConnectionAdapter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body, want string
	}{
		{`{"type":"postgres","details":{"hostname":"db"}}`, "postgres"},
		{`{"type":"adapter","details":{"adapter_type":"databricks","host":"x.cloud.databricks.com"}}`, "databricks"},
		{`{"type":"adapter","details":{"adapter_type":"duckdb","path":"a.duckdb"}}`, "duckdb"},
		{`{"adapter_version":"trino_v0","config":{"host":"trino.example","port":443}}`, "trino"},
		{`{"adapter_version":"databricks_spark_v0","config":{"host":"h"}}`, "spark"},
		{`{"adapter_version":"bigquery_v1","config":{"project_id":"p"}}`, "bigquery"},
	} {
		var c Connection
		if err := json.Unmarshal([]byte(tc.body), &c); err != nil {
			t.Fatal(err)
		}
		if got := c.Adapter(); got != tc.want {
			t.Errorf("%s: Adapter() = %q, want %q", tc.body, got, tc.want)
		}
		if c.Details == nil {
			t.Errorf("%s: details (or config) not read", tc.body)
		}
	}
}

// TestConnectionDetailsMaskSecrets: printing or marshalling details never
// shows a credential.
func TestConnectionDetailsMaskSecrets(t *testing.T) {
	t.Parallel()
	var c Connection
	body := `{"type":"bigquery","details":{"private_key":"-----BEGIN KEY-----abc","client_secret":"cs-123","password":"pw-9","token_uri":"https://oauth2.googleapis.com/token","project_id":"proj"}}`
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{string(out), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c.Details), fmt.Sprint(c.Details)} {
		for _, secret := range []string{"BEGIN KEY", "cs-123", "pw-9"} {
			if strings.Contains(s, secret) {
				t.Errorf("secret %q shows in %s", secret, s)
			}
		}
		if !strings.Contains(s, "proj") || !strings.Contains(s, "oauth2.googleapis.com") {
			t.Errorf("non-secret details missing from %s", s)
		}
	}
	if c.Details.String("private_key") == "" {
		t.Error("the value itself stays readable to code that asks for it")
	}
}

// TestConnectionsGetByAccount reads an account-level connection, shaped as
// openapi-v3.yaml's AccountConnectionDetailResponse (adapter_version and
// config rather than type and details).
func TestConnectionsGetByAccount(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.mux.HandleFunc("GET /api/v3/accounts/123456/connections/42/{$}", func(w http.ResponseWriter, r *http.Request) {
		checkAuth(t, r)
		writeJSON(w, 200, map[string]any{"id": 42, "account_id": 123456, "name": "Warehouse", "adapter_version": "databricks_v0",
			"config": map[string]any{"host": "dbc-1.cloud.databricks.com", "http_path": "/sql/1.0/warehouses/x", "client_secret": "cs-7"}}, nil)
	})
	c, _, err := b.client.Connections.GetByAccount(t.Context(), 123456, 42)
	if err != nil {
		t.Fatal(err)
	}
	if c.Adapter() != "databricks" || c.Details.String("host") != "dbc-1.cloud.databricks.com" || c.ProjectID != 0 {
		t.Errorf("GetByAccount = %+v", c)
	}
	if strings.Contains(fmt.Sprint(c), "cs-7") {
		t.Error("the client secret shows")
	}
}
