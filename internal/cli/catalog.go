package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dbtlink/dbtlink/internal/catalog"
	"github.com/dbtlink/dbtlink/internal/connection"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/warehouse"
)

const catalogServerHelp = `With --server (or $DBTLINK_SERVER) the command goes through a dbtlink server's
catalog API instead, with the same output and exit codes.`

func newCmdCatalog(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "catalog",
		Short: "Sync dbt metadata onto crawled warehouse tables, and search and read the catalog",
		Long: `The catalog lays dbt metadata (models, sources, tests, runs, descriptions) from
dbt Cloud or uploaded artifacts on the warehouse tables that dbtlink warehouse
crawl read.

` + localStoreHelp + `

` + catalogServerHelp + `

Exit status: 6 when a table is not found or a name matches several (the
candidates are listed), 2 for bad input, 7 when a sync scope failed or the
server is unreachable.`,
	}
	cmd.AddCommand(NewCmdCatalogSync(f, nil), NewCmdCatalogUpload(f, nil), NewCmdCatalogSearch(f, nil),
		NewCmdCatalogShow(f, nil), NewCmdCatalogLineage(f, nil), NewCmdCatalogTests(f, nil),
		NewCmdCatalogDescribe(f, nil), NewCmdCatalogStatus(f, nil))
	return cmd
}

// CatalogOptions are the dependencies every catalog command shares.
type CatalogOptions struct {
	IO *IOStreams
	// API opens the catalog: the local store or the server. The returned
	// func closes it.
	API  func(ctx context.Context) (catalogAPI, func(), error)
	JSON bool
	DB   string
}

func newCatalogOptions(f *Factory) *CatalogOptions {
	o := &CatalogOptions{IO: f.IO}
	o.API = func(ctx context.Context) (catalogAPI, func(), error) {
		if f.ServerURL() != "" {
			if o.DB != "" {
				return nil, nil, usageError("--db names a local catalog and --server (or $%s) a server's; give only one", EnvServer)
			}
			c, err := f.Server()
			if err != nil {
				return nil, nil, err
			}
			return catalogClient{c: c}, func() {}, nil
		}
		st, closeDB, err := openServerStoreShared(ctx, f, o.DB)
		if err != nil {
			return nil, nil, err
		}
		return &catalog.Service{Store: st}, closeDB, nil
	}
	return o
}

func (o *CatalogOptions) flags(cmd *cobra.Command, jsonWhat string) {
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print "+jsonWhat+" as JSON")
	addDBFlag(cmd, &o.DB)
}

// catalogErr gives the catalog's errors their exit codes: an ambiguous
// table is "not found" (6) like a missing one, bad input 2.
func catalogErr(err error) error {
	var ie *catalog.InputError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, catalog.ErrAmbiguous), errors.Is(err, store.ErrNotFound):
		return withCode(ExitNotFound, err)
	case errors.As(err, &ie):
		return withCode(ExitUsage, err)
	}
	var ce *warehouse.ConnectError
	if errors.As(err, &ce) {
		return withCode(connectErrorCode(err), err)
	}
	return err
}

// ---- catalog sync ----

// CatalogSyncOptions holds the flags of `catalog sync`.
type CatalogSyncOptions struct {
	*CatalogOptions
	Factory    *Factory
	Connection string
	All        bool
	Opts       catalog.SyncOptions
	// Source is artifacts or discovery; DiscoveryURL overrides the
	// Discovery endpoint derived from the connection's host.
	Source       string
	DiscoveryURL string
}

// NewCmdCatalogSync builds `dbtlink catalog sync`.
func NewCmdCatalogSync(f *Factory, runF func(*CatalogSyncOptions) error) *cobra.Command {
	opts := &CatalogSyncOptions{CatalogOptions: newCatalogOptions(f), Factory: f}
	var pl = &opts.Opts.Plan
	cmd := &cobra.Command{
		Use:   "sync [CONNECTION]",
		Short: "Read dbt Cloud's latest artifacts and lay them on the crawled tables",
		Long: `Sync every deployment environment of a dbt Cloud connection: read the latest
manifest, run results, catalog and sources of its jobs, and match the nodes to
the crawled warehouse tables. CONNECTION is resolved as for other commands
(the argument, else --connection, $DBTLINK_CONNECTION, DBT_CLOUD_* variables,
the default connection); --all syncs every stored connection.

Filters take ids or globs on names; deny lists win over allow lists.

--source discovery reads the same runs' metadata through dbt Cloud's
Discovery (GraphQL) API instead of downloading their artifacts: the runs are
still chosen through the Admin API, so the token needs the Analyst (or a
reading) permission set. The endpoint follows the connection's host
(metadata.cloud.getdbt.com, metadata.emea.dbt.com, metadata.au.dbt.com,
PREFIX.metadata.REGION.dbt.com for cell hosts, HOST/graphql for a local
emulator); --discovery-url overrides it. A server's syncs use the source of
dbtlink serve --catalog-source.

A progress line per step goes to standard error; the report (per scope:
matched/relations, missing tables with their nearest candidates, unclaimed
tables, warnings) to standard output.

` + localStoreHelp + `

` + catalogServerHelp + `

Exit status: 0 when every scope synced (or was unchanged), 7 when any scope
failed (the report says which and why) or dbt Cloud could not be listed,
2 for bad flags.`,
		Example: `  dbtlink catalog sync prod
  dbtlink catalog sync --all --force
  dbtlink catalog sync prod --warehouse pg --project 'jaffle*' --exclude-job 'scratch*' --include-ci
  dbtlink catalog sync prod --source discovery`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Connection = f.ConnectionName
			if len(args) == 1 {
				opts.Connection = args[0]
			}
			if opts.All && len(args) == 1 {
				return usageError("--all syncs every connection; drop the CONNECTION argument or --all")
			}
			if _, err := catalog.ParseSource(opts.Source); err != nil {
				return usageError("--source: %v", err)
			}
			if opts.DiscoveryURL != "" && opts.Source != catalog.SourceDiscovery {
				return usageError("--discovery-url is for --source discovery")
			}
			if runF != nil {
				return runF(opts)
			}
			return catalogSyncRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.All, "all", false, "sync every stored dbt Cloud connection")
	fl.StringVar(&opts.Opts.Warehouse, "warehouse", "", "match nodes only to this crawled warehouse's tables (default: the scope's last, else the one where most relations are found)")
	fl.BoolVar(&opts.Opts.Force, "force", false, "sync even when the artifacts are those of the last sync")
	fl.StringSliceVar(&pl.Projects.Allow, "project", nil, "sync only these projects (ids or name globs; comma list or repeated)")
	fl.StringSliceVar(&pl.Environments.Allow, "environment", nil, "sync only these environments (ids or name globs)")
	fl.StringSliceVar(&pl.Jobs.Allow, "job", nil, "read only these jobs (ids or name globs)")
	fl.StringSliceVar(&pl.Projects.Deny, "exclude-project", nil, "skip these projects (ids or name globs)")
	fl.StringSliceVar(&pl.Environments.Deny, "exclude-environment", nil, "skip these environments (ids or name globs)")
	fl.StringSliceVar(&pl.Jobs.Deny, "exclude-job", nil, "skip these jobs (ids or name globs)")
	fl.BoolVar(&pl.IncludeCI, "include-ci", false, "also read CI jobs (their runs build pull-request schemas)")
	fl.BoolVar(&pl.IncludeDevelopment, "include-development", false, "also sync development environments")
	fl.StringVar(&opts.Source, "source", catalog.SourceArtifacts, "where dbt's metadata is read: artifacts (download the runs' files) or discovery (dbt Cloud's Discovery API)")
	fl.StringVar(&opts.DiscoveryURL, "discovery-url", "", "Discovery API endpoint, with --source discovery (default: derived from the connection's host)")
	opts.flags(cmd, "the sync results")
	return cmd
}

func catalogSyncRun(ctx context.Context, opts *CatalogSyncOptions) error {
	f := opts.Factory
	progress := progressTo(opts.IO)
	var (
		results []catalog.SyncResult
		syncErr error
	)
	if f.ServerURL() != "" {
		if opts.DB != "" {
			return usageError("--db names a local catalog and --server (or $%s) a server's; give only one", EnvServer)
		}
		if opts.Source == catalog.SourceDiscovery {
			return usageError("--source discovery is a local sync's: a server reads the source of its own dbtlink serve --catalog-source")
		}
		c, err := f.Server()
		if err != nil {
			return err
		}
		// Without --all, the connection is the one other server commands
		// would use, as locally; "" asks the server to sync them all.
		name := ""
		if !opts.All {
			if name, err = c.defaultConnection(ctx, opts.Connection); err != nil {
				return err
			}
		}
		progress(fmt.Sprintf("ask %s to sync %s", redactURL(c.URL()), orAll(name)))
		results, syncErr = catalogClient{c: c}.Sync(ctx, name, opts.Opts)
		if syncErr != nil {
			return syncErr
		}
	} else {
		sources, err := opts.sources()
		if err != nil {
			return err
		}
		st, closeDB, err := openServerStoreShared(ctx, f, opts.DB)
		if err != nil {
			return err
		}
		defer closeDB()
		svc := &catalog.Service{Store: st}
		var failed []string
		for _, src := range sources {
			res, err := svc.SyncCloud(ctx, src, opts.Opts, progress)
			results = append(results, res...)
			if err != nil {
				if len(res) == 0 {
					failed = append(failed, err.Error())
				}
				if errors.Is(err, context.Canceled) {
					return err
				}
			}
		}
		if len(failed) > 0 {
			syncErr = errors.New(strings.Join(failed, "; "))
		}
	}
	if opts.JSON {
		if results == nil {
			results = []catalog.SyncResult{}
		}
		if err := writeJSON(opts.IO.Out, results); err != nil {
			return err
		}
	} else {
		printSyncReport(opts.IO.Out, results)
	}
	var bad []string
	for _, r := range results {
		if r.Status == store.SyncError {
			bad = append(bad, r.ScopeKey)
		}
	}
	switch {
	case syncErr != nil:
		return withCode(ExitUpstream, syncErr)
	case len(bad) > 0:
		return withCode(ExitUpstream, fmt.Errorf("%d scope(s) failed to sync: %s (see the report above)", len(bad), strings.Join(bad, ", ")))
	}
	return nil
}

func orAll(name string) string {
	if name == "" {
		return "all its connections"
	}
	return "connection " + name
}

// sources resolves the dbt Cloud connections to sync.
func (opts *CatalogSyncOptions) sources() ([]catalog.CloudSource, error) {
	f := opts.Factory
	if !opts.All {
		saved := f.ConnectionName
		f.ConnectionName = opts.Connection
		client, c, err := f.Client()
		f.ConnectionName = saved
		if err != nil {
			return nil, err
		}
		src, err := catalog.NewCloudSource(c.Name, c.AccountID, client, opts.Source, opts.DiscoveryURL)
		if err != nil {
			return nil, withCode(ExitUsage, err)
		}
		return []catalog.CloudSource{src}, nil
	}
	st, err := f.OpenStore()
	if err != nil {
		return nil, err
	}
	list, err := st.List()
	if err != nil {
		return nil, withCode(ExitUsage, err)
	}
	if len(list) == 0 {
		return nil, usageError("--all: no stored connections; add one with dbtlink connection add")
	}
	var out []catalog.CloudSource
	for _, s := range list {
		saved := f.ConnectionName
		f.ConnectionName = s.Name
		client, c, err := f.Client()
		f.ConnectionName = saved
		if err != nil {
			return nil, err
		}
		src, err := catalog.NewCloudSource(c.Name, c.AccountID, client, opts.Source, opts.DiscoveryURL)
		if err != nil {
			return nil, withCode(ExitUsage, err)
		}
		out = append(out, src)
	}
	return out, nil
}

// printSyncReport writes the report of each scope.
func printSyncReport(w io.Writer, results []catalog.SyncResult) {
	if len(results) == 0 {
		fmt.Fprintln(w, "Nothing synced.")
		return
	}
	for i, r := range results {
		if i > 0 {
			fmt.Fprintln(w)
		}
		title := r.Project
		if r.Environment != "" {
			title += " / " + r.Environment
		}
		fmt.Fprintf(w, "%s (%s): %s", title, r.ScopeKey, r.Status)
		if r.Warehouse != "" {
			fmt.Fprintf(w, ", warehouse %s", r.Warehouse)
		}
		fmt.Fprintf(w, ", %d nodes, %d tests, %.1fs\n", r.Nodes, r.Tests, r.Duration)
		if r.Error != "" {
			fmt.Fprintf(w, "  error: %s\n", r.Error)
		}
		if rep := r.Report; rep != nil {
			c := rep.Counts
			fmt.Fprintf(w, "  matched %d/%d relations (%d missing, %d ambiguous, %d ephemeral), %d unclaimed tables\n",
				c.Matched, c.Relations, c.Missing, c.Ambiguous, c.Ephemeral, c.Unclaimed)
			for _, m := range rep.Missing {
				fmt.Fprintf(w, "  missing %s: expected %s", m.UniqueID, m.Expected)
				if len(m.Candidates) > 0 {
					names := make([]string, len(m.Candidates))
					for i, c := range m.Candidates {
						names[i] = c.Name
					}
					fmt.Fprintf(w, "; nearest: %s", strings.Join(names, ", "))
				}
				fmt.Fprintln(w)
			}
			for _, a := range rep.Ambiguous {
				fmt.Fprintf(w, "  ambiguous %+v\n", a)
			}
			for _, u := range rep.Unclaimed {
				fmt.Fprintf(w, "  unclaimed %s\n", u.Name)
			}
			printColumnLineageReport(w, rep.ColumnLineage)
		}
		for _, wn := range r.Warnings {
			fmt.Fprintf(w, "  warning: %s\n", wn)
		}
	}
}

// ---- catalog upload ----

// CatalogUploadOptions holds the flags of `catalog upload`.
type CatalogUploadOptions struct {
	*CatalogOptions
	Files     []string
	Project   string
	Warehouse string
	Force     bool
}

// NewCmdCatalogUpload builds `dbtlink catalog upload`.
func NewCmdCatalogUpload(f *Factory, runF func(*CatalogUploadOptions) error) *cobra.Command {
	opts := &CatalogUploadOptions{CatalogOptions: newCatalogOptions(f)}
	cmd := &cobra.Command{
		Use:   "upload manifest.json [run_results.json catalog.json sources.json] --project NAME",
		Short: "Lay dbt Core artifacts on the crawled tables",
		Long: `Sync the artifacts of a dbt Core project (one manifest.json, and optionally
run_results.json, catalog.json and sources.json, in any order; gzipped files
work too) as the scope upload:NAME. Files that are not dbt artifacts are
refused (exit 2) and the catalog is left unchanged.

` + localStoreHelp + `

` + catalogServerHelp,
		Example: `  dbtlink catalog upload target/manifest.json target/run_results.json target/catalog.json --project jaffle_shop
  dbtlink catalog upload target/manifest.json --project jaffle_shop --warehouse pg --json`,
		Args: cobra.RangeArgs(1, 4),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Files = args
			if opts.Project == "" {
				return usageError("--project NAME is required: name the project the artifacts belong to")
			}
			if runF != nil {
				return runF(opts)
			}
			return catalogUploadRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Project, "project", "", "project `NAME` the artifacts belong to (required)")
	cmd.Flags().StringVar(&opts.Warehouse, "warehouse", "", "match nodes only to this crawled warehouse's tables")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "sync even when the files are those of the last upload")
	opts.flags(cmd, "the sync result")
	return cmd
}

func catalogUploadRun(ctx context.Context, opts *CatalogUploadOptions) error {
	var files []catalog.UploadFile
	for _, name := range opts.Files {
		fh, err := os.Open(name)
		if err != nil {
			return usageError("read %s: %w", name, err)
		}
		defer fh.Close()
		files = append(files, catalog.UploadFile{Name: name, R: fh})
	}
	api, closeAPI, err := opts.API(ctx)
	if err != nil {
		return err
	}
	defer closeAPI()
	res, err := api.Upload(ctx, opts.Project, files, catalog.SyncOptions{Warehouse: opts.Warehouse, Force: opts.Force}, progressTo(opts.IO))
	if err != nil && res.Status == "" { // refused before a sync was recorded
		return catalogErr(err)
	}
	if opts.JSON {
		if jerr := writeJSON(opts.IO.Out, res); jerr != nil {
			return jerr
		}
	} else {
		printSyncReport(opts.IO.Out, []catalog.SyncResult{res})
	}
	if err != nil {
		return withCode(ExitUpstream, err)
	}
	if res.Status == store.SyncError {
		return withCode(ExitUpstream, fmt.Errorf("upload %s failed: %s", opts.Project, res.Error))
	}
	return nil
}

// ---- catalog search ----

// CatalogSearchOptions holds the flags of `catalog search`.
type CatalogSearchOptions struct {
	*CatalogOptions
	Params store.SearchParams
}

// NewCmdCatalogSearch builds `dbtlink catalog search`.
func NewCmdCatalogSearch(f *Factory, runF func(*CatalogSearchOptions) error) *cobra.Command {
	opts := &CatalogSearchOptions{CatalogOptions: newCatalogOptions(f)}
	cmd := &cobra.Command{
		Use:   "search TEXT",
		Short: "Search tables and dbt nodes by name, description, column and tag",
		Long: `Search the catalog's tables and dbt nodes: names, descriptions, columns, tags
and owners, best matches first.

` + localStoreHelp + `

` + catalogServerHelp,
		Example: `  dbtlink catalog search orders
  dbtlink catalog search customer --schema main --resource-type model --limit 5
  dbtlink catalog search payment --tag finance --test-status fail --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Params.Query = args[0]
			if strings.TrimSpace(args[0]) == "" {
				return usageError("the search text is empty: give a word to look for")
			}
			if opts.Params.Limit < 0 || opts.Params.Limit > 200 {
				return usageError("--limit %d: give 1 to 200", opts.Params.Limit)
			}
			if runF != nil {
				return runF(opts)
			}
			return catalogSearchRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&opts.Params.Limit, "limit", 20, "at most this many results (1 to 200)")
	fl.StringVar(&opts.Params.Warehouse, "warehouse", "", "only tables of this warehouse")
	fl.StringVar(&opts.Params.Schema, "schema", "", "only tables and nodes of this schema")
	fl.StringVar(&opts.Params.ResourceType, "resource-type", "", "only dbt nodes of this type: model, source, seed, snapshot, ...")
	fl.StringVar(&opts.Params.Tag, "tag", "", "only what carries this tag")
	fl.StringVar(&opts.Params.Owner, "owner", "", "only what this owner (warehouse or dbt) has")
	fl.StringVar(&opts.Params.TestStatus, "test-status", "", "only what has a test whose latest status is this: pass, fail, error or warn")
	opts.flags(cmd, "the results")
	return cmd
}

func catalogSearchRun(ctx context.Context, opts *CatalogSearchOptions) error {
	api, closeAPI, err := opts.API(ctx)
	if err != nil {
		return err
	}
	defer closeAPI()
	res, err := api.Search(ctx, opts.Params)
	if err != nil {
		return catalogErr(err)
	}
	if opts.JSON {
		if res == nil {
			res = []catalog.SearchResult{}
		}
		return writeJSON(opts.IO.Out, res)
	}
	if len(res) == 0 {
		fmt.Fprintf(opts.IO.ErrOut, "Nothing matches %q.\n", opts.Params.Query)
		return nil
	}
	t := newTable(opts.IO.Out, "KIND", "NAME", "SCOPE", "MATCHED", "DESCRIPTION")
	for _, r := range res {
		switch {
		case r.Table != nil:
			t.row(r.Table.Kind, r.Table.Warehouse+":"+r.Table.FullName(), "", r.Field, oneLine(r.Table.Description, 60))
		case r.Node != nil:
			t.row(r.Node.ResourceType, r.Node.UniqueID, r.Node.Scope, r.Field, oneLine(r.Node.Description, 60))
		}
	}
	return t.flush()
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// ---- catalog show ----

// CatalogShowOptions holds the flags of `catalog show`.
type CatalogShowOptions struct {
	*CatalogOptions
	Table string
	SQL   bool
}

// NewCmdCatalogShow builds `dbtlink catalog show`.
func NewCmdCatalogShow(f *Factory, runF func(*CatalogShowOptions) error) *cobra.Command {
	opts := &CatalogShowOptions{CatalogOptions: newCatalogOptions(f)}
	cmd := &cobra.Command{
		Use:   "show TABLE",
		Short: "Show everything the catalog knows about a table",
		Long: `Show a table: kind, warehouse, description and where it comes from, owner,
tags, the dbt nodes that build or read it (materialization, path, Explore URL,
last run), columns with type, description, tags and tests, tests with their
latest status, freshness, and the runs that built it.

TABLE is a table id, or name, schema.name, database.schema.name or
warehouse:database.schema.name (case-insensitive). A name matching several
tables exits 6 listing them.

` + localStoreHelp + `

` + catalogServerHelp,
		Example: `  dbtlink catalog show orders
  dbtlink catalog show main.customers --sql
  dbtlink catalog show 'pg:jaffle_shop.main.orders' --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Table = args[0]
			if runF != nil {
				return runF(opts)
			}
			return catalogShowRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.SQL, "sql", false, "print the compiled SQL of the dbt node(s) instead")
	opts.flags(cmd, "the table")
	return cmd
}

func catalogShowRun(ctx context.Context, opts *CatalogShowOptions) error {
	api, closeAPI, err := opts.API(ctx)
	if err != nil {
		return err
	}
	defer closeAPI()
	d, err := api.Table(ctx, opts.Table)
	if err != nil {
		return catalogErr(err)
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, d)
	}
	if opts.SQL {
		n := 0
		for _, m := range d.Models {
			if m.CompiledSQL == "" {
				continue
			}
			if n > 0 {
				fmt.Fprintln(opts.IO.Out)
			}
			fmt.Fprintf(opts.IO.Out, "-- %s (%s)\n%s\n", m.UniqueID, m.Scope, strings.TrimRight(m.CompiledSQL, "\n"))
			n++
		}
		if n == 0 {
			return withCode(ExitNotFound, fmt.Errorf("no compiled SQL for %s: no dbt node builds it, or its manifest was not compiled", d.FullName()))
		}
		return nil
	}
	printTableDetail(opts.IO.Out, d)
	return nil
}

func printTableDetail(w io.Writer, d *catalog.TableDetail) {
	fmt.Fprintf(w, "%s  (%s, id %d)\n", d.FullName(), d.Kind, d.ID)
	fmt.Fprintf(w, "  warehouse:    %s\n", d.Warehouse)
	if !d.RemovedAt.IsZero() {
		fmt.Fprintf(w, "  REMOVED:      last seen %s\n", formatTime(d.LastSeenAt))
	}
	if d.Description != "" {
		fmt.Fprintf(w, "  description:  %s  [from %s]\n", oneLine(d.Description, 200), d.DescriptionSource)
	}
	if d.Owner != "" {
		fmt.Fprintf(w, "  owner:        %s\n", d.Owner)
	}
	if d.WarehouseOwner != "" && d.WarehouseOwner != d.Owner {
		fmt.Fprintf(w, "  db owner:     %s\n", d.WarehouseOwner)
	}
	if len(d.Tags) > 0 {
		fmt.Fprintf(w, "  tags:         %s\n", strings.Join(d.Tags, ", "))
	}
	if d.RowEstimate != nil {
		fmt.Fprintf(w, "  rows (est.):  %d\n", *d.RowEstimate)
	}
	if d.SizeBytes != nil {
		fmt.Fprintf(w, "  size:         %s\n", byteSize(*d.SizeBytes))
	}
	fmt.Fprintf(w, "  first seen:   %s\n", formatTime(d.FirstSeenAt))
	for _, m := range d.Models {
		fmt.Fprintf(w, "\ndbt %s %s (%s)\n", m.ResourceType, m.UniqueID, m.Scope)
		kv := func(k, v string) {
			if v != "" {
				fmt.Fprintf(w, "  %-14s %s\n", k+":", v)
			}
		}
		kv("materialized", m.Materialized)
		kv("path", m.FilePath)
		kv("explore", m.ExploreURL)
		if m.LastRunID != 0 {
			kv("last run", fmt.Sprintf("%d %s %s", m.LastRunID, m.LastRunStatus, formatTime(m.LastRunAt)))
		}
		if m.Freshness != nil {
			kv("freshness", fmt.Sprintf("%s (max loaded %s, checked %s)", m.Freshness.Status, formatTime(m.Freshness.MaxLoadedAt), formatTime(m.Freshness.CheckedAt)))
		}
		kv("access", m.Access)
		kv("group", m.Group)
	}
	if len(d.Columns) > 0 {
		fmt.Fprintln(w, "\nColumns:")
		t := newTable(w, "  NAME", "TYPE", "DESCRIPTION", "TAGS", "TESTS")
		for _, c := range d.Columns {
			name := "  " + c.Name
			switch {
			case c.Missing:
				name += " (not in warehouse)"
			case c.Removed:
				name += " (removed)"
			}
			t.row(name, c.DataType, oneLine(c.Description, 50), strings.Join(c.Tags, ","), strings.Join(c.Tests, ", "))
		}
		_ = t.flush()
	}
	if len(d.Tests) > 0 {
		fmt.Fprintln(w, "\nTests:")
		t := newTable(w, "  STATUS", "TEST", "COLUMN", "SCOPE", "RUN")
		for _, tr := range d.Tests {
			t.row("  "+notRun(tr.Status), tr.Name, tr.Column, tr.Scope, runLabel(tr.RunID))
		}
		_ = t.flush()
	}
	if len(d.Runs) > 0 {
		fmt.Fprintln(w, "\nRuns that built it:")
		t := newTable(w, "  RUN", "JOB", "STATUS", "FINISHED", "URL")
		for _, r := range d.Runs {
			t.row(fmt.Sprintf("  %d", r.RunID), r.Job, r.Status, formatTime(r.FinishedAt), r.URL)
		}
		_ = t.flush()
	}
}

func notRun(status string) string {
	if status == "" {
		return "not run"
	}
	return status
}

func runLabel(id int64) string {
	if id == 0 {
		return ""
	}
	return fmt.Sprint(id)
}

// ---- catalog lineage ----

// CatalogLineageOptions holds the flags of `catalog lineage`.
type CatalogLineageOptions struct {
	*CatalogOptions
	Table      string
	Column     string
	Upstream   bool
	Downstream bool
	Depth      int
}

// NewCmdCatalogLineage builds `dbtlink catalog lineage`.
func NewCmdCatalogLineage(f *Factory, runF func(*CatalogLineageOptions) error) *cobra.Command {
	opts := &CatalogLineageOptions{CatalogOptions: newCatalogOptions(f)}
	cmd := &cobra.Command{
		Use:   "lineage TABLE | TABLE.COLUMN",
		Short: "Show the tables, or columns, upstream and downstream of a table or column",
		Long: `Walk table-level lineage from TABLE over every synced scope, and print each
table or node with its depth: negative upstream (what it reads), positive
downstream (what reads it), 0 for TABLE itself.

With --column NAME, or as TABLE.COLUMN when TABLE.COLUMN names no table,
walk column-level lineage instead: each sync reads the models' compiled SQL
and records which columns feed which (copy: passed unchanged; transform:
computed from; filter and join: columns that decide which rows a model
keeps, listed for each model on the way but not walked upstream). Gaps say
which models could not be resolved in full and why.

` + localStoreHelp + `

` + catalogServerHelp,
		Example: `  dbtlink catalog lineage orders
  dbtlink catalog lineage main.orders --upstream --depth 2
  dbtlink catalog lineage raw.raw_customers --downstream --json
  dbtlink catalog lineage main.customers.customer_name --upstream
  dbtlink catalog lineage orders --column amount --downstream --depth 1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Table = args[0]
			if opts.Upstream && opts.Downstream {
				return usageError("--upstream and --downstream together are the default (both); give one or neither")
			}
			if opts.Depth < 0 {
				return usageError("--depth %d: give 0 (no limit) or more", opts.Depth)
			}
			if runF != nil {
				return runF(opts)
			}
			return catalogLineageRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Upstream, "upstream", false, "only what TABLE reads from")
	cmd.Flags().BoolVar(&opts.Downstream, "downstream", false, "only what reads TABLE")
	cmd.Flags().IntVar(&opts.Depth, "depth", 0, "at most this many steps away (0: no limit)")
	cmd.Flags().StringVar(&opts.Column, "column", "", "walk column-level lineage from this column of TABLE")
	opts.flags(cmd, "the lineage graph")
	return cmd
}

func (opts *CatalogLineageOptions) direction() catalog.Direction {
	switch {
	case opts.Upstream:
		return catalog.Upstream
	case opts.Downstream:
		return catalog.Downstream
	}
	return catalog.Both
}

func catalogLineageRun(ctx context.Context, opts *CatalogLineageOptions) error {
	api, closeAPI, err := opts.API(ctx)
	if err != nil {
		return err
	}
	defer closeAPI()
	if opts.Column != "" {
		return catalogColumnLineageRun(ctx, opts, api, opts.Table, opts.Column)
	}
	v, err := api.Lineage(ctx, opts.Table, opts.direction(), opts.Depth)
	if err != nil {
		if table, column, ok := splitTableColumn(opts.Table); ok && isNotFound(err) {
			if cerr := catalogColumnLineageRun(ctx, opts, api, table, column); !isNotFound(cerr) {
				return cerr
			}
		}
		return catalogErr(err)
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, v)
	}
	items := append([]catalog.LineageItem(nil), v.Vertices...)
	sort.SliceStable(items, func(i, j int) bool { return items[i].Depth < items[j].Depth })
	for _, it := range items {
		mark := "  "
		switch {
		case it.Depth < 0:
			mark = strings.Repeat("<", -it.Depth)
		case it.Depth > 0:
			mark = strings.Repeat(">", it.Depth)
		default:
			mark = "*"
		}
		line := fmt.Sprintf("%+3d %-4s %s", it.Depth, mark, it.Name)
		if it.ResourceType != "" {
			line += "  (" + it.ResourceType + ")"
		}
		if it.TableID == 0 {
			// A node without a table belongs to one scope; namesakes of
			// other scopes are told apart by it.
			scope := ""
			if len(it.Nodes) > 0 {
				scope = fmt.Sprintf(", scope %d", it.Nodes[0].ScopeID)
			}
			line += "  [no table" + scope + "]"
		}
		if it.Removed {
			line += "  [removed]"
		}
		fmt.Fprintln(opts.IO.Out, line)
	}
	return nil
}

// ---- catalog tests ----

// CatalogTestsOptions holds the flags of `catalog tests`.
type CatalogTestsOptions struct {
	*CatalogOptions
	Query catalog.TestQuery
}

// NewCmdCatalogTests builds `dbtlink catalog tests`.
func NewCmdCatalogTests(f *Factory, runF func(*CatalogTestsOptions) error) *cobra.Command {
	opts := &CatalogTestsOptions{CatalogOptions: newCatalogOptions(f)}
	cmd := &cobra.Command{
		Use:   "tests",
		Short: "List dbt tests with their latest result, failing first",
		Long: `List the data tests of every synced scope with their latest status, failing
ones first.

` + localStoreHelp + `

` + catalogServerHelp,
		Example: `  dbtlink catalog tests --failing
  dbtlink catalog tests --failing --warnings --table orders
  dbtlink catalog tests --json --limit 50`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Query.WithWarnings && !opts.Query.Failing {
				return usageError("--warnings adds warning tests to --failing; pass --failing too")
			}
			if runF != nil {
				return runF(opts)
			}
			return catalogTestsRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Query.Failing, "failing", false, "only tests whose latest result is fail or error")
	cmd.Flags().BoolVar(&opts.Query.WithWarnings, "warnings", false, "with --failing, also tests that warned")
	cmd.Flags().StringVar(&opts.Query.Table, "table", "", "only tests of this `TABLE` (a reference as for catalog show)")
	cmd.Flags().IntVar(&opts.Query.Limit, "limit", 0, "at most this many tests (default 1000)")
	opts.flags(cmd, "the tests")
	return cmd
}

func catalogTestsRun(ctx context.Context, opts *CatalogTestsOptions) error {
	api, closeAPI, err := opts.API(ctx)
	if err != nil {
		return err
	}
	defer closeAPI()
	rows, err := api.Tests(ctx, opts.Query)
	if err != nil {
		return catalogErr(err)
	}
	if opts.JSON {
		if rows == nil {
			rows = []catalog.TestRow{}
		}
		return writeJSON(opts.IO.Out, rows)
	}
	if len(rows) == 0 {
		fmt.Fprintln(opts.IO.ErrOut, "No tests match.")
		return nil
	}
	t := newTable(opts.IO.Out, "STATUS", "TEST", "TABLE", "COLUMN", "FAILURES", "RUN", "MESSAGE")
	for _, r := range rows {
		failures := ""
		if r.Failures != nil {
			failures = fmt.Sprint(*r.Failures)
		}
		t.row(notRun(r.Status), r.Name, r.Table, r.Column, failures, runLabel(r.RunID), oneLine(r.Message, 60))
	}
	return t.flush()
}

// ---- catalog describe ----

// CatalogDescribeOptions holds the flags of `catalog describe`.
type CatalogDescribeOptions struct {
	*CatalogOptions
	Table  string
	Column string
	Text   string
	Stdin  bool
}

// NewCmdCatalogDescribe builds `dbtlink catalog describe`.
func NewCmdCatalogDescribe(f *Factory, runF func(*CatalogDescribeOptions) error) *cobra.Command {
	opts := &CatalogDescribeOptions{CatalogOptions: newCatalogOptions(f)}
	cmd := &cobra.Command{
		Use:   "describe TABLE (--text TEXT | --stdin)",
		Short: "Set your own description of a table or column",
		Long: `Set the user description of TABLE (or of its --column). It wins over the
dbt and warehouse descriptions and survives every crawl and sync. An empty
text clears it.

` + localStoreHelp + `

` + catalogServerHelp,
		Example: `  dbtlink catalog describe orders --text 'One row per order, refunds included'
  dbtlink catalog describe main.orders --column amount --text 'In cents'
  cat orders.md | dbtlink catalog describe orders --stdin`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Table = args[0]
			textGiven := cmd.Flags().Changed("text")
			if textGiven == opts.Stdin {
				return usageError("give the description with exactly one of --text TEXT or --stdin")
			}
			if opts.Stdin {
				b, err := io.ReadAll(io.LimitReader(opts.IO.In, 1<<20+1))
				if err != nil {
					return usageError("read the description from standard input: %w", err)
				}
				if len(b) > 1<<20 {
					return usageError("--stdin: the description is longer than 1 MiB")
				}
				opts.Text = strings.TrimSpace(string(b))
			}
			if runF != nil {
				return runF(opts)
			}
			return catalogDescribeRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Column, "column", "", "describe this column of TABLE instead")
	cmd.Flags().StringVar(&opts.Text, "text", "", "the description")
	cmd.Flags().BoolVar(&opts.Stdin, "stdin", false, "read the description from standard input")
	opts.flags(cmd, "what was set ({\"table\", \"column\", \"text\"})")
	return cmd
}

func catalogDescribeRun(ctx context.Context, opts *CatalogDescribeOptions) error {
	api, closeAPI, err := opts.API(ctx)
	if err != nil {
		return err
	}
	defer closeAPI()
	if err := api.SetDescription(ctx, opts.Table, opts.Column, opts.Text); err != nil {
		return catalogErr(err)
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, map[string]string{"table": opts.Table, "column": opts.Column, "text": opts.Text})
	}
	what := "table " + opts.Table
	if opts.Column != "" {
		what = "column " + opts.Column + " of " + opts.Table
	}
	if opts.Text == "" {
		fmt.Fprintf(opts.IO.Out, "Cleared the description of %s\n", what)
	} else {
		fmt.Fprintf(opts.IO.Out, "Described %s\n", what)
	}
	return nil
}

// ---- catalog status ----

// CatalogStatusOptions holds the flags of `catalog status`.
type CatalogStatusOptions struct {
	*CatalogOptions
	Factory *Factory
}

// catalogStatusJSON is what `catalog status --json` prints.
type catalogStatusJSON struct {
	Syncs      []catalog.SyncStatus `json:"syncs"`
	Warehouses []warehouseView      `json:"warehouses"`
}

// NewCmdCatalogStatus builds `dbtlink catalog status`.
func NewCmdCatalogStatus(f *Factory, runF func(*CatalogStatusOptions) error) *cobra.Command {
	opts := &CatalogStatusOptions{CatalogOptions: newCatalogOptions(f), Factory: f}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the latest sync of each scope and the last crawl of each warehouse",
		Long: `Show the latest sync of every scope with its report counts, and the last crawl
of every warehouse (locally: the stored warehouse connections).

` + localStoreHelp + `

` + catalogServerHelp,
		Example: `  dbtlink catalog status
  dbtlink catalog status --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return catalogStatusRun(cmd.Context(), opts)
		},
	}
	opts.flags(cmd, "the syncs and crawls")
	return cmd
}

func catalogStatusRun(ctx context.Context, opts *CatalogStatusOptions) error {
	api, closeAPI, err := opts.API(ctx)
	if err != nil {
		return err
	}
	defer closeAPI()
	syncs, err := api.Syncs(ctx)
	if err != nil {
		return catalogErr(err)
	}
	out := catalogStatusJSON{Syncs: syncs, Warehouses: []warehouseView{}}
	switch a := api.(type) {
	case catalogClient:
		if out.Warehouses, err = a.Warehouses(ctx); err != nil {
			return err
		}
	case *catalog.Service:
		if out.Warehouses, err = localWarehouseViews(ctx, opts.Factory.OpenStore, a.Store); err != nil {
			return err
		}
	}
	if out.Syncs == nil {
		out.Syncs = []catalog.SyncStatus{}
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, out)
	}
	w := opts.IO.Out
	fmt.Fprintln(w, "Syncs:")
	if len(syncs) == 0 {
		fmt.Fprintln(w, "  none yet: dbtlink catalog sync, or dbtlink catalog upload")
	} else {
		t := newTable(w, "  SCOPE", "STATUS", "STARTED", "MATCHED", "MISSING", "UNCLAIMED", "ERROR")
		for _, s := range syncs {
			matched, missing, unclaimed := "", "", ""
			if s.Report != nil {
				c := s.Report.Counts
				matched, missing, unclaimed = fmt.Sprintf("%d/%d", c.Matched, c.Relations), fmt.Sprint(c.Missing), fmt.Sprint(c.Unclaimed)
			}
			t.row("  "+s.ScopeKey, s.Status, formatTime(s.StartedAt), matched, missing, unclaimed, oneLine(s.Error, 60))
		}
		_ = t.flush()
	}
	fmt.Fprintln(w, "Warehouses:")
	if len(out.Warehouses) == 0 {
		fmt.Fprintln(w, "  none: dbtlink warehouse add")
	}
	for _, v := range out.Warehouses {
		fmt.Fprintf(w, "  %s (%s): %s\n", v.Name, v.Type, v.LatestCrawl.line())
	}
	return nil
}

func localWarehouseViews(ctx context.Context, open func() (*connection.Store, error), db *store.Store) ([]warehouseView, error) {
	st, err := open()
	if err != nil {
		return nil, err
	}
	list, err := st.ListWarehouses()
	if err != nil {
		return nil, withCode(ExitUsage, err)
	}
	out := []warehouseView{}
	for _, w := range list {
		v := warehouseView{Name: w.Name, Type: w.Type}
		c, err := db.LatestCrawl(ctx, w.Name)
		switch {
		case err == nil:
			v.LatestCrawl = crawlJSON(c)
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
