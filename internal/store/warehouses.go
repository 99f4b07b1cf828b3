package store

import (
	"context"
	"errors"
)

const warehouseColumns = `name, type, config, sealed_secret, key_id, created_at, updated_at`

func scanWarehouse(sc interface{ Scan(...any) error }) (Warehouse, error) {
	var w Warehouse
	err := sc.Scan(&w.Name, &w.Type, &w.Config, &w.SealedSecret, &w.KeyID,
		scanTime(&w.CreatedAt), scanTime(&w.UpdatedAt))
	return w, err
}

// CreateWarehouse stores w and returns it as stored. A warehouse of the
// same name is ErrExists. Config is required (the JSON of the warehouse's
// settings); SealedSecret may be nil for a warehouse without a password.
func (q queries) CreateWarehouse(ctx context.Context, w Warehouse) (Warehouse, error) {
	if err := checkWarehouse(w); err != nil {
		return Warehouse{}, wrap(err, "create warehouse %q", w.Name)
	}
	now, nowTime := q.nowArg()
	w.CreatedAt, w.UpdatedAt = nowTime, nowTime
	_, err := q.exec(ctx, `INSERT INTO warehouses (`+warehouseColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $6)`,
		w.Name, w.Type, w.Config, nullBytes(w.SealedSecret), w.KeyID, now)
	if err != nil {
		return Warehouse{}, wrap(err, "create warehouse %q", w.Name)
	}
	return w, nil
}

func checkWarehouse(w Warehouse) error {
	switch {
	case w.Name == "":
		return errors.New("no name: every warehouse connection needs one")
	case w.Type == "":
		return errors.New("no type: say which kind of warehouse it is (postgres, snowflake, ...)")
	case len(w.Config) == 0:
		return errors.New("no config: pass the JSON of the warehouse settings, {} when there are none")
	}
	return nil
}

// GetWarehouse returns the named warehouse, or ErrNotFound.
func (q queries) GetWarehouse(ctx context.Context, name string) (Warehouse, error) {
	w, err := scanWarehouse(q.queryRow(ctx, `SELECT `+warehouseColumns+` FROM warehouses WHERE name = $1`, name))
	if err != nil {
		return Warehouse{}, wrap(err, "get warehouse %q", name)
	}
	return w, nil
}

// ListWarehouses returns every warehouse, ordered by name.
func (q queries) ListWarehouses(ctx context.Context) ([]Warehouse, error) {
	return q.listWarehouses(ctx, "list warehouses", `SELECT `+warehouseColumns+` FROM warehouses ORDER BY name`)
}

// WarehousesSealedWith returns the warehouses whose secret was sealed with
// key keyID, ordered by name: what a key rotation must reseal (with
// [queries.UpdateWarehouseSecret]). Warehouses without a secret are left
// out.
func (q queries) WarehousesSealedWith(ctx context.Context, keyID string) ([]Warehouse, error) {
	return q.listWarehouses(ctx, "list warehouses sealed with key "+keyID, `SELECT `+warehouseColumns+` FROM warehouses
		WHERE key_id = $1 AND sealed_secret IS NOT NULL ORDER BY name`, keyID)
}

func (q queries) listWarehouses(ctx context.Context, op, query string, a ...any) ([]Warehouse, error) {
	rows, err := q.query(ctx, query, a...)
	if err != nil {
		return nil, wrap(err, "%s", op)
	}
	list, err := collect(rows, scanWarehouse)
	if err != nil {
		return nil, wrap(err, "%s", op)
	}
	return list, nil
}

// UpdateWarehouse replaces the type, config and sealed secret of the
// warehouse named w.Name and returns it as stored, or ErrNotFound.
func (q queries) UpdateWarehouse(ctx context.Context, w Warehouse) (Warehouse, error) {
	if err := checkWarehouse(w); err != nil {
		return Warehouse{}, wrap(err, "update warehouse %q", w.Name)
	}
	now, _ := q.nowArg()
	updated, err := scanWarehouse(q.queryRow(ctx, `UPDATE warehouses
		SET type = $2, config = $3, sealed_secret = $4, key_id = $5, updated_at = $6
		WHERE name = $1 RETURNING `+warehouseColumns,
		w.Name, w.Type, w.Config, nullBytes(w.SealedSecret), w.KeyID, now))
	if err != nil {
		return Warehouse{}, wrap(err, "update warehouse %q", w.Name)
	}
	return updated, nil
}

// UpdateWarehouseSecret replaces the sealed secret of the named warehouse
// (after the user changed it, or a key rotation), or returns ErrNotFound.
func (q queries) UpdateWarehouseSecret(ctx context.Context, name string, sealed []byte, keyID string) error {
	now, _ := q.nowArg()
	err := q.execOne(ctx, `UPDATE warehouses SET sealed_secret = $2, key_id = $3, updated_at = $4 WHERE name = $1`,
		name, nullBytes(sealed), keyID, now)
	if err != nil {
		return wrap(err, "update the secret of warehouse %q", name)
	}
	return nil
}

// DeleteWarehouse deletes the named warehouse, or returns ErrNotFound. Its
// crawled catalog stays (catalog_tables.warehouse is not a foreign key),
// so that a warehouse connection recreated under the same name finds it.
func (q queries) DeleteWarehouse(ctx context.Context, name string) error {
	if err := q.execOne(ctx, `DELETE FROM warehouses WHERE name = $1`, name); err != nil {
		return wrap(err, "delete warehouse %q", name)
	}
	return nil
}
