package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
)

// run runs the binary with exactly env (plus PATH) and stdin, and fails the
// test if the demo token shows up in its output.
func run(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), bin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errOut.String()}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		r.code = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("run dbtlink: %v", err)
	}
	if strings.Contains(r.stdout+r.stderr, emulator.DemoToken) {
		t.Fatalf("dbtlink %s printed the token:\n%s%s", strings.Join(args, " "), r.stdout, r.stderr)
	}
	return r
}

func mustExit(t *testing.T, r result, code int, what string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", what, r.code, code, r.stdout, r.stderr)
	}
}

func TestJobRunWaitArtifacts(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t)
	dir := filepath.Join(t.TempDir(), "out")
	r := dbtlink(t, srv, emulator.DemoToken, "job", "run", "301", "--wait", "--poll", "200ms",
		"--artifacts", "manifest.json,run_results.json", "-o", dir)
	mustExit(t, r, 0, "job run --wait --artifacts")
	for name, schema := range map[string]string{"manifest.json": "/manifest/v", "run_results.json": "/run-results/v"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s not downloaded: %v\nstderr:\n%s", name, err, r.stderr)
		}
		var doc struct {
			Metadata struct {
				SchemaVersion string `json:"dbt_schema_version"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(b, &doc); err != nil || !strings.Contains(doc.Metadata.SchemaVersion, schema) {
			t.Errorf("%s: schema %q, %v", name, doc.Metadata.SchemaVersion, err)
		}
	}
}

// TestFailingJobOutput checks what a CI log shows for a failed run: the
// failing node and the tail of the failing step's log.
func TestFailingJobOutput(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t)
	r := dbtlink(t, srv, emulator.DemoToken, "job", "run", "302", "--wait", "--poll", "200ms")
	mustExit(t, r, 1, "failing job")
	for _, want := range []string{
		"Failing nodes:",
		"test.jaffle_shop.",                         // the failing node
		"Got 3 results, configured to fail if != 0", // its message
		"Done. PASS=",                               // the last line of the step's log
	} {
		if !strings.Contains(r.stderr+r.stdout, want) {
			t.Errorf("output lacks %q:\nstdout:\n%s\nstderr:\n%s", want, r.stdout, r.stderr)
		}
	}
}

// TestConnectionLifecycle adds a stored connection with the token on stdin,
// tests it and uses it, with no DBT_CLOUD_* variables set, and checks that
// the token is in no output and in no file under DBTLINK_HOME in the clear.
func TestConnectionLifecycle(t *testing.T) {
	t.Parallel()
	srv := startEmulator(t)
	home := t.TempDir()
	dbtlinkHome := filepath.Join(home, "dbtlink")
	env := []string{"HOME=" + home, "USER=ci", "DBTLINK_HOME=" + dbtlinkHome}

	r := run(t, env, emulator.DemoToken+"\n", "connection", "add", "emu", "--host", srv.URL,
		"--account-id", strconv.FormatInt(srv.AccountID, 10), "--token-stdin")
	mustExit(t, r, 0, "connection add")
	r = run(t, env, "", "connection", "test", "emu")
	mustExit(t, r, 0, "connection test")
	r = run(t, env, "", "job", "list", "--json", "-c", "emu")
	mustExit(t, r, 0, "job list --json")
	var jobs []struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &jobs); err != nil {
		t.Fatalf("job list --json is not a JSON list: %v\n%s", err, r.stdout)
	}
	found := false
	for _, j := range jobs {
		found = found || (j.ID == emulator.DemoDailyJobID && j.Name == "daily build")
	}
	if !found {
		t.Errorf("job list --json lacks job %d: %s", emulator.DemoDailyJobID, r.stdout)
	}

	files := 0
	err := filepath.WalkDir(dbtlinkHome, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(emulator.DemoToken)) {
			t.Errorf("%s holds the token in the clear", path)
		}
		return nil
	})
	if err != nil || files == 0 {
		t.Fatalf("walk %s: %d files, %v", dbtlinkHome, files, err)
	}
}

// TestEmulatorCommand starts `dbtlink emulator` on a free port, reads its
// three export lines (with a deadline), uses them, and stops it with SIGINT.
func TestEmulatorCommand(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(bin, "emulator", "--addr", "127.0.0.1:0")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := make(chan string)
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // no-op once it has exited
		// After a failure below nobody reads lines, and the reader would
		// block on its next send instead of waiting for the process.
		go func() {
			for range lines {
			}
		}()
		<-exited
	})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait()
	}()

	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	exports := map[string]string{}
	re := regexp.MustCompile(`^export (DBT_CLOUD_[A-Z_]+)=(\S+)$`)
	for len(exports) < 3 {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("emulator exited after %d export lines", len(exports))
			}
			m := re.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("stdout line %q is not an export line", line)
			}
			exports[m[1]] = m[2]
		case <-deadline.C:
			t.Fatalf("no export lines within 30s; got %v", exports)
		}
	}
	go func() { // keep the reader going so the process can be waited for
		for range lines {
		}
	}()
	host := exports["DBT_CLOUD_HOST"]
	if !regexp.MustCompile(`^http://127\.0\.0\.1:[1-9][0-9]*$`).MatchString(host) ||
		exports["DBT_CLOUD_ACCOUNT_ID"] != strconv.Itoa(emulator.DemoAccountID) ||
		exports["DBT_CLOUD_API_TOKEN"] != emulator.DemoToken {
		t.Errorf("exports %v", exports)
	}

	// The printed lines are enough to reach the emulator.
	env := []string{"HOME=" + t.TempDir(), "DBTLINK_HOME=" + t.TempDir()}
	for k, v := range exports {
		env = append(env, k+"="+v)
	}
	r := run(t, env, "", "job", "get", strconv.Itoa(emulator.DemoDailyJobID), "--json")
	mustExit(t, r, 0, "job get against the printed exports")

	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Errorf("emulator did not stop cleanly on SIGINT: %v", err)
		}
	case <-deadline.C:
		t.Fatal("emulator still running 30s after SIGINT")
	}
}
