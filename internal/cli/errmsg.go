package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
)

// This file words the errors that reach the user once setup is done: the
// packages below the CLI wrap errors with context for Go callers (a
// "dbtcloud: GET https://host/...?limit=100: 401 Unauthorized" chain, a
// "dial tcp ...: connect: connection refused", pflag's "strconv.ParseInt:
// parsing ..."), which is right for a library and wrong for a person.
// userMessage keeps the context each layer added and replaces the low-level
// part with a sentence, adding what to do next where there is one thing.

// userMessage is the message Run prints for err. conn is the name of the
// connection the command used ("" if none was resolved), for hints.
func userMessage(err error, conn string) string {
	msg := err.Error()
	var ae *dbtcloud.APIError
	if errors.As(err, &ae) {
		msg = strings.Replace(msg, ae.Error(), describeAPIError(ae), 1)
	}
	if text, low := lowLevelNetError(err); low != nil {
		msg = strings.Replace(msg, low.Error(), text, 1)
	}
	// Package prefixes say where an error came from to a Go programmer.
	msg = packagePrefix.ReplaceAllString(msg, "$1")
	msg = rewordFlagError(msg)
	if hint := errorHint(err, conn); hint != "" && !strings.Contains(msg, hint) {
		msg += "\n" + hint
	}
	return msg
}

// packagePrefix matches the "pkg: " that Go packages put before their
// errors, as a word of its own (not the end of "keystore: ").
var packagePrefix = regexp.MustCompile(`(^|[\s(:])(?:dbtcloud|store|jsontext): `)

// describeAPIError words a dbt Cloud HTTP error: the status, the call by
// method and path (never the query, nor the host, which the connection
// names), what dbt Cloud said, and its request id for support.
func describeAPIError(e *dbtcloud.APIError) string {
	path := e.URL
	if u, err := url.Parse(e.URL); err == nil && u.Path != "" {
		path = u.Path
	}
	var b strings.Builder
	fmt.Fprintf(&b, "dbt Cloud answered %d %s to %s %s", e.StatusCode, http.StatusText(e.StatusCode), e.Method, path)
	said := e.UserMessage
	if e.DeveloperMessage != "" && e.DeveloperMessage != said {
		if said != "" {
			said += " (" + e.DeveloperMessage + ")"
		} else {
			said = e.DeveloperMessage
		}
	}
	if said == "" && !e.Envelope {
		// Not dbt Cloud's body: a proxy's page says little, and may be long.
		said = strings.Join(strings.Fields(string(e.Body)), " ")
		if len(said) > 120 {
			said = strings.ToValidUTF8(said[:120], "") + "..."
		}
	}
	if said != "" {
		b.WriteString(": " + said)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.RequestID != "" {
		b.WriteString(" [request id " + e.RequestID + "]")
	}
	return b.String()
}

// lowLevelNetError finds the network error at the bottom of err, if any,
// and returns the sentence that replaces it with that error (low is nil
// when there is none).
func lowLevelNetError(err error) (text string, low error) {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if dnsErr.IsNotFound {
			return fmt.Sprintf("the host name %s does not exist (check its spelling; the access URL is shown in dbt Cloud under Account settings)", dnsErr.Name), dnsErr
		}
		return fmt.Sprintf("the host name %s could not be resolved (check the network and DNS settings)", dnsErr.Name), dnsErr
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		addr := ""
		if opErr.Addr != nil {
			addr = opErr.Addr.String()
		}
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			return fmt.Sprintf("the connection to %s was refused: nothing listens there (is the host and port right, and is the server or emulator running?)", addr), opErr
		case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
			return fmt.Sprintf("%s is unreachable from this machine (check the network, VPN or proxy)", addr), opErr
		case errors.Is(err, syscall.ECONNRESET):
			return fmt.Sprintf("the connection to %s was reset", addr), opErr
		case opErr.Timeout():
			return fmt.Sprintf("%s did not answer in time (check the network, firewall or proxy)", addr), opErr
		}
	}
	return "", nil
}

// errorHint is the next step for errors that have one.
func errorHint(err error, conn string) string {
	test := "dbtlink connection test"
	if conn != "" {
		test += " " + conn
	}
	switch {
	case errors.Is(err, dbtcloud.ErrUnauthorized):
		return fmt.Sprintf("The token was refused: it may have been revoked or have expired, or belong to another dbt Cloud host. Check the connection with `%s`.", test)
	case errors.Is(err, dbtcloud.ErrForbidden):
		return fmt.Sprintf("The token may not do this (its permission set), or the account restricts access by IP address; `%s` says what it may do.", test)
	}
	return ""
}

// pflagValue matches pflag's message for a flag value that does not parse,
// which quotes the Go parser's own error ("strconv.ParseInt: parsing ...").
var pflagValue = regexp.MustCompile(`invalid argument "([^"]*)" for "([^"]*)" flag: (strconv\.Parse(Int|Uint|Float|Bool): parsing "[^"]*": (invalid syntax|value out of range)|time: [^\n]*)`)

// rewordFlagError replaces pflag's parser detail with what the flag wants.
func rewordFlagError(msg string) string {
	return pflagValue.ReplaceAllStringFunc(msg, func(m string) string {
		sub := pflagValue.FindStringSubmatch(m)
		value, flag, kind := sub[1], sub[2], sub[4]
		want := "a duration such as 30s, 5m or 1h30m"
		switch {
		case strings.HasSuffix(sub[5], "range"):
			want = "a smaller number"
		case kind == "Int" || kind == "Uint":
			want = "a whole number"
		case kind == "Float":
			want = "a number"
		case kind == "Bool":
			want = "true or false"
		}
		return fmt.Sprintf("invalid value %q for %s: want %s", value, flag, want)
	})
}

// retryWait words a backoff: whole seconds, or tenths below one.
func retryWait(d time.Duration) string {
	if d >= time.Second {
		return shortDuration(d)
	}
	return fmt.Sprintf("%.1fs", max(d, 100*time.Millisecond).Seconds())
}

// jsonError is how errors are written with --json, so that a script that
// reads JSON gets JSON on failure too.
type jsonError struct {
	Error struct {
		Message  string `json:"message"`
		ExitCode int    `json:"exit_code"`
	} `json:"error"`
}

func writeJSONError(w io.Writer, msg string, code int) {
	var e jsonError
	e.Error.Message, e.Error.ExitCode = msg, code
	b, err := json.Marshal(e)
	if err != nil { // a string and an int always marshal
		fmt.Fprintf(w, "error: %s\n", msg)
		return
	}
	fmt.Fprintf(w, "%s\n", b)
}

// retryNotice tells the user, on stderr, that a dbt Cloud call failed and
// will be tried again, and why: without it an unreachable host looks like
// a hang for the length of the retry policy.
func retryNotice(ios *IOStreams) func(dbtcloud.RetryEvent) {
	return func(ev dbtcloud.RetryEvent) {
		why := ev.Err.Error()
		var ae *dbtcloud.APIError
		if errors.As(ev.Err, &ae) {
			why = fmt.Sprintf("dbt Cloud answered %d %s", ae.StatusCode, http.StatusText(ae.StatusCode))
		} else if text, low := lowLevelNetError(ev.Err); low != nil {
			why = text
		} else {
			why = packagePrefix.ReplaceAllString(why, "$1")
		}
		bound := ""
		if ev.MaxElapsed > 0 {
			bound = fmt.Sprintf(" within %s, which %s sets", shortDuration(ev.MaxElapsed), envRetryFor)
		}
		ios.Warn(fmt.Sprintf("warning: %s; retrying in %s (attempt %d of at most %d%s)",
			why, retryWait(ev.Wait), ev.Attempt+1, ev.MaxAttempts, bound))
	}
}
