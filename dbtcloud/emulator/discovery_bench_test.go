package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkDiscoveryModelsPage measures one page of 100 models with their execution info and catalog columns, in
// an environment with 30 ended runs (docs, build and failing build jobs taking turns), once the runs have been read.
func BenchmarkDiscoveryModelsPage(b *testing.B) {
	clock := NewFakeClock(t0)
	e, err := NewHandler(Options{Clock: clock, RateLimitPerMinute: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	for i := range 30 {
		e.mu.Lock()
		e.newRunLocked(e.jobs[[]int64{DemoDailyJobID, DemoDocsJobID, DemoFailingJobID}[i%3]], trigger{cause: "bench"}, nil, clock.Now())
		e.mu.Unlock()
		e.Advance(2 * time.Hour)
	}
	body, _ := json.Marshal(map[string]any{"query": `{ environment(id: 201) { applied { models(first: 100) { totalCount edges { node {
		uniqueId name executionInfo { lastRunId lastRunStatus executeCompletedAt } catalog { columns { name type } } } } } } } }`})
	serve := func() {
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+DemoMetadataOnlyToken)
		w := httptest.NewRecorder()
		e.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
	serve() // the first query reads the runs' artifacts; later ones use what it kept
	for b.Loop() {
		serve()
	}
}
