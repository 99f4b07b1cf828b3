package store

import (
	"context"
	"fmt"
)

// SecretKind names where a sealed secret of the database is kept.
type SecretKind string

// The kinds of sealed secrets.
const (
	// SecretConnection is a connection's dbt Cloud token
	// (connections.sealed_token).
	SecretConnection SecretKind = "connection"
	// SecretWebhook is a webhook subscription's HMAC secret
	// (webhook_subscriptions.sealed_secret).
	SecretWebhook SecretKind = "webhook"
	// SecretWarehouse is a warehouse connection's password
	// (warehouses.sealed_secret).
	SecretWarehouse SecretKind = "warehouse"
)

// SealedSecret is one sealed secret of the database, as key rotation sees
// it: the envelope, the id of the key that sealed it, and the name of the
// row it belongs to (the connection's or the warehouse's name).
type SealedSecret struct {
	Kind   SecretKind
	Name   string
	Sealed []byte
	KeyID  string
}

// secretTable is a table column that holds sealed secrets.
type secretTable struct {
	kind    SecretKind
	table   string
	name    string // the key column
	sealed  string
	updated bool // the table has updated_at
}

// secretTables are every place the database keeps a sealed secret; key
// rotation re-seals exactly these. A new sealed column (a warehouse's
// password) joins rotation by one entry here and the record id its sealer
// binds it to (tracker.ResealSecrets).
var secretTables = []secretTable{
	{kind: SecretConnection, table: "connections", name: "name", sealed: "sealed_token", updated: true},
	{kind: SecretWebhook, table: "webhook_subscriptions", name: "connection", sealed: "sealed_secret"},
	{kind: SecretWarehouse, table: "warehouses", name: "name", sealed: "sealed_secret", updated: true},
}

// SecretsNotSealedWith lists the sealed secrets whose key id is not keyID,
// by kind then name: what a rotation to keyID has left to do. Rows without
// a secret (NULL) are not listed.
func (q queries) SecretsNotSealedWith(ctx context.Context, keyID string) ([]SealedSecret, error) {
	var out []SealedSecret
	for _, t := range secretTables {
		rows, err := q.query(ctx, `SELECT `+t.name+`, `+t.sealed+`, key_id FROM `+t.table+`
			WHERE key_id <> $1 AND `+t.sealed+` IS NOT NULL ORDER BY `+t.name, keyID)
		if err != nil {
			return nil, wrap(err, "list the %s secrets to re-seal", t.kind)
		}
		l, err := collect(rows, func(sc interface{ Scan(...any) error }) (SealedSecret, error) {
			s := SealedSecret{Kind: t.kind}
			err := sc.Scan(&s.Name, &s.Sealed, &s.KeyID)
			return s, err
		})
		if err != nil {
			return nil, wrap(err, "list the %s secrets to re-seal", t.kind)
		}
		out = append(out, l...)
	}
	return out, nil
}

// UpdateSecret stores s.Sealed and s.KeyID for the row of kind s.Kind named
// s.Name; a missing row is ErrNotFound.
func (q queries) UpdateSecret(ctx context.Context, s SealedSecret) error {
	for _, t := range secretTables {
		if t.kind != s.Kind {
			continue
		}
		set := t.sealed + ` = $2, key_id = $3`
		args := []any{s.Name, s.Sealed, s.KeyID}
		if t.updated {
			now, _ := q.nowArg()
			set += `, updated_at = $4`
			args = append(args, now)
		}
		if err := q.execOne(ctx, `UPDATE `+t.table+` SET `+set+` WHERE `+t.name+` = $1`, args...); err != nil {
			return wrap(err, "update the %s secret of %q", s.Kind, s.Name)
		}
		return nil
	}
	return fmt.Errorf("store: update secret: unknown kind %q", s.Kind)
}
