// Package cli implements the dbtlink command line: one cobra command per
// file, each split into an options struct, a constructor that only parses
// flags, and a run function that does the work through a Factory, so tests
// drive commands with fake streams and an emulator (the cli/cli pattern).
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Version is the dbtlink version, set at build time with
// -ldflags "-X github.com/dbtlink/dbtlink/internal/cli.Version=v1.2.3".
var Version = "dev"

// Main runs dbtlink with the process's arguments and streams and returns the
// exit status.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	f := NewFactory(System())
	return Run(ctx, f, os.Args[1:])
}

// Run executes one command line against f and returns the exit status. It is
// what Main and the tests call.
func Run(ctx context.Context, f *Factory, args []string) int {
	root := NewRootCmd(f)
	root.SetArgs(args)
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	code := exitCode(err)
	var ee *ExitError
	if errors.As(err, &ee) && ee.Silent {
		return code
	}
	msg := userMessage(err, f.resolvedConnection)
	if wantsJSON(cmd) {
		writeJSONError(f.IO.ErrOut, msg, code)
	} else {
		fmt.Fprintf(f.IO.ErrOut, "error: %s\n", msg)
	}
	return code
}

// wantsJSON reports whether the command that failed was asked for --json,
// whose error then goes to stderr as JSON too.
func wantsJSON(cmd *cobra.Command) bool {
	if cmd == nil {
		return false
	}
	fl := cmd.Flags().Lookup("json")
	return fl != nil && fl.Value.Type() == "bool" && fl.Value.String() == "true"
}

// NewRootCmd builds the command tree.
func NewRootCmd(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "dbtlink",
		Short: "Connect your data stack to dbt Cloud",
		Long: `dbtlink triggers and watches dbt Cloud jobs, fetches their artifacts, reads
dbt artifacts offline, and serves a local dbt Cloud emulator.

` + exitCodesHelpText + `

Errors go to stderr; with --json, as one JSON object:
  {"error": {"message": "...", "exit_code": 5}}

Environment:
  DBTLINK_HOME          config dir for connections and the key file
                        (default $XDG_CONFIG_HOME/dbtlink)
  DBTLINK_SECRET_KEY    32-byte key (base64 or hex) that encrypts stored
                        tokens, instead of the key file
  DBTLINK_CONNECTION    connection to use when --connection is not given
  DBT_CLOUD_HOST        with DBT_CLOUD_ACCOUNT_ID and DBT_CLOUD_API_TOKEN:
  DBT_CLOUD_ACCOUNT_ID  a connection taken from the environment, as
  DBT_CLOUD_API_TOKEN   dbt-cloud-cli reads it
  DBTLINK_RETRY_FOR     how long to keep retrying failed dbt Cloud calls
                        (a Go duration such as 30s or 2m; 0 disables
                        retries; default 2m)
  DBTLINK_SERVER        URL of a dbtlink server (dbtlink serve) that job run,
                        job list, job get and the connection commands go
                        through instead of dbt Cloud, as --server does
  DBTLINK_SERVER_TOKEN  API token for that server (dbtlink token create);
                        never accepted as a flag
  GITHUB_OUTPUT         set by GitHub Actions: job run and run retry write
                        run_id and run_url (and status when waited) to it`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version,
	}
	root.PersistentFlags().StringVarP(&f.ConnectionName, "connection", "c", "",
		"dbt Cloud connection to use (default: $DBTLINK_CONNECTION, then DBT_CLOUD_* variables, then the default stored connection)")
	root.PersistentFlags().StringVar(&f.ServerFlag, "server", "",
		"URL of a dbtlink server to go through instead of dbt Cloud, for job run|list|get, run get|list|watch|cancel, artifact list|get and connection list|add|test|remove|push (default: $DBTLINK_SERVER; token from $DBTLINK_SERVER_TOKEN)")
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		return checkServerSupport(f, cmd)
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError("%w\nRun '%s --help' for usage.", err, c.CommandPath())
	})
	for _, newCmd := range commands {
		root.AddCommand(newCmd(f))
	}
	nameArgErrors(root)
	addCompletions(root, f)
	return root
}

// commands lists the top-level commands; cobra sorts them for help output.
var commands = []func(*Factory) *cobra.Command{
	newCmdArtifact,
	newCmdArtifacts,
	newCmdConnection,
	func(f *Factory) *cobra.Command { return NewCmdEmulator(f, nil) },
	newCmdJob,
	func(f *Factory) *cobra.Command { return NewCmdLineage(f, nil) },
	newCmdRun,
	func(f *Factory) *cobra.Command { return NewCmdServe(f, nil) },
	newCmdToken,
	newCmdWebhook,
	newCmdWarehouse,
	newCmdCatalog,
}

func newCmdJob(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "job",
		Short: "List, inspect and run dbt Cloud jobs",
	}
	cmd.AddCommand(NewCmdJobGet(f, nil), NewCmdJobList(f, nil), NewCmdJobRun(f, nil))
	return cmd
}

// serverCommands are the commands that can go through a dbtlink server
// (--server or $DBTLINK_SERVER), by path below the root.
var serverCommands = map[string]bool{
	"job run": true, "job list": true, "job get": true,
	"connection list": true, "connection add": true, "connection test": true,
	"connection remove": true, "connection push": true,
	"warehouse add": true, "warehouse list": true, "warehouse show": true, "warehouse test": true,
	"warehouse remove": true, "warehouse crawl": true, "warehouse push": true,
	"run get": true, "run list": true, "run watch": true, "run cancel": true,
	"artifact list": true, "artifact get": true,
	"catalog sync": true, "catalog upload": true, "catalog search": true, "catalog show": true,
	"catalog lineage": true, "catalog tests": true, "catalog describe": true, "catalog status": true,
}

// localTools are the commands that never go through a server: they read
// local files, run a server or emulator, or work on the server's own
// database. They ignore $DBTLINK_SERVER, so that exporting it for the
// commands above does not get in their way, but refuse an explicit
// --server, which would say the user expects something they do not do.
var localTools = map[string]bool{
	"artifacts": true, "lineage": true, "emulator": true, "serve": true,
	"token": true, "webhook": true, "help": true, "completion": true,
	// cobra's hidden commands that shells call for completions.
	cobra.ShellCompRequestCmd: true, cobra.ShellCompNoDescRequestCmd: true,
}

// checkServerSupport refuses --server (or $DBTLINK_SERVER) for a command
// that does not support it, rather than letting it act locally when the
// user asked for the server. It runs before every command, so no command
// has to remember it.
func checkServerSupport(f *Factory, cmd *cobra.Command) error {
	path := cmd.CommandPath()
	if i := strings.IndexByte(path, ' '); i >= 0 {
		path = path[i+1:]
	} else {
		return nil // the root itself: --version
	}
	if serverCommands[path] {
		return nil
	}
	top, _, _ := strings.Cut(path, " ")
	switch {
	case f.ServerFlag != "":
		return usageError("`dbtlink %s` does not support --server: it works locally only. Commands that go through a dbtlink server: %s", path, serverCommandList())
	case f.ServerURL() != "" && !localTools[top]:
		return usageError("$%s is set, and `dbtlink %s` does not go through a dbtlink server (those that do: %s); unset it to run this command locally against dbt Cloud: %s= dbtlink %s ...",
			EnvServer, path, serverCommandList(), EnvServer, path)
	}
	return nil
}

func serverCommandList() string {
	names := make([]string, 0, len(serverCommands))
	for n := range serverCommands {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
