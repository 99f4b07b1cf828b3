package connection

import "github.com/dbtlink/dbtlink/dbtcloud"

// DefaultHost is the host used when a source names none: dbt-cloud-cli and
// Airflow's dbt Cloud provider both fall back to the legacy US multi-tenant
// host.
const DefaultHost = "https://cloud.getdbt.com"

// NormalizeHost returns the canonical "scheme://host[:port]" form of a pasted
// host (https unless the host is a loopback address given without a scheme,
// which gets http for local emulators), delegating to [dbtcloud.NormalizeHost] so that every part of dbtlink
// accepts the same spellings.
func NormalizeHost(raw string) (string, error) {
	return dbtcloud.NormalizeHost(raw)
}
