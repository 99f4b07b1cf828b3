// Command manifestgen scales a real dbt manifest up to a target size for
// benchmarks: it writes copies of the source manifest's graph members under
// new package names (model.pkg.name becomes model.pkg_N.name), rewires
// dependencies within each copy and adds a few edges across copies, and
// recomputes parent_map and child_map so the output is a consistent manifest.
// Output is deterministic for a given input, size and seed.
//
// Real manifests are used as the template rather than synthetic nodes so that
// the byte mix (code, columns, config, docs) matches what dbtlink reads.
//
//	go run ./bench/manifestgen -size 100MB -o /tmp/big_manifest.json
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// graphSections are the manifest sections whose members are copied.
var graphSections = []string{"nodes", "sources", "exposures", "metrics", "semantic_models", "saved_queries", "unit_tests"}

func main() {
	in := flag.String("in", "", "source manifest (default: the largest v12 manifest under -corpus)")
	corpus := flag.String("corpus", "/work/shared/artifacts", "directory searched for the default source manifest")
	out := flag.String("o", "/tmp/big_manifest.json", "output path")
	sizeFlag := flag.String("size", "100MB", "target output size (e.g. 100MB, 1GB, 5000000)")
	seed := flag.Uint64("seed", 1, "random seed for cross-copy edges")
	cross := flag.Float64("cross", 0.02, "probability that a model gets an extra parent in the previous copy")
	distinct := flag.Bool("distinct-relations", false, "give each copy its own schemas (schema_N), so that no two nodes share a relation, as in a real project")
	flag.Parse()

	size, err := parseSize(*sizeFlag)
	if err != nil {
		fatal(err)
	}
	src := *in
	if src == "" {
		if src, err = largestV12(*corpus); err != nil {
			fatal(err)
		}
	}
	n, copies, err := generate(src, *out, size, *seed, *cross, *distinct)
	if err != nil {
		fatal(err)
	}
	fmt.Fprintf(os.Stderr, "manifestgen: %s -> %s: %d bytes, %d copies\n", src, *out, n, copies)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "manifestgen:", err)
	os.Exit(1)
}

func parseSize(s string) (int64, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suf string
		m   int64
	}{{"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(s, u.suf) {
			s, mult = strings.TrimSuffix(s, u.suf), u.m
			break
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return int64(f * float64(mult)), nil
}

// largestV12 finds the largest manifest with schema v12 in dir.
func largestV12(dir string) (string, error) {
	best, bestSize := "", int64(0)
	err := filepath.WalkDir(dir, func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() || !strings.HasPrefix(de.Name(), "manifest") {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		head := make([]byte, 512)
		k, _ := io.ReadFull(f, head)
		f.Close()
		if !strings.Contains(string(head[:k]), "manifest/v12.json") {
			return nil
		}
		if info, err := de.Info(); err == nil && info.Size() > bestSize {
			best, bestSize = p, info.Size()
		}
		return nil
	})
	if err == nil && best == "" {
		err = errors.New("no v12 manifest under " + dir)
	}
	return best, err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func generate(src, dst string, target int64, seed uint64, cross float64, distinct bool) (int64, int, error) {
	raw, err := os.ReadFile(src)
	if err != nil {
		return 0, 0, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", src, err)
	}
	// Packages of copied members: their ids are rewritten per copy.
	pkgs := map[string]bool{}
	var models []string
	for _, sec := range graphSections {
		for id, v := range asMap(m[sec]) {
			if p, ok := asMap(v)["package_name"].(string); ok {
				pkgs[p] = true
			}
			if strings.HasPrefix(id, "model.") {
				models = append(models, id)
			}
		}
	}
	slices.Sort(models)
	// Estimate one copy's size from the compact encoding of what is copied
	// (graph sections and the two maps); the rest is written once.
	fixed, perCopy := int64(0), int64(1)
	for k, v := range m {
		b, _ := json.Marshal(v)
		if slices.Contains(graphSections, k) || k == "parent_map" || k == "child_map" {
			perCopy += int64(len(b))
		} else {
			fixed += int64(len(b))
		}
	}
	copies := max(int((target-fixed+perCopy-1)/perCopy), 1)

	f, err := os.Create(dst)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	cw := &countWriter{w: bw}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	rename := func(id string, c int) string {
		// type.package.rest -> type.package_c.rest
		parts := strings.SplitN(id, ".", 3)
		if len(parts) < 3 || !pkgs[parts[1]] || c == 0 {
			return id
		}
		return parts[0] + "." + parts[1] + "_" + strconv.Itoa(c) + "." + parts[2]
	}
	parents := map[string][]string{}
	var order []string
	// The members' keys a copy rewrites.
	rewritten := []string{"unique_id", "package_name", "fqn", "depends_on", "schema", "relation_name"}

	w := func(s string) { io.WriteString(cw, s) }
	enc := func(v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		_, err = cw.Write(b)
		return err
	}
	w("{\"metadata\": ")
	if err := enc(m["metadata"]); err != nil {
		return 0, 0, err
	}
	for _, sec := range graphSections {
		members := asMap(m[sec])
		ids := slices.Sorted(maps.Keys(members))
		w(",\n\"" + sec + "\": {")
		first := true
		for c := range copies {
			for _, id := range ids {
				node := asMap(members[id])
				if node == nil {
					continue
				}
				newID := rename(id, c)
				// The template member is rewritten in place and restored after
				// encoding; keys it lacks must stay absent, not become null.
				saved := map[string]any{}
				for _, k := range rewritten {
					if v, ok := node[k]; ok {
						saved[k] = v
					}
				}
				node["unique_id"] = newID
				if p, ok := node["package_name"].(string); ok && c > 0 {
					node["package_name"] = p + "_" + strconv.Itoa(c)
				}
				if fqn, ok := node["fqn"].([]any); ok && len(fqn) > 0 && c > 0 {
					nf := slices.Clone(fqn)
					nf[0] = fmt.Sprint(fqn[0], "_", c)
					node["fqn"] = nf
				}
				if sch, ok := node["schema"].(string); ok && distinct && c > 0 {
					ns := sch + "_" + strconv.Itoa(c)
					node["schema"] = ns
					if rn, ok := node["relation_name"].(string); ok {
						if q := `"` + sch + `"`; strings.Contains(rn, q) {
							node["relation_name"] = strings.Replace(rn, q, `"`+ns+`"`, 1)
						} else {
							node["relation_name"] = strings.Replace(rn, "."+sch+".", "."+ns+".", 1)
						}
					}
				}
				// Never nil: dbt writes [] for no parents, in depends_on.nodes
				// and in parent_map alike, and null would read differently.
				deps := []string{}
				if dep := asMap(node["depends_on"]); dep != nil {
					nd := map[string]any{"macros": dep["macros"]}
					for _, p := range asSlice(dep["nodes"]) {
						if s, ok := p.(string); ok {
							deps = append(deps, rename(s, c))
						}
					}
					if c > 0 && strings.HasPrefix(id, "model.") && len(models) > 0 && rng.Float64() < cross {
						deps = append(deps, rename(models[rng.IntN(len(models))], c-1))
					}
					nd["nodes"] = deps
					node["depends_on"] = nd
				}
				parents[newID] = deps
				order = append(order, newID)
				if !first {
					w(",")
				}
				first = false
				w("\n")
				if err := enc(newID); err != nil {
					return 0, 0, err
				}
				w(": ")
				if err := enc(node); err != nil {
					return 0, 0, err
				}
				for _, k := range rewritten {
					if v, ok := saved[k]; ok {
						node[k] = v
					} else {
						delete(node, k)
					}
				}
			}
		}
		w("}")
	}
	for _, k := range []string{"macros", "docs", "groups", "selectors", "disabled", "group_map"} {
		if v, ok := m[k]; ok {
			w(",\n\"" + k + "\": ")
			if err := enc(v); err != nil {
				return 0, 0, err
			}
		}
	}
	children := map[string][]string{}
	for _, id := range order {
		if _, ok := children[id]; !ok {
			children[id] = []string{} // dbt lists leaves with an empty list
		}
		for _, p := range parents[id] {
			children[p] = append(children[p], id)
		}
	}
	w(",\n\"parent_map\": ")
	if err := enc(parents); err != nil {
		return 0, 0, err
	}
	w(",\n\"child_map\": ")
	if err := enc(children); err != nil {
		return 0, 0, err
	}
	w("}\n")
	if err := bw.Flush(); err != nil {
		return 0, 0, err
	}
	return cw.n, copies, f.Close()
}

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }
func asSlice(v any) []any        { s, _ := v.([]any); return s }
