package cli

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
	"strconv"
	"strings"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
)

// This file is a small client of the HTTP API of `dbtlink serve` (see
// internal/server/openapi.json), for the commands that take --server.

// Environment variables of the server client. The token is read from the
// environment only: a flag would put it in shell history and the process
// list, which is why connection tokens are never flags either.
const (
	EnvServer      = "DBTLINK_SERVER"
	EnvServerToken = "DBTLINK_SERVER_TOKEN"
)

// serverClient calls one dbtlink server. Its token is sent in the
// Authorization header and never appears in an error or in output.
type serverClient struct {
	base  *url.URL
	token string
	http  *http.Client
	// retryFor bounds the retries of failed calls (network errors, 5xx);
	// 0 means a single attempt.
	retryFor time.Duration
	// sleep waits between retries; tests may replace it.
	sleep func(context.Context, time.Duration) error
}

// serverError is an error answer of the server: its HTTP status and the
// {"error": {"code", "message"}} body.
type serverError struct {
	Method, Path string
	Status       int
	Code         string
	Message      string
}

func (e *serverError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	code := e.Code
	if code == "" {
		code = strconv.Itoa(e.Status)
	}
	return fmt.Sprintf("dbtlink server: %s %s: %s (%d %s)", e.Method, e.Path, msg, e.Status, code)
}

// serverUnreachableError is a call that got no HTTP answer.
type serverUnreachableError struct {
	Method, Path string
	Err          error
}

func (e *serverUnreachableError) Error() string {
	return fmt.Sprintf("dbtlink server: %s %s: %v", e.Method, e.Path, e.Err)
}

func (e *serverUnreachableError) Unwrap() error { return e.Err }

// classifyServerClientError maps the server client's errors: 401/403 are
// auth failures (5), 404 not found (6), other 4xx a refused request (2),
// 5xx (502 being dbt Cloud failing behind the server) and no answer at
// all are upstream failures (7).
func classifyServerClientError(err error) (int, bool) {
	var se *serverError
	if errors.As(err, &se) {
		switch {
		case se.Status == http.StatusUnauthorized, se.Status == http.StatusForbidden:
			return ExitAuth, true
		case se.Status == http.StatusNotFound:
			return ExitNotFound, true
		case se.Status >= 500:
			return ExitUpstream, true
		}
		return ExitUsage, true
	}
	var ue *serverUnreachableError
	if errors.As(err, &ue) {
		if errors.Is(err, context.Canceled) {
			return ExitInterrupted, true
		}
		return ExitUpstream, true
	}
	return 0, false
}

// newServerClient checks rawURL and returns a client for it.
func newServerClient(rawURL, token string, hc *http.Client, retryFor time.Duration) (*serverClient, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageError("--server %q is not a server URL; give one like http://127.0.0.1:8765 (what `dbtlink serve` prints as export DBTLINK_SERVER=...)", redactURL(rawURL))
	}
	if u.User != nil {
		return nil, usageError("--server must not carry credentials in the URL; put the API token in $%s", EnvServerToken)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	if hc == nil {
		hc = &http.Client{}
	}
	return &serverClient{base: u, token: token, http: hc, retryFor: retryFor, sleep: sleepCtx}, nil
}

// redactURL drops the userinfo of a URL given by the user, for messages.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		return u.Redacted()
	}
	return raw
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// URL is the server's base URL, for messages.
func (c *serverClient) URL() string { return c.base.String() }

// do sends one request and decodes a JSON answer into out (when not nil).
// Calls that are safe to repeat are retried on network errors and 5xx
// answers for c.retryFor; others only when the connection could not be
// made, so that a POST that may have arrived is never sent twice.
func (c *serverClient) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	resp, err := c.send(ctx, method, path, query, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return &serverUnreachableError{Method: method, Path: path, Err: fmt.Errorf("read the answer: %w", err)}
	}
	return nil
}

// send returns a 2xx response, whose body the caller closes, or an error.
func (c *serverClient) send(ctx context.Context, method, path string, query url.Values, body any) (*http.Response, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf("encode the request to %s: %w", path, err)
		}
	}
	idempotent := method == http.MethodGet || method == http.MethodDelete
	start := time.Now()
	backoff := 250 * time.Millisecond
	for {
		resp, err := c.once(ctx, method, path, query, payload)
		retry := false
		switch {
		case err == nil:
			return resp, nil
		case ctx.Err() != nil:
			return nil, &serverUnreachableError{Method: method, Path: path, Err: ctx.Err()}
		}
		var se *serverError
		var ue *serverUnreachableError
		switch {
		case errors.As(err, &se):
			// 502 is dbt Cloud failing behind the server: retried only when
			// the call is safe to repeat, like every 5xx.
			retry = idempotent && (se.Status >= 500 || se.Status == http.StatusTooManyRequests)
		case errors.As(err, &ue):
			retry = idempotent || isDialError(err)
		}
		if !retry || time.Since(start)+backoff > c.retryFor {
			return nil, err
		}
		if serr := c.sleep(ctx, backoff); serr != nil {
			return nil, &serverUnreachableError{Method: method, Path: path, Err: serr}
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (c *serverClient) once(ctx context.Context, method, path string, query url.Values, payload []byte) (*http.Response, error) {
	u := *c.base
	u.Path = c.base.Path + path
	u.RawQuery = query.Encode()
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("build the request to %s: %w", path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "dbtlink/"+Version)
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// *url.Error names the URL (without any password) and the cause;
		// the header with the token is never part of it.
		return nil, &serverUnreachableError{Method: method, Path: path, Err: errors.Unwrap(err)}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	se := &serverError{Method: method, Path: path, Status: resp.StatusCode}
	var eb struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(b, &eb) == nil && eb.Error.Code != "" {
		se.Code, se.Message = eb.Error.Code, eb.Error.Message
	} else if s := strings.TrimSpace(string(b)); s != "" && len(s) < 300 && !strings.Contains(s, c.token) {
		se.Message = s
	}
	if se.Status == http.StatusUnauthorized {
		se.Message += fmt.Sprintf(" (check $%s: create a token with `dbtlink token create --name NAME --scope write` on the server's machine)", EnvServerToken)
	}
	return nil, se
}

// isDialError says the connection could not be made, so the request was
// never sent.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// ---- runs ----

// serverRunRequest is the body of POST /api/v1/runs.
type serverRunRequest struct {
	Connection       string                     `json:"connection,omitempty"`
	JobID            int64                      `json:"job_id,omitempty"`
	Project          string                     `json:"project,omitempty"`
	Environment      string                     `json:"environment,omitempty"`
	Job              string                     `json:"job,omitempty"`
	Trigger          dbtcloud.TriggerRunRequest `json:"trigger"`
	Deadline         string                     `json:"deadline,omitempty"`
	CancelAtDeadline bool                       `json:"cancel_at_deadline,omitempty"`
	MaxRetries       int                        `json:"max_retries,omitempty"`
	Artifacts        []string                   `json:"artifacts,omitempty"`
}

// serverRun is a run as the server shows it.
type serverRun struct {
	ID               int64               `json:"id"`
	Connection       string              `json:"connection"`
	AccountID        int64               `json:"account_id"`
	JobID            int64               `json:"job_id"`
	State            string              `json:"state"`
	DbtRunID         *int64              `json:"dbt_run_id"`
	DbtStatus        int                 `json:"dbt_status"`
	StatusMessage    string              `json:"status_message"`
	Href             string              `json:"href"`
	Cause            string              `json:"cause"`
	Triggered        bool                `json:"triggered"`
	CreatedAt        time.Time           `json:"created_at"`
	UpdatedAt        time.Time           `json:"updated_at"`
	DbtCreatedAt     *time.Time          `json:"dbt_created_at"`
	StartedAt        *time.Time          `json:"started_at"`
	FinishedAt       *time.Time          `json:"finished_at"`
	SettledAt        *time.Time          `json:"settled_at"`
	DeadlineAt       *time.Time          `json:"deadline_at"`
	CancelAtDeadline bool                `json:"cancel_at_deadline"`
	MaxRetries       int                 `json:"max_retries"`
	Retries          int                 `json:"retries"`
	Steps            []serverRunStep     `json:"steps"`
	FailingNodes     []serverFailingNode `json:"failing_nodes"`
	Attempts         []int64             `json:"attempts"`
	ArtifactsState   string              `json:"artifacts_state"`
	Done             bool                `json:"done"`
	Error            string              `json:"error"`
	// ErrorCode says why a failed run failed (the server's error_code).
	ErrorCode string `json:"error_code"`
}

type serverRunStep struct {
	Index      int        `json:"index"`
	Name       string     `json:"name"`
	Status     string     `json:"status"`
	Duration   string     `json:"duration,omitempty"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

type serverFailingNode struct {
	UniqueID string `json:"unique_id"`
	Status   string `json:"status"`
	Message  string `json:"message,omitempty"`
}

// The server's run states.
const (
	srvPending   = "pending"
	srvSuccess   = "success"
	srvError     = "error"
	srvCancelled = "cancelled"
	srvFailed    = "failed"
)

// serverStateWord is a server state in the words the local commands use,
// dbt Cloud's own (Queued, Success, ...): the same command prints the same
// run the same way with or without --server. The server's own states are
// worded alike (Pending: not yet triggered; Failed: the trigger was
// refused). --json keeps the server's values.
func serverStateWord(s string) string {
	switch s {
	case "queued":
		return dbtcloud.RunStatusQueued.String()
	case "starting":
		return dbtcloud.RunStatusStarting.String()
	case "running":
		return dbtcloud.RunStatusRunning.String()
	case srvSuccess:
		return dbtcloud.RunStatusSuccess.String()
	case srvError:
		return dbtcloud.RunStatusError.String()
	case srvCancelled:
		return dbtcloud.RunStatusCancelled.String()
	case srvPending:
		return "Pending"
	case srvFailed:
		return "Failed"
	}
	return s
}

// jobName is the name of job id of connection conn on the server, or ""
// when it cannot be read: names make output readable, and failing to get
// one is not worth failing the command.
func (c *serverClient) jobName(ctx context.Context, conn string, id int64) string {
	if conn == "" || id <= 0 {
		return ""
	}
	j, err := c.GetJob(ctx, conn, id)
	if err != nil {
		return ""
	}
	return j.Name
}

func serverStateTerminal(s string) bool {
	switch s {
	case srvSuccess, srvError, srvCancelled, srvFailed:
		return true
	}
	return false
}

// settled says the run has ended and the server is done with it (the
// server's "done": rerun policy applied, failing nodes and artifacts
// handled).
func (r *serverRun) settled() bool { return r.Done }

// dbtID is the dbt Cloud run id, or 0 before the trigger.
func (r *serverRun) dbtID() int64 {
	if r.DbtRunID == nil {
		return 0
	}
	return *r.DbtRunID
}

// label names the run in messages: its dbt Cloud id once known.
func (r *serverRun) label() string {
	if id := r.dbtID(); id != 0 {
		return fmt.Sprintf("run %d", id)
	}
	return fmt.Sprintf("server run %d", r.ID)
}

// serverRef is " (server run N)" once label names the dbt Cloud run, for
// messages that need both ids.
func (r *serverRun) serverRef() string {
	if r.dbtID() == 0 {
		return ""
	}
	return fmt.Sprintf(" (server run %d)", r.ID)
}

func (c *serverClient) CreateRun(ctx context.Context, req serverRunRequest) (*serverRun, error) {
	var out serverRun
	if err := c.do(ctx, http.MethodPost, "/api/v1/runs", nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetRun reads a run; a positive wait long-polls until it ends (the server
// caps it at 60s).
func (c *serverClient) GetRun(ctx context.Context, id int64, wait time.Duration) (*serverRun, error) {
	var q url.Values
	if wait > 0 {
		q = url.Values{"wait": {wait.Round(time.Millisecond).String()}}
	}
	var out serverRun
	if err := c.do(ctx, http.MethodGet, fmt.Sprintf("/api/v1/runs/%d", id), q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (c *serverClient) CancelRun(ctx context.Context, id int64) (*serverRun, error) {
	var out serverRun
	if err := c.do(ctx, http.MethodPost, fmt.Sprintf("/api/v1/runs/%d/cancel", id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// OpenArtifact streams one stored artifact of a run.
func (c *serverClient) OpenArtifact(ctx context.Context, id int64, path string) (io.ReadCloser, error) {
	p := fmt.Sprintf("/api/v1/runs/%d/artifacts/", id)
	for i, seg := range strings.Split(path, "/") {
		if i > 0 {
			p += "/"
		}
		p += url.PathEscape(seg)
	}
	resp, err := c.send(ctx, http.MethodGet, p, nil, nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// ---- connections and jobs ----

type serverConnection struct {
	Name      string    `json:"name"`
	Host      string    `json:"host"`
	AccountID int64     `json:"account_id"`
	Default   bool      `json:"default"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// serverConnectionInput is the body of POST /api/v1/connections. It has no
// String method on purpose: it is never printed.
type serverConnectionInput struct {
	Name      string `json:"name"`
	Host      string `json:"host"`
	AccountID int64  `json:"account_id"`
	Token     string `json:"token"`
	Default   bool   `json:"default"`
}

type serverReport struct {
	OK        bool   `json:"ok"`
	Host      string `json:"host"`
	AccountID int64  `json:"account_id"`
	Checks    []struct {
		Name   string `json:"name"`
		Status string `json:"status"`
		Detail string `json:"detail"`
	} `json:"checks"`
	Accounts []struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"accounts"`
}

func (c *serverClient) ListConnections(ctx context.Context) ([]serverConnection, error) {
	var out struct {
		Connections []serverConnection `json:"connections"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v1/connections", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Connections, nil
}

func (c *serverClient) CreateConnection(ctx context.Context, in serverConnectionInput) (*serverConnection, error) {
	var out serverConnection
	if err := c.do(ctx, http.MethodPost, "/api/v1/connections", nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (c *serverClient) DeleteConnection(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/api/v1/connections/"+url.PathEscape(name), nil, nil, nil)
}

func (c *serverClient) TestConnection(ctx context.Context, name string) (*serverReport, error) {
	var out serverReport
	if err := c.do(ctx, http.MethodPost, "/api/v1/connections/"+url.PathEscape(name)+"/test", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// serverJob is a job as the server answers it: dbt Cloud's job object
// with the names of its project and environment ("" when the server could
// not read them).
type serverJob struct {
	dbtcloud.Job
	ProjectName     string `json:"project_name"`
	EnvironmentName string `json:"environment_name"`
}

func (c *serverClient) ListJobs(ctx context.Context, conn string, projectID, environmentID int64, name string) ([]serverJob, error) {
	q := url.Values{}
	if projectID > 0 {
		q.Set("project_id", strconv.FormatInt(projectID, 10))
	}
	if environmentID > 0 {
		q.Set("environment_id", strconv.FormatInt(environmentID, 10))
	}
	if name != "" {
		q.Set("name", name)
	}
	var out struct {
		Jobs []serverJob `json:"jobs"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v1/connections/"+url.PathEscape(conn)+"/jobs", q, nil, &out); err != nil {
		return nil, err
	}
	return out.Jobs, nil
}

func (c *serverClient) GetJob(ctx context.Context, conn string, id int64) (*serverJob, error) {
	var out serverJob
	if err := c.do(ctx, http.MethodGet, fmt.Sprintf("/api/v1/connections/%s/jobs/%d", url.PathEscape(conn), id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// defaultConnection is the name of the server's default connection, for
// the routes that need a name when --connection is not given.
func (c *serverClient) defaultConnection(ctx context.Context, name string) (string, error) {
	if name != "" {
		return name, nil
	}
	conns, err := c.ListConnections(ctx)
	if err != nil {
		return "", err
	}
	for _, cn := range conns {
		if cn.Default {
			return cn.Name, nil
		}
	}
	if len(conns) == 1 {
		return conns[0].Name, nil
	}
	return "", usageError("the server at %s has no default connection; name one with --connection (see `dbtlink --server URL connection list`)", c.URL())
}
