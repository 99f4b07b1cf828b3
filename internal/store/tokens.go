package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

const apiTokenColumns = `id, name, prefix, hash, scope, created_at, last_used_at, revoked_at`

func scanAPIToken(sc interface{ Scan(...any) error }) (APIToken, error) {
	var t APIToken
	err := sc.Scan(&t.ID, &t.Name, &t.Prefix, &t.Hash, &t.Scope,
		scanTime(&t.CreatedAt), scanTime(&t.LastUsedAt), scanTime(&t.RevokedAt))
	return t, err
}

// CreateAPIToken stores t, assigning its ID and CreatedAt, and returns it
// as stored. An active token of the same name, or of the same hash, is
// ErrExists.
func (q queries) CreateAPIToken(ctx context.Context, t APIToken) (APIToken, error) {
	if !t.Scope.Valid() {
		return APIToken{}, fmt.Errorf("store: create API token %q: unknown scope %q (want read, write or admin)", t.Name, t.Scope)
	}
	if len(t.Hash) == 0 {
		return APIToken{}, fmt.Errorf("store: create API token %q: no hash", t.Name)
	}
	now, _ := q.nowArg()
	stored, err := scanAPIToken(q.queryRow(ctx, `INSERT INTO api_tokens (name, prefix, hash, scope, created_at, last_used_at, revoked_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		RETURNING `+apiTokenColumns,
		t.Name, t.Prefix, t.Hash, t.Scope, now, q.t(t.LastUsedAt), q.t(t.RevokedAt)))
	if err != nil {
		return APIToken{}, wrap(err, "create API token %q", t.Name)
	}
	return stored, nil
}

// APITokenByHash returns the token with this hash, revoked ones included
// (the caller checks RevokedAt), or ErrNotFound.
func (q queries) APITokenByHash(ctx context.Context, hash []byte) (APIToken, error) {
	t, err := scanAPIToken(q.queryRow(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE hash = $1`, hash))
	if err != nil {
		return APIToken{}, wrap(err, "get API token by hash")
	}
	return t, nil
}

// ListAPITokens returns every token, revoked ones included, ordered by
// name and then by creation.
func (q queries) ListAPITokens(ctx context.Context) ([]APIToken, error) {
	rows, err := q.query(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens ORDER BY name, id`)
	if err != nil {
		return nil, wrap(err, "list API tokens")
	}
	list, err := collect(rows, scanAPIToken)
	if err != nil {
		return nil, wrap(err, "list API tokens")
	}
	return list, nil
}

// RevokeAPIToken revokes the active token of that name, or returns
// ErrNotFound when there is none.
func (q queries) RevokeAPIToken(ctx context.Context, name string) error {
	now, _ := q.nowArg()
	err := q.execOne(ctx, `UPDATE api_tokens SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL`, name, now)
	if err != nil {
		return wrap(err, "revoke API token %q", name)
	}
	return nil
}

// TouchAPIToken records that token id was used at at. LastUsedAt only
// moves forward, so requests finishing out of order do not move it back.
// A missing id is ErrNotFound.
func (q queries) TouchAPIToken(ctx context.Context, id int64, at time.Time) error {
	err := q.execOne(ctx, `UPDATE api_tokens SET last_used_at = $2
		WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)`, id, q.t(at))
	if errors.Is(err, ErrNotFound) {
		// Nothing changed: either the id is unknown or the token was
		// already used later.
		var one int
		err = q.queryRow(ctx, `SELECT 1 FROM api_tokens WHERE id = $1`, id).Scan(&one)
	}
	if err != nil {
		return wrap(err, "touch API token %d", id)
	}
	return nil
}
