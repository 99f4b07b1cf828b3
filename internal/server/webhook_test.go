package server

import (
	"errors"
	"strings"
	"testing"
)

func TestWebhook(t *testing.T) {
	t.Parallel()
	good := webhookBody("ev-1", 9001)
	tests := []struct {
		name    string
		conn    string
		body    string
		auth    *header // nil: no Authorization header
		outcome WebhookOutcome
		status  int
		code    string
		words   []string
		counted string // the delivery outcome counted
		applied bool
	}{
		{name: "good signature", conn: "prod", body: good, auth: ptr(signed(good)), status: 200, counted: "applied", applied: true},
		{name: "recorded for later", conn: "prod", body: good, auth: ptr(signed(good)), outcome: WebhookRecorded, status: 200, counted: "recorded", applied: true},
		{name: "uppercase hex signature", conn: "prod", body: good, auth: &header{"Authorization", strings.ToUpper(signed(good).value)}, status: 200, counted: "applied", applied: true},
		{name: "bad signature", conn: "prod", body: good, auth: &header{"Authorization", signed(good + " ").value}, status: 401, code: codeUnauthorized, words: []string{"HMAC"}, counted: "bad_signature"},
		{name: "not hex", conn: "prod", body: good, auth: &header{"Authorization", "Bearer " + webhookSecret}, status: 401, code: codeUnauthorized, counted: "bad_signature"},
		{name: "missing signature", conn: "prod", body: good, status: 401, code: codeUnauthorized, counted: "bad_signature"},
		// The signature is checked before the body is parsed: garbage
		// without a valid signature is a 401, not a 400.
		{name: "unsigned garbage", conn: "prod", body: "{not json", auth: &header{"Authorization", "00"}, status: 401, code: codeUnauthorized, counted: "bad_signature"},
		{name: "signed garbage", conn: "prod", body: "{not json", auth: ptr(signed("{not json")), status: 400, code: codeBadRequest, words: []string{"not valid JSON"}, counted: "bad_payload"},
		{name: "signed event without run id", conn: "prod", body: `{"eventId":"e","eventType":"job.run.started","data":{}}`,
			auth: ptr(signed(`{"eventId":"e","eventType":"job.run.started","data":{}}`)), status: 400, code: codeBadRequest, words: []string{"runId"}, counted: "bad_payload"},
		{name: "unknown connection", conn: "staging", body: good, auth: ptr(signed(good)), status: 404, code: codeNotFound,
			words: []string{`"staging"`, "dbtlink webhook subscribe"}, counted: "unknown_connection"},
		{name: "too large", conn: "prod", body: `{"x":"` + strings.Repeat("a", DefaultMaxBodyBytes) + `"}`, auth: &header{"Authorization", "00"}, status: 413, code: codeTooLarge, counted: "bad_payload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			if tt.outcome != "" {
				b.be.outcome = tt.outcome
			}
			var hdrs []header
			if tt.auth != nil {
				hdrs = append(hdrs, *tt.auth)
			}
			w := b.do(t, "POST", "/webhooks/dbt-cloud/"+tt.conn, "", tt.body, hdrs...)
			if tt.code != "" {
				wantError(t, w, tt.status, tt.code, tt.words...)
			} else {
				wantStatus(t, w, tt.status)
				if got := decode[map[string]string](t, w)["outcome"]; got != tt.counted {
					t.Errorf("outcome %q, want %q", got, tt.counted)
				}
			}
			if got := b.counter(t, "dbtlink_webhook_deliveries_total", tt.counted); got != 1 {
				t.Errorf("deliveries{outcome=%q} = %v, want 1", tt.counted, got)
			}
			if applied := len(b.be.applied) > 0; applied != tt.applied {
				t.Errorf("applied = %t, want %t", applied, tt.applied)
			}
			if tt.applied && (b.be.applied[0].EventID != "ev-1" || b.be.applied[0].Data.RunID != 9001) {
				t.Errorf("applied %+v", b.be.applied[0])
			}
		})
	}
}

func TestWebhookDuplicate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := webhookBody("ev-dup", 9001)
	for i, want := range []string{"applied", "duplicate"} {
		w := b.do(t, "POST", "/webhooks/dbt-cloud/prod", "", body, signed(body))
		wantStatus(t, w, 200)
		if got := decode[map[string]string](t, w)["outcome"]; got != want {
			t.Errorf("delivery %d: outcome %q, want %q", i+1, got, want)
		}
	}
	if got := b.counter(t, "dbtlink_webhook_deliveries_total", "duplicate"); got != 1 {
		t.Errorf("duplicates counted %v, want 1", got)
	}
}

func TestWebhookBackendFailure(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.be.errs["ApplyWebhook"] = errors.New("database is locked")
	body := webhookBody("ev-1", 9001)
	// A 500 makes dbt Cloud deliver again later.
	wantError(t, b.do(t, "POST", "/webhooks/dbt-cloud/prod", "", body, signed(body)), 500, codeInternal)
}
