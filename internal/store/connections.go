package store

import (
	"context"
	"database/sql"
)

const connectionColumns = `name, host, account_id, sealed_token, key_id, is_default, created_at, updated_at`

func scanConnection(sc interface{ Scan(...any) error }) (Connection, error) {
	var c Connection
	err := sc.Scan(&c.Name, &c.Host, &c.AccountID, &c.SealedToken, &c.KeyID, &c.Default,
		scanTime(&c.CreatedAt), scanTime(&c.UpdatedAt))
	return c, err
}

// CreateConnection stores c and returns it as stored. A connection of the
// same name is ErrExists. c becomes the only default when c.Default is
// set, and the default anyway when it is the first connection.
func (q queries) CreateConnection(ctx context.Context, c Connection) (Connection, error) {
	err := q.atomic(ctx, func(q queries) error {
		now, nowTime := q.nowArg()
		if c.Default {
			if err := q.clearDefault(ctx, c.Name, now); err != nil {
				return err
			}
		} else if err := q.queryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM connections)`).Scan(&c.Default); err != nil {
			return err
		}
		c.CreatedAt, c.UpdatedAt = nowTime, nowTime
		_, err := q.exec(ctx, `INSERT INTO connections (`+connectionColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
			c.Name, c.Host, c.AccountID, c.SealedToken, c.KeyID, c.Default, now)
		return err
	})
	if err != nil {
		return Connection{}, wrap(err, "create connection %q", c.Name)
	}
	return c, nil
}

// clearDefault removes the default flag from every connection but name.
// It runs before name is flagged, as the unique index on the flag is
// checked row by row.
func (q queries) clearDefault(ctx context.Context, name string, now any) error {
	_, err := q.exec(ctx, `UPDATE connections SET is_default = FALSE, updated_at = $2
		WHERE is_default AND name <> $1`, name, now)
	return err
}

// GetConnection returns the named connection, or ErrNotFound.
func (q queries) GetConnection(ctx context.Context, name string) (Connection, error) {
	c, err := scanConnection(q.queryRow(ctx, `SELECT `+connectionColumns+` FROM connections WHERE name = $1`, name))
	if err != nil {
		return Connection{}, wrap(err, "get connection %q", name)
	}
	return c, nil
}

// DefaultConnection returns the default connection, or ErrNotFound when
// no connection is the default.
func (q queries) DefaultConnection(ctx context.Context) (Connection, error) {
	c, err := scanConnection(q.queryRow(ctx, `SELECT `+connectionColumns+` FROM connections WHERE is_default`))
	if err != nil {
		return Connection{}, wrap(err, "get the default connection")
	}
	return c, nil
}

// ListConnections returns every connection, ordered by name.
func (q queries) ListConnections(ctx context.Context) ([]Connection, error) {
	rows, err := q.query(ctx, `SELECT `+connectionColumns+` FROM connections ORDER BY name`)
	if err != nil {
		return nil, wrap(err, "list connections")
	}
	list, err := collect(rows, scanConnection)
	if err != nil {
		return nil, wrap(err, "list connections")
	}
	return list, nil
}

// DeleteConnection deletes the named connection, or returns ErrNotFound.
// Its runs stay as history; its webhook subscription and poll cursor stay
// too, for the caller to delete (the subscription must go from dbt Cloud
// first).
func (q queries) DeleteConnection(ctx context.Context, name string) error {
	if err := q.execOne(ctx, `DELETE FROM connections WHERE name = $1`, name); err != nil {
		return wrap(err, "delete connection %q", name)
	}
	return nil
}

// SetDefaultConnection makes the named connection the only default, or
// returns ErrNotFound. An empty name leaves no connection the default.
func (q queries) SetDefaultConnection(ctx context.Context, name string) error {
	err := q.atomic(ctx, func(q queries) error {
		now, _ := q.nowArg()
		if err := q.clearDefault(ctx, name, now); err != nil || name == "" {
			return err
		}
		return q.execOne(ctx, `UPDATE connections
			SET is_default = TRUE, updated_at = CASE WHEN is_default THEN updated_at ELSE $2 END
			WHERE name = $1`, name, now)
	})
	if err != nil {
		return wrap(err, "set the default connection to %q", name)
	}
	return nil
}

// UpdateConnectionToken replaces the sealed token of the named connection
// (after the user changed it, or a key rotation), or returns ErrNotFound.
func (q queries) UpdateConnectionToken(ctx context.Context, name string, sealed []byte, keyID string) error {
	now, _ := q.nowArg()
	err := q.execOne(ctx, `UPDATE connections SET sealed_token = $2, key_id = $3, updated_at = $4 WHERE name = $1`,
		name, sealed, keyID, now)
	if err != nil {
		return wrap(err, "update the token of connection %q", name)
	}
	return nil
}

// collect reads every row with scan and closes rows.
func collect[T any](rows *sql.Rows, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{} // empty, not nil: listings encode as [] in JSON
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
