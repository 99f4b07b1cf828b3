package dbtcloud

import (
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// pagedRuns serves total runs with ids 1..total, honouring limit/offset.
func pagedRuns(t *testing.T, total int, withExtra bool, calls *atomic.Int32) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		q := r.URL.Query()
		if q.Get("job_definition_id") != "5" {
			t.Errorf("filters lost while paging: %v", q)
		}
		limit, _ := strconv.Atoi(q.Get("limit"))
		if limit == 0 {
			limit = 100
		}
		offset, _ := strconv.Atoi(q.Get("offset"))
		var page []map[string]any
		for i := offset; i < total && len(page) < limit; i++ {
			page = append(page, map[string]any{"id": i + 1})
		}
		var p *Pagination
		if withExtra {
			p = &Pagination{Count: len(page), TotalCount: total}
		}
		writeJSON(w, 200, page, p)
	}
}

func collectRuns(t *testing.T, b *testBundle, opts *RunListOptions) ([]int64, error) {
	t.Helper()
	var ids []int64
	for r, err := range b.client.Runs.ListIter(t.Context(), 1, opts) {
		if err != nil {
			return ids, err
		}
		ids = append(ids, r.ID)
	}
	return ids, nil
}

func TestListIterPaging(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		total     int
		limit     int
		withExtra bool
		wantCalls int32
	}{
		{"several pages", 7, 3, true, 3},
		{"exact pages", 6, 3, true, 2},
		{"empty", 0, 3, true, 1},
		{"default limit", 150, 0, true, 2},
		{"no extra, short last page", 7, 3, false, 3},
		{"no extra, exact pages end on empty page", 6, 3, false, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			var calls atomic.Int32
			b.mux.HandleFunc("GET /api/v2/accounts/1/runs/{$}", pagedRuns(t, tt.total, tt.withExtra, &calls))
			opts := &RunListOptions{JobDefinitionID: 5, ListOptions: ListOptions{Limit: tt.limit}}
			ids, err := collectRuns(t, b, opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) != tt.total {
				t.Errorf("got %d runs, want %d", len(ids), tt.total)
			}
			for i, id := range ids {
				if id != int64(i+1) {
					t.Fatalf("ids = %v", ids)
				}
			}
			if calls.Load() != tt.wantCalls {
				t.Errorf("calls = %d, want %d", calls.Load(), tt.wantCalls)
			}
			if opts.Offset != 0 {
				t.Error("ListIter changed the caller's options")
			}
		})
	}
}

func TestListIterMisbehavingServer(t *testing.T) {
	t.Parallel()
	t.Run("same page forever", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var calls atomic.Int32
		b.mux.HandleFunc("GET /api/v2/accounts/1/runs/{$}", func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			writeJSON(w, 200, []map[string]any{{"id": 1}, {"id": 2}}, &Pagination{Count: 2, TotalCount: 1000})
		})
		_, err := collectRuns(t, b, &RunListOptions{JobDefinitionID: 5, ListOptions: ListOptions{Limit: 2}})
		if err == nil || !strings.Contains(err.Error(), "same page") || calls.Load() != 2 {
			t.Errorf("err = %v after %d calls, want a paging-stuck error after 2", err, calls.Load())
		}
	})
	t.Run("same page forever without extra", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.mux.HandleFunc("GET /api/v2/accounts/1/runs/{$}", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, []map[string]any{{"id": 1}, {"id": 2}}, nil)
		})
		if _, err := collectRuns(t, b, &RunListOptions{JobDefinitionID: 5, ListOptions: ListOptions{Limit: 2}}); err == nil {
			t.Error("want an error")
		}
	})
	t.Run("empty page before total", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var calls atomic.Int32
		b.mux.HandleFunc("GET /api/v2/accounts/1/runs/{$}", func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				writeJSON(w, 200, []map[string]any{{"id": 1}}, &Pagination{Count: 1, TotalCount: 50})
				return
			}
			writeJSON(w, 200, []map[string]any{}, &Pagination{Count: 0, TotalCount: 50})
		})
		ids, err := collectRuns(t, b, &RunListOptions{JobDefinitionID: 5})
		if err != nil || len(ids) != 1 || calls.Load() != 2 {
			t.Errorf("ids %v, err %v, calls %d", ids, err, calls.Load())
		}
	})
	t.Run("error mid-way", func(t *testing.T) {
		t.Parallel()
		b := setup(t, WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
		var calls atomic.Int32
		b.mux.HandleFunc("GET /api/v2/accounts/1/runs/{$}", func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				writeJSON(w, 200, []map[string]any{{"id": 1}}, &Pagination{Count: 1, TotalCount: 2})
				return
			}
			writeError(w, 404, "gone")
		})
		ids, err := collectRuns(t, b, &RunListOptions{JobDefinitionID: 5})
		if len(ids) != 1 || err == nil {
			t.Errorf("ids %v, err %v", ids, err)
		}
	})
}

func TestListIterOtherServices(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.mux.HandleFunc("GET /api/v2/accounts/{$}", serveFile(t, "account_list_response.json"))
	b.mux.HandleFunc("GET /api/v3/accounts/1/projects/{$}", serveFile(t, "project_list_response.json"))
	b.mux.HandleFunc("GET /api/v3/accounts/1/projects/2/environments/{$}", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("deployment_type") != "production" {
			t.Errorf("filter lost: %v", r.URL.Query())
		}
		writeJSON(w, 200, []map[string]any{{"id": 3}, {"id": 4}}, &Pagination{Count: 2, TotalCount: 2})
	})
	b.mux.HandleFunc("GET /api/v2/accounts/1/jobs/{$}", serveFile(t, "job_list_response.json"))
	ctx := t.Context()
	count := func(name string, n int, err error) {
		if err != nil || n == 0 {
			t.Errorf("%s: %d items, %v", name, n, err)
		}
	}
	n, err := countSeq(b.client.Accounts.ListIter(ctx))
	count("accounts", n, err)
	n, err = countSeq(b.client.Projects.ListIter(ctx, 1, nil))
	count("projects", n, err)
	n, err = countSeq(b.client.Environments.ListIter(ctx, 1, 2, &EnvironmentListOptions{DeploymentType: "production"}))
	count("environments", n, err)
	n, err = countSeq(b.client.Jobs.ListIter(ctx, 1, nil)) // job list came without extra
	count("jobs", n, err)
}

func countSeq[T any](seq func(func(*T, error) bool)) (int, error) {
	n := 0
	for _, err := range seq {
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
