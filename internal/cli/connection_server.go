package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dbtlink/dbtlink/internal/connection"
)

// This file is the connection commands against a dbtlink server's store
// (--server URL), and `connection push`, which copies local connections
// to it.

func connectionListServer(ctx context.Context, opts *ConnectionListOptions) error {
	c, err := opts.Server()
	if err != nil {
		return err
	}
	conns, err := c.ListConnections(ctx)
	if err != nil {
		return fmt.Errorf("list the connections of the dbtlink server: %w", err)
	}
	entries := []connListEntry{}
	for _, sc := range conns {
		entries = append(entries, connListEntry{Name: sc.Name, Host: sc.Host, AccountID: sc.AccountID, Default: sc.Default,
			Source: "server", Origin: c.URL()})
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, entries)
	}
	if len(entries) == 0 {
		fmt.Fprintf(opts.IO.ErrOut, "The dbtlink server %s has no connections. Add one with: dbtlink --server URL connection add NAME --host HOST --account-id ID --token-stdin, or copy local ones with: dbtlink --server URL connection push --all\n", c.URL())
		return nil
	}
	t := newTable(opts.IO.Out, "NAME", "HOST", "ACCOUNT", "DEFAULT", "SOURCE")
	for _, e := range entries {
		def := ""
		if e.Default {
			def = "yes"
		}
		t.row(e.Name, e.Host, strconv.FormatInt(e.AccountID, 10), def, e.Source)
	}
	return t.flush()
}

// connectionAddServer adds a connection to the server. Like the local add
// it is tested before being kept: the server can only test a stored
// connection, so a failed test removes it again.
func connectionAddServer(ctx context.Context, opts *ConnectionAddOptions) error {
	host, accountID, err := opts.addTarget()
	if err != nil {
		return err
	}
	c, err := opts.Server()
	if err != nil {
		return err
	}
	// Refuse a taken name before asking for a token.
	exists, err := serverHasConnection(ctx, c, opts.Name)
	if err != nil {
		return err
	}
	if exists && !opts.Force {
		return usageError("the dbtlink server already has a connection named %q; replace it with --force", opts.Name)
	}
	tok, err := opts.readToken()
	if err != nil {
		return err
	}
	conn := connection.Connection{Name: opts.Name, Host: host, AccountID: accountID, Token: tok, Default: opts.Default}
	if err := conn.Validate(); err != nil {
		return withCode(ExitUsage, err)
	}
	return serverPutConnection(ctx, opts.IO, c, &conn, exists, !opts.NoTest)
}

// serverHasConnection says whether the server has a connection named name.
func serverHasConnection(ctx context.Context, c *serverClient, name string) (bool, error) {
	conns, err := c.ListConnections(ctx)
	if err != nil {
		return false, fmt.Errorf("list the connections of the dbtlink server: %w", err)
	}
	for _, sc := range conns {
		if sc.Name == name {
			return true, nil
		}
	}
	return false, nil
}

// serverPutConnection creates conn on the server, after deleting the one
// of the same name when replace, and tests it when test: a failed test
// deletes it again, prints the report and exits as the local add does.
func serverPutConnection(ctx context.Context, ios *IOStreams, c *serverClient, conn *connection.Connection, replace, test bool) error {
	if replace {
		if err := c.DeleteConnection(ctx, conn.Name); err != nil && !isServerNotFound(err) {
			return fmt.Errorf("replace connection %q on the dbtlink server: %w", conn.Name, err)
		}
	}
	in := serverConnectionInput{Name: conn.Name, Host: conn.Host, AccountID: conn.AccountID, Token: conn.Token.Reveal(), Default: conn.Default}
	if _, err := c.CreateConnection(ctx, in); err != nil {
		return fmt.Errorf("add connection %q to the dbtlink server: %w", conn.Name, err)
	}
	tested := "not tested"
	if test {
		rep, err := c.TestConnection(ctx, conn.Name)
		if err != nil {
			_ = c.DeleteConnection(context.WithoutCancel(ctx), conn.Name)
			return fmt.Errorf("test connection %q on the dbtlink server (it was removed again): %w", conn.Name, err)
		}
		if !rep.OK {
			fmt.Fprint(ios.ErrOut, rep.String())
			if err := c.DeleteConnection(context.WithoutCancel(ctx), conn.Name); err != nil {
				return fmt.Errorf("connection %q failed its test on the dbtlink server, and removing it failed too: %w", conn.Name, err)
			}
			return withCode(rep.exitCode(), fmt.Errorf("connection %q was not kept on the dbtlink server because its test failed there (see the failing check above); fix it, or add it anyway with --no-test", conn.Name))
		}
		tested = "tested OK by the server"
	}
	fmt.Fprintf(ios.ErrOut, "Saved connection %q on the dbtlink server %s (%s, account %d; %s).\n", conn.Name, c.URL(), conn.Host, conn.AccountID, tested)
	return nil
}

func isServerNotFound(err error) bool {
	var se *serverError
	return errors.As(err, &se) && se.Status == http.StatusNotFound
}

// String renders the report like connection.Report.String.
func (r *serverReport) String() string {
	var b strings.Builder
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "%-4s  %s: %s\n", c.Status, c.Name, c.Detail)
	}
	if len(r.Accounts) > 0 {
		b.WriteString("accounts this token can see:\n")
		for _, a := range r.Accounts {
			fmt.Fprintf(&b, "  %d  %s\n", a.ID, a.Name)
		}
	}
	return b.String()
}

// exitCode maps the first failed check as diagnosisExitCode does. The
// server does not send the underlying error, so the check decides: host
// 7, token 5, account 6 (the server words an account answer of 5xx as an
// account failure too; it is 6 here).
func (r *serverReport) exitCode() int {
	for _, c := range r.Checks {
		if c.Status != string(connection.CheckFail) {
			continue
		}
		switch c.Name {
		case connection.CheckToken:
			return ExitAuth
		case connection.CheckAccount:
			return ExitNotFound
		}
		return ExitUpstream
	}
	if r.OK {
		return ExitOK
	}
	return ExitUpstream
}

func connectionTestServer(ctx context.Context, opts *ConnectionTestOptions) error {
	c, err := opts.Server()
	if err != nil {
		return err
	}
	name, err := c.defaultConnection(ctx, opts.Name)
	if err != nil {
		return err
	}
	rep, err := c.TestConnection(ctx, name)
	if err != nil {
		return fmt.Errorf("test connection %q on the dbtlink server: %w", name, err)
	}
	if opts.JSON {
		out := connTestJSON{Connection: name, Host: rep.Host, AccountID: rep.AccountID, OK: rep.OK}
		for _, ch := range rep.Checks {
			out.Checks = append(out.Checks, connTestCheckJSON{Name: ch.Name, Status: ch.Status, Message: ch.Detail})
		}
		for _, a := range rep.Accounts {
			out.Accounts = append(out.Accounts, connection.AccountInfo{ID: a.ID, Name: a.Name})
		}
		if err := writeJSON(opts.IO.Out, out); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(opts.IO.Out, "Testing connection %q (%s, account %d) from the dbtlink server %s\n", name, rep.Host, rep.AccountID, c.URL())
		fmt.Fprint(opts.IO.Out, rep.String())
	}
	if rep.OK {
		return nil
	}
	return withCode(rep.exitCode(), fmt.Errorf("connection %q failed its test on the dbtlink server (see the failing check above)", name))
}

func connectionRemoveServer(ctx context.Context, opts *ConnectionRemoveOptions) error {
	c, err := opts.Server()
	if err != nil {
		return err
	}
	if err := c.DeleteConnection(ctx, opts.Name); err != nil {
		return fmt.Errorf("remove connection %q from the dbtlink server: %w", opts.Name, err)
	}
	fmt.Fprintf(opts.IO.ErrOut, "Removed connection %q from the dbtlink server %s.\n", opts.Name, c.URL())
	return nil
}

// ---- connection push ----

// ConnectionPushOptions holds the dependencies and flags of `connection push`.
type ConnectionPushOptions struct {
	IO        *IOStreams
	OpenStore func() (*connection.Store, error)
	Getenv    func(string) string
	Server    func() (*serverClient, error)
	ServerURL string

	Names   []string
	All     bool
	Replace bool
	Test    bool
}

// NewCmdConnectionPush builds `dbtlink connection push`.
func NewCmdConnectionPush(f *Factory, runF func(*ConnectionPushOptions) error) *cobra.Command {
	opts := &ConnectionPushOptions{IO: f.IO, OpenStore: f.OpenStore, Getenv: f.Getenv, Server: f.Server}
	cmd := &cobra.Command{
		Use:   "push --server URL (NAME... | --all)",
		Short: "Copy local connections, with their tokens, to a dbtlink server",
		Long: `Copy the named connections from the local store (and the "env" connection
built from DBT_CLOUD_* variables) to the dbtlink server given by --server or
$DBTLINK_SERVER, tokens included; --all copies every stored connection, and
"env" when those variables are set.

A connection the server already has is skipped, unless --replace, which
deletes it on the server and creates it again. Each connection is reported as
copied, replaced or skipped. The default mark is copied too: a connection that
is the local default becomes the server's default.`,
		Example: `  dbtlink --server http://dbtlink.internal:8765 connection push prod
  dbtlink --server http://dbtlink.internal:8765 connection push --all --replace`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Names = args
			opts.ServerURL = f.ServerURL()
			switch {
			case opts.ServerURL == "":
				return usageError("connection push copies connections to a dbtlink server: pass --server URL (or set $%s)", EnvServer)
			case opts.All && len(args) > 0:
				return usageError("give connection NAMEs or --all, not both")
			case !opts.All && len(args) == 0:
				return usageError("which connections? Give their NAMEs, or --all")
			}
			if runF != nil {
				return runF(opts)
			}
			return connectionPushRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.All, "all", false, "push every stored connection, and \"env\" when DBT_CLOUD_* variables are set")
	cmd.Flags().BoolVar(&opts.Replace, "replace", false, "replace connections the server already has")
	cmd.Flags().BoolVar(&opts.Test, "test", false, "have the server test each pushed connection (one that fails is removed again)")
	return cmd
}

func connectionPushRun(ctx context.Context, opts *ConnectionPushOptions) error {
	store, err := opts.OpenStore()
	if err != nil {
		return err
	}
	names := opts.Names
	if opts.All {
		list, err := store.List()
		if err != nil {
			return err
		}
		for _, s := range list {
			names = append(names, s.Name)
		}
		if _, ok, err := connection.FromEnv(opts.Getenv); ok && err == nil {
			names = append(names, connection.EnvConnectionName)
		}
		if len(names) == 0 {
			return withCode(ExitNotFound, errors.New("no local connections to push: none is stored and DBT_CLOUD_* variables are not set"))
		}
	}
	// Every name is resolved before anything is copied, so a typo copies
	// nothing.
	conns := make([]*connection.Connection, 0, len(names))
	for _, n := range names {
		conn, err := store.Resolve(n)
		if err != nil {
			return err
		}
		conns = append(conns, conn)
	}
	c, err := opts.Server()
	if err != nil {
		return err
	}
	remote, err := c.ListConnections(ctx)
	if err != nil {
		return fmt.Errorf("list the connections of the dbtlink server: %w", err)
	}
	have := map[string]bool{}
	for _, r := range remote {
		have[r.Name] = true
	}
	var errs []error
	copied, skipped := 0, 0
	for _, conn := range conns {
		if have[conn.Name] && !opts.Replace {
			fmt.Fprintf(opts.IO.ErrOut, "%s: skipped: the server already has a connection of that name (replace it with --replace)\n", conn.Name)
			skipped++
			continue
		}
		if err := serverPutConnection(ctx, opts.IO, c, conn, have[conn.Name], opts.Test); err != nil {
			fmt.Fprintf(opts.IO.ErrOut, "%s: not copied: %v\n", conn.Name, err)
			errs = append(errs, err)
			continue
		}
		copied++
	}
	fmt.Fprintf(opts.IO.ErrOut, "%d copied, %d skipped, %d failed.\n", copied, skipped, len(errs))
	if len(errs) > 0 {
		return &ExitError{Code: exitCode(errs[0]), Err: fmt.Errorf("%d of %d connections were not copied", len(errs), len(conns)), Silent: true}
	}
	return nil
}
