package cli

import (
	"strings"
	"testing"
)

// TestWebhookSubscribeURL: a --url the server would answer with 404 is
// refused before any store or dbt Cloud is touched (so a working
// subscription is not replaced by a broken one).
func TestWebhookSubscribeURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url     string
		wantErr string // "" means accepted
	}{
		{"https://dbtlink.example.com/webhooks/dbt-cloud/prod", ""},
		{"http://10.0.0.5:8765/dbtlink/webhooks/dbt-cloud/prod", ""},
		{"https://dbtlink.example.com/", "does not end in /webhooks/dbt-cloud/prod"},
		{"https://dbtlink.example.com/webhooks/dbt-cloud/staging", `(it names "staging")`},
		{"https://dbtlink.example.com/webhooks/dbt-cloud/prod/", "does not end in /webhooks/dbt-cloud/prod"},
		{"https://dbtlink.example.com/webhooks/dbt-cloud/", "does not end in"},
		{"dbtlink.example.com/webhooks/dbt-cloud/prod", "absolute http(s) URL"},
		{"ftp://dbtlink.example.com/webhooks/dbt-cloud/prod", "absolute http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			ios, _, _, _ := TestStreams()
			f := NewFactory(ios)
			f.Getenv = func(string) string { return "" }
			called := false
			cmd := NewCmdWebhookSubscribe(f, func(*WebhookOptions) error { called = true; return nil })
			cmd.SetArgs([]string{"prod", "--url", tt.url})
			cmd.SilenceUsage, cmd.SilenceErrors = true, true
			err := cmd.Execute()
			if tt.wantErr == "" {
				if err != nil || !called {
					t.Fatalf("refused a good URL: %v", err)
				}
				return
			}
			if err == nil || called {
				t.Fatalf("accepted %s", tt.url)
			}
			if exitCode(err) != ExitUsage || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("exit %d, error %q; want %d and %q", exitCode(err), err, ExitUsage, tt.wantErr)
			}
		})
	}
}
