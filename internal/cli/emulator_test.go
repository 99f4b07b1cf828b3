package cli

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
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
