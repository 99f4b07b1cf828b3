package connection

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestStoreRoundTrip(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, nil)
	in := Connection{Name: "prod", Host: "https://AB123.us1.dbt.com/api/v2/", AccountID: 7, Token: NewToken(testToken)}
	mustAdd(t, s, in)
	mustAdd(t, s, testConn("dev"))

	got, err := s.Get("prod")
	if err != nil {
		t.Fatal(err)
	}
	want := Connection{Name: "prod", Host: "https://ab123.us1.dbt.com", AccountID: 7, Token: NewToken(testToken), Source: SourceStore, Origin: s.Path()}
	if got.Name != want.Name || got.Host != want.Host || got.AccountID != want.AccountID || !got.Token.Equal(want.Token) || got.Source != want.Source || got.Origin != want.Origin || got.Default {
		t.Errorf("Get = %+v, want %+v", got, want)
	}
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "dev" || list[1].Name != "prod" || list[1].KeyID == "" {
		t.Errorf("List = %+v", list)
	}

	// The file holds no plain token.
	if data := readFile(t, s.Path()); bytes.Contains(data, []byte(secretTail)) {
		t.Errorf("connections file contains the plain token:\n%s", data)
	}
}

func TestStoreAddValidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		c       Connection
		wantErr string
	}{
		{"bad name", Connection{Name: "my conn", Host: "cloud.getdbt.com", AccountID: 1, Token: NewToken("x")}, "contains ' '"},
		{"bad host", Connection{Name: "a", Host: "https://cloud.getdbt.com/deploy/1", AccountID: 1, Token: NewToken("x")}, "unexpected path"},
		{"no account", Connection{Name: "a", Host: "cloud.getdbt.com", Token: NewToken("x")}, "account id"},
		{"no token", Connection{Name: "a", Host: "cloud.getdbt.com", AccountID: 1}, "token is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newTestStore(t, nil)
			err := s.Add(tt.c, AddOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Add err = %v, want containing %q", err, tt.wantErr)
			}
			if _, err := os.Stat(s.Path()); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a rejected Add wrote the file (stat err %v)", err)
			}
		})
	}
}

func TestStoreDuplicateAndReplace(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, nil)
	c := testConn("prod")
	c.Default = true
	mustAdd(t, s, c)
	err := s.Add(testConn("prod"), AddOptions{})
	var ee *ExistsError
	if !errors.As(err, &ee) || !errors.Is(err, ErrExists) || ee.Name != "prod" {
		t.Fatalf("duplicate Add err = %v, want *ExistsError", err)
	}
	r := testConn("prod")
	r.AccountID = 99
	r.Token = NewToken(testToken + "new")
	if err := s.Add(r, AddOptions{Replace: true}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get("prod")
	if err != nil {
		t.Fatal(err)
	}
	if got.AccountID != 99 || got.Token.Reveal() != testToken+"new" || !got.Default {
		t.Errorf("after replace: %+v (default kept? %v)", got, got.Default)
	}
}

func TestStoreRemoveAndDefault(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, nil)
	mustAdd(t, s, testConn("a"))
	mustAdd(t, s, testConn("b"))

	err := s.Remove("nope")
	var nf *NotFoundError
	if !errors.As(err, &nf) || !errors.Is(err, ErrNotFound) || !slices.Equal(nf.Known, []string{"a", "b"}) {
		t.Fatalf("Remove(nope) = %v, want *NotFoundError listing a, b", err)
	}
	if err := s.SetDefault("zzz"); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetDefault(zzz) = %v", err)
	}
	for _, name := range []string{"a", "b"} {
		if err := s.SetDefault(name); err != nil {
			t.Fatal(err)
		}
		list, _ := s.List()
		for _, c := range list {
			if c.Default != (c.Name == name) {
				t.Errorf("after SetDefault(%s): %s default=%v", name, c.Name, c.Default)
			}
		}
	}
	c := testConn("c")
	c.Default = true
	mustAdd(t, s, c)
	list, _ := s.List()
	if list[1].Default || !list[2].Default {
		t.Errorf("Add with Default did not move the default: %+v", list)
	}
	if err := s.Remove("a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Remove = %v", err)
	}
}

func TestStorePermissions(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, nil)
	mustAdd(t, s, testConn("a"))
	for path, want := range map[string]os.FileMode{
		s.Dir():                              0o700,
		s.Path():                             0o600,
		s.KeyPath():                          0o600,
		filepath.Join(s.Dir(), lockFileName): 0o600,
	} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s mode %#o, want %#o", path, got, want)
		}
	}
}

func TestStoreRefusesOpenKeyFile(t *testing.T) {
	t.Parallel()
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604} {
		t.Run(fmt.Sprintf("%#o", mode), func(t *testing.T) {
			t.Parallel()
			s := newTestStore(t, nil)
			mustAdd(t, s, testConn("a"))
			if err := os.Chmod(s.KeyPath(), mode); err != nil {
				t.Fatal(err)
			}
			before := readFile(t, s.Path())
			_, getErr := s.Get("a")
			addErr := s.Add(testConn("b"), AddOptions{})
			for _, err := range []error{getErr, addErr} {
				if !errors.Is(err, ErrKeyFilePermissions) || !strings.Contains(err.Error(), "chmod 600 "+s.KeyPath()) {
					t.Errorf("err = %v, want ErrKeyFilePermissions with chmod hint", err)
				}
			}
			if !bytes.Equal(before, readFile(t, s.Path())) {
				t.Error("the file changed although the key was refused")
			}
		})
	}
}

func TestStoreCorruptFileNeverOverwritten(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		content string
		want    string
	}{
		{"not json", "{\"version\": 1,\n \"connections\": [oops]}", "line 2"},
		{"truncated", `{"version": 1, "connections": [`, "not valid JSON"},
		{"no version", `{"connections": []}`, `no "version"`},
		{"newer version", `{"version": 9, "connections": []}`, "newer dbtlink"},
		{"trailing data", `{"version": 1, "connections": []} {}`, "after the JSON"},
		{"duplicate name", `{"version": 1, "connections": [` + rec("1", "a") + `,` + rec("2", "a") + `]}`, "appears twice"},
		{"bad name", `{"version": 1, "connections": [` + rec("1", "a b") + `]}`, "invalid connection name"},
		{"wrong type", `{"version": "1"}`, "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newTestStore(t, nil)
			if err := os.MkdirAll(s.Dir(), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(s.Path(), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			checks := map[string]error{
				"Add":        s.Add(testConn("new"), AddOptions{Replace: true}),
				"Remove":     s.Remove("a"),
				"SetDefault": s.SetDefault(""),
			}
			_, checks["List"] = s.List()
			_, checks["Get"] = s.Get("a")
			_, checks["RotateKey"] = s.RotateKey(mustKey(t))
			_, checks["Resolve"] = s.Resolve("")
			for op, err := range checks {
				var ce *CorruptError
				if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) {
					t.Errorf("%s err = %v, want *CorruptError", op, err)
					continue
				}
				msg := err.Error()
				if !strings.Contains(msg, s.Path()) || !strings.Contains(msg, tt.want) || !strings.Contains(msg, "will not change it") {
					t.Errorf("%s err = %q, want path, %q and the refusal", op, msg, tt.want)
				}
			}
			if got := string(readFile(t, s.Path())); got != tt.content {
				t.Errorf("corrupt file was changed to %q", got)
			}
		})
	}
}

func rec(id, name string) string {
	return fmt.Sprintf(`{"id": %q, "name": %q, "host": "https://cloud.getdbt.com", "account_id": 1, "token": {"alg": "AES-256-GCM", "key_id": "00000000", "nonce": "AAAAAAAAAAAAAAAA", "ciphertext": "AAAA"}}`, id, name)
}

func mustKey(t *testing.T) Key {
	t.Helper()
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestStoreUnreadableFile(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, nil)
	if err := os.MkdirAll(s.Path(), 0o700); err != nil { // a directory where the file should be
		t.Fatal(err)
	}
	err := s.Add(testConn("a"), AddOptions{})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), s.Path()) {
		t.Fatalf("Add err = %v, want ErrCorrupt naming the path", err)
	}
}

func TestStoreAtomicWriteLeavesNoTempFiles(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, nil)
	mustAdd(t, s, testConn("a"))
	mustAdd(t, s, testConn("b"))
	_ = s.Add(testConn("a"), AddOptions{}) // fails: exists
	if err := s.Remove("b"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RotateKey(mustKey(t)); err != nil {
		t.Fatal(err)
	}
	got := dirNames(t, s.Dir())
	for _, n := range got {
		if strings.HasSuffix(n, ".tmp") {
			t.Errorf("temporary file left behind: %s", n)
		}
	}
	if !slices.Contains(got, connectionsFile) || !slices.Contains(got, keyFileName) {
		t.Errorf("dir = %v", got)
	}
}

func TestWriteFileAtomicFailureCleansUp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// Renaming a file over a non-empty directory fails after the temp file
	// is written, exercising the cleanup path.
	target := filepath.Join(dir, "target")
	if err := os.MkdirAll(filepath.Join(target, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := writeFileAtomic(target, []byte("data")); err == nil {
		t.Fatal("want an error renaming over a directory")
	}
	if got := dirNames(t, dir); !slices.Equal(got, []string{"target"}) {
		t.Errorf("dir after failed write = %v", got)
	}
}

func TestStoreLock(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, nil, WithLockTimeout(0))
	mustAdd(t, s, testConn("a"))
	unlock, err := lockFile(filepath.Join(s.Dir(), lockFileName), 0)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Add(testConn("b"), AddOptions{})
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) {
		t.Fatalf("Add while locked = %v, want *LockedError", err)
	}
	// Reads do not need the lock.
	if _, err := s.Get("a"); err != nil {
		t.Errorf("Get while locked: %v", err)
	}
	unlock()
	mustAdd(t, s, testConn("b"))
}

// TestStoreConcurrentAdds runs writers with separate Stores (separate lock
// file descriptors, as separate processes would have) on one directory.
func TestStoreConcurrentAdds(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "home")
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			s, err := NewStore(dir, WithGetenv(envMap(nil)), WithLockTimeout(30*time.Second))
			if err != nil {
				errs <- err
				return
			}
			errs <- s.Add(testConn(fmt.Sprintf("c%d", i)), AddOptions{})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	s, _ := NewStore(dir, WithGetenv(envMap(nil)))
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != n {
		t.Errorf("got %d connections, want %d (a write was lost)", len(list), n)
	}
	for _, c := range list {
		if _, err := s.Get(c.Name); err != nil {
			t.Errorf("Get(%s): %v (two processes created different keys?)", c.Name, err)
		}
	}
}

func TestStoreADBinding(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, nil)
	mustAdd(t, s, testConn("a"))
	mustAdd(t, s, testConn("b"))
	var fd fileData
	if err := json.Unmarshal(readFile(t, s.Path()), &fd); err != nil {
		t.Fatal(err)
	}
	fd.Connections[0].Token, fd.Connections[1].Token = fd.Connections[1].Token, fd.Connections[0].Token
	if err := s.save(&fd); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b"} {
		_, err := s.Get(name)
		if !errors.Is(err, ErrDecrypt) {
			t.Errorf("Get(%s) with swapped ciphertext = %v, want ErrDecrypt", name, err)
		}
	}
}

func TestStoreTamperedCiphertext(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, nil)
	mustAdd(t, s, testConn("a"))
	var fd fileData
	if err := json.Unmarshal(readFile(t, s.Path()), &fd); err != nil {
		t.Fatal(err)
	}
	fd.Connections[0].Token.Ciphertext[0] ^= 1
	if err := s.save(&fd); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("a"); !errors.Is(err, ErrDecrypt) {
		t.Errorf("Get with tampered ciphertext = %v, want ErrDecrypt", err)
	}
}

func TestStoreEnvKey(t *testing.T) {
	t.Parallel()
	k1, k2 := mustKey(t), mustKey(t)
	dir := filepath.Join(t.TempDir(), "home")
	s1, _ := NewStore(dir, WithGetenv(envMap(map[string]string{EnvSecretKey: k1.Encode()})))
	mustAdd(t, s1, testConn("a"))
	if _, err := os.Stat(s1.KeyPath()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a key file was created although %s is set", EnvSecretKey)
	}
	if _, err := s1.Get("a"); err != nil {
		t.Fatal(err)
	}

	// The wrong key: the error names the key id needed.
	s2, _ := NewStore(dir, WithGetenv(envMap(map[string]string{EnvSecretKey: fmt.Sprintf("%x", k2.b)})))
	_, err := s2.Get("a")
	var km *KeyMissingError
	if !errors.As(err, &km) || !errors.Is(err, ErrKeyMissing) || km.KeyID != k1.ID() || !strings.Contains(err.Error(), k1.ID()) {
		t.Fatalf("Get with the wrong key = %v, want KeyMissingError for %s", err, k1.ID())
	}

	// No key at all.
	s3, _ := NewStore(dir, WithGetenv(envMap(nil)))
	if _, err := s3.Get("a"); !errors.Is(err, ErrKeyMissing) {
		t.Errorf("Get without a key = %v", err)
	}

	// A malformed env key is reported, not ignored.
	s4, _ := NewStore(dir, WithGetenv(envMap(map[string]string{EnvSecretKey: "c2hvcnQ="})))
	if _, err := s4.Get("a"); err == nil || !strings.Contains(err.Error(), EnvSecretKey) || !strings.Contains(err.Error(), "5 bytes") {
		t.Errorf("Get with a short env key = %v", err)
	}
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	k := mustKey(t)
	raw := k.b[:]
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{"base64", k.Encode(), ""},
		{"base64 with newline", k.Encode() + "\n", ""},
		{"hex", fmt.Sprintf("%x", raw), ""},
		{"HEX", fmt.Sprintf("%X", raw), ""},
		{"raw base64", strings.TrimRight(k.Encode(), "="), ""},
		{"url base64", strings.NewReplacer("+", "-", "/", "_").Replace(k.Encode()), ""},
		{"empty", "", "empty"},
		{"short", "c2hvcnQ=", "decodes to 5 bytes, want 32"},
		{"long hex", fmt.Sprintf("%x", append(raw, 1)), "33 bytes"},
		{"garbage", "not a key!!", "neither hex nor base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseKey(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.ID() != k.ID() {
				t.Errorf("id %s, want %s", got.ID(), k.ID())
			}
		})
	}
}

func TestRotateKey(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, nil)
	mustAdd(t, s, testConn("a"))
	mustAdd(t, s, testConn("b"))
	oldKey, err := readKeyFile(s.KeyPath())
	if err != nil {
		t.Fatal(err)
	}
	newKey := mustKey(t)
	res, err := s.RotateKey(newKey)
	if err != nil {
		t.Fatal(err)
	}
	want := RotateResult{Rotated: 2, OldKeyIDs: []string{oldKey.ID()}, NewKeyID: newKey.ID(), Backup: s.backupKeyPath(oldKey.ID())}
	if res.Rotated != want.Rotated || !slices.Equal(res.OldKeyIDs, want.OldKeyIDs) || res.NewKeyID != want.NewKeyID || res.Backup != want.Backup || res.EnvKeySet {
		t.Errorf("RotateKey = %+v, want %+v", res, want)
	}
	if cur, err := readKeyFile(s.KeyPath()); err != nil || cur.ID() != newKey.ID() {
		t.Errorf("key file holds %v (%v), want the new key", cur, err)
	}
	if bk, err := readKeyFile(res.Backup); err != nil || bk.ID() != oldKey.ID() {
		t.Errorf("backup holds %v (%v), want the old key", bk, err)
	}
	list, _ := s.List()
	for _, c := range list {
		if c.KeyID != newKey.ID() {
			t.Errorf("%s still uses key %s", c.Name, c.KeyID)
		}
		got, err := s.Get(c.Name)
		if err != nil || got.Token.Reveal() != testToken+c.Name {
			t.Errorf("Get(%s) after rotate: %v", c.Name, err)
		}
	}
	// Once the backup is gone the old key is really unused.
	if err := os.Remove(res.Backup); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("a"); err != nil {
		t.Errorf("Get without the backup: %v", err)
	}
	if _, err := s.RotateKey(newKey); err == nil || !strings.Contains(err.Error(), "already in use") {
		t.Errorf("rotating to the same key = %v", err)
	}
}

// TestRotateKeyCrash stops a rotation after each step, as a crash would,
// and checks every connection still decrypts and a later rotation works.
func TestRotateKeyCrash(t *testing.T) {
	t.Parallel()
	for _, step := range []string{"backup", "staged", "records"} {
		t.Run(step, func(t *testing.T) {
			t.Parallel()
			s := newTestStore(t, nil)
			mustAdd(t, s, testConn("a"))
			oldKey, _ := readKeyFile(s.KeyPath())
			s.failAfter = step
			if _, err := s.RotateKey(mustKey(t)); err == nil {
				t.Fatal("want the simulated failure")
			}
			if got, err := readKeyFile(s.KeyPath()); err != nil || got.ID() != oldKey.ID() {
				t.Errorf("key file changed by a failed rotation: %v %v", got, err)
			}
			if got, err := s.Get("a"); err != nil || got.Token.Reveal() != testToken+"a" {
				t.Fatalf("Get after crash at %s: %v", step, err)
			}
			s.failAfter = ""
			if _, err := s.RotateKey(mustKey(t)); err != nil {
				t.Fatalf("rotation after crash: %v", err)
			}
			if _, err := s.Get("a"); err != nil {
				t.Fatalf("Get after second rotation: %v", err)
			}
		})
	}
}

func TestRotateKeyAbortsWhenATokenDoesNotDecrypt(t *testing.T) {
	t.Parallel()
	s := newTestStore(t, nil)
	mustAdd(t, s, testConn("a"))
	if err := os.Rename(s.KeyPath(), s.KeyPath()+".away"); err != nil {
		t.Fatal(err)
	}
	before := dirNames(t, s.Dir())
	data := readFile(t, s.Path())
	_, err := s.RotateKey(mustKey(t))
	if !errors.Is(err, ErrKeyMissing) || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("RotateKey = %v", err)
	}
	if !bytes.Equal(data, readFile(t, s.Path())) || !slices.Equal(before, dirNames(t, s.Dir())) {
		t.Error("a failed rotation changed files")
	}
}

func TestRotateKeyWithEnvKey(t *testing.T) {
	t.Parallel()
	env := map[string]string{EnvSecretKey: mustKey(t).Encode()}
	s := newTestStore(t, env)
	mustAdd(t, s, testConn("a"))
	newKey := mustKey(t)
	res, err := s.RotateKey(newKey)
	if err != nil {
		t.Fatal(err)
	}
	if !res.EnvKeySet || res.Backup != "" {
		t.Errorf("result %+v: want EnvKeySet and no key-file backup", res)
	}
	// The env var still holds the old key; the record is found via the file.
	if _, err := s.Get("a"); err != nil {
		t.Fatal(err)
	}
	delete(env, EnvSecretKey)
	if _, err := s.Get("a"); err != nil {
		t.Fatalf("Get with the key file only: %v", err)
	}
}

func TestHomeFrom(t *testing.T) {
	t.Parallel()
	home := func() (string, error) { return "/home/u", nil }
	noHome := func() (string, error) { return "", errors.New("$HOME is not defined") }
	tests := []struct {
		name    string
		env     map[string]string
		home    func() (string, error)
		want    string
		wantErr string
	}{
		{"DBTLINK_HOME", map[string]string{EnvHome: "/x/dl", "XDG_CONFIG_HOME": "/xdg"}, home, "/x/dl", ""},
		{"XDG", map[string]string{"XDG_CONFIG_HOME": "/xdg"}, home, "/xdg/dbtlink", ""},
		{"relative XDG ignored", map[string]string{"XDG_CONFIG_HOME": "xdg"}, home, "/home/u/.config/dbtlink", ""},
		{"home", nil, home, "/home/u/.config/dbtlink", ""},
		{"no home", nil, noHome, "", EnvHome},
	}
	for _, tt := range tests {
		got, err := homeFrom(envMap(tt.env), tt.home)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: err = %v", tt.name, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: got %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

func TestValidateName(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"prod", "a", "Prod-EU_2", "0", strings.Repeat("a", 64)} {
		if err := ValidateName(ok); err != nil {
			t.Errorf("ValidateName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-x", "_x", "a b", "a/b", "a.b", "é", strings.Repeat("a", 65)} {
		if err := ValidateName(bad); !errors.Is(err, ErrInvalidName) {
			t.Errorf("ValidateName(%q) = %v, want ErrInvalidName", bad, err)
		}
	}
}
