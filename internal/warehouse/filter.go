package warehouse

import (
	"errors"
	"fmt"
	"strings"
)

// Filter chooses what a crawl reads. Patterns are globs, where * matches
// any run of characters and ? any one, compared without regard to case.
// Empty include lists admit everything; an exclude always wins over an
// include. System schemas (see [IsSystemSchema]) are never crawled.
//
// Schema patterns are "schema" (in every database) or "database.schema".
// Table patterns are "table" (in every schema), "schema.table" or
// "database.schema.table". A dot always separates parts, so a name that
// itself holds a dot is matched with ? in its place.
type Filter struct {
	IncludeSchemas []string `json:"include_schemas,omitempty"`
	ExcludeSchemas []string `json:"exclude_schemas,omitempty"`
	IncludeTables  []string `json:"include_tables,omitempty"`
	ExcludeTables  []string `json:"exclude_tables,omitempty"`
}

// Validate reports the first malformed pattern.
func (f Filter) Validate() error {
	check := func(what string, pats []string, maxParts int) error {
		for _, p := range pats {
			if _, err := parsePattern(p, maxParts); err != nil {
				return fmt.Errorf("%s pattern %q: %w", what, p, err)
			}
		}
		return nil
	}
	return errors.Join(
		check("include schema", f.IncludeSchemas, 2),
		check("exclude schema", f.ExcludeSchemas, 2),
		check("include table", f.IncludeTables, 3),
		check("exclude table", f.ExcludeTables, 3),
	)
}

// IsZero reports whether f admits every non-system relation.
func (f Filter) IsZero() bool {
	return len(f.IncludeSchemas)+len(f.ExcludeSchemas)+len(f.IncludeTables)+len(f.ExcludeTables) == 0
}

// pattern is a parsed pattern: parts from the right (name first), each a
// lower-cased glob.
type pattern []string

func parsePattern(p string, maxParts int) (pattern, error) {
	if strings.TrimSpace(p) == "" {
		return nil, errors.New("is empty")
	}
	parts := strings.Split(strings.ToLower(p), ".")
	if len(parts) > maxParts {
		return nil, fmt.Errorf("has %d dot-separated parts, at most %d allowed", len(parts), maxParts)
	}
	for _, part := range parts {
		if part == "" {
			return nil, errors.New("has an empty part (two dots, or a leading or trailing dot)")
		}
	}
	// Reverse, so that pattern[0] is the name, [1] its container, ...
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return pattern(parts), nil
}

// matches reports whether p matches the name path (name first, then
// containers). Parts p does not give match anything.
func (p pattern) matches(path ...string) bool {
	for i, g := range p {
		if i >= len(path) || !glob(g, strings.ToLower(path[i])) {
			return false
		}
	}
	return true
}

// matcher is a compiled Filter.
type matcher struct {
	inSchemas, exSchemas, inTables, exTables []pattern
}

func compileFilter(f Filter) (*matcher, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	all := func(pats []string, maxParts int) []pattern {
		out := make([]pattern, 0, len(pats))
		for _, s := range pats {
			p, _ := parsePattern(s, maxParts)
			out = append(out, p)
		}
		return out
	}
	return &matcher{
		inSchemas: all(f.IncludeSchemas, 2),
		exSchemas: all(f.ExcludeSchemas, 2),
		inTables:  all(f.IncludeTables, 3),
		exTables:  all(f.ExcludeTables, 3),
	}, nil
}

func anyMatch(ps []pattern, path ...string) bool {
	for _, p := range ps {
		if p.matches(path...) {
			return true
		}
	}
	return false
}

// schema reports whether the filter admits schema s of database db
// (system schemas never).
func (m *matcher) schema(db, s string) bool {
	if IsSystemSchema(s) {
		return false
	}
	if len(m.inSchemas) > 0 && !anyMatch(m.inSchemas, s, db) {
		return false
	}
	return !anyMatch(m.exSchemas, s, db)
}

// table reports whether the filter admits table t of schema s of db.
func (m *matcher) table(db, s, t string) bool {
	if !m.schema(db, s) {
		return false
	}
	if len(m.inTables) > 0 && !anyMatch(m.inTables, t, s, db) {
		return false
	}
	return !anyMatch(m.exTables, t, s, db)
}

// schemaGlobs returns, for database db, the schema-part globs of the
// include and exclude schema patterns that apply to it, for pushing into
// SQL. none is true when include patterns exist but none applies to db,
// so nothing in db can be admitted.
func (m *matcher) schemaGlobs(db string) (include, exclude []string, none bool) {
	pick := func(ps []pattern) []string {
		var out []string
		for _, p := range ps {
			if len(p) == 1 || glob(p[1], strings.ToLower(db)) {
				out = append(out, p[0])
			}
		}
		return out
	}
	include = pick(m.inSchemas)
	exclude = pick(m.exSchemas)
	return include, exclude, len(m.inSchemas) > 0 && len(include) == 0
}

// systemSchemas are never crawled: the catalogs of PostgreSQL, Redshift
// and DuckDB.
var systemSchemas = map[string]bool{
	"pg_catalog":         true,
	"information_schema": true,
	"pg_toast":           true,
	"pg_internal":        true, // Redshift
	"pg_automv":          true, // Redshift
	"pg_auto_copy":       true, // Redshift
	"pg_mv":              true, // Redshift
	"catalog_history":    true, // Redshift
}

// IsSystemSchema reports whether s is a warehouse's own catalog schema,
// which crawls always skip: pg_catalog, information_schema, pg_toast,
// pg_temp_N and pg_toast_temp_N, and Redshift's internal schemas. (DuckDB's
// system and temp are databases; its crawl skips them.)
func IsSystemSchema(s string) bool {
	return systemSchemas[s] || strings.HasPrefix(s, "pg_temp_") || strings.HasPrefix(s, "pg_toast_temp_")
}

// glob reports whether name matches the glob g (* and ?), both lower case.
func glob(g, name string) bool {
	// Iterative matching with one backtrack point, over runes.
	gr, nr := []rune(g), []rune(name)
	gi, ni := 0, 0
	star, mark := -1, 0
	for ni < len(nr) {
		switch {
		case gi < len(gr) && (gr[gi] == '?' || gr[gi] == nr[ni]):
			gi++
			ni++
		case gi < len(gr) && gr[gi] == '*':
			star, mark = gi, ni
			gi++
		case star >= 0:
			gi = star + 1
			mark++
			ni = mark
		default:
			return false
		}
	}
	for gi < len(gr) && gr[gi] == '*' {
		gi++
	}
	return gi == len(gr)
}

// likePattern turns a glob into a LIKE pattern (escape character \).
func likePattern(g string) string {
	var b strings.Builder
	for _, r := range g {
		switch r {
		case '*':
			b.WriteByte('%')
		case '?':
			b.WriteByte('_')
		case '%', '_', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
