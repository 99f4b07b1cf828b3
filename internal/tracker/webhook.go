package tracker

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/internal/store"
)

// WebhookOutcome says what a verified delivery did.
type WebhookOutcome string

// The outcomes of ApplyWebhook.
const (
	// WebhookApplied: the event settled or updated a tracked run.
	WebhookApplied WebhookOutcome = "applied"
	// WebhookRecorded: no tracked run matches (yet); the event is kept and
	// applied if a run with that id is recorded later, which happens when
	// dbt Cloud's webhook outruns the answer to our trigger.
	WebhookRecorded WebhookOutcome = "recorded"
	// WebhookDuplicate: the event id was seen before; nothing changed.
	WebhookDuplicate WebhookOutcome = "duplicate"
)

// WebhookSecret opens the HMAC secret of a connection's subscription.
func (t *Tracker) WebhookSecret(ctx context.Context, conn string) (string, error) {
	s, err := t.st.GetWebhookSubscription(ctx, conn)
	if err != nil {
		return "", fmt.Errorf("webhook subscription of %q: %w", conn, err)
	}
	tok, err := t.cfg.Keys.OpenSecret(conn, webhookRecord(conn), s.SealedSecret)
	if err != nil {
		return "", fmt.Errorf("webhook subscription of %q: %w", conn, err)
	}
	return tok.Reveal(), nil
}

// ApplyWebhook records a verified event once and applies it to the run it
// names. The caller has checked the signature.
func (t *Tracker) ApplyWebhook(ctx context.Context, conn string, ev *dbtcloud.WebhookEvent, raw []byte) (WebhookOutcome, error) {
	c, err := t.st.GetConnection(ctx, conn)
	if err != nil {
		return "", fmt.Errorf("connection %q: %w", conn, err)
	}
	if ev.AccountID != 0 && ev.AccountID != c.AccountID {
		return "", &InputError{Msg: fmt.Sprintf("the event is for account %d but connection %q is account %d", ev.AccountID, conn, c.AccountID)}
	}
	e := store.WebhookEvent{
		EventID: ev.EventID, Connection: conn, AccountID: c.AccountID, DbtRunID: ev.Data.RunID,
		EventType: ev.EventType, DbtStatus: int(ev.Data.RunStatusCode), Payload: raw, ReceivedAt: t.cfg.Now().UTC(),
	}
	inserted, err := t.st.RecordWebhookEvent(ctx, e)
	if err != nil {
		return "", fmt.Errorf("record webhook event %s: %w", ev.EventID, err)
	}
	if !inserted {
		return WebhookDuplicate, nil
	}
	r, err := t.st.RunByDbtID(ctx, c.AccountID, ev.Data.RunID)
	if errors.Is(err, store.ErrNotFound) {
		// A run dbtlink does not track (scheduled in dbt Cloud) built
		// something: the catalog follows. Tracked runs sync once
		// finalized.
		if ev.EventType == "job.run.completed" {
			t.enqueueCatalogSync(ctx, conn, "webhook")
		}
		return WebhookRecorded, nil
	}
	if err != nil {
		return "", err
	}
	if err := t.applyEvents(ctx, r, []store.WebhookEvent{e}); err != nil {
		return "", err
	}
	return WebhookApplied, nil
}

// applyPendingEvents applies events that arrived before the run's dbt
// Cloud id was known.
func (t *Tracker) applyPendingEvents(ctx context.Context, r store.Run) error {
	evs, err := t.st.PendingWebhookEvents(ctx, r.AccountID, r.DbtRunID)
	if err != nil || len(evs) == 0 {
		return err
	}
	return t.applyEvents(ctx, r, evs)
}

// applyEvents settles or advances r from webhook events, in order, and
// marks them applied. An ending event settles the run at once; its steps
// and failing nodes are read by the finalize job.
func (t *Tracker) applyEvents(ctx context.Context, r store.Run, evs []store.WebhookEvent) error {
	var ended bool
	err := t.st.InTx(ctx, func(tx *store.Tx) error {
		for _, e := range evs {
			full, err := dbtcloud.ParseWebhookEvent(e.Payload)
			if err != nil {
				return fmt.Errorf("stored event %s: %w", e.EventID, err)
			}
			st := dbtcloud.RunStatus(e.DbtStatus)
			if full.Data.RunID == r.DbtRunID {
				u := store.RunUpdate{State: ptr(stateOf(st)), DbtStatus: ptr(int(st)), IfActive: true}
				if full.Data.RunStatusMessage != "" && full.Data.RunStatusMessage != "None" {
					u.StatusMessage = &full.Data.RunStatusMessage
				}
				if !full.Data.RunStartedAt.IsZero() {
					u.StartedAt = ptr(full.Data.RunStartedAt.Time)
				}
				fin := full.Data.RunFinishedAt
				if fin.IsZero() {
					fin = full.Data.RunErroredAt
				}
				if !fin.IsZero() {
					u.FinishedAt = ptr(fin.Time)
				}
				if st.Terminal() {
					ok, err := t.settle(ctx, tx, r, u)
					if err != nil {
						return err
					}
					ended = ended || ok
					if ok && !fin.IsZero() {
						r.FinishedAt = fin.Time
					}
				} else if _, _, err := tx.UpdateRun(ctx, r.ID, u); err != nil {
					return err
				}
			}
			if err := tx.MarkWebhookEventApplied(ctx, e.EventID, t.cfg.Now().UTC()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("apply webhook events to run %d: %w", r.ID, err)
	}
	if ended {
		t.log.Info("run ended (webhook)", "run", r.ID, "dbt_run", r.DbtRunID)
		t.settled(r)
	}
	return nil
}

// Subscribe creates a dbt Cloud webhook subscription for the connection's
// account that posts to url (job.run.started, completed and errored, all
// jobs), and stores its secret sealed. An existing subscription of the
// connection is replaced in the store; the old one is deleted in dbt Cloud.
func (t *Tracker) Subscribe(ctx context.Context, conn, rawURL string) (*dbtcloud.WebhookSubscription, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, &InputError{Msg: fmt.Sprintf("webhook URL %q must be an absolute http(s) URL that dbt Cloud can reach, ending in /webhooks/dbt-cloud/%s", rawURL, conn)}
	}
	cl, c, err := t.client(ctx, conn)
	if err != nil {
		return nil, err
	}
	old, oldErr := t.st.GetWebhookSubscription(ctx, c.Name)
	sub, _, err := cl.Webhooks.Create(ctx, c.AccountID, &dbtcloud.WebhookSubscriptionRequest{
		Name:        "dbtlink " + c.Name,
		Description: "Run events for dbtlink serve",
		ClientURL:   u.String(),
		EventTypes:  []string{dbtcloud.EventJobRunStarted, dbtcloud.EventJobRunCompleted, dbtcloud.EventJobRunErrored},
		Active:      true,
	})
	if err != nil {
		return nil, fmt.Errorf("create the webhook subscription in dbt Cloud: %w", err)
	}
	if sub.HMACSecret == "" {
		return nil, fmt.Errorf("dbt Cloud created subscription %s but sent no secret; delete it in dbt Cloud and try again", sub.ID)
	}
	sealed, keyID, err := t.cfg.Keys.SealSecret(webhookRecord(c.Name), sub.HMACSecret)
	if err != nil {
		return nil, fmt.Errorf("seal the webhook secret: %w", err)
	}
	if err := t.st.PutWebhookSubscription(ctx, store.WebhookSubscription{
		Connection: c.Name, SubscriptionID: sub.ID, URL: u.String(), SealedSecret: sealed, KeyID: keyID,
	}); err != nil {
		return nil, fmt.Errorf("store the webhook subscription %s (it exists in dbt Cloud; delete it there if you give up): %w", sub.ID, err)
	}
	if oldErr == nil && old.SubscriptionID != "" && old.SubscriptionID != sub.ID {
		if _, err := cl.Webhooks.Delete(ctx, c.AccountID, old.SubscriptionID); err != nil && !errors.Is(err, dbtcloud.ErrNotFound) {
			t.log.Warn("could not delete the replaced webhook subscription; delete it in dbt Cloud", "subscription", old.SubscriptionID, "error", err)
		}
	}
	sub.HMACSecret = ""
	return sub, nil
}
