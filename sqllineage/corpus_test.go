package sqllineage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/dbtlink/dbtlink/artifacts"
)

// sharedArtifacts is where the engineers' shared corpus lives; a fresh clone
// has none.
const sharedArtifacts = "../../shared/artifacts"

// corpusManifest is one manifest of the shared corpus, prepared for
// ResolveProject: its compiled models, and a schema from the catalog.json
// beside it and the columns the project declares for its sources and seeds.
type corpusManifest struct {
	path    string
	dialect Dialect
	adapter string
	models  []Model
	schema  *MapSchema
}

func loadCorpus(t testing.TB) []corpusManifest {
	t.Helper()
	if _, err := os.Stat(sharedArtifacts); err != nil {
		if os.Getenv("DBTLINK_REQUIRE_SHARED") != "" {
			t.Fatalf("DBTLINK_REQUIRE_SHARED is set but %s is missing: %v", sharedArtifacts, err)
		}
		t.Skipf("%s is absent (a fresh clone); set DBTLINK_REQUIRE_SHARED=1 to make this a failure", sharedArtifacts)
	}
	paths, err := filepath.Glob(filepath.Join(sharedArtifacts, "*", "*manifest*.json"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(paths)
	var out []corpusManifest
	for _, p := range paths {
		m, err := artifacts.ReadManifestFile(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		d, ok := DialectFor(m.Metadata.AdapterType)
		if !ok {
			t.Logf("%s: adapter %q has no dialect; skipped", p, m.Metadata.AdapterType)
			continue
		}
		cm := corpusManifest{path: p, dialect: d, adapter: m.Metadata.AdapterType, schema: NewMapSchema()}
		for _, n := range m.Nodes {
			switch {
			case n.ResourceType == artifacts.Model && strings.TrimSpace(n.CompiledCode) != "":
				// ephemeral models too: they have no relation, but their SQL is theirs
				cm.models = append(cm.models, Model{ID: n.UniqueID, Relation: n.RelationParts, SQL: n.CompiledCode})
			case (n.ResourceType == artifacts.Source || n.ResourceType == artifacts.Seed) && len(n.Columns) > 0 && len(n.RelationParts) > 0:
				cols := make([]string, len(n.Columns))
				for i, c := range n.Columns {
					cols[i] = c.Name
				}
				cm.schema.Add(n.RelationParts, cols)
			}
		}
		if cat, err := artifacts.ReadCatalogFile(filepath.Join(filepath.Dir(p), "catalog.json")); err == nil {
			for _, tb := range append(append([]*artifacts.CatalogTable(nil), cat.Nodes...), cat.Sources...) {
				if n := m.Node(tb.UniqueID); n != nil && len(n.RelationParts) > 0 && len(tb.Columns) > 0 {
					cols := make([]string, len(tb.Columns))
					for i, c := range tb.Columns {
						cols[i] = c.Name
					}
					cm.schema.Add(n.RelationParts, cols)
				}
			}
		}
		if len(cm.models) > 0 {
			out = append(out, cm)
		}
	}
	return out
}

type corpusTally struct{ total, parsed, complete int }

func TestCorpus(t *testing.T) {
	corpus := loadCorpus(t)
	tally := map[string]*corpusTally{}
	verbose := os.Getenv("SQLLINEAGE_CORPUS_VERBOSE") != ""
	for _, cm := range corpus {
		results := ResolveProject(context.Background(), cm.models, ProjectOptions{Dialect: cm.dialect, Schema: cm.schema})
		ct := tally[cm.adapter]
		if ct == nil {
			ct = &corpusTally{}
			tally[cm.adapter] = ct
		}
		for i, r := range results {
			ct.total++
			if r.Err != nil {
				if verbose {
					t.Logf("PARSE %s %s: %v\n%s", cm.path, r.ID, r.Err, excerpt(cm.models[i].SQL, r.Err))
				}
				continue
			}
			ct.parsed++
			if r.Result.Complete() {
				ct.complete++
			} else if verbose {
				t.Logf("PARTIAL %s %s: %s", cm.path, r.ID, firstGap(r.Result))
			}
		}
	}
	var adapters []string
	for a := range tally {
		adapters = append(adapters, a)
	}
	sort.Strings(adapters)
	var all corpusTally
	for _, a := range adapters {
		ct := tally[a]
		all.total += ct.total
		all.parsed += ct.parsed
		all.complete += ct.complete
		t.Logf("%-10s models %5d  parsed %5.1f%%  fully resolved %5.1f%%", a, ct.total, pct(ct.parsed, ct.total), pct(ct.complete, ct.total))
	}
	t.Logf("%-10s models %5d  parsed %5.1f%%  fully resolved %5.1f%%", "all", all.total, pct(all.parsed, all.total), pct(all.complete, all.total))
	if pct(all.parsed, all.total) < 95 {
		t.Errorf("parsed %.1f%% of the corpus, want at least 95%%", pct(all.parsed, all.total))
	}
	if pct(all.complete, all.total) < 90 {
		t.Errorf("fully resolved %.1f%% of the corpus, want at least 90%%", pct(all.complete, all.total))
	}
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

func firstGap(r *Result) string {
	if len(r.Reasons) > 0 {
		return r.Reasons[0]
	}
	for _, c := range r.Columns {
		if c.Reason != "" {
			return c.Name + ": " + c.Reason
		}
	}
	return "?"
}

func excerpt(sql string, err error) string {
	se, ok := err.(*SyntaxError)
	if !ok {
		return ""
	}
	lo, hi := max(0, se.Pos-150), min(len(sql), se.Pos+80)
	return fmt.Sprintf("...%s<<HERE>>%s...", sql[lo:se.Pos], sql[se.Pos:hi])
}
