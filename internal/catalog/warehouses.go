package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dbtlink/dbtlink/internal/connection"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/warehouse"
)

// Sealer seals and opens secrets kept in the database. *connection.Store
// implements it; catalog imports internal/connection only for its Token
// type, which keeps an opened secret from being printed by mistake.
type Sealer interface {
	SealSecret(recordID, secret string) (blob []byte, keyID string, err error)
	OpenSecret(name, recordID string, blob []byte) (connection.Token, error)
}

// Warehouses keeps warehouse connections in the store, their passwords
// sealed, for dbtlink serve.
type Warehouses struct {
	Service *Service
	Keys    Sealer
}

// warehouseRecord binds a sealed password to its warehouse's row.
func warehouseRecord(name string) string { return connection.WarehouseRecordID(name) }

// WarehouseView is a stored warehouse connection as the API shows it. It
// has no password field: only whether one is kept.
type WarehouseView struct {
	Name        string           `json:"name"`
	Type        string           `json:"type"`
	Config      warehouse.Config `json:"config"`
	HasPassword bool             `json:"has_password"`
	CreatedAt   time.Time        `json:"created_at"`
	UpdatedAt   time.Time        `json:"updated_at"`
	LatestCrawl *CrawlResult     `json:"latest_crawl,omitempty"`
}

// CrawlResult is a crawl of a warehouse (store.Crawl with JSON names).
type CrawlResult struct {
	ID         int64     `json:"id"`
	Warehouse  string    `json:"warehouse"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	Status     string    `json:"status"`
	Error      string    `json:"error,omitempty"`
	TablesSeen int       `json:"tables_seen"`
	Added      int       `json:"added"`
	Changed    int       `json:"changed"`
	Removed    int       `json:"removed"`
}

// NewCrawlResult converts a stored crawl.
func NewCrawlResult(c store.Crawl) CrawlResult {
	return CrawlResult{ID: c.ID, Warehouse: c.Warehouse, StartedAt: c.StartedAt.UTC(), FinishedAt: c.FinishedAt.UTC(),
		Status: c.Status, Error: c.Error, TablesSeen: c.TablesSeen, Added: c.Added, Changed: c.Changed, Removed: c.Removed}
}

// WarehouseInfo is warehouse.Info with JSON names: what a test found.
type WarehouseInfo struct {
	Type            string   `json:"type"`
	ServerVersion   string   `json:"server_version"`
	CurrentUser     string   `json:"current_user,omitempty"`
	CurrentDatabase string   `json:"current_database"`
	Databases       []string `json:"databases"`
	Schemas         int      `json:"schemas"`
	Tables          int      `json:"tables"`
}

// NewWarehouseInfo converts what Conn.Test found.
func NewWarehouseInfo(i warehouse.Info) WarehouseInfo {
	return WarehouseInfo{Type: string(i.Type), ServerVersion: i.ServerVersion, CurrentUser: i.CurrentUser,
		CurrentDatabase: i.CurrentDatabase, Databases: i.Databases, Schemas: i.Schemas, Tables: i.Tables}
}

// NewWarehouse is what CreateWarehouse stores. Password is write-only.
type NewWarehouse struct {
	Config   warehouse.Config
	Password string
}

// CreateWarehouse validates and stores a warehouse connection, sealing its
// password bound to the warehouse's name. A DSN holding a password is
// refused: the password goes in its own field. A taken name matches
// store.ErrExists.
func (w *Warehouses) CreateWarehouse(ctx context.Context, in NewWarehouse) (WarehouseView, error) {
	row, cfg, err := w.row(in)
	if err != nil {
		return WarehouseView{}, err
	}
	row, err = w.Service.Store.CreateWarehouse(ctx, row)
	if err != nil {
		return WarehouseView{}, err
	}
	return viewOf(row, cfg, nil), nil
}

// ReplaceWarehouse replaces the configuration and password of the stored
// warehouse in.Config.Name in one update: its crawled tables, their user
// descriptions and its crawl history stay, and a failure leaves the old
// connection as it was. With test, the new connection is tested first and
// stored only if the test passes (a failed connection is a
// *warehouse.ConnectError); the info is what the test saw. A warehouse not
// stored matches store.ErrNotFound.
func (w *Warehouses) ReplaceWarehouse(ctx context.Context, in NewWarehouse, test bool) (WarehouseView, *WarehouseInfo, error) {
	row, cfg, err := w.row(in)
	if err != nil {
		return WarehouseView{}, nil, err
	}
	// Looked up before the test, so that a typo in the name is not
	// reported as a failed connection.
	if _, err := w.Service.Store.GetWarehouse(ctx, cfg.Name); err != nil {
		return WarehouseView{}, nil, err
	}
	var info *WarehouseInfo
	if test {
		i, err := testConfig(ctx, cfg, in.Password)
		if err != nil {
			return WarehouseView{}, nil, err
		}
		info = &i
	}
	row, err = w.Service.Store.UpdateWarehouse(ctx, row)
	if err != nil {
		return WarehouseView{}, nil, err
	}
	v, err := w.view(ctx, row)
	return v, info, err
}

// row is the store row of in, validated, with its password sealed.
func (w *Warehouses) row(in NewWarehouse) (store.Warehouse, warehouse.Config, error) {
	cfg := in.Config
	if err := cfg.Validate(); err != nil {
		return store.Warehouse{}, cfg, &InputError{Err: fmt.Errorf("warehouse %q: %w", cfg.Name, err)}
	}
	body, err := json.Marshal(cfg)
	if err != nil {
		return store.Warehouse{}, cfg, fmt.Errorf("warehouse %s: encode config: %w", cfg.Name, err)
	}
	row := store.Warehouse{Name: cfg.Name, Type: string(cfg.Type), Config: body}
	if in.Password != "" {
		if row.SealedSecret, row.KeyID, err = w.Keys.SealSecret(warehouseRecord(cfg.Name), in.Password); err != nil {
			return store.Warehouse{}, cfg, fmt.Errorf("warehouse %s: seal the password: %w", cfg.Name, err)
		}
	}
	return row, cfg, nil
}

func viewOf(row store.Warehouse, cfg warehouse.Config, latest *store.Crawl) WarehouseView {
	v := WarehouseView{Name: row.Name, Type: row.Type, Config: cfg, HasPassword: len(row.SealedSecret) > 0,
		CreatedAt: row.CreatedAt.UTC(), UpdatedAt: row.UpdatedAt.UTC()}
	if latest != nil {
		c := NewCrawlResult(*latest)
		v.LatestCrawl = &c
	}
	return v
}

func decodeConfig(row store.Warehouse) (warehouse.Config, error) {
	var cfg warehouse.Config
	if err := json.Unmarshal(row.Config, &cfg); err != nil {
		return cfg, fmt.Errorf("warehouse %s: stored config: %w", row.Name, err)
	}
	cfg.Name = row.Name
	return cfg, nil
}

// ListWarehouses returns every stored warehouse connection with its latest
// crawl, by name.
func (w *Warehouses) ListWarehouses(ctx context.Context) ([]WarehouseView, error) {
	rows, err := w.Service.Store.ListWarehouses(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]WarehouseView, 0, len(rows))
	for _, row := range rows {
		v, err := w.view(ctx, row)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (w *Warehouses) view(ctx context.Context, row store.Warehouse) (WarehouseView, error) {
	cfg, err := decodeConfig(row)
	if err != nil {
		return WarehouseView{}, err
	}
	latest, err := w.Service.Store.LatestCrawl(ctx, row.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return viewOf(row, cfg, nil), nil
	case err != nil:
		return WarehouseView{}, err
	}
	return viewOf(row, cfg, &latest), nil
}

// GetWarehouse returns the named warehouse connection with its latest
// crawl, or an error matching store.ErrNotFound.
func (w *Warehouses) GetWarehouse(ctx context.Context, name string) (WarehouseView, error) {
	row, err := w.Service.Store.GetWarehouse(ctx, name)
	if err != nil {
		return WarehouseView{}, err
	}
	return w.view(ctx, row)
}

// Config returns the stored configuration of the named warehouse and its
// opened password (the zero Token when it has none).
func (w *Warehouses) Config(ctx context.Context, name string) (warehouse.Config, connection.Token, error) {
	row, err := w.Service.Store.GetWarehouse(ctx, name)
	if err != nil {
		return warehouse.Config{}, connection.Token{}, err
	}
	cfg, err := decodeConfig(row)
	if err != nil {
		return cfg, connection.Token{}, err
	}
	if len(row.SealedSecret) == 0 {
		return cfg, connection.Token{}, nil
	}
	tok, err := w.Keys.OpenSecret(name, warehouseRecord(name), row.SealedSecret)
	if err != nil {
		return cfg, connection.Token{}, fmt.Errorf("warehouse %s: open the password: %w", name, err)
	}
	return cfg, tok, nil
}

// DeleteWarehouse deletes the named warehouse connection; its crawled
// tables stay in the catalog.
func (w *Warehouses) DeleteWarehouse(ctx context.Context, name string) error {
	return w.Service.Store.DeleteWarehouse(ctx, name)
}

// TestWarehouse connects to the named warehouse and says what it sees. A
// failed connection is a *warehouse.ConnectError.
func (w *Warehouses) TestWarehouse(ctx context.Context, name string) (WarehouseInfo, error) {
	cfg, tok, err := w.Config(ctx, name)
	if err != nil {
		return WarehouseInfo{}, err
	}
	return testConfig(ctx, cfg, tok.Reveal())
}

// testConfig connects to the warehouse cfg describes, with password
// secret, and says what it sees.
func testConfig(ctx context.Context, cfg warehouse.Config, secret string) (WarehouseInfo, error) {
	adapter, err := warehouse.Lookup(cfg.Type)
	if err != nil {
		return WarehouseInfo{}, &InputError{Err: fmt.Errorf("warehouse %s: %w", cfg.Name, err)}
	}
	conn, err := adapter.Open(ctx, cfg, secret)
	if err != nil {
		return WarehouseInfo{}, err
	}
	defer conn.Close()
	info, err := conn.Test(ctx)
	if err != nil {
		return WarehouseInfo{}, err
	}
	return NewWarehouseInfo(info), nil
}

// CrawlWarehouse crawls the named warehouse with its stored configuration
// (see [Service.Crawl]), saying its steps to progress (nil: to nobody).
func (w *Warehouses) CrawlWarehouse(ctx context.Context, name string, progress Progress) (CrawlResult, error) {
	cfg, tok, err := w.Config(ctx, name)
	if err != nil {
		return CrawlResult{}, err
	}
	c, err := w.Service.Crawl(ctx, cfg, tok.Reveal(), progress)
	if err != nil {
		return CrawlResult{}, err
	}
	return NewCrawlResult(c), nil
}

// CrawlWarehouses crawls every stored warehouse connection in turn, for
// the server's scheduled crawls. One warehouse's failure (recorded as its
// crawl) does not stop the others; the error joins them all.
func (w *Warehouses) CrawlWarehouses(ctx context.Context) error {
	rows, err := w.Service.Store.ListWarehouses(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, row := range rows {
		if _, err := w.CrawlWarehouse(ctx, row.Name, nil); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
