package artifacts

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// dbt-bigquery catalogs write a stat's include as a number (1.0); the
// fivetran-hubspot-manifest-v4 catalog in the shared corpus has 146 tables
// like this one.
const bigqueryStatsCatalog = `{
 "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog/v1.json"},
 "nodes": {"seed.p.s": {"unique_id": "seed.p.s", "metadata": {"type": "table", "schema": "x", "name": "s"},
  "columns": {},
  "stats": {
   "num_bytes": {"id": "num_bytes", "label": "Approximate Size", "value": 4496.0, "include": 1.0, "description": "d"},
   "off": {"id": "off", "label": "Off", "value": 1, "include": 0.0, "description": "d"},
   "has_stats": {"id": "has_stats", "label": "Has Stats?", "value": true, "include": false, "description": "d"}}}},
 "sources": {}
}`

func TestCatalogStatIncludeAsNumber(t *testing.T) {
	c, err := ReadCatalog(strings.NewReader(bigqueryStatsCatalog))
	if err != nil {
		t.Fatal(err)
	}
	var got []bool
	for _, s := range c.Table("seed.p.s").Stats {
		got = append(got, s.Include)
	}
	if diff := cmp.Diff([]bool{true, false, false}, got); diff != "" {
		t.Errorf("include (-want +got):\n%s", diff)
	}
}
