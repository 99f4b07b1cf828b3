package artifacts

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadErrors checks that bad input fails with an *Error naming the file
// and the byte offset, for every reader.
func TestReadErrors(t *testing.T) {
	v12, err := os.ReadFile(tdV12)
	if err != nil {
		t.Fatal(err)
	}
	garbage := make([]byte, 4096)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range garbage {
		garbage[i] = byte(r.IntN(256))
	}
	garbage[0] = 0xff // not '{', not gzip magic
	tests := []struct {
		name    string
		in      []byte
		offset  int64 // expected offset; -1: any non-negative offset
		wantMsg string
		notArt  bool
	}{
		{"empty", nil, 0, "unexpected EOF", false},
		{"whitespace only", []byte("  \n "), -1, "unexpected EOF", false},
		{"array", []byte(`[{"nodes": {}}]`), 0, "not an object", true},
		{"string", []byte(`"manifest"`), 0, "not an object", true},
		{"object without artifact sections", []byte(`{"hello": "world"}`), 18, "not a dbt artifact", true},
		{"truncated", v12[:len(v12)/2], int64(len(v12) / 2), "unexpected EOF", false},
		{"invalid", []byte(`{"metadata": {"dbt_version": 1.0.0}}`), -1, "invalid character", false},
		{"trailing data", append(append([]byte{}, v12...), []byte(`{}`)...), -1, "after the top-level", false},
		{"deeply nested", []byte(`{"nodes": {"model.a.b": {"meta": ` + strings.Repeat(`{"a":`, maxDepth+1)), -1, "depth", false},
		{"deeply nested arrays", []byte(`{"x": ` + strings.Repeat(`[`, 2*maxDepth) + strings.Repeat(`]`, 2*maxDepth) + `}`), -1, "depth", false},
		{"binary garbage", garbage, 0, "invalid character", false},
		// PeekKind sees "n", "t" or "f" as the start of a literal.
		{"text starting like null", []byte("nodes: none\n"), -1, "not JSON: invalid character 'o' in literal null", false},
		{"text starting like true", []byte("this is not JSON"), 1, "not JSON: invalid character 'h' in literal true", false},
		{"text", []byte("hello world"), 0, "not JSON: invalid character 'h' at start of value", false},
		{"null", []byte("null"), -1, "top-level JSON value is null, not an object", true},
		{"gzip header only", []byte{0x1f, 0x8b, 8}, 0, "gzip", false},
	}
	readers := map[Kind]func(string) error{
		KindManifest:   func(p string) error { _, err := ReadManifestFile(p); return err },
		KindRunResults: func(p string) error { _, err := ReadRunResultsFile(p); return err },
		KindCatalog:    func(p string) error { _, err := ReadCatalogFile(p); return err },
		KindSources:    func(p string) error { _, err := ReadSourcesFile(p); return err },
		KindUnknown:    func(p string) error { _, err := ReadFile(p); return err },
	}
	dir := t.TempDir()
	for _, tt := range tests {
		p := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".json")
		if err := os.WriteFile(p, tt.in, 0o644); err != nil {
			t.Fatal(err)
		}
		for kind, read := range readers {
			t.Run(tt.name+"/"+string(kind), func(t *testing.T) {
				err := read(p)
				var ae *Error
				if !errors.As(err, &ae) {
					t.Fatalf("error %v (%T) is not an *Error", err, err)
				}
				msg := err.Error()
				if !strings.Contains(msg, p) {
					t.Errorf("error does not name the file: %s", msg)
				}
				if !strings.Contains(msg, tt.wantMsg) {
					t.Errorf("error %q does not mention %q", msg, tt.wantMsg)
				}
				if tt.notArt && !errors.Is(err, ErrNotArtifact) {
					t.Errorf("not ErrNotArtifact: %s", msg)
				}
				if !strings.Contains(msg, "byte offset") || ae.Offset < 0 {
					t.Errorf("no offset: %s", msg)
				}
				if tt.offset >= 0 && ae.Offset != tt.offset {
					t.Errorf("offset %d, want %d: %s", ae.Offset, tt.offset, msg)
				}
			})
		}
	}
}

// TestWrongKind rejects an artifact of another kind by its schema URL.
func TestWrongKind(t *testing.T) {
	if _, err := ReadManifestFile(tdCatalog); !errors.Is(err, ErrNotArtifact) || !strings.Contains(err.Error(), "catalog") {
		t.Fatalf("catalog read as manifest: %v", err)
	}
	if _, err := ReadCatalogFile(tdV12); !errors.Is(err, ErrNotArtifact) {
		t.Fatalf("manifest read as catalog: %v", err)
	}
	if _, err := ReadRunResultsFile(tdDiy + "sources.json"); !errors.Is(err, ErrNotArtifact) {
		t.Fatalf("sources read as run results: %v", err)
	}
	// A catalog without metadata is not a manifest either.
	if _, err := ReadManifest(strings.NewReader(`{"nodes": {"model.a.b": {"metadata": {}, "columns": {}}}}`)); !errors.Is(err, ErrNotArtifact) {
		t.Fatalf("metadata-less catalog read as manifest: %v", err)
	}
}

// TestWithName names io.Reader input in errors.
func TestWithName(t *testing.T) {
	_, err := ReadManifest(bytes.NewReader([]byte(`{"nodes": `)), WithName("upload #3"))
	if err == nil || !strings.Contains(err.Error(), `"upload #3" at byte offset`) {
		t.Fatalf("error %v", err)
	}
}
