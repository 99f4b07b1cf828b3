package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Syncs are written apart from the snapshot they produce: StartSync before
// reading the inputs, FinishSync after WriteSnapshot returns. On SQLite
// each call takes the only connection briefly, never during the write.

const syncColumns = `id, scope_key, source, started_at, finished_at, status, error, report`

func scanSync(sc interface{ Scan(...any) error }) (CatalogSync, error) {
	var s CatalogSync
	err := sc.Scan(&s.ID, &s.ScopeKey, &s.Source, scanTime(&s.StartedAt), scanTime(&s.FinishedAt), &s.Status, &s.Error, &s.Report)
	return s, err
}

// Limits of ListSyncs.
const (
	defaultSyncLimit = 20
	maxSyncLimit     = 1000
)

// StartSync records that a sync of scope scopeKey began now, from source
// (a run id, an upload's name: whatever tells where the inputs came
// from), and returns it with status running.
func (q queries) StartSync(ctx context.Context, scopeKey, source string) (CatalogSync, error) {
	if scopeKey == "" {
		return CatalogSync{}, errors.New("store: start catalog sync: no scope key; name the scope being synced")
	}
	now, _ := q.nowArg()
	s, err := scanSync(q.queryRow(ctx, `INSERT INTO catalog_syncs (scope_key, source, started_at, status)
		VALUES ($1, $2, $3, $4) RETURNING `+syncColumns, scopeKey, source, now, SyncRunning))
	if err != nil {
		return CatalogSync{}, wrap(err, "start catalog sync of scope %q", scopeKey)
	}
	return s, nil
}

// FinishSync ends sync id now with status (ok, unchanged or error), the
// error text and the match report (JSON, nil for none), and returns it. A
// missing id is ErrNotFound.
func (q queries) FinishSync(ctx context.Context, id int64, status, errText string, report []byte) (CatalogSync, error) {
	switch status {
	case SyncOK, SyncUnchanged, SyncError:
	default:
		return CatalogSync{}, fmt.Errorf("store: finish catalog sync %d: status %q is not %q, %q or %q", id, status, SyncOK, SyncUnchanged, SyncError)
	}
	now, _ := q.nowArg()
	s, err := scanSync(q.queryRow(ctx, `UPDATE catalog_syncs SET finished_at = $2, status = $3, error = $4, report = $5
		WHERE id = $1 RETURNING `+syncColumns, id, now, status, errText, nullBytes(report)))
	if err != nil {
		return CatalogSync{}, wrap(err, "finish catalog sync %d", id)
	}
	return s, nil
}

// GetSync returns sync id, or ErrNotFound.
func (q queries) GetSync(ctx context.Context, id int64) (CatalogSync, error) {
	s, err := scanSync(q.queryRow(ctx, `SELECT `+syncColumns+` FROM catalog_syncs WHERE id = $1`, id))
	if err != nil {
		return CatalogSync{}, wrap(err, "get catalog sync %d", id)
	}
	return s, nil
}

// ListSyncs returns up to limit syncs of scope scopeKey (empty: of every
// scope), newest first. limit defaults to 20 and is capped at 1000.
func (q queries) ListSyncs(ctx context.Context, scopeKey string, limit int) ([]CatalogSync, error) {
	switch {
	case limit <= 0:
		limit = defaultSyncLimit
	case limit > maxSyncLimit:
		limit = maxSyncLimit
	}
	var a args
	query := `SELECT ` + syncColumns + ` FROM catalog_syncs`
	if scopeKey != "" {
		query += ` WHERE scope_key = ` + a.add(scopeKey)
	}
	query += ` ORDER BY id DESC LIMIT ` + a.add(limit)
	rows, err := q.query(ctx, query, a...)
	if err != nil {
		return nil, wrap(err, "list catalog syncs")
	}
	list, err := collect(rows, scanSync)
	if err != nil {
		return nil, wrap(err, "list catalog syncs")
	}
	return list, nil
}

// LatestSyncs returns the latest sync of every scope key, ordered by key,
// whether or not the scope still exists.
func (q queries) LatestSyncs(ctx context.Context) ([]CatalogSync, error) {
	rows, err := q.query(ctx, `SELECT `+syncColumns+` FROM catalog_syncs
		WHERE id IN (SELECT max(id) FROM catalog_syncs GROUP BY scope_key) ORDER BY scope_key`)
	if err != nil {
		return nil, wrap(err, "list the latest catalog syncs")
	}
	list, err := collect(rows, scanSync)
	if err != nil {
		return nil, wrap(err, "list the latest catalog syncs")
	}
	return list, nil
}

// AbandonSyncs ends as errors, with reason, the syncs still running that
// started before startedBefore: a sync whose process died (killed, the
// machine lost) never finishes, and would otherwise show as running for
// ever. It returns how many it ended.
func (q queries) AbandonSyncs(ctx context.Context, startedBefore time.Time, reason string) (int64, error) {
	now, _ := q.nowArg()
	res, err := q.exec(ctx, `UPDATE catalog_syncs SET finished_at = $1, status = $2, error = $3
		WHERE status = $4 AND started_at < $5`, now, SyncError, reason, SyncRunning, q.t(startedBefore))
	if err != nil {
		return 0, wrap(err, "end abandoned catalog syncs")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, wrap(err, "end abandoned catalog syncs")
	}
	return n, nil
}
