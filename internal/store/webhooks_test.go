package store_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/google/go-cmp/cmp"
)

func TestWebhookSubscriptions(t *testing.T) {
	t.Parallel()
	eachWithClock(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := t.Context()
		_, err := s.GetWebhookSubscription(ctx, "prod")
		wantErr(t, err, store.ErrNotFound)

		sub := store.WebhookSubscription{Connection: "prod", SubscriptionID: "wsub_1", URL: "https://dbtlink.example/hooks/prod", SealedSecret: []byte("sealed"), KeyID: "k1"}
		must(t, s.PutWebhookSubscription(ctx, sub))
		got, err := s.GetWebhookSubscription(ctx, "prod")
		must(t, err)
		sub.CreatedAt = stored(clk.Now())
		if diff := cmp.Diff(sub, got); diff != "" {
			t.Errorf("GetWebhookSubscription (-want +got):\n%s", diff)
		}

		// Putting again replaces it.
		sub2 := store.WebhookSubscription{Connection: "prod", SubscriptionID: "wsub_2", URL: "https://new/", SealedSecret: []byte("sealed2"), KeyID: "k2", CreatedAt: clk.Now().Add(time.Hour)}
		must(t, s.PutWebhookSubscription(ctx, sub2))
		got, err = s.GetWebhookSubscription(ctx, "prod")
		must(t, err)
		sub2.CreatedAt = stored(sub2.CreatedAt)
		if diff := cmp.Diff(sub2, got); diff != "" {
			t.Errorf("after a second put (-want +got):\n%s", diff)
		}

		must(t, s.DeleteWebhookSubscription(ctx, "prod"))
		wantErr(t, s.DeleteWebhookSubscription(ctx, "prod"), store.ErrNotFound)
	})
}

func TestWebhookEvents(t *testing.T) {
	t.Parallel()
	eachWithClock(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := t.Context()
		last, err := s.LastWebhookAt(ctx, "prod")
		must(t, err)
		if !last.IsZero() {
			t.Errorf("LastWebhookAt with no events = %v, want zero", last)
		}

		event := func(id string, dbtRunID int64) store.WebhookEvent {
			clk.Advance(time.Second)
			return store.WebhookEvent{
				EventID: id, Connection: "prod", AccountID: 42, DbtRunID: dbtRunID, EventType: "job.run.completed",
				DbtStatus: 10, Payload: []byte(`{"eventId":"` + id + `","data":{"runStatus":"Success"}}`),
			}
		}
		e1 := event("ev1", 900)
		inserted, err := s.RecordWebhookEvent(ctx, e1)
		must(t, err)
		if !inserted {
			t.Fatal("first delivery not inserted")
		}
		// A redelivery, even with other content, changes nothing.
		again := e1
		again.DbtStatus, again.Payload = 20, []byte(`{}`)
		inserted, err = s.RecordWebhookEvent(ctx, again)
		must(t, err)
		if inserted {
			t.Error("repeated event id inserted")
		}
		e2 := event("ev2", 900)
		_, err = s.RecordWebhookEvent(ctx, e2)
		must(t, err)
		_, err = s.RecordWebhookEvent(ctx, event("ev3", 901))
		must(t, err)

		pending, err := s.PendingWebhookEvents(ctx, 42, 900)
		must(t, err)
		// event advanced the clock before each: ev1, ev2, ev3.
		e1.ReceivedAt = stored(clk.Now().Add(-2 * time.Second))
		e2.ReceivedAt = stored(clk.Now().Add(-time.Second))
		if diff := cmp.Diff([]store.WebhookEvent{e1, e2}, pending); diff != "" {
			t.Errorf("PendingWebhookEvents (-want +got):\n%s", diff)
		}
		var payload map[string]any
		if err := json.Unmarshal(pending[0].Payload, &payload); err != nil || payload["eventId"] != "ev1" {
			t.Errorf("payload decodes as %v, %v", payload, err)
		}

		must(t, s.MarkWebhookEventApplied(ctx, "ev1", clk.Now()))
		wantErr(t, s.MarkWebhookEventApplied(ctx, "nope", clk.Now()), store.ErrNotFound)
		pending, err = s.PendingWebhookEvents(ctx, 42, 900)
		must(t, err)
		if len(pending) != 1 || pending[0].EventID != "ev2" {
			t.Errorf("pending after applying ev1 = %+v", pending)
		}

		last, err = s.LastWebhookAt(ctx, "prod")
		must(t, err)
		if want := stored(clk.Now()); !last.Equal(want) { // ev3's
			t.Errorf("LastWebhookAt = %v, want %v", last, want)
		}
	})
}

func TestPollCursor(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		got, err := s.PollCursor(ctx, "prod")
		must(t, err)
		if !got.IsZero() {
			t.Errorf("PollCursor with none = %v, want zero", got)
		}
		at := time.Date(2025, 1, 2, 3, 4, 5, 678901234, time.Local)
		for _, v := range []time.Time{at, at.Add(time.Hour)} {
			must(t, s.SetPollCursor(ctx, "prod", v))
			got, err = s.PollCursor(ctx, "prod")
			must(t, err)
			if !got.Equal(stored(v)) || got.Location() != time.UTC {
				t.Errorf("PollCursor = %v, want %v", got, stored(v))
			}
		}
		other, err := s.PollCursor(ctx, "dev")
		must(t, err)
		if !other.IsZero() {
			t.Errorf("another connection's cursor = %v", other)
		}
		must(t, s.SetPollCursor(ctx, "prod", time.Time{}))
		got, err = s.PollCursor(ctx, "prod")
		must(t, err)
		if !got.IsZero() {
			t.Errorf("after a reset PollCursor = %v", got)
		}
	})
}
