package tracker

import (
	"strings"
	"testing"

	"github.com/dbtlink/dbtlink/internal/connection"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/store/storetest"
)

func newKeys(t *testing.T) *connection.Store {
	t.Helper()
	keys, err := connection.NewStore(t.TempDir(), connection.WithGetenv(func(string) string { return "" }))
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func newKey(t *testing.T) connection.Key {
	t.Helper()
	k, err := connection.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// A rotation of the key file followed by ResealSecrets leaves every secret
// of the database sealed with the new key and still the same secret; one
// that cannot be opened aborts it with nothing changed, and running it
// again once the cause is gone finishes the work.
func TestResealSecrets(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			st := storetest.Open(t, b)
			keys := newKeys(t)
			secrets := map[string]string{} // record id -> secret
			for _, name := range []string{"alpha", "beta"} {
				tok := "dbtc_token_of_" + name
				sealed, keyID, err := keys.SealSecret(connectionRecord(name), tok)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := st.CreateConnection(ctx, store.Connection{Name: name, Host: "cloud.getdbt.com", AccountID: 1, SealedToken: sealed, KeyID: keyID}); err != nil {
					t.Fatal(err)
				}
				secrets[connectionRecord(name)] = tok
			}
			hook, keyID, err := keys.SealSecret(webhookRecord("alpha"), "hmac-secret")
			if err != nil {
				t.Fatal(err)
			}
			if err := st.PutWebhookSubscription(ctx, store.WebhookSubscription{Connection: "alpha", SubscriptionID: "wsub",
				URL: "https://dbtlink.example/webhooks/dbt-cloud/alpha", SealedSecret: hook, KeyID: keyID}); err != nil {
				t.Fatal(err)
			}
			secrets[webhookRecord("alpha")] = "hmac-secret"
			whSealed, whKey, err := keys.SealSecret(connection.WarehouseRecordID("dw"), "warehouse-password")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.CreateWarehouse(ctx, store.Warehouse{Name: "dw", Type: "postgres", Config: []byte(`{}`), SealedSecret: whSealed, KeyID: whKey}); err != nil {
				t.Fatal(err)
			}
			// A warehouse without a password has nothing to re-seal.
			if _, err := st.CreateWarehouse(ctx, store.Warehouse{Name: "duck", Type: "duckdb", Config: []byte(`{}`)}); err != nil {
				t.Fatal(err)
			}
			// check opens every secret through keys and wants it sealed with keyID.
			check := func(keyID string) {
				t.Helper()
				conns, err := st.ListConnections(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range conns {
					if c.KeyID != keyID {
						t.Errorf("connection %s sealed with %s, want %s", c.Name, c.KeyID, keyID)
					}
					tok, err := keys.OpenSecret(c.Name, connectionRecord(c.Name), c.SealedToken)
					if err != nil || tok.Reveal() != secrets[connectionRecord(c.Name)] {
						t.Errorf("connection %s does not open to its token: %v", c.Name, err)
					}
				}
				h, err := st.GetWebhookSubscription(ctx, "alpha")
				if err != nil {
					t.Fatal(err)
				}
				tok, err := keys.OpenSecret("alpha", webhookRecord("alpha"), h.SealedSecret)
				if h.KeyID != keyID || err != nil || tok.Reveal() != "hmac-secret" {
					t.Errorf("webhook secret: key %s (want %s), opens: %v", h.KeyID, keyID, err)
				}
				w, err := st.GetWarehouse(ctx, "dw")
				if err != nil {
					t.Fatal(err)
				}
				wtok, err := keys.OpenSecret("dw", connection.WarehouseRecordID("dw"), w.SealedSecret)
				if w.KeyID != keyID || err != nil || wtok.Reveal() != "warehouse-password" {
					t.Errorf("warehouse password: key %s (want %s), opens: %v", w.KeyID, keyID, err)
				}
			}
			old := keyID

			// A secret sealed by another key store cannot be opened here:
			// the rotation stops with nothing changed.
			strange, strangeKey, err := newKeys(t).SealSecret(connectionRecord("zulu"), "other")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.CreateConnection(ctx, store.Connection{Name: "zulu", Host: "cloud.getdbt.com", AccountID: 1, SealedToken: strange, KeyID: strangeKey}); err != nil {
				t.Fatal(err)
			}
			k2 := newKey(t)
			if _, err := keys.RotateKey(k2); err != nil {
				t.Fatal(err)
			}
			_, err = ResealSecrets(ctx, st, keys, k2)
			if err == nil || !strings.Contains(err.Error(), "nothing was changed") || !strings.Contains(err.Error(), "zulu") {
				t.Fatalf("ResealSecrets with an unknown key: %v", err)
			}
			if err := st.DeleteConnection(ctx, "zulu"); err != nil {
				t.Fatal(err)
			}
			check(old) // untouched, and still readable with the kept key

			// Run again (a new rotation, as `rotate-key` does): all done.
			k3 := newKey(t)
			if _, err := keys.RotateKey(k3); err != nil {
				t.Fatal(err)
			}
			res, err := ResealSecrets(ctx, st, keys, k3)
			if err != nil {
				t.Fatal(err)
			}
			if res.Resealed[store.SecretConnection] != 2 || res.Resealed[store.SecretWebhook] != 1 || res.Resealed[store.SecretWarehouse] != 1 || res.Total() != 4 {
				t.Errorf("resealed %v, want 2 connections, 1 webhook and 1 warehouse", res.Resealed)
			}
			check(k3.ID())

			// Nothing is left to do with the same key.
			if res, err := ResealSecrets(ctx, st, keys, k3); err != nil || res.Total() != 0 {
				t.Errorf("second ResealSecrets: %v, %v; want nothing to do", res.Resealed, err)
			}
		})
	}
}
