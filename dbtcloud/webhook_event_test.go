package dbtcloud

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestVerifyWebhookSignature(t *testing.T) {
	t.Parallel()
	body := []byte(`{"eventId":"wev_1"}`)
	good := SignWebhook("s3cret", body)
	tests := []struct {
		name, secret, header string
		ok                   bool
	}{
		{"signed", "s3cret", good, true},
		{"upper-case hex", "s3cret", strings.ToUpper(good), true},
		{"surrounding space", "s3cret", " " + good + "\n", true},
		{"wrong secret", "other", good, false},
		{"missing", "s3cret", "", false},
		{"not hex", "s3cret", "sha256=" + good, false},
		{"truncated", "s3cret", good[:20], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyWebhookSignature(tt.secret, body, tt.header)
			if tt.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrBadSignature) {
				t.Fatalf("err = %v, want ErrBadSignature", err)
			}
		})
	}
	// A body changed after signing does not verify.
	if err := VerifyWebhookSignature("s3cret", []byte(`{"eventId":"wev_2"}`), good); err == nil {
		t.Fatal("a changed body verified")
	}
}

func TestParseWebhookEvent(t *testing.T) {
	t.Parallel()
	// The shape documented by dbt Cloud (ids as strings).
	completed := `{"accountId": 1, "webhookId": "wsu_12", "eventId": "wev_2", "timestamp": "2026-11-24T10:00:05.12Z",
	  "eventType": "job.run.completed", "webhookName": "dbtlink",
	  "data": {"jobId": "301", "jobName": "daily build", "runId": "70000001", "environmentId": "201",
	    "environmentName": "Production", "dbtVersion": "1.9.0", "projectName": "analytics", "projectId": "101",
	    "runStatus": "Success", "runStatusCode": 10, "runStatusMessage": "None", "runReason": "Triggered by dbtlink",
	    "runStartedAt": "2026-11-24T09:58:00Z", "runFinishedAt": "2026-11-24T10:00:01Z"}}`
	ev, err := ParseWebhookEvent([]byte(completed))
	if err != nil {
		t.Fatal(err)
	}
	if ev.WebhookID != "wsu_12" || ev.EventID != "wev_2" || ev.EventType != EventJobRunCompleted || ev.AccountID != 1 {
		t.Fatalf("event %+v", ev)
	}
	d := ev.Data
	if d.JobID != 301 || d.RunID != 70000001 || d.EnvironmentID != 201 || d.ProjectID != 101 || d.RunStatusCode != RunStatusSuccess {
		t.Fatalf("data %+v", d)
	}
	if !d.RunFinishedAt.Equal(time.Date(2026, 11, 24, 10, 0, 1, 0, time.UTC)) {
		t.Fatalf("finished at %v", d.RunFinishedAt)
	}

	// Older payloads: webhooksID, numeric ids, an errored event without a
	// finish time.
	errored := `{"accountId": 1, "webhooksID": "wsu_9", "eventId": "wev_3", "eventType": "job.run.errored",
	  "data": {"jobId": 301, "runId": 70000002, "runStatus": "Errored", "runStatusCode": 20,
	    "runErroredAt": "2026-11-24 10:03:00.5+00:00"}}`
	ev, err = ParseWebhookEvent([]byte(errored))
	if err != nil {
		t.Fatal(err)
	}
	if ev.WebhookID != "wsu_9" || ev.Data.RunID != 70000002 || ev.Data.RunErroredAt.IsZero() || !ev.Data.RunFinishedAt.IsZero() {
		t.Fatalf("older event %+v", ev)
	}

	for _, bad := range []struct{ name, body, want string }{
		{"not JSON", `{`, "not valid JSON"},
		{"no event id", `{"eventType":"job.run.started","data":{"runId":"1"}}`, "eventId"},
		{"no type", `{"eventId":"wev_1","data":{"runId":"1"}}`, "eventType"},
		{"no run", `{"eventId":"wev_1","eventType":"job.run.started","data":{}}`, "runId"},
		{"bad id", `{"eventId":"wev_1","eventType":"job.run.started","data":{"runId":"x1"}}`, "runId"},
	} {
		if _, err := ParseWebhookEvent([]byte(bad.body)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: err = %v, want one naming %q", bad.name, err, bad.want)
		}
	}
}
