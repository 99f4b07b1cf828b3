package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dbtlink/dbtlink/internal/catalog"
	"github.com/dbtlink/dbtlink/internal/connection"
	"github.com/dbtlink/dbtlink/internal/warehouse"
)

// This file is the warehouse commands against a dbtlink server's own
// warehouse connections (--server URL, the /api/v1/warehouses routes), and
// `warehouse push`, which copies local ones to it. The server seals the
// passwords in its database; they travel only in the body of a POST.

// serverWarehouseInput is the body of POST /api/v1/warehouses.
type serverWarehouseInput struct {
	Name     string           `json:"name"`
	Type     string           `json:"type"`
	Config   warehouse.Config `json:"config"`
	Password string           `json:"password,omitempty"`
}

// String and GoString keep %v and %#v from printing the password.
func (in serverWarehouseInput) String() string {
	return fmt.Sprintf("warehouse %q (%s)", in.Name, in.Config.Redacted())
}

func (in serverWarehouseInput) GoString() string { return in.String() }

func warehousePath(name string, rest string) string {
	return "/api/v1/warehouses/" + url.PathEscape(name) + rest
}

// ListWarehouses lists the server's warehouse connections.
func (c *serverClient) ListWarehouses(ctx context.Context) ([]catalog.WarehouseView, error) {
	var out struct {
		Warehouses []catalog.WarehouseView `json:"warehouses"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v1/warehouses", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Warehouses, nil
}

// GetWarehouse returns the named warehouse connection of the server.
func (c *serverClient) GetWarehouse(ctx context.Context, name string) (*catalog.WarehouseView, error) {
	var v catalog.WarehouseView
	if err := c.do(ctx, http.MethodGet, warehousePath(name, ""), nil, nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// CreateWarehouse stores a warehouse connection on the server, which does
// not test it.
func (c *serverClient) CreateWarehouse(ctx context.Context, in serverWarehouseInput) (*catalog.WarehouseView, error) {
	var v catalog.WarehouseView
	if err := c.do(ctx, http.MethodPost, "/api/v1/warehouses", nil, in, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// ReplaceWarehouse replaces a warehouse connection the server has, in one
// update that keeps its crawled tables; with test the server tests the new
// connection first and stores it only if it passes. It returns what the
// test saw (nil when not tested).
func (c *serverClient) ReplaceWarehouse(ctx context.Context, in serverWarehouseInput, test bool) (*catalog.WarehouseInfo, error) {
	var out struct {
		Info *catalog.WarehouseInfo `json:"info"`
	}
	q := url.Values{}
	if test {
		q.Set("test", "true")
	}
	if err := c.do(ctx, http.MethodPut, warehousePath(in.Name, ""), q, in, &out); err != nil {
		return nil, err
	}
	return out.Info, nil
}

// DeleteWarehouse deletes the named warehouse connection of the server.
func (c *serverClient) DeleteWarehouse(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, warehousePath(name, ""), nil, nil, nil)
}

// TestWarehouse has the server connect to the named warehouse.
func (c *serverClient) TestWarehouse(ctx context.Context, name string) (catalog.WarehouseInfo, error) {
	var out struct {
		Info catalog.WarehouseInfo `json:"info"`
	}
	err := c.do(ctx, http.MethodPost, warehousePath(name, "/test"), nil, nil, &out)
	return out.Info, err
}

// CrawlWarehouse has the server crawl the named warehouse into its
// catalog, saying each step of it to progress as the server streams them.
func (c *serverClient) CrawlWarehouse(ctx context.Context, name string, progress catalog.Progress) (catalog.CrawlResult, error) {
	path := warehousePath(name, "/crawl")
	resp, err := c.send(ctx, http.MethodPost, path, url.Values{"progress": {"true"}}, nil)
	if err != nil {
		return catalog.CrawlResult{}, err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/x-ndjson") {
		// A server from before ?progress answers the crawl at once.
		var out catalog.CrawlResult
		if err := dec.Decode(&out); err != nil {
			return out, &serverUnreachableError{Method: http.MethodPost, Path: path, Err: fmt.Errorf("read the answer: %w", err)}
		}
		return out, nil
	}
	// A line is a step, then the last one the crawl or the error the
	// server would have answered without streaming.
	for {
		var line struct {
			Progress string               `json:"progress"`
			Crawl    *catalog.CrawlResult `json:"crawl"`
			Status   int                  `json:"status"`
			Error    *struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := dec.Decode(&line); err != nil {
			if errors.Is(err, io.EOF) {
				err = errors.New("the answer ended before the crawl did (the server may have stopped)")
			}
			return catalog.CrawlResult{}, &serverUnreachableError{Method: http.MethodPost, Path: path, Err: fmt.Errorf("read the crawl's progress: %w", err)}
		}
		switch {
		case line.Crawl != nil:
			return *line.Crawl, nil
		case line.Error != nil:
			return catalog.CrawlResult{}, &serverError{Method: http.MethodPost, Path: path, Status: line.Status, Code: line.Error.Code, Message: line.Error.Message}
		case line.Progress != "" && progress != nil:
			progress(line.Progress)
		}
	}
}

// warehouseServerCode maps an error of the warehouse routes to the exit
// code the local command gives. The server answers a failed warehouse
// connection 502 with the sentence of warehouse.ConnectError, not its
// reason, so the sentence decides: rejected credentials or permission 5,
// a missing database or DuckDB file 6, a build without cgo 2, the rest 7.
func warehouseServerCode(err error) int {
	var se *serverError
	if !errors.As(err, &se) || se.Status != http.StatusBadGateway {
		return exitCode(err)
	}
	msg := se.Message
	switch {
	case strings.Contains(msg, "refused the user name or password"), strings.Contains(msg, "does not allow this user"),
		strings.Contains(msg, "denied permission"), strings.Contains(msg, "check its permissions"):
		return ExitAuth
	case strings.Contains(msg, "does not exist"), strings.Contains(msg, "not a DuckDB file"):
		return ExitNotFound
	case strings.Contains(msg, "without cgo"):
		return ExitUsage
	}
	return ExitUpstream
}

// connectMessage is what the server said of a failed connection, for
// --json output; other errors are said whole.
func connectMessage(err error) string {
	var se *serverError
	if errors.As(err, &se) && se.Status == http.StatusBadGateway && se.Message != "" {
		return se.Message
	}
	return err.Error()
}

// refuseDB refuses --db with --server: the server crawls into and reads
// its own database.
func refuseDB(db string) error {
	if db != "" {
		return usageError("--db names a local catalog, and with --server the dbtlink server's own database is used; drop --db (or --server)")
	}
	return nil
}

func viewJSON(v catalog.WarehouseView) (warehouseJSON, error) {
	raw, err := json.Marshal(v.Config)
	if err != nil {
		return warehouseJSON{}, fmt.Errorf("warehouse %s: encode config: %w", v.Name, err)
	}
	out := warehouseJSON{Name: v.Name, Type: v.Type, Config: raw, HasPassword: v.HasPassword, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt}
	if c := v.LatestCrawl; c != nil {
		out.LatestCrawl = serverCrawlJSON(*c)
	}
	return out, nil
}

func serverCrawlJSON(c catalog.CrawlResult) *warehouseCrawlJSON {
	return &warehouseCrawlJSON{ID: c.ID, Warehouse: c.Warehouse, StartedAt: c.StartedAt, FinishedAt: c.FinishedAt,
		Status: c.Status, Error: c.Error, TablesSeen: c.TablesSeen, Added: c.Added, Changed: c.Changed, Removed: c.Removed}
}

func serverInfo(i catalog.WarehouseInfo) warehouse.Info {
	return warehouse.Info{Type: warehouse.Type(i.Type), ServerVersion: i.ServerVersion, CurrentUser: i.CurrentUser,
		CurrentDatabase: i.CurrentDatabase, Databases: i.Databases, Schemas: i.Schemas, Tables: i.Tables}
}

// serverViews is views against the server: every warehouse, or only the
// named one (none when the server has no such warehouse).
func (opts *WarehouseListOptions) serverViews(ctx context.Context, only string) ([]warehouseJSON, error) {
	if err := refuseDB(opts.DB); err != nil {
		return nil, err
	}
	c, err := opts.Server()
	if err != nil {
		return nil, err
	}
	var list []catalog.WarehouseView
	if only != "" {
		v, err := c.GetWarehouse(ctx, only)
		switch {
		case isServerNotFound(err):
			return nil, nil
		case err != nil:
			return nil, fmt.Errorf("get warehouse %q from the dbtlink server: %w", only, err)
		}
		list = append(list, *v)
	} else if list, err = c.ListWarehouses(ctx); err != nil {
		return nil, fmt.Errorf("list the warehouses of the dbtlink server: %w", err)
	}
	out := make([]warehouseJSON, 0, len(list))
	for _, v := range list {
		j, err := viewJSON(v)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

// warehouseAddServer stores a warehouse on the server. The server's POST
// does not test, and can test only a stored warehouse, so the test comes
// after the POST and a failed one deletes the warehouse again. With
// --replace the server tests the new connection before it replaces the old
// one, in one update: a replacement that fails leaves the old one.
func warehouseAddServer(ctx context.Context, opts *WarehouseAddOptions) error {
	cfg, dsnPassword, err := opts.config()
	if err != nil {
		return err
	}
	c, err := opts.Server()
	if err != nil {
		return err
	}
	// Refuse a taken name before asking for a password.
	exists := true
	if _, err := c.GetWarehouse(ctx, cfg.Name); isServerNotFound(err) {
		exists = false
	} else if err != nil {
		return fmt.Errorf("look up warehouse %q on the dbtlink server: %w", cfg.Name, err)
	}
	if exists && !opts.Replace {
		return usageError("warehouse %q already exists on the dbtlink server; pass --replace to overwrite it", cfg.Name)
	}
	password, err := opts.readPassword(cfg)
	if err != nil {
		return err
	}
	if dsnPassword != "" {
		if password != "" && password != dsnPassword {
			return usageError("--dsn holds a password and another was given (--password-stdin, --password-env or the prompt); give only one")
		}
		password = dsnPassword
		fmt.Fprintln(opts.IO.ErrOut, "The password in --dsn was moved out of the DSN into the server's sealed store; the stored DSN has none.")
	}
	out := warehouseAddJSON{Name: cfg.Name, Type: string(cfg.Type), Config: cfg, HasPassword: password != ""}
	if !opts.NoTest {
		fmt.Fprintf(opts.IO.ErrOut, "Testing %s from the dbtlink server %s ...\n", cfg.Redacted(), c.URL())
	}
	info, err := serverPutWarehouse(ctx, c, cfg, password, exists, !opts.NoTest)
	if err != nil {
		return err
	}
	if info != nil {
		out.Tested, out.Info = true, infoJSON(*info)
		if !opts.JSON {
			printWarehouseInfo(opts.IO, *info)
		}
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, out)
	}
	fmt.Fprintf(opts.IO.Out, "Stored warehouse %q (%s) on the dbtlink server %s. Crawl it with: dbtlink --server %s warehouse crawl %s\n",
		cfg.Name, cfg.Type, c.URL(), c.URL(), cfg.Name)
	return nil
}

// serverPutWarehouse creates cfg on the server, or replaces the one of the
// same name in place when replace, and tests it when test. A new warehouse
// that fails its test is deleted again; a replacement is tested by the
// server before it is stored, so a failed one leaves the old warehouse as
// it was. A failed test exits as the local add does. It returns what the
// test saw (nil when not tested).
func serverPutWarehouse(ctx context.Context, c *serverClient, cfg warehouse.Config, password string, replace, test bool) (*warehouse.Info, error) {
	in := serverWarehouseInput{Name: cfg.Name, Type: string(cfg.Type), Config: cfg, Password: password}
	if replace {
		info, err := c.ReplaceWarehouse(ctx, in, test)
		switch {
		case err != nil && test && isConnectFailure(err):
			return nil, withCode(warehouseServerCode(err), fmt.Errorf("%w\nNot replaced: the dbtlink server keeps warehouse %q as it was; fix the connection, or replace it anyway with --no-test", err, cfg.Name))
		case err != nil:
			return nil, withCode(warehouseServerCode(err), fmt.Errorf("replace warehouse %q on the dbtlink server: %w", cfg.Name, err))
		case info == nil:
			return nil, nil
		}
		wi := serverInfo(*info)
		return &wi, nil
	}
	if _, err := c.CreateWarehouse(ctx, in); err != nil {
		return nil, fmt.Errorf("add warehouse %q to the dbtlink server: %w", cfg.Name, err)
	}
	if !test {
		return nil, nil
	}
	info, err := c.TestWarehouse(ctx, cfg.Name)
	if err != nil {
		code := warehouseServerCode(err)
		if derr := c.DeleteWarehouse(context.WithoutCancel(ctx), cfg.Name); derr != nil {
			return nil, withCode(code, fmt.Errorf("%w\nwarehouse %q failed its test on the dbtlink server, and removing it failed too: %v", err, cfg.Name, derr))
		}
		return nil, withCode(code, fmt.Errorf("%w\nNot stored on the dbtlink server; fix the connection, or store it anyway with --no-test", err))
	}
	wi := serverInfo(info)
	return &wi, nil
}

// isConnectFailure says the server could not connect to the warehouse
// (it answers 502 for that).
func isConnectFailure(err error) bool {
	var se *serverError
	return errors.As(err, &se) && se.Status == http.StatusBadGateway
}

func warehouseTestServer(ctx context.Context, opts *WarehouseTestOptions) error {
	c, err := opts.Server()
	if err != nil {
		return err
	}
	info, err := c.TestWarehouse(ctx, opts.Name)
	if err != nil {
		if opts.JSON {
			_ = writeJSON(opts.IO.Out, map[string]any{"ok": false, "error": connectMessage(err)})
		}
		return withCode(warehouseServerCode(err), fmt.Errorf("test warehouse %q on the dbtlink server: %w", opts.Name, err))
	}
	wi := serverInfo(info)
	if opts.JSON {
		return writeJSON(opts.IO.Out, map[string]any{"ok": true, "info": infoJSON(wi)})
	}
	printWarehouseInfo(opts.IO, wi)
	return nil
}

func warehouseRemoveServer(ctx context.Context, opts *WarehouseRemoveOptions) error {
	c, err := opts.Server()
	if err != nil {
		return err
	}
	if err := c.DeleteWarehouse(ctx, opts.Name); err != nil {
		return fmt.Errorf("remove warehouse %q from the dbtlink server: %w", opts.Name, err)
	}
	fmt.Fprintf(opts.IO.Out, "Removed warehouse %q from the dbtlink server %s\n", opts.Name, c.URL())
	return nil
}

func warehouseCrawlServer(ctx context.Context, opts *WarehouseCrawlOptions) error {
	if err := refuseDB(opts.DB); err != nil {
		return err
	}
	c, err := opts.Server()
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "# crawl %s on the dbtlink server %s\n", opts.Name, c.URL())
	started := time.Now()
	res, err := c.CrawlWarehouse(ctx, opts.Name, progressTo(opts.IO))
	if err != nil {
		return withCode(warehouseServerCode(err), fmt.Errorf("crawl warehouse %q on the dbtlink server: %w", opts.Name, err))
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, serverCrawlJSON(res))
	}
	fmt.Fprintf(opts.IO.Out, "Crawled %s in %s: %d tables and views; %d added, %d changed, %d removed\n",
		opts.Name, time.Since(started).Round(time.Millisecond), res.TablesSeen, res.Added, res.Changed, res.Removed)
	return nil
}

// ---- warehouse push ----

// WarehousePushOptions holds the dependencies and flags of `warehouse push`.
type WarehousePushOptions struct {
	IO        *IOStreams
	OpenStore func() (*connection.Store, error)
	Server    func() (*serverClient, error)
	ServerURL string

	Names   []string
	All     bool
	Replace bool
	Test    bool
}

// NewCmdWarehousePush builds `dbtlink warehouse push`.
func NewCmdWarehousePush(f *Factory, runF func(*WarehousePushOptions) error) *cobra.Command {
	opts := &WarehousePushOptions{IO: f.IO, OpenStore: f.OpenStore, Server: f.Server}
	cmd := &cobra.Command{
		Use:   "push --server URL (NAME... | --all)",
		Short: "Copy local warehouse connections, with their passwords, to a dbtlink server",
		Long: `Copy the named warehouse connections from the local store (warehouses.json)
to the dbtlink server given by --server or $DBTLINK_SERVER, passwords
included (sent in the request body, sealed by the server); --all copies every
stored one.

A warehouse the server already has is skipped, unless --replace, which
replaces it on the server in one update (its crawled tables and descriptions
stay). With --test the server tests each copied warehouse: a new one that
fails is removed again, a replacement that fails is not stored and the
server keeps the old one. Each warehouse is
reported as copied or skipped.`,
		Example: `  dbtlink --server http://dbtlink.internal:8765 warehouse push prod
  dbtlink --server http://dbtlink.internal:8765 warehouse push --all --replace --test`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Names = args
			opts.ServerURL = f.ServerURL()
			switch {
			case opts.ServerURL == "":
				return usageError("warehouse push copies warehouse connections to a dbtlink server: pass --server URL (or set $%s)", EnvServer)
			case opts.All && len(args) > 0:
				return usageError("give warehouse NAMEs or --all, not both")
			case !opts.All && len(args) == 0:
				return usageError("which warehouses? Give their NAMEs, or --all")
			}
			if runF != nil {
				return runF(opts)
			}
			return warehousePushRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.All, "all", false, "push every stored warehouse connection")
	cmd.Flags().BoolVar(&opts.Replace, "replace", false, "replace warehouses the server already has")
	cmd.Flags().BoolVar(&opts.Test, "test", false, "have the server test each pushed warehouse (a new one that fails is removed again, a failed replacement leaves the old one)")
	return cmd
}

type pushedWarehouse struct {
	cfg      warehouse.Config
	password string
}

func warehousePushRun(ctx context.Context, opts *WarehousePushOptions) error {
	names := opts.Names
	if opts.All {
		st, err := opts.OpenStore()
		if err != nil {
			return err
		}
		list, err := st.ListWarehouses()
		if err != nil {
			return withCode(ExitUsage, err)
		}
		for _, w := range list {
			names = append(names, w.Name)
		}
		if len(names) == 0 {
			return withCode(ExitNotFound, errors.New("no local warehouses to push; add one with: dbtlink warehouse add NAME --type postgres --dsn URL"))
		}
	}
	// Every name is read before anything is copied, so a typo copies
	// nothing.
	whs := make([]pushedWarehouse, 0, len(names))
	for _, n := range names {
		cfg, password, err := storedWarehouse(opts.OpenStore, n)
		if err != nil {
			return err
		}
		whs = append(whs, pushedWarehouse{cfg, password})
	}
	c, err := opts.Server()
	if err != nil {
		return err
	}
	remote, err := c.ListWarehouses(ctx)
	if err != nil {
		return fmt.Errorf("list the warehouses of the dbtlink server: %w", err)
	}
	have := map[string]bool{}
	for _, r := range remote {
		have[r.Name] = true
	}
	var errs []error
	copied, skipped := 0, 0
	for _, w := range whs {
		name := w.cfg.Name
		if have[name] && !opts.Replace {
			fmt.Fprintf(opts.IO.ErrOut, "%s: skipped: the server already has a warehouse of that name (replace it with --replace)\n", name)
			skipped++
			continue
		}
		if _, err := serverPutWarehouse(ctx, c, w.cfg, w.password, have[name], opts.Test); err != nil {
			fmt.Fprintf(opts.IO.ErrOut, "%s: not copied: %v\n", name, err)
			errs = append(errs, err)
			continue
		}
		verb := "copied"
		if have[name] {
			verb = "replaced"
		}
		if opts.Test {
			verb += ", tested OK by the server"
		}
		fmt.Fprintf(opts.IO.ErrOut, "%s: %s\n", name, verb)
		copied++
	}
	fmt.Fprintf(opts.IO.ErrOut, "%d copied, %d skipped, %d failed.\n", copied, skipped, len(errs))
	if len(errs) > 0 {
		return &ExitError{Code: exitCode(errs[0]), Err: fmt.Errorf("%d of %d warehouses were not copied", len(errs), len(whs)), Silent: true}
	}
	return nil
}
