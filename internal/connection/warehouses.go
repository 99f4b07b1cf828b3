package connection

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Warehouse connections live in their own file, warehouses.json, beside
// connections.json and under the same lock and key. A separate file, not a
// new section of connections.json, because a dbtlink from before warehouses
// existed would read connections.json, ignore the unknown section and write
// the file back without it, losing every warehouse password.
const (
	warehousesFile     = "warehouses.json"
	warehousesVersion  = 1
	warehouseAADPrefix = "warehouse:"
)

// Warehouse is a stored warehouse connection. Config is the JSON of
// internal/warehouse's Config, which holds no secret: this package keeps it
// as opaque bytes so that it need not know every adapter's fields. The
// password, if the warehouse needs one, is sealed like a dbt Cloud token.
type Warehouse struct {
	Name     string
	Type     string
	Config   json.RawMessage
	Password Token
	// Origin is the file the warehouse was read from, for messages.
	Origin string
}

// WarehouseSummary describes a stored warehouse without decrypting its
// password, so listings work when the key is missing.
type WarehouseSummary struct {
	Name        string
	Type        string
	Config      json.RawMessage
	HasPassword bool
	KeyID       string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

type warehouseFile struct {
	Version    int               `json:"version"`
	Warehouses []warehouseRecord `json:"warehouses"`
}

// warehouseRecord is one stored warehouse. ID is random and never reused;
// it binds the sealed password to the record (AES-GCM associated data).
type warehouseRecord struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Type      string          `json:"type"`
	Config    json.RawMessage `json:"config"`
	Password  *sealed         `json:"password,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// WarehousesPath returns the warehouses file's path.
func (s *Store) WarehousesPath() string { return filepath.Join(s.dir, warehousesFile) }

// loadWarehouses reads the warehouses file; a missing file is empty. A file
// that cannot be used is a *CorruptError and is never overwritten.
func (s *Store) loadWarehouses() (*warehouseFile, error) {
	var wf warehouseFile
	found, err := readJSONFile(s.WarehousesPath(), &wf, func() error { return checkWarehouses(&wf) })
	if err != nil {
		return nil, err
	}
	if !found {
		return &warehouseFile{Version: warehousesVersion}, nil
	}
	return &wf, nil
}

func checkWarehouses(wf *warehouseFile) error {
	if err := checkVersion(wf.Version, warehousesVersion); err != nil {
		return err
	}
	names, ids := map[string]bool{}, map[string]bool{}
	for i, r := range wf.Warehouses {
		if err := ValidateName(r.Name); err != nil {
			return fmt.Errorf("warehouse #%d: %w", i+1, err)
		}
		if names[r.Name] {
			return fmt.Errorf("warehouse %q appears twice", r.Name)
		}
		names[r.Name] = true
		if r.ID == "" || ids[r.ID] {
			return fmt.Errorf("warehouse %q: missing or duplicate record id", r.Name)
		}
		ids[r.ID] = true
		if r.Type == "" {
			return fmt.Errorf("warehouse %q: no type", r.Name)
		}
		if !json.Valid(r.Config) {
			return fmt.Errorf("warehouse %q: its config is not a JSON value", r.Name)
		}
		if p := r.Password; p != nil && (p.KeyID == "" || len(p.Ciphertext) == 0 || len(p.Nonce) == 0) {
			return fmt.Errorf("warehouse %q: the encrypted password is incomplete", r.Name)
		}
	}
	return nil
}

func (s *Store) saveWarehouses(wf *warehouseFile) error {
	wf.Version = warehousesVersion
	if wf.Warehouses == nil {
		wf.Warehouses = []warehouseRecord{}
	}
	return writeJSONFile(s.WarehousesPath(), "warehouses", wf)
}

func (s *Store) mutateWarehouses(fn func(wf *warehouseFile) error) error {
	return mutateFile(s, s.loadWarehouses, s.saveWarehouses, fn)
}

func (wf *warehouseFile) find(name string) int {
	return slices.IndexFunc(wf.Warehouses, func(r warehouseRecord) bool { return r.Name == name })
}

func (wf *warehouseFile) names() []string {
	return sortedNames(wf.Warehouses, func(r warehouseRecord) string { return r.Name })
}

// WarehouseNotFoundError reports a warehouse name that is not stored.
type WarehouseNotFoundError struct {
	Name  string
	Known []string
}

func (e *WarehouseNotFoundError) Error() string {
	if len(e.Known) == 0 {
		return fmt.Sprintf("no warehouse named %q: none is stored yet; add one with `dbtlink warehouse add %s --type postgres|redshift|duckdb ...`", e.Name, e.Name)
	}
	return fmt.Sprintf("no warehouse named %q; stored warehouses: %s", e.Name, strings.Join(e.Known, ", "))
}

// Is makes errors.Is(err, ErrNotFound) true.
func (e *WarehouseNotFoundError) Is(target error) bool { return target == ErrNotFound }

// AddWarehouse stores w, sealing its password (if any) with the store's key.
// Without opts.Replace an existing name fails with an error matching
// [ErrExists].
func (s *Store) AddWarehouse(w Warehouse, opts AddOptions) error {
	if err := ValidateName(w.Name); err != nil {
		return err
	}
	if w.Type == "" {
		return fmt.Errorf("warehouse %q: no type", w.Name)
	}
	if !json.Valid(w.Config) {
		return fmt.Errorf("warehouse %q: the config is not valid JSON", w.Name)
	}
	return s.mutateWarehouses(func(wf *warehouseFile) error {
		idx := wf.find(w.Name)
		if idx >= 0 && !opts.Replace {
			return &ExistsError{Name: w.Name}
		}
		id, err := newRecordID()
		if err != nil {
			return err
		}
		r := warehouseRecord{ID: id, Name: w.Name, Type: w.Type, Config: w.Config}
		if !w.Password.IsZero() {
			key, err := s.encryptionKey(true)
			if err != nil {
				return err
			}
			sl, err := seal(key, warehouseAADPrefix+id, w.Password)
			if err != nil {
				return fmt.Errorf("encrypt password of warehouse %q: %w", w.Name, err)
			}
			r.Password = &sl
		}
		now := s.now().UTC()
		r.CreatedAt, r.UpdatedAt = now, now
		if idx >= 0 {
			r.CreatedAt = wf.Warehouses[idx].CreatedAt
			wf.Warehouses[idx] = r
		} else {
			wf.Warehouses = append(wf.Warehouses, r)
		}
		return nil
	})
}

// RemoveWarehouse deletes the named warehouse; a missing name is a
// *WarehouseNotFoundError.
func (s *Store) RemoveWarehouse(name string) error {
	return s.mutateWarehouses(func(wf *warehouseFile) error {
		idx := wf.find(name)
		if idx < 0 {
			return &WarehouseNotFoundError{Name: name, Known: wf.names()}
		}
		wf.Warehouses = slices.Delete(wf.Warehouses, idx, idx+1)
		return nil
	})
}

// ListWarehouses returns the stored warehouses sorted by name, without
// decrypting their passwords.
func (s *Store) ListWarehouses() ([]WarehouseSummary, error) {
	wf, err := s.loadWarehouses()
	if err != nil {
		return nil, err
	}
	out := make([]WarehouseSummary, 0, len(wf.Warehouses))
	for _, r := range wf.Warehouses {
		ws := WarehouseSummary{Name: r.Name, Type: r.Type, Config: r.Config, HasPassword: r.Password != nil, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
		if r.Password != nil {
			ws.KeyID = r.Password.KeyID
		}
		out = append(out, ws)
	}
	slices.SortFunc(out, func(a, b WarehouseSummary) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// GetWarehouse returns the named warehouse with its password decrypted.
func (s *Store) GetWarehouse(name string) (*Warehouse, error) {
	wf, err := s.loadWarehouses()
	if err != nil {
		return nil, err
	}
	idx := wf.find(name)
	if idx < 0 {
		return nil, &WarehouseNotFoundError{Name: name, Known: wf.names()}
	}
	return s.openWarehouse(wf.Warehouses[idx])
}

func (s *Store) openWarehouse(r warehouseRecord) (*Warehouse, error) {
	w := &Warehouse{Name: r.Name, Type: r.Type, Config: r.Config, Origin: s.WarehousesPath()}
	if r.Password == nil {
		return w, nil
	}
	key, err := s.keyByID("warehouse "+r.Name, r.Password.KeyID)
	if err != nil {
		return nil, err
	}
	pw, err := open(key, warehouseAADPrefix+r.ID, *r.Password)
	if err != nil {
		return nil, fmt.Errorf("warehouse %q in %s: %w; add it again with its password (warehouse add %s --replace)", r.Name, s.WarehousesPath(), err, r.Name)
	}
	w.Password = pw
	return w, nil
}

// rotateWarehouses re-seals every stored warehouse password with newKey.
// The caller holds the lock and has made newKey findable (staged) and the
// old keys kept, so that a crash before or after this step leaves every
// record readable.
func (s *Store) rotateWarehouses(newKey Key, oldKeyIDs *[]string) (int, error) {
	wf, err := s.loadWarehouses()
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range wf.Warehouses {
		r := &wf.Warehouses[i]
		if r.Password == nil {
			continue
		}
		w, err := s.openWarehouse(*r)
		if err != nil {
			return 0, err
		}
		if !slices.Contains(*oldKeyIDs, r.Password.KeyID) {
			*oldKeyIDs = append(*oldKeyIDs, r.Password.KeyID)
		}
		sl, err := seal(newKey, warehouseAADPrefix+r.ID, w.Password)
		if err != nil {
			return 0, fmt.Errorf("encrypt warehouse %q: %w", r.Name, err)
		}
		r.Password = &sl
		r.UpdatedAt = s.now().UTC()
		n++
	}
	if n == 0 {
		return 0, nil
	}
	return n, s.saveWarehouses(wf)
}

// checkWarehousesOpen decrypts every stored warehouse password, so that a
// rotation aborts before it writes anything when one cannot be read.
func (s *Store) checkWarehousesOpen() error {
	wf, err := s.loadWarehouses()
	if err != nil {
		return err
	}
	for _, r := range wf.Warehouses {
		if _, err := s.openWarehouse(r); err != nil {
			return err
		}
	}
	return nil
}
