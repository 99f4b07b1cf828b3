package store

import (
	"context"
	"time"
)

const webhookSubscriptionColumns = `connection, subscription_id, url, sealed_secret, key_id, created_at`

// PutWebhookSubscription stores s as the subscription of s.Connection,
// replacing any previous one. A zero CreatedAt is set to now.
func (q queries) PutWebhookSubscription(ctx context.Context, s WebhookSubscription) error {
	createdAt := q.t(s.CreatedAt)
	if createdAt == nil {
		createdAt, _ = q.nowArg()
	}
	_, err := q.exec(ctx, `INSERT INTO webhook_subscriptions (`+webhookSubscriptionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (connection) DO UPDATE SET
			subscription_id = excluded.subscription_id,
			url = excluded.url,
			sealed_secret = excluded.sealed_secret,
			key_id = excluded.key_id,
			created_at = excluded.created_at`,
		s.Connection, s.SubscriptionID, s.URL, s.SealedSecret, s.KeyID, createdAt)
	if err != nil {
		return wrap(err, "put webhook subscription of connection %q", s.Connection)
	}
	return nil
}

// GetWebhookSubscription returns the subscription of the connection, or
// ErrNotFound.
func (q queries) GetWebhookSubscription(ctx context.Context, connection string) (WebhookSubscription, error) {
	var s WebhookSubscription
	err := q.queryRow(ctx, `SELECT `+webhookSubscriptionColumns+` FROM webhook_subscriptions WHERE connection = $1`, connection).
		Scan(&s.Connection, &s.SubscriptionID, &s.URL, &s.SealedSecret, &s.KeyID, scanTime(&s.CreatedAt))
	if err != nil {
		return WebhookSubscription{}, wrap(err, "get webhook subscription of connection %q", connection)
	}
	return s, nil
}

// DeleteWebhookSubscription deletes the subscription of the connection,
// or returns ErrNotFound.
func (q queries) DeleteWebhookSubscription(ctx context.Context, connection string) error {
	if err := q.execOne(ctx, `DELETE FROM webhook_subscriptions WHERE connection = $1`, connection); err != nil {
		return wrap(err, "delete webhook subscription of connection %q", connection)
	}
	return nil
}

const webhookEventColumns = `event_id, connection, account_id, dbt_run_id, event_type, dbt_status, payload, received_at, applied_at`

// RecordWebhookEvent stores e once per EventID. dbt Cloud delivers at
// least once, so a repeat is expected: it returns inserted false and
// changes nothing. A zero ReceivedAt is set to now.
func (q queries) RecordWebhookEvent(ctx context.Context, e WebhookEvent) (inserted bool, err error) {
	receivedAt := q.t(e.ReceivedAt)
	if receivedAt == nil {
		receivedAt, _ = q.nowArg()
	}
	res, err := q.exec(ctx, `INSERT INTO webhook_events (`+webhookEventColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (event_id) DO NOTHING`,
		e.EventID, e.Connection, e.AccountID, e.DbtRunID, e.EventType, e.DbtStatus, nullBytes(e.Payload), receivedAt, q.t(e.AppliedAt))
	if err != nil {
		return false, wrap(err, "record webhook event %q", e.EventID)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, wrap(err, "record webhook event %q", e.EventID)
	}
	return n == 1, nil
}

// PendingWebhookEvents returns the events of dbt Cloud run dbtRunID of
// account accountID that no tracked run has applied yet, oldest first.
func (q queries) PendingWebhookEvents(ctx context.Context, accountID, dbtRunID int64) ([]WebhookEvent, error) {
	rows, err := q.query(ctx, `SELECT `+webhookEventColumns+` FROM webhook_events
		WHERE account_id = $1 AND dbt_run_id = $2 AND applied_at IS NULL
		ORDER BY received_at, id`, accountID, dbtRunID)
	if err != nil {
		return nil, wrap(err, "list pending webhook events of dbt Cloud run %d", dbtRunID)
	}
	list, err := collect(rows, func(sc interface{ Scan(...any) error }) (WebhookEvent, error) {
		var e WebhookEvent
		err := sc.Scan(&e.EventID, &e.Connection, &e.AccountID, &e.DbtRunID, &e.EventType, &e.DbtStatus, &e.Payload,
			scanTime(&e.ReceivedAt), scanTime(&e.AppliedAt))
		return e, err
	})
	if err != nil {
		return nil, wrap(err, "list pending webhook events of dbt Cloud run %d", dbtRunID)
	}
	return list, nil
}

// MarkWebhookEventApplied records that the event was applied to a tracked
// run at at, or returns ErrNotFound.
func (q queries) MarkWebhookEventApplied(ctx context.Context, eventID string, at time.Time) error {
	if err := q.execOne(ctx, `UPDATE webhook_events SET applied_at = $2 WHERE event_id = $1`, eventID, q.t(at)); err != nil {
		return wrap(err, "mark webhook event %q applied", eventID)
	}
	return nil
}

// LastWebhookAt returns when the connection last received a webhook event,
// or the zero time if it never did.
func (q queries) LastWebhookAt(ctx context.Context, connection string) (time.Time, error) {
	var t time.Time
	err := q.queryRow(ctx, `SELECT max(received_at) FROM webhook_events WHERE connection = $1`, connection).Scan(scanTime(&t))
	if err != nil {
		return time.Time{}, wrap(err, "get the last webhook event of connection %q", connection)
	}
	return t, nil
}
