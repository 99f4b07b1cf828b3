package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/dbtlink/dbtlink/internal/catalog"
	"github.com/dbtlink/dbtlink/internal/store"
)

func (k catalogClient) ColumnLineage(ctx context.Context, ref, column string, dir catalog.Direction, depth int) (*catalog.ColumnLineageView, error) {
	q := url.Values{"direction": {directionParam(dir)}}
	if depth > 0 {
		q.Set("depth", strconv.Itoa(depth))
	}
	var out catalog.ColumnLineageView
	if err := k.c.do(ctx, http.MethodGet, tablePath(ref, "/columns/"+url.PathEscape(column)+"/lineage"), q, nil, &out); err != nil {
		return nil, tableErr(err)
	}
	return &out, nil
}

// splitTableColumn splits TABLE.COLUMN at its last dot.
func splitTableColumn(s string) (table, column string, ok bool) {
	i := strings.LastIndexByte(s, '.')
	if i <= 0 || i == len(s)-1 {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

// isNotFound reports a missing table, locally or from a server.
func isNotFound(err error) bool {
	var se *serverError
	return errors.Is(err, store.ErrNotFound) || errors.As(err, &se) && se.Status == http.StatusNotFound
}

// catalogColumnLineageRun prints column lineage: each column with its depth
// and the kinds of the edges that reach it, then the gaps on the way.
func catalogColumnLineageRun(ctx context.Context, opts *CatalogLineageOptions, api catalogAPI, table, column string) error {
	v, err := api.ColumnLineage(ctx, table, column, opts.direction(), opts.Depth)
	if err != nil {
		return catalogErr(err)
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, v)
	}
	kinds := map[string][]string{}
	addKind := func(key, kind string) {
		for _, k := range kinds[key] {
			if k == kind {
				return
			}
		}
		kinds[key] = append(kinds[key], kind)
	}
	depth := map[string]int{}
	for _, c := range v.Columns {
		depth[c.Key] = c.Depth
	}
	for _, e := range v.Edges {
		// Name each edge on the vertex farther from the start.
		if depth[e.From] < 0 {
			addKind(e.From, e.Kind)
		} else {
			addKind(e.To, e.Kind)
		}
	}
	items := append([]catalog.ColumnLineageItem(nil), v.Columns...)
	sort.SliceStable(items, func(i, j int) bool { return items[i].Depth < items[j].Depth })
	for _, it := range items {
		mark := "*"
		switch {
		case it.Depth < 0:
			mark = strings.Repeat("<", -it.Depth)
		case it.Depth > 0:
			mark = strings.Repeat(">", it.Depth)
		}
		name := it.Table
		if name == "" {
			name = it.UniqueID
			if name == "" {
				name = it.Relation + "  [not in the catalog]"
			}
		}
		col := it.Column
		if col == "" {
			col = "(rows)"
		}
		line := fmt.Sprintf("%+3d %-4s %s.%s", it.Depth, mark, name, col)
		if k := kinds[it.Key]; len(k) > 0 {
			sort.Strings(k)
			line += "  (" + strings.Join(k, ", ") + ")"
		}
		fmt.Fprintln(opts.IO.Out, line)
	}
	for _, g := range v.Gaps {
		where := g.UniqueID
		if g.Column != "" {
			where += "." + g.Column
		}
		fmt.Fprintf(opts.IO.Out, "gap: %s: %s\n", where, g.Reason)
	}
	return nil
}

// printColumnLineageReport adds the column lineage lines to a sync report:
// the counts, then each unresolved model or column with its reason.
func printColumnLineageReport(w io.Writer, cl *catalog.ColumnLineageReport) {
	switch {
	case cl == nil:
		return
	case cl.Skipped != "":
		fmt.Fprintf(w, "  column lineage: none: %s\n", cl.Skipped)
		return
	}
	fmt.Fprintf(w, "  column lineage (%s): %d of %d models fully resolved, %d parsed, %d edges\n",
		cl.Dialect, cl.Complete, cl.Models, cl.Parsed, cl.Edges)
	for _, g := range cl.Unresolved {
		where := g.UniqueID
		if g.Column != "" {
			where += "." + g.Column
		}
		fmt.Fprintf(w, "  unresolved %s: %s\n", where, g.Reason)
	}
	if cl.MoreUnresolved > 0 {
		fmt.Fprintf(w, "  ... and %d more unresolved (all are kept with the lineage)\n", cl.MoreUnresolved)
	}
}
