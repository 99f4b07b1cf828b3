package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/dbtlink/dbtlink/internal/catalog"
	"github.com/dbtlink/dbtlink/internal/connection"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/warehouse"
)

// localStoreHelp says where the local catalog lives, for every command that
// reads or writes it.
const localStoreHelp = `The catalog is the server database of dbtlink serve: --db, else $DBTLINK_DB,
else dbtlink.db in the dbtlink home directory. It is opened shared (without
the lock dbtlink serve takes), so these commands work beside a running server
on the same SQLite file (WAL mode; a write waits out the busy timeout for
another to finish). A postgres:// --db is shared by design.`

func newCmdWarehouse(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "warehouse",
		Short: "Add, test and crawl the warehouses the catalog reads",
		Long: `Store connections to data warehouses (PostgreSQL, Redshift, DuckDB) and crawl
their tables and views into the catalog.

Connections are kept in warehouses.json in the dbtlink home directory; a
password is sealed there with the store's key, like dbt Cloud tokens, and is
never accepted as a flag value.

With --server URL (or $DBTLINK_SERVER) every subcommand works on the dbtlink
server's own warehouse connections instead, sealed in its database; the
server connects, and crawls into its own catalog. The flags (but --db), output
and exit status are the same. warehouse push copies local connections,
passwords included, to a server.

` + localStoreHelp,
	}
	cmd.AddCommand(NewCmdWarehouseAdd(f, nil), NewCmdWarehouseList(f, nil), NewCmdWarehouseShow(f, nil),
		NewCmdWarehouseTest(f, nil), NewCmdWarehouseRemove(f, nil), NewCmdWarehouseCrawl(f, nil),
		NewCmdWarehousePush(f, nil))
	return cmd
}

// ---- warehouse add ----

// WarehouseAddOptions holds the dependencies and flags of `warehouse add`.
type WarehouseAddOptions struct {
	IO        *IOStreams
	OpenStore func() (*connection.Store, error)
	Getenv    func(string) string
	// Server is the dbtlink server client, used when ServerURL is set
	// (--server or $DBTLINK_SERVER).
	Server    func() (*serverClient, error)
	ServerURL string
	// PromptPassword asks for the password with echo off; nil reads the
	// terminal on IO.In.
	PromptPassword func(prompt string) (string, error)

	Name           string
	Type           string
	DSN            string
	Path           string
	Host           string
	Port           int
	Database       string
	User           string
	SSLMode        string
	Options        []string
	Databases      []string
	IncludeSchemas []string
	ExcludeSchemas []string
	IncludeTables  []string
	ExcludeTables  []string
	PasswordStdin  bool
	PasswordEnv    string
	Replace        bool
	NoTest         bool
	JSON           bool
	// PasswordFlag is the hidden --password, kept only to refuse it.
	PasswordFlag string
}

// NewCmdWarehouseAdd builds `dbtlink warehouse add`.
func NewCmdWarehouseAdd(f *Factory, runF func(*WarehouseAddOptions) error) *cobra.Command {
	opts := &WarehouseAddOptions{IO: f.IO, OpenStore: f.OpenStore, Getenv: f.Getenv, Server: f.Server}
	cmd := &cobra.Command{
		Use:   "add NAME --type postgres|redshift|duckdb",
		Short: "Store a warehouse connection, after testing it",
		Long: `Store a connection to a warehouse under NAME.

PostgreSQL and Redshift take --dsn (a postgres:// URL or a "host=... dbname=..."
string) or the fields --host, --port, --database, --user, --sslmode and
--option k=v. DuckDB takes --path, its database file (opened read-only).

The password comes from --password-stdin, --password-env VAR, or a hidden
prompt when standard input is a terminal; none is stored otherwise (trust or
.pgpass authentication). It is never accepted as a flag value. A password
inside --dsn is moved out of the DSN into the sealed store, and you are told.

Comma lists and repeated flags both work for --databases and the filters.
Filter patterns are globs (* and ?): schemas as "schema" or "database.schema",
tables as "table", "schema.table" or "database.schema.table".

With --server, the server stores it (the password sealed in its database)
and, unless --no-test, tests it right after; one that fails is deleted again.
With --server and --replace, the server tests the new connection first and
then replaces the stored one in a single update, keeping its crawled tables,
their descriptions and its crawls; a replacement that fails its test leaves
the old warehouse as it was.

Unless --no-test, the connection is tested first and stored only if it works;
what the test saw (server version, user, database, what a crawl would read)
is printed.`,
		Example: `  dbtlink warehouse add prod --type postgres --dsn 'postgres://analyst@db.internal:5432/analytics?sslmode=require' --password-env PGPASSWORD
  printf '%s' "$PW" | dbtlink warehouse add rs --type redshift --host x.redshift.amazonaws.com --database dev --user admin --password-stdin
  dbtlink warehouse add local --type duckdb --path ./jaffle_shop.duckdb --include-schemas main,raw
  dbtlink --server http://dbtlink.internal:8765 warehouse add prod --type postgres --dsn 'postgres://analyst@db.internal/analytics' --password-env PGPASSWORD
  dbtlink warehouse add prod --type postgres --host 127.0.0.1 --database test --user postgres --option application_name=dbtlink --exclude-tables 'tmp_*' --replace --no-test`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("password") {
				return usageError("passwords are not accepted as flag values because they land in shell history and the process list; use --password-stdin (printf '%%s' \"$PW\" | dbtlink warehouse add ...), --password-env VAR, or run in a terminal to be prompted")
			}
			opts.Name = args[0]
			opts.ServerURL = f.ServerURL()
			if runF != nil {
				return runF(opts)
			}
			if opts.ServerURL != "" {
				return warehouseAddServer(cmd.Context(), opts)
			}
			return warehouseAddRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Type, "type", "", "warehouse type: postgres, redshift or duckdb (required)")
	fl.StringVar(&opts.DSN, "dsn", "", "connection string: a postgres:// URL or \"host=... dbname=...\" (postgres, redshift)")
	fl.StringVar(&opts.Path, "path", "", "DuckDB database `FILE` (duckdb)")
	fl.StringVar(&opts.Host, "host", "", "server host name or address")
	fl.IntVar(&opts.Port, "port", 0, "server port (default 5432, Redshift 5439)")
	fl.StringVar(&opts.Database, "database", "", "database to connect to")
	fl.StringVar(&opts.User, "user", "", "user name")
	fl.StringVar(&opts.SSLMode, "sslmode", "", "disable, allow, prefer, require, verify-ca or verify-full")
	fl.StringArrayVar(&opts.Options, "option", nil, "further connection parameter `k=v` (repeatable), e.g. application_name=dbtlink")
	fl.StringSliceVar(&opts.Databases, "databases", nil, "further databases on the same server to crawl (comma list or repeated)")
	fl.StringSliceVar(&opts.IncludeSchemas, "include-schemas", nil, "crawl only schemas matching these globs")
	fl.StringSliceVar(&opts.ExcludeSchemas, "exclude-schemas", nil, "skip schemas matching these globs")
	fl.StringSliceVar(&opts.IncludeTables, "include-tables", nil, "crawl only tables matching these globs")
	fl.StringSliceVar(&opts.ExcludeTables, "exclude-tables", nil, "skip tables matching these globs")
	fl.BoolVar(&opts.PasswordStdin, "password-stdin", false, "read the password from standard input")
	fl.StringVar(&opts.PasswordEnv, "password-env", "", "read the password from the environment variable `VAR`")
	fl.BoolVar(&opts.Replace, "replace", false, "replace a stored warehouse of the same name")
	fl.BoolVar(&opts.NoTest, "no-test", false, "store without testing the connection first")
	fl.BoolVar(&opts.JSON, "json", false, "print the stored configuration (and the test's findings) as JSON")
	fl.StringVar(&opts.PasswordFlag, "password", "", "refused: passwords must not be passed as flag values")
	_ = fl.MarkHidden("password")
	return cmd
}

// config turns the flags into a warehouse.Config; the password split out
// of a DSN is returned apart.
func (opts *WarehouseAddOptions) config() (warehouse.Config, string, error) {
	cfg := warehouse.Config{
		Name: opts.Name, Type: warehouse.Type(strings.ToLower(opts.Type)),
		Host: opts.Host, Port: opts.Port, Database: opts.Database, User: opts.User, SSLMode: opts.SSLMode,
		Databases: opts.Databases,
		Filter: warehouse.Filter{IncludeSchemas: opts.IncludeSchemas, ExcludeSchemas: opts.ExcludeSchemas,
			IncludeTables: opts.IncludeTables, ExcludeTables: opts.ExcludeTables},
	}
	if opts.Type == "" {
		return cfg, "", usageError("--type is required: postgres, redshift or duckdb")
	}
	for _, kv := range opts.Options {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return cfg, "", usageError("--option %q: write it as key=value, e.g. --option application_name=dbtlink", kv)
		}
		if cfg.Options == nil {
			cfg.Options = map[string]string{}
		}
		cfg.Options[strings.TrimSpace(k)] = v
	}
	var dsnPassword string
	switch cfg.Type {
	case warehouse.DuckDB:
		if opts.DSN != "" && opts.Path != "" {
			return cfg, "", usageError("--dsn and --path both name the DuckDB file; give only --path")
		}
		cfg.DSN = opts.Path
		if cfg.DSN == "" {
			cfg.DSN = opts.DSN
		}
		if cfg.DSN == "" {
			return cfg, "", usageError("a duckdb warehouse needs --path FILE, its database file")
		}
	default:
		if opts.Path != "" {
			return cfg, "", usageError("--path is for duckdb warehouses; a %s warehouse takes --dsn or --host/--database/--user", opts.Type)
		}
		if opts.DSN != "" {
			clean, pw, err := warehouse.SplitPassword(opts.DSN)
			if err != nil {
				return cfg, "", usageError("--dsn: %w", err)
			}
			cfg.DSN, dsnPassword = clean, pw
		}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, "", withCode(ExitUsage, err)
	}
	return cfg, dsnPassword, nil
}

// readPassword takes the password from the first source given; "" means
// none.
func (opts *WarehouseAddOptions) readPassword(cfg warehouse.Config) (string, error) {
	if opts.PasswordStdin && opts.PasswordEnv != "" {
		return "", usageError("--password-stdin and --password-env both name a password source; give only one")
	}
	if cfg.Type == warehouse.DuckDB && (opts.PasswordStdin || opts.PasswordEnv != "") {
		return "", usageError("a duckdb warehouse is a file and takes no password; drop --password-stdin/--password-env")
	}
	switch {
	case opts.PasswordStdin:
		tok, err := connection.ReadToken(opts.IO.In)
		if err != nil {
			return "", usageError("--password-stdin: %s", strings.ReplaceAll(err.Error(), "token", "password"))
		}
		return tok.Reveal(), nil
	case opts.PasswordEnv != "":
		v := strings.TrimSpace(opts.Getenv(opts.PasswordEnv))
		if v == "" {
			return "", usageError("--password-env %s: the variable is unset or empty; export it, or use --password-stdin", opts.PasswordEnv)
		}
		return v, nil
	case cfg.Type != warehouse.DuckDB && opts.IO.CanPrompt():
		prompt := opts.PromptPassword
		if prompt == nil {
			prompt = opts.promptTerminal
		}
		return prompt(fmt.Sprintf("password of %s for warehouse %q (input hidden, empty for none): ", cfg.User, opts.Name))
	}
	return "", nil
}

func (opts *WarehouseAddOptions) promptTerminal(prompt string) (string, error) {
	in, ok := opts.IO.In.(*os.File)
	if !ok {
		return "", usageError("cannot prompt for the password: standard input is not a terminal; use --password-stdin")
	}
	fmt.Fprint(opts.IO.ErrOut, prompt)
	b, err := term.ReadPassword(int(in.Fd()))
	fmt.Fprintln(opts.IO.ErrOut)
	if err != nil {
		return "", withCode(ExitUsage, fmt.Errorf("read the password from the terminal: %w", err))
	}
	return strings.TrimSpace(string(b)), nil
}

// warehouseAddJSON is what `warehouse add --json` prints.
type warehouseAddJSON struct {
	Name        string           `json:"name"`
	Type        string           `json:"type"`
	Config      warehouse.Config `json:"config"`
	HasPassword bool             `json:"has_password"`
	Tested      bool             `json:"tested"`
	Info        *warehouseInfo   `json:"info,omitempty"`
}

// warehouseInfo is warehouse.Info with JSON names.
type warehouseInfo struct {
	Type            string   `json:"type"`
	ServerVersion   string   `json:"server_version"`
	CurrentUser     string   `json:"current_user,omitempty"`
	CurrentDatabase string   `json:"current_database"`
	Databases       []string `json:"databases,omitempty"`
	Schemas         int      `json:"schemas"`
	Tables          int      `json:"tables"`
}

func infoJSON(i warehouse.Info) *warehouseInfo {
	return &warehouseInfo{Type: string(i.Type), ServerVersion: i.ServerVersion, CurrentUser: i.CurrentUser,
		CurrentDatabase: i.CurrentDatabase, Databases: i.Databases, Schemas: i.Schemas, Tables: i.Tables}
}

func warehouseAddRun(ctx context.Context, opts *WarehouseAddOptions) error {
	cfg, dsnPassword, err := opts.config()
	if err != nil {
		return err
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
		fmt.Fprintln(opts.IO.ErrOut, "The password in --dsn was moved out of the DSN into the sealed store; the stored DSN has none.")
	}
	st, err := opts.OpenStore()
	if err != nil {
		return err
	}
	if !opts.Replace {
		if _, err := st.GetWarehouse(opts.Name); err == nil {
			return usageError("warehouse %q already exists; pass --replace to overwrite it", opts.Name)
		}
	}
	out := warehouseAddJSON{Name: cfg.Name, Type: string(cfg.Type), Config: cfg, HasPassword: password != ""}
	if !opts.NoTest {
		fmt.Fprintf(opts.IO.ErrOut, "Testing %s ...\n", cfg.Redacted())
		info, err := testWarehouse(ctx, cfg, password)
		if err != nil {
			return withCode(connectErrorCode(err), fmt.Errorf("%w\nNot stored; fix the connection, or store it anyway with --no-test", err))
		}
		out.Tested, out.Info = true, infoJSON(info)
		if !opts.JSON {
			printWarehouseInfo(opts.IO, info)
		}
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	if err := st.AddWarehouse(connection.Warehouse{Name: cfg.Name, Type: string(cfg.Type), Config: raw, Password: connection.NewToken(password)},
		connection.AddOptions{Replace: opts.Replace}); err != nil {
		return withCode(ExitUsage, err)
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, out)
	}
	fmt.Fprintf(opts.IO.Out, "Stored warehouse %q (%s). Crawl it with: dbtlink warehouse crawl %s\n", cfg.Name, cfg.Type, cfg.Name)
	return nil
}

func testWarehouse(ctx context.Context, cfg warehouse.Config, password string) (warehouse.Info, error) {
	adapter, err := warehouse.Lookup(cfg.Type)
	if err != nil {
		return warehouse.Info{}, withCode(ExitUsage, err)
	}
	conn, err := adapter.Open(ctx, cfg, password)
	if err != nil {
		return warehouse.Info{}, err
	}
	defer conn.Close()
	return conn.Test(ctx)
}

func printWarehouseInfo(ios *IOStreams, info warehouse.Info) {
	w := ios.Out
	fmt.Fprintf(w, "Connected: %s %s\n", info.Type, info.ServerVersion)
	if info.CurrentUser != "" {
		fmt.Fprintf(w, "  user:      %s\n", info.CurrentUser)
	}
	fmt.Fprintf(w, "  database:  %s\n", info.CurrentDatabase)
	if len(info.Databases) > 1 {
		fmt.Fprintf(w, "  visible:   %s\n", strings.Join(info.Databases, ", "))
	}
	fmt.Fprintf(w, "  a crawl would read %d table(s) and view(s) in %d schema(s)\n", info.Tables, info.Schemas)
}

// connectErrorCode maps a failed connection to an exit code as connection
// test does: rejected credentials 5, a missing database or file 6, a build
// without DuckDB 2, network and everything else 7.
func connectErrorCode(err error) int {
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	switch {
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	case errors.Is(err, warehouse.ErrAuth), errors.Is(err, warehouse.ErrPermission):
		return ExitAuth
	case errors.Is(err, warehouse.ErrNoDatabase), errors.Is(err, warehouse.ErrFileNotFound):
		return ExitNotFound
	case errors.Is(err, warehouse.ErrNoCgo):
		return ExitUsage
	}
	var ce *warehouse.ConnectError
	if errors.As(err, &ce) {
		return ExitUpstream
	}
	return exitCode(err)
}

// ---- shared ----

// storedWarehouse reads a stored warehouse with its password.
func storedWarehouse(open func() (*connection.Store, error), name string) (warehouse.Config, string, error) {
	st, err := open()
	if err != nil {
		return warehouse.Config{}, "", err
	}
	w, err := st.GetWarehouse(name)
	if err != nil {
		if errors.Is(err, connection.ErrNotFound) {
			return warehouse.Config{}, "", withCode(ExitNotFound, err)
		}
		return warehouse.Config{}, "", withCode(ExitUsage, err)
	}
	var cfg warehouse.Config
	if err := json.Unmarshal(w.Config, &cfg); err != nil {
		return cfg, "", usageError("warehouse %q in %s: %w; add it again with warehouse add %s --replace", name, w.Origin, err, name)
	}
	cfg.Name = w.Name
	return cfg, w.Password.Reveal(), nil
}

// ---- warehouse list ----

// WarehouseListOptions holds the dependencies and flags of `warehouse list`
// and `warehouse show`.
type WarehouseListOptions struct {
	WarehouseTarget
	OpenDB func(ctx context.Context) (*store.Store, func(), error)
	JSON   bool
	DB     string
}

// warehouseJSON is a stored warehouse as list and show print it: never its
// password.
type warehouseJSON struct {
	Name        string              `json:"name"`
	Type        string              `json:"type"`
	Config      json.RawMessage     `json:"config"`
	HasPassword bool                `json:"has_password"`
	CreatedAt   time.Time           `json:"created_at"`
	UpdatedAt   time.Time           `json:"updated_at"`
	LatestCrawl *warehouseCrawlJSON `json:"latest_crawl,omitempty"`
}

// warehouseCrawlJSON is a crawl as the API's POST /warehouses/{name}/crawl
// answers it (snake_case names of store.Crawl).
type warehouseCrawlJSON struct {
	ID         int64     `json:"id"`
	Warehouse  string    `json:"warehouse"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	Status     string    `json:"status"`
	Error      string    `json:"error,omitempty"`
	TablesSeen int       `json:"tables_seen"`
	Added      int       `json:"added"`
	Changed    int       `json:"changed"`
	Removed    int       `json:"removed"`
}

func crawlJSON(c store.Crawl) *warehouseCrawlJSON {
	return &warehouseCrawlJSON{ID: c.ID, Warehouse: c.Warehouse, StartedAt: c.StartedAt, FinishedAt: c.FinishedAt,
		Status: c.Status, Error: c.Error, TablesSeen: c.TablesSeen, Added: c.Added, Changed: c.Changed, Removed: c.Removed}
}

func (c *warehouseCrawlJSON) line() string {
	if c == nil {
		return "never crawled"
	}
	s := fmt.Sprintf("%s %s", c.Status, formatTime(c.StartedAt))
	if c.Status == "ok" {
		s += fmt.Sprintf(": %d tables, %d added, %d changed, %d removed", c.TablesSeen, c.Added, c.Changed, c.Removed)
	}
	if c.Error != "" {
		s += ": " + c.Error
	}
	return s
}

func newListOpts(f *Factory) *WarehouseListOptions {
	o := &WarehouseListOptions{WarehouseTarget: newWarehouseTarget(f)}
	o.OpenDB = func(ctx context.Context) (*store.Store, func(), error) { return openServerStoreShared(ctx, f, o.DB) }
	return o
}

// NewCmdWarehouseList builds `dbtlink warehouse list`.
func NewCmdWarehouseList(f *Factory, runF func(*WarehouseListOptions) error) *cobra.Command {
	opts := newListOpts(f)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the stored warehouses and their latest crawl",
		Long:  "List the stored warehouse connections (never a password), with the latest crawl of each from the catalog.\n\n" + localStoreHelp,
		Example: `  dbtlink warehouse list
  dbtlink warehouse list --json | jq -r '.[].name'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ServerURL = f.ServerURL()
			if runF != nil {
				return runF(opts)
			}
			return warehouseListRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the warehouses as a JSON array")
	addDBFlag(cmd, &opts.DB)
	return cmd
}

func (opts *WarehouseListOptions) views(ctx context.Context, only string) ([]warehouseJSON, error) {
	if opts.ServerURL != "" {
		return opts.serverViews(ctx, only)
	}
	st, err := opts.OpenStore()
	if err != nil {
		return nil, err
	}
	list, err := st.ListWarehouses()
	if err != nil {
		return nil, withCode(ExitUsage, err)
	}
	var out []warehouseJSON
	for _, w := range list {
		if only != "" && w.Name != only {
			continue
		}
		out = append(out, warehouseJSON{Name: w.Name, Type: w.Type, Config: w.Config, HasPassword: w.HasPassword, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt})
	}
	if len(out) == 0 {
		return out, nil
	}
	db, closeDB, err := opts.OpenDB(ctx)
	if err != nil {
		return nil, err
	}
	defer closeDB()
	for i := range out {
		c, err := db.LatestCrawl(ctx, out[i].Name)
		switch {
		case err == nil:
			out[i].LatestCrawl = crawlJSON(c)
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
	}
	return out, nil
}

func warehouseListRun(ctx context.Context, opts *WarehouseListOptions) error {
	views, err := opts.views(ctx, "")
	if err != nil {
		return err
	}
	if opts.JSON {
		if views == nil {
			views = []warehouseJSON{}
		}
		return writeJSON(opts.IO.Out, views)
	}
	if len(views) == 0 {
		fmt.Fprintln(opts.IO.ErrOut, "No warehouses. Add one with: dbtlink warehouse add NAME --type postgres --dsn URL")
		return nil
	}
	t := newTable(opts.IO.Out, "NAME", "TYPE", "TARGET", "PASSWORD", "LATEST CRAWL")
	for _, v := range views {
		var cfg warehouse.Config
		target := "?"
		if json.Unmarshal(v.Config, &cfg) == nil {
			cfg.Name = v.Name
			target = cfg.Redacted()
		}
		t.row(v.Name, v.Type, target, yesNo(v.HasPassword), v.LatestCrawl.line())
	}
	return t.flush()
}

func yesNo(b bool) string {
	if b {
		return "sealed"
	}
	return "none"
}

// NewCmdWarehouseShow builds `dbtlink warehouse show`.
func NewCmdWarehouseShow(f *Factory, runF func(*WarehouseListOptions) error) *cobra.Command {
	opts := newListOpts(f)
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a stored warehouse's configuration and latest crawl",
		Long:  "Show a stored warehouse connection (never its password) and its latest crawl.\n\n" + localStoreHelp,
		Example: `  dbtlink warehouse show prod
  dbtlink warehouse show prod --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			opts.ServerURL = f.ServerURL()
			if runF != nil {
				return runF(opts)
			}
			return warehouseShowRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the warehouse as JSON")
	addDBFlag(cmd, &opts.DB)
	return cmd
}

func warehouseShowRun(ctx context.Context, opts *WarehouseListOptions) error {
	views, err := opts.views(ctx, opts.Name)
	if err != nil {
		return err
	}
	if len(views) == 0 {
		return withCode(ExitNotFound, fmt.Errorf("no warehouse %q; list them with dbtlink warehouse list", opts.Name))
	}
	v := views[0]
	if opts.JSON {
		return writeJSON(opts.IO.Out, v)
	}
	var cfg warehouse.Config
	if err := json.Unmarshal(v.Config, &cfg); err != nil {
		return usageError("warehouse %q: stored config: %w", v.Name, err)
	}
	cfg.Name = v.Name
	w := opts.IO.Out
	fmt.Fprintf(w, "Warehouse %s (%s)\n", v.Name, v.Type)
	fmt.Fprintf(w, "  target:     %s\n", cfg.Redacted())
	fmt.Fprintf(w, "  password:   %s\n", yesNo(v.HasPassword))
	if len(cfg.Databases) > 0 {
		fmt.Fprintf(w, "  databases:  %s\n", strings.Join(cfg.Databases, ", "))
	}
	for _, fl := range []struct {
		label string
		v     []string
	}{{"include schemas", cfg.Filter.IncludeSchemas}, {"exclude schemas", cfg.Filter.ExcludeSchemas},
		{"include tables", cfg.Filter.IncludeTables}, {"exclude tables", cfg.Filter.ExcludeTables}} {
		if len(fl.v) > 0 {
			fmt.Fprintf(w, "  %s: %s\n", fl.label, strings.Join(fl.v, ", "))
		}
	}
	fmt.Fprintf(w, "  added:      %s\n", formatTime(v.CreatedAt))
	fmt.Fprintf(w, "  crawl:      %s\n", v.LatestCrawl.line())
	return nil
}

// ---- warehouse test ----

// WarehouseTestOptions holds the dependencies and flags of `warehouse test`.
type WarehouseTestOptions struct {
	WarehouseTarget
	JSON bool
}

// NewCmdWarehouseTest builds `dbtlink warehouse test`.
func NewCmdWarehouseTest(f *Factory, runF func(*WarehouseTestOptions) error) *cobra.Command {
	opts := &WarehouseTestOptions{WarehouseTarget: newWarehouseTarget(f)}
	cmd := &cobra.Command{
		Use:   "test NAME",
		Short: "Check that a stored warehouse connection works",
		Long: `Connect to the stored warehouse and say what it sees: server version, user,
database, and how many schemas and tables a crawl would read. A failure is
said in a plain sentence with what to do.

Exit status: 0 when it works, 5 when the password or user is rejected or lacks
permission, 6 when the database (or DuckDB file) does not exist, 7 for network,
DNS, TLS and other connection failures, 2 for a broken configuration.`,
		Example: `  dbtlink warehouse test prod
  dbtlink warehouse test prod --json`,
		Args: cobra.ExactArgs(1),
		RunE: nameCommand(f, opts, &opts.WarehouseTarget, runF, warehouseTestRun, warehouseTestServer),
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print {\"ok\": true, \"info\": ...} as JSON")
	return cmd
}

func warehouseTestRun(ctx context.Context, opts *WarehouseTestOptions) error {
	cfg, password, err := storedWarehouse(opts.OpenStore, opts.Name)
	if err != nil {
		return err
	}
	info, err := testWarehouse(ctx, cfg, password)
	if err != nil {
		if opts.JSON {
			_ = writeJSON(opts.IO.Out, map[string]any{"ok": false, "error": err.Error()})
		}
		return withCode(connectErrorCode(err), err)
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, map[string]any{"ok": true, "info": infoJSON(info)})
	}
	printWarehouseInfo(opts.IO, info)
	return nil
}

// ---- warehouse remove ----

// WarehouseRemoveOptions holds the dependencies and flags of `warehouse remove`.
type WarehouseRemoveOptions struct {
	WarehouseTarget
}

// NewCmdWarehouseRemove builds `dbtlink warehouse remove`.
func NewCmdWarehouseRemove(f *Factory, runF func(*WarehouseRemoveOptions) error) *cobra.Command {
	opts := &WarehouseRemoveOptions{WarehouseTarget: newWarehouseTarget(f)}
	cmd := &cobra.Command{
		Use:   "remove NAME",
		Short: "Delete a stored warehouse connection",
		Long: `Delete the stored connection and its sealed password. The tables already
crawled stay in the catalog; crawl another connection of the same name to update them.`,
		Example: `  dbtlink warehouse remove prod`,
		Args:    cobra.ExactArgs(1),
		RunE:    nameCommand(f, opts, &opts.WarehouseTarget, runF, warehouseRemoveRun, warehouseRemoveServer),
	}
	return cmd
}

func warehouseRemoveRun(_ context.Context, opts *WarehouseRemoveOptions) error {
	st, err := opts.OpenStore()
	if err != nil {
		return err
	}
	if err := st.RemoveWarehouse(opts.Name); err != nil {
		if errors.Is(err, connection.ErrNotFound) {
			return withCode(ExitNotFound, err)
		}
		return withCode(ExitUsage, err)
	}
	fmt.Fprintf(opts.IO.Out, "Removed warehouse %q\n", opts.Name)
	return nil
}

// ---- warehouse crawl ----

// WarehouseCrawlOptions holds the dependencies and flags of `warehouse crawl`.
type WarehouseCrawlOptions struct {
	WarehouseTarget
	OpenDB func(ctx context.Context) (*store.Store, func(), error)
	JSON   bool
	DB     string
}

// NewCmdWarehouseCrawl builds `dbtlink warehouse crawl`.
func NewCmdWarehouseCrawl(f *Factory, runF func(*WarehouseCrawlOptions) error) *cobra.Command {
	opts := &WarehouseCrawlOptions{WarehouseTarget: newWarehouseTarget(f)}
	opts.OpenDB = func(ctx context.Context) (*store.Store, func(), error) { return openServerStoreShared(ctx, f, opts.DB) }
	cmd := &cobra.Command{
		Use:   "crawl NAME",
		Short: "Read a warehouse's tables and views into the catalog",
		Long: `Read every table and view the stored warehouse's filter admits, with their
columns, into the catalog: new ones are added, changed ones updated, and ones
no longer there marked removed (kept, with when they were last seen).
Descriptions set with dbtlink catalog describe are never touched.

A progress line per step goes to standard error (with --server, as the
server sends them); the summary (added, changed, removed) to standard output.

` + localStoreHelp + `

Exit status: as for warehouse test when the connection fails.`,
		Example: `  dbtlink warehouse crawl prod
  dbtlink warehouse crawl prod --db /srv/dbtlink/dbtlink.db --json
  dbtlink --server http://dbtlink.internal:8765 warehouse crawl prod`,
		Args: cobra.ExactArgs(1),
		RunE: nameCommand(f, opts, &opts.WarehouseTarget, runF, warehouseCrawlRun, warehouseCrawlServer),
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the crawl as JSON")
	addDBFlag(cmd, &opts.DB)
	return cmd
}

func warehouseCrawlRun(ctx context.Context, opts *WarehouseCrawlOptions) error {
	cfg, password, err := storedWarehouse(opts.OpenStore, opts.Name)
	if err != nil {
		return err
	}
	db, closeDB, err := opts.OpenDB(ctx)
	if err != nil {
		return err
	}
	defer closeDB()
	svc := &catalog.Service{Store: db}
	started := time.Now()
	c, err := svc.Crawl(ctx, cfg, password, progressTo(opts.IO))
	if err != nil {
		return withCode(connectErrorCode(err), err)
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, crawlJSON(c))
	}
	fmt.Fprintf(opts.IO.Out, "Crawled %s in %s: %d tables and views; %d added, %d changed, %d removed\n",
		cfg.Name, time.Since(started).Round(time.Millisecond), c.TablesSeen, c.Added, c.Changed, c.Removed)
	return nil
}

// progressTo prints each step on standard error.
func progressTo(ios *IOStreams) catalog.Progress {
	return func(step string) { fmt.Fprintln(ios.ErrOut, "# "+step) }
}
