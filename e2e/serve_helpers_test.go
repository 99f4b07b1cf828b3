package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
)

// serveEnv is what every process of one test shares: a home whose key
// seals the connection tokens (so servers and commands on one database
// must share it) and the database.
type serveEnv struct {
	env []string // PATH, HOME, DBTLINK_HOME
	db  string   // --db
}

func newServeEnv(t *testing.T, db string) serveEnv {
	t.Helper()
	home := t.TempDir()
	if db == "" {
		db = filepath.Join(t.TempDir(), "dbtlink.db")
	}
	return serveEnv{
		env: []string{"HOME=" + home, "USER=ci", "DBTLINK_HOME=" + filepath.Join(home, "dbtlink")},
		db:  db,
	}
}

// token creates an API token with the binary, on the server's database.
func (e serveEnv) token(t *testing.T, name, scope string) string {
	t.Helper()
	r := run(t, e.env, "", "token", "create", "--name", name, "--scope", scope, "--db", e.db)
	mustExit(t, r, 0, "token create")
	tok := strings.TrimSpace(r.stdout)
	if !strings.HasPrefix(tok, "dbtl_") || strings.Contains(tok, "\n") {
		t.Fatalf("token create printed %q, want one dbtl_ token", r.stdout)
	}
	return tok
}

// serveProc is a running `dbtlink serve`.
type serveProc struct {
	URL   string
	name  string
	cmd   *exec.Cmd
	log   *syncBuffer
	start time.Time
	urls  chan string
	done  chan struct{} // closed once the process has been waited for
	err   error         // its exit, once done is closed
}

// startServe starts `dbtlink serve` on a free port with extra flags and
// waits for it to listen.
func startServe(t *testing.T, e serveEnv, name string, flags ...string) *serveProc {
	t.Helper()
	p := launchServe(t, e, name, flags...)
	p.await(t)
	return p
}

// launchServe starts `dbtlink serve` without waiting; see await. The
// process is killed when the test ends, and its log is shown if the test
// failed.
func launchServe(t *testing.T, e serveEnv, name string, flags ...string) *serveProc {
	t.Helper()
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", e.db}, flags...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, e.env...)
	p := &serveProc{name: name, cmd: cmd, log: &syncBuffer{}, urls: make(chan string, 1), done: make(chan struct{})}
	cmd.Stderr = p.log
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.start = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "export DBTLINK_SERVER="); ok {
				select {
				case p.urls <- u:
				default:
				}
			}
		}
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			// The whole log is kept for a post-mortem; the test log
			// gets its end.
			where := "not kept"
			if f, err := os.CreateTemp("", fmt.Sprintf("dbtlink-e2e-serve-%d-*.log", cmd.Process.Pid)); err == nil {
				_, _ = f.WriteString(p.log.String())
				_ = f.Close()
				where = "whole in " + f.Name()
			}
			t.Logf("log of %s (pid %d, %s):\n%s", name, cmd.Process.Pid, where, p.log.tail(16<<10))
		}
	})
	return p
}

// await waits (up to 30s) for the DBTLINK_SERVER line and sets URL.
func (p *serveProc) await(t *testing.T) {
	t.Helper()
	timer := time.NewTimer(30 * time.Second)
	defer timer.Stop()
	select {
	case p.URL = <-p.urls:
	case <-p.done:
		t.Fatalf("%s exited before listening: %v\n%s", p.name, p.err, p.log.tail(8<<10))
	case <-timer.C:
		t.Fatalf("%s printed no DBTLINK_SERVER line within 30s\n%s", p.name, p.log.tail(8<<10))
	}
	t.Logf("%s (pid %d) listening at %s after %s", p.name, p.cmd.Process.Pid, p.URL, time.Since(p.start).Round(time.Millisecond))
}

// kill sends SIGKILL (a crash: no shutdown code runs) and waits for the
// process to be gone. It is a no-op once the process has exited.
func (p *serveProc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// syncBuffer is a bytes.Buffer safe for a process writing while a test
// reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func (b *syncBuffer) tail(n int) string {
	s := b.String()
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}

// apiClient calls the server's API with a bearer token ("" sends none).
type apiClient struct {
	url, token string
}

var apiHTTP = &http.Client{Timeout: 70 * time.Second}

// call sends body (JSON, when not nil), decodes a 2xx answer into out
// (when not nil) and returns the status. Only transport failures and
// undecodable answers are errors, so that it can be used from goroutines.
func (c apiClient) call(method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.url+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := apiHTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, fmt.Errorf("%s %s: read the answer: %w", method, path, err)
	}
	if resp.StatusCode/100 == 2 && out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode %s: %w", method, path, b, err)
		}
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, &statusError{method: method, path: path, code: resp.StatusCode, body: string(b)}
	}
	return resp.StatusCode, nil
}

// statusError is a non-2xx answer.
type statusError struct {
	method, path string
	code         int
	body         string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.method, e.path, e.code, e.body)
}

// must is call for the test goroutine: any error or another status fails.
func (c apiClient) must(t *testing.T, method, path string, body, out any, want int) {
	t.Helper()
	code, err := c.call(method, path, body, out)
	if code != want {
		t.Fatalf("%s %s: status %d, want %d (%v)", method, path, code, want, err)
	}
	if code/100 == 2 && err != nil {
		t.Fatal(err)
	}
}

// addConnection adds the emulator as the default connection "emu".
func (c apiClient) addConnection(t *testing.T, emu *emulator.Server) {
	t.Helper()
	c.must(t, "POST", "/api/v1/connections", map[string]any{
		"name": "emu", "host": emu.URL, "account_id": emu.AccountID, "token": emu.Token, "default": true,
	}, nil, http.StatusCreated)
}

// apiRun is the part of the API's run the tests look at.
type apiRun struct {
	ID             int64           `json:"id"`
	JobID          int64           `json:"job_id"`
	State          string          `json:"state"`
	DbtRunID       *int64          `json:"dbt_run_id"`
	Cause          string          `json:"cause"`
	MaxRetries     int             `json:"max_retries"`
	Retries        int             `json:"retries"`
	Steps          []apiStep       `json:"steps"`
	Attempts       []int64         `json:"attempts"`
	ArtifactsState string          `json:"artifacts_state"`
	FailingNodes   json.RawMessage `json:"failing_nodes"`
	Error          string          `json:"error"`
}

type apiStep struct {
	Index  int    `json:"index"`
	Name   string `json:"name"`
	Status string `json:"status"`
}

func (r apiRun) terminal() bool {
	switch r.State {
	case "success", "error", "cancelled", "failed":
		return true
	}
	return false
}

// done: the run has ended and its end has been processed (rerun policy,
// failing nodes, artifacts), so nothing about it changes any more.
func (r apiRun) done() bool {
	return r.terminal() && (r.ArtifactsState != "" || r.State == "failed")
}

// waitDone long-polls a run until done or the deadline; it returns the
// last state seen. A long poll that answers an end the run does not keep
// (a failed run that is then rerun) is an error: clients trust it.
func (c apiClient) waitDone(id int64, deadline time.Time) (apiRun, error) {
	var r apiRun
	ended := ""
	for {
		wait := min(time.Until(deadline), 20*time.Second).Truncate(time.Millisecond)
		if wait <= 0 {
			return r, fmt.Errorf("run %d not done by the deadline; last seen %+v", id, r)
		}
		if _, err := c.call("GET", fmt.Sprintf("/api/v1/runs/%d?wait=%s", id, wait), nil, &r); err != nil {
			return r, err
		}
		if ended != "" && r.State != ended {
			return r, fmt.Errorf("run %d: a long poll answered that it ended as %s, but it is now %s: %+v", id, ended, r.State, r)
		}
		if r.terminal() {
			ended = r.State
		}
		if r.done() {
			return r, nil
		}
		if r.terminal() {
			// Ended, but its end is still being processed (artifacts):
			// ?wait= answers at once, so pause before asking again.
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// startEmulatorWith starts an emulator with seed at speed, whose webhook
// deliveries are retried quickly.
func startEmulatorWith(t *testing.T, seed *emulator.Seed, speed float64) *emulator.Server {
	t.Helper()
	srv, err := emulator.New(emulator.Options{Seed: seed, Clock: emulator.NewRealClock(speed), WebhookRetryDelay: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}
