package emulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"
)

func TestDiscoverySmoke(t *testing.T) {
	clock := NewFakeClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	s, err := New(Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	req, _ := http.NewRequest("POST", s.URL+"/api/v2/accounts/1/jobs/304/run/", bytes.NewReader([]byte(`{"cause":"x"}`)))
	req.Header.Set("Authorization", "Token "+s.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s.Advance(time.Hour)
	q := `{ environment(id: 201) { dbtProjectName applied { models(first: 2) { totalCount pageInfo { hasNextPage endCursor } edges { node { uniqueId name executionInfo { lastRunStatus lastRunId executeCompletedAt } catalog { columns { name type } } tests { uniqueId } } } } lineage(filter: {types: [Model]}) { uniqueId ... on LineageNodeWithParents { parentIds } } } } job(id: 304) { runId models { uniqueId status executionTime } } }`
	b, _ := json.Marshal(map[string]any{"query": q})
	req, _ = http.NewRequest("POST", s.URL+"/graphql", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+DemoMetadataOnlyToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	t.Logf("%d %s", resp.StatusCode, body[:min(len(body), 3000)])
}
