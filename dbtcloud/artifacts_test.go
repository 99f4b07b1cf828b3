package dbtcloud

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// TestArtifactGetStreams shows the body reaches the caller before the
// server has finished sending it, and that the per-request timeout does not
// cut a download that outlives it.
func TestArtifactGetStreams(t *testing.T) {
	t.Parallel()
	finish := make(chan struct{})
	b := setup(t, WithTimeout(50*time.Millisecond))
	b.mux.HandleFunc("GET /api/v2/accounts/1/runs/2/artifacts/manifest.json", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		select {
		case <-finish:
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(w, "second\n")
	})
	body, resp, err := b.client.Artifacts.Get(t.Context(), 1, 2, "manifest.json", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("status %d", resp.StatusCode)
	}
	br := bufio.NewReader(body)
	line, err := br.ReadString('\n')
	if err != nil || line != "first\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	// Outlive the 50ms request timeout on purpose: the download must go on.
	<-time.After(150 * time.Millisecond)
	close(finish)
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != "second\n" {
		t.Fatalf("rest %q, %v", rest, err)
	}
}

func TestArtifactGetCancelStopsReading(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.mux.HandleFunc("GET /api/v2/accounts/1/runs/2/artifacts/catalog.json", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "x")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(t.Context())
	body, _, err := b.client.Artifacts.Get(ctx, 1, 2, "catalog.json", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	buf := make([]byte, 1)
	if _, err := io.ReadFull(body, buf); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := io.ReadAll(body); err == nil {
		t.Error("reading after cancel succeeded, want an error")
	}
}

func TestArtifactGetRetriesBeforeBodyAndMapsNotFound(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var calls atomic.Int32
	b.mux.HandleFunc("GET /api/v2/accounts/1/runs/2/artifacts/run_results.json", func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			writeError(w, 502, "bad gateway")
			return
		}
		_, _ = io.WriteString(w, "{}")
	})
	b.mux.HandleFunc("GET /api/v2/accounts/1/runs/2/artifacts/catalog.json", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, 404, "not found")
	})
	body, _, err := b.client.Artifacts.Get(t.Context(), 1, 2, "run_results.json", 0)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(body)
	_ = body.Close()
	if string(got) != "{}" || calls.Load() != 2 {
		t.Errorf("body %q after %d calls", got, calls.Load())
	}
	_, _, err = b.client.Artifacts.Get(t.Context(), 1, 2, "catalog.json", 0)
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
}
