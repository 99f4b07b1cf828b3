package emulator

import (
	"embed"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

//go:embed data/manifest.json data/run_results.json data/catalog.json data/compiled_code.json
var dataFS embed.FS

// baseArtifacts is the embedded jaffle_shop set, parsed once per process.
type baseArtifacts struct {
	manifest   []byte
	catalog    []byte
	dbtVersion string
	runResults map[string]any   // the embedded run_results.json, minus results
	results    []map[string]any // its results, in order
	nodes      map[string]manifestNode
	childMap   map[string][]string
	sources    []string // source unique_ids, sorted
	modelOrder []string // models in results order
	// byType holds synthetic successful results for manifest nodes the embedded run_results.json lacks (it comes
	// from a build without seeds), keyed by resource type, so `dbt seed` and `dbt snapshot` steps report real
	// nodes of the project.
	byType map[string][]map[string]any
	// compiled holds, per node, what dbt adds to it when it compiles it (data/compiled_code.json, taken from a
	// compiled build of the same project). The embedded manifest was written by dbt parse and has none of it.
	compiled map[string]compiledNode
}

type compiledNode struct {
	CompiledPath string `json:"compiled_path"`
	CompiledCode string `json:"compiled_code"`
}

type manifestNode struct {
	UniqueID         string `json:"unique_id"`
	ResourceType     string `json:"resource_type"`
	Name             string `json:"name"`
	Schema           string `json:"schema"`
	OriginalFilePath string `json:"original_file_path"`
	RelationName     string `json:"relation_name"`
	CompiledCode     string `json:"compiled_code"` // always empty: the embedded manifest is dbt parse's; see compiled
	RawCode          string `json:"raw_code"`
	Config           struct {
		Materialized string `json:"materialized"`
	} `json:"config"`
}

var (
	artifactsOnce sync.Once
	artifacts     *baseArtifacts
	artifactsErr  error
)

func loadArtifacts() error {
	artifactsOnce.Do(func() { artifacts, artifactsErr = parseArtifacts() })
	return artifactsErr
}

func parseArtifacts() (*baseArtifacts, error) {
	a := &baseArtifacts{}
	var err error
	if a.manifest, err = dataFS.ReadFile("data/manifest.json"); err != nil {
		return nil, fmt.Errorf("emulator: embedded manifest: %w", err)
	}
	if a.catalog, err = dataFS.ReadFile("data/catalog.json"); err != nil {
		return nil, fmt.Errorf("emulator: embedded catalog: %w", err)
	}
	cc, err := dataFS.ReadFile("data/compiled_code.json")
	if err != nil {
		return nil, fmt.Errorf("emulator: embedded compiled code: %w", err)
	}
	var ccDoc struct {
		Nodes map[string]compiledNode `json:"nodes"`
	}
	if err := json.Unmarshal(cc, &ccDoc); err != nil {
		return nil, fmt.Errorf("emulator: parse embedded compiled_code.json: %w", err)
	}
	a.compiled = ccDoc.Nodes
	rr, err := dataFS.ReadFile("data/run_results.json")
	if err != nil {
		return nil, fmt.Errorf("emulator: embedded run_results: %w", err)
	}
	var m struct {
		Metadata struct {
			DBTVersion string `json:"dbt_version"`
		} `json:"metadata"`
		Nodes    map[string]manifestNode `json:"nodes"`
		Sources  map[string]manifestNode `json:"sources"`
		ChildMap map[string][]string     `json:"child_map"`
	}
	if err := json.Unmarshal(a.manifest, &m); err != nil {
		return nil, fmt.Errorf("emulator: parse embedded manifest: %w", err)
	}
	a.dbtVersion, a.nodes, a.childMap = m.Metadata.DBTVersion, m.Nodes, m.ChildMap
	for id := range m.Sources {
		a.sources = append(a.sources, id)
	}
	sort.Strings(a.sources)
	if err := json.Unmarshal(rr, &a.runResults); err != nil {
		return nil, fmt.Errorf("emulator: parse embedded run_results: %w", err)
	}
	raw, _ := a.runResults["results"].([]any)
	delete(a.runResults, "results")
	have := map[string]bool{}
	for _, x := range raw {
		if r, ok := x.(map[string]any); ok {
			a.results = append(a.results, r)
			id, _ := r["unique_id"].(string)
			have[id] = true
			if strings.HasPrefix(id, "model.") {
				a.modelOrder = append(a.modelOrder, id)
			}
		}
	}
	a.byType = map[string][]map[string]any{}
	ids := make([]string, 0, len(a.nodes))
	for id, n := range a.nodes {
		if (n.ResourceType == "seed" || n.ResourceType == "snapshot") && !have[id] {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		n := a.nodes[id]
		var rel any
		if n.RelationName != "" {
			rel = n.RelationName
		}
		a.byType[n.ResourceType] = append(a.byType[n.ResourceType], map[string]any{
			"status": "success", "timing": []any{}, "thread_id": "Thread-1 (worker)", "execution_time": 0.05,
			"adapter_response": map[string]any{}, "message": nil, "failures": nil, "unique_id": id,
			"compiled": nil, "compiled_code": nil, "relation_name": rel, "batch_results": nil,
		})
	}
	return a, nil
}

// stepFiles lists the files a finished dbt step wrote under target/, with a function to produce each one.
// Setup steps and `dbt deps` write none; a step that never finished wrote none either.
func (e *Emulator) stepFiles(r *run, s *step) map[string]func() []byte {
	if !writesArtifacts(s) {
		return nil
	}
	files := map[string]func() []byte{
		"manifest.json": func() []byte { return e.manifestJSON(r, s) },
	}
	sub := dbtSubcommand(s.command)
	switch sub {
	case "source freshness":
		files["sources.json"] = func() []byte { return e.sourcesJSON(r, s) }
		return files
	case "docs generate":
		files["catalog.json"] = func() []byte { return artifacts.catalog }
	}
	files["run_results.json"] = func() []byte { return e.runResultsJSON(r, s) }
	if sub == "build" || sub == "run" || sub == "compile" {
		for _, res := range e.stepResults(r, s) {
			id, _ := res["unique_id"].(string)
			n, ok := artifacts.nodes[id]
			if !ok || n.ResourceType != "model" || n.OriginalFilePath == "" {
				continue
			}
			code := artifacts.compiled[id].CompiledCode
			if code == "" {
				// No compiled build has this node's raw code (metricflow_time_spine): serve its raw code, as the
				// emulator cannot render the dbt_date macro it calls.
				code = n.RawCode
			}
			rel := "jaffle_shop/" + n.OriginalFilePath
			files["compiled/"+rel] = func() []byte { return []byte(code) }
			if sub != "compile" && res["status"] == "success" {
				files["run/"+rel] = func() []byte {
					return []byte(fmt.Sprintf("create or replace view %s.%s as (\n%s\n);\n", n.Schema, n.Name, code))
				}
			}
		}
	}
	return files
}

func (e *Emulator) hasArtifacts(r *run) bool {
	for _, s := range r.steps {
		if writesArtifacts(s) {
			return true
		}
	}
	return false
}

// writesArtifacts reports whether s wrote anything under target/, without building the files.
func writesArtifacts(s *step) bool {
	return s.finished() && s.command != "" && s.command != "dbt deps" && s.status != StatusCancelled
}

// stepWrites reports whether s wrote path. The top-level artifacts are decided from the command alone, so the
// common questions (has_docs_generated, which step holds run_results.json) need no derived results.
func (e *Emulator) stepWrites(r *run, s *step, path string) bool {
	if !writesArtifacts(s) {
		return false
	}
	sub := dbtSubcommand(s.command)
	switch path {
	case "manifest.json":
		return true
	case "run_results.json":
		return sub != "source freshness"
	case "catalog.json":
		return sub == "docs generate"
	case "sources.json":
		return sub == "source freshness"
	}
	_, ok := e.stepFiles(r, s)[path]
	return ok
}

// stepWriting returns the last step of r that wrote path, or nil. dbt Cloud keeps one target/ directory per run, so
// a file fetched without ?step= is the last version written.
func (e *Emulator) stepWriting(r *run, path string) *step {
	if !terminal(r.status) {
		return nil // artifacts are uploaded when the run ends
	}
	for i := len(r.steps) - 1; i >= 0; i-- {
		if e.stepWrites(r, r.steps[i], path) {
			return r.steps[i]
		}
	}
	return nil
}

// artifactList is the union of the files every step wrote, sorted, or nil when the run saved none.
func (e *Emulator) artifactList(r *run) []string {
	if !terminal(r.status) {
		return nil
	}
	set := map[string]bool{}
	for _, s := range r.steps {
		for p := range e.stepFiles(r, s) {
			set[p] = true
		}
	}
	if len(set) == 0 {
		return nil
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// stepArtifactList is the files step s of r wrote, sorted, or nil when it wrote none (or the run has not ended, as
// artifacts are uploaded when it does).
func (e *Emulator) stepArtifactList(r *run, s *step) []string {
	if !terminal(r.status) {
		return nil
	}
	files := e.stepFiles(r, s)
	if len(files) == 0 {
		return nil
	}
	out := make([]string, 0, len(files))
	for p := range files {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// stepResults derives one step's run_results entries from the embedded ones: which nodes the command touches and
// how each ended, consistent with the step's outcome.
func (e *Emulator) stepResults(r *run, s *step) []map[string]any {
	sub := dbtSubcommand(s.command)
	kind := func(id string) string { return strings.SplitN(id, ".", 2)[0] }
	var picked []map[string]any
	bases := artifacts.results
	switch sub {
	case "seed", "snapshot":
		bases = artifacts.byType[sub]
	case "retry":
		// The step being retried may have been a dbt seed or dbt snapshot.
		bases = slices.Concat(bases, artifacts.byType["seed"], artifacts.byType["snapshot"])
	}
	for _, base := range bases {
		id, _ := base["unique_id"].(string)
		k := kind(id)
		switch sub {
		case "build", "docs generate", "retry":
		case "run", "compile":
			if k != "model" {
				continue
			}
		case "test":
			if k != "test" {
				continue
			}
		case "seed", "snapshot":
			if k != sub {
				continue
			}
		default:
			continue
		}
		res := maps.Clone(base)
		res["status"] = "success"
		if k == "test" && sub != "docs generate" {
			res["status"] = "pass"
			res["failures"] = 0
		}
		picked = append(picked, res)
	}
	if sub == "retry" && r.retryOf != nil {
		// `dbt retry` re-runs only what failed or was skipped last time, and now it passes.
		prev := r.retryOf.failedStep()
		again := map[string]bool{}
		for _, res := range e.stepResults(r.retryOf, prev) {
			if st := res["status"]; st == "error" || st == "fail" || st == "skipped" {
				again[res["unique_id"].(string)] = true
			}
		}
		kept := picked[:0]
		for _, res := range picked {
			if again[res["unique_id"].(string)] {
				kept = append(kept, res)
			}
		}
		picked = kept
	}
	if s.status == StatusError {
		e.failResults(r, sub, picked)
	}
	return picked
}

// failResults marks the failing node (and what it blocks) in a failed step's results.
func (e *Emulator) failResults(r *run, sub string, results []map[string]any) {
	byID := map[string]map[string]any{}
	for _, res := range results {
		byID[res["unique_id"].(string)] = res
	}
	failing := r.failingNode
	if _, ok := byID[failing]; !ok {
		failing = ""
	}
	if failing == "" && sub != "test" {
		if _, ok := byID["model.jaffle_shop.orders"]; ok {
			failing = "model.jaffle_shop.orders"
		} else {
			for _, id := range artifacts.modelOrder {
				if _, ok := byID[id]; ok {
					failing = id
				}
			}
		}
	}
	if failing == "" {
		for _, res := range results {
			if id := res["unique_id"].(string); strings.HasPrefix(id, "test.") {
				failing = id
				break
			}
		}
	}
	if failing == "" && len(results) > 0 {
		// A step of another command (dbt seed, dbt snapshot) fails on the first node it runs.
		failing = results[0]["unique_id"].(string)
	}
	if failing == "" {
		return // the step ran no nodes: it failed before reaching any, as dbt does on a project-level error
	}
	res := byID[failing]
	n := artifacts.nodes[failing]
	if strings.HasPrefix(failing, "test.") {
		res["status"], res["failures"] = "fail", 3
		res["message"] = "Got 3 results, configured to fail if != 0"
		return
	}
	res["status"], res["failures"] = "error", nil
	switch n.ResourceType {
	case "seed":
		res["message"] = fmt.Sprintf("Runtime Error in seed %s (%s)\n  Conversion Error: Could not convert string 'n/a' to INT32", n.Name, n.OriginalFilePath)
	case "snapshot":
		res["message"] = fmt.Sprintf("Runtime Error in snapshot %s (%s)\n  Snapshot target is not a snapshot table (missing \"dbt_scd_id\")", n.Name, n.OriginalFilePath)
	default:
		res["message"] = fmt.Sprintf("Runtime Error in %s %s (%s)\n  Binder Error: Referenced column \"order_total\" not found in FROM clause!", n.ResourceType, n.Name, n.OriginalFilePath)
	}
	res["adapter_response"] = map[string]any{}
	// Everything downstream of the failed model is skipped.
	seen := map[string]bool{}
	var walk func(string)
	walk = func(id string) {
		for _, c := range artifacts.childMap[id] {
			if seen[c] {
				continue
			}
			seen[c] = true
			if d, ok := byID[c]; ok {
				d["status"], d["message"], d["failures"], d["execution_time"] = "skipped", nil, nil, 0
			}
			walk(c)
		}
	}
	walk(failing)
}

func (e *Emulator) runResultsJSON(r *run, s *step) []byte {
	results := e.stepResults(r, s)
	out := maps.Clone(artifacts.runResults)
	meta, _ := out["metadata"].(map[string]any)
	meta = maps.Clone(meta)
	meta["generated_at"] = s.finishedAt.UTC().Format("2006-01-02T15:04:05.000000Z")
	meta["invocation_started_at"] = s.startedAt.UTC().Format("2006-01-02T15:04:05.000000Z")
	meta["invocation_id"] = invocationID(r, s)
	out["metadata"] = meta
	args, _ := out["args"].(map[string]any)
	args = maps.Clone(args)
	args["which"] = strings.ReplaceAll(dbtSubcommand(s.command), "docs ", "")
	args["invocation_command"] = s.command
	out["args"] = args
	out["elapsed_time"] = s.finishedAt.Sub(s.startedAt).Seconds()
	out["results"] = spreadTimings(results, s.startedAt, s.finishedAt)
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return []byte(`{"error": "emulator could not encode run_results"}`)
	}
	return b
}

func (e *Emulator) sourcesJSON(r *run, s *step) []byte {
	type result struct {
		UniqueID              string         `json:"unique_id"`
		MaxLoadedAt           string         `json:"max_loaded_at"`
		SnapshottedAt         string         `json:"snapshotted_at"`
		MaxLoadedAtTimeAgoInS float64        `json:"max_loaded_at_time_ago_in_s"`
		Status                string         `json:"status"`
		Criteria              map[string]any `json:"criteria"`
		AdapterResponse       map[string]any `json:"adapter_response"`
		Timing                []any          `json:"timing"`
		ThreadID              string         `json:"thread_id"`
		ExecutionTime         float64        `json:"execution_time"`
	}
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }
	var results []result
	for i, id := range artifacts.sources {
		ago := float64(3600 * (i + 1))
		results = append(results, result{
			UniqueID: id, MaxLoadedAt: ts(s.startedAt.Add(-time.Duration(ago) * time.Second)),
			SnapshottedAt: ts(s.finishedAt), MaxLoadedAtTimeAgoInS: ago, Status: "pass",
			Criteria: map[string]any{
				"warn_after":  map[string]any{"count": 12, "period": "hour"},
				"error_after": map[string]any{"count": 24, "period": "hour"},
				"filter":      nil,
			},
			AdapterResponse: map[string]any{}, Timing: []any{}, ThreadID: "Thread-1", ExecutionTime: 0.02,
		})
	}
	doc := map[string]any{
		"metadata": map[string]any{
			"dbt_schema_version": "https://schemas.getdbt.com/dbt/sources/v3.json",
			"dbt_version":        artifacts.dbtVersion, "generated_at": ts(s.finishedAt),
			"invocation_id": invocationID(r, s), "env": map[string]any{},
		},
		"results":      results,
		"elapsed_time": s.finishedAt.Sub(s.startedAt).Seconds(),
	}
	b, _ := json.MarshalIndent(doc, "", "  ")
	return b
}

func invocationID(r *run, s *step) string {
	return fmt.Sprintf("00000000-0000-4000-8000-%06d%06d", r.id%1_000_000, s.index)
}

// stepLogs renders dbt-style console output for a step, consistent with its results.
func (e *Emulator) stepLogs(r *run, s *step) string {
	if !s.started() {
		return ""
	}
	t := s.startedAt.UTC()
	stamp := func(off time.Duration) string { return t.Add(off).Format("15:04:05") + "  " }
	var b strings.Builder
	line := func(off time.Duration, text string) { b.WriteString(stamp(off) + text + "\n") }
	switch {
	case s.command == "":
		if strings.HasPrefix(s.name, "Clone") {
			// git_sha comes from the trigger body and may be shorter than the 12 characters shown.
			line(0, "Cloning into '/tmp/jobs/"+fmt.Sprint(r.id)+"/target'...")
			line(time.Second, "Successfully cloned repository. Checked out at "+r.gitSHA[:min(12, len(r.gitSHA))]+" on "+r.gitBranch+".")
		} else {
			line(0, "Profile created from connection.")
		}
		return b.String()
	case s.command == "dbt deps":
		line(0, "Running with dbt="+artifacts.dbtVersion)
		if s.status == StatusError {
			line(time.Second, "Encountered an error:\nRuntime Error\n  Could not resolve package dbt-labs/dbt_utils from hub.getdbt.com")
			return b.String()
		}
		if s.finished() {
			line(time.Second, "Installing dbt-labs/dbt_utils")
			line(2*time.Second, "Installed from version 1.3.0")
		}
		return b.String()
	}
	line(0, "Running with dbt="+artifacts.dbtVersion)
	line(0, "Registered adapter: duckdb=1.9.1")
	line(time.Second, fmt.Sprintf("Found %d models, %d data tests, %d sources", len(artifacts.modelOrder),
		len(artifacts.results)-len(artifacts.modelOrder), len(artifacts.sources)))
	if !s.finished() {
		return b.String()
	}
	if dbtSubcommand(s.command) == "source freshness" {
		for i, id := range artifacts.sources {
			line(2*time.Second, fmt.Sprintf("%d of %d PASS freshness of %s .............. [PASS in 0.02s]", i+1, len(artifacts.sources), strings.TrimPrefix(id, "source.jaffle_shop.")))
		}
		line(3*time.Second, "Done.")
		return b.String()
	}
	if s.status == StatusCancelled {
		line(s.finishedAt.Sub(s.startedAt), "Cancelled.")
		return b.String()
	}
	results := e.stepResults(r, s)
	counts := map[string]int{}
	for i, res := range results {
		id, _ := res["unique_id"].(string)
		n := artifacts.nodes[id]
		st, _ := res["status"].(string)
		counts[st]++
		what := "sql " + n.Config.Materialized + " model " + n.Schema + "." + n.Name
		switch n.ResourceType {
		case "test":
			what = "test " + n.Name
		case "seed":
			what = "seed file " + n.Schema + "." + n.Name
		case "snapshot":
			what = "snapshot " + n.Schema + "." + n.Name
		}
		tag := map[string]string{"success": "OK", "pass": "PASS", "fail": "FAIL 3", "error": "ERROR", "skipped": "SKIP"}[st]
		line(2*time.Second, fmt.Sprintf("%d of %d %s %s .... [%s]", i+1, len(results), tag, what, tag))
	}
	done := s.finishedAt.Sub(s.startedAt)
	line(done, fmt.Sprintf("Finished running %d nodes in 0 hours 0 minutes and %.2f seconds.", len(results), done.Seconds()))
	if s.status == StatusError {
		line(done, "Completed with errors")
		for _, res := range results {
			if msg, ok := res["message"].(string); ok && msg != "" && (res["status"] == "error" || res["status"] == "fail") {
				line(done, msg)
			}
		}
	} else {
		line(done, "Completed successfully")
	}
	line(done, fmt.Sprintf("Done. PASS=%d WARN=0 ERROR=%d SKIP=%d TOTAL=%d", counts["success"]+counts["pass"],
		counts["error"]+counts["fail"], counts["skipped"], len(results)))
	return b.String()
}

// spreadTimings replaces the embedded results' timings, which record a sub-second local build, with ones that fill
// the step's emulated duration: after a tenth of it for parsing, the nodes that ran take turns on one thread, each
// getting a share proportional to its original execution_time, spent a tenth compiling and the rest executing;
// skipped nodes get no time, as in dbt. The sum of execution_time therefore stays just under elapsed_time.
func spreadTimings(results []map[string]any, start, end time.Time) []map[string]any {
	weight := func(res map[string]any) float64 {
		if res["status"] == "skipped" {
			return 0
		}
		if w, _ := res["execution_time"].(float64); w > 0 {
			return w
		}
		return 0.01
	}
	var total float64
	for _, res := range results {
		total += weight(res)
	}
	d := end.Sub(start)
	at := start.Add(d / 10)
	budget := float64(d - d/10 - d/20) // leave the last twentieth for writing artifacts
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }
	for _, res := range results {
		w := weight(res)
		if w == 0 || total == 0 {
			res["timing"], res["execution_time"] = []any{}, 0.0
			continue
		}
		share := time.Duration(budget * w / total)
		compiled := at.Add(share / 10)
		done := at.Add(share)
		res["timing"] = []any{
			map[string]any{"name": "compile", "started_at": ts(at), "completed_at": ts(compiled)},
			map[string]any{"name": "execute", "started_at": ts(compiled), "completed_at": ts(done)},
		}
		res["execution_time"] = share.Seconds()
		at = done
	}
	return results
}
