package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// The embedded manifest.json was written by `dbt parse`, so none of its nodes is compiled. A dbt command that
// compiles nodes (build, run, compile, test, docs generate, retry) writes a manifest in which each node it compiled
// carries compiled: true, compiled_code, compiled_path, extra_ctes and extra_ctes_injected (manifest v12), and the
// others stay as parsed. manifestJSON reproduces that from data/compiled_code.json.

// compilingSteps are the dbt subcommands whose manifest carries compiled nodes. `dbt seed` compiles nothing (seeds
// have no SQL), `dbt source freshness` runs no node, and `dbt deps` writes no manifest at all.
var compilingSteps = map[string]bool{
	"build": true, "run": true, "compile": true, "test": true, "snapshot": true, "docs generate": true, "retry": true,
}

var (
	compiledMu        sync.Mutex
	compiledManifests = map[string][]byte{} // by the sorted, comma-joined ids compiled; few distinct sets occur
)

// compiledIDs lists, sorted, the nodes step s compiled that the emulator has compiled code for: those of its
// results that were not skipped (a node that failed at run time was compiled first; a skipped one never was).
func (e *Emulator) compiledIDs(r *run, s *step) []string {
	if !compilingSteps[dbtSubcommand(s.command)] {
		return nil
	}
	var ids []string
	for _, res := range e.stepResults(r, s) {
		id, _ := res["unique_id"].(string)
		if _, ok := artifacts.compiled[id]; ok && res["status"] != "skipped" {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// manifestJSON is the manifest.json step s wrote. Each distinct set of compiled nodes is built once and its bytes
// reused; a step that compiled nothing gets the embedded bytes as they are.
func (e *Emulator) manifestJSON(r *run, s *step) []byte {
	ids := e.compiledIDs(r, s)
	if len(ids) == 0 {
		return artifacts.manifest
	}
	key := strings.Join(ids, ",")
	compiledMu.Lock()
	defer compiledMu.Unlock()
	if b, ok := compiledManifests[key]; ok {
		return b
	}
	b, err := compileManifest(artifacts.manifest, artifacts.compiled, ids)
	if err != nil {
		// The embedded data is checked by the package's tests; this cannot happen with them.
		return []byte(fmt.Sprintf(`{"error": %q}`, "emulator could not build the compiled manifest: "+err.Error()))
	}
	compiledManifests[key] = b
	return b
}

// compileManifest returns manifest with the nodes ids marked compiled. Only those nodes' objects are re-encoded
// (their keys then sorted); every other byte is kept as dbt wrote it.
func compileManifest(manifest []byte, compiled map[string]compiledNode, ids []string) ([]byte, error) {
	spans, err := nodeSpans(manifest)
	if err != nil {
		return nil, err
	}
	type patch struct {
		start, end int
		with       []byte
	}
	var patches []patch
	for _, id := range ids {
		sp, ok := spans[id]
		if !ok {
			return nil, fmt.Errorf("node %s of compiled_code.json is not in the manifest", id)
		}
		var node map[string]json.RawMessage
		if err := json.Unmarshal(manifest[sp[0]:sp[1]], &node); err != nil {
			return nil, fmt.Errorf("node %s: %w", id, err)
		}
		c := compiled[id]
		code, err := json.Marshal(c.CompiledCode)
		if err != nil {
			return nil, err
		}
		path, err := json.Marshal(c.CompiledPath)
		if err != nil {
			return nil, err
		}
		// jaffle_shop has no ephemeral model, so no CTE is ever injected: dbt writes an empty list, injected.
		node["compiled"], node["compiled_code"], node["compiled_path"] = json.RawMessage("true"), code, path
		node["extra_ctes"], node["extra_ctes_injected"] = json.RawMessage("[]"), json.RawMessage("true")
		b, err := json.Marshal(node)
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", id, err)
		}
		patches = append(patches, patch{sp[0], sp[1], b})
	}
	sort.Slice(patches, func(i, j int) bool { return patches[i].start < patches[j].start })
	var out bytes.Buffer
	out.Grow(len(manifest) + len(manifest)/20)
	at := 0
	for _, p := range patches {
		out.Write(manifest[at:p.start])
		out.Write(p.with)
		at = p.end
	}
	out.Write(manifest[at:])
	return out.Bytes(), nil
}

// nodeSpans finds where the value of each entry of the manifest's top-level "nodes" object lies in its bytes.
func nodeSpans(manifest []byte) (map[string][2]int, error) {
	dec := json.NewDecoder(bytes.NewReader(manifest))
	expect := func(want json.Delim) error {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := t.(json.Delim); !ok || d != want {
			return fmt.Errorf("manifest: want %q, got %v", want, t)
		}
		return nil
	}
	if err := expect('{'); err != nil {
		return nil, err
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		if t != "nodes" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, err
			}
			continue
		}
		if err := expect('{'); err != nil {
			return nil, err
		}
		spans := map[string][2]int{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				return nil, err
			}
			end := int(dec.InputOffset())
			spans[k.(string)] = [2]int{end - len(v), end}
		}
		return spans, nil
	}
	return nil, fmt.Errorf("manifest: no nodes object")
}
