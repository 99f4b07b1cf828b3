package cli

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
)

// startEmulatorCmd runs `dbtlink emulator ARGS` in the background and
// returns its streams, a cancel func standing for Ctrl-C, and a channel
// with its exit status.
func startEmulatorCmd(t *testing.T, args ...string) (out, errOut *notifyBuffer, stop context.CancelFunc, done <-chan int) {
	t.Helper()
	out, errOut = newNotifyBuffer(), newNotifyBuffer()
	ios := &IOStreams{In: &bytes.Buffer{}, Out: out, ErrOut: errOut}
	f := NewFactory(ios)
	f.Getenv = func(string) string { return "" }
	ctx, cancel := context.WithCancel(t.Context())
	ch := make(chan int, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		ch <- Run(ctx, f, append([]string{"emulator"}, args...))
	}()
	t.Cleanup(func() {
		cancel()
		<-finished // the test may have taken the status from ch already
	})
	return out, errOut, cancel, ch
}

// parseExports reads `export K=V` lines.
func parseExports(s string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(s, "\n") {
		if kv, ok := strings.CutPrefix(l, "export "); ok {
			k, v, _ := strings.Cut(kv, "=")
			m[k] = v
		}
	}
	return m
}

func TestEmulatorCommand(t *testing.T) {
	out, errOut, stop, done := startEmulatorCmd(t, "--addr", "127.0.0.1:0", "--speed", "100")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	stdout, ok := out.waitFor(ctx, "export DBT_CLOUD_API_TOKEN=")
	if !ok {
		t.Fatalf("no export lines within the deadline\nstdout:\n%s\nstderr:\n%s", stdout, errOut.String())
	}
	ex := parseExports(stdout)
	if !strings.HasPrefix(ex["DBT_CLOUD_HOST"], "http://127.0.0.1:") || strings.HasSuffix(ex["DBT_CLOUD_HOST"], ":0") {
		t.Errorf("DBT_CLOUD_HOST = %q, want the real port", ex["DBT_CLOUD_HOST"])
	}
	if ex["DBT_CLOUD_ACCOUNT_ID"] != "1" || ex["DBT_CLOUD_API_TOKEN"] != emulator.DemoToken {
		t.Errorf("exports = %v", ex)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) < 3 || !strings.HasPrefix(lines[0], "export DBT_CLOUD_HOST=") ||
		!strings.HasPrefix(lines[1], "export DBT_CLOUD_ACCOUNT_ID=") || !strings.HasPrefix(lines[2], "export DBT_CLOUD_API_TOKEN=") {
		t.Errorf("stdout must start with the three export lines, token third (scripts read them with head -3):\n%s", stdout)
	}
	// The service tokens follow, each under a comment naming its permission sets.
	for _, want := range []string{
		`# service token "analyst": Analyst on all projects`,
		"export DBTLINK_EMULATOR_TOKEN_ANALYST=" + emulator.DemoAnalystToken,
		`# service token "metadata": Metadata Only on all projects`,
		"export DBTLINK_EMULATOR_TOKEN_METADATA=" + emulator.DemoMetadataOnlyToken,
		`# service token "runner": Job Runner on project 101`,
		"export DBTLINK_EMULATOR_TOKEN_RUNNER=" + emulator.DemoJobRunnerToken,
	} {
		if !strings.Contains(stdout, want+"\n") {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if s, ok := errOut.waitFor(ctx, `305 "daily build"`); !ok || !strings.Contains(s, `# account 1 jobs: 301 "daily build", 302 "failing build"`) {
		t.Errorf("stderr lacks the seeded jobs:\n%s", s)
	}

	// The printed variables work: the connection commands reach the emulator.
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	e := &cloudEnv{t: t, transport: tr, env: map[string]string{"DBTLINK_HOME": t.TempDir()}}
	for k, v := range ex {
		e.env[k] = v
	}
	r := e.run("connection", "test", "env")
	wantCode(t, r, ExitOK, "connection test env")
	// The printed Analyst token reads but may not manage webhooks; the
	// Metadata Only one is refused by the Admin API (exit 5).
	e.env["DBT_CLOUD_API_TOKEN"] = ex["DBTLINK_EMULATOR_TOKEN_ANALYST"]
	r = e.run("connection", "test", "env")
	wantCode(t, r, ExitOK, "connection test env with the analyst token")
	if !strings.Contains(r.stdout, "Token may: read the account, projects, environments, jobs and runs; may not: manage webhook subscriptions; not known until used:") ||
		!strings.Contains(r.stdout, "trigger, cancel or rerun runs.") {
		t.Errorf("connection test with the analyst token:\n%s", r.stdout)
	}
	e.env["DBT_CLOUD_API_TOKEN"] = ex["DBTLINK_EMULATOR_TOKEN_METADATA"]
	r = e.run("connection", "test", "env")
	wantCode(t, r, ExitAuth, "connection test env with the metadata-only token")
	e.env["DBT_CLOUD_API_TOKEN"] = ex["DBT_CLOUD_API_TOKEN"]
	if r := e.mustRun("job", "list"); !strings.Contains(r.stdout, "daily build") {
		t.Errorf("job list through the emulator command:\n%s", r.stdout)
	}

	stop()
	select {
	case code := <-done:
		if code != ExitOK {
			t.Errorf("emulator exited %d after cancel\nstderr:\n%s", code, errOut.String())
		}
	case <-ctx.Done():
		t.Fatal("emulator did not shut down after cancel")
	}
	if !strings.Contains(errOut.String(), "# emulator stopped") {
		t.Errorf("stderr lacks the stop line:\n%s", errOut.String())
	}
}

func TestEmulatorCommandErrors(t *testing.T) {
	dir := t.TempDir()
	badSeed := filepath.Join(dir, "seed.yaml")
	if err := os.WriteFile(badSeed, []byte("accounts:\n  - id: 1\n    nmae: typo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad speed", []string{"--speed", "0"}, "--speed must be positive"},
		{"bad seed", []string{"--seed", badSeed, "--addr", "127.0.0.1:0"}, "--seed"},
		{"missing seed", []string{"--seed", filepath.Join(dir, "none.yaml"), "--addr", "127.0.0.1:0"}, "--seed"},
		{"bad address", []string{"--addr", "256.0.0.1:99999"}, "listen on 256.0.0.1:99999"},
		{"warehouse flags without --warehouse", []string{"--warehouse-omit", "model.jaffle_shop.orders"}, "need --warehouse"},
		{"bad warehouse dsn", []string{"--warehouse", "mysql://u:hunter2@h/db"}, "is not duckdb:PATH or a postgres:// URL"},
		{"duckdb without a path", []string{"--warehouse", "duckdb:"}, "needs a file path"},
		{"bad extra", []string{"--warehouse", "postgres://127.0.0.1:1/x", "--warehouse-extra", "nodot"}, "is not SCHEMA.TABLE"},
		{"unknown omit", []string{"--warehouse", "postgres://127.0.0.1:1/x", "--warehouse-omit", "model.jaffle_shop.nope"}, "no such node"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, _, done := startEmulatorCmd(t, tt.args...)
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			select {
			case code := <-done:
				if code != ExitUsage {
					t.Errorf("exit %d, want %d", code, ExitUsage)
				}
			case <-ctx.Done():
				t.Fatal("emulator kept running")
			}
			if !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, errOut.String())
			}
			if out.String() != "" {
				t.Errorf("stdout not empty on failure:\n%s", out.String())
			}
			if strings.Contains(errOut.String(), "hunter2") {
				t.Errorf("stderr shows a password:\n%s", errOut.String())
			}
		})
	}
}

func TestEmulatorShellQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"dbtc_abc-123", "dbtc_abc-123"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"a b", "'a b'"},
		{"$(rm -rf /)", "'$(rm -rf /)'"},
		{"it's", `'it'"'"'s'`},
		{"", "''"},
	}
	for _, tt := range tests {
		if got := emulatorShellQuote(tt.in); got != tt.want {
			t.Errorf("emulatorShellQuote(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// runEmulatorWarehouse runs `dbtlink emulator --warehouse ...` until its
// warehouse line appears, then stops it, and returns standard error.
func runEmulatorWarehouse(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, stop, done := startEmulatorCmd(t, append([]string{"--addr", "127.0.0.1:0"}, args...)...)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if _, ok := out.waitFor(ctx, "export DBT_CLOUD_API_TOKEN="); !ok {
		t.Fatalf("no export lines\nstderr:\n%s", errOut.String())
	}
	// The jobs line comes last: stopping before it would cancel the listing
	// mid-connection, and http.Server.Shutdown waits up to 5 s for a
	// connection that never sent its request.
	stderr, ok := errOut.waitFor(ctx, "# account 1 jobs:")
	if !ok || !strings.Contains(stderr, "# warehouse ") {
		t.Fatalf("no warehouse line\nstderr:\n%s", stderr)
	}
	stop()
	select {
	case code := <-done:
		if code != ExitOK {
			t.Fatalf("emulator exited %d\nstderr:\n%s", code, errOut.String())
		}
	case <-ctx.Done():
		t.Fatal("emulator did not stop")
	}
	return errOut.String()
}

// warehouseTables reads schema.table -> table type and schema.table ->
// "column type" lines from information_schema, for the given schemas.
func warehouseTables(t *testing.T, db *sql.DB, schemas ...string) (tables map[string]string, columns map[string][]string) {
	t.Helper()
	in := "'" + strings.Join(schemas, "','") + "'"
	rows, err := db.QueryContext(t.Context(), "SELECT table_schema, table_name, table_type FROM information_schema.tables WHERE table_schema IN ("+in+")")
	if err != nil {
		t.Fatal(err)
	}
	tables = map[string]string{}
	for rows.Next() {
		var s, n, typ string
		if err := rows.Scan(&s, &n, &typ); err != nil {
			t.Fatal(err)
		}
		tables[s+"."+n] = typ
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	rows, err = db.QueryContext(t.Context(), "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns WHERE table_schema IN ("+in+") ORDER BY table_schema, table_name, ordinal_position")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	columns = map[string][]string{}
	for rows.Next() {
		var s, n, c, typ string
		if err := rows.Scan(&s, &n, &c, &typ); err != nil {
			t.Fatal(err)
		}
		columns[s+"."+n] = append(columns[s+"."+n], c+" "+strings.ToLower(typ))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return tables, columns
}

// checkWarehouse checks the relations built in schemas main and raw (with
// prefix) when model orders was left out and raw.untracked added.
func checkWarehouse(t *testing.T, db *sql.DB, prefix string, wantCustomers []string) {
	t.Helper()
	tables, columns := warehouseTables(t, db, prefix+"main", prefix+"raw")
	delete(tables, prefix+"raw.someone_elses") // not the emulator's: the PostgreSQL test adds it
	if len(tables) != 19 {
		t.Errorf("%d relations, want 19 (19 of the project, orders left out, untracked added): %v", len(tables), tables)
	}
	for rel, typ := range map[string]string{"main.customers": "BASE TABLE", "main.stg_orders": "VIEW", "raw.raw_customers": "BASE TABLE", "raw.untracked": "BASE TABLE"} {
		if tables[prefix+rel] != typ {
			t.Errorf("%s%s is %q, want %s", prefix, rel, tables[prefix+rel], typ)
		}
	}
	if _, ok := tables[prefix+"main.orders"]; ok {
		t.Errorf("main.orders was built although --warehouse-omit left it out")
	}
	if got := columns[prefix+"main.customers"]; !slices.Equal(got, wantCustomers) {
		t.Errorf("customers columns = %q\nwant %q", got, wantCustomers)
	}
	if got := columns[prefix+"main.stg_orders"]; len(got) == 0 || got[0] != "order_id "+wantCustomers[0][len("customer_id "):] {
		t.Errorf("stg_orders columns = %q", got)
	}
}

func TestEmulatorWarehousePostgres(t *testing.T) {
	dsn := os.Getenv("DBTLINK_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("DBTLINK_REQUIRE_POSTGRES") == "1" {
			t.Fatal("DBTLINK_REQUIRE_POSTGRES=1 but DBTLINK_TEST_POSTGRES is not set")
		}
		t.Skip("set DBTLINK_TEST_POSTGRES (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to test --warehouse on PostgreSQL")
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() }) // after the schemas are dropped (cleanups run last first)
	prefix := fmt.Sprintf("emu%d_", time.Now().UnixNano())
	t.Cleanup(func() {
		for _, s := range []string{"main", "raw"} {
			if _, err := db.ExecContext(context.WithoutCancel(t.Context()), `DROP SCHEMA IF EXISTS "`+prefix+s+`" CASCADE`); err != nil {
				t.Errorf("drop test schema: %v", err)
			}
		}
	})
	args := []string{"--warehouse", dsn, "--warehouse-schema-prefix", prefix, "--warehouse-omit", "model.jaffle_shop.orders", "--warehouse-extra", "raw.untracked"}
	stderr := runEmulatorWarehouse(t, args...)
	if !strings.Contains(stderr, "19 tables and views of the emulator's project in schemas "+prefix+"main, "+prefix+"raw") ||
		!strings.Contains(stderr, "the manifest's nodes are in database jaffle_shop") {
		t.Errorf("warehouse line:\n%s", stderr)
	}
	customers := []string{"customer_id text", "customer_name text", "count_lifetime_orders bigint", "first_ordered_at timestamp without time zone",
		"last_ordered_at timestamp without time zone", "lifetime_spend_pretax numeric", "lifetime_tax_paid numeric", "lifetime_spend numeric", "customer_type text"}
	checkWarehouse(t, db, prefix, customers)
	// Again: idempotent, and a table no one manages survives.
	if _, err := db.ExecContext(t.Context(), `CREATE TABLE "`+prefix+`raw"."someone_elses" (x int)`); err != nil {
		t.Fatal(err)
	}
	runEmulatorWarehouse(t, args...)
	checkWarehouse(t, db, prefix, customers)
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM "`+prefix+`raw"."someone_elses"`).Scan(&n); err != nil {
		t.Errorf("another table in the schema was dropped: %v", err)
	}
}

// TestEmulatorWarehouseUnreachable checks that a warehouse that cannot be
// reached stops the emulator before it serves (exit 7), without printing
// the DSN's password.
func TestEmulatorWarehouseUnreachable(t *testing.T) {
	out, errOut, _, done := startEmulatorCmd(t, "--addr", "127.0.0.1:0", "--warehouse", "postgres://u:hunter2@"+refusedHost(t)[len("http://"):]+"/x")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	select {
	case code := <-done:
		if code != ExitUpstream {
			t.Errorf("exit %d, want %d\n%s", code, ExitUpstream, errOut.String())
		}
	case <-ctx.Done():
		t.Fatal("emulator kept running")
	}
	if s := errOut.String(); !strings.Contains(s, "postgres://u:xxxxx@") || strings.Contains(s, "hunter2") {
		t.Errorf("stderr must name the warehouse without its password:\n%s", s)
	}
	if out.String() != "" {
		t.Errorf("stdout not empty:\n%s", out.String())
	}
}
