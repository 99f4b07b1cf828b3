package artifacts

import (
	"strconv"
	"strings"
)

// Kind is the kind of a dbt artifact.
type Kind string

// The artifact kinds the readers understand.
const (
	KindUnknown    Kind = ""
	KindManifest   Kind = "manifest"
	KindCatalog    Kind = "catalog"
	KindRunResults Kind = "run_results"
	KindSources    Kind = "sources"
)

// parseSchemaURL splits a dbt_schema_version URL such as
// "https://schemas.getdbt.com/dbt/manifest/v12.json" into kind and version.
// Unknown forms give KindUnknown and 0 rather than an error, so that a future
// URL scheme degrades to shape detection.
func parseSchemaURL(u string) (Kind, int) {
	u = strings.TrimSuffix(strings.TrimSpace(u), "/")
	i := strings.LastIndexByte(u, '/')
	if i < 0 {
		return KindUnknown, 0
	}
	file := strings.TrimSuffix(u[i+1:], ".json")
	v := 0
	if len(file) > 1 && (file[0] == 'v' || file[0] == 'V') {
		if n, err := strconv.Atoi(file[1:]); err == nil && n >= 0 {
			v = n
		}
	}
	dir := u[:i]
	if j := strings.LastIndexByte(dir, '/'); j >= 0 {
		dir = dir[j+1:]
	}
	var k Kind
	switch strings.ToLower(dir) {
	case "manifest":
		k = KindManifest
	case "catalog":
		k = KindCatalog
	case "run-results", "run_results":
		k = KindRunResults
	case "sources":
		k = KindSources
	}
	return k, v
}

// readMetadata reads the metadata object common to all artifacts.
func (d *dec) readMetadata(md *Metadata) error {
	return d.object(func(name []byte) error {
		var err error
		switch string(name) {
		case "dbt_schema_version":
			md.SchemaURL, err = d.str()
			_, md.SchemaVersion = parseSchemaURL(md.SchemaURL)
		case "dbt_version":
			md.DBTVersion, err = d.str()
		case "generated_at":
			md.GeneratedAt, err = d.timeVal()
		case "invocation_id":
			md.InvocationID, err = d.str()
		case "project_name":
			md.ProjectName, err = d.str()
		case "project_id":
			md.ProjectID, err = d.str()
		case "adapter_type":
			md.AdapterType, err = d.str()
		default:
			err = d.skip()
		}
		return err
	})
}

// checkKind rejects a file whose metadata names another artifact kind.
func (d *dec) checkKind(md *Metadata) error {
	if md.SchemaURL == "" {
		return nil
	}
	k, _ := parseSchemaURL(md.SchemaURL)
	if k != KindUnknown && k != d.kind {
		return d.errorf("%w: dbt_schema_version says %s (%s)", ErrNotArtifact, k, md.SchemaURL)
	}
	return nil
}
