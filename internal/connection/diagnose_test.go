package connection

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
)

// fakeCloud answers GET /api/v2/accounts/{id}/ with status (and body) and
// GET /api/v2/accounts/ with two accounts.
func fakeCloud(t *testing.T, status int, body string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v2/accounts/{id}/", func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "Token "+testToken {
			t.Errorf("Authorization header = %q", got)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	})
	mux.HandleFunc("GET /api/v2/accounts/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"status": {"code": 200, "is_success": true}, "data": [{"id": 1, "name": "Acme"}, {"id": 2, "name": "Beta"}]}`)
	})
	// The access probes that follow a readable account: empty lists.
	empty := func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"status": {"code": 200, "is_success": true}, "data": [], "extra": {"pagination": {"count": 0, "total_count": 0}}}`)
	}
	mux.HandleFunc("GET /api/v3/accounts/{id}/projects/", empty)
	mux.HandleFunc("GET /api/v2/accounts/{id}/jobs/", empty)
	mux.HandleFunc("GET /api/v2/accounts/{id}/runs/", empty)
	mux.HandleFunc("GET /api/v3/accounts/{id}/webhooks/subscriptions", empty)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL)
		w.WriteHeader(http.StatusTeapot)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func testClient(t *testing.T, host string, opts ...dbtcloud.Option) *dbtcloud.Client {
	t.Helper()
	opts = append([]dbtcloud.Option{dbtcloud.WithRetryPolicy(dbtcloud.RetryPolicy{MaxAttempts: 1})}, opts...)
	c, err := dbtcloud.NewClient(host, testToken, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func statuses(r Report) string {
	var s []string
	for _, c := range r.Checks {
		s = append(s, c.Name+"="+string(c.Status))
	}
	return strings.Join(s, " ")
}

func TestDiagnoseAPI(t *testing.T) {
	t.Parallel()
	const ok = `{"status": {"code": 200, "is_success": true}, "data": {"id": 42, "name": "Acme"}}`
	tests := []struct {
		name         string
		status       int
		body         string
		wantStatuses string
		wantMsg      string
		wantAccounts int
	}{
		{"ok", 200, ok, "host=pass token=pass account=pass", "Account 42 (Acme) is readable", 0},
		{"401", 401, `{"status": {"code": 401, "is_success": false, "user_message": "Invalid token."}, "data": null}`, "host=pass token=fail account=skip", "the token was rejected", 0},
		{"403 ip", 403, `{"status": {"code": 403, "is_success": false, "user_message": "Forbidden"}, "data": {"reason": "account_access_denied"}}`, "host=pass token=pass account=fail", "restricts access by IP address", 2},
		{"403 ip as documented", 403, `{"status": {"code": 403, "is_success": false, "user_message": "Forbidden: Access denied", "developer_message": null}, "data": {"account_id": 42, "user_id": null, "is_service_token": true, "account_access_denied": true}}`, "host=pass token=pass account=fail", "restricts access by IP address", 2},
		{"403 plain", 403, `{"status": {"code": 403, "is_success": false}, "data": null}`, "host=pass token=pass account=fail", "lacks permission", 2},
		{"404", 404, `{"status": {"code": 404, "is_success": false}, "data": null}`, "host=pass token=pass account=fail", "not visible to this token", 2},
		{"500", 500, `oops`, "host=pass token=skip account=fail", "answered 500", 0},
		// A server that is not dbt Cloud (a plain file server) answers
		// without dbt Cloud's envelope: the host is wrong, not the account.
		{"404 from a file server", 404, "404 page not found\n", "host=fail token=skip account=skip", "answered 404 Not Found to dbt Cloud's account URL, without the JSON error body", 0},
		{"404 HTML page", 404, "<html><body><h1>Not Found</h1></body></html>", "host=fail token=skip account=skip", "it is not a dbt Cloud API", 0},
		{"405 from another app", 405, `{"error": "method not allowed"}`, "host=fail token=skip account=skip", "it is not a dbt Cloud API", 0},
		{"404 detail", 404, `{"detail": "Not found."}`, "host=pass token=pass account=fail", "not visible to this token", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := fakeCloud(t, tt.status, tt.body)
			r := Diagnose(t.Context(), testClient(t, srv.URL), 42)
			if got := statuses(r); got != tt.wantStatuses {
				t.Errorf("statuses %s, want %s\n%s", got, tt.wantStatuses, r)
			}
			if !strings.Contains(strings.ToLower(r.String()), strings.ToLower(tt.wantMsg)) {
				t.Errorf("report lacks %q:\n%s", tt.wantMsg, r)
			}
			if len(r.Accounts) != tt.wantAccounts {
				t.Errorf("accounts %v, want %d", r.Accounts, tt.wantAccounts)
			}
			if tt.wantAccounts > 0 && !strings.Contains(r.String(), "account 2 (Beta)") {
				t.Errorf("report does not suggest visible accounts:\n%s", r)
			}
			if r.OK() != (tt.status == 200) {
				t.Errorf("OK() = %v", r.OK())
			}
			if strings.Contains(fmt.Sprintf("%v %+v", r, r), secretTail) {
				t.Error("report contains the token")
			}
		})
	}
}

// TestDiagnoseLegacyHostHint sends a cloud.getdbt.com client to a local
// server answering 401, to check the cell-URL hint appears only there.
func TestDiagnoseLegacyHostHint(t *testing.T) {
	t.Parallel()
	srv := fakeCloud(t, 401, `{"status": {"code": 401, "user_message": "Invalid token."}}`)
	addr := srv.Listener.Addr().String()
	dial := func(tr *http.Transport) {
		tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}
	}
	for _, tt := range []struct {
		host     string
		wantHint bool
	}{
		{"cloud.getdbt.com", true},
		{"emea.dbt.com", true},
		{"ab123.us1.dbt.com", false},
	} {
		// Plain http is allowed only for loopback hosts, so rewrite the
		// scheme in the transport instead.
		tr := &http.Transport{}
		dial(tr)
		c := testClient(t, tt.host, dbtcloud.WithTransport(httpsToHTTP{tr}))
		r := Diagnose(t.Context(), c, 42)
		if got := strings.Contains(r.String(), "cell access URL"); got != tt.wantHint {
			t.Errorf("%s: hint shown = %v, want %v\n%s", tt.host, got, tt.wantHint, r)
		}
		if statuses(r) != "host=pass token=fail account=skip" {
			t.Errorf("%s: %s", tt.host, statuses(r))
		}
	}
}

type httpsToHTTP struct{ rt http.RoundTripper }

func (h httpsToHTTP) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme = "http"
	return h.rt.RoundTrip(r)
}

func TestDiagnoseTransport(t *testing.T) {
	t.Parallel()
	// Self-signed, so untrusted by the default client. The handshake
	// failure would be logged by the server; discard that.
	tlsSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := ln.Addr().String()
	ln.Close()

	plain := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(plain.Close)

	// A loopback server that hangs up on the TLS ClientHello.
	hangup, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hangup.Close() })
	go func() {
		for {
			c, err := hangup.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()

	tests := []struct {
		name, host, want string
	}{
		{"dns", "https://dbtlink-diagnose-test.invalid", "does not exist (DNS lookup failed)"},
		{"tls untrusted", tlsSrv.URL, "TLS certificate of " + strings.TrimPrefix(tlsSrv.URL, "https://") + " is not trusted"},
		{"refused", "http://" + refused, "was refused"},
		{"plain http on https", "https://" + plain.Listener.Addr().String(), "did not answer with TLS: a loopback address is never dbt Cloud, and local emulators serve plain HTTP; use http://" + plain.Listener.Addr().String() + " as the host"},
		{"hang-up on https", "https://" + hangup.Addr().String(), "TLS handshake with " + hangup.Addr().String() + " failed"},
		{"hang-up on https suggests http", "https://" + hangup.Addr().String(), "use http://" + hangup.Addr().String() + " as the host"},
		{"plain http on https localhost", "https://" + strings.Replace(plain.Listener.Addr().String(), "127.0.0.1", "localhost", 1), "use http://localhost:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := Diagnose(t.Context(), testClient(t, tt.host), 42)
			if statuses(r) != "host=fail token=skip account=skip" {
				t.Errorf("statuses %s\n%s", statuses(r), r)
			}
			if !strings.Contains(r.Checks[0].Message, tt.want) {
				t.Errorf("host message %q, want %q (err %v)", r.Checks[0].Message, tt.want, r.Checks[0].Err)
			}
		})
	}
}

// TestDiagnoseAccess checks what connection test says a token may do, for
// several permission sets, against the emulator (which models dbt Cloud's
// permission sets on its service tokens).
func TestDiagnoseAccess(t *testing.T) {
	t.Parallel()
	seed := emulator.DefaultSeed()
	seed.Accounts[0].ServiceTokens = append(seed.Accounts[0].ServiceTokens,
		emulator.SeedServiceToken{Name: "hooks", Token: "dbtc_test_webhooks_only", PermissionSets: []string{"webhooks_only"}},
		emulator.SeedServiceToken{Name: "viewer", Token: "dbtc_test_job_viewer", PermissionSets: []string{"Job Viewer"}})
	srv, err := emulator.New(emulator.Options{Seed: seed, Clock: emulator.NewFakeClock(time.Date(2026, 3, 12, 6, 0, 0, 0, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	// A run, so the artifact probe has something to look at.
	admin, err := dbtcloud.NewClient(srv.URL, emulator.DemoToken)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := admin.Runs.Trigger(t.Context(), emulator.DemoAccountID, emulator.DemoDailyJobID, &dbtcloud.TriggerRunRequest{Cause: "diagnose test"}); err != nil {
		t.Fatal(err)
	}
	srv.Advance(5 * time.Minute)
	before := len(srv.Runs())

	tests := []struct {
		name, token  string
		wantStatuses string
		want         []string
		wantNot      []string
	}{
		{"account admin", emulator.DemoToken, "host=pass token=pass account=pass",
			[]string{"Token may: read the account, projects, environments, jobs and runs, download artifacts, manage webhook subscriptions", "not known until used: trigger, cancel or rerun runs"},
			[]string{"may not"}},
		{"analyst", emulator.DemoAnalystToken, "host=pass token=pass account=pass",
			[]string{"Token may: read the account, projects, environments, jobs and runs, download artifacts; may not: manage webhook subscriptions; not known until used: trigger, cancel or rerun runs"},
			nil},
		{"job viewer", "dbtc_test_job_viewer", "host=pass token=pass account=pass",
			[]string{"may: read the account, projects, environments, jobs and runs, download artifacts; may not: manage webhook subscriptions"}, nil},
		{"job runner on one project", emulator.DemoJobRunnerToken, "host=pass token=pass account=pass",
			[]string{"Token may: read the account, jobs and runs, download artifacts; may not: read projects, manage webhook subscriptions", "read environments (no project to look in)"},
			nil},
		{"webhooks only", "dbtc_test_webhooks_only", "host=pass token=pass account=fail",
			[]string{"may not read its jobs or runs, which dbtlink needs", "Token may: read the account, manage webhook subscriptions; may not: read projects, jobs and runs, download artifacts, trigger, cancel or rerun runs"},
			[]string{"not known until used: trigger"}},
		{"metadata only", emulator.DemoMetadataOnlyToken, "host=pass token=pass account=fail",
			[]string{"denied (403)", "Metadata Only and Semantic Layer Only tokens reach only those APIs"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := dbtcloud.NewClient(srv.URL, tt.token, dbtcloud.WithRetryPolicy(dbtcloud.RetryPolicy{MaxAttempts: 1}))
			if err != nil {
				t.Fatal(err)
			}
			r := Diagnose(t.Context(), c, emulator.DemoAccountID)
			if got := statuses(r); got != tt.wantStatuses {
				t.Errorf("statuses %s, want %s\n%s", got, tt.wantStatuses, r)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.String(), w) {
					t.Errorf("report lacks %q:\n%s", w, r)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(r.String(), w) {
					t.Errorf("report has %q:\n%s", w, r)
				}
			}
			if strings.Contains(r.String(), tt.token) {
				t.Error("report contains the token")
			}
		})
	}
	// Probing never starts (or cancels) anything.
	if after := len(srv.Runs()); after != before {
		t.Errorf("diagnosis changed the runs: %d before, %d after", before, after)
	}
}
