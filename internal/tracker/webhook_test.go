package tracker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/store/storetest"
	"github.com/dbtlink/dbtlink/internal/tracker"
)

// event builds a dbt Cloud delivery body for a run.
func event(id string, accountID, runID int64, typ string, status dbtcloud.RunStatus, finished time.Time) []byte {
	data := map[string]any{"jobId": "303", "runId": fmt.Sprint(runID), "runStatusCode": int(status),
		"runStatus": "x", "runStatusMessage": "None", "runStartedAt": finished.Add(-time.Minute).Format(time.RFC3339Nano)}
	if !finished.IsZero() {
		data["runFinishedAt"] = finished.Format(time.RFC3339Nano)
	}
	b, _ := json.Marshal(map[string]any{"accountId": accountID, "webhookId": "wsu_1", "eventId": id,
		"timestamp": finished.Format(time.RFC3339Nano), "eventType": typ, "data": data})
	return b
}

func apply(t *testing.T, b *bundle, body []byte) tracker.WebhookOutcome {
	t.Helper()
	ev, err := dbtcloud.ParseWebhookEvent(body)
	if err != nil {
		t.Fatal(err)
	}
	o, err := b.tr.ApplyWebhook(context.Background(), "emu", ev, body)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestApplyWebhook(t *testing.T) {
	t.Parallel()
	for _, be := range storetest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, be)
			ctx := context.Background()
			// The slow job runs for 20 emulated minutes: only the webhook
			// can end it within the test.
			r, err := b.tr.CreateRun(ctx, tracker.RunRequest{JobID: emulator.DemoSlowJobID, Artifacts: []string{}})
			if err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(20 * time.Second)
			for r.DbtRunID == 0 && time.Now().Before(deadline) {
				r, _ = b.tr.WaitRun(ctx, r.ID, 50*time.Millisecond)
			}
			if r.DbtRunID == 0 {
				t.Fatal("the run was not triggered")
			}

			// An event for a run nobody tracks (yet) is recorded for later.
			if o := apply(t, b, event("wev_other", b.emu.AccountID, 99999999, dbtcloud.EventJobRunCompleted, dbtcloud.RunStatusSuccess, time.Now())); o != tracker.WebhookRecorded {
				t.Fatalf("untracked run: outcome %q", o)
			}
			// Another account's event is refused.
			ev, _ := dbtcloud.ParseWebhookEvent(event("wev_acct", 424242, r.DbtRunID, dbtcloud.EventJobRunCompleted, dbtcloud.RunStatusSuccess, time.Now()))
			if _, err := b.tr.ApplyWebhook(ctx, "emu", ev, nil); err == nil {
				t.Fatal("an event of another account was applied")
			}

			fin := time.Now().UTC().Truncate(time.Millisecond)
			body := event("wev_end", b.emu.AccountID, r.DbtRunID, dbtcloud.EventJobRunErrored, dbtcloud.RunStatusError, fin)
			if o := apply(t, b, body); o != tracker.WebhookApplied {
				t.Fatalf("outcome %q, want applied", o)
			}
			if o := apply(t, b, body); o != tracker.WebhookDuplicate {
				t.Fatalf("repeat: outcome %q, want duplicate", o)
			}
			got, err := b.tr.GetRun(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != store.RunError || got.SettledAt.IsZero() || !got.FinishedAt.Equal(fin) {
				t.Fatalf("after the webhook: state %s settled %v finished %v (want %v)", got.State, got.SettledAt, got.FinishedAt, fin)
			}
			// A late event never reopens a settled run.
			if o := apply(t, b, event("wev_late", b.emu.AccountID, r.DbtRunID, dbtcloud.EventJobRunStarted, dbtcloud.RunStatusRunning, time.Time{})); o != tracker.WebhookApplied {
				t.Fatalf("late event: outcome %q", o)
			}
			if got, _ := b.tr.GetRun(ctx, r.ID); got.State != store.RunError {
				t.Fatalf("a late started event moved the run to %s", got.State)
			}
		})
	}
}
