package catalog

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/warehouse"
)

// Service writes crawls and syncs into the store and answers the catalog's
// questions. The CLI (on the local SQLite file) and dbtlink serve share it,
// so both give the same answers.
type Service struct {
	Store *store.Store
	// Now stamps crawls; defaults to time.Now.
	Now func() time.Time
	// Logger receives warnings (a missing catalog.json, ...); nil is silent.
	Logger *slog.Logger
	// AbandonAfter is how long a sync may have been running before a new
	// one takes it for dead with its process and records it as failed
	// (default DefaultAbandonAfter). The server sets it a little above its
	// job timeout, past which no sync of its runs.
	AbandonAfter time.Duration
}

// DefaultAbandonAfter is Service.AbandonAfter's default: a day, far above
// any sync a CLI runs.
const DefaultAbandonAfter = 24 * time.Hour

// abandonStale records the syncs that have been running for longer than
// AbandonAfter as failed; a failure to do so is only a warning.
func (s *Service) abandonStale(ctx context.Context) {
	after := cmp.Or(s.AbandonAfter, DefaultAbandonAfter)
	reason := fmt.Sprintf("abandoned: still running after %s, so the process that ran it must have stopped before it finished", after)
	n, err := s.Store.AbandonSyncs(ctx, s.now().Add(-after), reason)
	switch {
	case err != nil:
		s.warn("could not end abandoned catalog syncs", "err", err)
	case n > 0:
		s.warn("ended abandoned catalog syncs", "count", n, "older_than", after.String())
	}
}

// Progress receives a line per step of a crawl or sync ("read manifest.json
// of run 12 (job 3)"); nil is silent.
type Progress func(step string)

func (p Progress) say(format string, args ...any) {
	if p != nil {
		p(fmt.Sprintf(format, args...))
	}
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) warn(msg string, args ...any) {
	if s.Logger != nil {
		s.Logger.Warn(msg, args...)
	}
}

// Crawl reads every table the warehouse cfg names (with its filter) and
// applies what it found to the catalog: new tables are added, changed ones
// updated, tables no longer there marked removed (kept, with when they were
// last seen). User descriptions are never touched. secret is the password
// ("" for none).
func (s *Service) Crawl(ctx context.Context, cfg warehouse.Config, secret string, progress Progress) (store.Crawl, error) {
	adapter, err := warehouse.Lookup(cfg.Type)
	if err != nil {
		return store.Crawl{}, err
	}
	started, err := s.Store.StartCrawl(ctx, cfg.Name)
	if err != nil {
		return store.Crawl{}, err
	}
	fail := func(err error) (store.Crawl, error) {
		err = withCause(ctx, err)
		if _, ferr := s.Store.FailCrawl(context.WithoutCancel(ctx), started.ID, err.Error()); ferr != nil {
			s.warn("record a failed crawl", "warehouse", cfg.Name, "error", ferr)
		}
		return store.Crawl{}, err
	}
	progress.say("connect to %s", cfg.Redacted())
	conn, err := adapter.Open(ctx, cfg, secret)
	if err != nil {
		return fail(fmt.Errorf("crawl warehouse %s: %w", cfg.Name, err))
	}
	defer conn.Close()
	// The databases the crawl covers are known before it starts, so that a
	// database whose tables were all dropped has them marked removed.
	info, err := conn.Test(ctx)
	if err != nil {
		return fail(fmt.Errorf("crawl warehouse %s: %w", cfg.Name, err))
	}
	var (
		tables    []store.CatalogTable
		databases = map[string]bool{}
		columns   int
	)
	databases[info.CurrentDatabase] = true
	for _, db := range cfg.Databases {
		databases[db] = true
	}
	err = conn.Crawl(ctx, cfg.Filter, func(t warehouse.Table) error {
		databases[t.Database] = true
		tables = append(tables, tableFromCrawl(cfg.Name, t))
		columns += len(t.Columns)
		if len(tables)%5000 == 0 {
			progress.say("read %d tables", len(tables))
		}
		return nil
	})
	if err != nil {
		return fail(fmt.Errorf("crawl warehouse %s: %w", cfg.Name, err))
	}
	progress.say("read %d tables and views with %d columns in %d database(s)", len(tables), columns, len(databases))
	// A stored table counts as dropped only if this crawl covered where it
	// lives: a schema the filter now excludes, or a database not crawled
	// this time, is left as it was.
	admits, err := cfg.Filter.Admitter()
	if err != nil {
		return fail(fmt.Errorf("crawl warehouse %s: %w", cfg.Name, err))
	}
	inScope := func(k store.TableKey) bool {
		return databases[k.Database] && admits(k.Database, k.Schema, k.Name)
	}
	crawl, err := s.Store.ApplyCrawl(ctx, store.ApplyCrawlParams{
		Warehouse: cfg.Name, CrawlID: started.ID, CrawledAt: s.now(), Tables: tables, InScope: inScope,
	})
	if err != nil {
		return fail(err)
	}
	// ApplyCrawl keeps the search documents of what it changed, in its
	// own transaction: nothing more to refresh here.
	progress.say("applied: %d added, %d changed, %d removed", crawl.Added, crawl.Changed, crawl.Removed)
	return crawl, nil
}

func tableFromCrawl(wh string, t warehouse.Table) store.CatalogTable {
	ct := store.CatalogTable{
		TableKey: store.TableKey{Warehouse: wh, Database: t.Database, Schema: t.Schema, Name: t.Name},
		Kind:     string(t.Kind), Comment: t.Comment, Owner: t.Owner, RowEstimate: t.RowEstimate, SizeBytes: t.SizeBytes,
		Columns: make([]store.CatalogColumn, len(t.Columns)),
	}
	for i, c := range t.Columns {
		ct.Columns[i] = store.CatalogColumn{Name: c.Name, Position: c.Position, DataType: c.DataType, Nullable: c.Nullable, Default: c.Default, Comment: c.Comment}
	}
	return ct
}

// CloudSource is a dbt Cloud connection to sync from.
type CloudSource struct {
	// Name is the dbtlink connection's name; scopes are keyed by it.
	Name      string
	AccountID int64
	Client    *dbtcloud.Client
	// Discovery, when set, is where dbt's metadata is read instead of the
	// runs' artifacts (FetchDiscovery); the plan still uses Client.
	Discovery *dbtcloud.DiscoveryClient
}

// SyncOptions tune a sync.
type SyncOptions struct {
	// Plan narrows the projects, environments and jobs of a dbt Cloud sync.
	Plan PlanOptions
	// Warehouse, if set, is the only warehouse whose tables the nodes are
	// matched to; otherwise the scope's warehouse from its last sync, or
	// else the crawled warehouse where most of its relations are found.
	Warehouse string
	// Force syncs even when the inputs are those of the last sync.
	Force bool
	// Source labels the sync in its record ("cli", "schedule", "webhook");
	// default "cli".
	Source string
}

// SyncSkipped is the status of a scope with nothing to read (no completed
// run yet); no sync is recorded for it.
const SyncSkipped = "skipped"

// SyncResult is how the sync of one scope ended.
type SyncResult struct {
	ScopeKey string `json:"scope"`
	// Project and Environment name the dbt Cloud scope; Project alone an
	// upload.
	Project     string `json:"project"`
	Environment string `json:"environment,omitempty"`
	SyncID      int64  `json:"sync_id"`
	// Status is ok, unchanged (the inputs were those of the last sync, so
	// nothing was read), skipped (nothing to read yet) or error.
	Status    string   `json:"status"`
	Error     string   `json:"error,omitempty"`
	Warehouse string   `json:"warehouse,omitempty"`
	Warnings  []string `json:"warnings,omitempty"`
	Report    *Report  `json:"report,omitempty"`
	Nodes     int      `json:"nodes"`
	Tests     int      `json:"tests"`
	Duration  float64  `json:"duration_seconds"`
}

// SyncCloud syncs every environment of a dbt Cloud connection that opts
// select. One environment's failure does not stop the others: each result
// says how its scope ended, and the error is non-nil when any failed.
func (s *Service) SyncCloud(ctx context.Context, src CloudSource, opts SyncOptions, progress Progress) ([]SyncResult, error) {
	progress.say("list projects, environments, jobs and runs of account %d", src.AccountID)
	plans, err := Plan(ctx, src.Client, src.AccountID, opts.Plan)
	if err != nil {
		return nil, fmt.Errorf("sync %s: %w", src.Name, err)
	}
	if len(plans) == 0 {
		return nil, fmt.Errorf("sync %s: no environment of account %d passes the filters (deployment environments only, unless development ones are included)", src.Name, src.AccountID)
	}
	var (
		results []SyncResult
		failed  []string
	)
	for i := range plans {
		p := &plans[i]
		scope := p.Scope(src.Name)
		scope.Fingerprint = src.fingerprint(scope.Fingerprint)
		res := SyncResult{ScopeKey: scope.Key, Project: p.Project.Name, Environment: p.Environment.Name}
		if len(p.Manifests) == 0 {
			// An environment none of whose jobs has completed a run has
			// nothing to read yet: that is not a failure of the sync.
			res.Status = SyncSkipped
			res.Warnings = []string{"no job of this environment has a completed run yet"}
			progress.say("%s / %s: skipped, no completed run yet", p.Project.Name, p.Environment.Name)
			results = append(results, res)
			continue
		}
		started := s.now()
		err := s.syncScope(ctx, &res, scope, opts, progress, func() (*Inputs, BuildOptions, error) {
			progress.say("%s / %s: read artifacts of %d job(s)", p.Project.Name, p.Environment.Name, len(p.Jobs))
			in, err := src.fetch(ctx, *p)
			if err != nil {
				return nil, BuildOptions{}, err
			}
			return in, BuildOptions{AccessURL: p.AccessURL}, nil
		})
		res.Duration = s.now().Sub(started).Seconds()
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s / %s: %v", p.Project.Name, p.Environment.Name, err))
		}
		results = append(results, res)
	}
	if len(failed) > 0 {
		return results, fmt.Errorf("sync %s: %s", src.Name, strings.Join(failed, "; "))
	}
	return results, nil
}

// Upload syncs the uploaded dbt Core artifacts of project name.
func (s *Service) Upload(ctx context.Context, name string, files []UploadFile, opts SyncOptions, progress Progress) (SyncResult, error) {
	if err := validateProjectName(name); err != nil {
		return SyncResult{}, err
	}
	if opts.Source == "" {
		opts.Source = "upload"
	}
	scope := store.CatalogScope{Key: "upload:" + name, Kind: store.ScopeUpload, ProjectName: name}
	res := SyncResult{ScopeKey: scope.Key, Project: name}
	started := s.now()
	var in *Inputs
	// The files are read before anything is recorded: an upload that is
	// not a set of artifacts is refused as bad input, not stored as a
	// failed sync.
	// Files that can be read twice (the CLI's, the server's spooled ones)
	// are hashed first: the same files as last time stop here, without
	// being parsed.
	fp, hashed := fingerprintFiles(files)
	if hashed && !opts.Force {
		if prev, err := s.Store.GetScope(ctx, scope.Key); err == nil && prev.Fingerprint == fp {
			scope.Fingerprint = fp
			err := s.syncScope(ctx, &res, scope, opts, progress, nil)
			res.Duration = s.now().Sub(started).Seconds()
			return res, err
		}
	}
	if !hashed {
		fp = "" // read and hashed together below
	}
	progress.say("read %d file(s)", len(files))
	in, err := inputsFromFiles(files, fp)
	if err != nil {
		return res, &InputError{Err: fmt.Errorf("upload %s: %w", name, err)}
	}
	scope.Fingerprint = in.Fingerprint
	err = s.syncScope(ctx, &res, scope, opts, progress, func() (*Inputs, BuildOptions, error) {
		return in, BuildOptions{}, nil
	})
	res.Duration = s.now().Sub(started).Seconds()
	return res, err
}

// fingerprintFiles is the fingerprint InputsFromFiles would give the files
// (the sha256 of their bytes in order), computed by reading each to its end
// and seeking back; ok is false when a file cannot seek.
func fingerprintFiles(files []UploadFile) (string, bool) {
	h := sha256.New()
	for _, f := range files {
		sk, ok := f.R.(io.Seeker)
		if !ok {
			return "", false
		}
		start, err := sk.Seek(0, io.SeekCurrent)
		if err != nil {
			return "", false
		}
		if _, err := io.Copy(h, f.R); err != nil {
			return "", false
		}
		if _, err := sk.Seek(start, io.SeekStart); err != nil {
			return "", false
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), true
}

// InputError is input the caller must fix (a file that is not an artifact,
// a bad name); the server answers it with 400.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

func validateProjectName(name string) error {
	if name == "" {
		return &InputError{Err: errors.New("the project name is empty: name the project the artifacts belong to (--project NAME)")}
	}
	if len(name) > 128 || strings.ContainsAny(name, ":/\\\x00\n") {
		return &InputError{Err: fmt.Errorf("project name %q: use at most 128 characters, without ':', '/', '\\' or newlines", name)}
	}
	return nil
}

// syncScope runs one scope's sync: skip it when its inputs are those of the
// last sync, else read them (read), build the snapshot, match it and write
// it with its search documents in one transaction. The sync is recorded
// with its outcome and report.
func (s *Service) syncScope(ctx context.Context, res *SyncResult, scope store.CatalogScope, opts SyncOptions, progress Progress, read func() (*Inputs, BuildOptions, error)) error {
	source := opts.Source
	if source == "" {
		source = "cli"
	}
	prev, err := s.Store.GetScope(ctx, scope.Key)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return s.failed(res, err)
	case !opts.Force && scope.Fingerprint != "" && prev.Fingerprint == scope.Fingerprint:
		sync, err := s.Store.StartSync(ctx, scope.Key, source)
		if err != nil {
			return s.failed(res, err)
		}
		if _, err := s.Store.FinishSync(ctx, sync.ID, store.SyncUnchanged, "", nil); err != nil {
			return s.failed(res, err)
		}
		res.SyncID, res.Status, res.Warehouse = sync.ID, store.SyncUnchanged, prev.Warehouse
		progress.say("%s: unchanged since the last sync (same runs), nothing read", scope.Key)
		return nil
	}
	s.abandonStale(ctx)
	sync, err := s.Store.StartSync(ctx, scope.Key, source)
	if err != nil {
		return s.failed(res, err)
	}
	res.SyncID = sync.ID
	finish := func(status string, syncErr error, rep *Report) error {
		var body []byte
		if rep != nil {
			body, _ = json.Marshal(rep)
		}
		msg := ""
		if syncErr != nil {
			syncErr = withCause(ctx, syncErr)
			msg = syncErr.Error()
		}
		if _, err := s.Store.FinishSync(context.WithoutCancel(ctx), sync.ID, status, msg, body); err != nil && syncErr == nil {
			syncErr = err
		}
		if syncErr != nil {
			return s.failed(res, syncErr)
		}
		res.Status = status
		return nil
	}
	in, bopts, err := read()
	if err != nil {
		return finish(store.SyncError, err, nil)
	}
	res.Warnings = in.Warnings
	for _, w := range in.Warnings {
		progress.say("warning: %s", w)
	}
	md := in.Manifest.Metadata
	scope.AdapterType, scope.DbtVersion, scope.ManifestGeneratedAt = md.AdapterType, md.DBTVersion, md.GeneratedAt
	if scope.ProjectName == "" {
		scope.ProjectName = md.ProjectName
	}
	progress.say("%s: build the catalog of %d manifest entries", scope.Key, len(in.Manifest.Nodes))
	snap, err := BuildSnapshot(scope, in, bopts)
	if err != nil {
		return finish(store.SyncError, err, nil)
	}
	wh := opts.Warehouse
	if wh == "" && prev.Warehouse != "" {
		wh = prev.Warehouse
	}
	rep, wh, err := s.match(ctx, md.AdapterType, snap.Nodes, wh, opts.Warehouse != "")
	if err != nil {
		return finish(store.SyncError, err, nil)
	}
	snap.Scope.Warehouse = wh
	// Column lineage is parsed and resolved while the snapshot is written
	// (column_lineage.go): its CPU time then overlaps the database's, on
	// PostgreSQL the server's and on SQLite the other core's. write waits
	// for it before it commits.
	resolve := s.columnLineage(ctx, in, snap.Nodes)
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	type lineageResult struct {
		cl  store.ColumnLineage
		rep *ColumnLineageReport
	}
	resolved := make(chan lineageResult, 1)
	go func() {
		cl, r := resolve(lctx)
		resolved <- lineageResult{cl, r}
	}()
	lineage := func() store.ColumnLineage {
		r := <-resolved
		rep.ColumnLineage = r.rep
		return r.cl
	}
	res.Warehouse, res.Report, res.Nodes, res.Tests = wh, &rep, len(snap.Nodes), len(snap.Tests)
	progress.say("%s: matched %d of %d relations to tables of warehouse %q (%d missing, %d unclaimed tables)",
		scope.Key, rep.Counts.Matched, rep.Counts.Relations, wh, rep.Counts.Missing, rep.Counts.Unclaimed)
	if err := s.write(ctx, snap, prev.ID, lineage); err != nil {
		return finish(store.SyncError, err, &rep)
	}
	progress.say("%s: stored %d nodes and %d tests", scope.Key, len(snap.Nodes), len(snap.Tests))
	return finish(store.SyncOK, nil, &rep)
}

func (s *Service) failed(res *SyncResult, err error) error {
	res.Status, res.Error = store.SyncError, err.Error()
	return err
}

// match pairs the nodes with the tables of warehouse wh, or, when wh is
// empty, of the crawled warehouse that holds most of their relations.
// exact says wh was asked for by the user, so it must exist.
func (s *Service) match(ctx context.Context, adapter string, nodes []store.CatalogNode, wh string, exact bool) (Report, string, error) {
	refs, err := s.Store.CatalogTableKeys(ctx)
	if err != nil {
		return Report{}, "", err
	}
	byWarehouse := map[string][]TableCandidate{}
	for _, r := range refs {
		if r.Removed {
			continue
		}
		byWarehouse[r.Warehouse] = append(byWarehouse[r.Warehouse], TableCandidate{ID: r.ID, Database: r.Database, Schema: r.Schema, Name: r.Name})
	}
	if wh != "" {
		if _, ok := byWarehouse[wh]; !ok && exact {
			return Report{}, "", &InputError{Err: fmt.Errorf("warehouse %q has no crawled tables: crawl it first (dbtlink warehouse crawl %s)", wh, wh)}
		}
		if _, ok := byWarehouse[wh]; ok || exact {
			return Match(adapter, nodes, byWarehouse[wh]), wh, nil
		}
	}
	names := make([]string, 0, len(byWarehouse))
	for name := range byWarehouse {
		names = append(names, name)
	}
	slices.Sort(names)
	if len(names) == 0 {
		// Nothing crawled yet: the dbt metadata is kept all the same, and
		// the report lists every relation as missing.
		return Match(adapter, nodes, nil), "", nil
	}
	// Try each warehouse on a copy of the nodes and keep the best, so a
	// project is laid on the warehouse it builds in, not on a clone.
	best, bestRep := "", Report{}
	for _, name := range names {
		trial := slices.Clone(nodes)
		rep := Match(adapter, trial, byWarehouse[name])
		if best == "" || rep.Counts.Matched > bestRep.Counts.Matched {
			best, bestRep = name, rep
		}
	}
	return Match(adapter, nodes, byWarehouse[best]), best, nil
}

// write stores the snapshot and refreshes the search documents of the
// tables it claimed before and claims now, then stores the column lineage
// that lineage waits for, in one transaction: a sync that fails leaves the
// catalog as it was.
func (s *Service) write(ctx context.Context, snap store.Snapshot, prevScopeID int64, lineage func() store.ColumnLineage) error {
	return s.Store.InTx(ctx, func(tx *store.Tx) error {
		tables := map[int64]bool{}
		var oldNodeDocs []int64
		if prevScopeID != 0 {
			oldTables, err := tx.ScopeTableIDs(ctx, prevScopeID)
			if err != nil {
				return err
			}
			for _, id := range oldTables {
				tables[id] = true
			}
			old, err := tablelessNodes(ctx, tx, prevScopeID)
			if err != nil {
				return err
			}
			for _, n := range old {
				oldNodeDocs = append(oldNodeDocs, n.ID)
			}
		}
		scope, err := tx.WriteSnapshot(ctx, snap)
		if err != nil {
			return err
		}
		if len(oldNodeDocs) > 0 {
			if err := tx.DeleteSearchDocs(ctx, store.SearchNode, oldNodeDocs); err != nil {
				return err
			}
		}
		// Nodes without a table (exposures, metrics, ephemeral models, a
		// model whose table is missing) get documents of their own, so a
		// search finds them too. Their ids come from the store (a node
		// keeps its id across syncs); their text from the snapshot in
		// memory, so columns are not read back.
		byUID := make(map[string]*store.CatalogNode, len(snap.Nodes))
		for i := range snap.Nodes {
			byUID[snap.Nodes[i].UniqueID] = &snap.Nodes[i]
		}
		// The tables are read apart from the few tableless nodes: listing
		// every node would read each one's SQL too.
		newTables, err := tx.ScopeTableIDs(ctx, scope.ID)
		if err != nil {
			return err
		}
		for _, id := range newTables {
			tables[id] = true
		}
		nodes, err := tablelessNodes(ctx, tx, scope.ID)
		if err != nil {
			return err
		}
		var docs []store.SearchDoc
		for _, n := range nodes {
			if n.ResourceType == "group" {
				continue
			}
			full := n
			if sn := byUID[n.UniqueID]; sn != nil {
				full.Columns = sn.Columns
			}
			docs = append(docs, nodeDoc(full))
		}
		if err := tx.PutSearchDocs(ctx, docs); err != nil {
			return err
		}
		ids := make([]int64, 0, len(tables))
		for id := range tables {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		if err := tx.RefreshTableSearch(ctx, ids); err != nil {
			return err
		}
		return tx.WriteColumnLineage(ctx, scope.ID, lineage())
	})
}

// nodeLister is what Store and Tx share for listing nodes.
type nodeLister interface {
	ListNodes(ctx context.Context, p store.ListNodesParams) ([]store.CatalogNode, error)
}

// tablelessNodes pages through the nodes of a scope that claim no table.
func tablelessNodes(ctx context.Context, q nodeLister, scopeID int64) ([]store.CatalogNode, error) {
	var out []store.CatalogNode
	after := int64(0)
	for {
		page, err := q.ListNodes(ctx, store.ListNodesParams{ScopeID: scopeID, WithoutTable: true, Limit: 1000, AfterID: after})
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < 1000 {
			return out, nil
		}
		after = page[len(page)-1].ID
	}
}

// allNodes pages through every node of a scope.
func allNodes(ctx context.Context, q nodeLister, scopeID int64, withColumns bool) ([]store.CatalogNode, error) {
	var out []store.CatalogNode
	after := int64(0)
	for {
		page, err := q.ListNodes(ctx, store.ListNodesParams{ScopeID: scopeID, WithColumns: withColumns, Limit: 1000, AfterID: after})
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < 1000 {
			return out, nil
		}
		after = page[len(page)-1].ID
	}
}

func nodeDoc(n store.CatalogNode) store.SearchDoc {
	var cols []string
	for _, c := range n.Columns {
		cols = append(cols, c.Name)
		if c.Description != "" {
			cols = append(cols, c.Description)
		}
	}
	return store.SearchDoc{
		Kind: store.SearchNode, Ref: n.ID, Name: n.Name + " " + n.UniqueID, Description: n.Description,
		Columns: strings.Join(cols, " "), Tags: strings.Join(n.Tags, " "), Owners: n.Owner,
	}
}
