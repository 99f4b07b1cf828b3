// Package e2e runs the real dbtlink binary against an in-process dbt Cloud
// emulator and checks what a CI system sees: exit statuses, output and the
// GitHub Actions step outputs.
package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
)

// bin is the dbtlink binary built once by TestMain.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dbtlink-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "dbtlink")
	build := exec.Command("go", "build", "-o", bin, "github.com/dbtlink/dbtlink/cmd/dbtlink")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build dbtlink:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// speed makes the emulator's minute last 0.6 s: the 73 s demo job ends in
// under a second, the 20-minute slow job in 12 s.
const speed = 100

// Jobs added to the demo seed: two with one name, for ambiguity.
const (
	nightlyA = 391
	nightlyB = 392
)

func startEmulator(t *testing.T) *emulator.Server {
	t.Helper()
	seed := emulator.DefaultSeed()
	staging := &seed.Accounts[0].Projects[0].Environments[1]
	staging.Jobs = append(staging.Jobs,
		emulator.SeedJob{ID: nightlyA, Name: "nightly"},
		emulator.SeedJob{ID: nightlyB, Name: "nightly"})
	srv, err := emulator.New(emulator.Options{Seed: seed, Clock: emulator.NewRealClock(speed)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

type result struct {
	code           int
	stdout, stderr string
	// outputs are the lines dbtlink appended to $GITHUB_OUTPUT.
	outputs map[string]string
}

// dbtlink runs the binary with a clean environment: a temporary home, the
// emulator as the DBT_CLOUD_* connection, GitHub Actions' output file, and
// retries cut to a second so "dbt Cloud is down" is reported quickly.
func dbtlink(t *testing.T, srv *emulator.Server, token string, args ...string) result {
	t.Helper()
	home := t.TempDir()
	ghOut := filepath.Join(home, "github_output")
	cmd := exec.CommandContext(t.Context(), bin, args...)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"USER=ci",
		"DBTLINK_HOME=" + filepath.Join(home, "dbtlink"),
		"DBT_CLOUD_HOST=" + srv.URL,
		"DBT_CLOUD_API_TOKEN=" + token,
		"DBT_CLOUD_ACCOUNT_ID=" + strconv.FormatInt(srv.AccountID, 10),
		"DBTLINK_RETRY_FOR=1s",
		"GITHUB_OUTPUT=" + ghOut,
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errOut.String(), outputs: map[string]string{}}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		r.code = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("run dbtlink: %v", err)
	}
	if b, err := os.ReadFile(ghOut); err == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				r.outputs[k] = v
			}
		}
	}
	if strings.Contains(r.stdout+r.stderr, emulator.DemoToken) {
		t.Fatalf("dbtlink printed the token:\n%s%s", r.stdout, r.stderr)
	}
	return r
}

func TestJobRunExitCodes(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t)
	down := startEmulator(t)
	if _, err := down.InjectFault(emulator.Fault{Path: "/api/", Kind: emulator.FaultStatus, Status: 503, Times: -1}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		srv   *emulator.Server
		token string
		args  []string
		want  int
		// wantStderr are substrings of stderr.
		wantStderr []string
		// wantOutputs are $GITHUB_OUTPUT keys and values ("*" means any).
		wantOutputs map[string]string
		// wantRun is the emulator's final status of the run in run_id.
		wantRun int
	}{
		{
			name: "success", args: []string{"job", "run", "301", "--wait", "--poll", "200ms"}, want: 0,
			wantOutputs: map[string]string{"run_id": "*", "run_url": "*", "status": "Success"}, wantRun: emulator.StatusSuccess,
		},
		{
			name: "no wait", args: []string{"job", "run", "--project", "analytics", "--environment", "Staging", "--job", "daily build"}, want: 0,
			wantOutputs: map[string]string{"run_id": "*", "run_url": "*"},
		},
		{
			name: "failing job", args: []string{"job", "run", "302", "--wait", "--poll", "200ms"}, want: 1,
			wantStderr:  []string{"failed at step 5, Invoke dbt with `dbt test`", "Failing nodes:", "test.jaffle_shop."},
			wantOutputs: map[string]string{"status": "Error"}, wantRun: emulator.StatusError,
		},
		{
			name: "timeout", args: []string{"job", "run", "303", "--wait", "--timeout", "1s", "--poll", "200ms"}, want: 4,
			wantStderr: []string{"did not finish within 1s; it is still running"}, wantOutputs: map[string]string{"run_id": "*"},
		},
		{
			name: "cancel on timeout", args: []string{"job", "run", "303", "--wait", "--timeout", "1s", "--cancel-on-timeout", "--poll", "200ms"}, want: 4,
			wantStderr: []string{"did not finish within 1s; it was cancelled in dbt Cloud"}, wantRun: emulator.StatusCancelled,
		},
		{
			name: "bad token", token: "dbtc_wrong", args: []string{"job", "run", "301"}, want: 5,
			wantStderr: []string{"401"},
		},
		{
			name: "unknown job", args: []string{"job", "run", "999"}, want: 6,
			wantStderr: []string{"job 999 was not found in account"},
		},
		{
			name: "ambiguous names", args: []string{"job", "run", "--project", "analytics", "--environment", "Staging", "--job", "nightly"}, want: 6,
			wantStderr: []string{`2 jobs are named "nightly" in project "analytics", environment "Staging": "nightly" (id 391), "nightly" (id 392)`},
		},
		{
			name: "dbt Cloud down", srv: down, args: []string{"job", "run", "301", "--wait"}, want: 7,
			wantStderr: []string{"503"},
		},
		{
			name: "usage", args: []string{"job", "run", "301", "--timeout", "1m"}, want: 2,
			wantStderr: []string{"need --wait"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, token := tt.srv, tt.token
			if s == nil {
				s = srv
			}
			if token == "" {
				token = emulator.DemoToken
			}
			start := time.Now()
			r := dbtlink(t, s, token, tt.args...)
			if r.code != tt.want {
				t.Fatalf("dbtlink %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(tt.args, " "), r.code, tt.want, r.stdout, r.stderr)
			}
			for _, want := range tt.wantStderr {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			for k, v := range tt.wantOutputs {
				if got, ok := r.outputs[k]; !ok || (v != "*" && got != v) {
					t.Errorf("$GITHUB_OUTPUT %s=%q, want %q (all: %v)", k, got, v, r.outputs)
				}
			}
			if tt.wantRun != 0 {
				id, err := strconv.ParseInt(r.outputs["run_id"], 10, 64)
				if err != nil {
					t.Fatalf("no run_id output: %v", r.outputs)
				}
				var status int
				for _, ri := range s.Runs() {
					if ri.ID == id {
						status = ri.Status
					}
				}
				if status != tt.wantRun {
					t.Errorf("run %d is %d in the emulator, want %d", id, status, tt.wantRun)
				}
			}
			t.Logf("%s took %s", tt.name, time.Since(start).Round(time.Millisecond))
		})
	}
}
