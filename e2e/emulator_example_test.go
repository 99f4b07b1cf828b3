package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
)

// TestEmulatorHelpExample runs the first example of `dbtlink emulator
// --help` (its lines up to the first blank one) in sh, as a user pasting it
// would, and checks that it returns with the emulator's variables set and
// the emulator still serving. An example that waits for the emulator to
// exit (say, `eval "$(dbtlink emulator | head -3)"`) fails the deadline.
func TestEmulatorHelpExample(t *testing.T) {
	t.Parallel()
	// Not through run: the help prints the emulator's throwaway token on
	// purpose, which run would take for a leak.
	help, err := exec.Command(bin, "emulator", "--help").Output()
	if err != nil {
		t.Fatalf("emulator --help: %v", err)
	}
	_, examples, ok := strings.Cut(string(help), "Examples:\n")
	if !ok {
		t.Fatalf("emulator --help has no examples:\n%s", help)
	}
	first, _, _ := strings.Cut(examples, "\n\n")
	var script strings.Builder
	script.WriteString("set -e\n")
	for _, l := range strings.Split(first, "\n") {
		l = strings.TrimSpace(l)
		if rest, ok := strings.CutPrefix(l, "dbtlink "); ok {
			l = strconv.Quote(bin) + " " + rest // strconv quoting is valid sh for a plain path
		}
		script.WriteString(l + "\n")
	}
	if !strings.Contains(script.String(), "emulator") {
		t.Fatalf("the first example runs no emulator:\n%s", first)
	}
	// $! is the emulator started in the background, for the cleanup.
	script.WriteString(`echo "pid=$! host=$DBT_CLOUD_HOST account=$DBT_CLOUD_ACCOUNT_ID token=${DBT_CLOUD_API_TOKEN:+set}"` + "\n")

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	sh := exec.CommandContext(ctx, "sh", "-c", script.String())
	sh.Dir = t.TempDir()
	sh.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	// Its own process group, so that a hung example is killed whole.
	sh.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	sh.Cancel = func() error { return syscall.Kill(-sh.Process.Pid, syscall.SIGKILL) }
	var out, errOut bytes.Buffer
	sh.Stdout, sh.Stderr = &out, &errOut
	err = sh.Run()
	m := regexp.MustCompile(`pid=(\d+) host=(http://127\.0\.0\.1:\d+) account=(\d+) token=set`).FindStringSubmatch(out.String())
	if m != nil {
		if pid, perr := strconv.Atoi(m[1]); perr == nil {
			t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
		}
	}
	if ctx.Err() != nil {
		t.Fatalf("the example did not return within 30s:\n%s", first)
	}
	if err != nil || m == nil {
		t.Fatalf("example failed (%v):\n%s\nstdout:\n%s\nstderr:\n%s", err, first, out.String(), errOut.String())
	}
	// What it set reaches the emulator, which is still up.
	env := []string{"HOME=" + t.TempDir(), "DBTLINK_HOME=" + t.TempDir(),
		"DBT_CLOUD_HOST=" + m[2], "DBT_CLOUD_ACCOUNT_ID=" + m[3], "DBT_CLOUD_API_TOKEN=" + emulator.DemoToken}
	mustExit(t, run(t, env, "", "job", "list", "--json"), 0, "job list against the example's emulator")
}
