package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/dbtlink/dbtlink/internal/catalog"
	"github.com/dbtlink/dbtlink/internal/warehouse"
)

// warehouseInput is the body of POST /api/v1/warehouses. Password is
// write-only: no answer ever contains it.
type warehouseInput struct {
	Name     string           `json:"name"`
	Type     string           `json:"type"`
	Config   warehouse.Config `json:"config"`
	Password string           `json:"password,omitempty"`
}

// LogValue implements slog.LogValuer: the password is never logged.
func (in warehouseInput) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", in.Name), slog.String("type", in.Type),
		slog.String("config", in.Config.Redacted()), slog.String("password", redacted(in.Password)))
}

// String describes the input without its password.
func (in warehouseInput) String() string {
	return fmt.Sprintf("warehouse %q (%s, password %s)", in.Name, in.Config.Redacted(), redacted(in.Password))
}

// GoString keeps %#v from printing the password.
func (in warehouseInput) GoString() string { return in.String() }

func (s *Server) listWarehouses(w http.ResponseWriter, r *http.Request) {
	c, ok := s.catalogOr(w, r)
	if !ok {
		return
	}
	list, err := c.ListWarehouses(r.Context())
	answerList(s, w, r, "warehouses", list, err)
}

func (s *Server) getWarehouse(w http.ResponseWriter, r *http.Request) {
	c, ok := s.catalogOr(w, r)
	if !ok {
		return
	}
	v, err := c.GetWarehouse(r.Context(), r.PathValue("name"))
	s.answerCatalog(w, r, http.StatusOK, v, err)
}

func (s *Server) createWarehouse(w http.ResponseWriter, r *http.Request) {
	c, ok := s.catalogOr(w, r)
	if !ok {
		return
	}
	var in warehouseInput
	if err := s.decodeJSON(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	cfg, err := in.config("")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := c.CreateWarehouse(r.Context(), catalog.NewWarehouse{Config: cfg, Password: in.Password})
	s.answerCatalog(w, r, http.StatusCreated, v, err)
}

// config is the warehouse configuration in says, its name and type given
// at the top, in config, or both alike; path is the name in the URL ("" for
// none), which the body must not contradict.
func (in warehouseInput) config(path string) (warehouse.Config, error) {
	cfg := in.Config
	if path != "" {
		for _, n := range []string{in.Name, cfg.Name} {
			if n != "" && n != path {
				return cfg, badRequest("the body names warehouse %q and the URL %q: give one name", n, path)
			}
		}
		cfg.Name = path
	}
	switch {
	case in.Name == "" && cfg.Name == "":
		return cfg, badRequest("name is missing: give the warehouse connection a name")
	case cfg.Name == "":
		cfg.Name = in.Name
	case in.Name != "" && in.Name != cfg.Name:
		return cfg, badRequest("name %q and config.name %q differ: give one name", in.Name, cfg.Name)
	}
	switch {
	case in.Type == "" && cfg.Type == "":
		return cfg, badRequest("type is missing: say which kind of warehouse it is (postgres, redshift, duckdb)")
	case cfg.Type == "":
		cfg.Type = warehouse.Type(in.Type)
	case in.Type != "" && in.Type != string(cfg.Type):
		return cfg, badRequest("type %q and config.type %q differ: give one type", in.Type, cfg.Type)
	}
	return cfg, nil
}

// replaceWarehouse answers PUT /api/v1/warehouses/{name}: the stored
// warehouse's configuration and password are replaced in one update, its
// crawled tables kept. With ?test=true the new connection is tested first
// and stored only if it passes.
func (s *Server) replaceWarehouse(w http.ResponseWriter, r *http.Request) {
	c, ok := s.catalogOr(w, r)
	if !ok {
		return
	}
	q := query{r: r}
	test := q.boolean("test")
	if q.err != nil {
		s.fail(w, r, q.err)
		return
	}
	var in warehouseInput
	if err := s.decodeJSON(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	cfg, err := in.config(r.PathValue("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v, info, err := c.ReplaceWarehouse(r.Context(), catalog.NewWarehouse{Config: cfg, Password: in.Password}, test)
	if err != nil {
		s.failCatalog(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, struct {
		Warehouse catalog.WarehouseView  `json:"warehouse"`
		Info      *catalog.WarehouseInfo `json:"info,omitempty"`
	}{v, info})
}

func (s *Server) deleteWarehouse(w http.ResponseWriter, r *http.Request) {
	c, ok := s.catalogOr(w, r)
	if !ok {
		return
	}
	if err := c.DeleteWarehouse(r.Context(), r.PathValue("name")); err != nil {
		s.failCatalog(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) testWarehouse(w http.ResponseWriter, r *http.Request) {
	c, ok := s.catalogOr(w, r)
	if !ok {
		return
	}
	info, err := c.TestWarehouse(r.Context(), r.PathValue("name"))
	if err != nil {
		s.failCatalog(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, struct {
		OK   bool                  `json:"ok"`
		Info catalog.WarehouseInfo `json:"info"`
	}{true, info})
}

// crawlLine is one line of a crawl answered with ?progress=true: a step,
// then the crawl, or the error the plain answer would have had (with its
// status, since the 200 is sent before the crawl starts).
type crawlLine struct {
	Progress string               `json:"progress,omitempty"`
	Crawl    *catalog.CrawlResult `json:"crawl,omitempty"`
	Status   int                  `json:"status,omitempty"`
	Error    *errorDetail         `json:"error,omitempty"`
}

func (s *Server) crawlWarehouse(w http.ResponseWriter, r *http.Request) {
	c, ok := s.catalogOr(w, r)
	if !ok {
		return
	}
	q := query{r: r}
	progress := q.boolean("progress")
	if q.err != nil {
		s.fail(w, r, q.err)
		return
	}
	name := r.PathValue("name")
	if !progress {
		res, err := c.CrawlWarehouse(r.Context(), name, nil)
		if err != nil {
			s.failCatalog(w, r, err)
			return
		}
		s.writeJSON(w, r, http.StatusOK, res)
		return
	}
	// An unknown warehouse is answered 404 as without progress.
	if _, err := c.GetWarehouse(r.Context(), name); err != nil {
		s.failCatalog(w, r, err)
		return
	}
	rc := http.NewResponseController(w)
	// A crawl may run past the server's WriteTimeout, which is meant for
	// answers written at once; the lines show the client it is alive.
	_ = rc.SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	line := func(l crawlLine) {
		if err := enc.Encode(l); err == nil {
			_ = rc.Flush()
		}
	}
	res, err := c.CrawlWarehouse(r.Context(), name, func(step string) { line(crawlLine{Progress: step}) })
	if err != nil {
		// The error line says what failCatalog would have answered.
		rec := &errorRecorder{header: http.Header{}}
		s.failCatalog(rec, r, err)
		var body errorBody
		if rec.status == 0 || json.Unmarshal(rec.body.Bytes(), &body) != nil {
			return // the client went away: nobody reads on
		}
		line(crawlLine{Status: rec.status, Error: &body.Error})
		return
	}
	line(crawlLine{Crawl: &res})
}

// errorRecorder keeps an error answer instead of sending it, so that a
// streamed answer can carry it as its last line.
type errorRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (e *errorRecorder) Header() http.Header         { return e.header }
func (e *errorRecorder) WriteHeader(status int)      { e.status = status }
func (e *errorRecorder) Write(b []byte) (int, error) { return e.body.Write(b) }
