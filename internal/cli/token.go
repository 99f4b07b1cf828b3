package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/dbtlink/dbtlink/internal/server"
	"github.com/dbtlink/dbtlink/internal/store"
)

// TokenOptions holds the flags of the token commands.
type TokenOptions struct {
	IO   *IOStreams
	DB   string
	Name string
	// Scope is read, write or admin.
	Scope string
	JSON  bool
}

func newCmdToken(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke the API tokens of the dbtlink server",
		Long: `Create, list and revoke the bearer tokens that callers of the dbtlink server's
API present. These commands work on the server's database directly (--db, as
for dbtlink serve), so the first token can be made before any exists.

Scopes, each including the ones before it:
  read   read connections, jobs, runs and artifacts, /metrics
  write  also trigger, cancel and test
  admin  also create and delete connections`,
	}
	cmd.AddCommand(NewCmdTokenCreate(f, nil), NewCmdTokenList(f, nil), NewCmdTokenRevoke(f, nil))
	return cmd
}

func addDBFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVar(p, "db", "", "server database: a postgres:// URL or a SQLite file (default: $DBTLINK_DB, else dbtlink.db in the dbtlink home directory)")
}

// NewCmdTokenCreate builds `dbtlink token create`.
func NewCmdTokenCreate(f *Factory, runF func(*TokenOptions) error) *cobra.Command {
	opts := &TokenOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "create --name NAME --scope read|write|admin",
		Short: "Create an API token and print it once",
		Long: `Create an API token and print it on standard output, once: only its hash is
stored, so a lost token cannot be shown again (revoke it and create another).`,
		Example: `  TOKEN=$(dbtlink token create --name airflow --scope write)`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Name == "" {
				return usageError("--name is required: a name to tell the token apart, such as ci or airflow")
			}
			if !store.Scope(opts.Scope).Valid() {
				return usageError("--scope must be read, write or admin, got %q", opts.Scope)
			}
			if runF != nil {
				return runF(opts)
			}
			return tokenCreateRun(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Name, "name", "", "name of the token (required)")
	cmd.Flags().StringVar(&opts.Scope, "scope", "", "read, write or admin (required)")
	addDBFlag(cmd, &opts.DB)
	return cmd
}

func tokenCreateRun(ctx context.Context, f *Factory, opts *TokenOptions) error {
	st, closeStore, err := openServerStoreShared(ctx, f, opts.DB)
	if err != nil {
		return err
	}
	defer closeStore()
	plain, prefix, hash, err := server.GenerateToken()
	if err != nil {
		return err
	}
	_, err = st.CreateAPIToken(ctx, store.APIToken{Name: opts.Name, Prefix: prefix, Hash: hash, Scope: store.Scope(opts.Scope)})
	if errors.Is(err, store.ErrExists) {
		return usageError("a token named %q exists; revoke it first (dbtlink token revoke %s) or choose another name", opts.Name, opts.Name)
	}
	if err != nil {
		return fmt.Errorf("create token %q: %w", opts.Name, err)
	}
	fmt.Fprintln(opts.IO.Out, plain)
	if opts.IO.IsStderrTTY() {
		fmt.Fprintf(opts.IO.ErrOut, "Token %q (%s scope) created. It is shown only now; keep it in a secret store.\n", opts.Name, opts.Scope)
	}
	return nil
}

// NewCmdTokenList builds `dbtlink token list`.
func NewCmdTokenList(f *Factory, runF func(*TokenOptions) error) *cobra.Command {
	opts := &TokenOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List API tokens (names, scopes and prefixes; never the secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return tokenListRun(cmd.Context(), f, opts)
		},
	}
	addDBFlag(cmd, &opts.DB)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

type tokenJSON struct {
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Scope      string     `json:"scope"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

func tokenListRun(ctx context.Context, f *Factory, opts *TokenOptions) error {
	st, closeStore, err := openServerStoreShared(ctx, f, opts.DB)
	if err != nil {
		return err
	}
	defer closeStore()
	toks, err := st.ListAPITokens(ctx)
	if err != nil {
		return err
	}
	if opts.JSON {
		out := make([]tokenJSON, 0, len(toks))
		for _, t := range toks {
			out = append(out, tokenJSON{Name: t.Name, Prefix: t.Prefix, Scope: string(t.Scope), CreatedAt: t.CreatedAt,
				LastUsedAt: timePtr(t.LastUsedAt), RevokedAt: timePtr(t.RevokedAt)})
		}
		return writeJSON(opts.IO.Out, out)
	}
	if len(toks) == 0 {
		fmt.Fprintln(opts.IO.ErrOut, "No tokens. Create one with: dbtlink token create --name NAME --scope read|write|admin")
		return nil
	}
	tw := newTable(opts.IO.Out, "NAME", "SCOPE", "PREFIX", "CREATED", "LAST USED", "STATE")
	for _, t := range toks {
		state := "active"
		if !t.RevokedAt.IsZero() {
			state = "revoked " + t.RevokedAt.UTC().Format(time.RFC3339)
		}
		tw.row(t.Name, string(t.Scope), t.Prefix+"…", t.CreatedAt.UTC().Format(time.RFC3339), orDash(formatTime(t.LastUsedAt)), state)
	}
	return tw.flush()
}

// NewCmdTokenRevoke builds `dbtlink token revoke`.
func NewCmdTokenRevoke(f *Factory, runF func(*TokenOptions) error) *cobra.Command {
	opts := &TokenOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "revoke NAME",
		Short: "Revoke an API token; requests with it get 401 from then on",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			return tokenRevokeRun(cmd.Context(), f, opts)
		},
	}
	addDBFlag(cmd, &opts.DB)
	return cmd
}

func tokenRevokeRun(ctx context.Context, f *Factory, opts *TokenOptions) error {
	st, closeStore, err := openServerStoreShared(ctx, f, opts.DB)
	if err != nil {
		return err
	}
	defer closeStore()
	if err := st.RevokeAPIToken(ctx, opts.Name); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return withCode(ExitNotFound, fmt.Errorf("no active token named %q (see dbtlink token list)", opts.Name))
		}
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "Revoked token %q.\n", opts.Name)
	return nil
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
