package server

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dbtlink/dbtlink/internal/catalog"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/warehouse"
)

// DefaultMaxUploadBytes bounds the artifacts of one upload (after
// decompression) unless Config.MaxUploadBytes says otherwise.
const DefaultMaxUploadBytes = 512 << 20

// maxUploadFiles is how many artifacts one upload may hold: a manifest,
// run results, a catalog and sources.
const maxUploadFiles = 4

// Catalog is the catalog behind /api/v1/catalog and /api/v1/warehouses;
// *catalog.API implements it. Its errors map as Backend's do, and also:
// catalog.ErrAmbiguous answers 409, a *catalog.InputError 400, a
// *warehouse.ConnectError 502 with its plain message.
type Catalog interface {
	Search(ctx context.Context, p store.SearchParams) ([]catalog.SearchResult, error)
	ListTables(ctx context.Context, p store.ListTablesParams) ([]catalog.TableSummary, error)
	Table(ctx context.Context, ref string) (*catalog.TableDetail, error)
	Lineage(ctx context.Context, ref string, dir catalog.Direction, depth int) (*catalog.LineageView, error)
	ColumnLineage(ctx context.Context, ref, column string, dir catalog.Direction, depth int) (*catalog.ColumnLineageView, error)
	Tests(ctx context.Context, q catalog.TestQuery) ([]catalog.TestRow, error)
	Jobs(ctx context.Context) ([]catalog.JobRow, error)
	Runs(ctx context.Context, jobID int64, limit int) ([]catalog.RunRow, error)
	Syncs(ctx context.Context) ([]catalog.SyncStatus, error)
	SetDescription(ctx context.Context, ref, column, text string) error
	// SyncConnections syncs one stored dbt Cloud connection, or all of
	// them for "". Its error matches catalog.ErrNothingListed when no
	// connection could be listed.
	SyncConnections(ctx context.Context, name string, opts catalog.SyncOptions) ([]catalog.SyncResult, error)
	Upload(ctx context.Context, name string, files []catalog.UploadFile, opts catalog.SyncOptions, progress catalog.Progress) (catalog.SyncResult, error)

	ListWarehouses(ctx context.Context) ([]catalog.WarehouseView, error)
	GetWarehouse(ctx context.Context, name string) (catalog.WarehouseView, error)
	CreateWarehouse(ctx context.Context, in catalog.NewWarehouse) (catalog.WarehouseView, error)
	ReplaceWarehouse(ctx context.Context, in catalog.NewWarehouse, test bool) (catalog.WarehouseView, *catalog.WarehouseInfo, error)
	DeleteWarehouse(ctx context.Context, name string) error
	TestWarehouse(ctx context.Context, name string) (catalog.WarehouseInfo, error)
	CrawlWarehouse(ctx context.Context, name string, progress catalog.Progress) (catalog.CrawlResult, error)
}

var _ Catalog = (*catalog.API)(nil)

// catalogOr answers 404 when the server runs without a catalog, and
// returns it otherwise.
func (s *Server) catalogOr(w http.ResponseWriter, r *http.Request) (Catalog, bool) {
	if s.catalog == nil {
		s.writeError(w, r, http.StatusNotFound, codeNotFound, "this server has no catalog (it was started without one)")
		return nil, false
	}
	return s.catalog, true
}

// failCatalog answers the catalog's own error kinds, then the rest as
// fail does.
func (s *Server) failCatalog(w http.ResponseWriter, r *http.Request, err error) {
	var (
		input   *catalog.InputError
		connect *warehouse.ConnectError
	)
	switch {
	case errors.As(err, &input):
		s.writeError(w, r, http.StatusBadRequest, codeBadRequest, input.Error())
	case errors.Is(err, catalog.ErrAmbiguous):
		s.writeError(w, r, http.StatusConflict, codeConflict, err.Error())
	case errors.As(err, &connect):
		// The driver's detail stays in the log: the message says what
		// happened and what to do.
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "warehouse connection failed", slog.String("request_id", requestID(r)), slog.Any("error", err))
		s.writeError(w, r, http.StatusBadGateway, codeUpstream, "connect to warehouse "+connect.Warehouse+": "+connect.Message)
	default:
		s.fail(w, r, err)
	}
}

// query reads the URL's query parameters, keeping the first problem.
type query struct {
	r   *http.Request
	err error
}

func (q *query) str(name string) string { return q.r.URL.Query().Get(name) }

func (q *query) boolean(name string) bool {
	v := q.str(name)
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil && q.err == nil {
		q.err = badRequest("query parameter %s=%q: use true or false", name, v)
	}
	return b
}

func (q *query) int64(name string) int64 {
	v := q.str(name)
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if (err != nil || n < 0) && q.err == nil {
		q.err = badRequest("query parameter %s=%q: use a whole number, 0 or more", name, v)
	}
	return n
}

func (q *query) limit(max int) int {
	n := q.int64("limit")
	if n > int64(max) && q.err == nil {
		q.err = badRequest("query parameter limit=%d: at most %d", n, max)
	}
	return int(n)
}

func (s *Server) searchCatalog(w http.ResponseWriter, r *http.Request) {
	c, ok := s.catalogOr(w, r)
	if !ok {
		return
	}
	q := &query{r: r}
	p := store.SearchParams{Query: q.str("q"), Limit: q.limit(200), Warehouse: q.str("warehouse"), Schema: q.str("schema"),
		ResourceType: q.str("resource_type"), Tag: q.str("tag"), Owner: q.str("owner"), TestStatus: q.str("test_status")}
	if q.err != nil {
		s.fail(w, r, q.err)
		return
	}
	if strings.TrimSpace(p.Query) == "" {
		s.fail(w, r, badRequest("query parameter q is missing: give the text to search for (?q=orders)"))
		return
	}
	res, err := c.Search(r.Context(), p)
	answerList(s, w, r, "results", res, err)
}

func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

// defaultTableLimit is the store's page size when none is asked for.
const defaultTableLimit = 100

func (s *Server) listCatalogTables(w http.ResponseWriter, r *http.Request) {
	c, ok := s.catalogOr(w, r)
	if !ok {
		return
	}
	q := &query{r: r}
	p := store.ListTablesParams{Warehouse: q.str("warehouse"), Database: q.str("database"), Schema: q.str("schema"),
		Kind: q.str("kind"), Tag: q.str("tag"), Owner: q.str("owner"), FailingTests: q.boolean("failing"),
		IncludeRemoved: q.boolean("include_removed"), AfterID: q.int64("after"), Limit: q.limit(1000)}
	if q.err != nil {
		s.fail(w, r, q.err)
		return
	}
	tables, err := c.ListTables(r.Context(), p)
	if err != nil {
		s.failCatalog(w, r, err)
		return
	}
	limit := p.Limit
	if limit == 0 {
		limit = defaultTableLimit
	}
	var next int64
	if len(tables) == limit {
		next = tables[len(tables)-1].ID
	}
	s.writeJSON(w, r, http.StatusOK, struct {
		Tables    []catalog.TableSummary `json:"tables"`
		NextAfter int64                  `json:"next_after"`
	}{nonNil(tables), next})
}

func (s *Server) getCatalogTable(w http.ResponseWriter, r *http.Request) {
	c, ok := s.catalogOr(w, r)
	if !ok {
		return
	}
	t, err := c.Table(r.Context(), r.PathValue("ref"))
	s.answerCatalog(w, r, http.StatusOK, t, err)
}

func (s *Server) getCatalogColumns(w http.ResponseWriter, r *http.Request) {
	c, ok := s.catalogOr(w, r)
	if !ok {
		return
	}
	t, err := c.Table(r.Context(), r.PathValue("ref"))
	if err != nil {
		s.failCatalog(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, struct {
		Columns []catalog.ColumnDetail `json:"columns"`
	}{nonNil(t.Columns)})
}

func (s *Server) getCatalogLineage(w http.ResponseWriter, r *http.Request) {
	c, ok := s.catalogOr(w, r)
	if !ok {
		return
	}
	dir, depth, ok := s.lineageParams(w, r)
	if !ok {
		return
	}
	view, err := c.Lineage(r.Context(), r.PathValue("ref"), dir, depth)
	if err != nil {
		s.failCatalog(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, view)
}

func (s *Server) getCatalogColumnLineage(w http.ResponseWriter, r *http.Request) {
	c, ok := s.catalogOr(w, r)
	if !ok {
		return
	}
	dir, depth, ok := s.lineageParams(w, r)
	if !ok {
		return
	}
	view, err := c.ColumnLineage(r.Context(), r.PathValue("ref"), r.PathValue("column"), dir, depth)
	if err != nil {
		s.failCatalog(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, view)
}

// lineageParams reads direction (up, down, both) and depth, or answers 400.
func (s *Server) lineageParams(w http.ResponseWriter, r *http.Request) (catalog.Direction, int, bool) {
	q := &query{r: r}
	var dir catalog.Direction
	switch d := q.str("direction"); d {
	case "", "both":
		dir = catalog.Both
	case "up":
		dir = catalog.Upstream
	case "down":
		dir = catalog.Downstream
	default:
		s.fail(w, r, badRequest("query parameter direction=%q: use up, down or both", d))
		return 0, 0, false
	}
	depth := q.int64("depth")
	if q.err != nil {
		s.fail(w, r, q.err)
		return 0, 0, false
	}
	return dir, int(depth), true
}

func (s *Server) listCatalogTests(w http.ResponseWriter, r *http.Request) {
	c, ok := s.catalogOr(w, r)
	if !ok {
		return
	}
	q := &query{r: r}
	tq := catalog.TestQuery{Failing: q.boolean("failing"), WithWarnings: q.boolean("warnings"), Table: q.str("table"), Limit: q.limit(1000)}
	if q.err != nil {
		s.fail(w, r, q.err)
		return
	}
	tests, err := c.Tests(r.Context(), tq)
	answerList(s, w, r, "tests", tests, err)
}

func (s *Server) listCatalogJobs(w http.ResponseWriter, r *http.Request) {
	c, ok := s.catalogOr(w, r)
	if !ok {
		return
	}
	jobs, err := c.Jobs(r.Context())
	answerList(s, w, r, "jobs", jobs, err)
}

func (s *Server) listCatalogRuns(w http.ResponseWriter, r *http.Request) {
	c, ok := s.catalogOr(w, r)
	if !ok {
		return
	}
	q := &query{r: r}
	job, limit := q.int64("job"), q.limit(1000)
	if q.err != nil {
		s.fail(w, r, q.err)
		return
	}
	runs, err := c.Runs(r.Context(), job, limit)
	answerList(s, w, r, "runs", runs, err)
}

func (s *Server) listCatalogSyncs(w http.ResponseWriter, r *http.Request) {
	c, ok := s.catalogOr(w, r)
	if !ok {
		return
	}
	syncs, err := c.Syncs(r.Context())
	answerList(s, w, r, "syncs", syncs, err)
}

// descriptionRequest is the body of PUT .../description.
type descriptionRequest struct {
	Text   string `json:"text"`
	Column string `json:"column,omitempty"`
}

func (s *Server) setCatalogDescription(w http.ResponseWriter, r *http.Request) {
	c, ok := s.catalogOr(w, r)
	if !ok {
		return
	}
	var in descriptionRequest
	if err := s.decodeJSON(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := c.SetDescription(r.Context(), r.PathValue("ref"), in.Column, in.Text); err != nil {
		s.failCatalog(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// filterJSON is a catalog.Filter in a sync request.
type filterJSON struct {
	Allow []string `json:"allow,omitempty"`
	Deny  []string `json:"deny,omitempty"`
}

func (f filterJSON) filter() catalog.Filter { return catalog.Filter{Allow: f.Allow, Deny: f.Deny} }

// syncRequest is the body of POST /api/v1/catalog/syncs; every field is
// optional.
type syncRequest struct {
	Connection   string     `json:"connection,omitempty"`
	Force        bool       `json:"force,omitempty"`
	Warehouse    string     `json:"warehouse,omitempty"`
	Projects     filterJSON `json:"projects,omitzero"`
	Environments filterJSON `json:"environments,omitzero"`
	Jobs         filterJSON `json:"jobs,omitzero"`
}

func (s *Server) createCatalogSync(w http.ResponseWriter, r *http.Request) {
	c, ok := s.catalogOr(w, r)
	if !ok {
		return
	}
	var in syncRequest
	if r.ContentLength != 0 {
		if err := s.decodeJSON(w, r, &in); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	opts := catalog.SyncOptions{
		Plan:      catalog.PlanOptions{Projects: in.Projects.filter(), Environments: in.Environments.filter(), Jobs: in.Jobs.filter()},
		Warehouse: in.Warehouse, Force: in.Force, Source: "api",
	}
	res, err := c.SyncConnections(r.Context(), in.Connection, opts)
	if err != nil && (len(res) == 0 || errors.Is(err, catalog.ErrNothingListed)) {
		var input *catalog.InputError
		switch {
		case errors.As(err, &input), errors.Is(err, store.ErrNotFound), errors.Is(err, context.DeadlineExceeded), r.Context().Err() != nil:
			s.failCatalog(w, r, err)
		default:
			// Nothing could be listed in dbt Cloud: its words say why.
			s.log.LogAttrs(r.Context(), slog.LevelWarn, "catalog sync listed nothing", slog.String("request_id", requestID(r)), slog.Any("error", err))
			s.writeError(w, r, http.StatusBadGateway, codeUpstream, err.Error())
		}
		return
	}
	if err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "catalog sync failed in part", slog.String("request_id", requestID(r)), slog.Any("error", err))
	}
	s.writeJSON(w, r, http.StatusOK, struct {
		Results []catalog.SyncResult `json:"results"`
	}{nonNil(res)})
}

func (s *Server) createCatalogUpload(w http.ResponseWriter, r *http.Request) {
	c, ok := s.catalogOr(w, r)
	if !ok {
		return
	}
	project := r.URL.Query().Get("project")
	if project == "" {
		s.fail(w, r, badRequest("query parameter project is missing: name the dbt project the artifacts belong to (?project=NAME)"))
		return
	}
	dir, err := os.MkdirTemp("", "dbtlink-upload-")
	if err != nil {
		s.fail(w, r, fmt.Errorf("upload: %w", err))
		return
	}
	defer os.RemoveAll(dir)
	files, err := s.spoolUpload(w, r, dir)
	defer func() {
		for _, f := range files {
			f.R.(*os.File).Close()
		}
	}()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := c.Upload(r.Context(), project, files, catalog.SyncOptions{Warehouse: r.URL.Query().Get("warehouse"), Source: "upload"}, nil)
	s.answerCatalog(w, r, http.StatusOK, res, err)
}

// spoolUpload writes the upload's artifacts, decompressed, to files in dir
// and returns them opened for reading. The body (as sent) and the files
// (as decompressed) are each bounded by the upload limit.
func (s *Server) spoolUpload(w http.ResponseWriter, r *http.Request, dir string) ([]catalog.UploadFile, error) {
	body := http.MaxBytesReader(w, r.Body, s.maxUpload)
	budget := &uploadBudget{left: s.maxUpload, limit: s.maxUpload}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
		if enc != "" && enc != "gzip" && enc != "identity" {
			return nil, badRequest("Content-Encoding %q is not supported: send the artifact as is or gzip-compressed", enc)
		}
		f, err := spoolFile(dir, 0, "artifact.json", body, budget, enc == "gzip")
		if err != nil {
			return nil, err
		}
		return []catalog.UploadFile{f}, nil
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, badRequest("the multipart body cannot be read: %v", err)
	}
	var files []catalog.UploadFile
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return files, uploadReadError(err)
		}
		if len(files) == maxUploadFiles {
			part.Close()
			return files, badRequest("the upload holds more than %d files: send one manifest.json and at most run_results.json, catalog.json and sources.json", maxUploadFiles)
		}
		name := part.FileName()
		if name == "" {
			name = part.FormName()
		}
		f, err := spoolFile(dir, len(files), name, part, budget, strings.EqualFold(part.Header.Get("Content-Encoding"), "gzip"))
		part.Close()
		if err != nil {
			return files, err
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		return nil, badRequest("the multipart body holds no file: attach manifest.json (and run_results.json, catalog.json, sources.json if you have them)")
	}
	return files, nil
}

// uploadBudget is what is left of the upload limit for decompressed bytes.
type uploadBudget struct{ left, limit int64 }

var errUploadTooLarge = errors.New("upload too large")

func (b *uploadBudget) Write(p []byte) (int, error) {
	if int64(len(p)) > b.left {
		return 0, errUploadTooLarge
	}
	b.left -= int64(len(p))
	return len(p), nil
}

// spoolFile copies one artifact to a file of dir and opens it for
// reading. A gzip stream (told by the header, or by its magic bytes) is
// decompressed on the way.
func spoolFile(dir string, i int, name string, src io.Reader, budget *uploadBudget, gzipped bool) (catalog.UploadFile, error) {
	br := bufio.NewReader(src)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gzipped = true
	}
	var rd io.Reader = br
	if gzipped {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return catalog.UploadFile{}, uploadReadError(fmt.Errorf("%s is not gzip: %w", name, err))
		}
		defer zr.Close()
		rd = zr
	}
	path := filepath.Join(dir, strconv.Itoa(i))
	f, err := os.Create(path)
	if err != nil {
		return catalog.UploadFile{}, fmt.Errorf("upload: %w", err)
	}
	_, err = io.Copy(io.MultiWriter(f, budget), rd)
	if cerr := f.Close(); err == nil && cerr != nil {
		return catalog.UploadFile{}, fmt.Errorf("upload: %w", cerr)
	}
	if err != nil {
		if errors.Is(err, errUploadTooLarge) {
			return catalog.UploadFile{}, &requestError{http.StatusRequestEntityTooLarge, codeTooLarge,
				fmt.Sprintf("the upload is larger than the limit of %d bytes (decompressed)", budget.limit)}
		}
		return catalog.UploadFile{}, uploadReadError(fmt.Errorf("%s: %w", name, err))
	}
	rf, err := os.Open(path)
	if err != nil {
		return catalog.UploadFile{}, fmt.Errorf("upload: %w", err)
	}
	return catalog.UploadFile{Name: name, R: rf}, nil
}

// uploadReadError keeps a body over the limit a 413 and makes any other
// failure to read the upload a 400.
func uploadReadError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return tooBig
	}
	return badRequest("the upload cannot be read: %v", err)
}
