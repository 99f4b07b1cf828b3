package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/internal/connection"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/tracker"
)

// Backend is the engine behind the API; the tracker implements it. The
// server only translates HTTP to these calls and their errors back to HTTP:
//
//   - an error matching store.ErrNotFound answers 404, store.ErrExists and
//     tracker.ErrConflict 409, a *tracker.InputError 400 (its message is
//     shown as is, so it must say what to fix);
//   - a *dbtcloud.APIError answers 502 naming dbt Cloud's status and user
//     message, or 404 when dbt Cloud answered 404;
//   - context.DeadlineExceeded answers 504;
//   - anything else answers 500 with a generic message; the error is only
//     logged.
//
// Messages of the first three kinds reach the client, so they must not
// carry DSNs, tokens or secrets.
type Backend interface {
	// Ready reports whether the store is reachable and the job queue is
	// running. Its error message is shown to unauthenticated callers of
	// /readyz: say what is wrong in words, never with a DSN.
	Ready(ctx context.Context) error

	ListConnections(ctx context.Context) ([]store.Connection, error)
	// CreateConnection validates and stores a connection, sealing its
	// token. Validation failures are a *tracker.InputError; a taken name
	// matches store.ErrExists.
	CreateConnection(ctx context.Context, in ConnectionInput) (store.Connection, error)
	TestConnection(ctx context.Context, name string) (connection.Report, error)
	DeleteConnection(ctx context.Context, name string) error

	// ListJobs returns every job matching opts (all pages).
	ListJobs(ctx context.Context, conn string, opts *dbtcloud.JobListOptions) ([]dbtcloud.Job, error)
	GetJob(ctx context.Context, conn string, id int64) (*dbtcloud.Job, error)
	// Names returns the names of the connection's projects and
	// environments by id (cached), so that job answers can carry them;
	// the ids given are those the answer needs. An error is logged, and
	// the names returned with it (older ones, or none) are used.
	Names(ctx context.Context, conn string, projectIDs, environmentIDs []int64) (tracker.Names, error)

	CreateRun(ctx context.Context, req tracker.RunRequest) (store.Run, error)
	GetRun(ctx context.Context, id int64) (store.Run, error)
	// WaitRun returns as soon as the run is terminal, or after d with its
	// current state. It returns early with ctx's error if ctx ends.
	WaitRun(ctx context.Context, id int64, d time.Duration) (store.Run, error)
	// ListRuns returns runs newest first; the server asks for one more than
	// it shows to learn whether another page exists.
	ListRuns(ctx context.Context, f store.RunFilter) ([]store.Run, error)
	// CancelRun asks dbt Cloud to cancel the run; for a run that has ended
	// it returns an error matching tracker.ErrConflict.
	CancelRun(ctx context.Context, id int64) (store.Run, error)

	ListArtifacts(ctx context.Context, runID int64) ([]store.Artifact, error)
	// OpenArtifact returns the artifact and its content, which the server
	// closes. The path has been checked: relative, no "..", no backslash.
	OpenArtifact(ctx context.Context, runID int64, path string) (store.Artifact, io.ReadCloser, error)

	// WebhookSecret returns the HMAC secret of the connection's webhook
	// subscription, or an error matching store.ErrNotFound when the
	// connection is unknown or has no subscription.
	WebhookSecret(ctx context.Context, conn string) (string, error)
	// ApplyWebhook records a verified delivery and applies it to the
	// tracked run it concerns, if any. raw is the body as received.
	ApplyWebhook(ctx context.Context, conn string, ev *dbtcloud.WebhookEvent, raw []byte) (WebhookOutcome, error)

	// APITokenByHash finds an API token by the SHA-256 of its secret
	// (see HashToken), or returns an error matching store.ErrNotFound.
	APITokenByHash(ctx context.Context, hash []byte) (store.APIToken, error)
	// TouchAPIToken records that the token was used at at. The server
	// calls it at most once a minute per token.
	TouchAPIToken(ctx context.Context, id int64, at time.Time) error
}

// ConnectionInput is the body of POST /api/v1/connections. Token is
// write-only: no answer of the API ever contains it.
type ConnectionInput struct {
	Name      string `json:"name"`
	Host      string `json:"host"`
	AccountID int64  `json:"account_id"`
	Token     string `json:"token"`
	Default   bool   `json:"default"`
}

// String describes the input without its token, so that printing it by
// mistake leaks nothing.
func (in ConnectionInput) String() string {
	return fmt.Sprintf("connection %q (host %q, account %d, default %t, token %s)",
		in.Name, in.Host, in.AccountID, in.Default, redacted(in.Token))
}

// GoString keeps %#v from printing the token.
func (in ConnectionInput) GoString() string {
	return fmt.Sprintf("server.ConnectionInput{Name:%q, Host:%q, AccountID:%d, Token:%q, Default:%t}",
		in.Name, in.Host, in.AccountID, redacted(in.Token), in.Default)
}

// LogValue implements slog.LogValuer: the token is never logged.
func (in ConnectionInput) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", in.Name),
		slog.String("host", in.Host),
		slog.Int64("account_id", in.AccountID),
		slog.Bool("default", in.Default),
		slog.String("token", redacted(in.Token)),
	)
}

func redacted(secret string) string {
	if secret == "" {
		return "(none)"
	}
	return "(redacted)"
}

// WebhookOutcome says what ApplyWebhook did with a delivery.
type WebhookOutcome string

// The outcomes of a webhook delivery.
const (
	// WebhookApplied: the event settled or updated a tracked run.
	WebhookApplied WebhookOutcome = "applied"
	// WebhookRecorded: no tracked run matches yet; the event is kept so
	// the run can use it once it is known.
	WebhookRecorded WebhookOutcome = "recorded"
	// WebhookDuplicate: an event with this id was received before.
	WebhookDuplicate WebhookOutcome = "duplicate"
)
