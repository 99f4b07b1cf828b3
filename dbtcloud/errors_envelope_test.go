package dbtcloud

import (
	"errors"
	"net/http"
	"testing"
)

// TestAPIErrorEnvelope: APIError.Envelope tells dbt Cloud's error bodies
// from other servers' (a file server's "404 page not found", an HTML page),
// which is how a wrong host is told from a wrong account id.
func TestAPIErrorEnvelope(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		body     string
		envelope bool
		userMsg  string
	}{
		{"dbt Cloud envelope", `{"status": {"code": 404, "is_success": false, "user_message": "Not found.", "developer_message": null}, "data": null}`, true, "Not found."},
		{"DRF detail", `{"detail": "Not found."}`, true, "Not found."},
		{"plain text", "404 page not found\n", false, ""},
		{"HTML", "<html><body>Not Found</body></html>", false, ""},
		{"other JSON", `{"error": "not found"}`, false, ""},
		{"empty", "", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.mux.HandleFunc("GET /api/v2/accounts/1/", func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusNotFound)
				_, _ = w.Write([]byte(tt.body))
			})
			_, _, err := b.client.Accounts.Get(t.Context(), 1)
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v is not an *APIError", err)
			}
			if ae.Envelope != tt.envelope || ae.UserMessage != tt.userMsg {
				t.Errorf("Envelope %v, UserMessage %q; want %v, %q", ae.Envelope, ae.UserMessage, tt.envelope, tt.userMsg)
			}
		})
	}
}
