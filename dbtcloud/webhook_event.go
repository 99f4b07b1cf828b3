package dbtcloud

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// WebhookEvent is the body dbt Cloud posts to a webhook subscriber.
//
// dbt Cloud API docs: https://docs.getdbt.com/docs/deploy/webhooks
type WebhookEvent struct {
	AccountID int64 `json:"accountId"`
	// WebhookID is the subscription ("wsu_..."). Older payloads name it
	// webhooksID; ParseWebhookEvent reads both.
	WebhookID   string           `json:"webhookId"`
	EventID     string           `json:"eventId"`
	Timestamp   Timestamp        `json:"timestamp"`
	EventType   string           `json:"eventType"`
	WebhookName string           `json:"webhookName"`
	Data        WebhookEventData `json:"data"`
}

// WebhookEventData describes the run. dbt Cloud sends the ids as strings;
// they are decoded into numbers.
type WebhookEventData struct {
	JobID            int64     `json:"-"`
	JobName          string    `json:"jobName"`
	RunID            int64     `json:"-"`
	EnvironmentID    int64     `json:"-"`
	EnvironmentName  string    `json:"environmentName"`
	ProjectID        int64     `json:"-"`
	ProjectName      string    `json:"projectName"`
	DBTVersion       string    `json:"dbtVersion"`
	RunStatus        string    `json:"runStatus"`
	RunStatusCode    RunStatus `json:"runStatusCode"`
	RunStatusMessage string    `json:"runStatusMessage"`
	RunReason        string    `json:"runReason"`
	RunStartedAt     Timestamp `json:"runStartedAt"`
	RunFinishedAt    Timestamp `json:"runFinishedAt"`
	RunErroredAt     Timestamp `json:"runErroredAt"`
}

// ErrBadSignature is returned by VerifyWebhookSignature for a delivery that
// is unsigned or whose signature does not match.
var ErrBadSignature = errors.New("webhook signature does not match")

// VerifyWebhookSignature checks the Authorization header of a delivery:
// the lowercase hex HMAC-SHA256 of the raw body, keyed with the
// subscription's secret, with no prefix. The comparison takes constant time.
func VerifyWebhookSignature(secret string, body []byte, authorization string) error {
	got := strings.TrimSpace(authorization)
	if got == "" {
		return fmt.Errorf("%w: the delivery has no Authorization header", ErrBadSignature)
	}
	sig, err := hex.DecodeString(strings.ToLower(got))
	if err != nil {
		return fmt.Errorf("%w: the Authorization header is not a hex HMAC", ErrBadSignature)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return ErrBadSignature
	}
	return nil
}

// SignWebhook returns the Authorization header value dbt Cloud would send
// for body; tests and emulators use it.
func SignWebhook(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// ParseWebhookEvent decodes a delivery body. It accepts the older
// webhooksID name and ids sent as strings or numbers, and requires an
// event id, an event type and a run id.
func ParseWebhookEvent(body []byte) (*WebhookEvent, error) {
	var raw struct {
		WebhookEvent
		OldWebhookID string `json:"webhooksID"`
		Data         struct {
			WebhookEventData
			JobID         json.RawMessage `json:"jobId"`
			RunID         json.RawMessage `json:"runId"`
			EnvironmentID json.RawMessage `json:"environmentId"`
			ProjectID     json.RawMessage `json:"projectId"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("webhook event: not valid JSON: %w", err)
	}
	ev := raw.WebhookEvent
	if ev.WebhookID == "" {
		ev.WebhookID = raw.OldWebhookID
	}
	ev.Data = raw.Data.WebhookEventData
	for _, f := range []struct {
		name string
		src  json.RawMessage
		dst  *int64
	}{
		{"jobId", raw.Data.JobID, &ev.Data.JobID},
		{"runId", raw.Data.RunID, &ev.Data.RunID},
		{"environmentId", raw.Data.EnvironmentID, &ev.Data.EnvironmentID},
		{"projectId", raw.Data.ProjectID, &ev.Data.ProjectID},
	} {
		n, err := flexibleID(f.src)
		if err != nil {
			return nil, fmt.Errorf("webhook event: data.%s: %w", f.name, err)
		}
		*f.dst = n
	}
	switch {
	case ev.EventID == "":
		return nil, errors.New("webhook event: eventId is missing")
	case ev.EventType == "":
		return nil, errors.New("webhook event: eventType is missing")
	case ev.Data.RunID <= 0:
		return nil, errors.New("webhook event: data.runId is missing")
	}
	return &ev, nil
}

// flexibleID reads an id sent as "123", 123 or null/absent (0).
func flexibleID(m json.RawMessage) (int64, error) {
	s := strings.TrimSpace(string(m))
	if s == "" || s == "null" || s == `""` {
		return 0, nil
	}
	if strings.HasPrefix(s, `"`) {
		var str string
		if err := json.Unmarshal(m, &str); err != nil {
			return 0, err
		}
		s = str
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an id", s)
	}
	return n, nil
}
