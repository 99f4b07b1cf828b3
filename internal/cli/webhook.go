package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

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
/webhooks/dbt-cloud/CONNECTION (the server takes a connection's deliveries
there and nowhere else); any other URL is refused before dbt Cloud is called,
because every delivery to it would get 404. Subscribing again replaces the
subscription.`,
		Example: `  dbtlink webhook subscribe prod --url https://dbtlink.example.com/webhooks/dbt-cloud/prod`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Connection = args[0]
			if opts.URL == "" {
				return usageError("--url is required: the address where dbt Cloud reaches this server, such as https://dbtlink.example.com/webhooks/dbt-cloud/%s", opts.Connection)
			}
			if err := checkWebhookURL(opts.Connection, opts.URL); err != nil {
				return err
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

// webhookPathPrefix is where `dbtlink serve` takes deliveries, followed by
// the connection's name (internal/server's route).
const webhookPathPrefix = "/webhooks/dbt-cloud/"

// checkWebhookURL refuses a --url that the server would answer with 404:
// not absolute http(s), or not ending in /webhooks/dbt-cloud/CONNECTION.
// Subscribing replaces the connection's subscription, so a wrong URL would
// silently break one that works.
func checkWebhookURL(conn, raw string) error {
	want := webhookPathPrefix + conn
	example := "https://dbtlink.example.com" + want
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return usageError("--url %q must be an absolute http(s) URL that dbt Cloud can reach, such as %s", raw, example)
	}
	// A reverse proxy may mount the server below a prefix.
	if strings.HasSuffix(u.Path, want) {
		return nil
	}
	msg := fmt.Sprintf("--url %q does not end in %s, where the server takes the deliveries of connection %q", raw, want, conn)
	if _, other, ok := strings.Cut(u.Path, webhookPathPrefix); ok && other != "" {
		msg += fmt.Sprintf(" (it names %q)", other)
	}
	return usageError("%s; dbt Cloud would get 404 for every delivery, and the subscription that works now would be replaced. Use the server's public address followed by %s, such as %s", msg, want, example)
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
