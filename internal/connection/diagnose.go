package connection

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/dbtlink/dbtlink/dbtcloud"
)

// CheckStatus is the outcome of one diagnosis step.
type CheckStatus string

// The outcomes of a check.
const (
	CheckPass CheckStatus = "pass"
	CheckFail CheckStatus = "fail"
	// CheckSkip means an earlier failure made the check impossible.
	CheckSkip CheckStatus = "skip"
)

// The checks Diagnose runs, in order.
const (
	CheckHost    = "host"    // DNS, TCP and TLS to the access URL
	CheckToken   = "token"   // the API accepts the token
	CheckAccount = "account" // the token can read the account
)

// Check is one line of a [Report].
type Check struct {
	Name   string // CheckHost, CheckToken or CheckAccount
	Status CheckStatus
	// Message is one plain sentence saying what was found and, on
	// failure, what to do. It never contains the token.
	Message string
	// Err is the underlying error, for verbose output; nil on success.
	Err error
}

// AccountInfo is an account the token can see.
type AccountInfo struct {
	ID   int64
	Name string
}

// Report is the result of [Diagnose].
type Report struct {
	Host      string
	AccountID int64
	Checks    []Check
	// Accounts lists the accounts the token can see, when dbt Cloud would
	// say; it helps fix a wrong account id.
	Accounts []AccountInfo
	// Access is what the token was found to be allowed to do, once the
	// account was readable; nil otherwise. Its summary is also the end of
	// the account check's message, so every surface that shows checks
	// (the CLI, --json, the server's API) shows it.
	Access *Access
}

// OK reports whether every check passed.
func (r Report) OK() bool {
	for _, c := range r.Checks {
		if c.Status != CheckPass {
			return false
		}
	}
	return len(r.Checks) > 0
}

// String renders the report as lines of "status  check: message".
func (r Report) String() string {
	var b strings.Builder
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "%-4s  %s: %s\n", c.Status, c.Name, c.Message)
	}
	if len(r.Accounts) > 0 {
		b.WriteString("accounts this token can see:\n")
		for _, a := range r.Accounts {
			fmt.Fprintf(&b, "  %d  %s\n", a.ID, a.Name)
		}
	}
	return b.String()
}

// Diagnose checks that client's host is reachable, that its token is
// accepted and that it can read account accountID, stopping at the first
// failure, and lists the accounts the token can see. It is meant for
// `dbtlink connection test`; build the client with few retries
// (dbtcloud.WithRetryPolicy) so a broken connection is reported quickly.
func Diagnose(ctx context.Context, client *dbtcloud.Client, accountID int64) Report {
	host := client.Host()
	r := Report{Host: host, AccountID: accountID}
	acct, _, err := client.Accounts.Get(ctx, accountID)
	if err == nil {
		access := probeAccess(ctx, client, accountID)
		r.Access = &access
		account := Check{Name: CheckAccount, Status: CheckPass,
			Message: fmt.Sprintf("Account %d (%s) is readable with this token. %s.", accountID, acct.Name, access)}
		if access.readsNeitherJobsNorRuns() {
			// Every dbtlink command reads jobs or runs: a token that can
			// do neither (Metadata Only, Security Admin, Webhooks Only,
			// ...) is not usable, even though the account answers.
			account.Status = CheckFail
			account.Err = access.denied
			account.Message = fmt.Sprintf("Account %d (%s) is readable, but this token may not read its jobs or runs, which dbtlink needs: give the service token a permission set that reads them (Analyst, Job Viewer or Read-Only to read; Job Runner or Job Admin to run jobs too). %s.", accountID, acct.Name, access)
		}
		r.Checks = []Check{
			{Name: CheckHost, Status: CheckPass, Message: fmt.Sprintf("%s is reachable.", host)},
			{Name: CheckToken, Status: CheckPass, Message: "The token was accepted."},
			account,
		}
		return r
	}

	var ae *dbtcloud.APIError
	if !errors.As(err, &ae) {
		r.Checks = []Check{
			{Name: CheckHost, Status: CheckFail, Message: describeTransportError(ctx, host, err), Err: err},
			{Name: CheckToken, Status: CheckSkip, Message: "Not checked: the host could not be reached."},
			{Name: CheckAccount, Status: CheckSkip, Message: "Not checked: the host could not be reached."},
		}
		return r
	}
	if !ae.Envelope && ae.StatusCode != http.StatusUnauthorized && ae.StatusCode != http.StatusForbidden && ae.StatusCode < 500 {
		// dbt Cloud answers every 4xx of its API with its JSON envelope
		// (or {"detail": ...}); a bare 404 or 405 is some other server
		// (a file server, a proxy's page, another app on that port), and
		// blaming the account id would send the user the wrong way. 401 and
		// 403 keep their own checks: a proxy may send them bare, and what
		// they say about the token holds either way; 5xx are outages.
		r.Checks = []Check{
			{Name: CheckHost, Status: CheckFail, Err: err, Message: fmt.Sprintf(
				"%s answered %d %s to dbt Cloud's account URL, without the JSON error body dbt Cloud always sends: it is not a dbt Cloud API. Check the host and port (the access URL is shown in dbt Cloud under Account settings; the emulator prints its DBT_CLOUD_HOST).",
				strings.TrimPrefix(strings.TrimPrefix(host, "https://"), "http://"), ae.StatusCode, http.StatusText(ae.StatusCode))},
			{Name: CheckToken, Status: CheckSkip, Message: "Not checked: the host is not dbt Cloud."},
			{Name: CheckAccount, Status: CheckSkip, Message: "Not checked: the host is not dbt Cloud."},
		}
		return r
	}
	hostOK := Check{Name: CheckHost, Status: CheckPass, Message: fmt.Sprintf("%s is reachable.", host)}
	tokenOK := Check{Name: CheckToken, Status: CheckPass, Message: "The token was accepted."}
	switch ae.StatusCode {
	case http.StatusUnauthorized:
		msg := "The token was rejected (401): check that it was copied whole and has not been revoked or expired"
		if dbtcloud.IsMultiTenantHost(host) {
			msg += fmt.Sprintf("; a valid token is also rejected on the wrong host, and this account may need its cell access URL (e.g. ab123.us1.dbt.com, shown in dbt Cloud under Account settings) instead of %s", strings.TrimPrefix(host, "https://"))
		} else {
			msg += fmt.Sprintf(", and that %s is this account's access URL", strings.TrimPrefix(host, "https://"))
		}
		r.Checks = []Check{
			hostOK,
			{Name: CheckToken, Status: CheckFail, Message: msg + ".", Err: err},
			{Name: CheckAccount, Status: CheckSkip, Message: "Not checked: the token was rejected."},
		}
		return r
	case http.StatusForbidden:
		msg := fmt.Sprintf("Access to account %d was denied (403)", accountID)
		if bytes.Contains(ae.Body, []byte("account_access_denied")) {
			msg += " with account_access_denied: the account restricts access by IP address and this machine's address is not allowed, or the token lacks permission on this account"
		} else {
			msg += ": the token lacks permission (give the service token at least a read-only permission set such as Analyst or Read-Only; Metadata Only and Semantic Layer Only tokens reach only those APIs, never the Admin API), the account restricts access by IP address (account_access_denied), or it is a deprecated user API key (use a personal access token or service token)"
		}
		r.Checks = []Check{hostOK, tokenOK, {Name: CheckAccount, Status: CheckFail, Message: msg + ".", Err: err}}
	case http.StatusNotFound:
		r.Checks = []Check{hostOK, tokenOK, {Name: CheckAccount, Status: CheckFail,
			Message: fmt.Sprintf("Account %d is not visible to this token (404): the account id is wrong, or the token belongs to another account.", accountID), Err: err}}
	default:
		r.Checks = []Check{hostOK,
			{Name: CheckToken, Status: CheckSkip, Message: "Not checked: dbt Cloud did not give a usable answer."},
			{Name: CheckAccount, Status: CheckFail, Message: fmt.Sprintf("dbt Cloud answered %d %s; try again later, and check https://status.getdbt.com.", ae.StatusCode, http.StatusText(ae.StatusCode)), Err: err}}
		return r
	}
	// The token works but the account does not: list what it can see.
	if accts, _, err := client.Accounts.List(ctx); err == nil {
		for _, a := range accts {
			r.Accounts = append(r.Accounts, AccountInfo{ID: a.ID, Name: a.Name})
		}
		if len(accts) > 0 {
			last := &r.Checks[len(r.Checks)-1]
			last.Message += fmt.Sprintf(" This token can see %s.", describeAccounts(r.Accounts))
		}
	}
	return r
}

func describeAccounts(as []AccountInfo) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = fmt.Sprintf("account %d (%s)", a.ID, a.Name)
	}
	return strings.Join(parts, ", ")
}

// describeTransportError turns a failure to talk to the host into one plain
// sentence for the most common causes.
func describeTransportError(ctx context.Context, host string, err error) string {
	name := strings.TrimPrefix(strings.TrimPrefix(host, "https://"), "http://")
	var dnsErr *net.DNSError
	var unknownCA x509.UnknownAuthorityError
	var hostnameErr x509.HostnameError
	var certInvalid x509.CertificateInvalidError
	var verifyErr *tls.CertificateVerificationError
	var recordErr tls.RecordHeaderError
	var netErr net.Error
	switch {
	case ctx.Err() != nil:
		return fmt.Sprintf("The check of %s was interrupted (%v).", host, ctx.Err())
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return fmt.Sprintf("The host name %s does not exist (DNS lookup failed): check its spelling and region; the access URL is shown in dbt Cloud under Account settings.", dnsErr.Name)
		}
		return fmt.Sprintf("The host name %s could not be resolved (DNS lookup failed: %v): check the network and DNS settings.", dnsErr.Name, dnsErr.Err)
	case errors.As(err, &unknownCA), errors.As(err, &verifyErr):
		return fmt.Sprintf("The TLS certificate of %s is not trusted: a proxy may be intercepting HTTPS (add its CA to the system trust store, or set SSL_CERT_FILE) or the host is not a dbt Cloud host.", name)
	case errors.As(err, &hostnameErr):
		return fmt.Sprintf("The TLS certificate of %s is for another host name: check the host.", name)
	case errors.As(err, &certInvalid):
		return fmt.Sprintf("The TLS certificate of %s is invalid (%v): check the system clock and any proxy.", name, certInvalid.Reason)
	case errors.As(err, &recordErr), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		// net/http reports the second case with an untyped error.
		if loopbackHTTPS(host) {
			return fmt.Sprintf("%s did not answer with TLS: a loopback address is never dbt Cloud, and local emulators serve plain HTTP; use http://%s as the host.", name, name)
		}
		return fmt.Sprintf("%s did not answer with TLS: the port may serve plain HTTP; check the host and port.", name)
	case loopbackHTTPS(host) && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || strings.Contains(err.Error(), "tls: ")):
		// The handshake failed some other way (the server hung up on the
		// ClientHello, or answered it with something that is not TLS).
		return fmt.Sprintf("The TLS handshake with %s failed (%v): a loopback address is never dbt Cloud, and local emulators serve plain HTTP; use http://%s as the host.", name, err, name)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("The connection to %s was refused: nothing is listening there; check the host and port.", name)
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return fmt.Sprintf("%s is unreachable from this machine: check the network, VPN or proxy (HTTPS_PROXY).", name)
	case errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Sprintf("%s did not answer in time: check the network, firewall or proxy (HTTPS_PROXY).", name)
	}
	return fmt.Sprintf("Could not reach %s: %v.", name, err)
}

// loopbackHTTPS reports whether host is an https URL of a loopback address
// (127.0.0.0/8, ::1, localhost), where dbt Cloud is never served: a TLS
// failure there almost always means a local, plain-http emulator.
func loopbackHTTPS(host string) bool {
	return strings.HasPrefix(host, "https://") && dbtcloud.IsLoopbackHost(host)
}

// Access says what a token may do through the Admin API, as far as
// read-only probes can tell. dbt Cloud has no endpoint that tells a service
// token its own permission sets (v3's service-tokens/{id}/permissions/
// needs the token's id and a set that may read service tokens), so
// [Diagnose] infers them:
//
//   - Reads are tried with one GET each (limit 1): the account, projects,
//     environments of the first project, jobs, runs, the artifact list of
//     the newest run, and webhook subscriptions. 200 means may, 403 may not.
//   - Write access to runs (trigger, cancel, rerun) is never tried: a POST
//     with an invalid body would tell only if dbt Cloud checked permissions
//     before validating the body, and neither its docs nor CONTRACT.md say
//     it does; triggering for real is out of the question. So it is "not
//     known until used", except when runs cannot even be read: in dbt's
//     permission tables Write includes Read, so no read means no write.
//   - Webhook subscriptions are granted only as Write in those tables, so a
//     list that answers means the token may manage them.
type Access struct {
	May, MayNot, Unknown []string
	denied               error // a 403 seen, for the check's Err
	jobs, runs           probeResult
}

type probeResult int

const (
	probeUnknown probeResult = iota
	probeAllowed
	probeDenied
)

func (a Access) readsNeitherJobsNorRuns() bool { return a.jobs == probeDenied && a.runs == probeDenied }

// String renders "Token may: read the account, jobs and runs, download
// artifacts; may not: manage webhook subscriptions; not known until used:
// trigger, cancel or rerun runs".
func (a Access) String() string {
	var parts []string
	if len(a.May) > 0 {
		parts = append(parts, "may: "+strings.Join(a.May, ", "))
	}
	if len(a.MayNot) > 0 {
		parts = append(parts, "may not: "+strings.Join(a.MayNot, ", "))
	}
	if len(a.Unknown) > 0 {
		parts = append(parts, "not known until used: "+strings.Join(a.Unknown, ", "))
	}
	return "Token " + strings.Join(parts, "; ")
}

// probeAccess runs the read-only probes described at [Access].
func probeAccess(ctx context.Context, client *dbtcloud.Client, accountID int64) Access {
	var a Access
	var reads, noReads []string
	classify := func(err error) probeResult {
		switch {
		case err == nil:
			return probeAllowed
		case errors.Is(err, dbtcloud.ErrForbidden):
			if a.denied == nil {
				a.denied = err
			}
			return probeDenied
		}
		return probeUnknown
	}
	note := func(what string, res probeResult, err error) {
		switch res {
		case probeAllowed:
			reads = append(reads, what)
		case probeDenied:
			noReads = append(noReads, what)
		default:
			a.Unknown = append(a.Unknown, fmt.Sprintf("read %s (the check failed: %v)", what, err))
		}
	}
	reads = append(reads, "the account")
	one := dbtcloud.ListOptions{Limit: 1}

	projects, _, err := client.Projects.List(ctx, accountID, &dbtcloud.ProjectListOptions{ListOptions: one})
	projRes := classify(err)
	note("projects", projRes, err)
	switch {
	case projRes == probeAllowed && len(projects) > 0:
		_, _, err := client.Environments.List(ctx, accountID, projects[0].ID, &dbtcloud.EnvironmentListOptions{ListOptions: one})
		note("environments", classify(err), err)
	default:
		a.Unknown = append(a.Unknown, "read environments (no project to look in)")
	}

	_, _, err = client.Jobs.List(ctx, accountID, &dbtcloud.JobListOptions{ListOptions: one})
	a.jobs = classify(err)
	note("jobs", a.jobs, err)

	runs, _, err := client.Runs.List(ctx, accountID, &dbtcloud.RunListOptions{OrderBy: "-id", ListOptions: one})
	a.runs = classify(err)
	note("runs", a.runs, err)

	var other, otherNot []string
	switch {
	case a.runs == probeAllowed && len(runs) > 0:
		_, _, err := client.Artifacts.List(ctx, accountID, runs[0].ID, 0)
		switch classify(err) {
		case probeAllowed:
			other = append(other, "download artifacts")
		case probeDenied:
			otherNot = append(otherNot, "download artifacts")
		default:
			a.Unknown = append(a.Unknown, fmt.Sprintf("download artifacts (the check failed: %v)", err))
		}
	case a.runs == probeDenied:
		otherNot = append(otherNot, "download artifacts")
	default:
		a.Unknown = append(a.Unknown, "download artifacts (no run to look at)")
	}
	if a.runs == probeDenied {
		otherNot = append(otherNot, "trigger, cancel or rerun runs")
	} else {
		a.Unknown = append(a.Unknown, "trigger, cancel or rerun runs")
	}

	_, _, err = client.Webhooks.List(ctx, accountID, &one)
	switch classify(err) {
	case probeAllowed:
		other = append(other, "manage webhook subscriptions")
	case probeDenied:
		otherNot = append(otherNot, "manage webhook subscriptions")
	default:
		a.Unknown = append(a.Unknown, fmt.Sprintf("manage webhook subscriptions (the check failed: %v)", err))
	}

	if len(reads) > 0 {
		a.May = append(a.May, "read "+joinAnd(reads))
	}
	a.May = append(a.May, other...)
	if len(noReads) > 0 {
		a.MayNot = append(a.MayNot, "read "+joinAnd(noReads))
	}
	a.MayNot = append(a.MayNot, otherNot...)
	return a
}

// joinAnd joins "a", "b", "c" as "a, b and c".
func joinAnd(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
