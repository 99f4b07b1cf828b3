package cli

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// warehouseTarget is a parsed --warehouse DSN.
type warehouseTarget struct {
	driver  string // database/sql driver: "duckdb" or "pgx"
	dialect string // emulator.DDLOptions.Dialect
	dsn     string // what sql.Open gets
	// display names the warehouse without secrets (a PostgreSQL password
	// is redacted).
	display string
}

// parseWarehouseDSN reads "duckdb:PATH" or a postgres:// (postgresql://)
// URL.
func parseWarehouseDSN(s string) (warehouseTarget, error) {
	switch {
	case strings.HasPrefix(s, "duckdb:"):
		path := strings.TrimPrefix(s, "duckdb:")
		if path == "" || strings.HasPrefix(path, ":memory:") {
			return warehouseTarget{}, errors.New("--warehouse duckdb: needs a file path, e.g. duckdb:./jaffle_shop.duckdb (an in-memory database would vanish before anyone could read it)")
		}
		if !duckdbAvailable {
			return warehouseTarget{}, errors.New("--warehouse duckdb: this dbtlink was built without cgo, so it has no DuckDB driver; rebuild it with CGO_ENABLED=1, or give a postgres:// URL")
		}
		return warehouseTarget{driver: "duckdb", dialect: "duckdb", dsn: path, display: "duckdb:" + path}, nil
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		u, err := url.Parse(s)
		if err != nil {
			// url's error quotes the whole URL, password and all.
			return warehouseTarget{}, errors.New("--warehouse: the postgres URL does not parse; check its quoting (postgres://user:password@host:5432/db)")
		}
		return warehouseTarget{driver: "pgx", dialect: "postgres", dsn: s, display: u.Redacted()}, nil
	}
	return warehouseTarget{}, fmt.Errorf("--warehouse %q is not duckdb:PATH or a postgres:// URL", redactDSN(s))
}

// redactDSN hides anything after a scheme's "//user:" up to "@", for
// errors about DSNs that did not parse as anything known.
func redactDSN(s string) string {
	if at := strings.LastIndex(s, "@"); at > 0 {
		if i := strings.Index(s, "://"); i >= 0 && i < at {
			if c := strings.Index(s[i+3:at], ":"); c >= 0 {
				return s[:i+3+c+1] + "xxxxx" + s[at:]
			}
		}
	}
	return s
}

// warehouseBuilt is what buildEmulatorWarehouse did, for the report line.
type warehouseBuilt struct {
	relations int
	schemas   []string
	database  string // the database the statements ran in
	expected  string // the database the manifest's nodes name
	noColumns []string
}

// buildEmulatorWarehouse creates the tables and views of the emulator's
// project in the warehouse, in one transaction, without rows. It drops and
// recreates only the project's own relations (see emulator.Warehouse.DDL),
// so running it again is harmless and never touches other tables.
func buildEmulatorWarehouse(ctx context.Context, t warehouseTarget, prefix string, opts emulator.WarehouseOptions) (warehouseBuilt, error) {
	w, err := emulator.ProjectWarehouse(opts)
	if err != nil {
		return warehouseBuilt{}, usageError("--warehouse: %w", err)
	}
	stmts, err := w.DDL(emulator.DDLOptions{Dialect: t.dialect, SchemaPrefix: prefix})
	if err != nil {
		return warehouseBuilt{}, err
	}
	db, err := sql.Open(t.driver, t.dsn)
	if err != nil {
		return warehouseBuilt{}, usageError("--warehouse %s: %w", t.display, err)
	}
	defer db.Close()
	out := warehouseBuilt{relations: len(w.Relations), expected: w.Database, noColumns: w.NoColumns}
	if err := db.QueryRowContext(ctx, "SELECT current_database()").Scan(&out.database); err != nil {
		return warehouseBuilt{}, withCode(ExitUpstream, fmt.Errorf("--warehouse %s: connect: %w", t.display, err))
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return warehouseBuilt{}, withCode(ExitUpstream, fmt.Errorf("--warehouse %s: begin: %w", t.display, err))
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return warehouseBuilt{}, withCode(ExitUpstream, fmt.Errorf("--warehouse %s: %s: %w", t.display, s, err))
		}
	}
	if err := tx.Commit(); err != nil {
		return warehouseBuilt{}, withCode(ExitUpstream, fmt.Errorf("--warehouse %s: commit: %w", t.display, err))
	}
	seen := map[string]bool{}
	for _, r := range w.Relations {
		if s := prefix + r.Schema; !seen[s] {
			seen[s] = true
			out.schemas = append(out.schemas, s)
		}
	}
	sort.Strings(out.schemas)
	return out, nil
}

// describe is the stderr line saying where the warehouse is and whether its
// database name matches the manifest's.
func (b warehouseBuilt) describe(t warehouseTarget) string {
	msg := fmt.Sprintf("# warehouse %s: %d tables and views of the emulator's project in schemas %s of database %s",
		t.display, b.relations, strings.Join(b.schemas, ", "), b.database)
	switch {
	case b.database == b.expected:
		msg += ", as the manifest expects"
	case t.dialect == "duckdb":
		msg += fmt.Sprintf("; the manifest's nodes are in database %s: name the file %s.duckdb so database.schema.identifier matches", b.expected, b.expected)
	default:
		msg += fmt.Sprintf("; the manifest's nodes are in database %s, so only schema and identifier match", b.expected)
	}
	if len(b.noColumns) > 0 {
		msg += fmt.Sprintf(" (not built, no columns known: %s)", strings.Join(b.noColumns, ", "))
	}
	return msg
}

// emulatorExtraRelation reads --warehouse-extra SCHEMA.TABLE: a table no
// node claims, with one bigint column "id".
func emulatorExtraRelation(s string) (emulator.Relation, error) {
	schema, table, ok := strings.Cut(s, ".")
	if !ok || schema == "" || table == "" || strings.Contains(table, ".") {
		return emulator.Relation{}, fmt.Errorf("--warehouse-extra %q is not SCHEMA.TABLE", s)
	}
	return emulator.Relation{Schema: schema, Identifier: table, Kind: "table",
		Columns: []emulator.Column{{Name: "id", Type: "BIGINT", Position: 1}}}, nil
}
