package store

import (
	"context"
	"time"
)

// PollCursor returns the poller's high-water mark for the connection (the
// latest dbt Cloud finished_at it has seen), or the zero time if none.
func (q queries) PollCursor(ctx context.Context, connection string) (time.Time, error) {
	var t time.Time
	// max() turns "no row" into one NULL row, the zero time.
	err := q.queryRow(ctx, `SELECT max(finished_at) FROM poll_cursors WHERE connection = $1`, connection).Scan(scanTime(&t))
	if err != nil {
		return time.Time{}, wrap(err, "get the poll cursor of connection %q", connection)
	}
	return t, nil
}

// SetPollCursor sets the poller's high-water mark for the connection; the
// zero time removes it.
func (q queries) SetPollCursor(ctx context.Context, connection string, t time.Time) error {
	var err error
	if t.IsZero() {
		_, err = q.exec(ctx, `DELETE FROM poll_cursors WHERE connection = $1`, connection)
	} else {
		now, _ := q.nowArg()
		_, err = q.exec(ctx, `INSERT INTO poll_cursors (connection, finished_at, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (connection) DO UPDATE SET finished_at = excluded.finished_at, updated_at = excluded.updated_at`,
			connection, q.t(t), now)
	}
	if err != nil {
		return wrap(err, "set the poll cursor of connection %q", connection)
	}
	return nil
}
