package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// servedNode is what the tests read of a served manifest: each node's compiled fields.
type servedNode struct {
	ResourceType      string  `json:"resource_type"`
	Compiled          *bool   `json:"compiled"`
	CompiledCode      *string `json:"compiled_code"`
	CompiledPath      *string `json:"compiled_path"`
	ExtraCTEs         []any   `json:"extra_ctes"`
	ExtraCTEsInjected *bool   `json:"extra_ctes_injected"`
}

// compiledOf fetches the manifest step of run id wrote and returns the ids of its compiled nodes, sorted.
func (b *bundle) compiledOf(t *testing.T, id int64, step string) []string {
	t.Helper()
	r := b.call(t, "GET", acctPath("runs/%d/artifacts/manifest.json?step=%s", id, step), nil)
	wantCode(t, r, 200)
	var m struct {
		Metadata map[string]any        `json:"metadata"`
		Nodes    map[string]servedNode `json:"nodes"`
	}
	if err := json.Unmarshal(r.raw, &m); err != nil {
		t.Fatalf("step %s manifest: %v", step, err)
	}
	if len(m.Nodes) == 0 || m.Metadata["dbt_version"] != "1.11.7" {
		t.Fatalf("step %s manifest has %d nodes, metadata %v", step, len(m.Nodes), m.Metadata)
	}
	var ids []string
	for id, n := range m.Nodes {
		if n.Compiled == nil || !*n.Compiled {
			if n.CompiledCode != nil {
				t.Errorf("step %s: %s is not compiled but has compiled_code", step, id)
			}
			continue
		}
		if n.CompiledCode == nil || !strings.Contains(strings.ToLower(*n.CompiledCode), "select") ||
			n.CompiledPath == nil || !strings.HasPrefix(*n.CompiledPath, "target/compiled/jaffle_shop/") ||
			n.ExtraCTEs == nil || len(n.ExtraCTEs) != 0 || n.ExtraCTEsInjected == nil || !*n.ExtraCTEsInjected {
			t.Errorf("step %s: compiled node %s lacks dbt's compiled fields: %+v", step, id, n)
		}
		if strings.Contains(*n.CompiledCode, "{{") || strings.Contains(*n.CompiledCode, "ref(") {
			t.Errorf("step %s: compiled_code of %s still has Jinja", step, id)
		}
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func stepIndex(t *testing.T, run map[string]any, name string) string {
	t.Helper()
	for _, s := range run["run_steps"].([]any) {
		s := s.(map[string]any)
		if strings.Contains(s["name"].(string), name) {
			return fmt.Sprint(int(num(s["index"])))
		}
	}
	t.Fatalf("run has no step %q: %v", name, run["run_steps"])
	return ""
}

// kinds counts ids by resource type.
func kinds(ids []string) map[string]int {
	out := map[string]int{}
	for _, id := range ids {
		out[strings.SplitN(id, ".", 2)[0]]++
	}
	return out
}

func TestManifestCompiledPerStep(t *testing.T) {
	const models, tests = 12, 27 // metricflow_time_spine has no compiled code (see data/PROVENANCE.md)
	failing := 1
	b := setup(t, func(o *Options) {
		seed := DefaultSeed()
		for ai := range seed.Accounts {
			for pi := range seed.Accounts[ai].Projects {
				for ei := range seed.Accounts[ai].Projects[pi].Environments {
					for ji, j := range seed.Accounts[ai].Projects[pi].Environments[ei].Jobs {
						if j.ID == DemoStagingJobID {
							// A build that fails at orders: what orders blocks is skipped, so never compiled.
							seed.Accounts[ai].Projects[pi].Environments[ei].Jobs[ji].Behaviour.Outcome = "error"
							seed.Accounts[ai].Projects[pi].Environments[ei].Jobs[ji].Behaviour.FailStep = &failing
						}
					}
				}
			}
		}
		o.Seed = seed
	})
	docs := b.trigger(t, DemoDocsJobID, nil)
	runTest := b.trigger(t, DemoFailingJobID, nil)
	seedRun := b.trigger(t, DemoLegacyJobID, nil)
	failed := b.trigger(t, DemoStagingJobID, nil)
	b.srv.Advance(time.Hour)

	type want struct{ model, test int }
	cases := []struct {
		name  string
		run   int64
		step  string
		want  want
		check func(t *testing.T, ids []string)
	}{
		{"dbt build compiles models and tests", docs, "dbt build", want{models, tests}, nil},
		{"dbt docs generate compiles everything", docs, "dbt docs generate", want{models, tests}, nil},
		{"dbt source freshness compiles nothing", docs, "source freshness", want{}, nil},
		{"dbt run compiles the models only", runTest, "dbt run", want{models, 0}, nil},
		{"dbt test compiles the tests only, the failing one too", runTest, "dbt test", want{0, tests}, nil},
		{"dbt seed compiles nothing", seedRun, "dbt seed", want{}, nil},
		{"failed dbt build: the failed node is compiled, what it blocked is not", failed, "dbt build", want{-1, -1},
			func(t *testing.T, ids []string) {
				if !slices.Contains(ids, "model.jaffle_shop.orders") || slices.Contains(ids, "model.jaffle_shop.customers") ||
					!slices.Contains(ids, "model.jaffle_shop.stg_customers") {
					t.Errorf("compiled = %v, want orders and stg_customers but not customers (downstream of orders)", ids)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := b.getRun(t, c.run, "run_steps")
			ids := b.compiledOf(t, c.run, stepIndex(t, run, c.step))
			k := kinds(ids)
			if c.want.model >= 0 && (k["model"] != c.want.model || k["test"] != c.want.test || len(ids) != c.want.model+c.want.test) {
				t.Errorf("compiled %v, want %d models and %d tests", k, c.want.model, c.want.test)
			}
			if slices.Contains(ids, "model.jaffle_shop.metricflow_time_spine") {
				t.Errorf("metricflow_time_spine is marked compiled, but the emulator has no compiled code for it")
			}
			if c.check != nil {
				c.check(t, ids)
			}
		})
	}

	// A step that compiles nothing serves the embedded bytes unchanged; a compiling one keeps every other node's
	// bytes, and its own compiled file has the compiled code.
	run := b.getRun(t, docs, "run_steps")
	fresh := b.call(t, "GET", acctPath("runs/%d/artifacts/manifest.json?step=%s", docs, stepIndex(t, run, "source freshness")), nil)
	if !bytes.Equal(fresh.raw, artifacts.manifest) {
		t.Errorf("source freshness manifest differs from the embedded one")
	}
	build := b.call(t, "GET", acctPath("runs/%d/artifacts/manifest.json?step=%s", docs, stepIndex(t, run, "dbt build")), nil)
	if !bytes.Contains(build.raw, []byte(`"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"`)) {
		t.Errorf("build manifest lost the embedded formatting")
	}
	sqlFile := b.call(t, "GET", acctPath("runs/%d/artifacts/compiled/jaffle_shop/models/marts/customers.sql?step=%s", docs, stepIndex(t, run, "dbt build")), nil)
	wantCode(t, sqlFile, 200)
	if got := string(sqlFile.raw); !strings.Contains(got, `from "jaffle_shop"."main"."stg_customers"`) || strings.Contains(got, "{{") {
		t.Errorf("compiled/ customers.sql is not compiled SQL:\n%s", got)
	}
}

// TestCompiledManifestReused checks the compiled manifest is built once per set of compiled nodes.
func TestCompiledManifestReused(t *testing.T) {
	b := setup(t)
	id1, id2 := b.trigger(t, DemoDailyJobID, nil), b.trigger(t, DemoDailyJobID, nil)
	b.srv.Advance(time.Hour)
	var bodies [][]byte
	for _, id := range []int64{id1, id2} {
		r := b.call(t, "GET", acctPath("runs/%d/artifacts/manifest.json", id), nil)
		wantCode(t, r, 200)
		bodies = append(bodies, r.raw)
	}
	if !bytes.Equal(bodies[0], bodies[1]) {
		t.Fatalf("two successful builds served different manifests")
	}
	ids := make([]string, 0, len(artifacts.compiled))
	for id := range artifacts.compiled {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	compiledMu.Lock()
	cached := compiledManifests[strings.Join(ids, ",")]
	compiledMu.Unlock()
	if !bytes.Equal(cached, bodies[0]) {
		t.Errorf("the full build's manifest is not in the cache")
	}
}

// TestCompiledCodeProvenance re-derives data/compiled_code.json from the compiled dbt 1.12 build of the same
// project in ../shared: every model and test whose raw code, relation and dependencies are the same in both
// manifests, with its compiled code and path; metricflow_time_spine's raw code differs, so it is left out.
func TestCompiledCodeProvenance(t *testing.T) {
	src := filepath.Join("..", "..", "..", "shared", "artifacts", "dap-manifest-v12-jaffle_shop", "manifest_1.12.json")
	raw, err := os.ReadFile(src)
	if err != nil {
		if os.Getenv("DBTLINK_REQUIRE_SHARED") != "" {
			t.Fatalf("DBTLINK_REQUIRE_SHARED is set but %s is missing: %v", src, err)
		}
		t.Skipf("%s is absent (a fresh clone); set DBTLINK_REQUIRE_SHARED=1 to make this a failure", src)
	}
	type node struct {
		ResourceType string  `json:"resource_type"`
		RawCode      string  `json:"raw_code"`
		RelationName *string `json:"relation_name"`
		DependsOn    struct {
			Nodes []string `json:"nodes"`
		} `json:"depends_on"`
		CompiledCode string `json:"compiled_code"`
		CompiledPath string `json:"compiled_path"`
	}
	var built, parsed struct {
		Nodes map[string]node `json:"nodes"`
	}
	if err := json.Unmarshal(raw, &built); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(artifacts.manifest, &parsed); err != nil {
		t.Fatal(err)
	}
	want := map[string]compiledNode{}
	for id, p := range parsed.Nodes {
		c, ok := built.Nodes[id]
		if (p.ResourceType != "model" && p.ResourceType != "test") || !ok || c.CompiledCode == "" || c.RawCode != p.RawCode ||
			(c.RelationName == nil) != (p.RelationName == nil) || c.RelationName != nil && *c.RelationName != *p.RelationName ||
			!slices.Equal(c.DependsOn.Nodes, p.DependsOn.Nodes) {
			continue
		}
		want[id] = compiledNode{CompiledPath: c.CompiledPath, CompiledCode: c.CompiledCode}
	}
	if len(want) != len(artifacts.compiled) {
		t.Errorf("derived %d nodes, data/compiled_code.json has %d", len(want), len(artifacts.compiled))
	}
	for id, w := range want {
		if artifacts.compiled[id] != w {
			t.Errorf("%s: data/compiled_code.json differs from %s", id, src)
		}
	}
	if _, ok := want["model.jaffle_shop.metricflow_time_spine"]; ok {
		t.Errorf("metricflow_time_spine matched; the provenance note says it does not")
	}
}

// BenchmarkCompileManifest measures building the compiled manifest of a full build from the embedded bytes, which
// manifestJSON does once per set of compiled nodes.
func BenchmarkCompileManifest(b *testing.B) {
	if err := loadArtifacts(); err != nil {
		b.Fatal(err)
	}
	ids := make([]string, 0, len(artifacts.compiled))
	for id := range artifacts.compiled {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	b.SetBytes(int64(len(artifacts.manifest)))
	for b.Loop() {
		if _, err := compileManifest(artifacts.manifest, artifacts.compiled, ids); err != nil {
			b.Fatal(err)
		}
	}
}
