package server

import (
	"net/http"
	"strings"
	"testing"
)

// TestWebMount checks that Config.Web answers every path outside the API
// while the API keeps its JSON answers, 404 and 405 included.
func TestWebMount(t *testing.T) {
	web := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("web " + r.Method + " " + r.URL.Path))
	})
	b := setup(t, func(c *Config) { c.Web = web })
	tests := []struct {
		method, path string
		status       int
		code         string // the JSON error code, or "" for the web UI
	}{
		{"GET", "/", 200, ""},
		{"GET", "/runs/3", 200, ""},
		{"POST", "/login", 200, ""},
		{"GET", "/static/app.css", 200, ""},
		{"GET", "/api/v1/nope", 404, codeNotFound},
		{"GET", "/api/", 404, codeNotFound},
		{"DELETE", "/api/v1/runs", 405, codeMethodNotAllowed},
		{"GET", "/webhooks/dbt-cloud/prod", 405, codeMethodNotAllowed},
		{"GET", "/webhooks/nope", 404, codeNotFound},
		{"POST", "/healthz", 405, codeMethodNotAllowed},
		{"GET", "/healthz", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			w := b.do(t, tt.method, tt.path, "", "")
			if tt.code != "" {
				wantError(t, w, tt.status, tt.code)
				return
			}
			wantStatus(t, w, tt.status)
			if tt.path != "/healthz" && !strings.HasPrefix(w.Body.String(), "web "+tt.method+" "+tt.path) {
				t.Errorf("answered %q, want the web UI's", w.Body)
			}
		})
	}
}
