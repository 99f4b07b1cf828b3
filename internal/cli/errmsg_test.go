package cli

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
)

// TestErrorsAfterSetup: errors met once a connection works are worded for
// people: a 401 names no URL query and says to run `connection test`; an
// unreachable host says it is retrying and why, then gives up with exit 7
// in words; a bad flag value names what the flag wants; with --json the
// error is JSON too.
func TestErrorsAfterSetup(t *testing.T) {
	t.Parallel()
	e := newCloudEnv(t)
	e.addDemo("demo")

	// A token revoked after setup: the connection store still has it.
	e.env["DBT_CLOUD_HOST"], e.env["DBT_CLOUD_ACCOUNT_ID"], e.env["DBT_CLOUD_API_TOKEN"] = e.emu.URL, "1", "dbtc_revoked_token"
	e.secrets = append(e.secrets, "dbtc_revoked_token")
	r := e.run("-c", "env", "job", "list")
	wantCode(t, r, ExitAuth, "job list with a revoked token")
	for _, want := range []string{"dbt Cloud answered 401 Unauthorized to GET /api/v2/accounts/1/jobs/", "`dbtlink connection test env`"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	for _, raw := range []string{"?", "limit=", "dbtcloud:", e.emu.URL} {
		if strings.Contains(r.stderr, raw) {
			t.Errorf("stderr has %q:\n%s", raw, r.stderr)
		}
	}

	// With --json the same error is one JSON object on stderr.
	r = e.run("-c", "env", "job", "list", "--json")
	wantCode(t, r, ExitAuth, "job list --json with a revoked token")
	var je struct {
		Error struct {
			Message  string `json:"message"`
			ExitCode int    `json:"exit_code"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.stderr), &je); err != nil || je.Error.ExitCode != ExitAuth || !strings.Contains(je.Error.Message, "401") {
		t.Errorf("--json error is not JSON with exit_code 5 (%v):\n%s", err, r.stderr)
	}

	// A bad flag value says what the flag wants, not strconv's words.
	r = e.run("artifact", "list", "1", "--step", "two")
	wantCode(t, r, ExitUsage, "bad --step")
	if !strings.Contains(r.stderr, `invalid value "two" for --step: want a whole number`) || strings.Contains(r.stderr, "strconv") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	r = e.run("job", "run", "301", "--wait", "--timeout", "5x")
	if !strings.Contains(r.stderr, `invalid value "5x" for --timeout: want a duration`) {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

// TestUnreachableHost: a host where nothing listens is retried with a
// warning per retry that says why, and the command then exits 7 with no
// raw "dial tcp" in its message.
func TestUnreachableHost(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	e := newCloudEnv(t)
	e.env["DBT_CLOUD_HOST"], e.env["DBT_CLOUD_ACCOUNT_ID"], e.env["DBT_CLOUD_API_TOKEN"] = "http://"+addr, "1", emulator.DemoToken
	ios, _, out, errOut := TestStreams()
	f := e.factory(ios)
	f.ClientOptions = []dbtcloud.Option{
		dbtcloud.WithHTTPClient(&http.Client{Transport: e.transport}),
		dbtcloud.WithRetryPolicy(dbtcloud.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, MaxElapsed: time.Minute}),
	}
	code := Run(t.Context(), f, []string{"job", "list"})
	if code != ExitUpstream {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, ExitUpstream, out, errOut)
	}
	stderr := errOut.String()
	refused := "the connection to " + addr + " was refused"
	if n := strings.Count(stderr, "warning: "+refused); n != 2 {
		t.Errorf("%d retry warnings, want 2 (3 attempts):\n%s", n, stderr)
	}
	if !strings.Contains(stderr, "attempt 2 of at most 3") || !strings.Contains(stderr, "error: ") || !strings.Contains(stderr, "giving up after 3 attempts") {
		t.Errorf("stderr:\n%s", stderr)
	}
	if strings.Contains(stderr, "dial tcp") || strings.Contains(stderr, "dbtcloud:") {
		t.Errorf("raw network error:\n%s", stderr)
	}
}

func TestUserMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		msg  string
		want string
	}{
		{"pflag int", `invalid argument "x" for "--limit" flag: strconv.ParseInt: parsing "x": invalid syntax`, `invalid value "x" for --limit: want a whole number`},
		{"pflag range", `invalid argument "99999999999999999999" for "--step" flag: strconv.ParseInt: parsing "99999999999999999999": value out of range`, `want a smaller number`},
		{"pflag bool", `invalid argument "maybe" for "--wait" flag: strconv.ParseBool: parsing "maybe": invalid syntax`, `want true or false`},
		{"store prefix", "run get: store: get run 999: not found", "run get: get run 999: not found"},
		{"first prefix", "dbtcloud: GET api/v2/accounts/1/: boom", "GET api/v2/accounts/1/: boom"},
		{"not a prefix", "open the keystore: denied", "open the keystore: denied"},
	}
	for _, tt := range tests {
		if got := userMessage(errString(tt.msg), ""); !strings.Contains(got, tt.want) || strings.Contains(got, "strconv") || strings.Contains(got, " store:") {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

type errString string

func (e errString) Error() string { return string(e) }

// refuseAfterTrigger lets requests through until a trigger succeeded, then
// answers every request as a host where nothing listens would.
type refuseAfterTrigger struct {
	next      http.RoundTripper
	triggered bool
}

func (r *refuseAfterTrigger) RoundTrip(req *http.Request) (*http.Response, error) {
	if r.triggered {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}, Err: syscall.ECONNREFUSED}
	}
	resp, err := r.next.RoundTrip(req)
	if err == nil && req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/run/") {
		r.triggered = true
	}
	return resp, err
}

// TestWaitGivesUpOnUnreachableHost: a host that stops answering during
// --wait (without --timeout) is warned about at each failed check, and the
// wait gives up with exit 7 after its bound instead of waiting forever.
func TestWaitGivesUpOnUnreachableHost(t *testing.T) {
	t.Parallel()
	h := newRunHarness(t)
	h.wrap = func(next http.RoundTripper) http.RoundTripper { return &refuseAfterTrigger{next: next} }
	r := h.run("job", "run", "303", "--wait")
	wantCode(t, r, ExitUpstream, "job run --wait against a host gone away")
	for _, want := range []string{
		"warning: could not read run 70000001 (", "was refused: nothing listens there",
		"still waiting, and giving up if dbt Cloud stays unreachable for 10m00s",
		"has not answered for 10m",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "dial tcp") {
		t.Errorf("raw network error:\n%s", r.stderr)
	}
	// One warning a minute while the same failure lasts, not one a poll.
	if n := strings.Count(r.stderr, "warning: could not read run"); n < 2 || n > 12 {
		t.Errorf("%d warnings over 10 minutes, want one a minute:\n%s", n, r.stderr)
	}
}
