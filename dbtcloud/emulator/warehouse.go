package emulator

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Warehouse is what the emulator's bundled project (data/manifest.json and data/catalog.json) would have built in
// its warehouse: a relation per model (except ephemeral ones), seed, snapshot and source. Build it with
// ProjectWarehouse and turn it into SQL with DDL.
//
// # Databases
//
// Relations keep the manifest's database (Database, "jaffle_shop" for the bundled project), but DDL does not
// qualify names with it: it creates schemas and tables in the database it is run in. To make
// database.schema.identifier matching work, run it in a database of that name: for DuckDB, a file named after it
// (jaffle_shop.duckdb, whose catalog is "jaffle_shop"); for PostgreSQL, a database called jaffle_shop.
//
// # Comments
//
// None are set. A warehouse comment is not a dbt description: dbt writes descriptions into the warehouse only
// for nodes with persist_docs, which this project does not set, and the bundled catalog.json (read from the real
// warehouse) has comment null on every relation and column, sources included. Leaving them out keeps the
// warehouse identical to that catalog, so a catalog crawler that shows comments and dbt descriptions side by side
// can tell which is which.
type Warehouse struct {
	// Database is the database the manifest's nodes live in.
	Database  string
	Relations []Relation
	// Omitted are the relations WarehouseOptions.Omit left out; DDL drops them, so a warehouse built before
	// loses them too.
	Omitted []Relation
	// NoColumns lists nodes left out because neither catalog.json nor the manifest knows a column of theirs (the
	// seed raw_tweets): no table can be created without columns in DuckDB, and inventing them would not be faithful.
	NoColumns []string
}

// Relation is one table or view.
type Relation struct {
	Database   string `json:"database"`
	Schema     string `json:"schema"`
	Identifier string `json:"identifier"`
	// Kind is "table" or "view": models per materialization (incremental and snapshots are tables), seeds and
	// sources are tables.
	Kind string `json:"kind"`
	// Nodes are the unique_ids of the nodes that claim this relation, sorted: a seed and a source can name the
	// same table (the bundled project's sources read its seeds). Empty for an extra relation.
	Nodes   []string `json:"nodes,omitempty"`
	Columns []Column `json:"columns"`
}

// Column is one column of a relation.
type Column struct {
	Name string `json:"name"`
	// Type is the type catalog.json reports (the warehouse's own, DuckDB's for the bundled project), else the
	// manifest's data_type, else "text".
	Type string `json:"type"`
	// Position counts from 1.
	Position int `json:"position"`
}

// WarehouseOptions change the warehouse ProjectWarehouse describes, for tests of a catalog against it.
type WarehouseOptions struct {
	// Omit leaves out the relations of these nodes (unique_ids, e.g. "model.jaffle_shop.orders"), so that a
	// catalog can report a node whose table is missing. A relation claimed by several nodes is left out when any
	// of them is named.
	Omit []string
	// Extra adds relations no node claims (Nodes must be empty). Kind defaults to "table" and Database to the
	// project's.
	Extra []Relation
}

type warehouseNode struct {
	ResourceType string `json:"resource_type"`
	Database     string `json:"database"`
	Schema       string `json:"schema"`
	Alias        string `json:"alias"`
	Identifier   string `json:"identifier"` // sources
	Name         string `json:"name"`
	Config       struct {
		Materialized string `json:"materialized"`
		Enabled      *bool  `json:"enabled"`
	} `json:"config"`
	Columns map[string]struct {
		Name     string `json:"name"`
		DataType string `json:"data_type"`
	} `json:"columns"`
}

type catalogEntry struct {
	Metadata struct {
		Database, Schema, Name string
	} `json:"metadata"`
	Columns map[string]struct {
		Name  string `json:"name"`
		Type  string `json:"type"`
		Index int    `json:"index"`
	} `json:"columns"`
}

// ProjectWarehouse describes the relations the bundled project builds, sorted by schema and identifier. It is a
// pure function of the embedded files and opts.
func ProjectWarehouse(opts WarehouseOptions) (*Warehouse, error) {
	mb, err := dataFS.ReadFile("data/manifest.json")
	if err != nil {
		return nil, fmt.Errorf("emulator: embedded manifest: %w", err)
	}
	cb, err := dataFS.ReadFile("data/catalog.json")
	if err != nil {
		return nil, fmt.Errorf("emulator: embedded catalog: %w", err)
	}
	var m struct {
		Nodes   map[string]warehouseNode `json:"nodes"`
		Sources map[string]warehouseNode `json:"sources"`
	}
	if err := json.Unmarshal(mb, &m); err != nil {
		return nil, fmt.Errorf("emulator: parse embedded manifest: %w", err)
	}
	var c struct {
		Nodes   map[string]catalogEntry `json:"nodes"`
		Sources map[string]catalogEntry `json:"sources"`
	}
	if err := json.Unmarshal(cb, &c); err != nil {
		return nil, fmt.Errorf("emulator: parse embedded catalog: %w", err)
	}
	// The catalog is looked up by relation, not by unique_id: it has no entries for seeds, but the sources that
	// read the seeds' tables have them.
	catalog := map[string]catalogEntry{}
	for _, sec := range []map[string]catalogEntry{c.Nodes, c.Sources} {
		for _, ce := range sec {
			catalog[relKey(ce.Metadata.Database, ce.Metadata.Schema, ce.Metadata.Name)] = ce
		}
	}

	omit := map[string]bool{}
	for _, id := range opts.Omit {
		_, isNode := m.Nodes[id]
		_, isSource := m.Sources[id]
		if !isNode && !isSource {
			return nil, fmt.Errorf("emulator: warehouse: cannot omit %q: the project has no such node (give a unique_id such as model.jaffle_shop.orders)", id)
		}
		omit[id] = true
	}

	w := &Warehouse{}
	byKey := map[string]*Relation{}
	var order []string
	claim := func(id string, n warehouseNode, kind, identifier string) {
		if w.Database == "" {
			w.Database = n.Database
		}
		k := relKey(n.Database, n.Schema, identifier)
		r := byKey[k]
		if r == nil {
			r = &Relation{Database: n.Database, Schema: n.Schema, Identifier: identifier, Kind: kind}
			byKey[k] = r
			order = append(order, k)
		}
		if kind == "table" {
			r.Kind = "table" // a seed's table read by a source is a table
		}
		r.Nodes = append(r.Nodes, id)
		if len(r.Columns) > 0 {
			return
		}
		if ce, ok := catalog[k]; ok && len(ce.Columns) > 0 {
			for _, col := range ce.Columns {
				r.Columns = append(r.Columns, Column{Name: col.Name, Type: col.Type, Position: col.Index})
			}
			sort.Slice(r.Columns, func(i, j int) bool { return r.Columns[i].Position < r.Columns[j].Position })
			return
		}
		names := make([]string, 0, len(n.Columns))
		for name := range n.Columns {
			names = append(names, name)
		}
		sort.Strings(names) // the manifest's columns are a JSON object: its order is not kept
		for i, name := range names {
			col := n.Columns[name]
			typ := col.DataType
			if typ == "" {
				typ = "text"
			}
			if col.Name != "" {
				name = col.Name
			}
			r.Columns = append(r.Columns, Column{Name: name, Type: typ, Position: i + 1})
		}
	}
	for _, id := range sortedIDs(m.Nodes) {
		n := m.Nodes[id]
		if n.Config.Enabled != nil && !*n.Config.Enabled {
			continue
		}
		ident := n.Alias
		if ident == "" {
			ident = n.Name
		}
		switch n.ResourceType {
		case "model":
			switch n.Config.Materialized {
			case "ephemeral":
				continue // never built
			case "view":
				claim(id, n, "view", ident)
			default: // table, incremental, materialized views and custom materializations build a table
				claim(id, n, "table", ident)
			}
		case "seed", "snapshot":
			claim(id, n, "table", ident)
		}
	}
	for _, id := range sortedIDs(m.Sources) {
		n := m.Sources[id]
		ident := n.Identifier
		if ident == "" {
			ident = n.Name
		}
		claim(id, n, "table", ident)
	}

	for _, k := range order {
		r := byKey[k]
		sort.Strings(r.Nodes)
		left := false
		for _, id := range r.Nodes {
			left = left || omit[id]
		}
		switch {
		case left:
			w.Omitted = append(w.Omitted, *r)
		case len(r.Columns) == 0:
			w.NoColumns = append(w.NoColumns, r.Nodes...)
		default:
			w.Relations = append(w.Relations, *r)
		}
	}
	for i, x := range opts.Extra {
		if x.Database == "" {
			x.Database = w.Database
		}
		if x.Kind == "" {
			x.Kind = "table"
		}
		where := fmt.Sprintf("emulator: warehouse: extra relation %d (%s.%s)", i, x.Schema, x.Identifier)
		switch {
		case strings.TrimSpace(x.Schema) == "" || strings.TrimSpace(x.Identifier) == "":
			return nil, fmt.Errorf("%s: schema and identifier are required", where)
		case x.Kind != "table" && x.Kind != "view":
			return nil, fmt.Errorf("%s: kind %q is not table or view", where, x.Kind)
		case len(x.Nodes) > 0:
			return nil, fmt.Errorf("%s: an extra relation is one no node claims; leave Nodes empty", where)
		case len(x.Columns) == 0:
			return nil, fmt.Errorf("%s: give at least one column", where)
		case byKey[relKey(x.Database, x.Schema, x.Identifier)] != nil:
			return nil, fmt.Errorf("%s: the project already builds this relation", where)
		}
		for j := range x.Columns {
			if x.Columns[j].Position == 0 {
				x.Columns[j].Position = j + 1
			}
			if x.Columns[j].Type == "" {
				x.Columns[j].Type = "text"
			}
		}
		byKey[relKey(x.Database, x.Schema, x.Identifier)] = &x
		w.Relations = append(w.Relations, x)
	}
	sortRelations(w.Relations)
	sortRelations(w.Omitted)
	return w, nil
}

func relKey(db, schema, name string) string {
	return strings.ToLower(db) + "\x00" + strings.ToLower(schema) + "\x00" + strings.ToLower(name)
}

func sortedIDs[V any](m map[string]V) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func sortRelations(rs []Relation) {
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].Schema != rs[j].Schema {
			return rs[i].Schema < rs[j].Schema
		}
		return rs[i].Identifier < rs[j].Identifier
	})
}

// DDLOptions say how DDL writes the warehouse.
type DDLOptions struct {
	// Dialect is "duckdb" or "postgres".
	Dialect string
	// SchemaPrefix is put before every schema name ("t1_" makes raw t1_raw), so tests can keep to their own
	// schemas; names then no longer match the manifest's.
	SchemaPrefix string
}

// DDL returns the statements that build w, to run in order (in one transaction if the caller likes): CREATE
// SCHEMA IF NOT EXISTS for each schema, then for each relation (and each omitted one) a DROP ... IF EXISTS, then a
// CREATE of each relation. Dropping and recreating only the relations the project names makes it idempotent and
// lets a rebuild with a different Omit lose the omitted tables, without dropping schemas that may hold other
// tables. Views select typed NULLs and no rows; tables are created empty. A relation whose kind changed since the
// last build would fail its DROP in PostgreSQL ("is not a view"); drop it by hand then.
//
// Identifiers are always double-quoted (doubling any quote inside), which both dialects take as case-sensitive
// names, and types are written in the dialect's spelling (DuckDB's VARCHAR, HUGEINT and DOUBLE become text,
// numeric(38,0) and double precision in PostgreSQL).
func (w *Warehouse) DDL(opts DDLOptions) ([]string, error) {
	var typ func(string) string
	switch opts.Dialect {
	case "duckdb":
		typ = func(t string) string { return t }
	case "postgres":
		typ = postgresType
	default:
		return nil, fmt.Errorf("emulator: warehouse: dialect %q is not duckdb or postgres", opts.Dialect)
	}
	name := func(r Relation) string {
		return quoteIdent(opts.SchemaPrefix+r.Schema) + "." + quoteIdent(r.Identifier)
	}
	var out []string
	seen := map[string]bool{}
	for _, r := range append(append([]Relation{}, w.Relations...), w.Omitted...) {
		if s := opts.SchemaPrefix + r.Schema; !seen[s] {
			seen[s] = true
			out = append(out, "CREATE SCHEMA IF NOT EXISTS "+quoteIdent(s))
		}
	}
	for _, r := range append(append([]Relation{}, w.Relations...), w.Omitted...) {
		out = append(out, fmt.Sprintf("DROP %s IF EXISTS %s", strings.ToUpper(r.Kind), name(r)))
	}
	for _, r := range w.Relations {
		cols := make([]string, len(r.Columns))
		for i, c := range r.Columns {
			if r.Kind == "view" {
				cols[i] = fmt.Sprintf("CAST(NULL AS %s) AS %s", typ(c.Type), quoteIdent(c.Name))
			} else {
				cols[i] = quoteIdent(c.Name) + " " + typ(c.Type)
			}
		}
		if r.Kind == "view" {
			out = append(out, fmt.Sprintf("CREATE VIEW %s AS SELECT %s WHERE false", name(r), strings.Join(cols, ", ")))
		} else {
			out = append(out, fmt.Sprintf("CREATE TABLE %s (%s)", name(r), strings.Join(cols, ", ")))
		}
	}
	return out, nil
}

// quoteIdent double-quotes an identifier, as both PostgreSQL and DuckDB read it.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// postgresType spells a DuckDB type (what the bundled catalog holds) for PostgreSQL; types both share pass as
// they are.
func postgresType(t string) string {
	u := strings.ToUpper(strings.TrimSpace(t))
	switch {
	case u == "VARCHAR" || u == "STRING" || u == "TEXT":
		return "text"
	case u == "HUGEINT":
		return "numeric(38,0)"
	case u == "UBIGINT":
		return "numeric(20,0)"
	case u == "DOUBLE":
		return "double precision"
	case u == "FLOAT":
		return "real"
	case u == "TINYINT" || u == "UTINYINT":
		return "smallint"
	case u == "UINTEGER":
		return "bigint"
	case u == "USMALLINT":
		return "integer"
	case u == "BLOB":
		return "bytea"
	case u == "TIMESTAMP WITH TIME ZONE" || u == "TIMESTAMPTZ":
		return "timestamptz"
	}
	return strings.ToLower(t)
}
