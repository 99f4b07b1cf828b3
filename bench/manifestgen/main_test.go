package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGenerateWritesListsNotNull checks that generated parent lists are
// JSON arrays, as dbt writes them, including for members without parents
// (sources, seeds): null reads differently and would skew the benchmark.
func TestGenerateWritesListsNotNull(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "m.json")
	_, copies, err := generate("../../lineage/testdata/jaffle_shop_1.10.json", dst, 1<<20, 1, 0.5, false)
	if err != nil {
		t.Fatal(err)
	}
	if copies < 2 {
		t.Fatalf("%d copies; the test needs several", copies)
	}
	b, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		ParentMap map[string]any `json:"parent_map"`
		Nodes     map[string]struct {
			DependsOn any `json:"depends_on"`
		} `json:"nodes"`
		Sources map[string]map[string]any `json:"sources"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.ParentMap) == 0 || len(m.Sources) == 0 {
		t.Fatalf("parent_map %d, sources %d: nothing to check", len(m.ParentMap), len(m.Sources))
	}
	for id, v := range m.ParentMap {
		if _, ok := v.([]any); !ok {
			t.Fatalf("parent_map[%s] = %v, want a list", id, v)
		}
	}
	seen := 0
	for id, n := range m.Nodes {
		dep, _ := n.DependsOn.(map[string]any)
		if dep == nil {
			continue
		}
		seen++
		if _, ok := dep["nodes"].([]any); !ok {
			t.Fatalf("%s: depends_on.nodes = %v, want a list", id, dep["nodes"])
		}
	}
	if seen == 0 {
		t.Fatal("no node has depends_on: nothing checked")
	}
}

// TestGenerateKeepsAbsentKeysAbsent checks that a key a template member
// lacks (sources have no depends_on) is not written as null in later copies.
func TestGenerateKeepsAbsentKeysAbsent(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "m.json")
	_, copies, err := generate("../../lineage/testdata/jaffle_shop_1.10.json", dst, 1<<20, 1, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Sources map[string]map[string]any `json:"sources"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if copies < 2 || len(m.Sources) < 2 {
		t.Fatalf("%d copies, %d sources: nothing to check", copies, len(m.Sources))
	}
	for id, s := range m.Sources {
		if v, ok := s["depends_on"]; ok {
			t.Fatalf("%s: depends_on = %v, want the key absent as in the template", id, v)
		}
	}
}

// TestGenerateDistinctRelations checks that with distinct relations no two
// members share a relation_name, and that each names its schema.
func TestGenerateDistinctRelations(t *testing.T) {
	for _, distinct := range []bool{false, true} {
		dst := filepath.Join(t.TempDir(), "m.json")
		_, copies, err := generate("../../lineage/testdata/jaffle_shop_1.10.json", dst, 1<<20, 1, 0, distinct)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(dst)
		if err != nil {
			t.Fatal(err)
		}
		type member struct {
			Schema       string  `json:"schema"`
			RelationName *string `json:"relation_name"`
		}
		var m struct {
			Nodes   map[string]member `json:"nodes"`
			Sources map[string]member `json:"sources"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		byRelation := map[string]string{}
		shared := 0
		for _, sec := range []map[string]member{m.Nodes, m.Sources} {
			for id, n := range sec {
				if n.RelationName == nil {
					continue
				}
				if !strings.Contains(*n.RelationName, n.Schema) {
					t.Errorf("distinct %v: %s: relation_name %s does not name schema %s", distinct, id, *n.RelationName, n.Schema)
				}
				if other, ok := byRelation[*n.RelationName]; ok {
					shared++
					if distinct {
						t.Errorf("%s and %s share relation %s", id, other, *n.RelationName)
					}
				}
				byRelation[*n.RelationName] = id
			}
		}
		if copies < 2 || len(byRelation) == 0 {
			t.Fatalf("%d copies, %d relations: nothing to check", copies, len(byRelation))
		}
		if !distinct && shared == 0 {
			t.Error("without -distinct-relations the copies share no relation; the test checks nothing")
		}
	}
}
