package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
	"github.com/dbtlink/dbtlink/internal/connection"
	"github.com/spf13/cobra"
)

// EmulatorOptions holds the dependencies and flags of `dbtlink emulator`.
type EmulatorOptions struct {
	IO *IOStreams

	Addr      string
	SeedFile  string
	Speed     float64
	RateLimit int

	// Warehouse is a DSN (duckdb:PATH or postgres://...) to build the
	// project's tables in before serving; empty builds nothing.
	Warehouse             string
	WarehouseSchemaPrefix string
	WarehouseOmit         []string
	WarehouseExtra        []string
}

// NewCmdEmulator builds `dbtlink emulator`.
func NewCmdEmulator(f *Factory, runF func(*EmulatorOptions) error) *cobra.Command {
	opts := &EmulatorOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "emulator",
		Short: "Serve a local fake dbt Cloud for demos and tests",
		Long: `Serve a local dbt Cloud emulator (Admin API v2 and v3, runs that progress on
their own, artifacts, webhooks) until interrupted (Ctrl-C or SIGTERM), then shut
down gracefully.

Standard output gets only shell lines to paste or eval, with the real port when
--addr ends in :0:

  export DBT_CLOUD_HOST=http://127.0.0.1:8080
  export DBT_CLOUD_ACCOUNT_ID=1
  export DBT_CLOUD_API_TOKEN=dbtc_emulator_demo_token

The token is a throwaway secret of the emulator, printed on purpose. After
these three lines come the default seed's service tokens with narrower
permission sets, each under a comment naming its sets:

  # service token "analyst": Analyst on all projects
  export DBTLINK_EMULATOR_TOKEN_ANALYST=dbtc_emulator_analyst_token

The seeded jobs and a request log go to standard error.

With --warehouse DSN the emulator first builds, in that database, the tables
and views its project's models, seeds and sources would have built (columns
and types as the project's catalog.json has them, no rows, no comments), in
one transaction, then serves. DSN is duckdb:PATH (a DuckDB file; name it
after the manifest's database, jaffle_shop.duckdb, so that
database.schema.identifier matches) or a postgres:// URL. The relations the
project names are dropped and recreated (whoever made a table of that name),
so running it again is safe; other tables in those schemas are left alone.
Standard error says where the warehouse is.

Fault injection: POST a fault to /_emulator/faults (no token needed) to break
the matching requests on purpose and see how a client copes:

  curl -X POST $DBT_CLOUD_HOST/_emulator/faults -d '{"path":
    "POST /api/v2/accounts/{a}/jobs/{j}/run/", "kind": "status",
    "status": 429, "retry_after": 30, "times": 2}'
  curl $DBT_CLOUD_HOST/_emulator/faults             # armed faults, what remains
  curl -X DELETE $DBT_CLOUD_HOST/_emulator/faults   # disarm all

path is a route pattern ({x} matches one segment, {x...} the rest) or, without
braces, a path prefix, optionally after the method. times defaults to 1 and a
negative number means until disarmed. kind is one of:

  status            answer status (400-599) in dbt's error envelope without
                    doing the work; retry_after (seconds) sets Retry-After
  latency           wait latency (a duration such as "2s"), then serve
  drop              close the connection without answering or doing the work
  commit_then_drop  do the work (a trigger creates its run), then close the
                    connection without answering

GET /_emulator/state shows the runs, trigger counts per job and armed faults.`,
		// The first example, up to the blank line, is run by
		// e2e.TestEmulatorHelpExample: it must return with the variables set.
		Example: `  # in the background; once its export lines are written, read them into this shell
  dbtlink emulator --addr 127.0.0.1:0 --speed 20 >emulator.env 2>emulator.log &
  until grep -qs '^export DBT_CLOUD_API_TOKEN=' emulator.env; do sleep 0.1; done; . ./emulator.env

  dbtlink emulator --seed my-seed.yaml --speed 60
  dbtlink emulator --warehouse duckdb:./jaffle_shop.duckdb
  dbtlink emulator --warehouse postgres://postgres@127.0.0.1:5432/test --warehouse-schema-prefix demo_ --warehouse-omit model.jaffle_shop.orders`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Speed <= 0 {
				return usageError("--speed must be positive (emulated seconds per real second), got %v", opts.Speed)
			}
			if opts.Warehouse == "" && (opts.WarehouseSchemaPrefix != "" || len(opts.WarehouseOmit) > 0 || len(opts.WarehouseExtra) > 0) {
				return usageError("--warehouse-schema-prefix, --warehouse-omit and --warehouse-extra need --warehouse")
			}
			if runF != nil {
				return runF(opts)
			}
			return emulatorRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Addr, "addr", "127.0.0.1:8080", "address to listen on; a port of 0 picks a free one")
	fl.StringVar(&opts.SeedFile, "seed", "", "YAML or JSON `FILE` with the accounts, projects, environments and jobs to serve (default: the built-in demo seed)")
	fl.Float64Var(&opts.Speed, "speed", 1, "emulated seconds per real second; 60 makes a ten-minute job finish in ten seconds")
	fl.IntVar(&opts.RateLimit, "rate-limit", 0, "requests per account per emulated minute before 429s (0: dbt Cloud's 5000; negative: no limit)")
	fl.StringVar(&opts.Warehouse, "warehouse", "", "build the project's tables in this `DSN` first: duckdb:PATH or a postgres:// URL")
	fl.StringVar(&opts.WarehouseSchemaPrefix, "warehouse-schema-prefix", "", "put `PREFIX` before every schema --warehouse creates (e.g. to keep tests apart in one PostgreSQL database)")
	fl.StringSliceVar(&opts.WarehouseOmit, "warehouse-omit", nil, "leave out the table of this node `UNIQUE_ID` (e.g. model.jaffle_shop.orders); repeatable")
	fl.StringSliceVar(&opts.WarehouseExtra, "warehouse-extra", nil, "also create `SCHEMA.TABLE`, a table no node claims (one bigint column id); repeatable")
	return cmd
}

func emulatorRun(ctx context.Context, opts *EmulatorOptions) error {
	// Main only turns SIGTERM into cancellation; a server should also stop
	// cleanly on Ctrl-C rather than die mid-response.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()

	var seed *emulator.Seed
	if opts.SeedFile != "" {
		s, err := emulator.LoadSeed(opts.SeedFile)
		if err != nil {
			return usageError("--seed: %w", err)
		}
		seed = s
	}
	var warehouse *warehouseTarget
	wopts := emulator.WarehouseOptions{Omit: opts.WarehouseOmit}
	if opts.Warehouse != "" {
		t, err := parseWarehouseDSN(opts.Warehouse)
		if err != nil {
			return usageError("%w", err)
		}
		warehouse = &t
		for _, x := range opts.WarehouseExtra {
			rel, err := emulatorExtraRelation(x)
			if err != nil {
				return usageError("%w", err)
			}
			wopts.Extra = append(wopts.Extra, rel)
		}
	}
	logger := slog.New(slog.NewTextHandler(opts.IO.ErrOut, nil))
	emu, err := emulator.NewHandler(emulator.Options{
		Seed:               seed,
		Clock:              emulator.NewRealClock(opts.Speed),
		RateLimitPerMinute: opts.RateLimit,
		Logger:             logger,
	})
	if err != nil {
		return usageError("start the emulator: %w", err)
	}
	defer emu.Close()

	// The warehouse is ready before the export lines appear, so a script
	// that waits for them can read it at once.
	var built warehouseBuilt
	if warehouse != nil {
		if built, err = buildEmulatorWarehouse(ctx, *warehouse, opts.WarehouseSchemaPrefix, wopts); err != nil {
			return err
		}
	}

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", opts.Addr)
	if err != nil {
		return usageError("listen on %s: %w (choose another address with --addr, or port 0 for a free one)", opts.Addr, err)
	}
	host := "http://" + ln.Addr().String()

	served := make(chan error, 1)
	go func() { served <- emu.Serve(ctx, ln) }()

	// Scripts wait for the token line (scripts/demo.sh greps for it) and then
	// eval every export, so it comes last and each line is written whole.
	exports := fmt.Sprintf("export %s=%s\nexport %s=%d\nexport %s=%s\n",
		connection.EnvHost, emulatorShellQuote(host),
		connection.EnvAccountID, emu.AccountID(),
		connection.EnvToken, emulatorShellQuote(emu.Token())) + emulatorServiceTokenExports(emu)
	if _, err := io.WriteString(opts.IO.Out, exports); err != nil {
		return fmt.Errorf("print the connection variables: %w", err)
	}
	if s, ok := opts.IO.Out.(interface{ Sync() error }); ok {
		_ = s.Sync() // a pipe or terminal has nothing to flush; a file does
	}
	fmt.Fprintf(opts.IO.ErrOut, "# dbt Cloud emulator listening on %s (speed %gx); stop with Ctrl-C\n", host, opts.Speed)
	if warehouse != nil {
		fmt.Fprintln(opts.IO.ErrOut, built.describe(*warehouse))
	}
	emulatorPrintJobs(ctx, opts.IO.ErrOut, host, emu.Token(), emu.AccountID())

	err = <-served
	if err != nil && !errors.Is(err, context.Canceled) {
		return withCode(ExitUpstream, err)
	}
	fmt.Fprintln(opts.IO.ErrOut, "# emulator stopped")
	return nil
}

// emulatorPrintJobs lists the jobs the token reaches as one comment line.
// They are read over HTTP like any client would, because the seed may leave
// ids for the emulator to assign. Failing to list is only a missing hint.
func emulatorPrintJobs(ctx context.Context, w io.Writer, host, token string, accountID int64) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	client, err := dbtcloud.NewClient(host, token, dbtcloud.WithRetryPolicy(dbtcloud.RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		return
	}
	var parts []string
	for j, err := range client.Jobs.ListIter(ctx, accountID, nil) {
		if err != nil {
			fmt.Fprintf(w, "# could not list the seeded jobs: %v\n", err)
			return
		}
		parts = append(parts, fmt.Sprintf("%d %q", j.ID, j.Name))
	}
	fmt.Fprintf(w, "# account %d jobs: %s\n", accountID, strings.Join(parts, ", "))
}

// emulatorShellQuote quotes s for a POSIX shell unless it is plainly safe,
// so that eval of the export lines cannot run anything a seed put in a token.
func emulatorShellQuote(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:/@%+=,", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// emulatorServiceTokenExports prints a variable per service token of the
// default account, after the three lines scripts read with head -3, so the
// narrower tokens (Analyst, Metadata Only, ...) are at hand for demos:
//
//	# service token "analyst": Analyst on all projects
//	export DBTLINK_EMULATOR_TOKEN_ANALYST=dbtc_emulator_analyst_token
func emulatorServiceTokenExports(emu *emulator.Emulator) string {
	var b strings.Builder
	for _, st := range emu.ServiceTokens() {
		if st.AccountID != emu.AccountID() {
			continue
		}
		sets := make([]string, len(st.PermissionSets))
		for i, p := range st.PermissionSets {
			sets[i] = p.String()
		}
		scope := "all projects"
		if len(st.ProjectIDs) > 0 {
			ids := make([]string, len(st.ProjectIDs))
			for i, id := range st.ProjectIDs {
				ids[i] = strconv.FormatInt(id, 10)
			}
			scope = "project " + strings.Join(ids, ", ")
		}
		// The comment is a shell comment; strip line breaks a seed could put in a name.
		name := strings.NewReplacer("\n", " ", "\r", " ").Replace(st.Name)
		fmt.Fprintf(&b, "# service token %q: %s on %s\nexport %s=%s\n", name, strings.Join(sets, " + "), scope,
			emulatorTokenVar(st.Name), emulatorShellQuote(st.Token))
	}
	return b.String()
}

// emulatorTokenVar turns a token name into DBTLINK_EMULATOR_TOKEN_NAME:
// upper case, anything but letters and digits becomes an underscore.
func emulatorTokenVar(name string) string {
	var b strings.Builder
	b.WriteString("DBTLINK_EMULATOR_TOKEN_")
	for _, r := range strings.ToUpper(name) {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}
