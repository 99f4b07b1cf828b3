package catalog

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/internal/store"
)

// JobRow is a dbt Cloud job a sync read, with the scope it belongs to.
type JobRow struct {
	Scope         string   `json:"scope"`
	JobID         int64    `json:"job_id"`
	Name          string   `json:"name"`
	Schedule      string   `json:"schedule,omitempty"`
	GenerateDocs  bool     `json:"generate_docs"`
	RunFreshness  bool     `json:"run_freshness"`
	Steps         []string `json:"steps,omitempty"`
	URL           string   `json:"url,omitempty"`
	LastRunID     int64    `json:"last_run_id,omitempty"`
	LastRunStatus string   `json:"last_run_status,omitempty"`
}

// Jobs lists the jobs of every dbt Cloud scope, by scope then job id.
func (s *Service) Jobs(ctx context.Context) ([]JobRow, error) {
	all, err := s.Store.ListScopes(ctx)
	if err != nil {
		return nil, err
	}
	out := []JobRow{}
	for _, sc := range all {
		if sc.Kind == store.ScopeUpload {
			continue
		}
		jobs, err := s.Store.ListCatalogJobs(ctx, sc.ID)
		if err != nil {
			return nil, err
		}
		for _, j := range jobs {
			out = append(out, JobRow{Scope: sc.Key, JobID: j.JobID, Name: j.Name, Schedule: j.Schedule, GenerateDocs: j.GenerateDocs,
				RunFreshness: j.RunFreshness, Steps: j.Steps, URL: j.URL, LastRunID: j.LastRunID, LastRunStatus: j.LastRunStatus})
		}
	}
	return out, nil
}

// Runs lists the runs syncs read, newest first, of job jobID (0: every
// job) over every scope; at most limit (default 100, at most 1000).
// UniqueID and Status, which describe a node, are empty.
func (s *Service) Runs(ctx context.Context, jobID int64, limit int) ([]RunRow, error) {
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	all, err := s.Store.ListScopes(ctx)
	if err != nil {
		return nil, err
	}
	out := []RunRow{}
	for _, sc := range all {
		if sc.Kind == store.ScopeUpload {
			continue
		}
		runs, err := s.Store.ListCatalogRuns(ctx, store.ListCatalogRunsParams{ScopeID: sc.ID, JobID: jobID, Limit: limit})
		if err != nil {
			return nil, err
		}
		names, err := s.jobNames(ctx, sc.ID)
		if err != nil {
			return nil, err
		}
		for _, r := range runs {
			out = append(out, RunRow{Scope: sc.Key, RunID: r.RunID, JobID: r.JobID, Job: names[r.JobID], RunStatus: r.Status,
				StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, Duration: r.Duration, URL: r.URL})
		}
	}
	slices.SortFunc(out, func(a, b RunRow) int { return cmp.Compare(b.RunID, a.RunID) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// ListTables lists the tables p selects, in id order, as listings show
// them.
func (s *Service) ListTables(ctx context.Context, p store.ListTablesParams) ([]TableSummary, error) {
	tables, err := s.Store.ListCatalogTables(ctx, p)
	if err != nil {
		return nil, err
	}
	out := make([]TableSummary, 0, len(tables))
	for _, t := range tables {
		nodes, err := s.Store.NodesForTable(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, summarize(t, nodes))
	}
	return out, nil
}

// CloudClients gives the dbt Cloud clients of the stored connections; the
// server's tracker implements it.
type CloudClients interface {
	ListConnections(ctx context.Context) ([]store.Connection, error)
	// CloudClient returns the client of the named connection ("" is the
	// default one), or an error matching store.ErrNotFound.
	CloudClient(ctx context.Context, name string) (*dbtcloud.Client, store.Connection, error)
}

// API is the catalog as dbtlink serve offers it: the Service's queries,
// the stored warehouse connections, and syncs of the stored dbt Cloud
// connections.
type API struct {
	*Service
	*Warehouses
	Clients CloudClients
	// Source is where syncs read dbt's metadata: SourceArtifacts (or "")
	// or SourceDiscovery.
	Source string
}

// NewAPI returns the catalog of dbtlink serve over st, sealing warehouse
// passwords with keys and syncing through clients.
func NewAPI(svc *Service, keys Sealer, clients CloudClients) *API {
	return &API{Service: svc, Warehouses: &Warehouses{Service: svc, Keys: keys}, Clients: clients}
}

// ErrNothingListed is matched by a sync none of whose connections could
// be listed in dbt Cloud.
var ErrNothingListed = errors.New("no connection could be listed")

// SyncConnections syncs the named dbt Cloud connection, or every stored
// connection when name is "". A connection whose projects cannot be listed
// gets one result with status error, keyed by the connection's name; the
// others go on. The error is non-nil when any scope failed; it matches
// ErrNothingListed when there is no result with a status other than error
// from a listing.
func (a *API) SyncConnections(ctx context.Context, name string, opts SyncOptions) ([]SyncResult, error) {
	names := []string{name}
	if name == "" {
		conns, err := a.Clients.ListConnections(ctx)
		if err != nil {
			return nil, err
		}
		if len(conns) == 0 {
			return nil, &InputError{Err: errors.New("no dbt Cloud connection is stored: create one (POST /api/v1/connections) before syncing")}
		}
		names = names[:0]
		for _, c := range conns {
			names = append(names, c.Name)
		}
	}
	var (
		results []SyncResult
		errs    []error
		listed  bool
	)
	for _, n := range names {
		cl, c, err := a.Clients.CloudClient(ctx, n)
		if err != nil {
			if name != "" {
				return nil, err
			}
			errs = append(errs, err)
			results = append(results, SyncResult{ScopeKey: n, Status: store.SyncError, Error: err.Error()})
			continue
		}
		src, err := NewCloudSource(c.Name, c.AccountID, cl, a.Source, "")
		if err != nil {
			if name != "" {
				return nil, err
			}
			errs = append(errs, err)
			results = append(results, SyncResult{ScopeKey: n, Status: store.SyncError, Error: err.Error()})
			continue
		}
		res, err := a.SyncCloud(ctx, src, opts, nil)
		if err != nil {
			errs = append(errs, err)
		}
		if len(res) == 0 {
			if name != "" {
				return nil, err
			}
			results = append(results, SyncResult{ScopeKey: c.Name, Status: store.SyncError, Error: err.Error()})
			continue
		}
		listed = true
		results = append(results, res...)
	}
	err := errors.Join(errs...)
	if !listed && err != nil {
		return results, fmt.Errorf("%w: %w", ErrNothingListed, err)
	}
	return results, err
}

// SyncConnection syncs one stored connection, for the server's scheduled
// and triggered syncs; reason labels the syncs ("schedule", "run",
// "webhook").
func (a *API) SyncConnection(ctx context.Context, conn, reason string) error {
	_, err := a.SyncConnections(ctx, conn, SyncOptions{Source: reason})
	return err
}
