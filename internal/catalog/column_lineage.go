package catalog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dbtlink/dbtlink/artifacts"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/sqllineage"
)

// Column lineage budgets of a sync: a model's SQL gets QueryTimeout to
// parse and resolve, the whole project columnLineageBudget; what is not
// done by then is reported as a gap and the sync goes on.
const (
	columnLineageQueryTimeout = 2 * time.Second
	columnLineageBudget       = 60 * time.Second
	// maxReportedGaps bounds the gaps copied into the sync report; all of
	// them are stored with the lineage.
	maxReportedGaps = 200
)

// ColumnLineageReport is the column lineage part of a sync's Report.
type ColumnLineageReport struct {
	Dialect string `json:"dialect,omitempty"`
	// Models counts the compiled models read; Parsed those whose SQL
	// parsed; Complete those whose every column resolved.
	Models   int `json:"models"`
	Parsed   int `json:"parsed"`
	Complete int `json:"complete"`
	Edges    int `json:"edges"`
	// Skipped says why no lineage was computed (unknown adapter, no
	// compiled SQL).
	Skipped string `json:"skipped,omitempty"`
	// Unresolved are the first gaps: which model (and column) could not be
	// resolved, and why.
	Unresolved []store.ColumnGap `json:"unresolved,omitempty"`
	// MoreUnresolved counts the gaps left out of Unresolved.
	MoreUnresolved int `json:"more_unresolved,omitempty"`
}

// columnLineage computes the column lineage of the manifest's compiled
// models. * and unqualified names are resolved with, in order: the crawled
// warehouse columns of the tables the nodes were matched to, catalog.json,
// the columns the project declares for sources and seeds, and the columns
// resolved for upstream models. nodes are the snapshot's nodes after
// matching (for their table ids).
//
// It reads the crawled columns from the store (at once on SQLite, in the
// function on PostgreSQL) and returns a function that does the rest, the
// parsing and resolving: the sync runs
// that while it writes the snapshot, so that its CPU time overlaps the
// database's (see syncScope). Neither nodes nor in may change until the
// function has returned.
func (s *Service) columnLineage(ctx context.Context, in *Inputs, nodes []store.CatalogNode) func(context.Context) (store.ColumnLineage, *ColumnLineageReport) {
	m := in.Manifest
	rep := &ColumnLineageReport{}
	d, ok := sqllineage.DialectFor(m.Metadata.AdapterType)
	if !ok {
		rep.Skipped = fmt.Sprintf("adapter %q has no SQL dialect here", m.Metadata.AdapterType)
		return func(context.Context) (store.ColumnLineage, *ColumnLineageReport) { return store.ColumnLineage{}, rep }
	}
	rep.Dialect = d.String()
	tableOf := map[string]int64{}
	for _, n := range nodes {
		if n.TableID != 0 {
			tableOf[n.UniqueID] = n.TableID
		}
	}
	var ids []int64
	for _, id := range tableOf {
		ids = append(ids, id)
	}
	read := func(ctx context.Context) map[int64][]string {
		crawled, err := s.Store.PresentColumnNames(ctx, ids)
		if err != nil {
			s.warn("column lineage: crawled columns not read", "err", err)
			return nil
		}
		return crawled
	}
	if s.Store.Dialect() == store.Postgres && s.Store.DB().Stats().MaxOpenConnections != 1 {
		// PostgreSQL reads them on a connection of the pool while the
		// sync's transaction writes on its own: the snapshot does not
		// change crawled columns. SQLite has one connection (as has a
		// pool capped at one), which the transaction will hold, so it reads
		// them first.
		return func(ctx context.Context) (store.ColumnLineage, *ColumnLineageReport) {
			return resolveColumnLineage(ctx, in, tableOf, read(ctx), d, rep)
		}
	}
	crawled := read(ctx)
	return func(ctx context.Context) (store.ColumnLineage, *ColumnLineageReport) {
		return resolveColumnLineage(ctx, in, tableOf, crawled, d, rep)
	}
}

// resolveColumnLineage is the part of columnLineage that needs no store.
func resolveColumnLineage(ctx context.Context, in *Inputs, tableOf map[string]int64, crawled map[int64][]string,
	d sqllineage.Dialect, rep *ColumnLineageReport,
) (store.ColumnLineage, *ColumnLineageReport) {
	m := in.Manifest
	schema := sqllineage.NewMapSchema()
	declared := sqllineage.NewMapSchema()
	rels := newRelationIndex()
	ephemeral := map[string][]string{} // model name -> unique ids
	var models []sqllineage.Model
	for _, n := range m.Nodes {
		switch n.ResourceType {
		case artifacts.Model, artifacts.Seed, artifacts.Snapshot, artifacts.Source:
		default:
			continue
		}
		if len(n.RelationParts) > 0 {
			rels.add(n.RelationParts, n.UniqueID)
			if cols := crawled[tableOf[n.UniqueID]]; len(cols) > 0 {
				schema.Add(n.RelationParts, cols)
			} else if ct := in.Catalog.Table(n.UniqueID); ct != nil && len(ct.Columns) > 0 {
				cols := make([]string, len(ct.Columns))
				for i, c := range ct.Columns {
					cols[i] = c.Name
				}
				schema.Add(n.RelationParts, cols)
			} else if (n.ResourceType == artifacts.Source || n.ResourceType == artifacts.Seed) && len(n.Columns) > 0 {
				cols := make([]string, len(n.Columns))
				for i, c := range n.Columns {
					cols[i] = c.Name
				}
				declared.Add(n.RelationParts, cols)
			}
		}
		if n.ResourceType == artifacts.Model && n.Ephemeral() {
			ephemeral[strings.ToLower(n.Name)] = append(ephemeral[strings.ToLower(n.Name)], n.UniqueID)
		}
		if (n.ResourceType == artifacts.Model || n.ResourceType == artifacts.Snapshot) && strings.TrimSpace(n.CompiledCode) != "" {
			models = append(models, sqllineage.Model{ID: n.UniqueID, Relation: n.RelationParts, SQL: n.CompiledCode})
		}
	}
	if len(models) == 0 {
		rep.Skipped = "no compiled SQL in the manifest (a manifest written by dbt parse or dbt test has none)"
		return store.ColumnLineage{}, rep
	}
	ctx, cancel := context.WithTimeout(ctx, columnLineageBudget)
	defer cancel()
	results := sqllineage.ResolveProject(ctx, models, sqllineage.ProjectOptions{
		Dialect: d, Schema: layered{schema, declared}, QueryTimeout: columnLineageQueryTimeout,
	})
	via := func(names []string) []string {
		if len(names) == 0 {
			return nil
		}
		out := make([]string, len(names))
		for i, nm := range names {
			out[i] = nm
			if ids := ephemeral[strings.ToLower(nm)]; len(ids) == 1 {
				out[i] = ids[0]
			}
		}
		return out
	}
	var cl store.ColumnLineage
	gap := func(g store.ColumnGap) {
		cl.Gaps = append(cl.Gaps, g)
		if len(rep.Unresolved) < maxReportedGaps {
			rep.Unresolved = append(rep.Unresolved, g)
		} else {
			rep.MoreUnresolved++
		}
	}
	edge := func(child, column string, src sqllineage.SourceColumn) {
		e := store.ColumnEdge{ChildID: child, ChildColumn: column, ParentID: rels.find(src.Table),
			ParentColumn: src.Column, Kind: src.Kind.String(), Via: via(src.Via)}
		if e.ParentID == "" {
			e.ParentRelation = strings.Join(src.Table, ".")
		}
		cl.Edges = append(cl.Edges, e)
	}
	for _, r := range results {
		rep.Models++
		if r.Err != nil {
			reason := "the SQL could not be read: " + r.Err.Error()
			var be *sqllineage.BudgetError
			if errors.As(r.Err, &be) {
				reason = "cut off: " + r.Err.Error()
			}
			gap(store.ColumnGap{UniqueID: r.ID, Reason: reason})
			continue
		}
		rep.Parsed++
		res := r.Result
		if res.Complete() {
			rep.Complete++
		}
		for _, reason := range res.Reasons {
			gap(store.ColumnGap{UniqueID: r.ID, Reason: reason})
		}
		seen := map[string]bool{}
		for _, c := range res.Columns {
			key := strings.ToLower(c.Name)
			if seen[key] {
				continue // a repeated output name: the first one is what readers see
			}
			seen[key] = true
			if c.Reason != "" {
				gap(store.ColumnGap{UniqueID: r.ID, Column: c.Name, Reason: c.Reason})
			}
			for _, src := range c.Sources {
				edge(r.ID, c.Name, src)
			}
		}
		for _, src := range res.Filters {
			edge(r.ID, "", src)
		}
	}
	rep.Edges = len(cl.Edges)
	return cl, rep
}

// layered asks each schema in turn.
type layered []sqllineage.Schema

func (l layered) Columns(table []string) ([]string, bool) {
	for _, s := range l {
		if c, ok := s.Columns(table); ok {
			return c, true
		}
	}
	return nil, false
}

// relationIndex maps relation names as the SQL writes them to unique ids:
// by the full name, else by a shorter suffix that names one node.
type relationIndex struct {
	full   map[string]string
	suffix map[string]string // "" when ambiguous
}

func newRelationIndex() *relationIndex {
	return &relationIndex{full: map[string]string{}, suffix: map[string]string{}}
}

func relKey(parts []string) string { return strings.ToLower(strings.Join(parts, ".")) }

func (x *relationIndex) add(parts []string, id string) {
	x.full[relKey(parts)] = id
	for k := 1; k < len(parts); k++ {
		key := relKey(parts[k:])
		if prev, ok := x.suffix[key]; ok && prev != id {
			x.suffix[key] = ""
			continue
		}
		x.suffix[key] = id
	}
}

func (x *relationIndex) find(parts []string) string {
	if id, ok := x.full[relKey(parts)]; ok {
		return id
	}
	if len(parts) > 1 {
		return x.suffix[relKey(parts)]
	}
	return ""
}
