package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/internal/connection"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/tracker"
)

// Secrets the tests hand to the server; none may appear in an answer or a
// log line (checked after every test by setup).
const (
	connToken     = "dbtc_connection-token-never-shown"
	webhookSecret = "whsec-never-shown-0123456789"
)

// fakeBackend is a hand-written Backend. Each method returns errs[name]
// when set, and records what it was called with.
type fakeBackend struct {
	mu   sync.Mutex
	errs map[string]error
	// panics makes the named method panic.
	panics string

	ready     error
	tokens    map[string]store.APIToken // by string(hash)
	touches   []int64
	conns     []store.Connection
	created   []ConnectionInput
	deleted   []string
	report    connection.Report
	jobs      []dbtcloud.Job
	names     tracker.Names
	namesAsk  [][]int64 // the project and environment ids of each Names call
	jobOpts   *dbtcloud.JobListOptions
	runs      map[int64]store.Run
	runReq    *tracker.RunRequest
	waited    time.Duration
	gotRun    bool
	filter    *store.RunFilter
	listed    []store.Run
	artifacts map[int64][]store.Artifact
	contents  map[string]string // "runID/path" -> content
	opened    []string
	secrets   map[string]string // connection -> webhook secret
	seen      map[string]bool   // webhook event ids
	applied   []*dbtcloud.WebhookEvent
	// outcome overrides ApplyWebhook's answer for a new event.
	outcome WebhookOutcome
}

func newFakeBackend() *fakeBackend {
	return &fakeBackend{
		errs:      map[string]error{},
		tokens:    map[string]store.APIToken{},
		runs:      map[int64]store.Run{},
		artifacts: map[int64][]store.Artifact{},
		contents:  map[string]string{},
		secrets:   map[string]string{},
		seen:      map[string]bool{},
		outcome:   WebhookApplied,
	}
}

func (f *fakeBackend) enter(name string) error {
	if f.panics == name {
		panic("fake backend: " + name + " exploded")
	}
	return f.errs[name]
}

func (f *fakeBackend) Ready(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ready
}

func (f *fakeBackend) ListConnections(ctx context.Context) ([]store.Connection, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("ListConnections"); err != nil {
		return nil, err
	}
	return f.conns, nil
}

func (f *fakeBackend) CreateConnection(ctx context.Context, in ConnectionInput) (store.Connection, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("CreateConnection"); err != nil {
		return store.Connection{}, err
	}
	f.created = append(f.created, in)
	for _, c := range f.conns {
		if c.Name == in.Name {
			return store.Connection{}, fmt.Errorf("store: connection %q: %w", in.Name, store.ErrExists)
		}
	}
	c := store.Connection{Name: in.Name, Host: "https://" + in.Host, AccountID: in.AccountID, Default: in.Default,
		SealedToken: []byte("sealed:" + in.Token), KeyID: "k1", CreatedAt: testNow, UpdatedAt: testNow}
	f.conns = append(f.conns, c)
	return c, nil
}

func (f *fakeBackend) TestConnection(ctx context.Context, name string) (connection.Report, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("TestConnection"); err != nil {
		return connection.Report{}, err
	}
	return f.report, nil
}

func (f *fakeBackend) DeleteConnection(ctx context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DeleteConnection"); err != nil {
		return err
	}
	f.deleted = append(f.deleted, name)
	return nil
}

func (f *fakeBackend) ListJobs(ctx context.Context, conn string, opts *dbtcloud.JobListOptions) ([]dbtcloud.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.jobOpts = opts
	if err := f.enter("ListJobs"); err != nil {
		return nil, err
	}
	return f.jobs, nil
}

func (f *fakeBackend) Names(ctx context.Context, conn string, projectIDs, environmentIDs []int64) (tracker.Names, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("Names"); err != nil {
		return tracker.Names{}, err
	}
	f.namesAsk = append(f.namesAsk, projectIDs, environmentIDs)
	return f.names, nil
}

func (f *fakeBackend) GetJob(ctx context.Context, conn string, id int64) (*dbtcloud.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("GetJob"); err != nil {
		return nil, err
	}
	for _, j := range f.jobs {
		if j.ID == id {
			return &j, nil
		}
	}
	return nil, &dbtcloud.APIError{StatusCode: 404, Method: "GET", URL: "https://cloud.example/api/v2/accounts/1/jobs/x/", UserMessage: "Not found."}
}

func (f *fakeBackend) CreateRun(ctx context.Context, req tracker.RunRequest) (store.Run, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runReq = &req
	if err := f.enter("CreateRun"); err != nil {
		return store.Run{}, err
	}
	run := store.Run{ID: 42, Connection: "prod", AccountID: 1, JobID: req.JobID, State: store.RunPending,
		Cause: req.Trigger.Cause, MaxRetries: req.MaxRetries, CancelAtDeadline: req.CancelAtDeadline, CreatedAt: testNow, UpdatedAt: testNow}
	if req.Deadline > 0 {
		run.DeadlineAt = testNow.Add(req.Deadline)
	}
	f.runs[run.ID] = run
	return run, nil
}

func (f *fakeBackend) getRun(id int64) (store.Run, error) {
	run, ok := f.runs[id]
	if !ok {
		return store.Run{}, fmt.Errorf("store: run %d: %w", id, store.ErrNotFound)
	}
	return run, nil
}

func (f *fakeBackend) GetRun(ctx context.Context, id int64) (store.Run, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gotRun = true
	if err := f.enter("GetRun"); err != nil {
		return store.Run{}, err
	}
	return f.getRun(id)
}

func (f *fakeBackend) WaitRun(ctx context.Context, id int64, d time.Duration) (store.Run, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waited = d
	if err := f.enter("WaitRun"); err != nil {
		return store.Run{}, err
	}
	return f.getRun(id)
}

func (f *fakeBackend) ListRuns(ctx context.Context, filter store.RunFilter) ([]store.Run, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.filter = &filter
	if err := f.enter("ListRuns"); err != nil {
		return nil, err
	}
	out := f.listed
	if len(out) > filter.Limit {
		out = out[:filter.Limit]
	}
	return out, nil
}

func (f *fakeBackend) CancelRun(ctx context.Context, id int64) (store.Run, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("CancelRun"); err != nil {
		return store.Run{}, err
	}
	run, err := f.getRun(id)
	if err != nil {
		return run, err
	}
	if run.State.Terminal() {
		return store.Run{}, fmt.Errorf("run %d has ended (%s): %w", id, run.State, tracker.ErrConflict)
	}
	return run, nil
}

func (f *fakeBackend) ListArtifacts(ctx context.Context, runID int64) ([]store.Artifact, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("ListArtifacts"); err != nil {
		return nil, err
	}
	if _, err := f.getRun(runID); err != nil {
		return nil, err
	}
	return f.artifacts[runID], nil
}

func (f *fakeBackend) OpenArtifact(ctx context.Context, runID int64, path string) (store.Artifact, io.ReadCloser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.opened = append(f.opened, path)
	if err := f.enter("OpenArtifact"); err != nil {
		return store.Artifact{}, nil, err
	}
	for _, a := range f.artifacts[runID] {
		if a.Path == path {
			return a, io.NopCloser(strings.NewReader(f.contents[fmt.Sprintf("%d/%s", runID, path)])), nil
		}
	}
	return store.Artifact{}, nil, fmt.Errorf("store: artifact %s of run %d: %w", path, runID, store.ErrNotFound)
}

func (f *fakeBackend) WebhookSecret(ctx context.Context, conn string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("WebhookSecret"); err != nil {
		return "", err
	}
	sec, ok := f.secrets[conn]
	if !ok {
		return "", fmt.Errorf("store: webhook subscription of %q: %w", conn, store.ErrNotFound)
	}
	return sec, nil
}

func (f *fakeBackend) ApplyWebhook(ctx context.Context, conn string, ev *dbtcloud.WebhookEvent, raw []byte) (WebhookOutcome, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("ApplyWebhook"); err != nil {
		return "", err
	}
	if f.seen[ev.EventID] {
		return WebhookDuplicate, nil
	}
	f.seen[ev.EventID] = true
	f.applied = append(f.applied, ev)
	return f.outcome, nil
}

func (f *fakeBackend) APITokenByHash(ctx context.Context, hash []byte) (store.APIToken, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("APITokenByHash"); err != nil {
		return store.APIToken{}, err
	}
	tok, ok := f.tokens[string(hash)]
	if !ok {
		return store.APIToken{}, fmt.Errorf("store: api token: %w", store.ErrNotFound)
	}
	return tok, nil
}

func (f *fakeBackend) TouchAPIToken(ctx context.Context, id int64, at time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.touches = append(f.touches, id)
	return f.enter("TouchAPIToken")
}

var testNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// testBundle is a Server over a fakeBackend, with tokens of each scope,
// a fake clock, and the log and every answer kept for the leak check.
type testBundle struct {
	srv    *Server
	be     *fakeBackend
	reg    *prometheus.Registry
	logs   *bytes.Buffer
	tokens map[string]string // "read", "write", "admin", "revoked" -> plain token

	mu      sync.Mutex
	now     time.Time
	answers []string
}

// setup builds the bundle; opts change the server's Config before New.
func setup(t *testing.T, opts ...func(*Config)) *testBundle {
	t.Helper()
	b := &testBundle{
		be:     newFakeBackend(),
		reg:    prometheus.NewRegistry(),
		logs:   &bytes.Buffer{},
		tokens: map[string]string{},
		now:    testNow,
	}
	for i, name := range []string{"read", "write", "admin", "revoked"} {
		plain, prefix, hash, err := GenerateToken()
		if err != nil {
			t.Fatal(err)
		}
		tok := store.APIToken{ID: int64(i + 1), Name: name + "-bot", Prefix: prefix, Hash: hash, Scope: store.Scope(name), CreatedAt: testNow}
		if name == "revoked" {
			tok.Scope, tok.RevokedAt = store.ScopeAdmin, testNow
		}
		b.be.tokens[string(hash)] = tok
		b.tokens[name] = plain
	}
	b.be.secrets["prod"] = webhookSecret
	cfg := Config{
		Backend:  b.be,
		Logger:   slog.New(slog.NewJSONHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Registry: b.reg,
		Now:      b.clock,
		Version:  "v0.0.0-test",
	}
	for _, o := range opts {
		o(&cfg)
	}
	var err error
	b.srv, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.checkNoLeaks(t) })
	return b
}

func (b *testBundle) clock() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.now
}

func (b *testBundle) advance(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.now = b.now.Add(d)
}

// checkNoLeaks fails the test if a token or secret appears in any answer
// or log line, or a log line carries a stack trace into an answer.
func (b *testBundle) checkNoLeaks(t *testing.T) {
	t.Helper()
	secrets := []string{connToken, webhookSecret}
	for _, tok := range b.tokens {
		secrets = append(secrets, tok, tok[tokenDisplayLen:])
	}
	b.mu.Lock()
	answers := strings.Join(b.answers, "\n")
	b.mu.Unlock()
	logs := b.logs.String()
	for _, sec := range secrets {
		if strings.Contains(answers, sec) {
			t.Errorf("an answer contains the secret %q", sec)
		}
		if strings.Contains(logs, sec) {
			t.Errorf("the log contains the secret %q", sec)
		}
	}
	if strings.Contains(answers, "goroutine ") || strings.Contains(answers, ".go:") {
		t.Errorf("an answer contains a stack trace")
	}
}

// counter returns the value of a counter in the registry, found by name
// and label values in label-name order (as /metrics shows them), or 0.
func (b *testBundle) counter(t *testing.T, name string, labelValues ...string) float64 {
	t.Helper()
	families, err := b.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, fam := range families {
		if fam.GetName() != name {
			continue
		}
		for _, m := range fam.GetMetric() {
			var got []string
			for _, l := range m.GetLabel() {
				got = append(got, l.GetValue())
			}
			if slices.Equal(got, labelValues) {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

type header struct{ key, value string }

// do sends a request through the server. token is a key of b.tokens, or
// "" for none; a raw Authorization header can be passed as a header.
func (b *testBundle) do(t *testing.T, method, target, token, body string, hdrs ...header) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequestWithContext(t.Context(), method, target, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		plain, ok := b.tokens[token]
		if !ok {
			t.Fatalf("no test token %q", token)
		}
		req.Header.Set("Authorization", "Bearer "+plain)
	}
	for _, h := range hdrs {
		req.Header.Set(h.key, h.value)
	}
	w := httptest.NewRecorder()
	b.srv.ServeHTTP(w, req)
	b.mu.Lock()
	b.answers = append(b.answers, fmt.Sprint(w.Header())+w.Body.String())
	b.mu.Unlock()
	return w
}

func wantStatus(t *testing.T, w *httptest.ResponseRecorder, code int) {
	t.Helper()
	if w.Code != code {
		t.Fatalf("status %d, want %d; body: %s", w.Code, code, w.Body)
	}
}

// wantError checks an error answer: status, code, and words the message
// must contain.
func wantError(t *testing.T, w *httptest.ResponseRecorder, status int, code string, words ...string) {
	t.Helper()
	wantStatus(t, w, status)
	var body errorBody
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("error answer is not JSON: %v: %s", err, w.Body)
	}
	if body.Error.Code != code {
		t.Errorf("error code %q, want %q (message %q)", body.Error.Code, code, body.Error.Message)
	}
	for _, word := range words {
		if !strings.Contains(body.Error.Message, word) {
			t.Errorf("error message %q does not contain %q", body.Error.Message, word)
		}
	}
}

func decode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %T: %v: %s", v, err, w.Body)
	}
	return v
}

// signed returns the Authorization header dbt Cloud would send for body.
func signed(body string) header {
	return header{"Authorization", dbtcloud.SignWebhook(webhookSecret, []byte(body))}
}

func webhookBody(eventID string, runID int64) string {
	return fmt.Sprintf(`{"accountId":1,"webhookId":"wsu_1","eventId":%q,"timestamp":"2026-03-04T05:06:07Z","eventType":"job.run.completed","webhookName":"dbtlink","data":{"jobId":"301","runId":"%d","runStatus":"Success","runStatusCode":10,"environmentId":"5","projectId":"7"}}`, eventID, runID)
}

var _ Backend = (*fakeBackend)(nil)
