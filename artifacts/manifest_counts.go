package artifacts

import "io"

// manifestCounts is all a summary needs of a manifest: its metadata and how
// many members of each resource type it has. Reading only this skips every
// value but one short string per node, so a large manifest is summarised
// without building (and garbage-collecting) the model: inspecting a 100 MB
// manifest costs the tokenizer's pass over the bytes and little else.
type manifestCounts struct {
	Metadata Metadata
	// Types counts graph members by resource type, as ReadManifest sets
	// Node.ResourceType: the resource_type member when it is a non-empty
	// string, else the section's type ("" in nodes).
	Types  map[string]int
	Macros int
	Groups int
}

// readManifestCounts reads r as ReadManifest does (same sections, same
// tolerance of unexpected types, same errors for input that is not a
// manifest) but keeps only the counts. Its agreement with ReadManifest is
// checked on every manifest in testdata.
func readManifestCounts(r io.Reader, opts ...Option) (*manifestCounts, error) {
	d, done, err := start(r, KindManifest, opts)
	if err != nil {
		return nil, err
	}
	defer done()
	c := &manifestCounts{Types: map[string]int{}}
	evidence := false
	// count calls fn for each member of an object whose value is an object,
	// as the full readers only keep those.
	count := func(fn func() error) error {
		return d.object(func([]byte) error {
			if d.peek() != '{' {
				return d.skip()
			}
			return fn()
		})
	}
	err = d.top(func(name []byte) error {
		var def ResourceType
		switch string(name) {
		case "metadata":
			return d.readMetadata(&c.Metadata)
		case "nodes":
			def = ""
		case "sources":
			def = Source
		case "exposures":
			def = Exposure
		case "metrics":
			def = Metric
		case "semantic_models":
			def = SemanticModel
		case "saved_queries":
			def = SavedQuery
		case "unit_tests":
			def = UnitTest
		case "functions":
			def = Function
		case "macros":
			evidence = true
			return count(func() error { c.Macros++; return d.skip() })
		case "groups":
			evidence = true
			return count(func() error { c.Groups++; return d.skip() })
		case "parent_map", "child_map", "docs", "disabled", "selectors", "files", "group_map":
			evidence = true
			return d.skip()
		case "generated_at":
			t, err := d.timeVal()
			if c.Metadata.GeneratedAt.IsZero() {
				c.Metadata.GeneratedAt = t
			}
			return err
		default:
			return d.skip()
		}
		return count(func() error {
			typ := def
			err := d.object(func(name []byte) error {
				if string(name) != "resource_type" {
					return d.skip()
				}
				t, err := d.istr()
				if t != "" {
					typ = ResourceType(t)
					evidence = true
				}
				return err
			})
			if def != "" {
				evidence = true
			}
			c.Types[string(typ)]++
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	if err := d.checkKind(&c.Metadata); err != nil {
		return nil, err
	}
	if !evidence && c.Metadata.SchemaURL == "" {
		return nil, d.errorf("%w: no dbt_schema_version and no manifest sections (nodes with resource_type, macros, docs, ...)", ErrNotArtifact)
	}
	return c, nil
}
