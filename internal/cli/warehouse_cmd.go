package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/dbtlink/dbtlink/internal/connection"
)

// WarehouseTarget is what the warehouse commands on a NAME share: the
// local store of warehouse connections, the dbtlink server to use instead
// (Server, when ServerURL is set by --server or $DBTLINK_SERVER), and the
// name.
type WarehouseTarget struct {
	IO        *IOStreams
	OpenStore func() (*connection.Store, error)
	Server    func() (*serverClient, error)
	ServerURL string
	Name      string
}

func newWarehouseTarget(f *Factory) WarehouseTarget {
	return WarehouseTarget{IO: f.IO, OpenStore: f.OpenStore, Server: f.Server}
}

// nameCommand is the RunE of a warehouse command on one NAME that runs
// locally or against a dbtlink server: it takes the name and the server URL
// into the target t of opts, then runs runF (the tests' hook), server when
// a server is given, or local.
func nameCommand[O any](f *Factory, opts *O, t *WarehouseTarget, runF func(*O) error, local, server func(context.Context, *O) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		t.Name, t.ServerURL = args[0], f.ServerURL()
		if runF != nil {
			return runF(opts)
		}
		if t.ServerURL != "" {
			return server(cmd.Context(), opts)
		}
		return local(cmd.Context(), opts)
	}
}
