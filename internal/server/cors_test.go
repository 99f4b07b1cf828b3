package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const testExtOrigin = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"

func TestCORSExtensionOrigin(t *testing.T) {
	b := setup(t, func(c *Config) { c.ExtensionOrigins = []string{testExtOrigin} })
	tests := []struct {
		name        string
		method      string
		path        string
		origin      string
		preflight   bool
		token       string
		wantStatus  int
		wantAllowed bool
	}{
		{"preflight from the extension", http.MethodOptions, "/api/v1/connections", testExtOrigin, true, "", http.StatusNoContent, true},
		{"read from the extension", http.MethodGet, "/api/v1/connections", testExtOrigin, false, "read", http.StatusOK, true},
		{"refused token still readable, so the extension can say so", http.MethodGet, "/api/v1/connections", testExtOrigin, false, "wrong", http.StatusUnauthorized, true},
		{"preflight from another extension", http.MethodOptions, "/api/v1/connections", "chrome-extension://pppppppppppppppppppppppppppppppp", true, "", 0, false},
		{"read from a web page", http.MethodGet, "/api/v1/connections", "https://evil.example", false, "read", http.StatusOK, false},
		{"preflight from a web page", http.MethodOptions, "/api/v1/connections", "https://evil.example", true, "", 0, false},
		{"outside the API", http.MethodGet, "/healthz", testExtOrigin, false, "", http.StatusOK, false},
		{"no origin", http.MethodGet, "/api/v1/connections", "", false, "read", http.StatusOK, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			if tt.preflight {
				req.Header.Set("Access-Control-Request-Method", "GET")
				req.Header.Set("Access-Control-Request-Headers", "authorization")
			}
			switch tt.token {
			case "":
			case "wrong":
				req.Header.Set("Authorization", "Bearer dbtl_not-a-token")
			default:
				req.Header.Set("Authorization", "Bearer "+b.tokens[tt.token])
			}
			rec := httptest.NewRecorder()
			b.srv.ServeHTTP(rec, req)
			if tt.wantStatus != 0 && rec.Code != tt.wantStatus {
				t.Errorf("status %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.preflight && !tt.wantAllowed && rec.Code == http.StatusNoContent {
				t.Errorf("a preflight from %s was answered 204", tt.origin)
			}
			got := rec.Header().Get("Access-Control-Allow-Origin")
			switch {
			case tt.wantAllowed && got != tt.origin:
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, tt.origin)
			case !tt.wantAllowed && got != "":
				t.Errorf("Access-Control-Allow-Origin = %q for %q, want none", got, tt.origin)
			}
			if got == "*" {
				t.Error("wildcard origin")
			}
			if tt.wantAllowed && !strings.Contains(strings.Join(rec.Header().Values("Vary"), ","), "Origin") {
				t.Errorf("Vary = %q, want Origin in it", rec.Header().Values("Vary"))
			}
			if tt.preflight && tt.wantAllowed {
				if m := rec.Header().Get("Access-Control-Allow-Methods"); !strings.Contains(m, "GET") || strings.Contains(m, "POST") {
					t.Errorf("Access-Control-Allow-Methods = %q, want GET only (the extension reads)", m)
				}
				if h := rec.Header().Get("Access-Control-Allow-Headers"); !strings.Contains(h, "Authorization") {
					t.Errorf("Access-Control-Allow-Headers = %q, want Authorization", h)
				}
			}
		})
	}
}

func TestCORSNoOriginsConfigured(t *testing.T) {
	b := setup(t)
	req := httptest.NewRequest(http.MethodOptions, "/api/v1/connections", nil)
	req.Header.Set("Origin", testExtOrigin)
	req.Header.Set("Access-Control-Request-Method", "GET")
	rec := httptest.NewRecorder()
	b.srv.ServeHTTP(rec, req)
	if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "" || rec.Code == http.StatusNoContent {
		t.Errorf("without --extension-origin: status %d, Access-Control-Allow-Origin %q; want no CORS answer", rec.Code, got)
	}
}

func TestCheckExtensionOrigin(t *testing.T) {
	for _, o := range []string{testExtOrigin, testExtOrigin + "/", "moz-extension://4b1d5a2e-0c1f-4a5b-9c3d-2e1f0a9b8c7d"} {
		if err := CheckExtensionOrigin(o); err != nil {
			t.Errorf("CheckExtensionOrigin(%q) = %v, want nil", o, err)
		}
	}
	for _, o := range []string{"", "*", "chrome-extension://*", "https://example.com", "chrome-extension://", testExtOrigin + "/options.html", "http://localhost:8080", "chrome-extension://a:1"} {
		err := CheckExtensionOrigin(o)
		if err == nil {
			t.Errorf("CheckExtensionOrigin(%q) = nil, want an error", o)
			continue
		}
		if !strings.Contains(err.Error(), "chrome-extension://<extension id>") {
			t.Errorf("CheckExtensionOrigin(%q) = %v, want it to say how to write one", o, err)
		}
	}
	if _, err := New(Config{Backend: newFakeBackend(), ExtensionOrigins: []string{"*"}}); err == nil {
		t.Error("New accepted a wildcard extension origin")
	}
}
