package e2e

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSourcesAreCacheInputs stats every file the dbtlink binary is built
// from. The other tests run a binary that TestMain builds with `go build` in
// a subprocess, which go test's result cache cannot see; the cache does
// record the files a test stats (from inside m.Run, so not in TestMain), so a
// change to any of them re-runs this package instead of replaying a cached
// pass.
func TestSourcesAreCacheInputs(t *testing.T) {
	if err := statSources(".."); err != nil {
		t.Fatalf("stat the sources of dbtlink: %v", err)
	}
}

func statSources(root string) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "bin") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".go") || name == "go.mod" || name == "go.sum" {
			_, err = os.Stat(path)
		}
		return err
	})
}
