package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/dbtlink/dbtlink/internal/store"
)

// Cookie names. The session cookie holds a random id only: the token a
// user logged in with is never sent back to the browser.
const (
	sessionCookie = "dbtlink_session"
	// loginCookie holds the CSRF token of the login form (double submit):
	// before login there is no session to keep it in.
	loginCookie = "dbtlink_login"
	csrfField   = "csrf"
	csrfHeader  = "X-CSRF-Token"
)

// session is a logged-in browser. Sessions live in the process's memory:
// a restart logs every browser out, and several servers behind one
// address need sticky routing. The token's scope is read again from the
// store on every request, so a revoked token ends its sessions at once.
type session struct {
	ID        string
	CSRF      string
	TokenHash []byte
	TokenName string
	Scope     store.Scope
	expires   time.Time
}

// CanWrite says whether the session may trigger and cancel runs.
func (s *session) CanWrite() bool { return s != nil && s.Scope.Allows(store.ScopeWrite) }

func (s *session) checkCSRF(r *http.Request) bool {
	got := r.Header.Get(csrfHeader)
	if got == "" {
		got = r.PostFormValue(csrfField)
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) == 1
}

type sessions struct {
	now func() time.Time
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]*session
}

func newSessions(now func() time.Time, ttl time.Duration) *sessions {
	return &sessions{now: now, ttl: ttl, m: map[string]*session{}}
}

func randomID() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read does not fail
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (ss *sessions) create(tok store.APIToken, hash []byte) *session {
	s := &session{ID: randomID(), CSRF: randomID(), TokenHash: hash, TokenName: tok.Name, Scope: tok.Scope, expires: ss.now().Add(ss.ttl)}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	// Drop the expired ones on the way, so the map stays as large as the
	// number of browsers in use.
	now := ss.now()
	for id, o := range ss.m {
		if now.After(o.expires) {
			delete(ss.m, id)
		}
	}
	ss.m[s.ID] = s
	return s
}

// get returns the live session id names and extends it, or nil.
func (ss *sessions) get(id string) *session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.m[id]
	if s == nil {
		return nil
	}
	now := ss.now()
	if now.After(s.expires) {
		delete(ss.m, id)
		return nil
	}
	s.expires = now.Add(ss.ttl)
	c := *s
	return &c
}

func (ss *sessions) delete(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.m, id)
}

// currentSession returns r's session with its token's current scope, or
// nil when there is none or its token was revoked or deleted.
func (h *Handler) currentSession(r *http.Request) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, nil
	}
	s := h.sessions.get(c.Value)
	if s == nil {
		return nil, nil
	}
	tok, err := h.tokens.APITokenByHash(r.Context(), s.TokenHash)
	switch {
	case errors.Is(err, store.ErrNotFound):
		h.sessions.delete(s.ID)
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("look up the session's API token: %w", err)
	case !tok.RevokedAt.IsZero():
		h.sessions.delete(s.ID)
		return nil, nil
	}
	s.Scope = tok.Scope
	return s, nil
}

func (h *Handler) cookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: h.secure || r.TLS != nil, SameSite: http.SameSiteLaxMode}
}

type loginData struct {
	Next  string
	CSRF  string
	Error string
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	if s, _ := h.currentSession(r); s != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	h.renderLogin(w, r, http.StatusOK, "")
}

func (h *Handler) renderLogin(w http.ResponseWriter, r *http.Request, status int, problem string) {
	tok := randomID()
	http.SetCookie(w, h.cookie(r, loginCookie, tok, 3600))
	next := r.URL.Query().Get("next")
	if r.Method == http.MethodPost {
		next = r.PostFormValue("next")
	}
	h.render(w, r, status, "login", page{Title: "Log in", Data: loginData{Next: safeNext(next), CSRF: tok, Error: problem}})
}

// login exchanges an API token for a session cookie.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	c, err := r.Cookie(loginCookie)
	form := r.PostFormValue(csrfField)
	if err != nil || form == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(form)) != 1 {
		h.renderLogin(w, r, http.StatusForbidden, "The login form was out of date (or cookies are off). Paste your token again.")
		return
	}
	plain := strings.TrimSpace(r.PostFormValue("token"))
	if plain == "" {
		h.renderLogin(w, r, http.StatusBadRequest, "Paste an API token: create one with `dbtlink token create --name NAME --scope read`.")
		return
	}
	if !strings.HasPrefix(plain, "dbtl_") {
		h.renderLogin(w, r, http.StatusUnauthorized, "That is not a dbtlink API token (they start with dbtl_); create one with `dbtlink token create`.")
		return
	}
	hash := h.hash(plain)
	tok, err := h.tokens.APITokenByHash(r.Context(), hash)
	switch {
	case errors.Is(err, store.ErrNotFound):
		h.renderLogin(w, r, http.StatusUnauthorized, "Unknown token: check that you pasted all of it, or create one with `dbtlink token create`.")
		return
	case err != nil:
		h.fail(w, r, nil, fmt.Errorf("look up API token: %w", err))
		return
	case !tok.RevokedAt.IsZero():
		h.renderLogin(w, r, http.StatusUnauthorized, fmt.Sprintf("Token %q was revoked; create another with `dbtlink token create`.", tok.Name))
		return
	}
	s := h.sessions.create(tok, hash)
	http.SetCookie(w, h.cookie(r, sessionCookie, s.ID, 0))
	http.SetCookie(w, h.cookie(r, loginCookie, "", -1))
	h.log.LogAttrs(r.Context(), slog.LevelInfo, "web login", slog.String("token", tok.Name), slog.String("scope", string(tok.Scope)))
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request, s *session) {
	h.sessions.delete(s.ID)
	http.SetCookie(w, h.cookie(r, sessionCookie, "", -1))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext keeps a post-login redirect on this site: a path, not a URL
// ("//evil.example" and "/\evil" are URLs to browsers).
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
