package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

const runColumns = `id, connection, account_id, job_id, marker, cause, request,
	deadline_at, cancel_at_deadline, max_retries, retries, artifacts,
	state, dbt_run_id, dbt_status, status_message, href,
	trigger_attempted_at, dbt_created_at, started_at, finished_at, settled_at,
	steps, failing_nodes, attempts, artifacts_state, error, error_code, created_at, updated_at`

// Limits of ListRuns.
const (
	defaultRunLimit = 100
	maxRunLimit     = 1000
)

func scanRun(sc interface{ Scan(...any) error }) (Run, error) {
	var (
		r         Run
		artifacts []byte
		dbtRunID  sql.Null[int64]
	)
	err := sc.Scan(&r.ID, &r.Connection, &r.AccountID, &r.JobID, &r.Marker, &r.Cause, &r.Request,
		scanTime(&r.DeadlineAt), &r.CancelAtDeadline, &r.MaxRetries, &r.Retries, &artifacts,
		&r.State, &dbtRunID, &r.DbtStatus, &r.StatusMessage, &r.Href,
		scanTime(&r.TriggerAttemptedAt), scanTime(&r.DbtCreatedAt), scanTime(&r.StartedAt), scanTime(&r.FinishedAt), scanTime(&r.SettledAt),
		&r.Steps, &r.FailingNodes, &r.Attempts, &r.ArtifactsState, &r.Error, &r.ErrorCode, scanTime(&r.CreatedAt), scanTime(&r.UpdatedAt))
	if err != nil {
		return Run{}, err
	}
	r.DbtRunID = dbtRunID.V
	// NULL is "per the job's settings"; [] is "none".
	if artifacts != nil {
		if err := json.Unmarshal(artifacts, &r.Artifacts); err != nil {
			return Run{}, fmt.Errorf("run %d: artifacts column: %w", r.ID, err)
		}
		if r.Artifacts == nil {
			r.Artifacts = []string{}
		}
	}
	return r, nil
}

// CreateRun stores r, assigning its ID, CreatedAt and UpdatedAt, and
// returns it as stored. State defaults to RunPending. r.Marker is required
// and unique: a second run with the same marker is ErrExists.
func (q queries) CreateRun(ctx context.Context, r Run) (Run, error) {
	if r.Marker == "" {
		return Run{}, errors.New("store: create run: no marker; every run needs a unique one to be found again after an uncertain trigger")
	}
	if r.State == "" {
		r.State = RunPending
	}
	var artifacts any
	if r.Artifacts != nil {
		b, err := json.Marshal(r.Artifacts)
		if err != nil {
			return Run{}, fmt.Errorf("store: create run: artifacts: %w", err)
		}
		artifacts = b
	}
	now, _ := q.nowArg()
	created, err := scanRun(q.queryRow(ctx, `INSERT INTO runs (
			connection, account_id, job_id, marker, cause, request,
			deadline_at, cancel_at_deadline, max_retries, retries, artifacts,
			state, dbt_run_id, dbt_status, status_message, href,
			trigger_attempted_at, dbt_created_at, started_at, finished_at, settled_at,
			steps, failing_nodes, attempts, artifacts_state, error, error_code, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
			$17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $28)
		RETURNING `+runColumns,
		r.Connection, r.AccountID, r.JobID, r.Marker, r.Cause, nullBytes(r.Request),
		q.t(r.DeadlineAt), r.CancelAtDeadline, r.MaxRetries, r.Retries, artifacts,
		r.State, nullZero(r.DbtRunID), r.DbtStatus, r.StatusMessage, r.Href,
		q.t(r.TriggerAttemptedAt), q.t(r.DbtCreatedAt), q.t(r.StartedAt), q.t(r.FinishedAt), q.t(r.SettledAt),
		nullBytes(r.Steps), nullBytes(r.FailingNodes), nullBytes(r.Attempts), r.ArtifactsState, r.Error, r.ErrorCode, now))
	if err != nil {
		return Run{}, wrap(err, "create run with marker %q", r.Marker)
	}
	return created, nil
}

// GetRun returns run id, or ErrNotFound.
func (q queries) GetRun(ctx context.Context, id int64) (Run, error) {
	r, err := scanRun(q.queryRow(ctx, `SELECT `+runColumns+` FROM runs WHERE id = $1`, id))
	if err != nil {
		return Run{}, wrap(err, "get run %d", id)
	}
	return r, nil
}

// RunByDbtID returns the run that has dbt Cloud run dbtRunID of account
// accountID (the newest, should there be several), or ErrNotFound.
func (q queries) RunByDbtID(ctx context.Context, accountID, dbtRunID int64) (Run, error) {
	r, err := scanRun(q.queryRow(ctx, `SELECT `+runColumns+` FROM runs
		WHERE account_id = $1 AND dbt_run_id = $2 ORDER BY id DESC LIMIT 1`, accountID, dbtRunID))
	if err != nil {
		return Run{}, wrap(err, "get run of dbt Cloud run %d (account %d)", dbtRunID, accountID)
	}
	return r, nil
}

// ListRuns returns the runs f selects, newest (highest ID) first. Page
// backwards by passing the ID of the last run returned as f.BeforeID.
// f.Limit defaults to 100 and is capped at 1000.
func (q queries) ListRuns(ctx context.Context, f RunFilter) ([]Run, error) {
	var (
		a    args
		cond []string
	)
	if f.Connection != "" {
		cond = append(cond, "connection = "+a.add(f.Connection))
	}
	if f.JobID != 0 {
		cond = append(cond, "job_id = "+a.add(f.JobID))
	}
	if f.DbtRunID != 0 {
		cond = append(cond, "dbt_run_id = "+a.add(f.DbtRunID))
	}
	if len(f.States) > 0 {
		ph := make([]string, len(f.States))
		for i, s := range f.States {
			ph[i] = a.add(s)
		}
		cond = append(cond, "state IN ("+strings.Join(ph, ", ")+")")
	}
	if f.OnlyTriggered {
		cond = append(cond, "dbt_run_id IS NOT NULL")
	}
	if f.BeforeID > 0 {
		cond = append(cond, "id < "+a.add(f.BeforeID))
	}
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = defaultRunLimit
	case limit > maxRunLimit:
		limit = maxRunLimit
	}
	query := `SELECT ` + runColumns + ` FROM runs`
	if len(cond) > 0 {
		query += ` WHERE ` + strings.Join(cond, " AND ")
	}
	query += ` ORDER BY id DESC LIMIT ` + a.add(limit)
	rows, err := q.query(ctx, query, a...)
	if err != nil {
		return nil, wrap(err, "list runs")
	}
	list, err := collect(rows, scanRun)
	if err != nil {
		return nil, wrap(err, "list runs")
	}
	return list, nil
}

// UpdateRun applies u to run id and returns the run as it is afterwards,
// with updated reporting whether u was applied. With u.IfActive, a run in
// a terminal state is left as it is and returned with updated false. A
// missing id is ErrNotFound.
func (q queries) UpdateRun(ctx context.Context, id int64, u RunUpdate) (Run, bool, error) {
	var a args
	now, _ := q.nowArg()
	set := []string{"updated_at = " + a.add(now)}
	field := func(column string, v any) { set = append(set, column+" = "+a.add(v)) }
	if u.State != nil {
		field("state", *u.State)
	}
	if u.DbtRunID != nil {
		field("dbt_run_id", nullZero(*u.DbtRunID))
	}
	if u.DbtStatus != nil {
		field("dbt_status", *u.DbtStatus)
	}
	if u.StatusMessage != nil {
		field("status_message", *u.StatusMessage)
	}
	if u.Href != nil {
		field("href", *u.Href)
	}
	if u.TriggerAttemptedAt != nil {
		field("trigger_attempted_at", q.t(*u.TriggerAttemptedAt))
	}
	if u.DbtCreatedAt != nil {
		field("dbt_created_at", q.t(*u.DbtCreatedAt))
	}
	if u.StartedAt != nil {
		field("started_at", q.t(*u.StartedAt))
	}
	if u.FinishedAt != nil {
		field("finished_at", q.t(*u.FinishedAt))
	}
	if u.SettledAt != nil {
		field("settled_at", q.t(*u.SettledAt))
	}
	if u.Steps != nil {
		field("steps", u.Steps)
	}
	if u.FailingNodes != nil {
		field("failing_nodes", u.FailingNodes)
	}
	if u.Attempts != nil {
		field("attempts", u.Attempts)
	}
	if u.ArtifactsState != nil {
		field("artifacts_state", *u.ArtifactsState)
	}
	if u.Error != nil {
		field("error", *u.Error)
	}
	if u.ErrorCode != nil {
		field("error_code", *u.ErrorCode)
	}
	if u.Retries != nil {
		field("retries", *u.Retries)
	}
	query := `UPDATE runs SET ` + strings.Join(set, ", ") + ` WHERE id = ` + a.add(id)
	if u.IfActive {
		query += ` AND state IN (` + activeStatesSQL + `)`
	}
	r, err := scanRun(q.queryRow(ctx, query+` RETURNING `+runColumns, a...))
	switch {
	case err == nil:
		return r, true, nil
	case errors.Is(err, sql.ErrNoRows) && u.IfActive:
		// Either the run is missing or it has ended: GetRun tells which.
		r, err := q.GetRun(ctx, id)
		if err != nil {
			return Run{}, false, err
		}
		return r, false, nil
	}
	return Run{}, false, wrap(err, "update run %d", id)
}

// CountRunsByState counts the runs in each state, for metrics. Every
// state of the package is in the map, with 0 when no run has it.
func (q queries) CountRunsByState(ctx context.Context) (map[RunState]int64, error) {
	counts := map[RunState]int64{}
	for _, s := range []RunState{RunPending, RunQueued, RunStarting, RunRunning, RunSuccess, RunError, RunCancelled, RunFailed} {
		counts[s] = 0
	}
	rows, err := q.query(ctx, `SELECT state, count(*) FROM runs GROUP BY state`)
	if err != nil {
		return nil, wrap(err, "count runs by state")
	}
	defer rows.Close()
	for rows.Next() {
		var (
			s RunState
			n int64
		)
		if err := rows.Scan(&s, &n); err != nil {
			return nil, wrap(err, "count runs by state")
		}
		counts[s] = n
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "count runs by state")
	}
	return counts, nil
}

// ActiveConnections returns the names of the connections that have runs
// in an active state, sorted.
func (q queries) ActiveConnections(ctx context.Context) ([]string, error) {
	rows, err := q.query(ctx, `SELECT DISTINCT connection FROM runs
		WHERE state IN (`+activeStatesSQL+`) ORDER BY connection`)
	if err != nil {
		return nil, wrap(err, "list connections with active runs")
	}
	names, err := collect(rows, func(sc interface{ Scan(...any) error }) (string, error) {
		var s string
		return s, sc.Scan(&s)
	})
	if err != nil {
		return nil, wrap(err, "list connections with active runs")
	}
	return names, nil
}
