package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/dbtlink/dbtlink/internal/store"
)

const (
	// TokenPrefix starts every API token, so that a leaked one is easy to
	// recognise (secret scanners, logs) and a dbt Cloud token sent here by
	// mistake is refused without a store lookup.
	TokenPrefix = "dbtl_"
	// tokenDisplayLen is how much of a token is kept in clear as its
	// prefix: "dbtl_" and 7 random characters, enough to tell tokens
	// apart in a listing, far too little to guess the rest.
	tokenDisplayLen = 12
	// touchEvery bounds how often a token's last use is written, so that
	// a busy client does not cost a store write per request.
	touchEvery = time.Minute
)

// howToGetToken ends every 401, so the reader knows what to do next.
const howToGetToken = "create a token with `dbtlink token create --name N --scope read|write|admin` and send it as Authorization: Bearer <token>"

// GenerateToken makes a new API token: "dbtl_" and 32 random bytes in
// unpadded base64url. It returns the token, which is shown once and never
// stored; its prefix, stored for listings; and its hash, the store's key.
func GenerateToken() (plain, prefix string, hash []byte, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", nil, fmt.Errorf("generate token: %w", err)
	}
	plain = TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return plain, plain[:tokenDisplayLen], HashToken(plain), nil
}

// HashToken returns the SHA-256 of a token, under which the store keeps
// it. A fast hash is right here, unlike for passwords: a token is 256
// random bits, so there is no dictionary to try and no slow hash would
// make brute force any less hopeless, while a slow one would cost every
// request. Lookup by hash also means the secret is never compared byte by
// byte, so response times say nothing about it.
func HashToken(plain string) []byte {
	sum := sha256.Sum256([]byte(plain))
	return sum[:]
}

// authenticate checks the bearer token of r against need. On failure it
// has answered (401 or 403, or 500 when the store failed) and returns
// false.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, need store.Scope) bool {
	plain, msg := bearerToken(r.Header.Get("Authorization"))
	if msg != "" {
		s.unauthorized(w, r, msg)
		return false
	}
	tok, err := s.backend.APITokenByHash(r.Context(), HashToken(plain))
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.unauthorized(w, r, "unknown API token")
		return false
	case err != nil:
		s.fail(w, r, fmt.Errorf("look up API token: %w", err))
		return false
	case !tok.RevokedAt.IsZero():
		s.unauthorized(w, r, fmt.Sprintf("API token %q was revoked", tok.Name))
		return false
	}
	if st, ok := r.Context().Value(stateKey{}).(*reqState); ok {
		st.token = tok.Name
	}
	if !tok.Scope.Allows(need) {
		s.writeError(w, r, http.StatusForbidden, codeForbidden,
			fmt.Sprintf("this route needs a token with the %s scope; token %q has %s (create one with `dbtlink token create --name N --scope %s`)",
				need, tok.Name, tok.Scope, need))
		return false
	}
	s.touch(r.Context(), tok)
	return true
}

// bearerToken extracts the token from an Authorization header, or says
// what is wrong with the header.
func bearerToken(header string) (token, problem string) {
	if header == "" {
		return "", "missing Authorization header"
	}
	scheme, tok, ok := strings.Cut(header, " ")
	// The scheme is case-insensitive (RFC 9110, section 11.1).
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", "the Authorization header must use the Bearer scheme"
	}
	tok = strings.TrimSpace(tok)
	if !strings.HasPrefix(tok, TokenPrefix) {
		return "", "the bearer token is not a dbtlink API token (they start with " + TokenPrefix + ")"
	}
	return tok, ""
}

func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request, problem string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="dbtlink"`)
	s.writeError(w, r, http.StatusUnauthorized, codeUnauthorized, problem+": "+howToGetToken)
}

// touch records the token's use unless it was recorded in the last
// minute, by this process (the map) or by another one (LastUsedAt). A
// failure is logged and does not fail the request: last use is a hint for
// humans cleaning up tokens, not a security control.
func (s *Server) touch(ctx context.Context, tok store.APIToken) {
	now := s.now()
	s.touchMu.Lock()
	last := s.touched[tok.ID]
	if tok.LastUsedAt.After(last) {
		last = tok.LastUsedAt
	}
	due := now.Sub(last) >= touchEvery
	if due {
		s.touched[tok.ID] = now
	}
	s.touchMu.Unlock()
	if !due {
		return
	}
	if err := s.backend.TouchAPIToken(ctx, tok.ID, now); err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "record API token use",
			slog.Int64("token_id", tok.ID), slog.String("token_name", tok.Name), slog.Any("error", err))
	}
}
