package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
	"github.com/dbtlink/dbtlink/internal/connection"
	"github.com/dbtlink/dbtlink/internal/server"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/store/storetest"
	"github.com/dbtlink/dbtlink/internal/tracker"
)

// serverBench is the real server stack in-process: an emulator on a fast
// real clock, a SQLite store, a tracker with short poll bounds and the
// HTTP API, with an admin token; commands run with --server against it.
type serverBench struct {
	t     *testing.T
	emu   *emulator.Server
	ts    *httptest.Server
	token string
	// env is the environment of commands; DBTLINK_SERVER is not set, so
	// tests pass --server (or set it) themselves.
	env map[string]string
	hc  *http.Client
}

// benchSpeed makes an emulated minute pass in half a real second.
const benchSpeed = 120

func newServerBench(t *testing.T) *serverBench {
	t.Helper()
	emu, err := emulator.New(emulator.Options{Clock: emulator.NewRealClock(benchSpeed)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emu.Close)
	st := storetest.Open(t, storetest.Backends(t)[0])
	keys, err := connection.NewStore(t.TempDir(), connection.WithGetenv(func(string) string { return "" }))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tr, err := tracker.New(ctx, tracker.Config{
		Store: st, Keys: keys, Logger: slog.New(slog.DiscardHandler),
		PollMin: 20 * time.Millisecond, PollMax: 200 * time.Millisecond, RescueAfter: 3 * time.Second,
		FetchInterval: 20 * time.Millisecond,
		ClientOptions: []dbtcloud.Option{dbtcloud.WithRetryPolicy(dbtcloud.RetryPolicy{MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.AddConnection(ctx, tracker.NewConnection{Name: "emu", Host: emu.URL, AccountID: emu.AccountID, Token: emu.Token, Default: true}); err != nil {
		t.Fatal(err)
	}
	if err := tr.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := tr.Stop(sctx); err != nil {
			t.Errorf("stop the tracker: %v", err)
		}
	})
	srv, err := server.New(server.Config{Backend: backend{tr, st}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	plain, prefix, hash, err := server.GenerateToken()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateAPIToken(ctx, store.APIToken{Name: "cli", Prefix: prefix, Hash: hash, Scope: store.ScopeAdmin}); err != nil {
		t.Fatal(err)
	}
	tp := &http.Transport{}
	t.Cleanup(tp.CloseIdleConnections)
	return &serverBench{t: t, emu: emu, ts: ts, token: plain, hc: &http.Client{Transport: tp},
		env: map[string]string{"DBTLINK_HOME": t.TempDir(), EnvServerToken: plain, "DBTLINK_RETRY_FOR": "1s"}}
}

// run runs one command line and checks that no token was printed.
func (b *serverBench) runIn(stdin string, args ...string) cloudResult {
	b.t.Helper()
	ios, in, out, errOut := TestStreams()
	in.WriteString(stdin)
	f := NewFactory(ios)
	f.Getenv = func(k string) string { return b.env[k] }
	f.Environ = func() []string { return nil }
	f.ServerHTTPClient = b.hc
	f.ClientOptions = []dbtcloud.Option{dbtcloud.WithRetryPolicy(dbtcloud.RetryPolicy{MaxAttempts: 1})}
	code := Run(b.t.Context(), f, args)
	r := cloudResult{code: code, stdout: out.String(), stderr: errOut.String()}
	for _, s := range []string{b.token, emulator.DemoToken} {
		if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
			b.t.Fatalf("dbtlink %s printed a token:\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.stdout, r.stderr)
		}
	}
	return r
}

func (b *serverBench) run(args ...string) cloudResult {
	b.t.Helper()
	return b.runIn("", args...)
}

// srv runs a command with --server pointing at the bench.
func (b *serverBench) srv(args ...string) cloudResult {
	b.t.Helper()
	return b.run(append([]string{"--server", b.ts.URL}, args...)...)
}

func wantExit(t *testing.T, r cloudResult, code int, what string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", what, r.code, code, r.stdout, r.stderr)
	}
}

func TestServerJobRun(t *testing.T) {
	t.Parallel()
	b := newServerBench(t)

	t.Run("success", func(t *testing.T) {
		gh := filepath.Join(t.TempDir(), "gh_output")
		b.env["GITHUB_OUTPUT"] = gh
		defer delete(b.env, "GITHUB_OUTPUT")
		r := b.srv("job", "run", "301", "--wait")
		wantExit(t, r, ExitOK, "job run 301 --wait")
		if !strings.Contains(r.stdout, "succeeded in") || !strings.Contains(r.stderr, "run 70000001: Success") {
			t.Fatalf("output:\n%s%s", r.stdout, r.stderr)
		}
		out, err := os.ReadFile(gh)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"dbtlink_run_id=", "run_id=", "run_url=http", "status=Success"} {
			if !strings.Contains(string(out), k) {
				t.Errorf("GITHUB_OUTPUT lacks %s:\n%s", k, out)
			}
		}
	})
	t.Run("names and no wait", func(t *testing.T) {
		b.env[EnvServer] = b.ts.URL // the variable works as the flag does
		defer delete(b.env, EnvServer)
		r := b.run("job", "run", "--project", "analytics", "--environment", "Production", "--job", "daily build")
		wantExit(t, r, ExitOK, "job run by names")
		if f := strings.Fields(r.stdout); len(f) != 2 || !strings.HasPrefix(f[1], "http") {
			t.Fatalf("stdout %q, want run id and URL", r.stdout)
		}
	})
	t.Run("failing job", func(t *testing.T) {
		r := b.srv("job", "run", "302", "--wait")
		wantExit(t, r, ExitRunError, "job run 302 --wait")
		if !strings.Contains(r.stderr, "Failing nodes:") || !strings.Contains(r.stderr, "test.") {
			t.Fatalf("no failing nodes:\n%s", r.stderr)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		r := b.srv("job", "run", "303", "--wait", "--timeout", "1s", "--cancel-on-timeout")
		wantExit(t, r, ExitWaitTimeout, "job run 303 --timeout 1s")
		if !strings.Contains(r.stderr, "asked to cancel") {
			t.Fatalf("stderr:\n%s", r.stderr)
		}
	})
	t.Run("artifacts", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "out")
		r := b.srv("job", "run", "301", "--wait", "--artifacts", "manifest.json,run_results.json", "-o", dir)
		wantExit(t, r, ExitOK, "job run --artifacts")
		for _, name := range []string{"manifest.json", "run_results.json"} {
			if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Size() == 0 {
				t.Fatalf("%s: %v\n%s%s", name, err, r.stdout, r.stderr)
			}
		}
	})
	t.Run("unknown job", func(t *testing.T) {
		wantExit(t, b.srv("job", "run", "999", "--wait"), ExitNotFound, "job run 999")
		wantExit(t, b.srv("job", "run", "--project", "analytics", "--environment", "Production", "--job", "nope"), ExitNotFound, "job run by a wrong name")
	})
	t.Run("unknown connection", func(t *testing.T) {
		wantExit(t, b.srv("--connection", "nope", "job", "run", "301"), ExitNotFound, "job run -c nope")
	})
	t.Run("flags", func(t *testing.T) {
		for _, args := range [][]string{
			{"job", "run", "301", "--wait", "--poll", "1s"},
			{"job", "run", "301", "--reuse-existing"},
			{"job", "run", "301", "--retry-from-failure"},
			{"job", "run", "301", "--cancel-at-deadline"},
			{"job", "run", "301", "--max-retries", "11"},
		} {
			wantExit(t, b.srv(args...), ExitUsage, strings.Join(args, " "))
		}
		for _, args := range [][]string{
			{"job", "run", "301", "--max-retries", "1"},
			{"job", "run", "301", "--deadline", "1h"},
		} {
			r := b.run(args...)
			wantExit(t, r, ExitUsage, strings.Join(args, " ")+" without --server")
			if !strings.Contains(r.stderr, "needs --server") {
				t.Fatalf("stderr:\n%s", r.stderr)
			}
		}
	})
}

func TestServerAuthAndReachability(t *testing.T) {
	t.Parallel()
	b := newServerBench(t)

	t.Run("missing token", func(t *testing.T) {
		tok := b.env[EnvServerToken]
		delete(b.env, EnvServerToken)
		defer func() { b.env[EnvServerToken] = tok }()
		r := b.srv("job", "run", "301")
		wantExit(t, r, ExitUsage, "no token")
		if !strings.Contains(r.stderr, "dbtlink token create") || !strings.Contains(r.stderr, EnvServerToken) {
			t.Fatalf("stderr:\n%s", r.stderr)
		}
	})
	t.Run("bad token", func(t *testing.T) {
		tok := b.env[EnvServerToken]
		b.env[EnvServerToken] = "dbtl_wrong"
		defer func() { b.env[EnvServerToken] = tok }()
		wantExit(t, b.srv("job", "run", "301", "--wait"), ExitAuth, "bad token")
		wantExit(t, b.srv("connection", "list"), ExitAuth, "bad token")
	})
	t.Run("server down", func(t *testing.T) {
		down := httptest.NewServer(http.NotFoundHandler())
		down.Close()
		r := b.run("--server", down.URL, "job", "run", "301", "--wait")
		wantExit(t, r, ExitUpstream, "server down")
	})
	t.Run("bad URL", func(t *testing.T) {
		wantExit(t, b.run("--server", "ftp://x", "connection", "list"), ExitUsage, "bad URL")
		r := b.run("--server", "http://user:secretpw@127.0.0.1:1", "connection", "list")
		wantExit(t, r, ExitUsage, "URL with credentials")
		if strings.Contains(r.stderr, "secretpw") {
			t.Fatalf("password printed:\n%s", r.stderr)
		}
	})
	t.Run("local-only commands refuse --server", func(t *testing.T) {
		for _, args := range [][]string{{"run", "retry", "1"}, {"connection", "rotate-key"}, {"serve"}, {"connection", "show", "x"}} {
			r := b.srv(args...)
			wantExit(t, r, ExitUsage, strings.Join(args, " "))
			if !strings.Contains(r.stderr, "does not support --server") {
				t.Fatalf("stderr:\n%s", r.stderr)
			}
		}
		// $DBTLINK_SERVER is refused by commands that would talk to dbt
		// Cloud, and ignored by local tools.
		b.env[EnvServer] = b.ts.URL
		defer delete(b.env, EnvServer)
		wantExit(t, b.run("run", "retry", "1"), ExitUsage, "run retry with $DBTLINK_SERVER")
		wantExit(t, b.run("lineage", "--help"), ExitOK, "lineage --help with $DBTLINK_SERVER")
	})
}

func TestServerConnections(t *testing.T) {
	t.Parallel()
	b := newServerBench(t)

	// Local connections: one stored, and "env".
	r := b.runIn(emulator.DemoToken+"\n", "connection", "add", "prod", "--host", b.emu.URL, "--account-id", "1", "--token-stdin")
	wantExit(t, r, ExitOK, "local connection add")
	b.env["DBT_CLOUD_HOST"], b.env["DBT_CLOUD_ACCOUNT_ID"], b.env["DBT_CLOUD_API_TOKEN"] = b.emu.URL, "1", emulator.DemoToken

	r = b.srv("connection", "push", "--all")
	wantExit(t, r, ExitOK, "push --all")
	if !strings.Contains(r.stderr, "2 copied, 0 skipped") {
		t.Fatalf("push:\n%s", r.stderr)
	}
	r = b.srv("connection", "push", "prod")
	wantExit(t, r, ExitOK, "push again")
	if !strings.Contains(r.stderr, "prod: skipped") {
		t.Fatalf("push again:\n%s", r.stderr)
	}
	r = b.srv("connection", "push", "prod", "--replace", "--test")
	wantExit(t, r, ExitOK, "push --replace")
	if !strings.Contains(r.stderr, "1 copied") {
		t.Fatalf("push --replace:\n%s", r.stderr)
	}
	wantExit(t, b.srv("connection", "push", "nope"), ExitNotFound, "push of an unknown connection")
	wantExit(t, b.run("connection", "push", "prod"), ExitUsage, "push without --server")

	r = b.srv("connection", "list")
	wantExit(t, r, ExitOK, "list")
	for _, n := range []string{"emu", "prod", "env"} {
		if !strings.Contains(r.stdout, n) {
			t.Fatalf("list lacks %s:\n%s", n, r.stdout)
		}
	}
	r = b.srv("connection", "test", "prod")
	wantExit(t, r, ExitOK, "test prod")
	if !strings.Contains(r.stdout, "pass") {
		t.Fatalf("test:\n%s", r.stdout)
	}

	// add reads the token as the local add does; a token dbt Cloud
	// refuses fails the server's test and is not kept.
	r = b.runIn("dbtc_not_a_token\n", "--server", b.ts.URL, "connection", "add", "bad", "--host", b.emu.URL, "--account-id", "1", "--token-stdin")
	wantExit(t, r, ExitAuth, "add with a bad token")
	r = b.runIn(emulator.DemoToken+"\n", "--server", b.ts.URL, "connection", "add", "good", "--host", b.emu.URL, "--account-id", "1", "--token-stdin")
	wantExit(t, r, ExitOK, "add")

	wantExit(t, b.srv("connection", "remove", "prod"), ExitOK, "remove")
	wantExit(t, b.srv("connection", "remove", "prod"), ExitNotFound, "remove again")
	r = b.srv("connection", "list", "--json")
	wantExit(t, r, ExitOK, "list --json")
	if strings.Contains(r.stdout, `"prod"`) || strings.Contains(r.stdout, `"bad"`) || !strings.Contains(r.stdout, `"good"`) {
		t.Fatalf("list after remove:\n%s", r.stdout)
	}
}

func TestServerJobListGet(t *testing.T) {
	t.Parallel()
	b := newServerBench(t)
	r := b.srv("job", "list", "--name-contains", "daily")
	wantExit(t, r, ExitOK, "job list")
	if !strings.Contains(r.stdout, "301") || !strings.Contains(r.stdout, "daily build") || strings.Contains(r.stdout, "302") {
		t.Fatalf("job list:\n%s", r.stdout)
	}
	wantExit(t, b.srv("job", "list", "--state", "all"), ExitUsage, "job list --state all")
	r = b.srv("job", "get", "302")
	wantExit(t, r, ExitOK, "job get")
	if !strings.Contains(r.stdout, "failing build") {
		t.Fatalf("job get:\n%s", r.stdout)
	}
	wantExit(t, b.srv("job", "get", "999"), ExitNotFound, "job get 999")
}

// Without a terminal, the first Ctrl-C cancels the run through the
// server, and the command exits 3 as the local one does.
func TestServerJobRunInterrupt(t *testing.T) {
	t.Parallel()
	b := newServerBench(t)
	ios, _, _, errOut := TestStreams()
	f := NewFactory(ios)
	f.Getenv = func(k string) string { return b.env[k] }
	f.ServerHTTPClient = b.hc
	f.ServerFlag = b.ts.URL
	interrupts := make(chan os.Signal, 2)
	cmd := NewCmdJobRun(f, func(o *JobRunOptions) error {
		o.Interrupts = func() (<-chan os.Signal, func()) { return interrupts, func() {} }
		return jobRunServer(t.Context(), o)
	})
	cmd.SetArgs([]string{"303", "--wait"})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	go func() {
		time.Sleep(500 * time.Millisecond)
		interrupts <- os.Interrupt
	}()
	err := cmd.ExecuteContext(t.Context())
	if code := exitCode(err); code != ExitRunCancelled {
		t.Fatalf("exit %d (%v), want 3\n%s", code, err, errOut)
	}
	if !strings.Contains(errOut.String(), "Asked the dbtlink server to cancel") {
		t.Fatalf("stderr:\n%s", errOut)
	}
	r := b.srv("job", "run", "301", "--wait") // the server still works
	wantExit(t, r, ExitOK, "job run after an interrupt")
}

// A trigger dbt Cloud refused leaves a failed run whose error_code, not its
// text, decides the exit code, with and without --wait.
func TestServerRefusedTrigger(t *testing.T) {
	t.Parallel()
	b := newServerBench(t)
	for _, tt := range []struct {
		status int
		code   string
		exit   int
	}{
		{http.StatusUnauthorized, "trigger_auth", ExitAuth},
		{http.StatusForbidden, "trigger_auth", ExitAuth},
		{http.StatusNotFound, "trigger_not_found", ExitNotFound},
		{http.StatusBadRequest, "trigger_refused", ExitUsage},
	} {
		for _, wait := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d wait=%v", tt.status, wait), func(t *testing.T) {
				if _, err := b.emu.InjectFault(emulator.Fault{Path: "POST /api/v2/accounts/{a}/jobs/{j}/run/", Kind: emulator.FaultStatus, Status: tt.status}); err != nil {
					t.Fatal(err)
				}
				args := []string{"job", "run", "301", "--json"}
				if wait {
					args = append(args, "--wait")
				}
				r := b.srv(args...)
				wantExit(t, r, tt.exit, strings.Join(args, " "))
				if !wait {
					return // no run started: nothing on stdout, as locally
				}
				var run serverRun
				if err := json.Unmarshal([]byte(r.stdout), &run); err != nil {
					t.Fatalf("stdout %q: %v", r.stdout, err)
				}
				if run.State != srvFailed || run.ErrorCode != tt.code {
					t.Fatalf("run state %q error_code %q, want failed and %q", run.State, run.ErrorCode, tt.code)
				}
			})
		}
	}
}

// The exit code of a failed run comes from its code alone: text that looks
// like a refusal does not change it, and an unknown code is a plain failure.
func TestServerFailedErrorUsesCode(t *testing.T) {
	for _, tt := range []struct {
		code, text string
		exit       int
	}{
		{"", "dbt Cloud refused to trigger job 7: 404 Not found", ExitRunError},
		{"trigger_not_found", "anything", ExitNotFound},
		{"connection_deleted", "", ExitNotFound},
		{"trigger_auth", "", ExitAuth},
		{"trigger_refused", "", ExitUsage},
		{"request_invalid", "", ExitRunError},
		{"some_future_code", "", ExitRunError},
	} {
		err := serverFailedError(&serverRun{ID: 1, JobID: 7, State: srvFailed, ErrorCode: tt.code, Error: tt.text})
		if got := exitCode(err); got != tt.exit {
			t.Errorf("code %q text %q: exit %d, want %d (%v)", tt.code, tt.text, got, tt.exit, err)
		}
	}
}

// run get|list|watch|cancel and artifact list|get through the server take
// the dbt Cloud run id, as locally, with the same output and exit codes;
// the flags the server cannot honour are refused with the reason.
func TestServerRunAndArtifactCommands(t *testing.T) {
	t.Parallel()
	b := newServerBench(t)
	dbtID := func(r cloudResult) string {
		t.Helper()
		var run serverRun
		if err := json.Unmarshal([]byte(r.stdout), &run); err != nil || run.dbtID() == 0 {
			t.Fatalf("no dbt Cloud run id in %q: %v", r.stdout, err)
		}
		return strconv.FormatInt(run.dbtID(), 10)
	}
	r := b.srv("job", "run", "301", "--wait", "--json")
	wantExit(t, r, ExitOK, "job run 301")
	ok := dbtID(r)
	r = b.srv("job", "run", "302", "--wait", "--json")
	wantExit(t, r, ExitRunError, "job run 302")
	failed := dbtID(r)

	t.Run("run get", func(t *testing.T) {
		r := b.srv("run", "get", ok, "--steps")
		wantExit(t, r, ExitOK, "run get")
		for _, w := range []string{"Run:", ok, "Status:", "Success", "Job:       301 (daily build)", "Server run:", "STEP", "URL:"} {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("run get lacks %q:\n%s", w, r.stdout)
			}
		}
		r = b.srv("run", "get", failed, "--json")
		wantExit(t, r, ExitOK, "run get --json")
		if got := dbtID(r); got != failed || !strings.Contains(r.stdout, `"state": "error"`) {
			t.Errorf("run get --json:\n%s", r.stdout)
		}
		r = b.srv("run", "get", "123456789")
		wantExit(t, r, ExitNotFound, "run get of a run the server does not follow")
		if !strings.Contains(r.stderr, "knows only runs triggered through it") {
			t.Errorf("stderr:\n%s", r.stderr)
		}
	})
	t.Run("run list", func(t *testing.T) {
		r := b.srv("run", "list")
		wantExit(t, r, ExitOK, "run list")
		if !strings.Contains(r.stdout, ok) || !strings.Contains(r.stdout, failed) || !strings.Contains(r.stdout, "SERVER RUN") {
			t.Errorf("run list:\n%s", r.stdout)
		}
		r = b.srv("run", "list", "--status", "success", "--job", "301", "--json")
		wantExit(t, r, ExitOK, "run list --status success --json")
		var runs []serverRun
		if err := json.Unmarshal([]byte(r.stdout), &runs); err != nil || len(runs) != 1 || strconv.FormatInt(runs[0].dbtID(), 10) != ok {
			t.Errorf("run list --status success --job 301: %v\n%s", err, r.stdout)
		}
		r = b.srv("run", "list", "--limit", "1", "--json")
		if err := json.Unmarshal([]byte(r.stdout), &runs); err != nil || len(runs) != 1 || strconv.FormatInt(runs[0].dbtID(), 10) != failed {
			t.Errorf("run list --limit 1 (newest first): %v\n%s", err, r.stdout)
		}
		wantExit(t, b.srv("run", "list", "--status", "failed"), ExitOK, "run list --status failed (a server state)")
		r = b.srv("run", "list", "--status", "finished")
		wantExit(t, r, ExitUsage, "run list --status finished")
		r = b.srv("run", "list", "--project", "1")
		wantExit(t, r, ExitUsage, "run list --project")
		if !strings.Contains(r.stderr, "--job") {
			t.Errorf("stderr:\n%s", r.stderr)
		}
	})
	t.Run("run watch", func(t *testing.T) {
		r := b.srv("run", "watch", ok)
		wantExit(t, r, ExitOK, "run watch of a finished run")
		if !strings.Contains(r.stdout, "Run "+ok+" ended: Success") {
			t.Errorf("stdout:\n%s", r.stdout)
		}
		wantExit(t, b.srv("run", "watch", failed), ExitOK, "run watch of a failed run")
		wantExit(t, b.srv("run", "watch", failed, "--exit-status"), ExitRunError, "run watch --exit-status")
		wantExit(t, b.srv("run", "watch", ok, "--poll", "5s"), ExitUsage, "run watch --poll")
	})
	t.Run("run cancel", func(t *testing.T) {
		r := b.srv("run", "cancel", ok)
		wantExit(t, r, ExitOK, "run cancel of a finished run")
		if !strings.Contains(r.stdout, "already ended (Success)") {
			t.Errorf("stdout:\n%s", r.stdout)
		}
		r = b.srv("job", "run", "303")
		wantExit(t, r, ExitOK, "job run 303")
		id := strings.Fields(r.stdout)[0]
		r = b.srv("run", "cancel", id)
		wantExit(t, r, ExitOK, "run cancel")
		if !strings.Contains(r.stdout, "ancel") || strings.Contains(r.stdout, "already ended") {
			t.Errorf("stdout:\n%s", r.stdout)
		}
		r = b.srv("run", "watch", id, "--exit-status", "--timeout", "30s")
		wantExit(t, r, ExitRunCancelled, "run watch of the cancelled run")
		wantExit(t, b.srv("run", "cancel", "123456789"), ExitNotFound, "run cancel of an unknown run")
	})
	t.Run("run retry", func(t *testing.T) {
		r := b.srv("run", "retry", failed)
		wantExit(t, r, ExitUsage, "run retry --server")
		if !strings.Contains(r.stderr, "does not support --server") {
			t.Errorf("stderr:\n%s", r.stderr)
		}
	})
	t.Run("artifacts", func(t *testing.T) {
		r := b.srv("artifact", "list", ok)
		wantExit(t, r, ExitOK, "artifact list")
		if !strings.Contains(r.stdout, "manifest.json\n") || !strings.Contains(r.stdout, "run_results.json\n") {
			t.Errorf("artifact list:\n%s", r.stdout)
		}
		dir := filepath.Join(t.TempDir(), "out")
		r = b.srv("artifact", "get", ok, "manifest.json", "run_results.json", "-o", dir)
		wantExit(t, r, ExitOK, "artifact get")
		for _, name := range []string{"manifest.json", "run_results.json"} {
			if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Size() == 0 {
				t.Errorf("%s: %v\n%s%s", name, err, r.stdout, r.stderr)
			}
		}
		r = b.srv("artifact", "get", ok, "run_results.json", "-o", "-")
		wantExit(t, r, ExitOK, "artifact get -o -")
		if !json.Valid([]byte(r.stdout)) || !strings.Contains(r.stdout, "results") {
			t.Errorf("artifact get -o - is not run_results.json:\n%.200s", r.stdout)
		}
		wantExit(t, b.srv("artifact", "get", ok, "catalog.json", "-o", dir), ExitNotFound, "artifact get of a file not stored")
		wantExit(t, b.srv("artifact", "get", ok, "../x.json", "-o", dir), ExitUsage, "artifact get ../x.json")
		wantExit(t, b.srv("artifact", "list", ok, "--step", "1"), ExitUsage, "artifact list --step")
		wantExit(t, b.srv("artifact", "get", ok, "manifest.json", "--step", "1"), ExitUsage, "artifact get --step")
		wantExit(t, b.srv("artifact", "list", "123456789"), ExitNotFound, "artifact list of an unknown run")
	})
}
