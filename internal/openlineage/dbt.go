package openlineage

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dbtlink/dbtlink/artifacts"
)

// CloudRun is the finished dbt Cloud run the events describe.
type CloudRun struct {
	// Host is the dbt Cloud host (cloud.getdbt.com, an account prefix
	// host, an emulator's); it keeps run ids of different hosts apart.
	Host      string
	AccountID int64
	ProjectID int64
	JobID     int64
	RunID     int64
	// ConnectionID is the environment's warehouse connection, used in the
	// fallback dataset namespace (see DatasetNamespace); 0 when unknown.
	ConnectionID int64
	// WarehouseNamespace is the dataset namespace built from the
	// connection's details (ConnectionNamespace) and WarehouseAdapter the
	// connection's adapter; "" when they could not be read. It names the
	// datasets of steps whose manifest has that adapter.
	WarehouseNamespace, WarehouseAdapter string
	// Outcome is "success", "error" or "cancelled".
	Outcome string
	// StatusMessage is dbt Cloud's reason for an error or cancellation.
	StatusMessage string
	StartedAt     time.Time
	FinishedAt    time.Time
}

// The run outcomes CloudRun.Outcome takes.
const (
	OutcomeSuccess   = "success"
	OutcomeError     = "error"
	OutcomeCancelled = "cancelled"
)

// Step is one dbt command of the run with the artifacts it wrote.
type Step struct {
	// Index is dbt Cloud's 1-based step index.
	Index int
	Name  string
	// StartedAt and FinishedAt stand in for nodes without timings.
	StartedAt, FinishedAt time.Time
	Manifest              *artifacts.Manifest
	Results               *artifacts.RunResults
}

// Input is everything Build needs: the run, its dbt steps in order, and the
// catalog of the run (nil when it generated none).
type Input struct {
	Run     CloudRun
	Steps   []Step
	Catalog *artifacts.Catalog
}

// ColumnRef is one column of a manifest node, or of a relation the
// manifest does not know (UniqueID empty, Relation its dotted name as the
// SQL writes it).
type ColumnRef struct {
	UniqueID string
	Relation string
	Column   string
}

// ColumnLineager computes which input columns each column of a model is
// computed from, given the step's manifest and the run's catalog (nil when
// it has none). It is the hook for column-level lineage; SQLColumnLineage
// implements it from the compiled SQL with package sqllineage. Without
// one, outputs carry no columnLineage facet, because a guess would be
// worse than nothing. A returned error leaves the facet out for that model
// and is counted in Result.Warnings.
type ColumnLineager interface {
	ColumnLineage(m *artifacts.Manifest, catalog *artifacts.Catalog, model *artifacts.Node) (map[string][]ColumnRef, error)
}

// Options shape the events.
type Options struct {
	// Producer is the events' producer URI (default DefaultProducer).
	Producer string
	// JobNamespace is the namespace of every job (default "dbt", as dbt-ol).
	JobNamespace string
	// DatasetNamespace, if set, is the namespace of every dataset instead
	// of the one built from the connection (see ConnectionNamespace and
	// DatasetNamespace).
	DatasetNamespace string
	// Warehouses, if set, remembers connections' namespaces across runs for
	// FromCloud; nil looks the connection up once per run.
	Warehouses *Warehouses
	// ColumnLineage, if set, fills the columnLineage facet of outputs.
	ColumnLineage ColumnLineager
	// Now stamps the wrapper events of runs without start or finish times
	// (default time.Now).
	Now func() time.Time
}

// DefaultProducer is the producer of dbtlink's events.
const DefaultProducer = "https://github.com/dbtlink/dbtlink"

// DefaultJobNamespace is the job namespace when none is configured: the
// default of the OpenLineage dbt integration's OPENLINEAGE_NAMESPACE.
const DefaultJobNamespace = "dbt"

func (o Options) withDefaults() Options {
	if o.Producer == "" {
		o.Producer = DefaultProducer
	}
	if o.JobNamespace == "" {
		o.JobNamespace = DefaultJobNamespace
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Result is the events of one run, in the order to send them: the dbt
// Cloud run's START, then per dbt node START and its COMPLETE or FAIL,
// then per tested dataset a TEST job, then the dbt Cloud run's COMPLETE,
// FAIL or ABORT.
type Result struct {
	Events []RunEvent
	// Warnings say what was left out and why (a column lineage error, a
	// step without run results).
	Warnings []string
}

// runNamespace seeds the deterministic run ids: the same dbt Cloud run
// always gives the same ids, so a delivery retried after a crash repeats
// events rather than inventing new runs.
var runNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/dbtlink/dbtlink/openlineage"))

func (r CloudRun) runID(parts ...string) string {
	key := fmt.Sprintf("%s/%d/%d", r.Host, r.AccountID, r.RunID)
	if len(parts) > 0 {
		key += "/" + strings.Join(parts, "/")
	}
	return uuid.NewSHA1(runNamespace, []byte(key)).String()
}

// ParentJobName is the job name of a dbt Cloud job's runs, which parent the
// per-model jobs. It follows dbt Cloud's own path to the job, so it is
// stable across renames and unique across accounts of a host.
func ParentJobName(accountID, jobID int64) string {
	return fmt.Sprintf("dbt-cloud/accounts/%d/jobs/%d", accountID, jobID)
}

// Builder makes the events of one run step by step, so that a caller
// reading artifacts from dbt Cloud holds one step's manifest at a time.
type Builder struct {
	run     CloudRun
	catalog *artifacts.Catalog
	opts    Options
	parent  ParentRunFacet
	wrapper Job
	res     Result
	// fallbacks are the dbtlink-made namespaces used, by adapter, for the
	// warning that asks for the real one.
	fallbacks map[string]string
	// lineageErrs counts the models without column lineage because the
	// ColumnLineager failed; firstLineageErr says why for the first.
	lineageErrs     int
	firstLineageErr string
}

// NewBuilder starts the events of run: the dbt Cloud run's START. catalog
// (nil when the run generated none) gives column types.
func NewBuilder(run CloudRun, catalog *artifacts.Catalog, opts Options) *Builder {
	opts = opts.withDefaults()
	b := &Builder{run: run, catalog: catalog, opts: opts, fallbacks: map[string]string{}}
	parentJob := ParentJob{Namespace: opts.JobNamespace, Name: ParentJobName(run.AccountID, run.JobID)}
	parentRun := ParentRun{RunID: run.runID()}
	b.parent = ParentRunFacet{Facet: b.facet(parentSchema), Run: parentRun, Job: parentJob,
		Root: &ParentRef{Run: parentRun, Job: parentJob}}
	b.wrapper = Job{Namespace: parentJob.Namespace, Name: parentJob.Name, Facets: JobFacets{JobType: b.jobType("JOB")}}
	start := run.StartedAt
	if start.IsZero() {
		start = cmp.Or(run.FinishedAt, opts.Now())
	}
	b.add(RunEvent{EventType: Start, EventTime: start, Run: Run{RunID: parentRun.RunID}, Job: b.wrapper})
	return b
}

// AddStep adds the events of one dbt step; steps go in run order.
func (b *Builder) AddStep(s Step) { b.step(s) }

// Warnf records that something was left out of the events.
func (b *Builder) Warnf(format string, args ...any) { b.warnf(format, args...) }

// Finish adds the dbt Cloud run's COMPLETE, FAIL or ABORT and returns the
// events.
func (b *Builder) Finish() Result {
	r := b.run
	end := r.FinishedAt
	if end.IsZero() {
		end = b.opts.Now()
	}
	final := RunEvent{EventType: Complete, EventTime: end, Run: Run{RunID: b.parent.Run.RunID}, Job: b.wrapper}
	switch r.Outcome {
	case OutcomeError:
		final.EventType = Fail
		msg := cmp.Or(r.StatusMessage, fmt.Sprintf("dbt Cloud run %d failed", r.RunID))
		final.Run.Facets.ErrorMessage = &ErrorMessageFacet{Facet: b.facet(errorMessageSchema), Message: msg, ProgrammingLanguage: "SQL"}
	case OutcomeCancelled:
		final.EventType = Abort
	}
	b.add(final)
	switch b.lineageErrs {
	case 0:
	case 1:
		b.warnf("no column lineage for %s", b.firstLineageErr)
	default:
		b.warnf("no column lineage for %d models; the first, %s", b.lineageErrs, b.firstLineageErr)
	}
	for _, a := range slices.Sorted(maps.Keys(b.fallbacks)) {
		b.warnf("dataset namespace %q is dbtlink's own for adapter %s, as the connection's details did not name the warehouse: set the OpenLineage dataset namespace to the warehouse's (e.g. postgres://host:5432) so that it matches other producers",
			b.fallbacks[a], a)
	}
	return b.res
}

// Build turns a finished run's artifacts into events the way the
// OpenLineage dbt integration (openlineage-dbt and its dbt Cloud
// processor) does; see the package documentation for where it differs.
func Build(in Input, opts Options) Result {
	b := NewBuilder(in.Run, in.Catalog, opts)
	for _, s := range in.Steps {
		b.AddStep(s)
	}
	return b.Finish()
}

func (b *Builder) facet(schema string) Facet {
	return Facet{Producer: b.opts.Producer, SchemaURL: schema}
}

func (b *Builder) jobType(kind string) *JobTypeFacet {
	return &JobTypeFacet{Facet: b.facet(jobTypeSchema), ProcessingType: "BATCH", Integration: "DBT", JobType: kind}
}

func (b *Builder) add(ev RunEvent) {
	ev.Producer, ev.SchemaURL = b.opts.Producer, RunEventSchemaURL
	ev.EventTime = ev.EventTime.UTC()
	b.res.Events = append(b.res.Events, ev)
}

func (b *Builder) warnf(format string, args ...any) {
	b.res.Warnings = append(b.res.Warnings, fmt.Sprintf(format, args...))
}

// stepContext is what the nodes of one step share.
type stepContext struct {
	step      Step
	command   string
	joined    *artifacts.Joined
	namespace string
	adapter   string
	runFacets RunFacets
}

// commands the integration makes events for; dbt retry re-runs nodes of
// any of them.
var executes = map[string]bool{"run": true, "build": true, "seed": true, "snapshot": true, "retry": true}
var tests = map[string]bool{"test": true, "build": true, "retry": true}

func (b *Builder) step(s Step) {
	if s.Results == nil || s.Manifest == nil {
		b.warnf("step %d (%s): no manifest.json or run_results.json, so no events for its nodes", s.Index, s.Name)
		return
	}
	command := cmp.Or(s.Results.Command, "run")
	if !executes[command] && !tests[command] {
		return // compile, docs generate, source freshness, ls...: nothing built or tested
	}
	md := s.Manifest.Metadata
	sc := &stepContext{step: s, command: command, joined: artifacts.Join(s.Manifest, nil, b.catalog, nil),
		adapter: md.AdapterType}
	sc.namespace = b.namespace(md.AdapterType)
	sc.runFacets = b.runFacets(s)
	if executes[command] {
		for i := range s.Results.Results {
			b.execution(sc, &s.Results.Results[i])
		}
	}
	if tests[command] {
		b.tests(sc)
	}
}

// namespace names the datasets of a step run by adapter: the override,
// else the connection's warehouse when it is that adapter's, else
// dbtlink's fallback (remembered for the warning).
func (b *Builder) namespace(adapter string) string {
	switch r := b.run; {
	case b.opts.DatasetNamespace != "":
		return b.opts.DatasetNamespace
	case r.WarehouseNamespace != "" && (r.WarehouseAdapter == "" || r.WarehouseAdapter == adapter || adapter == ""):
		return r.WarehouseNamespace
	}
	ns := DatasetNamespace(adapter, "", b.run.AccountID, b.run.ConnectionID)
	if NeedsOverride(adapter, "") {
		b.fallbacks[adapter] = ns
	}
	return ns
}

// runFacets are the facets of every node run of a step.
func (b *Builder) runFacets(s Step) RunFacets {
	parent := b.parent
	f := RunFacets{Parent: &parent}
	md := s.Results.Metadata
	if v := cmp.Or(md.DBTVersion, s.Manifest.Metadata.DBTVersion); v != "" {
		f.ProcessingEngine = &ProcessingEngineFacet{Facet: b.facet(processingEngSchema), Name: "dbt", Version: v}
	}
	if id := cmp.Or(md.InvocationID, s.Manifest.Metadata.InvocationID); id != "" {
		if _, err := uuid.Parse(id); err == nil {
			f.DbtRun = &DbtRunFacet{Facet: b.facet(dbtRunFacetSchemaURL), InvocationID: id,
				ProjectName: s.Manifest.Metadata.ProjectName, DbtRuntime: "cloud", AccountID: strconv.FormatInt(b.run.AccountID, 10)}
		}
	}
	return f
}

// jobKinds maps the resource types that build a relation to their jobType
// and job name suffix (the integration's: models none, snapshots
// ".snapshot"; seeds, which it leaves out, ".seed").
var jobKinds = map[artifacts.ResourceType]struct{ kind, suffix string }{
	artifacts.Model:    {"MODEL", ""},
	artifacts.Snapshot: {"SNAPSHOT", ".snapshot"},
	artifacts.Seed:     {"SEED", ".seed"},
}

// outcome maps a node's status to the event that ends its run; skipped
// nodes (and statuses of nodes that did not run) get none.
func outcome(status string) (EventType, bool) {
	switch status {
	case "success", "partial success", "no-op", "reused", "pass", "warn":
		return Complete, true
	case "error", "runtime error", "fail":
		return Fail, true
	}
	return "", false
}

func (b *Builder) execution(sc *stepContext, res *artifacts.NodeResult) {
	jn := sc.joined.Node(res.UniqueID)
	if jn == nil {
		return
	}
	kind, ok := jobKinds[jn.ResourceType]
	if !ok {
		return
	}
	end, ok := outcome(res.Status)
	if !ok {
		return
	}
	started, completed := timings(res, sc.step, b.run)
	name := jobName(jn.Node, sc.command, kind.suffix, ".build.run")
	job := Job{Namespace: b.opts.JobNamespace, Name: name, Facets: JobFacets{JobType: b.jobType(kind.kind)}}
	if sql := cmp.Or(jn.CompiledCode, res.CompiledCode); sql != "" {
		job.Facets.SQL = &SQLFacet{Facet: b.facet(sqlSchema), Query: sql, Dialect: sc.adapter}
	}
	run := Run{RunID: b.run.runID(strconv.Itoa(sc.step.Index), res.UniqueID), Facets: sc.runFacets}
	if q := queryID(sc.adapter, res.AdapterResponse); q != "" {
		run.Facets.ExternalQuery = &ExternalQueryFacet{Facet: b.facet(externalQuerySchema), ExternalQueryID: q, Source: sc.namespace}
	}
	inputs := b.inputs(sc, jn.Node)
	output := b.output(sc, jn, res)
	b.add(RunEvent{EventType: Start, EventTime: started, Run: run, Job: job, Inputs: inputs, Outputs: []OutputDataset{output}})
	final := RunEvent{EventType: end, EventTime: completed, Run: run, Job: job, Inputs: inputs}
	if end == Fail {
		lang := "SQL"
		if strings.EqualFold(jn.Language, "python") {
			lang = "Python"
		}
		final.Run.Facets.ErrorMessage = &ErrorMessageFacet{Facet: b.facet(errorMessageSchema),
			Message: cmp.Or(res.Message, res.RawStatus, "dbt reported an error"), ProgrammingLanguage: lang}
	} else {
		final.Outputs = []OutputDataset{output}
	}
	b.add(final)
}

// timings are a node's execute timing, else its compile timing, else the
// step's times, else the run's.
func timings(res *artifacts.NodeResult, s Step, r CloudRun) (time.Time, time.Time) {
	for _, name := range []string{"execute", "compile"} {
		for _, t := range res.Timing {
			if t.Name == name && !t.StartedAt.IsZero() && !t.CompletedAt.IsZero() {
				return t.StartedAt, t.CompletedAt
			}
		}
	}
	start := cmp.Or(s.StartedAt, r.StartedAt, r.FinishedAt)
	return start, cmp.Or(s.FinishedAt, r.FinishedAt, start)
}

// jobName is the integration's job name: database.schema.<unique id
// without its resource type>, plus the suffix of the command.
func jobName(n *artifacts.Node, command, suffix, buildSuffix string) string {
	id := n.UniqueID
	if prefix := string(n.ResourceType) + "."; n.ResourceType != artifacts.Source && strings.HasPrefix(id, prefix) {
		id = strings.TrimPrefix(id, prefix)
	}
	if command == "build" {
		if suffix == "" {
			suffix = buildSuffix
		} else {
			suffix = ".build" + suffix
		}
	}
	return joinName(n.Database, n.Schema, id) + suffix
}

func joinName(parts ...string) string {
	return strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), ".")
}

// datasetName is the relation's database.schema.identifier, the name the
// OpenLineage naming spec gives warehouse tables.
func datasetName(n *artifacts.Node) string {
	if len(n.RelationParts) >= 2 {
		return joinName(n.RelationParts...)
	}
	return joinName(n.Database, n.Schema, cmp.Or(n.Alias, n.Name))
}

// queryID is the warehouse's query id from the adapter response: BigQuery
// calls it job_id, others query_id; Databricks writes "N/A" for none.
func queryID(adapter string, resp map[string]any) string {
	key := "query_id"
	if adapter == "bigquery" {
		key = "job_id"
	}
	s, _ := resp[key].(string)
	if strings.EqualFold(s, "n/a") {
		return ""
	}
	return s
}

// inputs are the relations a node depends on. An ephemeral model has no
// relation, so its own inputs stand in for it.
func (b *Builder) inputs(sc *stepContext, n *artifacts.Node) []InputDataset {
	var out []InputDataset
	seen := map[string]bool{}
	var walk func(n *artifacts.Node)
	walk = func(n *artifacts.Node) {
		for _, id := range n.DependsOnNodes {
			if seen[id] {
				continue
			}
			seen[id] = true
			dep := sc.joined.Node(id)
			if dep == nil {
				continue
			}
			switch {
			case dep.Ephemeral():
				walk(dep.Node)
			case dep.ResourceType == artifacts.Source || jobKinds[dep.ResourceType].kind != "":
				out = append(out, InputDataset{Namespace: sc.namespace, Name: datasetName(dep.Node), Facets: b.datasetFacets(sc, dep)})
			}
		}
	}
	walk(n)
	return out
}

func (b *Builder) datasetFacets(sc *stepContext, jn *artifacts.JoinedNode) DatasetFacets {
	f := DatasetFacets{DataSource: &DataSourceFacet{Facet: b.facet(dataSourceSchema), Name: sc.namespace}}
	if isURI(sc.namespace) {
		f.DataSource.URI = sc.namespace
	}
	if jn.Description != "" {
		f.Documentation = &DocumentationFacet{Facet: b.facet(documentationSchema), Description: jn.Description}
	}
	if len(jn.Columns) > 0 {
		s := &SchemaFacet{Facet: b.facet(schemaFacetSchema)}
		for _, c := range jn.Columns {
			field := SchemaField{Name: c.Name, Type: c.Type()}
			if c.Column != nil {
				field.Description = c.Column.Description
			}
			s.Fields = append(s.Fields, field)
		}
		f.Schema = s
	}
	return f
}

// isURI reports whether a namespace is an absolute URI (scheme://...):
// "bigquery" is a namespace but not one.
func isURI(s string) bool {
	i := strings.Index(s, "://")
	return i > 0 && i+3 < len(s)
}

func (b *Builder) output(sc *stepContext, jn *artifacts.JoinedNode, res *artifacts.NodeResult) OutputDataset {
	out := OutputDataset{Namespace: sc.namespace, Name: datasetName(jn.Node), Facets: b.datasetFacets(sc, jn)}
	if b.opts.ColumnLineage != nil && jn.ResourceType == artifacts.Model {
		fields, err := b.opts.ColumnLineage.ColumnLineage(sc.step.Manifest, b.catalog, jn.Node)
		if err != nil {
			// One warning for them all (Finish): a project's many
			// unreadable models would drown the other warnings.
			if b.lineageErrs++; b.lineageErrs == 1 {
				b.firstLineageErr = fmt.Sprintf("%s: %v", jn.UniqueID, err)
			}
		} else if len(fields) > 0 {
			cl := &ColumnLineageFacet{Facet: b.facet(columnLineageSchema), Fields: map[string]ColumnLineageField{}}
			for col, refs := range fields {
				var ins []ColumnLineageInput
				for _, r := range refs {
					if src := sc.joined.Node(r.UniqueID); src != nil {
						ins = append(ins, ColumnLineageInput{Namespace: sc.namespace, Name: datasetName(src.Node), Field: r.Column})
					} else if r.UniqueID == "" && r.Relation != "" {
						ins = append(ins, ColumnLineageInput{Namespace: sc.namespace, Name: r.Relation, Field: r.Column})
					}
				}
				if ins == nil {
					ins = []ColumnLineageInput{} // the schema requires the list, even empty
				}
				cl.Fields[col] = ColumnLineageField{InputFields: ins}
			}
			out.Facets.ColumnLineage = cl
		}
	}
	rows, size := outputStats(jn.Table, res.AdapterResponse)
	if rows > 0 || size > 0 {
		out.OutputFacets.OutputStatistics = &OutputStatisticsFacet{Facet: b.facet(outputStatsSchema), RowCount: rows, Size: size}
	}
	return out
}

// outputStats reads rows and bytes from the catalog's stats (BigQuery
// num_rows/num_bytes, Snowflake row_count/bytes, Redshift rows) or else the
// adapter response (rows_affected, bytes_processed).
func outputStats(t *artifacts.CatalogTable, resp map[string]any) (rows, size int64) {
	if t != nil {
		for _, s := range t.Stats {
			switch s.ID {
			case "num_rows", "row_count", "rows":
				rows = cmp.Or(rows, toInt(s.Value))
			case "num_bytes", "bytes":
				size = cmp.Or(size, toInt(s.Value))
			}
		}
	}
	rows = cmp.Or(rows, toInt(resp["rows_affected"]))
	size = cmp.Or(size, toInt(resp["bytes_processed"]))
	return max(rows, 0), max(size, 0)
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case float64:
		return int64(x)
	case int:
		return int64(x)
	case int64:
		return x
	case string:
		n, _ := strconv.ParseFloat(x, 64)
		return int64(n)
	}
	return 0
}

// tests makes one TEST job per tested dataset of the step, as the
// integration does: its input carries the dataQualityAssertions facet with
// one assertion per test. The job completes whatever the tests found; a
// failed test is an assertion with success false.
func (b *Builder) tests(sc *stepContext) {
	type group struct {
		node       *artifacts.JoinedNode
		assertions []Assertion
		start, end time.Time
	}
	groups := map[string]*group{}
	var order []string
	for i := range sc.step.Results.Results {
		res := &sc.step.Results.Results[i]
		tn := sc.joined.Node(res.UniqueID)
		if tn == nil || tn.ResourceType != artifacts.Test || tn.Test == nil || res.Status == "skipped" {
			continue
		}
		target := testedNode(sc.joined, tn.Node)
		if target == nil {
			b.warnf("%s: the node it tests is not in the manifest, so it is left out", res.UniqueID)
			continue
		}
		g := groups[target.UniqueID]
		if g == nil {
			g = &group{node: target}
			groups[target.UniqueID] = g
			order = append(order, target.UniqueID)
		}
		started, completed := timings(res, sc.step, b.run)
		if g.start.IsZero() || started.Before(g.start) {
			g.start = started
		}
		if completed.After(g.end) {
			g.end = completed
		}
		g.assertions = append(g.assertions, Assertion{
			Assertion: cmp.Or(tn.Test.Name, tn.Name), Success: res.Status == "pass" || res.Status == "success",
			Column: tn.Test.ColumnName, Severity: strings.ToLower(tn.Test.Severity), Name: tn.Name,
		})
	}
	for _, id := range order {
		g := groups[id]
		job := Job{Namespace: b.opts.JobNamespace, Name: jobName(g.node.Node, sc.command, ".test", ".build.test"),
			Facets: JobFacets{JobType: b.jobType("TEST")}}
		run := Run{RunID: b.run.runID(strconv.Itoa(sc.step.Index), "test", id), Facets: sc.runFacets}
		in := []InputDataset{{Namespace: sc.namespace, Name: datasetName(g.node.Node),
			InputFacets: InputDatasetFacets{DataQualityAssertions: &DataQualityAssertionsFacet{Facet: b.facet(dataQualitySchema), Assertions: g.assertions}}}}
		b.add(RunEvent{EventType: Start, EventTime: g.start, Run: run, Job: job, Inputs: in})
		b.add(RunEvent{EventType: Complete, EventTime: g.end, Run: run, Job: job, Inputs: in})
	}
}

// testedNode is the relation a test checks: dbt's attached node, else the
// last model, seed, snapshot or source it depends on (the integration's
// rule).
func testedNode(j *artifacts.Joined, test *artifacts.Node) *artifacts.JoinedNode {
	if id := test.Test.AttachedNode; id != "" {
		if n := j.Node(id); n != nil {
			return n
		}
	}
	var found *artifacts.JoinedNode
	for _, id := range test.DependsOnNodes {
		if n := j.Node(id); n != nil && (n.ResourceType == artifacts.Source || jobKinds[n.ResourceType].kind != "") {
			found = n
		}
	}
	return found
}
