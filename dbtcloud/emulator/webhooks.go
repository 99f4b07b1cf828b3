package emulator

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

type eventKind string

const (
	eventStarted   eventKind = "job.run.started"
	eventCompleted eventKind = "job.run.completed"
	eventErrored   eventKind = "job.run.errored"
)

type event struct {
	kind eventKind
	run  *run
	at   time.Time
}

// subscription is a v3 webhook subscription.
type subscription struct {
	id                  string
	accountID           int64
	name, description   string
	eventTypes          []string
	jobIDs              []int64
	clientURL           string
	active              bool
	secret              string
	httpStatusCode      *string
	dispatchedAt        time.Time
	deactivateReason    *string
	consecutiveFailures int
	queue               chan []byte // bodies waiting for delivery, in order
}

// wireSubscription is the v3 Subscription object. job_ids are strings on the wire, as dbt Cloud sends them (the
// spec says integers).
type wireSubscription struct {
	ID                string   `json:"id"`
	AccountID         int64    `json:"account_id"`
	AccountIdentifier *string  `json:"account_identifier"`
	Name              string   `json:"name"`
	Description       string   `json:"description"`
	EventTypes        []string `json:"event_types"`
	JobIDs            []string `json:"job_ids"`
	ClientURL         string   `json:"client_url"`
	Active            bool     `json:"active"`
	HTTPStatusCode    *string  `json:"http_status_code"`
	DispatchedAt      *string  `json:"dispatched_at"`
	DeactivateReason  *string  `json:"deactivate_reason"`
	HMACSecret        *string  `json:"hmac_secret,omitempty"`
}

func (s *subscription) wire() wireSubscription {
	ws := wireSubscription{ID: s.id, AccountID: s.accountID, Name: s.name, Description: s.description,
		EventTypes: s.eventTypes, JobIDs: []string{}, ClientURL: s.clientURL, Active: s.active,
		HTTPStatusCode: s.httpStatusCode, DeactivateReason: s.deactivateReason}
	for _, j := range s.jobIDs {
		ws.JobIDs = append(ws.JobIDs, strconv.FormatInt(j, 10))
	}
	if !s.dispatchedAt.IsZero() {
		ws.DispatchedAt = ptr(s.dispatchedAt.UTC().Format(time.RFC3339Nano))
	}
	return ws
}

// subscriptionBody is the create/update request. job_ids may be numbers or numeric strings.
type subscriptionBody struct {
	Name        *string           `json:"name"`
	Description *string           `json:"description"`
	EventTypes  []string          `json:"event_types"`
	JobIDs      []json.RawMessage `json:"job_ids"`
	ClientURL   *string           `json:"client_url"`
	Active      *bool             `json:"active"`
}

func (b subscriptionBody) parse(requireAll bool) (jobs []int64, err error) {
	if requireAll {
		switch {
		case b.Name == nil || *b.Name == "":
			return nil, fmt.Errorf("name: This field is required")
		case b.ClientURL == nil || *b.ClientURL == "":
			return nil, fmt.Errorf("client_url: This field is required")
		case len(b.EventTypes) == 0:
			return nil, fmt.Errorf("event_types: This field is required")
		}
	}
	if b.ClientURL != nil && !strings.HasPrefix(*b.ClientURL, "http://") && !strings.HasPrefix(*b.ClientURL, "https://") {
		return nil, fmt.Errorf("client_url: Enter a valid URL")
	}
	for _, t := range b.EventTypes {
		switch eventKind(t) {
		case eventStarted, eventCompleted, eventErrored:
		default:
			return nil, fmt.Errorf("event_types: %q is not a valid event type", t)
		}
	}
	for _, raw := range b.JobIDs {
		s := strings.Trim(string(raw), `"`)
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("job_ids: %s is not a job id", raw)
		}
		jobs = append(jobs, n)
	}
	return jobs, nil
}

// thinStatus is the v3 webhook envelope's status: only a code.
type thinStatus struct {
	Code int `json:"code"`
}

func (e *Emulator) findSub(r *http.Request) *subscription {
	acct, _ := pathInt(r, "a")
	for _, s := range e.subs {
		if s.id == r.PathValue("id") && s.accountID == acct {
			return s
		}
	}
	return nil
}

func (e *Emulator) listSubscriptions(w http.ResponseWriter, r *http.Request) {
	acct, _ := pathInt(r, "a")
	p, err := parsePage(r)
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	e.begin()
	defer e.end()
	all := []wireSubscription{}
	for _, s := range e.subs {
		if s.accountID == acct {
			all = append(all, s.wire())
		}
	}
	pg := pageOf(all, p)
	writeJSON(w, http.StatusOK, map[string]any{
		"status": thinStatus{Code: 200},
		"data":   pg,
		"extra": map[string]any{
			"filters":    map[string]any{"limit": p.limit, "offset": p.offset},
			"pagination": map[string]any{"count": len(pg), "total_count": len(all)},
		},
	})
}

func (e *Emulator) createSubscription(w http.ResponseWriter, r *http.Request) {
	acct, _ := pathInt(r, "a")
	var body subscriptionBody
	if err := readJSONBody(r, &body); err != nil {
		badRequest(w, err.Error())
		return
	}
	jobs, err := body.parse(true)
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	e.begin()
	defer e.end()
	e.nextSubNum++
	s := &subscription{
		id: fmt.Sprintf("wsu_emu%08d", e.nextSubNum), accountID: acct, name: *body.Name, eventTypes: body.EventTypes,
		jobIDs: jobs, clientURL: *body.ClientURL, active: true,
		// Deterministic per emulator so tests are reproducible; real secrets are random.
		secret: fmt.Sprintf("%x", sha256.Sum256([]byte(fmt.Sprintf("emulator-secret-%d-%d", acct, e.nextSubNum)))),
		queue:  make(chan []byte, 1024),
	}
	if body.Description != nil {
		s.description = *body.Description
	}
	if body.Active != nil {
		s.active = *body.Active
	}
	e.subs = append(e.subs, s)
	e.hooks.start(s)
	ws := s.wire()
	ws.HMACSecret = ptr(s.secret) // shown only on create
	writeJSON(w, http.StatusCreated, map[string]any{"status": thinStatus{Code: 201}, "data": ws})
}

func (e *Emulator) getSubscription(w http.ResponseWriter, r *http.Request) {
	e.begin()
	defer e.end()
	s := e.findSub(r)
	if s == nil {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": thinStatus{Code: 200}, "data": s.wire()})
}

func (e *Emulator) updateSubscription(w http.ResponseWriter, r *http.Request) {
	var body subscriptionBody
	if err := readJSONBody(r, &body); err != nil {
		badRequest(w, err.Error())
		return
	}
	jobs, err := body.parse(false)
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	e.begin()
	defer e.end()
	s := e.findSub(r)
	if s == nil {
		notFound(w)
		return
	}
	if body.Name != nil {
		s.name = *body.Name
	}
	if body.Description != nil {
		s.description = *body.Description
	}
	if body.EventTypes != nil {
		s.eventTypes = body.EventTypes
	}
	if body.JobIDs != nil {
		s.jobIDs = jobs
	}
	if body.ClientURL != nil {
		s.clientURL = *body.ClientURL
	}
	if body.Active != nil {
		s.active = *body.Active
		if s.active {
			s.consecutiveFailures, s.deactivateReason = 0, nil
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": thinStatus{Code: 200}, "data": s.wire()})
}

func (e *Emulator) deleteSubscription(w http.ResponseWriter, r *http.Request) {
	e.begin()
	defer e.end()
	s := e.findSub(r)
	if s == nil {
		notFound(w)
		return
	}
	for i, o := range e.subs {
		if o == s {
			e.subs = append(e.subs[:i], e.subs[i+1:]...)
			break
		}
	}
	close(s.queue)
	writeJSON(w, http.StatusOK, map[string]any{"status": map[string]any{"code": 200, "is_success": true},
		"data": map[string]any{"id": s.id}})
}

// ---- delivery ----

// webhookDispatcher delivers events with one goroutine per subscription, so a slow receiver delays only its own
// events and each receiver sees its events in order (started before completed).
type webhookDispatcher struct {
	e      *Emulator
	client *http.Client
	delay  time.Duration
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

const webhookRetries = 5 // retries after the first attempt

func newWebhookDispatcher(e *Emulator, c *http.Client, delay time.Duration) *webhookDispatcher {
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	if delay <= 0 {
		delay = 2 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &webhookDispatcher{e: e, client: c, delay: delay, ctx: ctx, cancel: cancel}
}

func (d *webhookDispatcher) close() {
	d.cancel()
	d.wg.Wait()
}

// dispatch turns run events into delivery bodies for every matching subscription. It never blocks on the network.
func (d *webhookDispatcher) dispatch(evs []event) {
	if len(evs) == 0 {
		return
	}
	e := d.e
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range evs {
		for _, s := range e.subs {
			if !s.active || s.accountID != ev.run.accountID || !s.wants(ev) {
				continue
			}
			e.nextEventNum++
			body := e.eventBody(s, ev, fmt.Sprintf("wev_emu%010d", e.nextEventNum))
			select {
			case s.queue <- body:
			default:
				e.log.Warn("webhook queue full; event dropped", "subscription", s.id, "event", ev.kind)
			}
		}
	}
}

func (s *subscription) wants(ev event) bool {
	ok := false
	for _, t := range s.eventTypes {
		if t == string(ev.kind) {
			ok = true
		}
	}
	if !ok {
		return false
	}
	if len(s.jobIDs) == 0 {
		return true
	}
	for _, j := range s.jobIDs {
		if j == ev.run.jobID {
			return true
		}
	}
	return false
}

// eventBody builds the delivery body described in CONTRACT.md: ids in data are strings, accountId a number.
func (e *Emulator) eventBody(s *subscription, ev event, eventID string) []byte {
	r := ev.run
	j, env, p := e.jobs[r.jobID], e.envs[r.envID], e.projects[r.projectID]
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }
	data := map[string]any{
		"jobId": strconv.FormatInt(r.jobID, 10), "jobName": j.name, "runId": strconv.FormatInt(r.id, 10),
		"environmentId": strconv.FormatInt(r.envID, 10), "environmentName": env.name, "dbtVersion": r.dbtVersion,
		"projectName": p.name, "projectId": strconv.FormatInt(r.projectID, 10),
		"runReason": r.trigger.cause, "runStartedAt": ts(r.startedAt),
	}
	switch ev.kind {
	case eventStarted:
		data["runStatus"], data["runStatusCode"], data["runStatusMessage"] = "Running", StatusRunning, "None"
	case eventErrored:
		data["runStatus"], data["runStatusCode"] = "Errored", StatusError
		data["runStatusMessage"] = derefOr(r.message, "None")
		data["runErroredAt"] = ts(ev.at)
	case eventCompleted:
		data["runStatus"], data["runStatusCode"] = statusHumanized(r.status), r.status
		data["runStatusMessage"] = derefOr(r.message, "None")
		data["runFinishedAt"] = ts(r.finishedAt)
	}
	if r.startedAt.IsZero() {
		data["runStartedAt"] = nil // cancelled before it started
	}
	b, _ := json.Marshal(map[string]any{
		"accountId": r.accountID, "webhookId": s.id, "eventId": eventID, "timestamp": ts(ev.at),
		"eventType": string(ev.kind), "webhookName": s.name, "data": data,
	})
	return b
}

func derefOr(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}

// Sign returns the value dbt Cloud puts in a delivery's Authorization header: the lowercase hex HMAC-SHA256 of the
// raw body keyed with the subscription's secret. Receivers should compare it with hmac.Equal.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func (d *webhookDispatcher) start(s *subscription) {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		for {
			select {
			case <-d.ctx.Done():
				return
			case body, ok := <-s.queue:
				if !ok {
					return
				}
				d.deliver(s, body)
			}
		}
	}()
}

// deliver tries once plus up to five retries. A delivery that fails every attempt counts as one failure; five
// failed deliveries in a row deactivate the subscription.
func (d *webhookDispatcher) deliver(s *subscription, body []byte) {
	e := d.e
	e.mu.Lock()
	url, secret, active := s.clientURL, s.secret, s.active
	e.mu.Unlock()
	if !active {
		return
	}
	var lastCode string
	for attempt := 0; attempt <= webhookRetries; attempt++ {
		if attempt > 0 {
			select {
			case <-d.ctx.Done():
				return
			case <-time.After(d.delay):
			}
		}
		code, err := d.post(url, secret, body)
		lastCode = strconv.Itoa(code)
		e.log.Info("webhook delivery", "subscription", s.id, "attempt", attempt+1, "status", code, "err", err)
		if err == nil && code >= 200 && code < 300 {
			e.mu.Lock()
			s.consecutiveFailures = 0
			s.httpStatusCode = ptr(lastCode)
			s.dispatchedAt = time.Now()
			e.mu.Unlock()
			return
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	s.httpStatusCode = ptr(lastCode)
	s.dispatchedAt = time.Now()
	s.consecutiveFailures++
	if s.consecutiveFailures >= 5 {
		s.active = false
		s.deactivateReason = ptr(fmt.Sprintf("Deactivated after %d consecutive failed deliveries", s.consecutiveFailures))
	}
}

func (d *webhookDispatcher) post(url, secret string, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(d.ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("build webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", Sign(secret, body))
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("post webhook: %w", err)
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
