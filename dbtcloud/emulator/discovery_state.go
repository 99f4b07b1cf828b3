package emulator

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	art "github.com/dbtlink/dbtlink/artifacts"
)

// The Discovery API answers from what dbt Cloud ingested from each run's artifacts. The emulator does the same:
// it reads the files its own runs wrote (the same bytes the Admin API serves) with package artifacts and keeps,
// per environment, the newest execution of every node, the newest catalog and the newest freshness check.

var (
	discoManifestOnce sync.Once
	discoManifest     *art.Manifest
	discoManifestErr  error
)

// parsedManifest is the embedded manifest in package artifacts' normalised form, parsed once per process.
func parsedManifest() (*art.Manifest, error) {
	discoManifestOnce.Do(func() {
		discoManifest, discoManifestErr = art.ReadManifest(bytes.NewReader(artifacts.manifest), art.WithName("manifest.json"))
		if discoManifestErr != nil {
			discoManifestErr = fmt.Errorf("emulator: discovery: read embedded manifest: %w", discoManifestErr)
		}
	})
	return discoManifest, discoManifestErr
}

// discoExec is one execution of a node as the Discovery API reports it.
type discoExec struct {
	runID, jobID       int64
	status             string
	message            string
	failures           *int
	executionTime      float64
	compileStartedAt   time.Time
	compileCompletedAt time.Time
	executeStartedAt   time.Time
	executeCompletedAt time.Time
	generatedAt        time.Time // the run_results file's generated_at
	runFinishedAt      time.Time
	runElapsed         float64
	compiledCode       string
}

// at is when the execution finished: the execute timing's end, else the run's end.
func (x *discoExec) at() time.Time {
	if !x.executeCompletedAt.IsZero() {
		return x.executeCompletedAt
	}
	return x.runFinishedAt
}

// newer orders executions newest first, ties by run id then status, the way a catalog sync picks one, so that the
// applied state and a sync from artifacts agree on which execution is the last.
func newer(a, b *discoExec) bool {
	if c := a.at().Compare(b.at()); c != 0 {
		return c > 0
	}
	if a.runID != b.runID {
		return a.runID > b.runID
	}
	return a.status < b.status
}

// discoRun is what one finished run contributed.
type discoRun struct {
	id, jobID, envID, projectID, accountID int64
	status                                 int
	finishedAt                             time.Time
	dbtVersion                             string
	results                                map[string]*discoExec // newest execution per node within the run
	catalog                                *art.Catalog
	sources                                *art.SourcesResults
}

// discoFresh is a source's newest freshness check.
type discoFresh struct {
	res              *art.FreshnessResult
	runID, jobID     int64
	runGeneratedAt   time.Time
	snapshotFinished time.Time
}

// discoEnv is the applied state of one environment.
type discoEnv struct {
	env         *environment
	manifest    *art.Manifest
	runs        []*discoRun // oldest first
	last        map[string]*discoExec
	lastSuccess map[string]*discoExec
	catalog     *art.Catalog
	fresh       map[string]*discoFresh
	updatedAt   time.Time
	// testsOf lists the tests attached to each node, in manifest order.
	testsOf map[string][]*art.Node
}

// compileOnly are dbt commands (args.which) whose results list nodes that were compiled, not run.
var compileOnly = map[string]bool{"compile": true, "generate": true, "docs": true, "list": true, "ls": true, "parse": true, "show": true}

// executed reports whether a result is an execution dbt Cloud shows in executionInfo.
func executed(command string, r *art.NodeResult) bool {
	if compileOnly[strings.ToLower(command)] {
		return false
	}
	if r.Status == "success" && (strings.HasPrefix(r.UniqueID, "test.") || strings.HasPrefix(r.UniqueID, "unit_test.")) {
		return false
	}
	hasExec := false
	for _, t := range r.Timing {
		if t.Name == "execute" && !t.CompletedAt.IsZero() {
			hasExec = true
		}
	}
	return !(r.Status == "success" && r.Message == "" && !hasExec)
}

// discoveryCache keeps what each ended run contributed: a run's artifacts never change once it has ended, so each
// is read once, not on every query.
type discoveryCache struct {
	mu   sync.Mutex
	runs map[int64]*discoRun
}

func (c *discoveryCache) get(id int64) *discoRun {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.runs[id]
}

func (c *discoveryCache) put(r *discoRun) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.runs == nil {
		c.runs = map[int64]*discoRun{}
	}
	c.runs[r.id] = r
}

// stepFile is one artifact a finished step wrote, taken under e.mu and parsed after.
type stepFile struct {
	path string
	body []byte
}

type runFiles struct {
	r     discoRun
	files []stepFile
}

// discoveryEnv builds the applied state of environment envID from the runs that have ended. ok is false when the
// environment does not exist or belongs to another account.
func (e *Emulator) discoveryEnv(accountID, envID int64) (*discoEnv, bool, error) {
	m, err := parsedManifest()
	if err != nil {
		return nil, false, err
	}
	e.mu.Lock()
	evs := e.advanceLocked(e.clock.Now())
	en := e.envs[envID]
	if en == nil || en.accountID != accountID {
		e.mu.Unlock()
		e.hooks.dispatch(evs)
		return nil, false, nil
	}
	// In run id order; the runs read before come from the cache, the others' files are copied out under the lock
	// and parsed after it.
	var ordered []*discoRun
	var collected []runFiles
	var slots []int
	for _, r := range e.runs {
		if r.envID != envID || !terminal(r.status) {
			continue
		}
		if dr := e.disco.get(r.id); dr != nil {
			ordered = append(ordered, dr)
			continue
		}
		slots = append(slots, len(ordered))
		ordered = append(ordered, nil)
		collected = append(collected, e.collectRunFiles(r))
	}
	e.mu.Unlock()
	e.hooks.dispatch(evs)
	for i := range collected {
		dr, err := parseRun(&collected[i])
		if err != nil {
			return nil, false, err
		}
		e.disco.put(dr)
		ordered[slots[i]] = dr
	}

	d := &discoEnv{env: en, manifest: m, last: map[string]*discoExec{}, lastSuccess: map[string]*discoExec{},
		fresh: map[string]*discoFresh{}, testsOf: map[string][]*art.Node{}}
	for _, n := range m.Nodes {
		if n.Test != nil && n.Test.AttachedNode != "" {
			d.testsOf[n.Test.AttachedNode] = append(d.testsOf[n.Test.AttachedNode], n)
		}
	}
	for _, dr := range ordered {
		d.runs = append(d.runs, dr)
		if dr.finishedAt.After(d.updatedAt) {
			d.updatedAt = dr.finishedAt
		}
		for id, x := range dr.results {
			if cur := d.last[id]; cur == nil || newer(x, cur) {
				d.last[id] = x
			}
			if x.status == "success" || x.status == "pass" {
				if cur := d.lastSuccess[id]; cur == nil || newer(x, cur) {
					d.lastSuccess[id] = x
				}
			}
		}
		// The newest run wins the catalog and each source's freshness: runs are in id order, which is the order
		// they were created; among ended runs the one that finished last is taken.
		if dr.catalog != nil && (d.catalog == nil || !dr.finishedAt.Before(d.catalogAt())) {
			d.catalog = dr.catalog
		}
		if dr.sources != nil {
			for j := range dr.sources.Results {
				fr := &dr.sources.Results[j]
				if cur := d.fresh[fr.UniqueID]; cur == nil || !dr.finishedAt.Before(cur.snapshotFinished) {
					d.fresh[fr.UniqueID] = &discoFresh{res: fr, runID: dr.id, jobID: dr.jobID,
						runGeneratedAt: dr.sources.Metadata.GeneratedAt, snapshotFinished: dr.finishedAt}
				}
			}
		}
	}
	return d, true, nil
}

func (d *discoEnv) catalogAt() time.Time {
	for i := len(d.runs) - 1; i >= 0; i-- {
		if d.runs[i].catalog == d.catalog {
			return d.runs[i].finishedAt
		}
	}
	return time.Time{}
}

// collectRunFiles copies out the run_results, catalog and sources files of each finished step of r; e.mu is held.
func (e *Emulator) collectRunFiles(r *run) runFiles {
	rf := runFiles{r: discoRun{id: r.id, jobID: r.jobID, envID: r.envID, projectID: r.projectID, accountID: r.accountID,
		status: r.status, finishedAt: r.finishedAt, dbtVersion: r.dbtVersion}}
	for _, s := range r.steps {
		files := e.stepFiles(r, s)
		for _, p := range []string{"run_results.json", "catalog.json", "sources.json"} {
			if f, ok := files[p]; ok {
				rf.files = append(rf.files, stepFile{path: p, body: f()})
			}
		}
	}
	return rf
}

func parseRun(rf *runFiles) (*discoRun, error) {
	dr := rf.r
	dr.results = map[string]*discoExec{}
	for _, f := range rf.files {
		name := fmt.Sprintf("run %d %s", dr.id, f.path)
		switch f.path {
		case "run_results.json":
			rr, err := art.ReadRunResults(bytes.NewReader(f.body), art.WithName(name))
			if err != nil {
				return nil, fmt.Errorf("emulator: discovery: %w", err)
			}
			for i := range rr.Results {
				res := &rr.Results[i]
				if res.UniqueID == "" || !executed(rr.Command, res) {
					continue
				}
				x := &discoExec{runID: dr.id, jobID: dr.jobID, status: res.Status, message: res.Message, failures: res.Failures,
					executionTime: res.ExecutionTime, generatedAt: rr.Metadata.GeneratedAt, runFinishedAt: dr.finishedAt,
					runElapsed: rr.ElapsedTime, compiledCode: res.CompiledCode}
				for _, t := range res.Timing {
					switch t.Name {
					case "compile":
						x.compileStartedAt, x.compileCompletedAt = t.StartedAt, t.CompletedAt
					case "execute":
						x.executeStartedAt, x.executeCompletedAt = t.StartedAt, t.CompletedAt
					}
				}
				if cur := dr.results[res.UniqueID]; cur == nil || newer(x, cur) {
					dr.results[res.UniqueID] = x
				}
			}
		case "catalog.json":
			c, err := art.ReadCatalog(bytes.NewReader(f.body), art.WithName(name))
			if err != nil {
				return nil, fmt.Errorf("emulator: discovery: %w", err)
			}
			dr.catalog = c
		case "sources.json":
			s, err := art.ReadSources(bytes.NewReader(f.body), art.WithName(name))
			if err != nil {
				return nil, fmt.Errorf("emulator: discovery: %w", err)
			}
			dr.sources = s
		}
	}
	return &dr, nil
}

// nodesOf returns the manifest nodes of the given resource types, sorted by unique id so pages are stable.
func (d *discoEnv) nodesOf(types ...art.ResourceType) []*art.Node {
	want := map[art.ResourceType]bool{}
	for _, t := range types {
		want[t] = true
	}
	var out []*art.Node
	for _, n := range d.manifest.Nodes {
		if want[n.ResourceType] {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UniqueID < out[j].UniqueID })
	return out
}

// runOf finds the run with id runID among the environment's ended runs.
func (d *discoEnv) runOf(runID int64) *discoRun {
	for _, r := range d.runs {
		if r.id == runID {
			return r
		}
	}
	return nil
}

// latestRunOfJob is the newest ended run of jobID, which a job query without runId reads.
func (d *discoEnv) latestRunOfJob(jobID int64) *discoRun {
	var best *discoRun
	for _, r := range d.runs {
		if r.jobID == jobID && (best == nil || r.id > best.id) {
			best = r
		}
	}
	return best
}

// historyOf returns the executions of uniqueID, newest first, at most n (all when n <= 0).
func (d *discoEnv) historyOf(uniqueID string, n int) []*discoExec {
	var out []*discoExec
	for _, r := range d.runs {
		if x := r.results[uniqueID]; x != nil {
			out = append(out, x)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return newer(out[i], out[j]) })
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}
