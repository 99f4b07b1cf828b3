package connection

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

const testPassword = "pw-s3cret-value-42"

func testWarehouse(name string, pw string) Warehouse {
	return Warehouse{Name: name, Type: "postgres", Config: json.RawMessage(`{"host":"127.0.0.1","database":"analytics"}`), Password: NewToken(pw)}
}

func TestWarehouseLifecycle(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, nil)
	if err := s.AddWarehouse(testWarehouse("wh", testPassword), AddOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddWarehouse(Warehouse{Name: "duck", Type: "duckdb", Config: json.RawMessage(`{"path":"x.duckdb"}`)}, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddWarehouse(testWarehouse("wh", "other"), AddOptions{}); !errors.Is(err, ErrExists) {
		t.Errorf("adding a name twice = %v, want ErrExists", err)
	}
	got, err := s.GetWarehouse("wh")
	if err != nil || got.Password.Reveal() != testPassword || got.Type != "postgres" || !strings.Contains(string(got.Config), "analytics") {
		t.Fatalf("GetWarehouse = %+v, %v", got, err)
	}
	duck, err := s.GetWarehouse("duck")
	if err != nil || !duck.Password.IsZero() {
		t.Fatalf("a warehouse without a password = %+v, %v", duck, err)
	}
	list, err := s.ListWarehouses()
	if err != nil || len(list) != 2 || list[0].Name != "duck" || list[1].Name != "wh" || !list[1].HasPassword || list[0].HasPassword {
		t.Fatalf("ListWarehouses = %+v, %v", list, err)
	}
	// The password is sealed: it appears in no file of the home directory.
	for _, p := range []string{s.WarehousesPath(), s.KeyPath()} {
		if strings.Contains(string(readFile(t, p)), testPassword) {
			t.Errorf("%s holds the plain password", p)
		}
	}
	if fi, err := os.Stat(s.WarehousesPath()); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("warehouses file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if err := s.AddWarehouse(testWarehouse("wh", "replaced"), AddOptions{Replace: true}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetWarehouse("wh"); got.Password.Reveal() != "replaced" {
		t.Errorf("replace kept the old password")
	}
	if err := s.RemoveWarehouse("wh"); err != nil {
		t.Fatal(err)
	}
	var nf *WarehouseNotFoundError
	if _, err := s.GetWarehouse("wh"); !errors.As(err, &nf) || !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "duck") {
		t.Errorf("GetWarehouse after remove = %v", err)
	}
	if err := s.RemoveWarehouse("wh"); !errors.Is(err, ErrNotFound) {
		t.Errorf("removing twice = %v", err)
	}
}

func TestWarehouseBadInput(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, nil)
	for _, w := range []Warehouse{
		{Name: "", Type: "postgres", Config: json.RawMessage(`{}`)},
		{Name: "bad name", Type: "postgres", Config: json.RawMessage(`{}`)},
		{Name: "x", Type: "", Config: json.RawMessage(`{}`)},
		{Name: "x", Type: "postgres", Config: json.RawMessage(`{`)},
	} {
		if err := s.AddWarehouse(w, AddOptions{}); err == nil {
			t.Errorf("AddWarehouse(%+v) accepted", w)
		}
	}
	// A damaged file is reported and never overwritten.
	if err := s.ensureDir(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.WarehousesPath(), []byte(`{"version":1,"warehouses":[{"name":"a"`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.AddWarehouse(testWarehouse("b", "p"), AddOptions{}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("AddWarehouse over a corrupt file = %v, want ErrCorrupt", err)
	}
	if got := string(readFile(t, s.WarehousesPath())); got != `{"version":1,"warehouses":[{"name":"a"` {
		t.Errorf("a corrupt file was rewritten: %q", got)
	}
}

func TestRotateKeyResealsWarehouses(t *testing.T) {
	t.Parallel()
	for _, step := range []string{"", "records", "warehouses"} {
		t.Run("crash after "+step, func(t *testing.T) {
			t.Parallel()
			s := newTestStore(t, nil)
			mustAdd(t, s, testConn("a"))
			if err := s.AddWarehouse(testWarehouse("wh", testPassword), AddOptions{}); err != nil {
				t.Fatal(err)
			}
			newKey := mustKey(t)
			s.failAfter = step
			res, err := s.RotateKey(newKey)
			if step != "" {
				if err == nil {
					t.Fatal("want the simulated failure")
				}
				// Whatever step it stopped at, the password still opens.
				if got, err := s.GetWarehouse("wh"); err != nil || got.Password.Reveal() != testPassword {
					t.Fatalf("GetWarehouse after a crash at %s: %v", step, err)
				}
				s.failAfter = ""
				newKey = mustKey(t)
				if res, err = s.RotateKey(newKey); err != nil {
					t.Fatalf("rotation after a crash: %v", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if res.RotatedWarehouses != 1 {
				t.Errorf("RotatedWarehouses = %d, want 1", res.RotatedWarehouses)
			}
			list, _ := s.ListWarehouses()
			if len(list) != 1 || list[0].KeyID != newKey.ID() {
				t.Errorf("warehouse key after rotation = %+v, want %s", list, newKey.ID())
			}
			if got, err := s.GetWarehouse("wh"); err != nil || got.Password.Reveal() != testPassword {
				t.Errorf("GetWarehouse after rotation: %v", err)
			}
		})
	}
}

func TestRotateKeyAbortsWhenAWarehouseDoesNotDecrypt(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, nil)
	mustAdd(t, s, testConn("a"))
	if err := s.AddWarehouse(testWarehouse("wh", testPassword), AddOptions{}); err != nil {
		t.Fatal(err)
	}
	// Move the sealed password into another record: it no longer
	// authenticates, and the rotation must change nothing.
	data := readFile(t, s.WarehousesPath())
	var wf warehouseFile
	if err := json.Unmarshal(data, &wf); err != nil {
		t.Fatal(err)
	}
	wf.Warehouses[0].ID = "0123456789abcdef0123456789abcdef"
	if err := s.saveWarehouses(&wf); err != nil {
		t.Fatal(err)
	}
	before := readFile(t, s.Path())
	if _, err := s.RotateKey(mustKey(t)); !errors.Is(err, ErrDecrypt) || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("RotateKey = %v, want a decrypt error and nothing changed", err)
	}
	if string(readFile(t, s.Path())) != string(before) {
		t.Error("a failed rotation rewrote the connections file")
	}
}
