package cli

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/dbtlink/dbtlink/internal/tracker"
)

// WebhookOptions holds the flags of `dbtlink webhook subscribe`.
type WebhookOptions struct {
	IO         *IOStreams
	DB         string
	Connection string
	URL        string
}

func newCmdWebhook(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "webhook",
		Short: "Have dbt Cloud post run events to the dbtlink server",
	}
	cmd.AddCommand(NewCmdWebhookSubscribe(f, nil))
	return cmd
}

// NewCmdWebhookSubscribe builds `dbtlink webhook subscribe`.
func NewCmdWebhookSubscribe(f *Factory, runF func(*WebhookOptions) error) *cobra.Command {
	opts := &WebhookOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "subscribe CONNECTION --url URL",
		Short: "Create a dbt Cloud webhook subscription that posts to the server",
		Long: `Create a webhook subscription in the dbt Cloud account of a connection stored
in the server's database, for job.run.started, job.run.completed and
job.run.errored of all jobs, posting to URL, and store its signing secret
(encrypted) in the server's database. The server then settles runs as soon
as dbt Cloud says they ended, and polls that account only as a safety net.

URL is where dbt Cloud reaches the server, ending in
/webhooks/dbt-cloud/CONNECTION. Subscribing again replaces the subscription.`,
		Example: `  dbtlink webhook subscribe prod --url https://dbtlink.example.com/webhooks/dbt-cloud/prod`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Connection = args[0]
			if opts.URL == "" {
				return usageError("--url is required: the address where dbt Cloud reaches this server, such as https://dbtlink.example.com/webhooks/dbt-cloud/%s", opts.Connection)
			}
			if runF != nil {
				return runF(opts)
			}
			return webhookSubscribeRun(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().StringVar(&opts.URL, "url", "", "URL dbt Cloud posts to (required)")
	addDBFlag(cmd, &opts.DB)
	return cmd
}

func webhookSubscribeRun(ctx context.Context, f *Factory, opts *WebhookOptions) error {
	keys, err := f.OpenStore()
	if err != nil {
		return err
	}
	st, closeStore, err := openServerStoreShared(ctx, f, opts.DB)
	if err != nil {
		return err
	}
	defer closeStore()
	tr, err := tracker.New(ctx, tracker.Config{Store: st, Keys: keys, Logger: slog.New(slog.DiscardHandler), ClientOptions: f.ClientOptions})
	if err != nil {
		return err
	}
	sub, err := tr.Subscribe(ctx, opts.Connection, opts.URL)
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "%s\n", sub.ID)
	fmt.Fprintf(opts.IO.ErrOut, "Subscribed: dbt Cloud posts run events of account %d to %s (subscription %s).\n", sub.AccountID, sub.ClientURL, sub.ID)
	return nil
}
