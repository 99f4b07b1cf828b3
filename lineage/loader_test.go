package lineage

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/dbtlink/dbtlink/artifacts"
)

// loadManifestJSON is a deliberately small, test-only manifest reader: it keeps
// lineage's corpus tests independent of the artifacts readers (written in
// parallel), and reads only the fields lineage uses.
func loadManifestJSON(t testing.TB, path string) *artifacts.Manifest {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	strs := func(v any) []string {
		a, _ := v.([]any)
		var out []string
		for _, x := range a {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	obj := func(v any) map[string]any { m, _ := v.(map[string]any); return m }

	m := &artifacts.Manifest{}
	for _, section := range []string{"nodes", "sources", "exposures", "metrics", "semantic_models", "saved_queries", "unit_tests"} {
		for id, v := range obj(raw[section]) {
			r := obj(v)
			n := &artifacts.Node{
				UniqueID:         id,
				ResourceType:     artifacts.ResourceType(str(r, "resource_type")),
				Name:             str(r, "name"),
				PackageName:      str(r, "package_name"),
				Path:             str(r, "path"),
				OriginalFilePath: str(r, "original_file_path"),
				FQN:              strs(r["fqn"]),
				Tags:             strs(r["tags"]),
				Materialized:     str(obj(r["config"]), "materialized"),
				DependsOnNodes:   strs(obj(r["depends_on"])["nodes"]),
				Enabled:          true,
			}
			if vv, ok := r["version"]; ok && vv != nil {
				n.Version = "v" // only presence matters to lineage
			}
			if section == "sources" {
				n.Source = &artifacts.SourceInfo{SourceName: str(r, "source_name")}
			}
			if n.ResourceType == artifacts.Test {
				n.Test = &artifacts.TestMetadata{Name: str(obj(r["test_metadata"]), "name")}
			}
			m.Nodes = append(m.Nodes, n)
		}
	}
	maps := func(k string) map[string][]string {
		out := map[string][]string{}
		for id, v := range obj(raw[k]) {
			out[id] = strs(v)
		}
		return out
	}
	m.ParentMap, m.ChildMap = maps("parent_map"), maps("child_map")
	return m
}
