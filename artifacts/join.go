package artifacts

import "strings"

// Joined is a manifest with run results, source freshness and catalog data
// attached to its nodes.
type Joined struct {
	Manifest *Manifest
	// Nodes follow Manifest.Nodes order.
	Nodes []*JoinedNode
	index map[string]*JoinedNode
}

// JoinedNode is a manifest node with what the other artifacts say about it.
type JoinedNode struct {
	*Node
	// Result is the node's latest run result, nil if it did not run.
	Result *NodeResult
	// Freshness is a source's freshness result, nil if not checked.
	Freshness *FreshnessResult
	// Table is the catalog entry, nil when the relation was not in the catalog.
	Table *CatalogTable
	// Columns are the manifest columns in manifest order, each matched to its
	// catalog column ignoring case (Snowflake catalogs are upper case while
	// manifests are lower), then catalog columns the manifest does not
	// document, in catalog order. Nil when there is neither.
	Columns []JoinedColumn
}

// JoinedColumn pairs a documented column with the warehouse column.
type JoinedColumn struct {
	// Name is the manifest's name when documented, else the catalog's.
	Name    string
	Column  *Column        // nil when only in the catalog
	Catalog *CatalogColumn // nil when only in the manifest
}

// Type is the warehouse type, else the documented data_type.
func (c JoinedColumn) Type() string {
	if c.Catalog != nil && c.Catalog.Type != "" {
		return c.Catalog.Type
	}
	if c.Column != nil {
		return c.Column.DataType
	}
	return ""
}

// Join attaches run results, catalog and source freshness to the manifest's
// nodes by unique id. Any of m, rr, cat and src may be nil; a nil manifest
// joins as one without nodes, and nil entries in m.Nodes are skipped, as
// lineage.Build does. When a unique id has several results in rr, the last
// one written wins (dbt retries append).
func Join(m *Manifest, rr *RunResults, cat *Catalog, src *SourcesResults) *Joined {
	var nodes []*Node
	if m != nil {
		nodes = m.Nodes
	}
	j := &Joined{Manifest: m, index: make(map[string]*JoinedNode, len(nodes))}
	j.Nodes = make([]*JoinedNode, 0, len(nodes))
	for _, n := range nodes {
		if n == nil {
			continue
		}
		jn := &JoinedNode{Node: n}
		j.Nodes = append(j.Nodes, jn)
		j.index[n.UniqueID] = jn
	}
	j.AddRunResults(rr)
	if src != nil {
		for i := range src.Results {
			if jn := j.index[src.Results[i].UniqueID]; jn != nil {
				jn.Freshness = &src.Results[i]
			}
		}
	}
	for _, jn := range j.Nodes {
		if t := cat.Table(jn.UniqueID); t != nil {
			jn.Table = t
		}
		jn.Columns = joinColumns(jn.Node.Columns, jn.Table)
	}
	return j
}

// AddRunResults attaches a further run's results; they replace earlier ones
// for the same nodes, so pass runs oldest first.
func (j *Joined) AddRunResults(rr *RunResults) {
	if rr == nil {
		return
	}
	for i := range rr.Results {
		if jn := j.index[rr.Results[i].UniqueID]; jn != nil {
			jn.Result = &rr.Results[i]
		}
	}
}

// Node returns the joined node with the given unique id, or nil.
func (j *Joined) Node(uniqueID string) *JoinedNode { return j.index[uniqueID] }

func joinColumns(cols []Column, t *CatalogTable) []JoinedColumn {
	if len(cols) == 0 && (t == nil || len(t.Columns) == 0) {
		return nil
	}
	out := make([]JoinedColumn, 0, len(cols))
	var byName map[string]int
	used := []bool(nil)
	if t != nil && len(t.Columns) > 0 {
		byName = make(map[string]int, len(t.Columns))
		used = make([]bool, len(t.Columns))
		for i := len(t.Columns) - 1; i >= 0; i-- {
			byName[strings.ToLower(t.Columns[i].Name)] = i
		}
	}
	for i := range cols {
		jc := JoinedColumn{Name: cols[i].Name, Column: &cols[i]}
		if i2, ok := byName[strings.ToLower(unquoteIdent(cols[i].Name))]; ok {
			jc.Catalog = &t.Columns[i2]
			used[i2] = true
		}
		out = append(out, jc)
	}
	if t != nil {
		for i := range t.Columns {
			if !used[i] {
				out = append(out, JoinedColumn{Name: t.Columns[i].Name, Catalog: &t.Columns[i]})
			}
		}
	}
	return out
}

// unquoteIdent strips one level of identifier quotes: projects document
// quoted column names as "Order ID" in yml.
func unquoteIdent(s string) string {
	if len(s) >= 2 {
		switch {
		case s[0] == '"' && s[len(s)-1] == '"', s[0] == '`' && s[len(s)-1] == '`', s[0] == '[' && s[len(s)-1] == ']':
			return s[1 : len(s)-1]
		}
	}
	return s
}
