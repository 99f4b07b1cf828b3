package openlineage

import (
	"bufio"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
)

// flakyReceiver accepts posts until it has taken up, then answers 503
// until up is raised.
type flakyReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	up     int
	runIDs []string
	types  []EventType
}

func newFlakyReceiver(t *testing.T, up int) *flakyReceiver {
	r := &flakyReceiver{up: up}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if len(r.runIDs) >= r.up {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		var ev RunEvent
		if err := json.NewDecoder(req.Body).Decode(&ev); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.runIDs = append(r.runIDs, ev.Run.RunID+"/"+string(ev.EventType))
		r.types = append(r.types, ev.EventType)
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(r.Close)
	return r
}

func fileLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var ev RunEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatal(err)
		}
		out = append(out, ev.Run.RunID+"/"+string(ev.EventType))
	}
	return out
}

// TestSendRunResumesPerSink: with the receiver down after a few events, the
// file still gets every event; the retry sends the receiver only what it
// lacks and the file nothing, so each sink ends with each event once, in
// order.
func TestSendRunResumesPerSink(t *testing.T) {
	t.Parallel()
	client, srv, runID := emulatorRun(t, emulator.DemoDailyJobID)
	rec := newFlakyReceiver(t, 3)
	file := filepath.Join(t.TempDir(), "lineage.jsonl")
	target, err := NewTarget(Config{URL: rec.URL, File: file}, &HTTPOptions{Attempts: 2, Sleep: (&noSleep{}).sleep})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	sent := map[string]int{}
	n, err := target.SendRun(t.Context(), log, client, srv.AccountID, runID, sent)
	if err == nil || !strings.Contains(err.Error(), "event 4 of") || !strings.Contains(err.Error(), "to http "+rec.URL) {
		t.Fatalf("first delivery: %v", err)
	}
	httpKey, fileKey := "http "+rec.URL+LineagePath, "file "+file
	if sent[httpKey] != 3 || sent[fileKey] != n || n < 10 {
		t.Fatalf("progress after the first try %v of %d events", sent, n)
	}
	rec.mu.Lock()
	rec.up = 1 << 20
	rec.mu.Unlock()
	if _, err := target.SendRun(t.Context(), log, client, srv.AccountID, runID, sent); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if sent[httpKey] != n || sent[fileKey] != n {
		t.Errorf("progress after the retry %v of %d", sent, n)
	}
	lines := fileLines(t, file)
	if len(lines) != n || len(rec.runIDs) != n {
		t.Fatalf("file has %d events, receiver %d, want %d each", len(lines), len(rec.runIDs), n)
	}
	if !slices.Equal(lines, rec.runIDs) {
		t.Error("the file and the receiver got the events in different orders")
	}
	if rec.types[0] != Start || rec.types[n-1] != Complete {
		t.Errorf("receiver's sequence %v", rec.types)
	}
	// A third delivery (a job retried after it finished, say) sends nothing.
	if _, err := target.SendRun(t.Context(), log, client, srv.AccountID, runID, sent); err != nil {
		t.Fatal(err)
	}
	if got := len(fileLines(t, file)); got != n || len(rec.runIDs) != n {
		t.Errorf("a finished delivery sent again: file %d, receiver %d", got, len(rec.runIDs))
	}
}

// TestSinkKeysHoldNoSecrets: the keys of a delivery's progress, which River
// stores and the server logs, leave out a URL's password and query.
func TestSinkKeysHoldNoSecrets(t *testing.T) {
	file := filepath.Join(t.TempDir(), "events.jsonl")
	sinks, err := Config{URL: "https://user:pa55@ol.example.com:8443/api/v1/lineage?api_key=k3y", File: file}.Sinks(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(sinks) != 2 || sinks[0].Key != "http https://ol.example.com:8443/api/v1/lineage" || sinks[1].Key != "file "+file {
		t.Errorf("sink keys %q, %q", sinks[0].Key, sinks[1].Key)
	}
}
