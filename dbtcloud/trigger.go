package dbtcloud

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// TriggerRunRequest is the body of Runs.Trigger. Zero values are not sent.
type TriggerRunRequest struct {
	// Cause is shown in dbt Cloud; the client appends its marker and
	// truncates Cause so that the total stays within 255 characters. Empty
	// means "Triggered by dbtlink".
	Cause                  string `json:"cause"`
	GitSHA                 string `json:"git_sha,omitempty"`
	GitBranch              string `json:"git_branch,omitempty"`
	GitHubPullRequestID    int64  `json:"github_pull_request_id,omitempty"`
	GitLabMergeRequestID   int64  `json:"gitlab_merge_request_id,omitempty"`
	AzurePullRequestID     int64  `json:"azure_pull_request_id,omitempty"`
	NonNativePullRequestID int64  `json:"non_native_pull_request_id,omitempty"`
	SchemaOverride         string `json:"schema_override,omitempty"`
	DBTVersionOverride     string `json:"dbt_version_override,omitempty"`
	ThreadsOverride        int    `json:"threads_override,omitempty"`
	TargetNameOverride     string `json:"target_name_override,omitempty"`
	GenerateDocsOverride   *bool  `json:"generate_docs_override,omitempty"`
	// TimeoutSecondsOverride is a pointer because 0 (no timeout) is a
	// meaningful override.
	TimeoutSecondsOverride *int     `json:"timeout_seconds_override,omitempty"`
	StepsOverride          []string `json:"steps_override,omitempty"`
}

// DefaultTriggerCause is used when TriggerRunRequest.Cause is empty.
const DefaultTriggerCause = "Triggered by dbtlink"

const (
	maxCauseLen  = 255
	markerPrefix = " [dbtlink:"
	markerHexLen = 16
	// lookupSkew is how far before the trigger attempt the lookup keeps
	// reading runs, to tolerate clock skew between us and dbt Cloud.
	lookupSkew = 10 * time.Minute
	// lookupMaxPages bounds the lookup; a job with more runs than this
	// created since the attempt leaves the outcome unknown.
	lookupMaxPages = 5
)

func newTriggerMarker() string {
	var b [markerHexLen / 2]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// AddTriggerMarker appends " [dbtlink:<marker>]" to cause, truncating cause
// (by characters, never inside a UTF-8 sequence) so that the result is at
// most 255 characters.
func AddTriggerMarker(cause, marker string) string {
	suffix := markerPrefix + marker + "]"
	room := maxCauseLen - utf8.RuneCountInString(suffix)
	if utf8.RuneCountInString(cause) > room {
		n := 0
		for i := range cause {
			if n == room {
				cause = cause[:i]
				break
			}
			n++
		}
	}
	return cause + suffix
}

// ExtractTriggerMarker returns the marker that Runs.Trigger put at the end
// of a run's trigger cause, and whether there was one.
func ExtractTriggerMarker(cause string) (string, bool) {
	if !strings.HasSuffix(cause, "]") {
		return "", false
	}
	i := strings.LastIndex(cause, markerPrefix)
	if i < 0 {
		return "", false
	}
	m := cause[i+len(markerPrefix) : len(cause)-1]
	if len(m) != markerHexLen {
		return "", false
	}
	if _, err := hex.DecodeString(m); err != nil {
		return "", false
	}
	return m, true
}

// preSendError marks a failure before the request left (rate limiter,
// request building): the server cannot have acted on it.
type preSendError struct{ err error }

func (e *preSendError) Error() string { return e.err.Error() }
func (e *preSendError) Unwrap() error { return e.err }

// notCreatedError records that a trigger's outcome was unknown but a
// lookup proved no run had been created, so posting again is safe.
type notCreatedError struct{ err error }

func (e *notCreatedError) Error() string {
	return e.err.Error() + " (no run was created)"
}
func (e *notCreatedError) Unwrap() error { return e.err }

// outcomeKnown reports whether err proves the server did not act on a
// non-idempotent request: it failed before sending, or the server answered
// with a 4xx.
func outcomeKnown(err error) bool {
	var pe *preSendError
	if errors.As(err, &pe) {
		return true
	}
	var ae *APIError
	return errors.As(err, &ae) && ae.StatusCode >= 400 && ae.StatusCode < 500
}

func isTooMany(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.StatusCode == http.StatusTooManyRequests
}

// doUnsafe performs a non-idempotent call. Only a 429 (refused, so safe)
// is retried; an unknown outcome is returned as an error wrapping
// ErrOutcomeUnknown.
func (c *Client) doUnsafe(ctx context.Context, ar *apiRequest, v any) (*Response, error) {
	bodyBytes, err := marshalBody(ar)
	if err != nil {
		return nil, err
	}
	var out *Response
	retryable := func(e error) bool { return isTooMany(e) && ctx.Err() == nil }
	err = c.retryLoop(ctx, ar.method+" "+ar.path, retryable, func() error {
		r, e := c.doOnce(ctx, ar, bodyBytes, v)
		out = r
		return e
	})
	if err == nil || outcomeKnown(err) {
		return out, err
	}
	return out, fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
}

// Trigger starts a run of a job and returns the queued run.
//
// Triggering is not idempotent, so it is never retried blindly. The client
// appends a unique marker to the cause (see AddTriggerMarker). When the
// outcome of the POST is unknown (timeout, broken connection, 5xx,
// unreadable answer), it lists the job's newest runs and returns the one
// bearing the marker. Only when that lookup succeeds and proves no such run
// exists does it post again (same marker, within the retry policy). A 429
// is retried after its Retry-After; any other 4xx is final. If the lookup
// itself fails, the error wraps ErrOutcomeUnknown.
//
//meta:operation POST /api/v2/accounts/{account_id}/jobs/{job_id}/run/
func (s *RunsService) Trigger(ctx context.Context, accountID, jobID int64, req *TriggerRunRequest) (*Run, *Response, error) {
	return s.TriggerWithMarker(ctx, accountID, jobID, s.client.newMarker(), req)
}

// NewTriggerMarker returns a fresh random marker for TriggerWithMarker.
func NewTriggerMarker() string { return newTriggerMarker() }

// TriggerWithMarker is Trigger with a marker chosen by the caller (see
// NewTriggerMarker). A caller that records the marker before calling can,
// after a crash, ask FindTriggered whether dbt Cloud has the run, and so
// never triggers a job twice. The marker must be 16 lowercase hex digits.
//
//meta:operation POST /api/v2/accounts/{account_id}/jobs/{job_id}/run/
func (s *RunsService) TriggerWithMarker(ctx context.Context, accountID, jobID int64, marker string, req *TriggerRunRequest) (*Run, *Response, error) {
	c := s.client
	if !validMarker(marker) {
		return nil, nil, fmt.Errorf("dbtcloud: trigger job %d: marker %q is not %d lowercase hex digits", jobID, marker, markerHexLen)
	}
	if err := checkID("account", accountID); err != nil {
		return nil, nil, err
	}
	if err := checkID("job", jobID); err != nil {
		return nil, nil, err
	}
	var body TriggerRunRequest
	if req != nil {
		body = *req
	}
	if strings.TrimSpace(body.Cause) == "" {
		body.Cause = DefaultTriggerCause
	}
	body.Cause = AddTriggerMarker(body.Cause, marker)
	ar := &apiRequest{method: http.MethodPost, path: accountPath("v2", accountID, "jobs/%d/run/", jobID), body: &body, account: accountID}
	bodyBytes, err := marshalBody(ar)
	if err != nil {
		return nil, nil, err
	}
	where := fmt.Sprintf("trigger job %d", jobID)
	start := c.now()

	var run *Run
	var resp *Response
	attempt := func() error {
		var out Run
		r, err := c.doOnce(ctx, ar, bodyBytes, &out)
		resp = r
		if err == nil {
			run = &out
			return nil
		}
		if outcomeKnown(err) {
			return err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("dbtcloud: %s: %w: %w", where, ErrOutcomeUnknown, err)
		}
		c.logger.LogAttrs(ctx, slog.LevelInfo, "dbtcloud: trigger outcome unknown, looking for the run",
			slog.Int64("job_id", jobID), slog.String("marker", marker), slog.String("error", err.Error()))
		// Give a request still being processed a moment to land before
		// looking, so that the lookup does not miss it.
		if serr := c.sleep(ctx, c.retry.MinBackoff); serr != nil {
			return fmt.Errorf("dbtcloud: %s: %w: %w", where, ErrOutcomeUnknown, err)
		}
		found, lresp, lerr := s.findTriggered(ctx, accountID, jobID, marker, start)
		if lerr != nil {
			return fmt.Errorf("dbtcloud: %s: %w: %w (looking for the run failed: %v)", where, ErrOutcomeUnknown, err, lerr)
		}
		if found != nil {
			c.logger.LogAttrs(ctx, slog.LevelInfo, "dbtcloud: found the triggered run", slog.Int64("run_id", found.ID))
			run, resp = found, lresp
			return nil
		}
		return &notCreatedError{err}
	}
	retryable := func(err error) bool {
		if ctx.Err() != nil {
			return false
		}
		var nc *notCreatedError
		return isTooMany(err) || errors.As(err, &nc)
	}
	if err := c.retryLoop(ctx, where, retryable, attempt); err != nil {
		return nil, resp, err
	}
	return run, resp, nil
}

// FindTriggered looks through the job's newest runs for the one whose
// trigger cause carries marker (see TriggerWithMarker). since is when the
// trigger was first attempted, by the caller's clock; runs created more
// than ten minutes before it are not read. It returns (nil, nil, nil) only
// when it has seen every run created since then and none matched: only
// then is it safe to trigger again.
func (s *RunsService) FindTriggered(ctx context.Context, accountID, jobID int64, marker string, since time.Time) (*Run, *Response, error) {
	if err := checkID("account", accountID); err != nil {
		return nil, nil, err
	}
	if err := checkID("job", jobID); err != nil {
		return nil, nil, err
	}
	if !validMarker(marker) {
		return nil, nil, fmt.Errorf("dbtcloud: find run of job %d: marker %q is not %d lowercase hex digits", jobID, marker, markerHexLen)
	}
	return s.findTriggered(ctx, accountID, jobID, marker, since)
}

func validMarker(m string) bool {
	if len(m) != markerHexLen {
		return false
	}
	for _, r := range m {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') {
			return false
		}
	}
	return true
}

// findTriggered looks through the job's newest runs for the one whose
// trigger cause carries marker. It returns (nil, nil, nil) only when it has
// seen every run created since start (minus lookupSkew) and none matched.
func (s *RunsService) findTriggered(ctx context.Context, accountID, jobID int64, marker string, start time.Time) (*Run, *Response, error) {
	opts := &RunListOptions{
		JobDefinitionID: jobID,
		OrderBy:         "-id",
		IncludeRelated:  []string{"trigger"},
		ListOptions:     ListOptions{Limit: defaultPageSize},
	}
	cutoff := start.Add(-lookupSkew)
	for range lookupMaxPages {
		runs, resp, err := s.List(ctx, accountID, opts)
		if err != nil {
			return nil, resp, err
		}
		if len(runs) == 0 {
			return nil, resp, nil
		}
		for i := range runs {
			r := &runs[i]
			if r.Trigger == nil {
				if r.CreatedAt.IsZero() || !r.CreatedAt.Before(cutoff) {
					return nil, resp, fmt.Errorf("run %d came without its trigger, cannot read its cause", r.ID)
				}
				continue
			}
			if m, ok := ExtractTriggerMarker(r.Trigger.Cause); ok && m == marker {
				return r, resp, nil
			}
		}
		last := runs[len(runs)-1]
		if !last.CreatedAt.IsZero() && last.CreatedAt.Before(cutoff) {
			return nil, resp, nil // older than the attempt: nothing newer left to see
		}
		next := opts.Offset + len(runs)
		if resp.Pagination != nil && next >= resp.Pagination.TotalCount {
			return nil, resp, nil
		}
		if resp.Pagination == nil && len(runs) < opts.Limit {
			return nil, resp, nil
		}
		opts.Offset = next
	}
	return nil, nil, fmt.Errorf("more than %d runs of job %d since the attempt, cannot be sure", lookupMaxPages*defaultPageSize, jobID)
}
