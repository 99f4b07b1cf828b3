// Package warehouse reads what a data warehouse holds (databases, schemas,
// tables, views and their columns) for the catalog. It does not store
// anything: a crawl reports what exists now, completely and correctly, and
// the store keeps history (removed marks, user descriptions).
//
// Each warehouse type is an [Adapter], one file per adapter, registered by
// [Type] and found with [Lookup]:
//
//	a, err := warehouse.Lookup(cfg.Type)
//	conn, err := a.Open(ctx, cfg, password)
//	defer conn.Close()
//	info, err := conn.Test(ctx)
//	err = conn.Crawl(ctx, cfg.Filter, func(t warehouse.Table) error { ... })
//
// PostgreSQL (postgres.go) and Redshift (redshift.go) share one pgx
// connection; Redshift has its own catalog queries over its svv_* system
// views. DuckDB (duckdb.go) uses the official duckdb-go driver, which is a
// cgo package wrapping DuckDB's C++ library: go install builds it when a C
// compiler is present, and a binary built with CGO_ENABLED=0 still lists
// the DuckDB adapter but answers a clear error saying to rebuild with cgo
// (duckdb_nocgo.go), so the rest of dbtlink never needs a build tag.
//
// A new warehouse (Snowflake, BigQuery, Databricks) adds one file with a
// type implementing [Adapter] and [Conn] and a call to [register] in its
// init function. Its Crawl must:
//   - call fn once per table, view or materialized view the filter admits,
//     with every column, in (database, schema, name) order;
//   - report names exactly as the warehouse stores them (no case folding);
//   - never put the secret in an error (use [redact]).
package warehouse

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Type names a kind of warehouse.
type Type string

// The warehouse types this package knows.
const (
	Postgres Type = "postgres"
	Redshift Type = "redshift"
	DuckDB   Type = "duckdb"
)

// Kind says what a relation is.
type Kind string

// The kinds of relation a crawl reports.
const (
	KindTable            Kind = "table" // partitioned parents included
	KindView             Kind = "view"
	KindMaterializedView Kind = "materialized_view"
	KindExternal         Kind = "external" // Redshift Spectrum and similar
	KindForeign          Kind = "foreign"  // PostgreSQL foreign tables
)

// Table is one relation found by a crawl. Names are exactly as the
// warehouse stores them.
type Table struct {
	Database string
	Schema   string
	Name     string
	Kind     Kind
	Comment  string // "" when there is none
	Owner    string // "" when the warehouse does not say
	// RowEstimate is the warehouse's own estimate (statistics, not a
	// count); nil when the warehouse has none (never analyzed, a view).
	RowEstimate *int64
	// SizeBytes is the storage used, indexes and TOAST included for
	// PostgreSQL; nil when the warehouse does not say (views).
	SizeBytes *int64
	Columns   []Column
}

// Column is one column of a [Table].
type Column struct {
	Name     string
	Position int    // 1-based, in the warehouse's order
	DataType string // as the warehouse writes it, e.g. "character varying(20)"
	Nullable bool
	Default  string // the default expression; "" for none
	Comment  string
}

// Info is what [Conn.Test] found.
type Info struct {
	Type            Type
	ServerVersion   string
	CurrentUser     string // "" when the warehouse has no users (DuckDB)
	CurrentDatabase string
	// Databases lists the databases the user may see on the server (for
	// Config.Databases); the current one included.
	Databases []string
	// Schemas and Tables count what a crawl of the current database with
	// the configured filter would read.
	Schemas int
	Tables  int
}

// Adapter opens connections to one type of warehouse.
type Adapter interface {
	Type() Type
	// Open checks cfg, connects with secret as the password ("" for none)
	// and returns a connection. Errors are plain words (see
	// [ConnectError]) and never contain the secret.
	Open(ctx context.Context, cfg Config, secret string) (Conn, error)
}

// Conn is an open connection to a warehouse. A Conn is not safe for
// concurrent use.
type Conn interface {
	// Test checks that the connection works and says what it sees.
	Test(ctx context.Context) (Info, error)
	// Crawl calls fn for each relation f admits, in the current database
	// and then in each of Config.Databases, in (database, schema, name)
	// order. The Table passed to fn is fn's to keep. An error from fn
	// stops the crawl and is returned as is.
	Crawl(ctx context.Context, f Filter, fn func(Table) error) error
	Close() error
}

var (
	registryMu sync.RWMutex
	registry   = map[Type]Adapter{}
)

// register adds a to the registry; adapter files call it from init.
func register(a Adapter) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[a.Type()]; dup {
		panic("warehouse: adapter " + string(a.Type()) + " registered twice")
	}
	registry[a.Type()] = a
}

// Lookup returns the adapter for t.
func Lookup(t Type) (Adapter, error) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	if a, ok := registry[t]; ok {
		return a, nil
	}
	return nil, fmt.Errorf("unknown warehouse type %q: use one of %s", t, strings.Join(typeNames(), ", "))
}

// Types returns the registered warehouse types, sorted.
func Types() []Type {
	registryMu.RLock()
	defer registryMu.RUnlock()
	ts := make([]Type, 0, len(registry))
	for t := range registry {
		ts = append(ts, t)
	}
	slices.Sort(ts)
	return ts
}

func typeNames() []string {
	var s []string
	for t := range registry {
		s = append(s, string(t))
	}
	sort.Strings(s)
	return s
}
