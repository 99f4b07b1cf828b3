package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/internal/connection"
	serverstore "github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/tracker"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func newCmdConnection(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "connection",
		Aliases: []string{"connections"},
		Short:   "Add, list, test and remove dbt Cloud connections",
		Long: `A connection is a name, a dbt Cloud access URL, an account id and an API token.
Stored connections live under $DBTLINK_HOME (default ~/.config/dbtlink) with
their tokens encrypted; DBT_CLOUD_HOST, DBT_CLOUD_ACCOUNT_ID and
DBT_CLOUD_API_TOKEN form a connection named "env", and AIRFLOW_CONN_* variables
of type dbt_cloud can be imported.

Tokens are never accepted as flag values: they would land in shell history and
in the process list. Pipe them in (--token-stdin), name an environment variable
(--token-env), or type them at the prompt.

With --server URL (or $DBTLINK_SERVER), list, add, test and remove work on
the connections of that dbtlink server instead, and push copies local
connections (with their tokens) to it.`,
	}
	cmd.AddCommand(
		NewCmdConnectionAdd(f, nil),
		NewCmdConnectionList(f, nil),
		NewCmdConnectionShow(f, nil),
		NewCmdConnectionRemove(f, nil),
		NewCmdConnectionDefault(f, nil),
		NewCmdConnectionTest(f, nil),
		NewCmdConnectionImportAirflow(f, nil),
		NewCmdConnectionRotateKey(f, nil),
		NewCmdConnectionPush(f, nil),
	)
	return cmd
}

// connTestClientOptions keep `connection test` (and the test run by add) quick on a
// broken connection: one retry, then the report. The factory's client
// options come after it, so tests can still make retries instant.
func connTestClientOptions(extra []dbtcloud.Option) []dbtcloud.Option {
	opts := []dbtcloud.Option{
		dbtcloud.WithRetryPolicy(dbtcloud.RetryPolicy{MaxAttempts: 2, MinBackoff: 500 * time.Millisecond, MaxBackoff: 2 * time.Second, MaxElapsed: 10 * time.Second}),
		dbtcloud.WithTimeout(15 * time.Second),
	}
	return append(opts, extra...)
}

// connDiagnose runs connection.Diagnose for c.
func connDiagnose(ctx context.Context, c *connection.Connection, clientOpts []dbtcloud.Option) (connection.Report, error) {
	client, err := dbtcloud.NewClient(c.Host, c.Token.Reveal(), connTestClientOptions(clientOpts)...)
	if err != nil {
		return connection.Report{}, withCode(ExitUsage, fmt.Errorf("connection %q: %w", c.Name, err))
	}
	return connection.Diagnose(ctx, client, c.AccountID), nil
}

// diagnosisExitCode maps the first failed check of a report to an exit
// code: an unreachable host is a network failure (7), a rejected token or a
// denied account an auth failure (5), an invisible account "not found" (6).
func diagnosisExitCode(r connection.Report) int {
	for _, c := range r.Checks {
		if c.Status != connection.CheckFail {
			continue
		}
		if c.Name == connection.CheckHost {
			return ExitUpstream
		}
		if code, ok := classifyAPIError(c.Err); ok && code != ExitUsage {
			return code
		}
		return ExitUpstream
	}
	if r.OK() {
		return ExitOK
	}
	return ExitUpstream
}

// ---- connection add ----

// ConnectionAddOptions holds the dependencies and flags of `connection add`.
type ConnectionAddOptions struct {
	// Server is the dbtlink server client, used when ServerURL is set
	// (--server or $DBTLINK_SERVER).
	Server        func() (*serverClient, error)
	ServerURL     string
	IO            *IOStreams
	OpenStore     func() (*connection.Store, error)
	Getenv        func(string) string
	ClientOptions []dbtcloud.Option
	// PromptToken asks for the token with echo turned off. Nil reads from
	// the terminal on IO.In.
	PromptToken func(prompt string) (connection.Token, error)

	Name       string
	Host       string
	AccountID  int64
	TokenStdin bool
	TokenEnv   string
	Default    bool
	Force      bool
	NoTest     bool
	// TokenFlag is the hidden --token flag, kept only to refuse it with a
	// helpful message instead of cobra's bare "unknown flag".
	TokenFlag string
}

// NewCmdConnectionAdd builds `dbtlink connection add`.
func NewCmdConnectionAdd(f *Factory, runF func(*ConnectionAddOptions) error) *cobra.Command {
	opts := &ConnectionAddOptions{IO: f.IO, OpenStore: f.OpenStore, Getenv: f.Getenv, Server: f.Server}
	cmd := &cobra.Command{
		Use:   "add NAME --host HOST --account-id ID",
		Short: "Store a dbt Cloud connection (the token is read from stdin, a variable or a prompt)",
		Long: `Store a connection named NAME, its token encrypted.

The token comes from, in order: --token-stdin (standard input), --token-env VAR
(that environment variable), DBT_CLOUD_API_TOKEN when set, or a prompt with
echo off when run in a terminal.

Before saving, the connection is tested (the host answers, the token is
accepted, the account is readable). If the test fails, nothing is saved, the
report is printed and the exit code says why (5 token or permission, 6
account not found, 7 network). --no-test saves without testing, e.g. when
dbt Cloud cannot be reached from this machine.`,
		Example: `  printf '%s' "$TOKEN" | dbtlink connection add prod --host ab123.us1.dbt.com --account-id 12345 --token-stdin
  dbtlink connection add prod --host cloud.getdbt.com --account-id 12345 --token-env PROD_DBT_TOKEN --default
  dbtlink connection add prod --host emea.dbt.com --account-id 12345     # prompts for the token`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			opts.ClientOptions = f.ClientOptions
			if cmd.Flags().Changed("token") {
				// The value is deliberately not repeated.
				return usageError("tokens are not accepted as flag values because they land in shell history and the process list; use --token-stdin (printf '%%s' \"$TOKEN\" | dbtlink connection add ...), --token-env VAR, or run in a terminal to be prompted")
			}
			opts.ServerURL = f.ServerURL()
			if runF != nil {
				return runF(opts)
			}
			if opts.ServerURL != "" {
				return connectionAddServer(cmd.Context(), opts)
			}
			return connectionAddRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Host, "host", "", "dbt Cloud access URL, e.g. cloud.getdbt.com or ab123.us1.dbt.com (default: $DBT_CLOUD_HOST)")
	fl.Int64Var(&opts.AccountID, "account-id", 0, "dbt Cloud account id, the number after /accounts/ in dbt Cloud URLs (default: $DBT_CLOUD_ACCOUNT_ID)")
	fl.BoolVar(&opts.TokenStdin, "token-stdin", false, "read the API token from standard input")
	fl.StringVar(&opts.TokenEnv, "token-env", "", "read the API token from the environment variable `VAR`")
	fl.BoolVar(&opts.Default, "default", false, "make this the default connection")
	fl.BoolVar(&opts.Force, "force", false, "replace a stored connection of the same name")
	fl.BoolVar(&opts.NoTest, "no-test", false, "save without testing the connection first")
	fl.StringVar(&opts.TokenFlag, "token", "", "refused: tokens must not be passed as flag values")
	_ = fl.MarkHidden("token")
	return cmd
}

// addTarget checks the name and token-source flags of connection add and
// settles its host and account id (flags, then DBT_CLOUD_* variables), for
// the local store and a server alike.
func (opts *ConnectionAddOptions) addTarget() (host string, accountID int64, err error) {
	if err := connection.ValidateName(opts.Name); err != nil {
		return "", 0, withCode(ExitUsage, err)
	}
	if opts.TokenStdin && opts.TokenEnv != "" {
		return "", 0, usageError("--token-stdin and --token-env both name a token source; give only one")
	}
	host = opts.Host
	if host == "" {
		host = strings.TrimSpace(opts.Getenv(connection.EnvHost))
	}
	if host == "" {
		return "", 0, usageError("no host: pass --host with the account's access URL (e.g. cloud.getdbt.com, emea.dbt.com or ab123.us1.dbt.com, shown in dbt Cloud under Account settings)")
	}
	accountID = opts.AccountID
	if accountID == 0 {
		if v := strings.TrimSpace(opts.Getenv(connection.EnvAccountID)); v != "" {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil || id <= 0 {
				return "", 0, usageError("%s=%q is not a positive number; pass --account-id", connection.EnvAccountID, v)
			}
			accountID = id
		}
	}
	if accountID <= 0 {
		return "", 0, usageError("no account id: pass --account-id (the number after /accounts/ in dbt Cloud URLs)")
	}
	return host, accountID, nil
}

func connectionAddRun(ctx context.Context, opts *ConnectionAddOptions) error {
	host, accountID, err := opts.addTarget()
	if err != nil {
		return err
	}
	store, err := opts.OpenStore()
	if err != nil {
		return err
	}
	// Refuse an existing name before asking for a token, so nobody types a
	// token only to be told to start again with --force.
	if !opts.Force {
		if err := connRefuseExisting(store, opts.Name); err != nil {
			return err
		}
	}
	tok, err := opts.readToken()
	if err != nil {
		return err
	}
	c := connection.Connection{Name: opts.Name, Host: host, AccountID: accountID, Token: tok, Default: opts.Default}
	if err := c.Validate(); err != nil {
		return withCode(ExitUsage, err)
	}
	return connSaveTested(ctx, opts.IO, store, &c, connSaveOptions{Replace: opts.Force, NoTest: opts.NoTest, ClientOptions: opts.ClientOptions})
}

// connRefuseExisting fails with the store's ExistsError when name is taken.
func connRefuseExisting(store *connection.Store, name string) error {
	list, err := store.List()
	if err != nil {
		return err
	}
	for _, s := range list {
		if s.Name == name {
			return &connection.ExistsError{Name: name}
		}
	}
	return nil
}

// readToken takes the token from the first source given; see the command's
// help for the order.
func (opts *ConnectionAddOptions) readToken() (connection.Token, error) {
	switch {
	case opts.TokenStdin:
		tok, err := connection.ReadToken(opts.IO.In)
		if err != nil {
			return connection.Token{}, withCode(ExitUsage, err)
		}
		return tok, nil
	case opts.TokenEnv != "":
		v := opts.Getenv(opts.TokenEnv)
		if strings.TrimSpace(v) == "" {
			return connection.Token{}, usageError("--token-env %s: the variable is unset or empty; export it, or use --token-stdin", opts.TokenEnv)
		}
		tok, err := connection.ReadToken(strings.NewReader(v))
		if err != nil {
			return connection.Token{}, usageError("--token-env %s: %w", opts.TokenEnv, err)
		}
		return tok, nil
	case strings.TrimSpace(opts.Getenv(connection.EnvToken)) != "":
		tok, err := connection.ReadToken(strings.NewReader(opts.Getenv(connection.EnvToken)))
		if err != nil {
			return connection.Token{}, usageError("%s: %w", connection.EnvToken, err)
		}
		return tok, nil
	case opts.IO.CanPrompt():
		prompt := opts.PromptToken
		if prompt == nil {
			prompt = opts.promptTerminal
		}
		return prompt(fmt.Sprintf("dbt Cloud API token for %q (input hidden): ", opts.Name))
	}
	return connection.Token{}, usageError("no token given: pipe it in with --token-stdin, name a variable with --token-env VAR, or set %s (tokens are never accepted as flag values)", connection.EnvToken)
}

// promptTerminal reads the token from the terminal on IO.In with echo off.
func (opts *ConnectionAddOptions) promptTerminal(prompt string) (connection.Token, error) {
	in, ok := opts.IO.In.(*os.File)
	if !ok {
		return connection.Token{}, usageError("cannot prompt for the token: standard input is not a terminal; use --token-stdin")
	}
	fmt.Fprint(opts.IO.ErrOut, prompt)
	b, err := term.ReadPassword(int(in.Fd()))
	fmt.Fprintln(opts.IO.ErrOut)
	if err != nil {
		return connection.Token{}, withCode(ExitUsage, fmt.Errorf("read the token from the terminal: %w", err))
	}
	return tokenFromPrompt(b)
}

// tokenFromPrompt reads what was typed at the prompt. Nothing typed gets
// its own message: the generic one tells a user at a terminal to pipe the
// token in, which is not what they were doing.
func tokenFromPrompt(typed []byte) (connection.Token, error) {
	if strings.TrimSpace(string(typed)) == "" {
		return connection.Token{}, usageError("no token was typed: paste it at the prompt (the input is hidden, so nothing shows), or use --token-stdin or --token-env VAR")
	}
	tok, err := connection.ReadToken(strings.NewReader(string(typed)))
	if err != nil {
		return connection.Token{}, withCode(ExitUsage, err)
	}
	return tok, nil
}

type connSaveOptions struct {
	Replace       bool
	NoTest        bool
	ClientOptions []dbtcloud.Option
}

// connSaveTested tests c (unless NoTest) and stores it only if the test
// passed: a connection that cannot work would only fail later, in a job
// run, far from the typo that broke it.
func connSaveTested(ctx context.Context, ios *IOStreams, store *connection.Store, c *connection.Connection, o connSaveOptions) error {
	if !o.NoTest {
		report, err := connDiagnose(ctx, c, o.ClientOptions)
		if err != nil {
			return err
		}
		if !report.OK() {
			fmt.Fprint(ios.ErrOut, report.String())
			return withCode(diagnosisExitCode(report), fmt.Errorf("connection %q was not saved because its test failed (see the failing check above); fix it, or save it anyway with --no-test", c.Name))
		}
	}
	if err := store.Add(*c, connection.AddOptions{Replace: o.Replace}); err != nil {
		return err
	}
	tested := "tested OK"
	if o.NoTest {
		tested = "not tested"
	}
	fmt.Fprintf(ios.ErrOut, "Saved connection %q (%s, account %d; %s).\n", c.Name, c.Host, c.AccountID, tested)
	return nil
}

// ---- connection list ----

// ConnectionListOptions holds the dependencies and flags of `connection list`.
type ConnectionListOptions struct {
	// Server is the dbtlink server client, used when ServerURL is set
	// (--server or $DBTLINK_SERVER).
	Server    func() (*serverClient, error)
	ServerURL string
	IO        *IOStreams
	OpenStore func() (*connection.Store, error)
	Getenv    func(string) string
	Environ   func() []string

	JSON bool
}

// connListEntry is one row of `connection list`, and its --json form.
type connListEntry struct {
	Name      string `json:"name"`
	Host      string `json:"host,omitempty"`
	AccountID int64  `json:"account_id,omitempty"`
	Default   bool   `json:"default"`
	Source    string `json:"source"`
	Origin    string `json:"origin"`
	// KeyID names the key a stored token is encrypted with.
	KeyID string `json:"key_id,omitempty"`
	// Error says why an environment or Airflow connection cannot be used.
	Error string `json:"error,omitempty"`
}

// NewCmdConnectionList builds `dbtlink connection list`.
func NewCmdConnectionList(f *Factory, runF func(*ConnectionListOptions) error) *cobra.Command {
	opts := &ConnectionListOptions{IO: f.IO, OpenStore: f.OpenStore, Getenv: f.Getenv, Environ: f.Environ, Server: f.Server}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List stored connections and those found in the environment",
		Long: `List the stored connections, the "env" connection built from DBT_CLOUD_*
variables, and dbt Cloud connections in AIRFLOW_CONN_* variables (importable
with 'connection import-airflow'). Tokens are never shown.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ServerURL = f.ServerURL()
			if runF != nil {
				return runF(opts)
			}
			if opts.ServerURL != "" {
				return connectionListServer(cmd.Context(), opts)
			}
			return connectionListRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the connections as JSON")
	return cmd
}

func connectionListRun(opts *ConnectionListOptions) error {
	store, err := opts.OpenStore()
	if err != nil {
		return err
	}
	stored, err := store.List()
	if err != nil {
		return err
	}
	entries := []connListEntry{}
	hasDefault := false
	for _, s := range stored {
		entries = append(entries, connListEntry{Name: s.Name, Host: s.Host, AccountID: s.AccountID, Default: s.Default,
			Source: string(connection.SourceStore), Origin: store.Path(), KeyID: s.KeyID})
		hasDefault = hasDefault || s.Default
	}
	envConn, envSet, envErr := connection.FromEnv(opts.Getenv)
	switch {
	case envSet && envErr != nil:
		entries = append(entries, connListEntry{Name: connection.EnvConnectionName, Source: string(connection.SourceEnv),
			Origin: "DBT_CLOUD_* environment variables", Error: envErr.Error()})
	case envSet:
		entries = append(entries, connListEntry{Name: envConn.Name, Host: envConn.Host, AccountID: envConn.AccountID,
			Source: string(connection.SourceEnv), Origin: envConn.Origin})
	}
	cands, err := connection.ImportAirflow(opts.Environ(), "")
	if err != nil {
		return withCode(ExitUsage, err)
	}
	for _, cand := range cands {
		e := connListEntry{Name: cand.ConnID, Source: string(connection.SourceAirflow), Origin: cand.EnvVar}
		if cand.Err != nil {
			e.Error = cand.Err.Error()
		} else {
			e.Name, e.Host, e.AccountID = cand.Connection.Name, cand.Connection.Host, cand.Connection.AccountID
		}
		entries = append(entries, e)
	}

	if opts.JSON {
		return writeJSON(opts.IO.Out, entries)
	}
	if len(entries) == 0 {
		fmt.Fprintln(opts.IO.ErrOut, "No connections. Add one with: dbtlink connection add NAME --host HOST --account-id ID --token-stdin")
		return nil
	}
	t := newTable(opts.IO.Out, "NAME", "HOST", "ACCOUNT", "DEFAULT", "SOURCE")
	for _, e := range entries {
		account, def, source := "?", "", e.Source
		if e.AccountID > 0 {
			account = strconv.FormatInt(e.AccountID, 10)
		}
		if e.Default {
			def = "yes"
		}
		if e.Source == string(connection.SourceAirflow) {
			source = "airflow " + e.Origin
		}
		host := e.Host
		if host == "" {
			host = "-"
		}
		t.row(e.Name, host, account, def, source)
	}
	if err := t.flush(); err != nil {
		return err
	}
	for _, e := range entries {
		if e.Error != "" {
			fmt.Fprintf(opts.IO.ErrOut, "warning: %s (%s) cannot be used: %s\n", e.Name, e.Origin, e.Error)
		}
	}
	// Resolve prefers DBT_CLOUD_* over the stored default; say so, or the
	// DEFAULT column would mislead.
	if envSet && hasDefault {
		fmt.Fprintln(opts.IO.ErrOut, "note: DBT_CLOUD_* variables are set, so commands without --connection use them (\"env\"), not the default stored connection.")
	}
	return nil
}

// ---- connection show ----

// ConnectionShowOptions holds the dependencies and flags of `connection show`.
type ConnectionShowOptions struct {
	IO        *IOStreams
	OpenStore func() (*connection.Store, error)

	// Name is the connection to show; empty means the one commands would use.
	Name string
	JSON bool
}

// connShowJSON is the --json form of `connection show`; Token is masked.
type connShowJSON struct {
	Name      string `json:"name"`
	Host      string `json:"host"`
	AccountID int64  `json:"account_id"`
	Token     string `json:"token"`
	Default   bool   `json:"default"`
	Source    string `json:"source"`
	Origin    string `json:"origin"`
}

// NewCmdConnectionShow builds `dbtlink connection show`.
func NewCmdConnectionShow(f *Factory, runF func(*ConnectionShowOptions) error) *cobra.Command {
	opts := &ConnectionShowOptions{IO: f.IO, OpenStore: f.OpenStore}
	cmd := &cobra.Command{
		Use:   "show [NAME]",
		Short: "Show one connection, its token masked",
		Long: `Show the named connection, or without NAME the one commands would use
(--connection, then DBTLINK_CONNECTION, then DBT_CLOUD_* variables, then the
default). The token is masked: only its first characters and length are shown.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = f.ConnectionName
			if len(args) == 1 {
				opts.Name = args[0]
			}
			if runF != nil {
				return runF(opts)
			}
			return connectionShowRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the connection as JSON (token masked)")
	return cmd
}

func connectionShowRun(opts *ConnectionShowOptions) error {
	store, err := opts.OpenStore()
	if err != nil {
		return err
	}
	c, err := store.Resolve(opts.Name)
	if err != nil {
		return err
	}
	v := connShowJSON{Name: c.Name, Host: c.Host, AccountID: c.AccountID, Token: c.Token.String(),
		Default: c.Default, Source: string(c.Source), Origin: c.Origin}
	if opts.JSON {
		return writeJSON(opts.IO.Out, v)
	}
	def := "no"
	if v.Default {
		def = "yes"
	}
	w := opts.IO.Out
	fmt.Fprintf(w, "name:        %s\n", v.Name)
	fmt.Fprintf(w, "host:        %s\n", v.Host)
	fmt.Fprintf(w, "account id:  %d\n", v.AccountID)
	fmt.Fprintf(w, "token:       %s\n", v.Token)
	fmt.Fprintf(w, "default:     %s\n", def)
	fmt.Fprintf(w, "source:      %s (%s)\n", v.Source, v.Origin)
	return nil
}

// ---- connection remove ----

// ConnectionRemoveOptions holds the dependencies and flags of `connection remove`.
type ConnectionRemoveOptions struct {
	// Server is the dbtlink server client, used when ServerURL is set
	// (--server or $DBTLINK_SERVER).
	Server    func() (*serverClient, error)
	ServerURL string
	IO        *IOStreams
	OpenStore func() (*connection.Store, error)
	Getenv    func(string) string
	Environ   func() []string

	Name string
}

// NewCmdConnectionRemove builds `dbtlink connection remove`.
func NewCmdConnectionRemove(f *Factory, runF func(*ConnectionRemoveOptions) error) *cobra.Command {
	opts := &ConnectionRemoveOptions{IO: f.IO, OpenStore: f.OpenStore, Getenv: f.Getenv, Environ: f.Environ, Server: f.Server}
	cmd := &cobra.Command{
		Use:     "remove NAME",
		Aliases: []string{"rm"},
		Short:   "Delete a stored connection",
		Long: `Delete the stored connection NAME. Connections that come from the environment
(the "env" connection built from DBT_CLOUD_* variables, and Airflow's
AIRFLOW_CONN_* connections) are not stored: unset their variables instead.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			opts.ServerURL = f.ServerURL()
			if runF != nil {
				return runF(opts)
			}
			if opts.ServerURL != "" {
				return connectionRemoveServer(cmd.Context(), opts)
			}
			return connectionRemoveRun(opts)
		},
	}
	return cmd
}

func connectionRemoveRun(opts *ConnectionRemoveOptions) error {
	store, err := opts.OpenStore()
	if err != nil {
		return err
	}
	list, err := store.List()
	if err != nil {
		return err
	}
	wasDefault := false
	for _, s := range list {
		wasDefault = wasDefault || (s.Name == opts.Name && s.Default)
	}
	if err := store.Remove(opts.Name); err != nil {
		if errors.Is(err, connection.ErrNotFound) {
			if why := notStoredReason(opts.Name, opts.Getenv, opts.Environ); why != "" {
				return fmt.Errorf("%s: %w", why, err)
			}
		}
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "Removed connection %q.\n", opts.Name)
	if wasDefault && len(list) > 2 {
		fmt.Fprintln(opts.IO.ErrOut, "It was the default; choose a new one with: dbtlink connection default NAME")
	}
	return nil
}

// notStoredReason explains, for a name no stored connection has, that the
// connection of that name comes from the environment (the "env" connection
// or an Airflow AIRFLOW_CONN_* variable) and how to remove it; "" when it
// does not.
func notStoredReason(name string, getenv func(string) string, environ func() []string) string {
	if name == connection.EnvConnectionName {
		how := "unset them to remove it"
		if getenv != nil {
			var set []string
			for _, v := range []string{connection.EnvHost, connection.EnvAccountID, connection.EnvToken} {
				if getenv(v) != "" {
					set = append(set, v)
				}
			}
			if len(set) == 0 {
				how = "none of them is set, so there is nothing to remove"
			} else {
				how = "unset them to remove it (set now: " + strings.Join(set, ", ") + ")"
			}
		}
		return fmt.Sprintf("connection %q is not stored: it is built from the %s, %s and %s environment variables; %s",
			name, connection.EnvHost, connection.EnvAccountID, connection.EnvToken, how)
	}
	if environ == nil {
		return ""
	}
	cands, err := connection.ImportAirflow(environ(), "")
	if err != nil {
		return ""
	}
	for _, c := range cands {
		if c.ConnID == name || (c.Connection != nil && c.Connection.Name == name) {
			return fmt.Sprintf("connection %q is not stored: it is the Airflow connection read from the %s environment variable; unset it to remove it (or `dbtlink connection import-airflow %s` to store a copy)",
				name, c.EnvVar, c.ConnID)
		}
	}
	return ""
}

// ---- connection default ----

// ConnectionDefaultOptions holds the dependencies and flags of `connection default`.
type ConnectionDefaultOptions struct {
	IO        *IOStreams
	OpenStore func() (*connection.Store, error)

	Name  string
	Unset bool
}

// NewCmdConnectionDefault builds `dbtlink connection default`.
func NewCmdConnectionDefault(f *Factory, runF func(*ConnectionDefaultOptions) error) *cobra.Command {
	opts := &ConnectionDefaultOptions{IO: f.IO, OpenStore: f.OpenStore}
	cmd := &cobra.Command{
		Use:   "default NAME | --unset",
		Short: "Choose the connection used when no --connection is given",
		Long: `Make NAME the default connection. Commands use it when neither --connection,
DBTLINK_CONNECTION nor DBT_CLOUD_* variables choose another.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Name = args[0]
			}
			if (opts.Name == "") == !opts.Unset {
				return usageError("give either a connection NAME or --unset")
			}
			if runF != nil {
				return runF(opts)
			}
			return connectionDefaultRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Unset, "unset", false, "clear the default instead of setting one")
	return cmd
}

func connectionDefaultRun(opts *ConnectionDefaultOptions) error {
	store, err := opts.OpenStore()
	if err != nil {
		return err
	}
	if err := store.SetDefault(opts.Name); err != nil {
		return err
	}
	if opts.Name == "" {
		fmt.Fprintln(opts.IO.ErrOut, "No connection is the default now.")
		return nil
	}
	fmt.Fprintf(opts.IO.ErrOut, "Connection %q is the default now.\n", opts.Name)
	return nil
}

// ---- connection test ----

// ConnectionTestOptions holds the dependencies and flags of `connection test`.
type ConnectionTestOptions struct {
	// Server is the dbtlink server client, used when ServerURL is set
	// (--server or $DBTLINK_SERVER).
	Server        func() (*serverClient, error)
	ServerURL     string
	IO            *IOStreams
	OpenStore     func() (*connection.Store, error)
	ClientOptions []dbtcloud.Option

	// Name is the connection to test; empty means the one commands would use.
	Name string
	JSON bool
}

// connTestJSON is the --json form of a diagnosis.
type connTestJSON struct {
	Connection string                   `json:"connection"`
	Host       string                   `json:"host"`
	AccountID  int64                    `json:"account_id"`
	OK         bool                     `json:"ok"`
	Checks     []connTestCheckJSON      `json:"checks"`
	Accounts   []connection.AccountInfo `json:"accounts,omitempty"`
}

type connTestCheckJSON struct {
	Name    string `json:"name"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

// NewCmdConnectionTest builds `dbtlink connection test`.
func NewCmdConnectionTest(f *Factory, runF func(*ConnectionTestOptions) error) *cobra.Command {
	opts := &ConnectionTestOptions{IO: f.IO, OpenStore: f.OpenStore, Server: f.Server}
	cmd := &cobra.Command{
		Use:   "test [NAME]",
		Short: "Check that a connection reaches dbt Cloud and can read its account",
		Long: `Check, in order, that the host answers (DNS, TCP, TLS), that the token is
accepted and that the account is readable with it, printing one line per check.
Without NAME the connection commands would use is tested.

DBTLINK_RETRY_FOR does not apply: the test retries a failed call at most once,
so a broken connection is reported at once instead of being retried for minutes.

Exit status: 0 when every check passes, 5 when the token is rejected or lacks
permission, 6 when the account is not visible to the token, 7 for network,
DNS or TLS failures.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = f.ConnectionName
			if len(args) == 1 {
				opts.Name = args[0]
			}
			opts.ClientOptions = f.ClientOptions
			opts.ServerURL = f.ServerURL()
			if runF != nil {
				return runF(opts)
			}
			if opts.ServerURL != "" {
				return connectionTestServer(cmd.Context(), opts)
			}
			return connectionTestRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the checks as JSON")
	return cmd
}

func connectionTestRun(ctx context.Context, opts *ConnectionTestOptions) error {
	store, err := opts.OpenStore()
	if err != nil {
		return err
	}
	c, err := store.Resolve(opts.Name)
	if err != nil {
		return err
	}
	report, err := connDiagnose(ctx, c, opts.ClientOptions)
	if err != nil {
		return err
	}
	if opts.JSON {
		out := connTestJSON{Connection: c.Name, Host: report.Host, AccountID: report.AccountID, OK: report.OK(), Accounts: report.Accounts}
		for _, ch := range report.Checks {
			out.Checks = append(out.Checks, connTestCheckJSON{Name: ch.Name, Status: string(ch.Status), Message: ch.Message})
		}
		if err := writeJSON(opts.IO.Out, out); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(opts.IO.Out, "Testing connection %q (%s, account %d)\n", c.Name, c.Host, c.AccountID)
		fmt.Fprint(opts.IO.Out, report.String())
	}
	if report.OK() {
		return nil
	}
	return withCode(diagnosisExitCode(report), fmt.Errorf("connection %q failed its test (see the failing check above)", c.Name))
}

// ---- connection import-airflow ----

// ConnectionImportAirflowOptions holds the dependencies and flags of
// `connection import-airflow`.
type ConnectionImportAirflowOptions struct {
	IO            *IOStreams
	OpenStore     func() (*connection.Store, error)
	Environ       func() []string
	ClientOptions []dbtcloud.Option

	// ConnID is the Airflow connection id; empty imports every dbt Cloud one.
	ConnID    string
	Name      string
	AccountID int64
	Default   bool
	Force     bool
	NoTest    bool
}

// NewCmdConnectionImportAirflow builds `dbtlink connection import-airflow`.
func NewCmdConnectionImportAirflow(f *Factory, runF func(*ConnectionImportAirflowOptions) error) *cobra.Command {
	opts := &ConnectionImportAirflowOptions{IO: f.IO, OpenStore: f.OpenStore, Environ: f.Environ}
	cmd := &cobra.Command{
		Use:   "import-airflow [CONN_ID]",
		Short: "Store dbt Cloud connections found in AIRFLOW_CONN_* variables",
		Long: `Import the Airflow dbt Cloud connection CONN_ID (read from AIRFLOW_CONN_<CONN_ID>),
or without CONN_ID every AIRFLOW_CONN_* variable of type dbt_cloud. Both of
Airflow's forms are read: dbt-cloud://ACCOUNT_ID:TOKEN@HOST and the JSON form.
Each connection is named after its conn id (lower case) unless --name is given,
tested like 'connection add', and stored with its token encrypted.`,
		Example: `  dbtlink connection import-airflow dbt_cloud_default --name prod
  dbtlink connection import-airflow          # every dbt Cloud connection in the environment`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.ConnID = args[0]
			}
			opts.ClientOptions = f.ClientOptions
			if runF != nil {
				return runF(opts)
			}
			return connectionImportAirflowRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Name, "name", "", "store the connection under `NAME` instead of its conn id (one connection only)")
	fl.Int64Var(&opts.AccountID, "account-id", 0, "account id for connections whose Airflow login (account id) is empty")
	fl.BoolVar(&opts.Default, "default", false, "make the imported connection the default (one connection only)")
	fl.BoolVar(&opts.Force, "force", false, "replace stored connections of the same name")
	fl.BoolVar(&opts.NoTest, "no-test", false, "save without testing the connections first")
	return cmd
}

func connectionImportAirflowRun(ctx context.Context, opts *ConnectionImportAirflowOptions) error {
	cands, err := connection.ImportAirflow(opts.Environ(), opts.ConnID)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	if len(cands) == 0 {
		return withCode(ExitNotFound, errors.New("no Airflow dbt Cloud connection found: no AIRFLOW_CONN_* variable of type dbt_cloud is set in this environment"))
	}
	if len(cands) > 1 && (opts.Name != "" || opts.Default) {
		ids := make([]string, len(cands))
		for i, c := range cands {
			ids[i] = c.ConnID
		}
		return usageError("--name and --default apply to one connection, and %d were found (%s); pass the CONN_ID to import", len(cands), strings.Join(ids, ", "))
	}
	store, err := opts.OpenStore()
	if err != nil {
		return err
	}
	var errs []error
	for _, cand := range cands {
		if err := opts.importOne(ctx, store, cand); err != nil {
			fmt.Fprintf(opts.IO.ErrOut, "%s: not imported: %v\n", cand.EnvVar, err)
			errs = append(errs, err)
		}
	}
	switch {
	case len(errs) == 0:
		return nil
	case len(errs) == 1:
		return &ExitError{Code: exitCode(errs[0]), Err: errs[0], Silent: true}
	}
	// The exit code is the first failure's, for a stable answer.
	return &ExitError{Code: exitCode(errs[0]), Err: fmt.Errorf("%d of %d Airflow connections were not imported", len(errs), len(cands))}
}

func (opts *ConnectionImportAirflowOptions) importOne(ctx context.Context, store *connection.Store, cand connection.AirflowCandidate) error {
	if cand.Err != nil {
		return withCode(ExitUsage, cand.Err)
	}
	c := *cand.Connection
	if opts.Name != "" {
		c.Name = opts.Name
	}
	if c.AccountID == 0 {
		c.AccountID = opts.AccountID
	}
	if c.AccountID == 0 {
		return usageError("its login (the dbt Cloud account id) is empty; pass --account-id")
	}
	c.Default = opts.Default
	if err := c.Validate(); err != nil {
		return withCode(ExitUsage, err)
	}
	if !opts.Force {
		if err := connRefuseExisting(store, c.Name); err != nil {
			return err
		}
	}
	if err := connSaveTested(ctx, opts.IO, store, &c, connSaveOptions{Replace: opts.Force, NoTest: opts.NoTest, ClientOptions: opts.ClientOptions}); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "Imported %s as connection %q.\n", cand.EnvVar, c.Name)
	return nil
}

// ---- connection rotate-key ----

// ConnectionRotateKeyOptions holds the dependencies and flags of
// `connection rotate-key`.
type ConnectionRotateKeyOptions struct {
	IO        *IOStreams
	OpenStore func() (*connection.Store, error)
	// OpenDB opens the server database named by --db (or the default one,
	// when it exists); nil store when there is none to re-seal.
	OpenDB func(ctx context.Context, flag string) (*serverstore.Store, func(), error)

	KeyStdin bool
	DB       string
}

// maxKeyInput bounds what --key-stdin reads; a key is at most 64 hex digits.
const maxKeyInput = 4 << 10

// NewCmdConnectionRotateKey builds `dbtlink connection rotate-key`.
func NewCmdConnectionRotateKey(f *Factory, runF func(*ConnectionRotateKeyOptions) error) *cobra.Command {
	opts := &ConnectionRotateKeyOptions{IO: f.IO, OpenStore: f.OpenStore,
		OpenDB: func(ctx context.Context, flag string) (*serverstore.Store, func(), error) {
			return openRotateDB(ctx, f, flag)
		}}
	cmd := &cobra.Command{
		Use:   "rotate-key",
		Short: "Re-encrypt every stored token with a new key",
		Long: `Re-encrypt every stored token with a new random key (or, with --key-stdin, a
32-byte key given as base64 or hex on standard input) and make it the key
file's key. The previous key file is kept as secret-<id>.key next to it until
you delete it. Only key ids are printed, never keys.

The secrets a dbtlink server keeps in its database (connection tokens and
webhook secrets, sealed with the same key) are re-sealed with the new key
too, in one transaction: the database named by --db, else $DBTLINK_DB, else
dbtlink.db in the dbtlink home directory when that file exists. Run it on the
server's machine, with the server's DBTLINK_HOME. If it stops before the
database is done, nothing there has changed and every secret stays readable
(the old key is kept); run it again to finish.

If DBTLINK_SECRET_KEY is set it still holds the old key, which new connections
would then use: unset it afterwards, or set it to the new key.

Exit status: 0 done; 2 bad key input, a key file or database that cannot be
used, or a secret whose key cannot be found (nothing in the database changed).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return connectionRotateKeyRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.KeyStdin, "key-stdin", false, "read the new key (base64 or hex, 32 bytes) from standard input instead of generating one")
	cmd.Flags().StringVar(&opts.DB, "db", "", "server database whose secrets to re-seal too: a postgres:// URL or a SQLite file (default: $DBTLINK_DB, else dbtlink.db in the dbtlink home directory if it exists)")
	return cmd
}

// openRotateDB opens the server database rotate-key re-seals: --db, else
// $DBTLINK_DB, else the default SQLite file if it exists (rotating the key of
// a machine that runs no server must not create a database). A nil store
// means there is none.
func openRotateDB(ctx context.Context, f *Factory, flag string) (*serverstore.Store, func(), error) {
	if flag == "" && f.Getenv(EnvDB) == "" {
		dsn, err := serverDSN(f, "")
		if err != nil {
			return nil, nil, err
		}
		if _, err := os.Stat(dsn); errors.Is(err, fs.ErrNotExist) {
			return nil, func() {}, nil
		}
	}
	return openServerStoreShared(ctx, f, flag)
}

func connectionRotateKeyRun(ctx context.Context, opts *ConnectionRotateKeyOptions) error {
	var key connection.Key
	var err error
	if opts.KeyStdin {
		b, rerr := io.ReadAll(io.LimitReader(opts.IO.In, maxKeyInput+1))
		if rerr != nil {
			return withCode(ExitUsage, fmt.Errorf("read the key from standard input: %w", rerr))
		}
		if len(b) > maxKeyInput {
			return usageError("the key on standard input is longer than %d bytes; pipe in only the key", maxKeyInput)
		}
		if key, err = connection.ParseKey(string(b)); err != nil {
			return usageError("--key-stdin: %w", err)
		}
	} else if key, err = connection.GenerateKey(); err != nil {
		return err
	}
	store, err := opts.OpenStore()
	if err != nil {
		return err
	}
	// The database is opened first, so that a wrong --db stops the command
	// before any key changes.
	db, closeDB, err := opts.OpenDB(ctx, opts.DB)
	if err != nil {
		return err
	}
	defer closeDB()
	res, err := store.RotateKey(key)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	fmt.Fprintf(opts.IO.Out, "Re-encrypted %d connection(s) with new key %s.\n", res.Rotated, res.NewKeyID)
	var dbErr error
	if db != nil {
		// The file store already has the new key, and keeps the old one,
		// so every database secret is readable before, during and after.
		rr, err := tracker.ResealSecrets(ctx, db, store, key)
		if err != nil {
			dbErr = withCode(ExitUsage, fmt.Errorf("the server database's secrets were not re-sealed and still use the old key, which is kept (run `dbtlink connection rotate-key` again, with the same --db, to finish): %w", err))
		} else {
			fmt.Fprintf(opts.IO.Out, "Re-sealed %d secret(s) in the server database (%d connection token(s), %d webhook secret(s)) with key %s.\n",
				rr.Total(), rr.Resealed[serverstore.SecretConnection], rr.Resealed[serverstore.SecretWebhook], res.NewKeyID)
		}
	}
	if res.Backup != "" {
		fmt.Fprintf(opts.IO.Out, "The previous key is kept in %s; delete it once no copy of the connections file older than now is needed.\n", res.Backup)
	}
	if res.EnvKeySet {
		fmt.Fprintf(opts.IO.ErrOut, "warning: %s is set and still holds the old key, which new connections would use; unset it (the new key is in %s) or set it to the new key.\n",
			connection.EnvSecretKey, store.KeyPath())
	}
	return dbErr
}
