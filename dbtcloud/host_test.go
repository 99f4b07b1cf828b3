package dbtcloud

import (
	"strings"
	"testing"
)

func TestNormalizeHost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"cloud.getdbt.com", "https://cloud.getdbt.com"},
		{"  cloud.getdbt.com  ", "https://cloud.getdbt.com"},
		{"https://cloud.getdbt.com", "https://cloud.getdbt.com"},
		{"https://cloud.getdbt.com/", "https://cloud.getdbt.com"},
		{"HTTPS://Cloud.GetDBT.com/", "https://cloud.getdbt.com"},
		{"https://emea.dbt.com/api", "https://emea.dbt.com"},
		{"https://emea.dbt.com/api/", "https://emea.dbt.com"},
		{"emea.dbt.com/api/v2", "https://emea.dbt.com"},
		{"https://au.dbt.com/api/v2/", "https://au.dbt.com"},
		{"https://au.dbt.com/api/v3", "https://au.dbt.com"},
		{"https://ab123.us1.dbt.com/", "https://ab123.us1.dbt.com"},
		{"ab123.eu2.dbt.com", "https://ab123.eu2.dbt.com"},
		{"dbt.acme-corp.example", "https://dbt.acme-corp.example"},
		{"https://dbt.acme.example:8443/api/v2", "https://dbt.acme.example:8443"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://localhost:9000/api/v2/", "http://localhost:9000"},
		{"http://[::1]:9000", "http://[::1]:9000"},
		// Without a scheme a loopback host gets http (dbt Cloud is never
		// served there; local emulators are plain http), anything else https.
		{"127.0.0.1:36811", "http://127.0.0.1:36811"},
		{"127.0.0.1", "http://127.0.0.1"},
		{"127.8.9.10:80/api/v2/", "http://127.8.9.10:80"},
		{"localhost:9000", "http://localhost:9000"},
		{"LOCALHOST", "http://localhost"},
		{"[::1]:9000", "http://[::1]:9000"},
		{"10.0.0.1:8080", "https://10.0.0.1:8080"},
		{"128.0.0.1", "https://128.0.0.1"},
		{"localhost.example.com", "https://localhost.example.com"},
		// An explicit scheme always wins.
		{"https://127.0.0.1:8443", "https://127.0.0.1:8443"},
		{"https://localhost", "https://localhost"},
		{"https://[::1]:8443/api", "https://[::1]:8443"},
	}
	for _, tt := range tests {
		got, err := NormalizeHost(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("NormalizeHost(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestNormalizeHostRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, wantMsg string
	}{
		{"", "empty host"},
		{"   ", "empty host"},
		{"https://cloud.getdbt.com/deploy/1/projects", "unexpected path"},
		{"https://cloud.getdbt.com/api/v4", "unexpected path"},
		{"https://cloud.getdbt.com/?x=1", "query"},
		{"https://cloud.getdbt.com/#frag", "query or fragment"},
		{"https://user:hunter2@cloud.getdbt.com", "user credentials"},
		{"ftp://cloud.getdbt.com", "unsupported scheme"},
		{"http://cloud.getdbt.com", "plain http"},
		{"https://", "no host name"},
		{"https://cloud_getdbt.com", "invalid character"},
		{"https://cloud.getdbt.com:", "empty port"},
		{"https://bad..host", "malformed"},
	}
	for _, tt := range tests {
		got, err := NormalizeHost(tt.in)
		if err == nil {
			t.Errorf("NormalizeHost(%q) = %q, want error", tt.in, got)
			continue
		}
		if !strings.Contains(err.Error(), tt.wantMsg) || !strings.Contains(err.Error(), "expected a dbt Cloud access URL") {
			t.Errorf("NormalizeHost(%q) error %q, want it to mention %q and the expected form", tt.in, err, tt.wantMsg)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error leaks the password: %v", err)
		}
	}
}

func TestDiscoveryURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"cloud.getdbt.com", "https://metadata.cloud.getdbt.com/graphql"},
		{"https://cloud.getdbt.com/api/v2", "https://metadata.cloud.getdbt.com/graphql"},
		{"https://emea.dbt.com", "https://metadata.emea.dbt.com/graphql"},
		{"au.dbt.com", "https://metadata.au.dbt.com/graphql"},
		{"https://ab123.us1.dbt.com", "https://ab123.metadata.us1.dbt.com/graphql"},
		{"xy9.eu2.dbt.com/", "https://xy9.metadata.eu2.dbt.com/graphql"},
		{"cd45.jp1.dbt.com", "https://cd45.metadata.jp1.dbt.com/graphql"},
		{"acme.getdbt.com", "https://metadata.acme.getdbt.com/graphql"},
		{"dbt.acme.example:8443", "https://metadata.dbt.acme.example:8443/graphql"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080/graphql"},
		{"127.0.0.1:8080", "http://127.0.0.1:8080/graphql"},
	}
	for _, tt := range tests {
		if got := DiscoveryURL(tt.in); got != tt.want {
			t.Errorf("DiscoveryURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHostKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host                 string
		multiTenant, loopbck bool
	}{
		{"cloud.getdbt.com", true, false},
		{"https://cloud.getdbt.com", true, false},
		{"https://EMEA.dbt.com/api/v2/", true, false},
		{"au.dbt.com:443", true, false},
		{"ab123.us1.dbt.com", false, false},
		{"metadata.cloud.getdbt.com", false, false},
		{"127.0.0.1:8080", false, true},
		{"https://127.0.0.1:8443", false, true},
		{"https://[::1]:8443", false, true},
		{"https://LocalHost", false, true},
		{"localhost.example.com", false, false},
		{"", false, false},
		{"https://user@cloud.getdbt.com", false, false},
	}
	for _, tt := range tests {
		if got := IsMultiTenantHost(tt.host); got != tt.multiTenant {
			t.Errorf("IsMultiTenantHost(%q) = %v, want %v", tt.host, got, tt.multiTenant)
		}
		if got := IsLoopbackHost(tt.host); got != tt.loopbck {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", tt.host, got, tt.loopbck)
		}
	}
}
