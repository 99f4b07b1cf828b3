package openlineage

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const testKey = "ol-secret-key-5d1c"

func sampleEvent(name string) RunEvent {
	return RunEvent{EventType: Start, EventTime: t0, Run: Run{RunID: "3f5e8a61-6d0c-4b4e-9b9e-1f2a3b4c5d6e"},
		Job: Job{Namespace: "dbt", Name: name}, Producer: DefaultProducer, SchemaURL: RunEventSchemaURL}
}

// noSleep records the waits instead of sleeping.
type noSleep struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *noSleep) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, d)
	return ctx.Err()
}

func TestHTTPTransportRetries(t *testing.T) {
	tests := []struct {
		name     string
		answers  []int
		wantErr  string
		wantHits int
		wantWait []time.Duration
	}{
		{"ok", []int{200}, "", 1, nil},
		{"500s then ok", []int{500, 503, 201}, "", 3, []time.Duration{500 * time.Millisecond, time.Second}},
		{"429 with Retry-After", []int{429, 200}, "", 2, []time.Duration{7 * time.Second}},
		{"always 500", []int{500, 500, 500, 500, 500}, "HTTP 500: boom", 5, []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second}},
		{"400 is not retried", []int{400}, "HTTP 400: boom", 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			hits := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				code := tt.answers[min(hits, len(tt.answers)-1)]
				hits++
				mu.Unlock()
				if r.URL.Path != LineagePath || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
					t.Errorf("got %s %s (%s)", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
				}
				if got := r.Header.Get("Authorization"); got != "Bearer "+testKey {
					t.Errorf("Authorization %q", got)
				}
				var ev RunEvent
				if err := json.NewDecoder(r.Body).Decode(&ev); err != nil || ev.Job.Name != "j" {
					t.Errorf("body: %v %+v", err, ev)
				}
				if code == 429 {
					w.Header().Set("Retry-After", "7")
				}
				w.WriteHeader(code)
				if code >= 300 {
					io.WriteString(w, "boom")
				}
			}))
			defer srv.Close()
			s := &noSleep{}
			tr, err := NewHTTPTransport(srv.URL, HTTPOptions{APIKey: NewAPIKey(testKey), Sleep: s.sleep})
			if err != nil {
				t.Fatal(err)
			}
			err = tr.Send(t.Context(), sampleEvent("j"))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Send: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Send: %v, want %q", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), testKey) {
				t.Errorf("error shows the API key: %v", err)
			}
			if hits != tt.wantHits {
				t.Errorf("%d posts, want %d", hits, tt.wantHits)
			}
			if fmt.Sprint(s.waits) != fmt.Sprint(tt.wantWait) {
				t.Errorf("waits %v, want %v", s.waits, tt.wantWait)
			}
		})
	}
}

func TestHTTPTransportURL(t *testing.T) {
	for _, tt := range []struct{ in, want, err string }{
		{"http://marquez:5000", "http://marquez:5000/api/v1/lineage", ""},
		{"https://ol.example.com/", "https://ol.example.com/api/v1/lineage", ""},
		{"https://ol.example.com/custom/events", "https://ol.example.com/custom/events", ""},
		{"https://user:hunter2@ol.example.com", "https://user:xxxxx@ol.example.com/api/v1/lineage", ""},
		{"marquez:5000", "", "want an http:// or https:// URL"},
		{"ftp://x", "", "want an http:// or https:// URL"},
	} {
		tr, err := NewHTTPTransport(tt.in, HTTPOptions{})
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: err %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || tr.Endpoint() != tt.want {
			t.Errorf("%s: endpoint %q (%v), want %q", tt.in, tr.Endpoint(), err, tt.want)
		}
	}
}

// TestSecretsNeverLogged: the API key and a password in the URL appear in
// no log line, error or printed config, whatever goes wrong.
func TestSecretsNeverLogged(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A receiver that echoes the request headers in its error.
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, "bad auth %s", strings.Repeat("x", 10))
	}))
	defer srv.Close()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	u := strings.Replace(srv.URL, "http://", "http://user:urlpass-77@", 1)
	cfg := Config{URL: u, APIKey: NewAPIKey(testKey), JobNamespace: "dbt"}
	tr, err := cfg.Transport(&HTTPOptions{Sleep: (&noSleep{}).sleep})
	if err != nil {
		t.Fatal(err)
	}
	e := NewEmitter(tr, EmitterOptions{Logger: log})
	e.Emit(sampleEvent("j"))
	st := e.Close(t.Context())
	if st.Failed != 1 {
		t.Fatalf("stats %+v, want one failed event", st)
	}
	// An unreachable receiver.
	dead, err := NewHTTPTransport("http://user:urlpass-77@127.0.0.1:1", HTTPOptions{APIKey: NewAPIKey(testKey), Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	sendErr := dead.Send(t.Context(), sampleEvent("j"))
	if sendErr == nil {
		t.Fatal("posting to a closed port succeeded")
	}
	log.Info("config", "config", cfg, "key", cfg.APIKey)
	_, badErr := NewHTTPTransport("ftp://user:urlpass-77@x", HTTPOptions{})
	all := logs.String() + sendErr.Error() + badErr.Error() + fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg.APIKey)
	for _, secret := range []string{testKey, "urlpass-77"} {
		if strings.Contains(all, secret) {
			t.Errorf("secret %q shown:\n%s", secret, all)
		}
	}
	if !strings.Contains(logs.String(), "OpenLineage event not delivered") || !strings.Contains(logs.String(), "HTTP 401") {
		t.Errorf("the failure was not logged:\n%s", logs.String())
	}
}

func TestFileTransport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	tr, err := NewFileTransport(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if err := tr.Send(t.Context(), sampleEvent(fmt.Sprint("job-", i))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", fi.Mode().Perm())
	}
	v := getValidator(t)
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		v.validateJSON(t, sc.Bytes())
		var ev RunEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatal(err)
		}
		seen[ev.Job.Name] = true
	}
	if len(seen) != 20 {
		t.Errorf("%d distinct events in the file, want 20", len(seen))
	}
	if _, err := NewFileTransport(filepath.Join(t.TempDir(), "no", "such", "dir", "x.jsonl")); err == nil {
		t.Error("a file in a missing directory was accepted")
	}
}

// gate is a transport that holds each Send until released.
type gate struct {
	started chan string
	release chan struct{}
	mu      sync.Mutex
	got     []string
}

func (g *gate) Send(ctx context.Context, ev RunEvent) error {
	g.started <- ev.Job.Name
	select {
	case <-g.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	g.mu.Lock()
	g.got = append(g.got, ev.Job.Name)
	g.mu.Unlock()
	return nil
}

func TestEmitterNeverBlocks(t *testing.T) {
	g := &gate{started: make(chan string, 10), release: make(chan struct{})}
	var logs bytes.Buffer
	e := NewEmitter(g, EmitterOptions{QueueSize: 1, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if !e.Emit(sampleEvent("a")) {
		t.Fatal("first event dropped")
	}
	<-g.started // a is being sent; the queue is empty
	if !e.Emit(sampleEvent("b")) {
		t.Fatal("second event dropped with room in the queue")
	}
	if e.Emit(sampleEvent("c")) {
		t.Fatal("third event queued beyond the bound")
	}
	if !strings.Contains(logs.String(), "OpenLineage event dropped") || !strings.Contains(logs.String(), "queue full") {
		t.Errorf("drop not logged: %s", logs.String())
	}
	close(g.release)
	st := e.Close(t.Context())
	if st != (Stats{Sent: 2, Dropped: 1}) {
		t.Errorf("stats %+v, want 2 sent and 1 dropped", st)
	}
	if fmt.Sprint(g.got) != "[a b]" {
		t.Errorf("delivered %v, want [a b] in order", g.got)
	}
	if e.Emit(sampleEvent("d")) {
		t.Error("an event was taken after Close")
	}
}

func TestEmitterCloseGivesUp(t *testing.T) {
	g := &gate{started: make(chan string, 10), release: make(chan struct{})}
	e := NewEmitter(g, EmitterOptions{QueueSize: 10, Logger: slog.New(slog.DiscardHandler)})
	for _, n := range []string{"a", "b", "c"} {
		e.Emit(sampleEvent(n))
	}
	<-g.started
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	st := e.Close(ctx) // the receiver never answers: Close must not wait for it
	if st.Sent != 0 || st.Failed != 1 || st.Dropped != 2 {
		t.Errorf("stats %+v, want the one in flight failed and two dropped", st)
	}
}

func TestMultiTransport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "e.jsonl")
	ft, err := NewFileTransport(path)
	if err != nil {
		t.Fatal(err)
	}
	broken := transportFunc(func(context.Context, RunEvent) error { return errors.New("down") })
	err = Multi{broken, ft}.Send(t.Context(), sampleEvent("j"))
	if err == nil || !strings.Contains(err.Error(), "down") {
		t.Errorf("err %v", err)
	}
	if b, _ := os.ReadFile(path); !bytes.Contains(b, []byte(`"name":"j"`)) {
		t.Error("the file did not get the event although another transport failed")
	}
}

type transportFunc func(context.Context, RunEvent) error

func (f transportFunc) Send(ctx context.Context, ev RunEvent) error { return f(ctx, ev) }
