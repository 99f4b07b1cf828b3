package cli

import (
	"context"

	"github.com/spf13/cobra"
)

// nameCommand is the RunE of a warehouse command on one NAME that runs
// locally or against a dbtlink server: it takes the name and the server URL
// into opts, then runs runF (the tests' hook), server when a server is
// given (--server or $DBTLINK_SERVER), or local.
func nameCommand[O any](f *Factory, opts *O, name, serverURL *string, runF func(*O) error, local, server func(context.Context, *O) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		*name, *serverURL = args[0], f.ServerURL()
		if runF != nil {
			return runF(opts)
		}
		if *serverURL != "" {
			return server(cmd.Context(), opts)
		}
		return local(cmd.Context(), opts)
	}
}
