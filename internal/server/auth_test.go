package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/internal/store"
)

func TestAuth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		method string
		target string
		token  string // key of the bundle's tokens
		auth   string // raw Authorization header, when token is ""
		body   string
		status int
		code   string
		words  []string
	}{
		{name: "no header", method: "GET", target: "/api/v1/runs", status: 401, code: codeUnauthorized,
			words: []string{"missing Authorization header", "dbtlink token create --name N --scope read|write|admin"}},
		{name: "wrong scheme", method: "GET", target: "/api/v1/runs", auth: "Token dbtl_abc", status: 401, code: codeUnauthorized,
			words: []string{"Bearer scheme"}},
		{name: "basic auth", method: "GET", target: "/api/v1/runs", auth: "Basic dXNlcjpwYXNz", status: 401, code: codeUnauthorized},
		{name: "empty bearer", method: "GET", target: "/api/v1/runs", auth: "Bearer ", status: 401, code: codeUnauthorized},
		{name: "not a dbtlink token", method: "GET", target: "/api/v1/runs", auth: "Bearer dbtc_xyz", status: 401, code: codeUnauthorized,
			words: []string{"not a dbtlink API token"}},
		{name: "unknown token", method: "GET", target: "/api/v1/runs", auth: "Bearer dbtl_unknownunknownunknown", status: 401, code: codeUnauthorized,
			words: []string{"unknown API token"}},
		{name: "revoked token", method: "GET", target: "/api/v1/runs", token: "revoked", status: 401, code: codeUnauthorized,
			words: []string{"revoked"}},
		{name: "read token on a write route", method: "POST", target: "/api/v1/runs", token: "read", body: `{"job_id":1}`,
			status: 403, code: codeForbidden, words: []string{"write scope", `"read-bot" has read`}},
		{name: "write token on an admin route", method: "POST", target: "/api/v1/connections", token: "write",
			body: `{"name":"x","host":"h","account_id":1,"token":"` + connToken + `"}`, status: 403, code: codeForbidden, words: []string{"admin scope"}},
		{name: "read token on a read route", method: "GET", target: "/api/v1/runs", token: "read", status: 200},
		{name: "write token on a read route", method: "GET", target: "/api/v1/runs", token: "write", status: 200},
		{name: "admin token on an admin route", method: "POST", target: "/api/v1/connections", token: "admin",
			body: `{"name":"x","host":"h","account_id":1,"token":"` + connToken + `"}`, status: 201},
		{name: "admin token on a write route", method: "POST", target: "/api/v1/runs", token: "admin", body: `{"job_id":1}`, status: 201},
		{name: "metrics need a token", method: "GET", target: "/metrics", status: 401, code: codeUnauthorized},
		{name: "metrics with a read token", method: "GET", target: "/metrics", token: "read", status: 200},
		{name: "openapi needs a token", method: "GET", target: "/api/v1/openapi.json", status: 401, code: codeUnauthorized},
		{name: "healthz is open", method: "GET", target: "/healthz", status: 200},
		{name: "readyz is open", method: "GET", target: "/readyz", status: 200},
		// The webhook receiver ignores bearer tokens; its 401 is about the signature.
		{name: "webhook is not bearer-authenticated", method: "POST", target: "/webhooks/dbt-cloud/prod", token: "admin",
			body: webhookBody("ev1", 9), status: 401, code: codeUnauthorized, words: []string{"HMAC"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			var hdrs []header
			if tt.auth != "" {
				hdrs = append(hdrs, header{"Authorization", tt.auth})
			}
			w := b.do(t, tt.method, tt.target, tt.token, tt.body, hdrs...)
			if tt.code == "" {
				wantStatus(t, w, tt.status)
				return
			}
			wantError(t, w, tt.status, tt.code, tt.words...)
			if tt.status == 401 && strings.HasPrefix(tt.target, "/api/") {
				if got := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
					t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", got)
				}
			}
		})
	}
}

func TestAuthSchemeIsCaseInsensitive(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := b.do(t, "GET", "/api/v1/runs", "", "", header{"Authorization", "bearer " + b.tokens["read"]})
	wantStatus(t, w, 200)
}

func TestAuthStoreFailureIsInternal(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.be.errs["APITokenByHash"] = fmt.Errorf("sql: connection refused to postgres://dbtlink:hunter2@db/dbtlink")
	w := b.do(t, "GET", "/api/v1/runs", "read", "")
	wantError(t, w, 500, codeInternal, "request id "+w.Header().Get("X-Request-Id"))
	if strings.Contains(w.Body.String(), "hunter2") {
		t.Errorf("the answer shows the store error: %s", w.Body)
	}
	if !strings.Contains(b.logs.String(), "connection refused") {
		t.Errorf("the store error was not logged:\n%s", b.logs)
	}
}

func TestTokenUseIsRecordedOncePerMinute(t *testing.T) {
	t.Parallel()
	b := setup(t)
	get := func() {
		t.Helper()
		wantStatus(t, b.do(t, "GET", "/api/v1/connections", "read", ""), 200)
	}
	get()
	get()
	b.advance(59 * time.Second)
	get()
	if len(b.be.touches) != 1 {
		t.Fatalf("touched %d times within a minute, want 1", len(b.be.touches))
	}
	b.advance(2 * time.Second)
	get()
	if len(b.be.touches) != 2 {
		t.Fatalf("touched %d times after a minute, want 2", len(b.be.touches))
	}
	// Another token has its own minute.
	wantStatus(t, b.do(t, "GET", "/api/v1/connections", "write", ""), 200)
	if len(b.be.touches) != 3 {
		t.Fatalf("touched %d times, want 3", len(b.be.touches))
	}
}

func TestTokenUseRecordedByAnotherProcessIsNotRewritten(t *testing.T) {
	t.Parallel()
	b := setup(t)
	hash := string(HashToken(b.tokens["read"]))
	tok := b.be.tokens[hash]
	tok.LastUsedAt = testNow.Add(-30 * time.Second)
	b.be.tokens[hash] = tok
	wantStatus(t, b.do(t, "GET", "/api/v1/connections", "read", ""), 200)
	if len(b.be.touches) != 0 {
		t.Errorf("touched a token used 30s ago")
	}
}

func TestTouchFailureDoesNotFailTheRequest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.be.errs["TouchAPIToken"] = fmt.Errorf("database is locked")
	wantStatus(t, b.do(t, "GET", "/api/v1/connections", "read", ""), 200)
	if !strings.Contains(b.logs.String(), "database is locked") {
		t.Errorf("the touch failure was not logged")
	}
}

func TestGenerateToken(t *testing.T) {
	t.Parallel()
	plain, prefix, hash, err := GenerateToken()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(plain, TokenPrefix) {
		t.Errorf("token %q does not start with %q", plain, TokenPrefix)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(plain, TokenPrefix))
	if err != nil || len(raw) != 32 {
		t.Errorf("token body is not 32 bytes of unpadded base64url: %d bytes, %v", len(raw), err)
	}
	if prefix != plain[:12] {
		t.Errorf("prefix %q, want the first 12 characters of the token", prefix)
	}
	if sum := sha256.Sum256([]byte(plain)); !bytes.Equal(hash, sum[:]) || !bytes.Equal(hash, HashToken(plain)) {
		t.Errorf("hash is not the SHA-256 of the token")
	}
	other, _, _, _ := GenerateToken()
	if other == plain {
		t.Errorf("two tokens are equal")
	}
}

func TestConnectionInputNeverPrintsItsToken(t *testing.T) {
	t.Parallel()
	in := ConnectionInput{Name: "prod", Host: "cloud.getdbt.com", AccountID: 1, Token: connToken}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "input", in)
	for _, s := range []string{fmt.Sprint(in), fmt.Sprintf("%+v", in), fmt.Sprintf("%#v", in), logs.String()} {
		if strings.Contains(s, connToken) {
			t.Errorf("the token shows in %q", s)
		}
	}
}

func TestScopesAreOrdered(t *testing.T) {
	t.Parallel()
	// The route table relies on admin including write including read.
	for _, c := range []struct {
		have, need store.Scope
		ok         bool
	}{
		{store.ScopeAdmin, store.ScopeWrite, true},
		{store.ScopeWrite, store.ScopeRead, true},
		{store.ScopeRead, store.ScopeWrite, false},
		{store.ScopeWrite, store.ScopeAdmin, false},
	} {
		if got := c.have.Allows(c.need); got != c.ok {
			t.Errorf("%s allows %s = %t, want %t", c.have, c.need, got, c.ok)
		}
	}
}
