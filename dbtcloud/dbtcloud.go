package dbtcloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// UserAgentVersion is the version reported in the default User-Agent. The
// build sets it with -ldflags "-X github.com/dbtlink/dbtlink/dbtcloud.UserAgentVersion=v1.2.3".
var UserAgentVersion = "dev"

// Defaults used when the matching option is not given.
const (
	DefaultTimeout            = 30 * time.Second
	DefaultRateLimitPerMinute = 3000
)

// DefaultRetryPolicy returns the retry policy used when WithRetryPolicy is
// not given: up to 6 attempts, backoff from 1s to 30s, within 2 minutes.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 6, MinBackoff: time.Second, MaxBackoff: 30 * time.Second, MaxElapsed: 2 * time.Minute}
}

// RetryPolicy bounds retries of idempotent calls (and of triggers whose
// outcome was proven to be "not created"). A zero field takes the value from
// DefaultRetryPolicy; MaxAttempts 1 disables retries.
type RetryPolicy struct {
	// MaxAttempts is the total number of attempts, the first included.
	MaxAttempts int
	// MinBackoff is the wait before the first retry; it doubles each time
	// (with jitter) up to MaxBackoff.
	MinBackoff time.Duration
	// MaxBackoff caps every wait, including one asked for by Retry-After.
	MaxBackoff time.Duration
	// MaxElapsed is the time after which the client stops retrying and
	// returns the last error; no wait is started that would end past it.
	MaxElapsed time.Duration
}

// service is the backing struct shared by all services.
type service struct {
	client *Client
}

// Client talks to one dbt Cloud host. It is safe for concurrent use.
// Create it with NewClient.
type Client struct {
	common service

	Accounts     *AccountsService
	Artifacts    *ArtifactsService
	Connections  *ConnectionsService
	Environments *EnvironmentsService
	Jobs         *JobsService
	Projects     *ProjectsService
	Runs         *RunsService
	Webhooks     *WebhooksService

	host       string // https://host[:port], no trailing slash
	httpClient *http.Client
	userAgent  string
	timeout    time.Duration
	retry      RetryPolicy
	logger     *slog.Logger
	perMinute  int

	limMu    sync.Mutex
	limiters map[int64]*rate.Limiter

	now       func() time.Time
	sleep     func(context.Context, time.Duration) error
	newMarker func() string
	onRetry   func(RetryEvent)
}

// Option configures a Client; options check their input and NewClient
// returns the first error.
type Option func(*clientConfig) error

type clientConfig struct {
	httpClient *http.Client
	transport  http.RoundTripper
	timeout    time.Duration
	timeoutSet bool
	userAgent  string
	perMinute  int
	retry      RetryPolicy
	logger     *slog.Logger
	now        func() time.Time
	sleep      func(context.Context, time.Duration) error
	onRetry    func(RetryEvent)
}

// WithHTTPClient makes the client send requests through a copy of hc (hc
// itself is never changed). The copy's Timeout is cleared because it would
// cut long artifact downloads; a non-zero hc.Timeout becomes the per-request
// timeout unless WithTimeout is also given.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *clientConfig) error {
		if hc == nil {
			return errors.New("dbtcloud: WithHTTPClient: nil *http.Client")
		}
		cp := *hc
		c.httpClient = &cp
		return nil
	}
}

// WithTransport sets the base RoundTripper (the auth header is added on top
// of it). The default is a clone of http.DefaultTransport, which takes its
// proxy from the environment.
func WithTransport(rt http.RoundTripper) Option {
	return func(c *clientConfig) error {
		if rt == nil {
			return errors.New("dbtcloud: WithTransport: nil http.RoundTripper")
		}
		c.transport = rt
		return nil
	}
}

// WithTimeout sets the per-request timeout (default 30s). For JSON calls it
// covers the whole exchange; for artifact downloads only the wait for the
// response headers, after which reading the body is governed by the
// caller's context. 0 disables the timeout.
func WithTimeout(d time.Duration) Option {
	return func(c *clientConfig) error {
		if d < 0 {
			return fmt.Errorf("dbtcloud: WithTimeout: negative timeout %s", d)
		}
		c.timeout, c.timeoutSet = d, true
		return nil
	}
}

// WithUserAgent sets the User-Agent header. The default is
// "dbtlink/<UserAgentVersion> (+https://github.com/dbtlink/dbtlink)".
func WithUserAgent(ua string) Option {
	return func(c *clientConfig) error {
		if strings.TrimSpace(ua) == "" || strings.ContainsAny(ua, "\r\n") {
			return errors.New("dbtcloud: WithUserAgent: user agent must be non-empty and on one line")
		}
		c.userAgent = ua
		return nil
	}
}

// WithRateLimit sets the client-side request rate per account (default
// 3000 per minute, below dbt Cloud's 5000). All calls of this client for the
// same account id share one limiter.
func WithRateLimit(perMinute int) Option {
	return func(c *clientConfig) error {
		if perMinute <= 0 {
			return fmt.Errorf("dbtcloud: WithRateLimit: rate must be positive, got %d", perMinute)
		}
		c.perMinute = perMinute
		return nil
	}
}

// WithRetryPolicy sets the retry policy; zero fields take their defaults.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *clientConfig) error {
		if p.MaxAttempts < 0 || p.MinBackoff < 0 || p.MaxBackoff < 0 || p.MaxElapsed < 0 {
			return fmt.Errorf("dbtcloud: WithRetryPolicy: negative value in %+v", p)
		}
		def := DefaultRetryPolicy()
		if p.MaxAttempts == 0 {
			p.MaxAttempts = def.MaxAttempts
		}
		if p.MinBackoff == 0 {
			p.MinBackoff = def.MinBackoff
		}
		if p.MaxBackoff == 0 {
			p.MaxBackoff = def.MaxBackoff
		}
		if p.MaxElapsed == 0 {
			p.MaxElapsed = def.MaxElapsed
		}
		if p.MinBackoff > p.MaxBackoff {
			return fmt.Errorf("dbtcloud: WithRetryPolicy: MinBackoff %s exceeds MaxBackoff %s", p.MinBackoff, p.MaxBackoff)
		}
		c.retry = p
		return nil
	}
}

// WithLogger sets the logger for retries and recovery decisions (default:
// discard). Tokens are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *clientConfig) error {
		if l == nil {
			return errors.New("dbtcloud: WithLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}

// RetryEvent describes a failed call that the client is about to try
// again; see WithRetryNotify.
type RetryEvent struct {
	// Call is the method and path, e.g. "GET api/v2/accounts/1/runs/5/".
	Call string
	// Attempt is the number of the attempt that failed, from 1.
	Attempt int
	// MaxAttempts and MaxElapsed are the retry policy's bounds.
	MaxAttempts int
	MaxElapsed  time.Duration
	// Wait is how long the client sleeps before the next attempt.
	Wait time.Duration
	// Err is the failure; it never carries the token.
	Err error
}

// WithRetryNotify calls f before each wait between attempts of a call, so
// that a command line can say it is retrying and why instead of seeming to
// hang. f runs on the calling goroutine and must not block.
func WithRetryNotify(f func(RetryEvent)) Option {
	return func(c *clientConfig) error {
		if f == nil {
			return errors.New("dbtcloud: WithRetryNotify: nil function")
		}
		c.onRetry = f
		return nil
	}
}

// WithClock replaces the clock and the sleep used between retries, before
// a trigger lookup and by the rate limiter; meant for tests. sleep must
// return ctx.Err() when ctx ends first. The per-request timeout still runs
// on real time.
func WithClock(now func() time.Time, sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(c *clientConfig) error {
		if now == nil || sleep == nil {
			return errors.New("dbtcloud: WithClock: nil function")
		}
		c.now, c.sleep = now, sleep
		return nil
	}
}

// NewClient returns a client for host (any form NormalizeHost accepts)
// authenticating with token (a service token or personal access token).
func NewClient(host, token string, opts ...Option) (*Client, error) {
	h, err := NormalizeHost(host)
	if err != nil {
		return nil, err
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, errors.New("dbtcloud: empty API token")
	}
	if strings.ContainsAny(token, " \t\r\n") {
		// Do not echo the token.
		return nil, errors.New("dbtcloud: API token contains whitespace")
	}
	cfg := clientConfig{
		timeout:   DefaultTimeout,
		userAgent: "dbtlink/" + UserAgentVersion + " (+https://github.com/dbtlink/dbtlink)",
		perMinute: DefaultRateLimitPerMinute,
		retry:     DefaultRetryPolicy(),
		logger:    slog.New(slog.DiscardHandler),
		now:       time.Now,
		sleep:     sleepCtx,
	}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("dbtcloud: nil Option")
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	hc := cfg.httpClient
	if hc == nil {
		hc = &http.Client{}
	}
	if hc.Timeout > 0 && !cfg.timeoutSet {
		cfg.timeout = hc.Timeout
	}
	hc.Timeout = 0
	base := cfg.transport
	if base == nil {
		base = hc.Transport
	}
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.Proxy = http.ProxyFromEnvironment
		base = t
	}
	scheme, hostOnly, _ := strings.Cut(h, "://")
	hc.Transport = &authTransport{base: base, token: token, scheme: scheme, host: hostOnly, userAgent: cfg.userAgent}

	c := &Client{
		host:       h,
		httpClient: hc,
		userAgent:  cfg.userAgent,
		timeout:    cfg.timeout,
		retry:      cfg.retry,
		logger:     cfg.logger,
		perMinute:  cfg.perMinute,
		limiters:   map[int64]*rate.Limiter{},
		now:        cfg.now,
		sleep:      cfg.sleep,
		newMarker:  newTriggerMarker,
		onRetry:    cfg.onRetry,
	}
	c.common.client = c
	c.Accounts = (*AccountsService)(&c.common)
	c.Artifacts = (*ArtifactsService)(&c.common)
	c.Connections = (*ConnectionsService)(&c.common)
	c.Environments = (*EnvironmentsService)(&c.common)
	c.Jobs = (*JobsService)(&c.common)
	c.Projects = (*ProjectsService)(&c.common)
	c.Runs = (*RunsService)(&c.common)
	c.Webhooks = (*WebhooksService)(&c.common)
	return c, nil
}

// Host returns the normalised host, "https://host[:port]".
func (c *Client) Host() string { return c.host }

// RunURL returns the dbt Cloud web page of a run.
func (c *Client) RunURL(accountID, projectID, runID int64) string {
	return fmt.Sprintf("%s/deploy/%d/projects/%d/runs/%d/", c.host, accountID, projectID, runID)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// authTransport adds the token and User-Agent to requests for the API host
// only, so that a redirect to another host, or to the same host over plain
// http, never receives the token.
type authTransport struct {
	base      http.RoundTripper
	token     string
	scheme    string
	host      string
	userAgent string
	// bearer sends "Bearer TOKEN" (the Discovery API's documented form) instead of "Token TOKEN".
	bearer bool
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	if r.URL.Scheme == t.scheme && r.URL.Host == t.host {
		scheme := "Token "
		if t.bearer {
			scheme = "Bearer "
		}
		r.Header.Set("Authorization", scheme+t.token)
	} else {
		r.Header.Del("Authorization")
	}
	if r.Header.Get("User-Agent") == "" {
		r.Header.Set("User-Agent", t.userAgent)
	}
	return t.base.RoundTrip(r)
}

// Response wraps the HTTP response of a call. For JSON calls its body has
// already been read and closed.
type Response struct {
	*http.Response

	// Pagination is the envelope's extra.pagination, nil when absent.
	Pagination *Pagination
	// NextOffset is the offset of the next page, or 0 when this was the last
	// one (or the response carried no pagination).
	NextOffset int
}

// Pagination is dbt Cloud's extra.pagination block.
type Pagination struct {
	// Count is the number of rows in this page.
	Count int `json:"count"`
	// TotalCount is the number of rows matching the filters.
	TotalCount int `json:"total_count"`
}

// ListOptions are the paging parameters shared by list calls.
type ListOptions struct {
	// Limit is the page size, at most 100 (dbt Cloud's default is 100).
	Limit int
	// Offset is the number of rows to skip.
	Offset int
}

func (o ListOptions) encode(q url.Values) error {
	if o.Limit < 0 || o.Limit > 100 {
		return fmt.Errorf("dbtcloud: limit must be between 1 and 100, got %d", o.Limit)
	}
	if o.Offset < 0 {
		return fmt.Errorf("dbtcloud: negative offset %d", o.Offset)
	}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.Offset > 0 {
		q.Set("offset", strconv.Itoa(o.Offset))
	}
	return nil
}

type envelope struct {
	Status struct {
		Code             int    `json:"code"`
		UserMessage      string `json:"user_message"`
		DeveloperMessage string `json:"developer_message"`
	} `json:"status"`
	Data  json.RawMessage `json:"data"`
	Extra *struct {
		Pagination *Pagination `json:"pagination"`
	} `json:"extra"`
}

// apiRequest describes one API call.
type apiRequest struct {
	method string
	// path is relative to the host root and already escaped, without a
	// leading slash: "api/v2/accounts/1/runs/".
	path  string
	query url.Values
	body  any
	// account keys the rate limiter; 0 for calls outside an account.
	account int64
	// idempotent calls are retried on transport errors, 429 and 5xx.
	idempotent bool
}

// errTimeout is the cancel cause when the per-request timeout fires.
var errTimeout = errors.New("request timed out")

// timeoutError reports that the per-request timeout fired.
type timeoutError struct{ d time.Duration }

func (e *timeoutError) Error() string   { return fmt.Sprintf("no response within %s", e.d) }
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }

// decodeError marks a 2xx response whose body could not be read or decoded.
type decodeError struct{ err error }

func (e *decodeError) Error() string { return "reading response: " + e.err.Error() }
func (e *decodeError) Unwrap() error { return e.err }

func (c *Client) limiter(account int64) *rate.Limiter {
	c.limMu.Lock()
	defer c.limMu.Unlock()
	l, ok := c.limiters[account]
	if !ok {
		burst := max(1, c.perMinute/60)
		l = rate.NewLimiter(rate.Limit(float64(c.perMinute)/60), burst)
		c.limiters[account] = l
	}
	return l
}

// waitLimiter waits for the account's limiter using the client's clock, so
// tests with a fake clock never sleep for real.
func (c *Client) waitLimiter(ctx context.Context, account int64) error {
	l := c.limiter(account)
	now := c.now()
	r := l.ReserveN(now, 1)
	if !r.OK() {
		return errors.New("dbtcloud: rate limiter cannot grant a request")
	}
	if d := r.DelayFrom(now); d > 0 {
		if err := c.sleep(ctx, d); err != nil {
			r.CancelAt(c.now())
			return err
		}
	}
	return nil
}

// send performs one attempt and returns the 2xx response with its body
// open, or an error. On an *APIError the response (body closed) is returned
// too, so callers can see its headers. release must be called once a 2xx
// body is done with; for streams it is attached to the body's Close.
func (c *Client) send(ctx context.Context, ar *apiRequest, bodyBytes []byte, stream bool) (resp *http.Response, release func(), err error) {
	where := ar.method + " " + ar.path
	if err := c.waitLimiter(ctx, ar.account); err != nil {
		return nil, nil, &preSendError{fmt.Errorf("dbtcloud: %s: waiting for rate limiter: %w", where, err)}
	}
	u := c.host + "/" + ar.path
	if len(ar.query) > 0 {
		u += "?" + ar.query.Encode()
	}
	reqCtx, cancel := context.WithCancelCause(ctx)
	var timer *time.Timer
	if c.timeout > 0 {
		timer = time.AfterFunc(c.timeout, func() { cancel(errTimeout) })
	}
	release = func() {
		if timer != nil {
			timer.Stop()
		}
		cancel(nil)
	}
	var body io.Reader
	if bodyBytes != nil {
		body = bytes.NewReader(bodyBytes)
	}
	req, err := http.NewRequestWithContext(reqCtx, ar.method, u, body)
	if err != nil {
		release()
		return nil, nil, &preSendError{fmt.Errorf("dbtcloud: %s: building request: %w", where, err)}
	}
	if stream {
		req.Header.Set("Accept", "*/*")
	} else {
		req.Header.Set("Accept", "application/json")
	}
	if bodyBytes != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err = c.httpClient.Do(req)
	if err != nil {
		release()
		return nil, nil, c.wrapTransportErr(ctx, reqCtx, where, err)
	}
	if resp.Request == nil {
		// net/http leaves it to the RoundTripper, and one given through
		// WithTransport may not set it.
		resp.Request = req
	}
	if stream && timer != nil && !timer.Stop() {
		// The timeout fired just as the headers arrived: the body is
		// already cut off, so report the timeout rather than a broken read.
		resp.Body.Close()
		release()
		return nil, nil, c.wrapTransportErr(ctx, reqCtx, where, errTimeout)
	}
	// Headers are in: for streams only the caller's context now governs
	// reading the body.
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		apiErr := c.apiError(resp, ar) // reads and closes the body
		release()
		return resp, nil, apiErr
	}
	return resp, release, nil
}

func (c *Client) wrapTransportErr(ctx, reqCtx context.Context, where string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("dbtcloud: %s: %w", where, ctxErr)
	}
	if errors.Is(context.Cause(reqCtx), errTimeout) {
		return fmt.Errorf("dbtcloud: %s: %w", where, &timeoutError{c.timeout})
	}
	// *url.Error repeats the URL, which carries no secret; unwrap it anyway
	// to keep messages short and consistent.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("dbtcloud: %s: %w", where, err)
}

func (c *Client) apiError(resp *http.Response, ar *apiRequest) *APIError {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &APIError{
		StatusCode: resp.StatusCode,
		Method:     ar.method,
		URL:        sanitizeURL(resp.Request.URL),
		Body:       body,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), c.now()),
	}
	for _, h := range []string{"X-Request-Id", "X-Dbt-Request-Id", "X-Amzn-Requestid", "X-Amzn-Trace-Id", "Cf-Ray"} {
		if v := resp.Header.Get(h); v != "" {
			e.RequestID = v
			break
		}
	}
	var env struct {
		Status *struct {
			UserMessage      string `json:"user_message"`
			DeveloperMessage string `json:"developer_message"`
		} `json:"status"`
		Detail *string `json:"detail"`
	}
	if json.Unmarshal(body, &env) == nil && (env.Status != nil || env.Detail != nil) {
		e.Envelope = true
		if env.Status != nil {
			e.UserMessage = env.Status.UserMessage
			e.DeveloperMessage = env.Status.DeveloperMessage
		}
		if e.UserMessage == "" && env.Detail != nil {
			e.UserMessage = *env.Detail
		}
	}
	return e
}

// sanitizeURL drops query parameters that could carry secrets.
func sanitizeURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	cp := *u
	cp.User = nil
	q := cp.Query()
	for k := range q {
		switch strings.ToLower(k) {
		case "token", "access_token", "api_key", "key", "secret", "client_secret":
			q.Set(k, "REDACTED")
		}
	}
	cp.RawQuery = q.Encode()
	return cp.String()
}

// parseRetryAfter understands delay-seconds and HTTP dates; 0 if absent or
// unparsable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// isRetryable reports whether an idempotent call may be repeated after err.
func isRetryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var de *decodeError
	if errors.As(err, &de) {
		// Reading the body failed: a broken connection is worth a retry, a
		// malformed JSON body will not get better.
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		return !errors.As(err, &se) && !errors.As(err, &te)
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.StatusCode == http.StatusTooManyRequests ||
			(ae.StatusCode >= 500 && ae.StatusCode != http.StatusNotImplemented)
	}
	return true // transport error or timeout
}

// backoff returns the wait before retry number n (1-based), honouring a
// Retry-After carried by err, capped by MaxBackoff.
func (c *Client) backoff(n int, err error) time.Duration {
	p := c.retry
	var ae *APIError
	if errors.As(err, &ae) && ae.RetryAfter > 0 {
		return min(ae.RetryAfter, p.MaxBackoff)
	}
	d := p.MinBackoff
	for i := 1; i < n && d < p.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, p.MaxBackoff)
	// Jitter in [d/2, d) spreads out clients that failed together.
	half := d / 2
	if half > 0 {
		d = half + rand.N(half)
	}
	return d
}

// retryLoop runs attempt until it succeeds, fails for good, or the policy
// is exhausted, then returns the last error.
func (c *Client) retryLoop(ctx context.Context, where string, retryable func(error) bool, attempt func() error) error {
	start := c.now()
	for n := 1; ; n++ {
		err := attempt()
		if err == nil || !retryable(err) {
			return err
		}
		// The last error already names the call: the count goes after it.
		if n >= c.retry.MaxAttempts {
			if n == 1 {
				return err // retries are off: nothing was given up
			}
			return fmt.Errorf("%w (giving up after %d attempts)", err, n)
		}
		wait := c.backoff(n, err)
		if elapsed := c.now().Sub(start); elapsed+wait > c.retry.MaxElapsed {
			return fmt.Errorf("%w (giving up after %d attempts in %s)", err, n, elapsed.Round(time.Millisecond))
		}
		c.logger.LogAttrs(ctx, slog.LevelDebug, "dbtcloud: retrying",
			slog.String("call", where), slog.Int("attempt", n), slog.Duration("wait", wait), slog.String("error", err.Error()))
		if c.onRetry != nil {
			c.onRetry(RetryEvent{Call: where, Attempt: n, MaxAttempts: c.retry.MaxAttempts, MaxElapsed: c.retry.MaxElapsed, Wait: wait, Err: err})
		}
		if serr := c.sleep(ctx, wait); serr != nil {
			return fmt.Errorf("dbtcloud: %s: waiting to retry: %w (last error: %v)", where, serr, err)
		}
	}
}

func marshalBody(ar *apiRequest) ([]byte, error) {
	if ar.body == nil {
		return nil, nil
	}
	b, err := json.Marshal(ar.body)
	if err != nil {
		return nil, fmt.Errorf("dbtcloud: %s %s: encoding request body: %w", ar.method, ar.path, err)
	}
	return b, nil
}

// do performs a JSON call, retrying idempotent ones, and decodes the
// envelope's data into v (if v is not nil).
func (c *Client) do(ctx context.Context, ar *apiRequest, v any) (*Response, error) {
	bodyBytes, err := marshalBody(ar)
	if err != nil {
		return nil, err
	}
	var out *Response
	attempt := func() error {
		r, err := c.doOnce(ctx, ar, bodyBytes, v)
		out = r
		return err
	}
	retryable := func(err error) bool { return ar.idempotent && isRetryable(ctx, err) }
	err = c.retryLoop(ctx, ar.method+" "+ar.path, retryable, attempt)
	return out, err
}

func (c *Client) doOnce(ctx context.Context, ar *apiRequest, bodyBytes []byte, v any) (*Response, error) {
	resp, release, err := c.send(ctx, ar, bodyBytes, false)
	if err != nil {
		if resp != nil {
			return &Response{Response: resp}, err
		}
		return nil, err
	}
	defer release()
	defer resp.Body.Close()
	r := &Response{Response: resp}
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		if ctx.Err() != nil {
			return r, fmt.Errorf("dbtcloud: %s %s: %w", ar.method, ar.path, ctx.Err())
		}
		return r, fmt.Errorf("dbtcloud: %s %s: %w", ar.method, ar.path, &decodeError{err})
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return r, nil // 204 and other empty answers
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return r, fmt.Errorf("dbtcloud: %s %s: %w", ar.method, ar.path, &decodeError{err})
	}
	if env.Extra != nil && env.Extra.Pagination != nil {
		p := *env.Extra.Pagination
		r.Pagination = &p
		off, _ := strconv.Atoi(ar.query.Get("offset"))
		if next := off + p.Count; p.Count > 0 && next < p.TotalCount {
			r.NextOffset = next
		}
	}
	if v != nil && len(env.Data) > 0 {
		if err := json.Unmarshal(env.Data, v); err != nil {
			return r, fmt.Errorf("dbtcloud: %s %s: %w", ar.method, ar.path, &decodeError{err})
		}
	}
	return r, nil
}

// stream performs a GET whose body is handed to the caller unread. It is
// retried only until a 2xx response arrives.
func (c *Client) stream(ctx context.Context, ar *apiRequest) (io.ReadCloser, *Response, error) {
	var body io.ReadCloser
	var out *Response
	attempt := func() error {
		resp, release, err := c.send(ctx, ar, nil, true)
		if err != nil {
			if resp != nil {
				out = &Response{Response: resp}
			}
			return err
		}
		out = &Response{Response: resp}
		body = &releaseOnClose{ReadCloser: resp.Body, release: release}
		return nil
	}
	retryable := func(err error) bool { return isRetryable(ctx, err) }
	if err := c.retryLoop(ctx, ar.method+" "+ar.path, retryable, attempt); err != nil {
		return nil, out, err
	}
	return body, out, nil
}

type releaseOnClose struct {
	io.ReadCloser
	release func()
	once    sync.Once
}

func (r *releaseOnClose) Close() error {
	err := r.ReadCloser.Close()
	r.once.Do(r.release)
	return err
}

// accountPath builds "api/{version}/accounts/{a}/" + the formatted rest.
func accountPath(version string, account int64, format string, args ...any) string {
	return fmt.Sprintf("api/%s/accounts/%d/", version, account) + fmt.Sprintf(format, args...)
}

func checkID(what string, id int64) error {
	if id <= 0 {
		return fmt.Errorf("dbtcloud: invalid %s id %d", what, id)
	}
	return nil
}
