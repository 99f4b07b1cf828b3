package artifacts

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// errDetected stops detection early once the kind is known.
var errDetected = errors.New("detected")

// Detect tells which artifact r holds and its schema version, from
// metadata.dbt_schema_version when present (it is usually first, so detection
// stops there), else from the shape: manifest-only sections or nodes with a
// resource_type make a manifest, nodes without one a catalog, results with
// max_loaded_at or criteria, or a top-level meta (dbt 0.14 to 0.18), a
// sources.json, other results a run_results.
// Input that is none of these gives KindUnknown and an error.
func Detect(r io.Reader, opts ...Option) (Kind, int, error) {
	d, done, err := start(r, KindUnknown, opts)
	if err != nil {
		return KindUnknown, 0, err
	}
	defer done()
	var md Metadata
	shape := KindUnknown
	err = d.top(func(name []byte) error {
		switch string(name) {
		case "metadata":
			if err := d.readMetadata(&md); err != nil {
				return err
			}
			if k, _ := parseSchemaURL(md.SchemaURL); k != KindUnknown {
				return errDetected
			}
			return nil
		case "macros", "docs", "parent_map", "child_map", "exposures", "disabled", "selectors",
			"semantic_models", "saved_queries", "unit_tests", "groups", "group_map":
			shape = KindManifest
			return errDetected
		case "nodes":
			if shape != KindUnknown {
				return d.skip()
			}
			// Look at the first node: manifest nodes carry resource_type.
			found := false
			err := d.object(func([]byte) error {
				if found || d.peek() != '{' {
					return d.skip()
				}
				found = true
				shape = KindCatalog
				return d.object(func(name []byte) error {
					if string(name) == "resource_type" {
						shape = KindManifest
					}
					return d.skip()
				})
			})
			if shape == KindManifest {
				return errDetected
			}
			return err
		case "meta":
			// Only the sources.json of dbt 0.14 to 0.18 has a top-level meta
			// (with its results under "sources").
			if shape == KindUnknown {
				shape = KindSources
			}
			return d.skip()
		case "results":
			if shape == KindUnknown {
				shape = KindRunResults
			}
			first := true
			return d.array(func() error {
				if !first || d.peek() != '{' {
					return d.skip()
				}
				first = false
				return d.object(func(name []byte) error {
					switch string(name) {
					case "max_loaded_at", "criteria", "snapshotted_at", "max_loaded_at_time_ago_in_s":
						shape = KindSources
					}
					return d.skip()
				})
			})
		default:
			return d.skip()
		}
	})
	if err != nil && !errors.Is(err, errDetected) {
		return KindUnknown, 0, err
	}
	if k, v := parseSchemaURL(md.SchemaURL); k != KindUnknown {
		return k, v, nil
	}
	if shape == KindUnknown {
		return KindUnknown, 0, d.errorf("%w: neither dbt_schema_version nor a known artifact shape", ErrNotArtifact)
	}
	return shape, md.SchemaVersion, nil
}

// File is one artifact of any kind; exactly one of the pointers is set.
type File struct {
	Kind       Kind
	Manifest   *Manifest
	Catalog    *Catalog
	RunResults *RunResults
	Sources    *SourcesResults
}

// Metadata returns the metadata of whichever artifact the file holds.
func (f *File) Metadata() Metadata {
	switch {
	case f.Manifest != nil:
		return f.Manifest.Metadata
	case f.Catalog != nil:
		return f.Catalog.Metadata
	case f.RunResults != nil:
		return f.RunResults.Metadata
	case f.Sources != nil:
		return f.Sources.Metadata
	}
	return Metadata{}
}

// ReadFile detects the kind of the artifact at path (plain or gzip) and reads
// it with the matching reader. The file is opened twice: detection stops at
// the metadata, which dbt writes first, so the second pass is the only full
// read in practice.
func ReadFile(path string, opts ...Option) (*File, error) {
	kind, err := detectKindOfFile(path, opts)
	if err != nil {
		return nil, err
	}
	return readFileKind(path, kind, opts)
}

// detectFile is Detect on the file at path.
func detectKindOfFile(path string, opts []Option) (Kind, error) {
	var kind Kind
	err := withFile(path, KindUnknown, opts, func(r io.Reader, opts []Option) error {
		var err error
		kind, _, err = Detect(r, opts...)
		return err
	})
	return kind, err
}

// readFileKind reads the file at path with the reader for kind.
func readFileKind(path string, kind Kind, opts []Option) (*File, error) {
	var err error
	f := &File{Kind: kind}
	switch kind {
	case KindManifest:
		f.Manifest, err = ReadManifestFile(path, opts...)
	case KindCatalog:
		f.Catalog, err = ReadCatalogFile(path, opts...)
	case KindRunResults:
		f.RunResults, err = ReadRunResultsFile(path, opts...)
	case KindSources:
		f.Sources, err = ReadSourcesFile(path, opts...)
	default:
		return nil, &Error{Name: path, Kind: kind, Offset: -1, Err: fmt.Errorf("%w: unsupported kind", ErrNotArtifact)}
	}
	if err != nil {
		return nil, err
	}
	return f, nil
}

// fileSize is used by Inspect; a stat failure is not fatal there.
func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}
