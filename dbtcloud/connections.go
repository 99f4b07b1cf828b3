package dbtcloud

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// ConnectionsService reads a project's warehouse connections (v3 API).
//
// These are the project-scoped endpoints (deprecated by dbt Cloud in favour
// of account-level connections, but still served and the ones a project's
// connection_id points at); Projects.Get also returns the project's
// connection with its details, so one call usually suffices.
//
// dbt Cloud API docs: https://docs.getdbt.com/dbt-cloud/api-v3#/operations/Retrieve%20Connection
type ConnectionsService service

// Connection is a warehouse connection: the adapter (Type, or
// AdapterVersion for account-level connections) and its non-secret
// settings (Details: host, port, account, project...), as in
// recorded/connection_get_response.json.
//
// dbt Cloud API docs: https://docs.getdbt.com/dbt-cloud/api-v3#/operations/Retrieve%20Connection
type Connection struct {
	ID        int64  `json:"id"`
	AccountID int64  `json:"account_id"`
	ProjectID int64  `json:"project_id"`
	Name      string `json:"name"`
	// Type is the connection type: "postgres", "redshift", "snowflake",
	// "bigquery", "adapter" (adapters without a type of their own, such as
	// Databricks or DuckDB: see Details "adapter_type"), ...
	Type string `json:"type"`
	// AdapterVersion is set on newer connections, e.g. "databricks_v0".
	AdapterVersion string `json:"adapter_version"`
	// Details are the connection's settings. Account-level connections
	// call them "config"; decoding fills Details from either.
	Details   ConnectionDetails `json:"details"`
	State     int               `json:"state"`
	CreatedAt Timestamp         `json:"created_at"`
	UpdatedAt Timestamp         `json:"updated_at"`
}

// UnmarshalJSON reads "config" into Details when "details" is absent, as
// account-level connection answers have it.
func (c *Connection) UnmarshalJSON(b []byte) error {
	type plain Connection
	var v struct {
		plain
		AdapterVersion *string           `json:"adapter_version"`
		Config         ConnectionDetails `json:"config"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*c = Connection(v.plain)
	if v.AdapterVersion != nil {
		c.AdapterVersion = *v.AdapterVersion
	}
	if c.Details == nil {
		c.Details = v.Config
	}
	return nil
}

// Adapter is the dbt adapter of the connection ("postgres", "snowflake",
// "databricks", "duckdb", ...): Details "adapter_type" for an "adapter"
// connection, else AdapterVersion without its version suffix, else Type.
func (c *Connection) Adapter() string {
	if t := c.Details.String("adapter_type"); t != "" && (c.Type == "adapter" || c.Type == "") {
		return t
	}
	if c.AdapterVersion != "" {
		a := c.AdapterVersion
		if i := strings.LastIndex(a, "_v"); i > 0 {
			a = a[:i]
		}
		if a == "databricks_spark" || a == "apache_spark" {
			return "spark"
		}
		return a
	}
	return c.Type
}

// ConnectionDetails are a connection's settings. dbt Cloud blanks most
// secrets in its answers, but not every adapter's; String, GoString and
// MarshalJSON mask any value whose key names a secret, so that logging or
// printing a connection never shows one.
type ConnectionDetails map[string]any

// secretKey reports whether a details key holds a credential.
func secretKey(k string) bool {
	k = strings.ToLower(k)
	for _, s := range []string{"secret", "password", "private_key", "token", "passphrase"} {
		if strings.Contains(k, s) && k != "token_uri" {
			return true
		}
	}
	return false
}

// String returns the value of key as text ("" when absent or null);
// numbers are written without a fraction.
func (d ConnectionDetails) String(key string) string {
	switch v := d[key].(type) {
	case string:
		return strings.TrimSpace(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

func (d ConnectionDetails) masked() map[string]any {
	out := make(map[string]any, len(d))
	for k, v := range d {
		if secretKey(k) && v != nil && v != "" {
			v = "REDACTED"
		}
		out[k] = v
	}
	return out
}

// Format prints the details with secrets masked, in key order, whatever
// the verb.
func (d ConnectionDetails) Format(f fmt.State, _ rune) {
	m := d.masked()
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("{")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s:%v", k, m[k])
	}
	b.WriteString("}")
	_, _ = f.Write([]byte(b.String()))
}

// MarshalJSON writes the details with secrets masked.
func (d ConnectionDetails) MarshalJSON() ([]byte, error) {
	if d == nil {
		return []byte("null"), nil
	}
	return json.Marshal(d.masked())
}

// ConnectionListOptions filters Connections.List.
type ConnectionListOptions struct {
	// State is StateActive or StateDeleted; 0 leaves it to the server.
	State int
	ListOptions
}

func (o *ConnectionListOptions) values() (url.Values, error) {
	q := url.Values{}
	if o == nil {
		return q, nil
	}
	setInt(q, "state", int64(o.State))
	return q, o.ListOptions.encode(q)
}

// List returns one page of a project's connections.
//
//meta:operation GET /api/v3/accounts/{account_id}/projects/{project_id}/connections/
func (s *ConnectionsService) List(ctx context.Context, accountID, projectID int64, opts *ConnectionListOptions) ([]Connection, *Response, error) {
	if err := checkID("account", accountID); err != nil {
		return nil, nil, err
	}
	if err := checkID("project", projectID); err != nil {
		return nil, nil, err
	}
	q, err := opts.values()
	if err != nil {
		return nil, nil, err
	}
	var out []Connection
	resp, err := s.client.do(ctx, &apiRequest{method: http.MethodGet, path: accountPath("v3", accountID, "projects/%d/connections/", projectID), query: q, account: accountID, idempotent: true}, &out)
	if err != nil {
		return nil, resp, err
	}
	return out, resp, nil
}

// ListIter yields every matching connection of a project, page by page.
// opts is copied.
func (s *ConnectionsService) ListIter(ctx context.Context, accountID, projectID int64, opts *ConnectionListOptions) iter.Seq2[*Connection, error] {
	var o ConnectionListOptions
	if opts != nil {
		o = *opts
	}
	return pages(o.ListOptions, func(c *Connection) int64 { return c.ID }, func(lo ListOptions) ([]Connection, *Response, error) {
		o.ListOptions = lo
		return s.List(ctx, accountID, projectID, &o)
	})
}

// Get returns one connection of a project.
//
//meta:operation GET /api/v3/accounts/{account_id}/projects/{project_id}/connections/{id}/
func (s *ConnectionsService) Get(ctx context.Context, accountID, projectID, connectionID int64) (*Connection, *Response, error) {
	for _, c := range []struct {
		what string
		id   int64
	}{{"account", accountID}, {"project", projectID}, {"connection", connectionID}} {
		if err := checkID(c.what, c.id); err != nil {
			return nil, nil, err
		}
	}
	var out Connection
	resp, err := s.client.do(ctx, &apiRequest{method: http.MethodGet, path: accountPath("v3", accountID, "projects/%d/connections/%d/", projectID, connectionID), account: accountID, idempotent: true}, &out)
	if err != nil {
		return nil, resp, err
	}
	return &out, resp, nil
}

// GetByAccount returns an account-level connection, as newer environments
// use: the answer names the adapter in adapter_version and carries the
// settings as config (read into Details).
//
//meta:operation GET /api/v3/accounts/{account_id}/connections/{id}/
func (s *ConnectionsService) GetByAccount(ctx context.Context, accountID, connectionID int64) (*Connection, *Response, error) {
	if err := checkID("account", accountID); err != nil {
		return nil, nil, err
	}
	if err := checkID("connection", connectionID); err != nil {
		return nil, nil, err
	}
	var out Connection
	resp, err := s.client.do(ctx, &apiRequest{method: http.MethodGet, path: accountPath("v3", accountID, "connections/%d/", connectionID), account: accountID, idempotent: true}, &out)
	if err != nil {
		return nil, resp, err
	}
	return &out, resp, nil
}
