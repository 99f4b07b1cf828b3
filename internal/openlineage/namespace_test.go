package openlineage

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
)

// TestConnectionNamespace builds each adapter's namespace from connection
// answers shaped as dbt Cloud's (project connections with type and
// details, account connections with adapter_version and config).
func TestConnectionNamespace(t *testing.T) {
	tests := []struct {
		name, body, want, wantErr string
	}{
		{"postgres", `{"type":"postgres","details":{"hostname":"DB.internal","port":6543,"dbname":"analytics"}}`, "postgres://db.internal:6543", ""},
		{"postgres default port", `{"type":"postgres","details":{"hostname":"db.internal","dbname":"analytics"}}`, "postgres://db.internal:5432", ""},
		{"redshift cluster", `{"type":"redshift","details":{"hostname":"examplecluster.abc123xyz789.us-west-2.redshift.amazonaws.com","port":5439}}`, "redshift://examplecluster.us-west-2:5439", ""},
		{"redshift serverless", `{"adapter_version":"redshift_v0","config":{"hostname":"wg1.123456789012.eu-central-1.redshift-serverless.amazonaws.com"}}`, "redshift://wg1.eu-central-1:5439", ""},
		{"redshift other host", `{"type":"redshift","details":{"hostname":"redshift.internal","port":5440}}`, "redshift://redshift.internal:5440", ""},
		{"snowflake recorded", `{"type":"snowflake","details":{"account":"xy12345","database":"analytics","warehouse":"transforming"}}`, "snowflake://xy12345.us-west-1.aws", ""},
		{"snowflake region", `{"type":"snowflake","details":{"account":"xy12345.us-east-2"}}`, "snowflake://xy12345.us-east-2.aws", ""},
		{"snowflake locator", `{"type":"snowflake","details":{"account":"XY12345.east-us-2.azure.snowflakecomputing.com"}}`, "snowflake://xy12345.east-us-2.azure", ""},
		{"snowflake org-account", `{"type":"snowflake","details":{"account":"myorg-myaccount"}}`, "snowflake://myorg-myaccount", ""},
		{"bigquery", `{"type":"bigquery","details":{"project_id":"p","private_key":"k"}}`, "bigquery", ""},
		{"databricks", `{"type":"adapter","details":{"adapter_type":"databricks","host":"https://adb-1234.5.azuredatabricks.net/","http_path":"/sql/1.0/warehouses/abc"}}`, "databricks://adb-1234.5.azuredatabricks.net", ""},
		{"databricks v0", `{"adapter_version":"databricks_v0","config":{"host":"dbc-1.cloud.databricks.com","http_path":"/sql"}}`, "databricks://dbc-1.cloud.databricks.com", ""},
		{"spark http", `{"adapter_version":"databricks_spark_v0","config":{"host":"spark.example","method":"http"}}`, "spark://spark.example:443", ""},
		{"spark thrift", `{"adapter_version":"apache_spark_v0","config":{"host":"spark.example","method":"thrift","cluster":"c"}}`, "spark://spark.example:10001", ""},
		{"trino", `{"adapter_version":"trino_v0","config":{"host":"trino.example","port":8443}}`, "trino://trino.example:8443", ""},
		{"athena", `{"adapter_version":"athena_v0","config":{"region_name":"eu-west-1","database":"awsdatacatalog","s3_staging_dir":"s3://x"}}`, "awsathena://athena.eu-west-1.amazonaws.com", ""},
		{"synapse", `{"adapter_version":"synapse_v0","config":{"host":"ws.sql.azuresynapse.net","database":"pool"}}`, "sqlserver://ws.sql.azuresynapse.net:1433", ""},
		{"fabric", `{"adapter_version":"fabric_v0","config":{"server":"x.datawarehouse.fabric.microsoft.com","database":"w","port":1433}}`, "mssql://x.datawarehouse.fabric.microsoft.com:1433", ""},
		{"teradata", `{"adapter_version":"teradata_v0","config":{"host":"td.example"}}`, "teradata://td.example:1025", ""},
		{"duckdb (the emulator's)", `{"type":"adapter","details":{"adapter_type":"duckdb","path":"jaffle_shop.duckdb"}}`, "duckdb://jaffle_shop.duckdb", ""},
		{"postgres without host", `{"id":7,"type":"postgres","details":{"dbname":"a"}}`, "", "connection 7 (postgres) has no hostname or host"},
		{"snowflake without account", `{"id":8,"type":"snowflake","details":{}}`, "", "has no account"},
		{"unknown adapter", `{"id":9,"adapter_version":"salesforce_v0","config":{"login_url":"https://x"}}`, "", `adapter "salesforce" has no OpenLineage naming rule`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c dbtcloud.Connection
			if err := json.Unmarshal([]byte(tt.body), &c); err != nil {
				t.Fatal(err)
			}
			got, _, err := ConnectionNamespace(&c)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ConnectionNamespace = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// countingTransport counts the calls to the project and connection
// endpoints.
type countingTransport struct {
	next  http.RoundTripper
	calls atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.Contains(r.URL.Path, "/projects/") {
		c.calls.Add(1)
	}
	return c.next.RoundTrip(r)
}

// TestWarehousesCache: runs of one connection cost one call to dbt Cloud
// in all, the override costs none, and an entry is looked up again once
// stale.
func TestWarehousesCache(t *testing.T) {
	t.Parallel()
	_, srv, runID := emulatorRun(t, emulator.DemoDailyJobID)
	ct := &countingTransport{next: srv.Client().Transport}
	client, err := dbtcloud.NewClient(srv.URL, srv.Token, dbtcloud.WithHTTPClient(&http.Client{Transport: ct}))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 12, 7, 0, 0, 0, time.UTC)
	w := &Warehouses{Now: func() time.Time { return now }}
	for range 3 {
		res, err := FromCloud(t.Context(), client, srv.AccountID, runID, Options{Warehouses: w})
		if err != nil {
			t.Fatal(err)
		}
		for _, warn := range res.Warnings {
			if strings.Contains(warn, "namespace") {
				t.Errorf("warning %q although the connection names the warehouse", warn)
			}
		}
		if ns := res.Events[1].Outputs; len(ns) == 0 || ns[0].Namespace != "duckdb://jaffle_shop.duckdb" {
			t.Errorf("first node's outputs %+v", ns)
		}
	}
	if n := ct.calls.Load(); n != 1 {
		t.Errorf("%d project/connection calls for 3 runs, want 1", n)
	}
	if _, err := FromCloud(t.Context(), client, srv.AccountID, runID, Options{DatasetNamespace: "duckdb://elsewhere"}); err != nil {
		t.Fatal(err)
	}
	if n := ct.calls.Load(); n != 1 {
		t.Errorf("the override made %d calls", n-1)
	}
	now = now.Add(2 * time.Hour)
	if _, _, err := w.Namespace(t.Context(), client, srv.AccountID, emulator.DemoProjectID, 0); err != nil {
		t.Fatal(err)
	}
	if n := ct.calls.Load(); n != 2 {
		t.Errorf("a stale entry was not looked up again (%d calls)", n)
	}
}

// TestWarehousesFallback: a token that may not read projects still gets
// events, in dbtlink's fallback namespace, with a warning that says why.
func TestWarehousesFallback(t *testing.T) {
	t.Parallel()
	_, srv, runID := emulatorRun(t, emulator.DemoDailyJobID)
	client, err := dbtcloud.NewClient(srv.URL, emulator.DemoJobRunnerToken, dbtcloud.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	res, err := FromCloud(t.Context(), client, srv.AccountID, runID, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var why, fallback bool
	for _, w := range res.Warnings {
		why = why || strings.Contains(w, "no dataset namespace from the warehouse connection")
		fallback = fallback || strings.Contains(w, "is dbtlink's own for adapter duckdb")
	}
	if !why || !fallback {
		t.Errorf("warnings %q", res.Warnings)
	}
	if ns := res.Events[1].Outputs; len(ns) == 0 || !strings.HasPrefix(ns[0].Namespace, "duckdb://dbt-cloud-") {
		t.Errorf("outputs %+v, want the fallback namespace", ns)
	}
}

// failingProjects answers the project endpoint with 503 while down.
type failingProjects struct {
	next http.RoundTripper
	down atomic.Bool
}

func (f *failingProjects) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.down.Load() && strings.Contains(r.URL.Path, "/projects/") {
		return &http.Response{StatusCode: http.StatusServiceUnavailable, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(`{"status":{"code":503,"is_success":false,"user_message":"down"}}`)), Request: r}, nil
	}
	return f.next.RoundTrip(r)
}

// TestWarehousesTransient: dbt Cloud failing for a while is an error to
// retry, not a reason to name datasets wrongly, and it is not remembered.
func TestWarehousesTransient(t *testing.T) {
	t.Parallel()
	_, srv, runID := emulatorRun(t, emulator.DemoDailyJobID)
	fp := &failingProjects{next: srv.Client().Transport}
	fp.down.Store(true)
	client, err := dbtcloud.NewClient(srv.URL, srv.Token, dbtcloud.WithHTTPClient(&http.Client{Transport: fp}),
		dbtcloud.WithRetryPolicy(dbtcloud.RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		t.Fatal(err)
	}
	w := &Warehouses{}
	_, err = FromCloud(t.Context(), client, srv.AccountID, runID, Options{Warehouses: w})
	var te *TransientError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "try again") {
		t.Fatalf("FromCloud with dbt Cloud down: %v, want a TransientError", err)
	}
	fp.down.Store(false)
	res, err := FromCloud(t.Context(), client, srv.AccountID, runID, Options{Warehouses: w})
	if err != nil {
		t.Fatal(err)
	}
	if ns := res.Events[1].Outputs; len(ns) == 0 || ns[0].Namespace != "duckdb://jaffle_shop.duckdb" {
		t.Errorf("after recovery the outputs are %+v", ns)
	}
}

// TestBuildWarehouseNamespace: the connection's namespace names the
// datasets of steps of its adapter, the override wins over it, and a step
// of another adapter gets the fallback with a warning.
func TestBuildWarehouseNamespace(t *testing.T) {
	tests := []struct {
		name, connNS, connAdapter, override, want string
		warn                                      bool
	}{
		{"from the connection", "postgres://db.internal:5432", "postgres", "", "postgres://db.internal:5432", false},
		{"override wins", "postgres://db.internal:5432", "postgres", "postgres://other:5432", "postgres://other:5432", false},
		{"another adapter's connection", "snowflake://xy12345.us-west-1.aws", "snowflake", "", "postgres://dbt-cloud-1-connection-77", true},
		{"no connection details", "", "", "", "postgres://dbt-cloud-1-connection-77", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := fixture("build")
			in.Run.WarehouseNamespace, in.Run.WarehouseAdapter = tt.connNS, tt.connAdapter
			res := Build(in, Options{DatasetNamespace: tt.override})
			n := 0
			for _, ev := range res.Events {
				for _, o := range ev.Outputs {
					n++
					if o.Namespace != tt.want {
						t.Errorf("%s output namespace %q, want %q", ev.Job.Name, o.Namespace, tt.want)
					}
				}
				for _, i := range ev.Inputs {
					if i.Namespace != tt.want {
						t.Errorf("%s input namespace %q, want %q", ev.Job.Name, i.Namespace, tt.want)
					}
				}
			}
			warned := false
			for _, w := range res.Warnings {
				warned = warned || strings.Contains(w, "dataset namespace")
			}
			if n == 0 || warned != tt.warn {
				t.Errorf("%d outputs, namespace warning %t (want %t): %q", n, warned, tt.warn, res.Warnings)
			}
		})
	}
}

// TestWarehousesEnvironmentConnection: an environment whose connection is
// not its project's costs the project read, the project-scoped lookup and
// then the account-level one, once; the project's own costs one call.
func TestWarehousesEnvironmentConnection(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	mux := http.NewServeMux()
	answer := func(data any) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"status": map[string]any{"code": 200, "is_success": true}, "data": data})
		}
	}
	mux.HandleFunc("GET /api/v3/accounts/7/projects/70/{$}", answer(map[string]any{"id": 70, "account_id": 7, "connection_id": 5,
		"connection": map[string]any{"id": 5, "type": "postgres", "details": map[string]any{"hostname": "pg.internal", "port": 5432}}}))
	mux.HandleFunc("GET /api/v3/accounts/7/projects/70/connections/9/{$}", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"status":{"code":404,"is_success":false,"user_message":"not found"}}`)
	})
	mux.HandleFunc("GET /api/v3/accounts/7/connections/9/{$}", answer(map[string]any{"id": 9, "account_id": 7,
		"adapter_version": "snowflake_v0", "config": map[string]any{"account": "myorg-prod", "database": "analytics"}}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected %s %s", r.Method, r.URL)
		http.NotFound(w, r)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	client, err := dbtcloud.NewClient(srv.URL, "tok", dbtcloud.WithHTTPClient(srv.Client()), dbtcloud.WithRetryPolicy(dbtcloud.RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		t.Fatal(err)
	}
	w := &Warehouses{}
	for range 2 {
		ns, adapter, err := w.Namespace(t.Context(), client, 7, 70, 9)
		if err != nil || ns != "snowflake://myorg-prod" || adapter != "snowflake" {
			t.Fatalf("environment's connection: %q %q %v", ns, adapter, err)
		}
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("%d calls for the environment's connection, want 3 once", n)
	}
	ns, _, err := w.Namespace(t.Context(), client, 7, 70, 5)
	if err != nil || ns != "postgres://pg.internal:5432" || calls.Load() != 4 {
		t.Errorf("project's connection: %q %v after %d calls, want 1 more", ns, err, calls.Load())
	}
}
