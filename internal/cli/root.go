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
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if !(errors.As(err, &ee) && ee.Silent) {
		fmt.Fprintf(f.IO.ErrOut, "error: %v\n", err)
	}
	return exitCode(err)
}

// NewRootCmd builds the command tree.
func NewRootCmd(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "dbtlink",
		Short: "Connect your data stack to dbt Cloud",
		Long: `dbtlink triggers and watches dbt Cloud jobs, fetches their artifacts, reads
dbt artifacts offline, and serves a local dbt Cloud emulator.

` + exitCodesHelpText + `

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
  GITHUB_OUTPUT         set by GitHub Actions: job run and run retry write
                        run_id and run_url (and status when waited) to it`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version,
	}
	root.PersistentFlags().StringVarP(&f.ConnectionName, "connection", "c", "",
		"dbt Cloud connection to use (default: $DBTLINK_CONNECTION, then DBT_CLOUD_* variables, then the default stored connection)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError("%w\nRun '%s --help' for usage.", err, c.CommandPath())
	})
	for _, newCmd := range commands {
		root.AddCommand(newCmd(f))
	}
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
}

func newCmdJob(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "job",
		Short: "List, inspect and run dbt Cloud jobs",
	}
	cmd.AddCommand(NewCmdJobGet(f, nil), NewCmdJobList(f, nil), NewCmdJobRun(f, nil))
	return cmd
}
