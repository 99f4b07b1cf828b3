//go:build cgo

package cli

// The DuckDB driver is C++ behind cgo; builds without cgo get the fallback
// in emulator_duckdb_nocgo.go, which makes --warehouse duckdb: an error.
import _ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" database/sql driver

const duckdbAvailable = true
