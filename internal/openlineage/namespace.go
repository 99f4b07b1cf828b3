package openlineage

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"

	"github.com/dbtlink/dbtlink/dbtcloud"
)

// schemes maps dbt adapter types to the URI scheme OpenLineage's naming
// spec and its dbt integration give their datasets' namespaces.
var schemes = map[string]string{
	"athena":     "awsathena",
	"bigquery":   "bigquery",
	"clickhouse": "clickhouse",
	"databricks": "databricks",
	"dremio":     "dremio",
	"duckdb":     "duckdb",
	"fabric":     "mssql",
	"postgres":   "postgres",
	"redshift":   "redshift",
	"snowflake":  "snowflake",
	"spark":      "spark",
	"sqlserver":  "mssql",
	"synapse":    "sqlserver",
	"teradata":   "teradata",
	"trino":      "trino",
}

// DatasetNamespace is dbtlink's fallback namespace for a run's datasets,
// used when neither an override nor the connection's details name the
// warehouse (see ConnectionNamespace): "bigquery" for BigQuery, which
// needs no details, else {scheme}://dbt-cloud-{account}-connection-{id}
// (without the connection part when unknown). It is stable and distinct
// per dbt Cloud connection, but it will not match another producer's
// names for the same tables. override, when set, is returned as is.
func DatasetNamespace(adapter, override string, accountID, connectionID int64) string {
	if override != "" {
		return override
	}
	scheme, ok := schemes[adapter]
	if !ok {
		scheme = adapter
	}
	if scheme == "" {
		scheme = "dbt"
	}
	if scheme == "bigquery" {
		return "bigquery"
	}
	if connectionID > 0 {
		return fmt.Sprintf("%s://dbt-cloud-%d-connection-%d", scheme, accountID, connectionID)
	}
	return fmt.Sprintf("%s://dbt-cloud-%d", scheme, accountID)
}

// NeedsOverride reports whether, without connection details, the
// namespace of adapter would be dbtlink's own (DatasetNamespace).
func NeedsOverride(adapter, override string) bool {
	return override == "" && adapter != "bigquery"
}

// Default ports, as the adapters (and the naming spec, for Redshift) take
// them when a connection leaves the port out.
var defaultPorts = map[string]int{
	"clickhouse": 8123, "dremio": 9047, "fabric": 1433, "postgres": 5432, "redshift": 5439, "sqlserver": 1433,
	"synapse": 1433, "teradata": 1025, "trino": 443,
}

// redshiftHost is a provisioned cluster's endpoint
// (examplecluster.abc123xyz789.us-west-2.redshift.amazonaws.com) or a
// serverless workgroup's (wg.123456789012.us-east-1.redshift-serverless...).
var redshiftHost = regexp.MustCompile(`^([a-z0-9-]+)\.[a-z0-9]+\.([a-z]{2}(?:-[a-z]+)+-[0-9])\.redshift(?:-serverless)?\.amazonaws\.com$`)

// ConnectionNamespace is the OpenLineage namespace of the warehouse a dbt
// Cloud connection points at, built from its details the way the naming
// spec (spec/Naming.md) and openlineage-dbt name each adapter's datasource:
//
//	postgres    postgres://{hostname}:{port, 5432}
//	redshift    redshift://{cluster}.{region}:{port, 5439} for an AWS endpoint, else redshift://{hostname}:{port}
//	snowflake   snowflake://{account}, the account normalised as the spec says (below)
//	bigquery    bigquery
//	databricks  databricks://{host}
//	spark       spark://{host}:{port, 443 for http and odbc, 10001 for thrift}
//	trino       trino://{host}:{port, 443}
//	athena      awsathena://athena.{region_name}.amazonaws.com
//	synapse     sqlserver://{host}:{port, 1433}
//	fabric, sqlserver  mssql://{server}:{port, 1433}
//	teradata    teradata://{host}:{port, 1025}
//	clickhouse  clickhouse://{host}:{port, 8123}
//	dremio      dremio://{software_host}:{port, 9047}
//	duckdb      duckdb://{path}
//
// dbt Cloud's details spell the host "hostname" for Postgres and Redshift
// and "host" elsewhere; both are read. A Snowflake account in the
// organization-account form (myorg-myaccount) is kept; a legacy locator
// gets the region and cloud the spec defaults to (xy12345 becomes
// xy12345.us-west-1.aws, xy12345.us-east-2 becomes xy12345.us-east-2.aws);
// a pasted host's .snowflakecomputing.com is dropped. Hosts are lower-cased.
//
// It returns the connection's adapter too; the error says which detail is
// missing, or that the adapter has no naming rule here.
func ConnectionNamespace(c *dbtcloud.Connection) (namespace, adapter string, err error) {
	if c == nil {
		return "", "", fmt.Errorf("no connection")
	}
	adapter = c.Adapter()
	d := c.Details
	need := func(keys ...string) (string, error) {
		for _, k := range keys {
			if v := d.String(k); v != "" {
				return v, nil
			}
		}
		return "", fmt.Errorf("dbt Cloud connection %d (%s) has no %s in its details", c.ID, adapter, strings.Join(keys, " or "))
	}
	hostPort := func(hostKeys ...string) (string, error) {
		h, err := need(hostKeys...)
		if err != nil {
			return "", err
		}
		h = cleanHost(h)
		port := d.String("port")
		if p, err := strconv.Atoi(port); err != nil || p <= 0 {
			port = strconv.Itoa(defaultPorts[adapter])
		}
		return net.JoinHostPort(h, port), nil
	}
	scheme := schemes[adapter]
	switch adapter {
	case "bigquery":
		return "bigquery", adapter, nil
	case "postgres", "trino", "synapse", "teradata", "clickhouse":
		hp, err := hostPort("hostname", "host")
		if err != nil {
			return "", adapter, err
		}
		return scheme + "://" + hp, adapter, nil
	case "fabric", "sqlserver":
		hp, err := hostPort("server", "host")
		if err != nil {
			return "", adapter, err
		}
		return scheme + "://" + hp, adapter, nil
	case "dremio":
		hp, err := hostPort("software_host", "host")
		if err != nil {
			return "", adapter, err
		}
		return scheme + "://" + hp, adapter, nil
	case "redshift":
		hp, err := hostPort("hostname", "host")
		if err != nil {
			return "", adapter, err
		}
		h, port, _ := net.SplitHostPort(hp)
		if m := redshiftHost.FindStringSubmatch(h); m != nil {
			return fmt.Sprintf("redshift://%s.%s:%s", m[1], m[2], port), adapter, nil
		}
		return "redshift://" + hp, adapter, nil
	case "snowflake":
		a, err := need("account")
		if err != nil {
			return "", adapter, err
		}
		return "snowflake://" + snowflakeAccount(a), adapter, nil
	case "databricks":
		h, err := need("host", "hostname")
		if err != nil {
			return "", adapter, err
		}
		return "databricks://" + cleanHost(h), adapter, nil
	case "spark":
		h, err := need("host", "hostname")
		if err != nil {
			return "", adapter, err
		}
		port := d.String("port")
		if p, err := strconv.Atoi(port); err != nil || p <= 0 {
			port = "443" // http and odbc, which dbt Cloud's Spark connections use
			if strings.EqualFold(d.String("method"), "thrift") {
				port = "10001"
			}
		}
		return "spark://" + net.JoinHostPort(cleanHost(h), port), adapter, nil
	case "athena":
		r, err := need("region_name")
		if err != nil {
			return "", adapter, err
		}
		return "awsathena://athena." + strings.ToLower(r) + ".amazonaws.com", adapter, nil
	case "duckdb":
		p, err := need("path")
		if err != nil {
			return "", adapter, err
		}
		return "duckdb://" + p, adapter, nil
	}
	return "", adapter, fmt.Errorf("dbt Cloud connection %d: adapter %q has no OpenLineage naming rule in dbtlink", c.ID, adapter)
}

// cleanHost drops a scheme, path and letter case from a host someone may
// have pasted as a URL (https://adb-1.azuredatabricks.net/).
func cleanHost(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	if i := strings.Index(h, "://"); i >= 0 {
		h = h[i+3:]
	}
	if i := strings.IndexByte(h, '/'); i >= 0 {
		h = h[:i]
	}
	return h
}

// snowflakeAccount normalises a Snowflake account identifier as the naming
// spec asks: organization-account names as they are, legacy locators with
// region and cloud (defaults us-west-1 and aws).
func snowflakeAccount(a string) string {
	a = strings.ToLower(strings.TrimSpace(a))
	for _, suffix := range []string{".snowflakecomputing.com", ".privatelink"} {
		a = strings.TrimSuffix(a, suffix)
	}
	parts := strings.Split(a, ".")
	switch {
	case len(parts) == 1 && strings.ContainsAny(parts[0], "-_"):
		return a // orgname-accountname
	case len(parts) == 1:
		return a + ".us-west-1.aws"
	case len(parts) == 2:
		return a + ".aws"
	}
	return strings.Join(parts[:3], ".")
}
