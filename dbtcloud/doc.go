// Package dbtcloud is a client for the dbt Cloud Administrative API (v2 and
// v3), shaped like google/go-github: one Client with a service per API area
// (Accounts, Artifacts, Environments, Jobs, Projects, Runs, Webhooks), every
// method taking ctx first and the account id explicitly, and returning
// (value, *Response, error).
//
//	c, err := dbtcloud.NewClient("ab123.us1.dbt.com", token)
//	run, _, err := c.Runs.Trigger(ctx, accountID, jobID, &dbtcloud.TriggerRunRequest{Cause: "nightly"})
//	for job, err := range c.Jobs.ListIter(ctx, accountID, &dbtcloud.JobListOptions{ProjectID: 7}) { ... }
//
// # Hosts
//
// NewClient accepts the host in any form users paste (see NormalizeHost);
// DiscoveryURL derives the GraphQL endpoint, which differs between
// multi-tenant hosts and cell hosts.
//
// # Errors
//
// Every non-2xx answer is an *APIError carrying dbt Cloud's user_message,
// the request id and the start of the body; errors.Is matches it against
// ErrUnauthorized, ErrForbidden, ErrNotFound, ErrRateLimited and ErrServer.
// A cancelled context yields an error wrapping ctx.Err(). The token travels
// only in the Authorization header, is sent only to the configured host
// (not to redirect targets), and never appears in errors or logs.
//
// # Retries
//
// Idempotent calls (GETs, PUT, DELETE, and Runs.Cancel, which is safe to
// repeat) are retried on transport errors, timeouts, 429 and 5xx, with
// jittered exponential backoff; a Retry-After header (seconds or HTTP
// date) is honoured but capped by RetryPolicy.MaxBackoff, and no wait is
// started that would end after RetryPolicy.MaxElapsed; the last error is
// then returned. Artifact downloads are retried only until the body is
// handed to the caller.
//
// Retries are hand-written rather than built on hashicorp/go-retryablehttp.
// Its CheckRetry/Backoff hooks cover the idempotent case, but it buffers
// request bodies, sleeps on the real clock (tests could not use a fake
// one), decides per HTTP request rather than per API operation, and has
// no place for the trigger recovery below, which must run an API lookup
// between attempts. The loop here is small and serves both.
//
// # Triggering safely
//
// POST .../jobs/{id}/run/ is not idempotent: repeating it after a lost
// answer would start a second run. Runs.Trigger therefore appends a unique
// marker " [dbtlink:<16 hex>]" to the run's cause (truncating the cause to
// stay within 255 characters; ExtractTriggerMarker reads it back). When
// the outcome is unknown (timeout, reset or closed connection, 5xx, an
// unreadable 2xx), it lists the job's newest runs with their triggers and
// returns the run bearing the marker. It posts again (same marker, within
// the retry policy) only if that lookup succeeded and proved no such run
// exists. A 429 is retried after Retry-After (the server refused the
// request); other 4xx answers are final; a failed lookup gives an error
// wrapping ErrOutcomeUnknown. A small race remains: a request the server
// is still processing after the lookup could yet create a run, so the
// client waits RetryPolicy.MinBackoff before looking.
//
// Jobs.Rerun, Runs.Retry, Webhooks.Create and the Create and Delete methods
// of Jobs, Projects and Environments have no marker, so they are
// never repeated after an unknown outcome; their error wraps
// ErrOutcomeUnknown and the caller decides.
//
// # Rate limiting
//
// dbt Cloud allows 5,000 Admin API requests per minute per account and then
// imposes a cooldown. The client paces itself below that with a token
// bucket per account id (default 3,000 per minute, WithRateLimit), shared
// by all calls of one Client.
//
// # Discovery API
//
// Client.Discovery returns a DiscoveryClient for the GraphQL API of the same
// account: its endpoint is DiscoveryURL of the host (or DiscoveryURLFor with
// the account's host_prefix, WithHostPrefix), unless WithDiscoveryEndpoint
// sets it. It shares the token (sent as Bearer, to that host only), the
// transport, timeout, retry policy, rate limit and clock. List walks one
// relay connection of an environment (AppliedModels, AppliedSources, ...,
// DefinitionMetrics) page by page; Environment, Lineage, JobRun and
// ModelHistoricalRuns are single queries; Query sends any document. An
// answer with errors is a *GraphQLError (Code gives dbt's extensions.code,
// such as COMPLEXITY_EXCEEDED); one that came with a non-2xx status also
// unwraps to the *APIError, so errors.Is(err, ErrForbidden) works. Network
// failures, 429 and 5xx are retried as for the Admin API; a query the
// server ran and refused is not, since it would be refused again. The
// GraphQL documents are written by hand: the client asks for fixed fields,
// which needs no GraphQL library.
//
// # Decoding
//
// Responses are decoded with encoding/json (v1 semantics): unknown fields
// are ignored and null becomes the zero value, which real dbt Cloud
// responses need (many fields the spec calls non-nullable arrive as null).
// Pointers are used only where null and zero differ. Timestamp accepts all
// of dbt Cloud's time formats.
package dbtcloud
