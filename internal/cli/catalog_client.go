package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dbtlink/dbtlink/internal/catalog"
	"github.com/dbtlink/dbtlink/internal/store"
)

// catalogAPI is what the catalog commands ask, answered either by the
// local store (catalog.Service) or by a dbtlink server (catalogClient), so
// both modes print the same.
type catalogAPI interface {
	Search(ctx context.Context, p store.SearchParams) ([]catalog.SearchResult, error)
	Table(ctx context.Context, ref string) (*catalog.TableDetail, error)
	Lineage(ctx context.Context, ref string, dir catalog.Direction, depth int) (*catalog.LineageView, error)
	ColumnLineage(ctx context.Context, ref, column string, dir catalog.Direction, depth int) (*catalog.ColumnLineageView, error)
	Tests(ctx context.Context, q catalog.TestQuery) ([]catalog.TestRow, error)
	SetDescription(ctx context.Context, ref, column, text string) error
	Syncs(ctx context.Context) ([]catalog.SyncStatus, error)
	Upload(ctx context.Context, project string, files []catalog.UploadFile, opts catalog.SyncOptions, progress catalog.Progress) (catalog.SyncResult, error)
}

// catalogClient calls the catalog routes of a dbtlink server (see
// notes/catalog-api.md: the bodies are the JSON of the catalog types).
type catalogClient struct{ c *serverClient }

var _ catalogAPI = catalogClient{}
var _ catalogAPI = (*catalog.Service)(nil)

func tablePath(ref string, rest string) string {
	return "/api/v1/catalog/tables/" + url.PathEscape(ref) + rest
}

// tableErr turns the server's 409 (ambiguous table) into the exit code a
// local ambiguous reference gets.
func tableErr(err error) error {
	var se *serverError
	if errors.As(err, &se) && se.Status == http.StatusConflict {
		return withCode(ExitNotFound, err)
	}
	return err
}

func (k catalogClient) Search(ctx context.Context, p store.SearchParams) ([]catalog.SearchResult, error) {
	q := url.Values{"q": {p.Query}}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	set("warehouse", p.Warehouse)
	set("schema", p.Schema)
	set("resource_type", p.ResourceType)
	set("tag", p.Tag)
	set("owner", p.Owner)
	set("test_status", p.TestStatus)
	var out struct {
		Results []catalog.SearchResult `json:"results"`
	}
	if err := k.c.do(ctx, http.MethodGet, "/api/v1/catalog/search", q, nil, &out); err != nil {
		return nil, err
	}
	return out.Results, nil
}

func (k catalogClient) Table(ctx context.Context, ref string) (*catalog.TableDetail, error) {
	var out catalog.TableDetail
	if err := k.c.do(ctx, http.MethodGet, tablePath(ref, ""), nil, nil, &out); err != nil {
		return nil, tableErr(err)
	}
	return &out, nil
}

func directionParam(d catalog.Direction) string {
	switch d {
	case catalog.Upstream:
		return "up"
	case catalog.Downstream:
		return "down"
	}
	return "both"
}

func (k catalogClient) Lineage(ctx context.Context, ref string, dir catalog.Direction, depth int) (*catalog.LineageView, error) {
	q := url.Values{"direction": {directionParam(dir)}}
	if depth > 0 {
		q.Set("depth", strconv.Itoa(depth))
	}
	var out catalog.LineageView
	if err := k.c.do(ctx, http.MethodGet, tablePath(ref, "/lineage"), q, nil, &out); err != nil {
		return nil, tableErr(err)
	}
	return &out, nil
}

func (k catalogClient) Tests(ctx context.Context, tq catalog.TestQuery) ([]catalog.TestRow, error) {
	q := url.Values{}
	if tq.Failing {
		q.Set("failing", "true")
	}
	if tq.WithWarnings {
		q.Set("warnings", "true")
	}
	if tq.Table != "" {
		q.Set("table", tq.Table)
	}
	if tq.Limit > 0 {
		q.Set("limit", strconv.Itoa(tq.Limit))
	}
	var out struct {
		Tests []catalog.TestRow `json:"tests"`
	}
	if err := k.c.do(ctx, http.MethodGet, "/api/v1/catalog/tests", q, nil, &out); err != nil {
		return nil, tableErr(err)
	}
	return out.Tests, nil
}

func (k catalogClient) SetDescription(ctx context.Context, ref, column, text string) error {
	body := map[string]string{"text": text}
	if column != "" {
		body["column"] = column
	}
	return tableErr(k.c.do(ctx, http.MethodPut, tablePath(ref, "/description"), nil, body, nil))
}

func (k catalogClient) Syncs(ctx context.Context) ([]catalog.SyncStatus, error) {
	var out struct {
		Syncs []catalog.SyncStatus `json:"syncs"`
	}
	if err := k.c.do(ctx, http.MethodGet, "/api/v1/catalog/syncs", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Syncs, nil
}

// syncRequest is the body of POST /api/v1/catalog/syncs.
type syncRequest struct {
	Connection   string        `json:"connection,omitempty"`
	Force        bool          `json:"force"`
	Warehouse    string        `json:"warehouse"`
	Projects     syncFilterReq `json:"projects"`
	Environments syncFilterReq `json:"environments"`
	Jobs         syncFilterReq `json:"jobs"`
	IncludeCI    bool          `json:"include_ci,omitempty"`
	IncludeDev   bool          `json:"include_development,omitempty"`
}

type syncFilterReq struct {
	Allow []string `json:"allow"`
	Deny  []string `json:"deny"`
}

func filterReq(f catalog.Filter) syncFilterReq {
	return syncFilterReq{Allow: nonNil(f.Allow), Deny: nonNil(f.Deny)}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Sync asks the server to sync connection ("" for all of its connections).
func (k catalogClient) Sync(ctx context.Context, connName string, opts catalog.SyncOptions) ([]catalog.SyncResult, error) {
	body := syncRequest{Connection: connName, Force: opts.Force, Warehouse: opts.Warehouse,
		Projects: filterReq(opts.Plan.Projects), Environments: filterReq(opts.Plan.Environments), Jobs: filterReq(opts.Plan.Jobs),
		IncludeCI: opts.Plan.IncludeCI, IncludeDev: opts.Plan.IncludeDevelopment}
	var out struct {
		Results []catalog.SyncResult `json:"results"`
	}
	if err := k.c.do(ctx, http.MethodPost, "/api/v1/catalog/syncs", nil, body, &out); err != nil {
		return nil, err
	}
	return out.Results, nil
}

// Upload sends the files as one multipart/form-data request; the server
// reads them as catalog upload does locally.
func (k catalogClient) Upload(ctx context.Context, project string, files []catalog.UploadFile, opts catalog.SyncOptions, progress catalog.Progress) (catalog.SyncResult, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for i, f := range files {
		w, err := mw.CreateFormFile(fmt.Sprintf("file%d", i+1), filepath.Base(f.Name))
		if err != nil {
			return catalog.SyncResult{}, err
		}
		if _, err := io.Copy(w, f.R); err != nil {
			return catalog.SyncResult{}, usageError("read %s: %w", f.Name, err)
		}
	}
	if err := mw.Close(); err != nil {
		return catalog.SyncResult{}, err
	}
	if progress != nil {
		progress(fmt.Sprintf("upload %d file(s), %s, to %s", len(files), byteSize(int64(buf.Len())), redactURL(k.c.URL())))
	}
	q := url.Values{"project": {project}}
	if opts.Warehouse != "" {
		q.Set("warehouse", opts.Warehouse)
	}
	const path = "/api/v1/catalog/uploads"
	u := *k.c.base
	u.Path = k.c.base.Path + path
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), &buf)
	if err != nil {
		return catalog.SyncResult{}, err
	}
	req.Header.Set("Authorization", "Bearer "+k.c.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "dbtlink/"+Version)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := k.c.http.Do(req)
	if err != nil {
		return catalog.SyncResult{}, &serverUnreachableError{Method: http.MethodPost, Path: path, Err: errors.Unwrap(err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		se := &serverError{Method: http.MethodPost, Path: path, Status: resp.StatusCode}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var eb struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(b, &eb) == nil && eb.Error.Code != "" {
			se.Code, se.Message = eb.Error.Code, eb.Error.Message
		} else if s := strings.TrimSpace(string(b)); len(s) < 300 && !strings.Contains(s, k.c.token) {
			se.Message = s
		}
		return catalog.SyncResult{}, se
	}
	var out catalog.SyncResult
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return out, &serverUnreachableError{Method: http.MethodPost, Path: path, Err: fmt.Errorf("read the answer: %w", err)}
	}
	return out, nil
}

// warehouseView is the part of the server's WarehouseView that catalog
// status shows.
type warehouseView struct {
	Name        string              `json:"name"`
	Type        string              `json:"type"`
	LatestCrawl *warehouseCrawlJSON `json:"latest_crawl,omitempty"`
}

// Warehouses lists the server's warehouses.
func (k catalogClient) Warehouses(ctx context.Context) ([]warehouseView, error) {
	var out struct {
		Warehouses []warehouseView `json:"warehouses"`
	}
	if err := k.c.do(ctx, http.MethodGet, "/api/v1/warehouses", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Warehouses, nil
}
