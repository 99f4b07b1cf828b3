//go:build !cgo

package cli

// Without cgo there is no DuckDB driver: parseWarehouseDSN says so and
// suggests a postgres:// warehouse or a cgo build.
const duckdbAvailable = false
