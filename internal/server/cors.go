package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// CORS: the browser extension (extension/) calls the catalog API from its
// service worker, whose requests carry Origin: chrome-extension://<id> (or
// moz-extension://<uuid> in Firefox). When the user has not granted the
// extension host permission for the server, the browser only lets it read
// the answer if the server allows that origin. The server allows exactly
// the origins it was given (`dbtlink serve --extension-origin`), for reads
// of /api/ with a bearer token; no wildcard, and no cookies (the API uses
// none), so a web page can never use it.

// corsMaxAge is how long a browser may cache a preflight answer, in seconds.
const corsMaxAge = "600"

// CheckExtensionOrigin reports what is wrong with an --extension-origin
// value: it must be a browser extension's origin and nothing more.
func CheckExtensionOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "chrome-extension" && u.Scheme != "moz-extension") || u.Host == "" ||
		strings.ContainsAny(u.Host, "*/:") || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("extension origin %q: write chrome-extension://<extension id> (the id chrome://extensions shows) or moz-extension://<uuid>, without a path or wildcard", o)
	}
	return nil
}

// cors answers a preflight from an allowed extension origin, and marks the
// answers to its requests readable. It reports whether the request was
// answered (a preflight).
func (s *Server) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || !strings.HasPrefix(r.URL.Path, "/api/") {
		return false
	}
	if _, ok := s.corsOrigins[origin]; !ok {
		return false
	}
	h := w.Header()
	h.Add("Vary", "Origin")
	h.Set("Access-Control-Allow-Origin", origin)
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Add("Vary", "Access-Control-Request-Method")
		h.Add("Vary", "Access-Control-Request-Headers")
		h.Set("Access-Control-Allow-Methods", "GET, HEAD")
		h.Set("Access-Control-Allow-Headers", "Authorization, Accept")
		h.Set("Access-Control-Max-Age", corsMaxAge)
		w.WriteHeader(http.StatusNoContent)
		return true
	}
	h.Set("Access-Control-Expose-Headers", "X-Request-Id")
	return false
}
