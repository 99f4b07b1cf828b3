package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var staticFS embed.FS

// asset is one embedded static file with its fingerprinted name.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// assets serves the embedded static files under fingerprinted names
// ("app.3f2a9c1d.css"): the name changes when the content does, so each
// can be cached for a year and a new release is never served stale.
type assets struct {
	byName map[string]*asset // fingerprinted name -> asset
	url    map[string]string // logical path ("app.css", "vendor/htmx.min.js") -> /static/ URL
}

func loadAssets() (*assets, error) {
	a := &assets{byName: map[string]*asset{}, url: map[string]string{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ext := path.Ext(p)
		if ext != ".js" && ext != ".css" && ext != ".svg" && ext != ".png" {
			return nil // licenses and notes stay in the repository
		}
		body, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		fp := hex.EncodeToString(sum[:])[:12]
		logical := strings.TrimPrefix(p, "static/")
		base := path.Base(logical)
		name := strings.TrimSuffix(base, ext) + "." + fp + ext
		ct := mime.TypeByExtension(ext)
		if ext == ".js" {
			ct = "text/javascript; charset=utf-8"
		}
		a.byName[name] = &asset{body: body, contentType: ct, etag: `"` + fp + `"`}
		a.url[logical] = "/static/" + name
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: read the embedded static files: %w", err)
	}
	return a, nil
}

// URL returns the fingerprinted URL of a static file; templates call it.
func (a *assets) URL(logical string) (string, error) {
	u, ok := a.url[logical]
	if !ok {
		return "", fmt.Errorf("web: no static file %q", logical)
	}
	return u, nil
}

func (a *assets) serve(w http.ResponseWriter, r *http.Request) {
	f := a.byName[r.PathValue("name")]
	if f == nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", f.etag)
	if r.Header.Get("If-None-Match") == f.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(f.body)
}
