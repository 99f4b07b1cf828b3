package cli

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSaveErrorHintsOnlyAtEscapes(t *testing.T) {
	out, outside := t.TempDir(), t.TempDir()
	if err := os.Symlink(outside, filepath.Join(out, "link")); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(out)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	_, escape := root.OpenFile(filepath.Join("link", "manifest.json"), os.O_WRONLY|os.O_CREATE, 0o644)
	if escape == nil {
		t.Fatal("os.Root let a write through a symbolic link leave the directory")
	}
	const hint = "symbolic links leading out of it are refused"
	tests := []struct {
		name     string
		err      error
		wantHint bool
	}{
		{"escape through a symbolic link", escape, true},
		{"permission", &fs.PathError{Op: "open", Path: "manifest.json", Err: fs.ErrPermission}, false},
		{"disk full", errors.New("write manifest.json: no space left on device"), false},
	}
	for _, tt := range tests {
		err := saveError("manifest.json", out, tt.err)
		if got := strings.Contains(err.Error(), hint); got != tt.wantHint {
			t.Errorf("%s: %q has the symbolic link hint: %v, want %v", tt.name, err, got, tt.wantHint)
		}
		if exitCode(err) != ExitUsage || !errors.Is(err, tt.err) {
			t.Errorf("%s: exit %d, wraps the cause: %v", tt.name, exitCode(err), errors.Is(err, tt.err))
		}
	}
}
