package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/dbtlink/dbtlink/internal/catalog"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/tracker"
)

//go:embed templates/*.html
var templateFS embed.FS

// page is what every template gets: the layout's fields and the page's
// own Data.
type page struct {
	Title   string
	Nav     string // the active navigation entry
	Session *session
	Query   string // the search box's text
	Version string
	Data    any
}

// pages holds one template set per page (layout plus the page), so pages
// can each define "content" without clashing.
type pages struct {
	set map[string]*template.Template
}

var pageNames = []string{"login", "error", "home", "search", "browse", "schema", "table", "lineage", "collineage", "runs", "run", "syncs", "testhistory"}

func parsePages(a *assets) (*pages, error) {
	funcs := template.FuncMap{
		"asset":     a.URL,
		"markdown":  renderMarkdown,
		"sql":       highlightSQL,
		"ago":       ago,
		"when":      when,
		"statusCls": statusClass,
		"join":      strings.Join,
		"fullName":  func(t catalog.TableSummary) string { return t.FullName() },
		"deref":     func(p *int64) int64 { return *p },
		"runRow":    func(v runView) runData { return runData{Run: v} },
		"seq": func(n int) []int {
			s := make([]int, n)
			for i := range s {
				s[i] = i + 1
			}
			return s
		},
		"columnTest": columnTest,
		"colLineage": colLineageURL,
	}
	p := &pages{set: map[string]*template.Template{}}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/parts.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: parse template %s: %w", name, err)
		}
		p.set[name] = t
	}
	return p, nil
}

// render writes page name, whole or, for a fragment request, only the
// template fragment names.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, pg page) {
	pg.Version = h.version
	h.renderTemplate(w, r, status, name, "layout", pg)
}

// renderTemplate writes template tmpl of page name's set with data: the
// whole page ("layout") or one fragment of it.
func (h *Handler) renderTemplate(w http.ResponseWriter, r *http.Request, status int, name, tmpl string, data any) {
	t := h.pages.set[name]
	if t == nil {
		h.log.LogAttrs(r.Context(), slog.LevelError, "render page", slog.String("page", name), slog.String("error", "no such template set"))
		http.Error(w, "internal error: no such page", http.StatusInternalServerError)
		return
	}
	// Rendered to a buffer first: a template error must not leave half a
	// page behind a 200.
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, tmpl, data); err != nil {
		h.log.LogAttrs(r.Context(), slog.LevelError, "render page", slog.String("page", name), slog.Any("error", err))
		http.Error(w, "internal error: the page could not be rendered; the server log has the details", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Vary", "HX-Request, HX-Target")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type errorData struct {
	Status  int
	Message string
}

func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, s *session, status int, msg string) {
	h.render(w, r, status, "error", page{Title: http.StatusText(status), Session: s, Data: errorData{Status: status, Message: msg}})
}

// fail answers an error of the catalog or the tracker as the API does:
// what the user can act on is shown, the rest is logged.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, s *session, err error) {
	var (
		input  *catalog.InputError
		tinput *tracker.InputError
	)
	switch {
	case errors.Is(err, store.ErrNotFound):
		h.errorPage(w, r, s, http.StatusNotFound, err.Error())
	case errors.As(err, &input):
		h.errorPage(w, r, s, http.StatusBadRequest, input.Error())
	case errors.As(err, &tinput):
		h.errorPage(w, r, s, http.StatusBadRequest, tinput.Error())
	case errors.Is(err, catalog.ErrAmbiguous):
		h.errorPage(w, r, s, http.StatusConflict, err.Error())
	case errors.Is(err, tracker.ErrConflict):
		h.errorPage(w, r, s, http.StatusConflict, err.Error())
	default:
		h.log.LogAttrs(r.Context(), slog.LevelError, "web page failed", slog.String("path", r.URL.Path), slog.Any("error", err))
		h.errorPage(w, r, s, http.StatusInternalServerError, "Something went wrong on the server; its log has the details.")
	}
}

func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := time.Since(t)
	switch {
	case d < 0:
		return "in the future"
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}

func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// statusClass maps a run, test, sync or freshness status to the CSS class
// of its badge.
func statusClass(s any) string {
	switch strings.ToLower(fmt.Sprint(s)) {
	case "success", "pass", "ok", "unchanged", "passed":
		return "ok"
	case "fail", "error", "failed", "runtime error":
		return "bad"
	case "warn", "cancelled", "stale":
		return "warn"
	case "running", "starting", "queued", "pending":
		return "live"
	}
	return "none"
}

// columnTest splits the catalog's "not_null: pass" into name and status.
func columnTest(s string) [2]string {
	name, status, ok := strings.Cut(s, ": ")
	if !ok {
		return [2]string{s, ""}
	}
	return [2]string{name, status}
}
