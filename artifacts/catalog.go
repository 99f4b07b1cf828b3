package artifacts

import (
	"cmp"
	"io"
	"slices"
)

// Catalog is the content of a catalog.json (schema v1, the only one dbt has
// written).
type Catalog struct {
	Metadata Metadata
	// Nodes and Sources keep file order.
	Nodes   []*CatalogTable
	Sources []*CatalogTable
	Errors  []string

	index map[string]*CatalogTable
}

// Table returns the catalog entry of a node or source, or nil.
func (c *Catalog) Table(uniqueID string) *CatalogTable {
	if c == nil {
		return nil
	}
	if c.index == nil {
		c.index = make(map[string]*CatalogTable, len(c.Nodes)+len(c.Sources))
		for _, t := range c.Nodes {
			c.index[t.UniqueID] = t
		}
		for _, t := range c.Sources {
			c.index[t.UniqueID] = t
		}
	}
	return c.index[uniqueID]
}

// CatalogTable is what the warehouse reported for one relation.
type CatalogTable struct {
	UniqueID string
	Type     string // table, view, BASE TABLE, ...
	Database string
	Schema   string
	Name     string
	Comment  string
	Owner    string
	// Columns are ordered by Index.
	Columns []CatalogColumn
	// Stats keep file order.
	Stats []CatalogStat
}

// CatalogColumn is a warehouse column.
type CatalogColumn struct {
	Name    string
	Type    string
	Index   int
	Comment string
}

// CatalogStat is one table statistic (bytes, row count, last modified, ...).
type CatalogStat struct {
	ID          string
	Label       string
	Value       any
	Include     bool
	Description string
}

// ReadCatalog reads a catalog.json.
func ReadCatalog(r io.Reader, opts ...Option) (*Catalog, error) {
	d, done, err := start(r, KindCatalog, opts)
	if err != nil {
		return nil, err
	}
	defer done()
	c := &Catalog{}
	// evidence: a catalog without metadata must at least have entries that
	// look like catalog tables (metadata/columns/stats, no resource_type).
	var sawNodes, sawResourceType bool
	err = d.top(func(name []byte) error {
		switch string(name) {
		case "metadata":
			return d.readMetadata(&c.Metadata)
		case "nodes", "sources":
			sawNodes = true
			dst := &c.Nodes
			if string(name) == "sources" {
				dst = &c.Sources
			}
			return d.object(func(key []byte) error {
				if d.peek() != '{' {
					return d.skip()
				}
				id := d.intern(key)
				t, rt, err := d.readCatalogTable()
				sawResourceType = sawResourceType || rt
				if t.UniqueID == "" {
					t.UniqueID = id
				}
				*dst = append(*dst, t)
				return err
			})
		case "errors":
			l, err := d.strList()
			c.Errors = l
			return err
		case "generated_at":
			// Files from before metadata existed carried it at top level.
			t, err := d.timeVal()
			if c.Metadata.GeneratedAt.IsZero() {
				c.Metadata.GeneratedAt = t
			}
			return err
		default:
			return d.skip()
		}
	})
	if err != nil {
		return nil, err
	}
	if err := d.checkKind(&c.Metadata); err != nil {
		return nil, err
	}
	if c.Metadata.SchemaURL == "" && (!sawNodes || sawResourceType) {
		return nil, d.errorf("%w: no dbt_schema_version and no catalog nodes", ErrNotArtifact)
	}
	return c, nil
}

// ReadCatalogFile reads a catalog from a .json or gzip-compressed file.
func ReadCatalogFile(path string, opts ...Option) (*Catalog, error) {
	return readFileAs(path, KindCatalog, opts, ReadCatalog)
}

func (d *dec) readCatalogTable() (*CatalogTable, bool, error) {
	t := &CatalogTable{}
	sawRT := false
	err := d.object(func(name []byte) error {
		var err error
		switch string(name) {
		case "unique_id":
			t.UniqueID, err = d.istr()
		case "resource_type":
			sawRT = true
			err = d.skip()
		case "metadata":
			err = d.object(func(name []byte) error {
				var err error
				switch string(name) {
				case "type":
					t.Type, err = d.istr()
				case "schema":
					t.Schema, err = d.istr()
				case "name":
					t.Name, err = d.str()
				case "database":
					t.Database, err = d.istr()
				case "comment":
					t.Comment, err = d.str()
				case "owner":
					t.Owner, err = d.istr()
				default:
					err = d.skip()
				}
				return err
			})
		case "columns":
			err = d.object(func(key []byte) error {
				if d.peek() != '{' {
					return d.skip()
				}
				k := string(key)
				var col CatalogColumn
				err := d.object(func(name []byte) error {
					var err error
					switch string(name) {
					case "name":
						col.Name, err = d.str()
					case "type":
						col.Type, err = d.istr()
					case "index":
						col.Index, _, err = d.integer()
					case "comment":
						col.Comment, err = d.str()
					default:
						err = d.skip()
					}
					return err
				})
				if col.Name == "" {
					col.Name = k
				}
				t.Columns = append(t.Columns, col)
				return err
			})
		case "stats":
			err = d.object(func(key []byte) error {
				if d.peek() != '{' {
					return d.skip()
				}
				st := CatalogStat{ID: d.intern(key)}
				err := d.object(func(name []byte) error {
					var err error
					switch string(name) {
					case "id":
						st.ID, err = d.istr()
					case "label":
						st.Label, err = d.istr()
					case "value":
						st.Value, err = d.any()
					case "include":
						st.Include, _, err = d.boolean()
					case "description":
						st.Description, err = d.istr()
					default:
						err = d.skip()
					}
					return err
				})
				t.Stats = append(t.Stats, st)
				return err
			})
		default:
			err = d.skip()
		}
		return err
	})
	slices.SortStableFunc(t.Columns, func(a, b CatalogColumn) int { return cmp.Compare(a.Index, b.Index) })
	return t, sawRT, err
}
