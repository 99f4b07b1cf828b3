package server

import (
	"fmt"
	"log/slog"
	"net/http"

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
	if err != nil {
		s.failCatalog(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, struct {
		Warehouses []catalog.WarehouseView `json:"warehouses"`
	}{nonNil(list)})
}

func (s *Server) getWarehouse(w http.ResponseWriter, r *http.Request) {
	c, ok := s.catalogOr(w, r)
	if !ok {
		return
	}
	v, err := c.GetWarehouse(r.Context(), r.PathValue("name"))
	if err != nil {
		s.failCatalog(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, v)
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
	cfg := in.Config
	switch {
	case in.Name == "" && cfg.Name == "":
		s.fail(w, r, badRequest("name is missing: give the warehouse connection a name"))
		return
	case cfg.Name == "":
		cfg.Name = in.Name
	case in.Name != "" && in.Name != cfg.Name:
		s.fail(w, r, badRequest("name %q and config.name %q differ: give one name", in.Name, cfg.Name))
		return
	}
	switch {
	case in.Type == "" && cfg.Type == "":
		s.fail(w, r, badRequest("type is missing: say which kind of warehouse it is (postgres, redshift, duckdb)"))
		return
	case cfg.Type == "":
		cfg.Type = warehouse.Type(in.Type)
	case in.Type != "" && in.Type != string(cfg.Type):
		s.fail(w, r, badRequest("type %q and config.type %q differ: give one type", in.Type, cfg.Type))
		return
	}
	v, err := c.CreateWarehouse(r.Context(), catalog.NewWarehouse{Config: cfg, Password: in.Password})
	if err != nil {
		s.failCatalog(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, v)
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

func (s *Server) crawlWarehouse(w http.ResponseWriter, r *http.Request) {
	c, ok := s.catalogOr(w, r)
	if !ok {
		return
	}
	res, err := c.CrawlWarehouse(r.Context(), r.PathValue("name"))
	if err != nil {
		s.failCatalog(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, res)
}
