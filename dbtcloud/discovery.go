package dbtcloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/time/rate"
)

// DiscoveryClient queries dbt Cloud's Discovery (GraphQL) API, which lives on
// its own host (see DiscoveryURL). It shares the Admin API client's token,
// transport, timeout, retry policy, rate limit and clock, and returns the
// same errors: an HTTP failure is an *APIError (errors.Is matches
// ErrUnauthorized, ErrForbidden, ErrRateLimited, ...), and an answer whose
// "errors" list is not empty is a *GraphQLError. Queries are read-only, so
// every call is retried like an idempotent Admin API call.
type DiscoveryClient struct {
	c        *Client
	endpoint string // full URL, e.g. https://metadata.cloud.getdbt.com/graphql
	path     string // its path without the leading slash, e.g. "graphql"
}

// DiscoveryOption configures Client.Discovery.
type DiscoveryOption func(*discoveryConfig) error

type discoveryConfig struct {
	endpoint   string
	hostPrefix string
}

// WithDiscoveryEndpoint sets the GraphQL endpoint instead of deriving it from
// the Admin API host: a full URL ("https://metadata.cloud.getdbt.com/graphql")
// or a host, to which /graphql is added. Plain http is accepted only for
// loopback hosts, as for NewClient.
func WithDiscoveryEndpoint(endpoint string) DiscoveryOption {
	return func(c *discoveryConfig) error {
		if strings.TrimSpace(endpoint) == "" {
			return errors.New("dbtcloud: empty Discovery endpoint")
		}
		c.endpoint = strings.TrimSpace(endpoint)
		return nil
	}
}

// WithHostPrefix names the account's host_prefix (as GET /api/v2/accounts/{id}/
// reports it, e.g. "ab123"), for an access URL given without it
// ("us1.dbt.com"): the endpoint becomes https://ab123.metadata.us1.dbt.com/graphql.
func WithHostPrefix(prefix string) DiscoveryOption {
	return func(c *discoveryConfig) error {
		p := strings.ToLower(strings.TrimSpace(prefix))
		if err := checkHostname(p); err != nil || p == "" || strings.Contains(p, ".") || net.ParseIP(p) != nil {
			return fmt.Errorf("dbtcloud: host prefix %q must be one DNS label such as \"ab123\"", prefix)
		}
		c.hostPrefix = p
		return nil
	}
}

// DiscoveryURLFor is DiscoveryURL for an account whose host_prefix is known:
// a cell region host without the prefix ("us1.dbt.com") gets it first.
func DiscoveryURLFor(accessURL, hostPrefix string) string {
	if hostPrefix == "" {
		return DiscoveryURL(accessURL)
	}
	name := hostName(accessURL)
	if name == "" || isLoopback(name) || multiTenantHosts[name] || strings.HasPrefix(name, hostPrefix+".") {
		return DiscoveryURL(accessURL)
	}
	norm, err := NormalizeHost(accessURL)
	if err != nil {
		return DiscoveryURL(accessURL)
	}
	scheme, rest, _ := strings.Cut(norm, "://")
	return DiscoveryURL(scheme + "://" + hostPrefix + "." + rest)
}

// Discovery returns a client for the Discovery API of the same account and
// token. The endpoint is derived from the client's host (DiscoveryURL, or
// DiscoveryURLFor with WithHostPrefix) unless WithDiscoveryEndpoint is given.
// A local emulator serves it on its own host: http://127.0.0.1:PORT/graphql.
func (c *Client) Discovery(opts ...DiscoveryOption) (*DiscoveryClient, error) {
	var cfg discoveryConfig
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("dbtcloud: nil DiscoveryOption")
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	endpoint := cfg.endpoint
	if endpoint == "" {
		endpoint = DiscoveryURLFor(c.host, cfg.hostPrefix)
	} else if !strings.Contains(strings.TrimPrefix(strings.TrimPrefix(endpoint, "https://"), "http://"), "/") {
		endpoint = strings.TrimSuffix(endpoint, "/") + "/graphql"
	}
	if !strings.Contains(endpoint, "://") {
		endpoint = "https://" + endpoint
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("dbtcloud: Discovery endpoint %q: expected a URL such as https://metadata.cloud.getdbt.com/graphql", endpoint)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/graphql"
	}
	origin, err := NormalizeHost(u.Scheme + "://" + u.Host)
	if err != nil {
		return nil, fmt.Errorf("dbtcloud: Discovery endpoint: %w", err)
	}
	at, ok := c.httpClient.Transport.(*authTransport)
	if !ok {
		return nil, errors.New("dbtcloud: the client was not made by NewClient")
	}
	scheme, hostOnly, _ := strings.Cut(origin, "://")
	// A Client of its own for the Discovery host, so that send, the retry loop and the rate limiter serve both
	// APIs alike; the token goes to that host only, as Bearer, the scheme dbt's Discovery docs show.
	hc := &http.Client{Transport: &authTransport{base: at.base, token: at.token, scheme: scheme, host: hostOnly,
		userAgent: at.userAgent, bearer: true}}
	dc := &Client{
		host:       origin,
		httpClient: hc,
		userAgent:  c.userAgent,
		timeout:    c.timeout,
		retry:      c.retry,
		logger:     c.logger,
		perMinute:  c.perMinute,
		limiters:   map[int64]*rate.Limiter{},
		now:        c.now,
		sleep:      c.sleep,
		newMarker:  c.newMarker,
	}
	dc.common.client = dc
	return &DiscoveryClient{c: dc, endpoint: origin + u.EscapedPath(), path: strings.TrimPrefix(u.EscapedPath(), "/")}, nil
}

// Endpoint returns the GraphQL URL queries are sent to.
func (d *DiscoveryClient) Endpoint() string { return d.endpoint }

// GraphQLError is an answer whose "errors" list is not empty. Data holds
// what the server answered next to the errors (often null).
type GraphQLError struct {
	// Operation names the query ("Models", "JobRun").
	Operation string
	Errors    []GraphQLErrorEntry
	Data      json.RawMessage
	// HTTP is the *APIError when the answer was not a 2xx (a document the
	// server could not run is a 400), nil otherwise.
	HTTP *APIError
}

// GraphQLErrorEntry is one error as dbt Cloud writes it.
type GraphQLErrorEntry struct {
	Message   string `json:"message"`
	Locations []struct {
		Line   int `json:"line"`
		Column int `json:"column"`
	} `json:"locations,omitempty"`
	Path       []any `json:"path,omitempty"`
	Extensions struct {
		Code string `json:"code"`
	} `json:"extensions"`
}

// Error implements error.
func (e *GraphQLError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "dbtcloud: Discovery query %s:", e.Operation)
	for i, x := range e.Errors {
		if i > 0 {
			b.WriteString(";")
		}
		b.WriteString(" " + x.Message)
		if x.Extensions.Code != "" {
			b.WriteString(" [" + x.Extensions.Code + "]")
		}
	}
	return b.String()
}

// Unwrap gives the HTTP error, so errors.Is(err, ErrUnauthorized) works.
func (e *GraphQLError) Unwrap() error {
	if e.HTTP == nil {
		return nil
	}
	return e.HTTP
}

// Code returns the first error's extensions.code ("COMPLEXITY_EXCEEDED",
// "GRAPHQL_VALIDATION_FAILED", "NOT_FOUND", ...).
func (e *GraphQLError) Code() string {
	if len(e.Errors) == 0 {
		return ""
	}
	return e.Errors[0].Extensions.Code
}

// HasCode reports whether any error carries code.
func (e *GraphQLError) HasCode(code string) bool {
	for _, x := range e.Errors {
		if x.Extensions.Code == code {
			return true
		}
	}
	return false
}

type gqlBody struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName,omitempty"`
	Variables     map[string]any `json:"variables,omitempty"`
}

// Query sends one GraphQL document and decodes its data into out (if not
// nil). op names the operation in errors and is sent as operationName when
// the document names one.
func (d *DiscoveryClient) Query(ctx context.Context, op, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(gqlBody{Query: query, OperationName: op, Variables: vars})
	if err != nil {
		return fmt.Errorf("dbtcloud: Discovery query %s: encoding variables: %w", op, err)
	}
	ar := &apiRequest{method: http.MethodPost, path: d.path, idempotent: true}
	where := "Discovery query " + op
	attempt := func() error { return d.once(ctx, ar, op, body, out) }
	return d.c.retryLoop(ctx, where, func(err error) bool {
		var ge *GraphQLError
		if errors.As(err, &ge) && ge.HTTP == nil {
			return false // the server ran the query and refused it: asking again gives the same answer
		}
		return isRetryable(ctx, err)
	}, attempt)
}

func (d *DiscoveryClient) once(ctx context.Context, ar *apiRequest, op string, body []byte, out any) error {
	resp, release, err := d.c.send(ctx, ar, body, false)
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) {
			var env struct {
				Errors []GraphQLErrorEntry `json:"errors"`
				Data   json.RawMessage     `json:"data"`
			}
			if json.Unmarshal(ae.Body, &env) == nil && len(env.Errors) > 0 {
				if ae.UserMessage == "" {
					ae.UserMessage = env.Errors[0].Message
				}
				return &GraphQLError{Operation: op, Errors: env.Errors, Data: env.Data, HTTP: ae}
			}
		}
		return err
	}
	defer release()
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("dbtcloud: Discovery query %s: %w", op, ctx.Err())
		}
		return fmt.Errorf("dbtcloud: Discovery query %s: %w", op, &decodeError{err})
	}
	var env struct {
		Data   json.RawMessage     `json:"data"`
		Errors []GraphQLErrorEntry `json:"errors"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(raw), &env); err != nil {
		return fmt.Errorf("dbtcloud: Discovery query %s: %w", op, &decodeError{err})
	}
	if len(env.Errors) > 0 {
		return &GraphQLError{Operation: op, Errors: env.Errors, Data: env.Data}
	}
	if out != nil && len(env.Data) > 0 && string(env.Data) != "null" {
		if err := json.Unmarshal(env.Data, out); err != nil {
			return fmt.Errorf("dbtcloud: Discovery query %s: %w", op, &decodeError{err})
		}
	}
	return nil
}
