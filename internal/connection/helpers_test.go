package connection

import (
	"os"
	"path/filepath"
	"testing"
)

// testToken is distinctive so leak checks can grep for it and its tail.
const testToken = "dbtc_S3cr3tT0k3nValue1234567890abcdef"

// secretTail is a piece of testToken past what Mask shows; finding it in
// any output means the token leaked.
const secretTail = "S3cr3tT0k3nValue"

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func newTestStore(t *testing.T, env map[string]string, opts ...Option) *Store {
	t.Helper()
	opts = append([]Option{WithGetenv(envMap(env))}, opts...)
	s, err := NewStore(filepath.Join(t.TempDir(), "home"), opts...)
	if err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	return s
}

func testConn(name string) Connection {
	return Connection{Name: name, Host: "cloud.getdbt.com", AccountID: 42, Token: NewToken(testToken + name)}
}

func mustAdd(t *testing.T, s *Store, c Connection) {
	t.Helper()
	if err := s.Add(c, AddOptions{}); err != nil {
		t.Fatalf("Add(%s): %v", c.Name, err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return b
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read dir: %v", err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}
