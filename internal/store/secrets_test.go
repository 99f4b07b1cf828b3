package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dbtlink/dbtlink/internal/store"
)

var errRollback = errors.New("roll back")

func TestSecretsNotSealedWith(t *testing.T) {
	t.Parallel()
	eachWithClock(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := t.Context()
		for _, c := range []store.Connection{newConnection("a"), newConnection("b")} {
			_, err := s.CreateConnection(ctx, c)
			must(t, err)
		}
		must(t, s.PutWebhookSubscription(ctx, store.WebhookSubscription{Connection: "a", SubscriptionID: "s1",
			URL: "https://x/webhooks/dbt-cloud/a", SealedSecret: []byte("sealed:hook"), KeyID: "key1"}))

		got, err := s.SecretsNotSealedWith(ctx, "key2")
		must(t, err)
		want := []store.SealedSecret{
			{Kind: store.SecretConnection, Name: "a", Sealed: []byte("sealed:a"), KeyID: "key1"},
			{Kind: store.SecretConnection, Name: "b", Sealed: []byte("sealed:b"), KeyID: "key1"},
			{Kind: store.SecretWebhook, Name: "a", Sealed: []byte("sealed:hook"), KeyID: "key1"},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("SecretsNotSealedWith (-want +got):\n%s", diff)
		}

		// An update in a transaction that rolls back changes nothing.
		err = s.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.UpdateSecret(ctx, store.SealedSecret{Kind: store.SecretConnection, Name: "a", Sealed: []byte("new"), KeyID: "key2"}); err != nil {
				return err
			}
			return errRollback
		})
		wantErr(t, err, errRollback)
		if got, _ := s.SecretsNotSealedWith(ctx, "key2"); len(got) != 3 {
			t.Fatalf("after a rollback %d secrets left, want 3", len(got))
		}

		clk.Advance(time.Second)
		must(t, s.UpdateSecret(ctx, store.SealedSecret{Kind: store.SecretConnection, Name: "a", Sealed: []byte("new:a"), KeyID: "key2"}))
		must(t, s.UpdateSecret(ctx, store.SealedSecret{Kind: store.SecretWebhook, Name: "a", Sealed: []byte("new:hook"), KeyID: "key2"}))
		got, err = s.SecretsNotSealedWith(ctx, "key2")
		must(t, err)
		if diff := cmp.Diff(want[1:2], got); diff != "" {
			t.Fatalf("after updates (-want +got):\n%s", diff)
		}
		c, err := s.GetConnection(ctx, "a")
		must(t, err)
		if string(c.SealedToken) != "new:a" || c.KeyID != "key2" || !c.UpdatedAt.Equal(stored(clk.Now())) {
			t.Errorf("connection a: sealed %q key %q updated %v", c.SealedToken, c.KeyID, c.UpdatedAt)
		}
		h, err := s.GetWebhookSubscription(ctx, "a")
		must(t, err)
		if string(h.SealedSecret) != "new:hook" || h.KeyID != "key2" {
			t.Errorf("webhook a: sealed %q key %q", h.SealedSecret, h.KeyID)
		}

		wantErr(t, s.UpdateSecret(ctx, store.SealedSecret{Kind: store.SecretWebhook, Name: "b", Sealed: []byte("x"), KeyID: "k"}), store.ErrNotFound)
		if err := s.UpdateSecret(ctx, store.SealedSecret{Kind: "nope", Name: "a"}); err == nil {
			t.Error("UpdateSecret of an unknown kind succeeded")
		}
	})
}
