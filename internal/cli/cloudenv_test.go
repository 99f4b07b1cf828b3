package cli

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
)

// cloudEnv is a test bench for commands that talk to dbt Cloud: an emulator
// on a fake clock, a temporary DBTLINK_HOME, and a map-backed environment.
type cloudEnv struct {
	t         *testing.T
	emu       *emulator.Server
	transport *http.Transport
	env       map[string]string
	// secrets must never appear in any command's output.
	secrets []string
	// wrap, when set, wraps the transport of the commands' clients (to
	// inject network failures).
	wrap func(http.RoundTripper) http.RoundTripper
}

// cloudResult is what one command printed and its exit status.
type cloudResult struct {
	code           int
	stdout, stderr string
}

var cloudT0 = time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)

func newCloudEnv(t *testing.T) *cloudEnv {
	t.Helper()
	emu, err := emulator.New(emulator.Options{Clock: emulator.NewFakeClock(cloudT0)})
	if err != nil {
		t.Fatalf("start emulator: %v", err)
	}
	t.Cleanup(emu.Close)
	// Commands' clients share this transport so that its idle connections,
	// including ones dialled for a request another connection then served,
	// are closed before the emulator shuts down; http.Server.Shutdown
	// would otherwise wait 5 s for such never-used connections.
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &cloudEnv{
		t: t, emu: emu, transport: tr,
		env:     map[string]string{"DBTLINK_HOME": t.TempDir()},
		secrets: []string{emulator.DemoToken, emulator.OtherToken, emulator.DemoIPBlockedToken},
	}
}

// factory returns a fresh Factory over the bench's environment, with
// retries and their waits cut short so failures are reported at once.
func (e *cloudEnv) factory(ios *IOStreams) *Factory {
	f := NewFactory(ios)
	f.Getenv = func(k string) string { return e.env[k] }
	f.Environ = func() []string {
		var out []string
		for k, v := range e.env {
			out = append(out, k+"="+v)
		}
		return out
	}
	var rt http.RoundTripper = e.transport
	if e.wrap != nil {
		rt = e.wrap(rt)
	}
	f.ClientOptions = []dbtcloud.Option{
		dbtcloud.WithHTTPClient(&http.Client{Transport: rt}),
		dbtcloud.WithRetryPolicy(dbtcloud.RetryPolicy{MaxAttempts: 1}),
		dbtcloud.WithTimeout(10 * time.Second),
	}
	return f
}

// run runs one command line with stdin and checks that no secret leaked.
func (e *cloudEnv) runIn(stdin string, args ...string) cloudResult {
	e.t.Helper()
	ios, in, out, errOut := TestStreams()
	in.WriteString(stdin)
	code := Run(e.t.Context(), e.factory(ios), args)
	r := cloudResult{code: code, stdout: out.String(), stderr: errOut.String()}
	for _, s := range e.secrets {
		if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
			e.t.Fatalf("dbtlink %s printed a secret:\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.stdout, r.stderr)
		}
	}
	return r
}

func (e *cloudEnv) run(args ...string) cloudResult {
	e.t.Helper()
	return e.runIn("", args...)
}

// mustRun runs a command that must succeed.
func (e *cloudEnv) mustRun(args ...string) cloudResult {
	e.t.Helper()
	r := e.run(args...)
	if r.code != ExitOK {
		e.t.Fatalf("dbtlink %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// addDemo stores a tested connection to the emulator's demo account.
func (e *cloudEnv) addDemo(name string) {
	e.t.Helper()
	r := e.runIn(emulator.DemoToken+"\n", "connection", "add", name, "--host", e.emu.URL,
		"--account-id", "1", "--token-stdin")
	if r.code != ExitOK {
		e.t.Fatalf("connection add %s: exit %d\n%s%s", name, r.code, r.stdout, r.stderr)
	}
}

// finishedRun triggers jobID and moves the fake clock until the run ends.
func (e *cloudEnv) finishedRun(jobID int64) *dbtcloud.Run {
	e.t.Helper()
	run := e.startRun(jobID)
	e.emu.Advance(2 * time.Hour)
	c := e.client()
	got, _, err := c.Runs.Get(e.t.Context(), emulator.DemoAccountID, run.ID, nil)
	if err != nil {
		e.t.Fatalf("get run %d: %v", run.ID, err)
	}
	if !got.Status.Terminal() {
		e.t.Fatalf("run %d still %s after advancing the clock", run.ID, got.Status)
	}
	return got
}

func (e *cloudEnv) startRun(jobID int64) *dbtcloud.Run {
	e.t.Helper()
	run, _, err := e.client().Runs.Trigger(e.t.Context(), emulator.DemoAccountID, jobID, &dbtcloud.TriggerRunRequest{Cause: "test"})
	if err != nil {
		e.t.Fatalf("trigger job %d: %v", jobID, err)
	}
	return run
}

func (e *cloudEnv) client() *dbtcloud.Client {
	e.t.Helper()
	c, err := dbtcloud.NewClient(e.emu.URL, e.emu.Token, dbtcloud.WithHTTPClient(e.emu.Client()))
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// wantCode fails the test when r did not exit with code.
func wantCode(t *testing.T, r cloudResult, code int, what string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", what, r.code, code, r.stdout, r.stderr)
	}
}

// notifyBuffer is a goroutine-safe buffer that lets a test wait for some
// text without sleeping: every write wakes the waiters.
type notifyBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newNotifyBuffer() *notifyBuffer { return &notifyBuffer{changed: make(chan struct{})} }

func (b *notifyBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	close(b.changed)
	b.changed = make(chan struct{})
	return n, err
}

func (b *notifyBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor returns the buffer once it contains want, or fails at deadline.
func (b *notifyBuffer) waitFor(ctx context.Context, want string) (string, bool) {
	for {
		b.mu.Lock()
		s, ch := b.buf.String(), b.changed
		b.mu.Unlock()
		if strings.Contains(s, want) {
			return s, true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return s, false
		}
	}
}
