package openlineage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Transport delivers events.
type Transport interface {
	// Send delivers one event; it may retry, and returns the last error.
	Send(ctx context.Context, ev RunEvent) error
}

// APIKey is a secret that prints, logs and marshals as "REDACTED", so that
// it cannot reach a log line or error by accident.
type APIKey struct{ secret string }

// NewAPIKey wraps a key.
func NewAPIKey(s string) APIKey { return APIKey{secret: strings.TrimSpace(s)} }

// IsZero reports whether no key is set.
func (k APIKey) IsZero() bool { return k.secret == "" }

func (k APIKey) String() string               { return "REDACTED" }
func (k APIKey) GoString() string             { return "REDACTED" }
func (k APIKey) LogValue() slog.Value         { return slog.StringValue("REDACTED") }
func (k APIKey) MarshalJSON() ([]byte, error) { return []byte(`"REDACTED"`), nil }

// LineagePath is Marquez's (and the OpenLineage HTTP transport's default)
// endpoint for events.
const LineagePath = "/api/v1/lineage"

// HTTPTransport posts each event as JSON, as the OpenLineage HTTP
// transport does: to URL + /api/v1/lineage when URL has no path, else to
// URL as given, with "Authorization: Bearer KEY" when a key is set.
// Network errors, 429 and 5xx answers are retried with exponential
// backoff; other answers are errors at once.
type HTTPTransport struct {
	endpoint string
	redacted string
	key      APIKey
	client   *http.Client
	attempts int
	backoff  func(attempt int) time.Duration
	sleep    func(context.Context, time.Duration) error
}

// HTTPOptions tune an HTTPTransport; zero values take the defaults.
type HTTPOptions struct {
	APIKey APIKey
	// Client defaults to one with a 10 second timeout per request.
	Client *http.Client
	// Attempts is the number of tries of an event (default 5).
	Attempts int
	// Backoff is the wait before retry n (1-based); default 500ms doubling
	// up to 8s.
	Backoff func(n int) time.Duration
	// Sleep waits (tests pass one that does not); default a timer that
	// stops with ctx.
	Sleep func(context.Context, time.Duration) error
}

// NewHTTPTransport checks rawURL and returns the transport.
func NewHTTPTransport(rawURL string, o HTTPOptions) (*HTTPTransport, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("OpenLineage URL %q: want an http:// or https:// URL such as http://marquez:5000", redactURL(rawURL))
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = LineagePath
	}
	t := &HTTPTransport{endpoint: u.String(), redacted: u.Redacted(), key: o.APIKey, client: o.Client,
		attempts: o.Attempts, backoff: o.Backoff, sleep: o.Sleep}
	if t.client == nil {
		t.client = &http.Client{Timeout: 10 * time.Second}
	}
	if t.attempts <= 0 {
		t.attempts = 5
	}
	if t.backoff == nil {
		t.backoff = func(n int) time.Duration { return min(500*time.Millisecond<<(n-1), 8*time.Second) }
	}
	if t.sleep == nil {
		t.sleep = sleepCtx
	}
	return t, nil
}

// Endpoint is where events go, with any password in the URL masked.
func (t *HTTPTransport) Endpoint() string { return t.redacted }

func sleepCtx(ctx context.Context, d time.Duration) error {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}

func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}

// statusError is an answer the receiver refused.
type statusError struct {
	status    int
	body      string
	retryable bool
	after     time.Duration
}

func (e *statusError) Error() string {
	if e.body == "" {
		return fmt.Sprintf("HTTP %d", e.status)
	}
	return fmt.Sprintf("HTTP %d: %s", e.status, e.body)
}

// Send posts ev, retrying as the type says.
func (t *HTTPTransport) Send(ctx context.Context, ev RunEvent) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode OpenLineage event: %w", err)
	}
	var last error
	for n := 1; n <= t.attempts; n++ {
		if n > 1 {
			wait := t.backoff(n - 1)
			var se *statusError
			if errors.As(last, &se) && se.after > 0 {
				wait = min(se.after, 30*time.Second)
			}
			if err := t.sleep(ctx, wait); err != nil {
				return fmt.Errorf("post OpenLineage event to %s: %w (after %d attempts, last: %v)", t.redacted, err, n-1, last)
			}
		}
		last = t.post(ctx, body)
		if last == nil {
			return nil
		}
		var se *statusError
		if ctx.Err() != nil || (errors.As(last, &se) && !se.retryable) {
			break
		}
	}
	return fmt.Errorf("post OpenLineage event to %s: %w", t.redacted, last)
}

func (t *HTTPTransport) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if !t.key.IsZero() {
		req.Header.Set("Authorization", "Bearer "+t.key.secret)
	}
	resp, err := t.client.Do(req)
	if err != nil {
		// *url.Error names the URL, which may hold a password.
		var ue *url.Error
		if errors.As(err, &ue) {
			return fmt.Errorf("%s: %w", ue.Op, ue.Err)
		}
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	se := &statusError{status: resp.StatusCode, body: strings.TrimSpace(string(b)),
		retryable: resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		se.after = time.Duration(s) * time.Second
	}
	return se
}

// FileTransport appends each event as one line of JSON to a file, created
// (mode 0600: events carry SQL) when missing.
type FileTransport struct {
	path string
	mu   sync.Mutex
}

// NewFileTransport checks that path can be appended to.
func NewFileTransport(path string) (*FileTransport, error) {
	if path == "" {
		return nil, errors.New("OpenLineage file: no path given")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("OpenLineage file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("OpenLineage file: %w", err)
	}
	return &FileTransport{path: path}, nil
}

// Send appends ev. The file is opened per event so that it can be rotated
// under a running server.
func (t *FileTransport) Send(ctx context.Context, ev RunEvent) error {
	line, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode OpenLineage event: %w", err)
	}
	line = append(line, '\n')
	t.mu.Lock()
	defer t.mu.Unlock()
	f, err := os.OpenFile(t.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("write OpenLineage event: %w", err)
	}
	_, werr := f.Write(line) // one write per line: appends from several processes do not interleave
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("write OpenLineage event to %s: %w", t.path, werr)
	}
	return nil
}

// Multi sends each event to every transport, so one can post to Marquez
// and keep a file; all are tried, and their errors joined.
type Multi []Transport

// Send sends ev to each transport.
func (m Multi) Send(ctx context.Context, ev RunEvent) error {
	var errs []error
	for _, t := range m {
		if err := t.Send(ctx, ev); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
