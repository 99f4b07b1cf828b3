package openlineage

import "fmt"

// schemes maps dbt adapter types to the URI scheme OpenLineage's naming
// spec and its dbt integration give their datasets' namespaces.
var schemes = map[string]string{
	"athena":     "awsathena",
	"bigquery":   "bigquery",
	"clickhouse": "clickhouse",
	"databricks": "databricks",
	"dremio":     "dremio",
	"duckdb":     "duckdb",
	"postgres":   "postgres",
	"redshift":   "redshift",
	"snowflake":  "snowflake",
	"spark":      "spark",
	"sqlserver":  "mssql",
	"trino":      "trino",
}

// DatasetNamespace is the namespace of a run's datasets.
//
// The integration builds it from the dbt profile's connection details:
// postgres://{host}:{port}, redshift://{host}:{port},
// snowflake://{account}, databricks://{host}, duckdb://{path},
// mssql://{server}:{port}, trino://{host}:{port}, and plain "bigquery". A
// dbt Cloud run's artifacts name the adapter but not the host or account,
// and dbtlink's dbt Cloud client does not read connection details, so:
//
//   - override, when set (--openlineage-dataset-namespace), is used as is:
//     set it to the namespace other producers use for the warehouse, e.g.
//     postgres://db.internal:5432, so that lineage joins up;
//   - BigQuery needs no details: "bigquery";
//   - otherwise the namespace is {scheme}://dbt-cloud-{account}-connection-{id}
//     (without the connection part when unknown): stable and distinct per
//     dbt Cloud connection, but it will not match another producer's names
//     for the same tables.
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

// NeedsOverride reports whether DatasetNamespace would fall back to a name
// of dbtlink's own for the adapter, which callers log once so that the
// operator can set the real one.
func NeedsOverride(adapter, override string) bool {
	return override == "" && adapter != "bigquery"
}
