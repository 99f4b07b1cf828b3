package cli

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestServerCrawlAnswers reads the crawl answers a server may give: the
// streamed lines (steps, then the crawl or an error line, which keeps the
// status the plain answer would have had), a stream cut short, and the
// plain JSON of a server from before ?progress.
func TestServerCrawlAnswers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, contentType, body string
		steps                   []string
		wantErr                 string
		wantStatus              int
	}{
		{"streamed", "application/x-ndjson", `{"progress":"connect to wh"}` + "\n" + `{"progress":"read 3 tables"}` + "\n" + `{"crawl":{"id":7,"tables_seen":3}}` + "\n",
			[]string{"connect to wh", "read 3 tables"}, "", 0},
		{"error line", "application/x-ndjson", `{"progress":"connect to wh"}` + "\n" + `{"status":502,"error":{"code":"upstream","message":"connect to warehouse wh: refused the user name or password"}}` + "\n",
			[]string{"connect to wh"}, "refused the user name or password", 502},
		{"cut short", "application/x-ndjson", `{"progress":"connect to wh"}` + "\n", []string{"connect to wh"}, "ended before the crawl did", 0},
		{"older server", "application/json", `{"id":7,"tables_seen":3}`, nil, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/api/v1/warehouses/wh/crawl" || r.URL.Query().Get("progress") != "true" {
					http.Error(w, "unexpected "+r.URL.String(), http.StatusTeapot)
					return
				}
				w.Header().Set("Content-Type", tc.contentType)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer ts.Close()
			c, err := newServerClient(ts.URL, "tok", ts.Client(), 0)
			if err != nil {
				t.Fatal(err)
			}
			var steps []string
			res, err := c.CrawlWarehouse(t.Context(), "wh", func(s string) { steps = append(steps, s) })
			if strings.Join(steps, "|") != strings.Join(tc.steps, "|") {
				t.Errorf("steps %q, want %q", steps, tc.steps)
			}
			if tc.wantErr == "" {
				if err != nil || res.ID != 7 || res.TablesSeen != 3 {
					t.Errorf("crawl = %+v, %v", res, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if tc.wantStatus != 0 && warehouseServerCode(err) != ExitAuth {
				t.Errorf("exit code %d for %v, want %d (as the plain 502 gives)", warehouseServerCode(err), err, ExitAuth)
			}
		})
	}
}
