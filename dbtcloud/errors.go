package dbtcloud

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Sentinel errors. An *APIError matches the one for its status code with
// errors.Is, e.g. errors.Is(err, dbtcloud.ErrNotFound).
var (
	// ErrUnauthorized is a 401: a bad token, or a valid token used on the
	// wrong region's host.
	ErrUnauthorized = errors.New("dbtcloud: unauthorized (401)")
	// ErrForbidden is a 403: missing permission, IP restriction or a
	// deprecated user API key.
	ErrForbidden = errors.New("dbtcloud: forbidden (403)")
	// ErrNotFound is a 404: the object is missing or not visible to this token.
	ErrNotFound = errors.New("dbtcloud: not found (404)")
	// ErrRateLimited is a 429; APIError.RetryAfter says how long to wait
	// when the server said so.
	ErrRateLimited = errors.New("dbtcloud: rate limited (429)")
	// ErrServer is any 5xx.
	ErrServer = errors.New("dbtcloud: server error (5xx)")
	// ErrOutcomeUnknown means a non-idempotent call (trigger, rerun, retry)
	// may or may not have taken effect: the request was sent but no answer
	// came back, and the client could not tell (or, for calls without a
	// marker, cannot tell) whether dbt Cloud acted on it. Check the job's
	// runs before trying again.
	ErrOutcomeUnknown = errors.New("dbtcloud: outcome unknown, the request may have taken effect")
)

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 1 << 20

// APIError is returned for every non-2xx response.
type APIError struct {
	StatusCode int
	Method     string
	// URL is the request URL; it never carries the token, which travels in
	// a header.
	URL string
	// UserMessage and DeveloperMessage come from the envelope's status block.
	UserMessage      string
	DeveloperMessage string
	// RequestID is taken from a request-id response header, when present.
	RequestID string
	// RetryAfter is the parsed Retry-After header (429 and 503), or 0.
	RetryAfter time.Duration
	// Body is the start of the response body (at most 1 MiB).
	Body []byte
	// Envelope says the body was a JSON object shaped like dbt Cloud's
	// errors: its envelope with a "status" block, or {"detail": ...}. A
	// 404 without it (a plain "404 page not found", an HTML page) comes
	// from a server that is not dbt Cloud's API: a wrong host or port.
	Envelope bool
}

// Error implements error.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "dbtcloud: %s %s: %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	msg := e.UserMessage
	if e.DeveloperMessage != "" && e.DeveloperMessage != msg {
		if msg != "" {
			msg += " (" + e.DeveloperMessage + ")"
		} else {
			msg = e.DeveloperMessage
		}
	}
	if msg == "" {
		msg = bodySnippet(e.Body)
	}
	if msg != "" {
		b.WriteString(": " + msg)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.RequestID != "" {
		b.WriteString(" [request id " + e.RequestID + "]")
	}
	return b.String()
}

// Is lets errors.Is match the sentinel for the status code.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrServer:
		return e.StatusCode >= 500 && e.StatusCode <= 599
	}
	return false
}

// bodySnippet gives a one-line start of a non-JSON error body (say, a load
// balancer's HTML page) so that the error says something.
func bodySnippet(body []byte) string {
	const maxLen = 200
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) > maxLen {
		s = strings.ToValidUTF8(s[:maxLen], "") + "..."
	}
	return s
}
