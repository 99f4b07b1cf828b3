package openlineage

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/dbtlink/dbtlink/artifacts"
	"github.com/dbtlink/dbtlink/sqllineage"
)

// SQLColumnLineage is the ColumnLineager over package sqllineage: it
// parses each step's compiled models (the whole project at once, in
// dependency order, so that a model's * sees the columns of the models it
// reads) and maps every output column to the columns its value comes
// from. Only the sources that give the value are inputs (sqllineage's
// Copy and Transform kinds); columns that merely filter or join rows are
// left out, as the columnLineage facet's inputFields describe where a
// value comes from. A model whose SQL cannot be read gets no facet (an
// error, reported as a warning by the Builder); a column sqllineage could
// not resolve in full keeps the inputs it found.
//
// * and unqualified names are resolved with the columns catalog.json
// gives each relation, else those the project declares for sources and
// seeds. It is safe for concurrent use; the zero value is ready.
type SQLColumnLineage struct {
	// QueryTimeout bounds one model (default 2s) and Budget one manifest
	// (default 60s), as the catalog sync does: what is not done by then
	// has no facet.
	QueryTimeout, Budget time.Duration

	mu sync.Mutex
	// recent are the last manifests resolved, newest last; a delivery asks
	// for every model of one manifest in turn.
	recent []*projectLineage
}

// projectLineage is the resolved lineage of one manifest.
type projectLineage struct {
	key  string
	once sync.Once
	// byModel maps a model's unique id to its columns' inputs, or errs to
	// why it has none.
	byModel map[string]map[string][]ColumnRef
	errs    map[string]error
	skipped error
}

// recentManifests bounds the manifests remembered: concurrent deliveries
// each need theirs.
const recentManifests = 4

// manifestKey names a manifest without holding it: dbt's invocation id,
// with the generation time and size in case two invocations share it.
func manifestKey(m *artifacts.Manifest) string {
	return fmt.Sprintf("%s/%s/%d/%p", m.Metadata.InvocationID, m.Metadata.GeneratedAt.Format(time.RFC3339Nano), len(m.Nodes), m)
}

// ColumnLineage implements ColumnLineager.
func (s *SQLColumnLineage) ColumnLineage(m *artifacts.Manifest, catalog *artifacts.Catalog, model *artifacts.Node) (map[string][]ColumnRef, error) {
	key := manifestKey(m)
	s.mu.Lock()
	var p *projectLineage
	for _, r := range s.recent {
		if r.key == key {
			p = r
		}
	}
	if p == nil {
		p = &projectLineage{key: key}
		s.recent = append(s.recent, p)
		if len(s.recent) > recentManifests {
			s.recent = s.recent[1:]
		}
	}
	s.mu.Unlock()
	p.once.Do(func() { s.resolve(p, m, catalog) })
	if p.skipped != nil {
		return nil, p.skipped
	}
	if err := p.errs[model.UniqueID]; err != nil {
		return nil, err
	}
	return p.byModel[model.UniqueID], nil
}

func (s *SQLColumnLineage) resolve(p *projectLineage, m *artifacts.Manifest, catalog *artifacts.Catalog) {
	d, ok := sqllineage.DialectFor(m.Metadata.AdapterType)
	if !ok {
		p.skipped = fmt.Errorf("adapter %q has no SQL dialect in sqllineage", m.Metadata.AdapterType)
		return
	}
	schema := sqllineage.NewMapSchema()
	rels := map[string]string{}   // lower-case dotted relation -> unique id
	suffix := map[string]string{} // shorter suffix -> unique id, "" when ambiguous
	var models []sqllineage.Model
	for _, n := range m.Nodes {
		switch n.ResourceType {
		case artifacts.Model, artifacts.Seed, artifacts.Snapshot, artifacts.Source:
		default:
			continue
		}
		if len(n.RelationParts) > 0 {
			rels[relKey(n.RelationParts)] = n.UniqueID
			for k := 1; k < len(n.RelationParts); k++ {
				sk := relKey(n.RelationParts[k:])
				if prev, seen := suffix[sk]; seen && prev != n.UniqueID {
					suffix[sk] = ""
				} else {
					suffix[sk] = n.UniqueID
				}
			}
			if ct := catalog.Table(n.UniqueID); ct != nil && len(ct.Columns) > 0 {
				schema.Add(n.RelationParts, catalogColumns(ct))
			} else if (n.ResourceType == artifacts.Source || n.ResourceType == artifacts.Seed) && len(n.Columns) > 0 {
				cols := make([]string, len(n.Columns))
				for i, c := range n.Columns {
					cols[i] = c.Name
				}
				schema.Add(n.RelationParts, cols)
			}
		}
		if (n.ResourceType == artifacts.Model || n.ResourceType == artifacts.Snapshot) && strings.TrimSpace(n.CompiledCode) != "" {
			models = append(models, sqllineage.Model{ID: n.UniqueID, Relation: n.RelationParts, SQL: n.CompiledCode})
		}
	}
	find := func(parts []string) string {
		if id, ok := rels[relKey(parts)]; ok {
			return id
		}
		if len(parts) > 1 {
			return suffix[relKey(parts)]
		}
		return ""
	}
	qt, budget := s.QueryTimeout, s.Budget
	if qt <= 0 {
		qt = 2 * time.Second
	}
	if budget <= 0 {
		budget = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	p.byModel, p.errs = map[string]map[string][]ColumnRef{}, map[string]error{}
	for _, r := range sqllineage.ResolveProject(ctx, models, sqllineage.ProjectOptions{Dialect: d, Schema: schema, QueryTimeout: qt}) {
		if r.Err != nil {
			p.errs[r.ID] = fmt.Errorf("compiled SQL not read: %w", r.Err)
			continue
		}
		cols := map[string][]ColumnRef{}
		names := map[string]bool{}
		for _, c := range r.Result.Columns {
			if names[strings.ToLower(c.Name)] {
				continue // a repeated output name: the first is what readers see
			}
			names[strings.ToLower(c.Name)] = true
			refs := []ColumnRef{}
			seen := map[ColumnRef]bool{}
			for _, src := range c.Sources {
				if src.Kind != sqllineage.Copy && src.Kind != sqllineage.Transform {
					continue
				}
				ref := ColumnRef{UniqueID: find(src.Table), Column: src.Column}
				if ref.UniqueID == "" {
					ref.Relation = strings.Join(src.Table, ".")
				}
				if !seen[ref] {
					seen[ref] = true
					refs = append(refs, ref)
				}
			}
			cols[c.Name] = refs
		}
		p.byModel[r.ID] = cols
	}
}

func catalogColumns(ct *artifacts.CatalogTable) []string {
	cols := make([]string, len(ct.Columns))
	for i, c := range ct.Columns {
		cols[i] = c.Name
	}
	return cols
}

func relKey(parts []string) string { return strings.ToLower(strings.Join(parts, ".")) }
