package emulator

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestStandInPages(t *testing.T) {
	e, err := NewHandler(Options{RateLimitPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		path     string
		fragment bool
		status   int
		want     []string
		not      []string
	}{
		{"job page", "/deploy/1/projects/101/jobs/302", false, 200,
			[]string{`<h1 data-testid="page-header-title">failing build</h1>`, `<main id="app">`, `history.pushState`}, nil},
		{"job page fragment", "/deploy/1/projects/101/jobs/301", true, 200,
			[]string{`data-testid="page-header-title">daily build</h1>`}, []string{"<html", "<script"}},
		{"job of another project", "/deploy/1/projects/102/jobs/301", false, 404, []string{"Page not found"}, nil},
		{"project of another account", "/deploy/2/projects/101/jobs/301", false, 404, nil, nil},
		{"unknown run", "/deploy/1/projects/101/runs/999999", false, 404, nil, nil},
		{"explore model", "/explore/1/projects/101/environments/production/details/model.jaffle_shop.orders", false, 200,
			[]string{`class="react-flow__node react-flow__node-default" data-id="model.jaffle_shop.orders"`,
				`data-id="model.jaffle_shop.stg_orders"`, `data-id="model.jaffle_shop.customers"`}, []string{`data-id="test.`}},
		{"explore unknown node", "/explore/1/projects/101/environments/production/details/model.jaffle_shop.nope", false, 404, nil, nil},
		{"ide", "/develop/1/projects/101", false, 200,
			[]string{`data-open-file="models/staging/stg_orders.sql"`, `role="tablist"`}, nil},
		{"studio path", "/studio/1/projects/101", false, 200, []string{`data-open-file=`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, tt.path, nil)
			if tt.fragment {
				req.Header.Set("X-Emulator-Fragment", "1")
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			body, _ := io.ReadAll(rec.Body)
			if rec.Code != tt.status {
				t.Fatalf("GET %s: status %d, want %d\n%s", tt.path, rec.Code, tt.status, body)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type %q, want text/html", ct)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(body), w) {
					t.Errorf("GET %s: no %q in\n%s", tt.path, w, body)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(string(body), n) {
					t.Errorf("GET %s: %q should not be there", tt.path, n)
				}
			}
		})
	}
	// The API is untouched: a deploy-looking path under /api/ is still the API's.
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v2/accounts/", nil))
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("GET /api/v2/accounts/ without a token: %d, want 401", rec.Code)
	}
}
