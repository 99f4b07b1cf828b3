package sqllineage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A case file in testdata/cases holds one compiled model copied from a
// manifest of the shared corpus and the column lineage expected of it,
// written by hand from reading the SQL (not produced by this package):
//
//	# provenance: <manifest under ../shared/artifacts> <unique_id>
//	# dialect: postgres
//	# schema: db.schema.table: col, col      (columns the caller knows)
//	# col out_name = copy db.schema.table.col, transform db.schema.other.col
//	# col constant_name =                    (reads no column)
//	# filters = filter db.schema.table.col, join db.schema.other.id
//	# partial: <output column or "query">    (a gap is expected there)
//	---
//	<compiled SQL>
//
// Every output column is listed in order; sources and filters compare as
// sets. "via eph" after a source names the ephemeral model it passed through.
type testCase struct {
	path       string
	provenance string
	dialect    Dialect
	schema     *MapSchema
	cols       []string
	expect     map[string][]string
	filters    []string
	partial    map[string]bool
	sql        string
}

func readCase(path string) (*testCase, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	head, sql, ok := strings.Cut(string(b), "\n---\n")
	if !ok {
		return nil, fmt.Errorf("%s: no --- line between header and SQL", path)
	}
	c := &testCase{path: path, sql: sql, schema: NewMapSchema(), expect: map[string][]string{}, partial: map[string]bool{}}
	for _, line := range strings.Split(head, "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(line, "#"))
		if line == "" {
			continue
		}
		key, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		switch strings.TrimSuffix(key, ":") {
		case "provenance":
			c.provenance = rest
		case "dialect":
			d, ok := DialectFor(rest)
			if !ok {
				return nil, fmt.Errorf("%s: unknown dialect %q", path, rest)
			}
			c.dialect = d
		case "schema":
			tbl, cols, _ := strings.Cut(rest, ": ")
			c.schema.Add(strings.Split(tbl, "."), splitList(cols))
		case "col":
			name, srcs, ok := strings.Cut(rest, "=")
			if !ok {
				return nil, fmt.Errorf("%s: col line without =: %q", path, line)
			}
			name = strings.TrimSpace(name)
			c.cols = append(c.cols, name)
			c.expect[strings.ToLower(name)] = sortedList(splitList(srcs))
		case "filters":
			_, srcs, _ := strings.Cut(rest, "=")
			c.filters = sortedList(splitList(srcs))
		case "partial":
			c.partial[strings.ToLower(rest)] = true
		default:
			return nil, fmt.Errorf("%s: unknown header line %q", path, line)
		}
	}
	if c.provenance == "" {
		return nil, fmt.Errorf("%s: no provenance line", path)
	}
	return c, nil
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, strings.ToLower(x))
		}
	}
	return out
}

func sortedList(s []string) []string {
	if s == nil {
		s = []string{}
	}
	sort.Strings(s)
	return s
}

func formatSource(s SourceColumn) string {
	out := s.Kind.String() + " " + joinLower(s.Table) + "." + strings.ToLower(s.Column)
	if len(s.Via) > 0 {
		out += " via " + strings.ToLower(strings.Join(s.Via, "."))
	}
	return out
}

func TestCases(t *testing.T) {
	files, err := filepath.Glob("testdata/cases/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 40 {
		t.Errorf("%d hand-written cases, want at least 40", len(files))
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			c, err := readCase(f)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Lineage(context.Background(), c.sql, Options{Dialect: c.dialect, Schema: c.schema})
			if err != nil {
				t.Fatalf("%s: %v", c.provenance, err)
			}
			var gotCols []string
			for _, col := range res.Columns {
				gotCols = append(gotCols, col.Name)
				want, listed := c.expect[strings.ToLower(col.Name)]
				if !listed {
					continue
				}
				got := []string{}
				for _, s := range col.Sources {
					got = append(got, formatSource(s))
				}
				sort.Strings(got)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("column %s sources (-want +got):\n%s", col.Name, diff)
				}
				if (col.Reason != "") != c.partial[strings.ToLower(col.Name)] {
					t.Errorf("column %s: reason %q, partial expected %v", col.Name, col.Reason, c.partial[strings.ToLower(col.Name)])
				}
			}
			if diff := cmp.Diff(lowerAll(c.cols), lowerAll(gotCols)); diff != "" {
				t.Errorf("output columns (-want +got):\n%s", diff)
			}
			got := []string{}
			for _, s := range res.Filters {
				got = append(got, formatSource(s))
			}
			sort.Strings(got)
			if c.filters == nil {
				c.filters = []string{}
			}
			if diff := cmp.Diff(c.filters, got); diff != "" {
				t.Errorf("filters (-want +got):\n%s", diff)
			}
			if (len(res.Reasons) > 0 || !res.ColumnsKnown) != c.partial["query"] {
				t.Errorf("query reasons %q, partial expected %v", res.Reasons, c.partial["query"])
			}
		})
	}
}

func lowerAll(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = strings.ToLower(x)
	}
	return out
}
