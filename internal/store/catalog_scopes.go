package store

import (
	"context"
	"fmt"
	"time"
)

const scopeColumns = `id, key, kind, connection, account_id, project_id, project_name,
	environment_id, environment_name, adapter_type, dbt_version, warehouse,
	fingerprint, manifest_generated_at, synced_at`

func scanScope(sc interface{ Scan(...any) error }) (CatalogScope, error) {
	var s CatalogScope
	err := sc.Scan(&s.ID, &s.Key, &s.Kind, &s.Connection, &s.AccountID, &s.ProjectID, &s.ProjectName,
		&s.EnvironmentID, &s.EnvironmentName, &s.AdapterType, &s.DbtVersion, &s.Warehouse,
		&s.Fingerprint, scanTime(&s.ManifestGeneratedAt), scanTime(&s.SyncedAt))
	return s, err
}

// GetScope returns the scope of that key, or ErrNotFound.
func (q queries) GetScope(ctx context.Context, key string) (CatalogScope, error) {
	s, err := scanScope(q.queryRow(ctx, `SELECT `+scopeColumns+` FROM catalog_scopes WHERE key = $1`, key))
	if err != nil {
		return CatalogScope{}, wrap(err, "get catalog scope %q", key)
	}
	return s, nil
}

// GetScopeByID returns scope id, or ErrNotFound. The queries over nodes
// and tests name scopes by id.
func (q queries) GetScopeByID(ctx context.Context, id int64) (CatalogScope, error) {
	s, err := scanScope(q.queryRow(ctx, `SELECT `+scopeColumns+` FROM catalog_scopes WHERE id = $1`, id))
	if err != nil {
		return CatalogScope{}, wrap(err, "get catalog scope %d", id)
	}
	return s, nil
}

// ListScopes returns every scope, ordered by key.
func (q queries) ListScopes(ctx context.Context) ([]CatalogScope, error) {
	rows, err := q.query(ctx, `SELECT `+scopeColumns+` FROM catalog_scopes ORDER BY key`)
	if err != nil {
		return nil, wrap(err, "list catalog scopes")
	}
	list, err := collect(rows, scanScope)
	if err != nil {
		return nil, wrap(err, "list catalog scopes")
	}
	return list, nil
}

// DeleteScope deletes the scope of that key with everything synced into
// it, history included, in one transaction, or returns ErrNotFound. Its
// syncs stay: they are named by key and tell why the scope was there.
// The search documents of its nodes are the search index's to remove.
func (q queries) DeleteScope(ctx context.Context, key string) error {
	err := q.atomic(ctx, func(q queries) error {
		// The nodes' tags and columns have no foreign key to cascade
		// along (see 00002_catalog.sql).
		for _, table := range []string{"catalog_node_columns", "catalog_node_tags"} {
			if _, err := q.exec(ctx, `DELETE FROM `+table+` WHERE node_id IN (
				SELECT n.id FROM catalog_nodes n JOIN catalog_scopes s ON s.id = n.scope_id WHERE s.key = $1)`, key); err != nil {
				return err
			}
		}
		return q.execOne(ctx, `DELETE FROM catalog_scopes WHERE key = $1`, key)
	})
	if err != nil {
		return wrap(err, "delete catalog scope %q", key)
	}
	return nil
}

// TouchScope records a sync that found the scope's inputs unchanged: it
// sets SyncedAt to at (the zero time: now) and leaves everything else as
// the last WriteSnapshot left it. A missing key is ErrNotFound.
func (q queries) TouchScope(ctx context.Context, key string, at time.Time) error {
	if at.IsZero() {
		at = q.now()
	}
	if err := q.execOne(ctx, `UPDATE catalog_scopes SET synced_at = $2 WHERE key = $1`, key, q.t(at)); err != nil {
		return wrap(err, "touch catalog scope %q", key)
	}
	return nil
}

// SetScopeFingerprint replaces the fingerprint of the scope of that key;
// an empty one makes the next sync read its inputs again even if they did
// not change. A missing key is ErrNotFound.
func (q queries) SetScopeFingerprint(ctx context.Context, key, fingerprint string) error {
	if err := q.execOne(ctx, `UPDATE catalog_scopes SET fingerprint = $2 WHERE key = $1`, key, fingerprint); err != nil {
		return wrap(err, "set the fingerprint of catalog scope %q", key)
	}
	return nil
}

// checkScope says what is wrong with s before it reaches a CHECK
// constraint, whose error would not say how to fix it.
func checkScope(s CatalogScope) error {
	if s.Key == "" {
		return fmt.Errorf("the scope has no key; give it one such as %q or %q", "cloud:CONNECTION:ENVIRONMENT_ID", "upload:NAME")
	}
	if s.Kind != ScopeDbtCloud && s.Kind != ScopeUpload {
		return fmt.Errorf("scope kind %q is not %q or %q", s.Kind, ScopeDbtCloud, ScopeUpload)
	}
	return nil
}
