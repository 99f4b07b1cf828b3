package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// FaultKind names a way a request can go wrong.
type FaultKind string

const (
	// FaultStatus answers with Fault.Status (e.g. 429, 500, 503) in dbt's error envelope, without doing the work.
	// A 429 or 503 carries Retry-After when Fault.RetryAfter is set.
	FaultStatus FaultKind = "status"
	// FaultLatency waits Fault.Latency (real time) and then serves the request normally.
	FaultLatency FaultKind = "latency"
	// FaultDrop closes the connection without answering and without doing the work.
	FaultDrop FaultKind = "drop"
	// FaultCommitThenDrop does the work (a trigger creates its run) and then closes the connection without
	// answering: the case that makes blind retries of non-idempotent calls dangerous.
	FaultCommitThenDrop FaultKind = "commit_then_drop"
)

// Fault describes requests to break. Path is either a route pattern, where {name} matches one segment and
// {name...} the rest ("/api/v2/accounts/{a}/jobs/{j}/run/"), or, without braces, a path prefix. Path may start with
// a method ("POST /api/..."), which is the same as setting Method. Empty Method matches any method.
type Fault struct {
	Method     string        `json:"method,omitempty"`
	Path       string        `json:"path"`
	Times      int           `json:"times,omitempty"` // how many matching requests to break; 0 means 1, negative means until cleared
	Kind       FaultKind     `json:"kind"`
	Status     int           `json:"status,omitempty"`
	RetryAfter int           `json:"retry_after,omitempty"` // seconds, for Retry-After
	Latency    time.Duration `json:"-"`
}

// faultWire is Fault on the control endpoint, where latency is a Go duration string like "1.5s".
type faultWire struct {
	Fault
	Latency   string `json:"latency,omitempty"`
	ID        int    `json:"id,omitempty"`
	Remaining int    `json:"remaining,omitempty"`
}

type faultEntry struct {
	id        int
	f         Fault
	remaining int // < 0: unlimited
}

func (f *Fault) normalize() error {
	if m, p, ok := strings.Cut(f.Path, " "); ok && strings.HasPrefix(p, "/") {
		f.Method, f.Path = m, p
	}
	f.Method = strings.ToUpper(f.Method)
	if !strings.HasPrefix(f.Path, "/") {
		return fmt.Errorf("path must start with /, got %q", f.Path)
	}
	switch f.Kind {
	case FaultStatus:
		if f.Status < 400 || f.Status > 599 {
			return fmt.Errorf("a status fault needs status 400-599, got %d", f.Status)
		}
	case FaultLatency:
		if f.Latency <= 0 {
			return errors.New("a latency fault needs a positive latency")
		}
	case FaultDrop, FaultCommitThenDrop:
	default:
		return fmt.Errorf("kind must be status, latency, drop or commit_then_drop, got %q", f.Kind)
	}
	return nil
}

func (f *Fault) matches(r *http.Request) bool {
	if f.Method != "" && f.Method != r.Method {
		return false
	}
	if !strings.Contains(f.Path, "{") {
		return strings.HasPrefix(r.URL.Path, f.Path)
	}
	want := strings.Split(f.Path, "/")
	got := strings.Split(r.URL.Path, "/")
	for i, w := range want {
		if strings.HasPrefix(w, "{") && strings.HasSuffix(w, "...}") {
			return true
		}
		if i >= len(got) {
			return false
		}
		if strings.HasPrefix(w, "{") && strings.HasSuffix(w, "}") {
			if got[i] == "" {
				return false
			}
			continue
		}
		if w != got[i] {
			return false
		}
	}
	return len(got) == len(want)
}

// InjectFault arms a fault and returns its id. Faults are checked in the order they were added; the first match
// with requests left applies.
func (e *Emulator) InjectFault(f Fault) (int, error) {
	if err := f.normalize(); err != nil {
		return 0, fmt.Errorf("emulator: fault: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.nextFaultID++
	n := f.Times
	if n == 0 {
		n = 1
	}
	e.faults = append(e.faults, &faultEntry{id: e.nextFaultID, f: f, remaining: n})
	return e.nextFaultID, nil
}

// ClearFaults disarms every fault.
func (e *Emulator) ClearFaults() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = nil
}

func (e *Emulator) takeFault(r *http.Request) *Fault {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, fe := range e.faults {
		if fe.remaining == 0 || !fe.f.matches(r) {
			continue
		}
		if fe.remaining > 0 {
			fe.remaining--
			if fe.remaining == 0 {
				e.faults = append(e.faults[:i], e.faults[i+1:]...)
			}
		}
		f := fe.f
		return &f
	}
	return nil
}

// applyFault breaks r as f says. It reports whether the request has been dealt with.
func (e *Emulator) applyFault(f *Fault, w http.ResponseWriter, r *http.Request) bool {
	switch f.Kind {
	case FaultStatus:
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		}
		writeError(w, f.Status, http.StatusText(f.Status)+" (injected by the emulator)", "")
		return true
	case FaultLatency:
		t := time.NewTimer(f.Latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done(): // the client gave up; nobody is listening
			return true
		case <-e.closing:
		}
		return false
	case FaultDrop:
		dropConn(w)
		return true
	case FaultCommitThenDrop:
		e.serveAPI(discardWriter{h: http.Header{}}, r)
		dropConn(w)
		return true
	}
	return false
}

// dropConn closes the client's connection without writing a response.
func dropConn(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2, or a recorder): abort the handler, which resets the stream.
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // reset rather than a graceful FIN, like a crashed proxy
	}
	_ = conn.Close()
}

type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}

// ---- control endpoints ----

// control serves /_emulator/: faults, state and the fake clock. It needs no token.
func (e *Emulator) control(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/_emulator/faults" && r.Method == http.MethodPost:
		var fw faultWire
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields() // a misspelt "times" must not quietly become 1, as seed files refuse typos too
		if err := dec.Decode(&fw); err != nil {
			msg := "decode fault: " + err.Error()
			if errors.Is(err, io.EOF) {
				msg = `the body is empty; send a fault such as {"path":"/api/v2/accounts/{a}/runs/","kind":"status","status":503}`
			}
			statusJSON(w, http.StatusBadRequest, map[string]string{"error": msg})
			return
		}
		f := fw.Fault
		if fw.Latency != "" {
			d, err := time.ParseDuration(fw.Latency)
			if err != nil {
				statusJSON(w, http.StatusBadRequest, map[string]string{"error": "latency: " + err.Error()})
				return
			}
			f.Latency = d
		}
		id, err := e.InjectFault(f)
		if err != nil {
			statusJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		statusJSON(w, http.StatusCreated, map[string]int{"id": id})
	case r.URL.Path == "/_emulator/faults" && r.Method == http.MethodGet:
		statusJSON(w, http.StatusOK, e.faultList())
	case r.URL.Path == "/_emulator/faults" && r.Method == http.MethodDelete:
		e.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/_emulator/state" && r.Method == http.MethodGet:
		e.mu.Lock()
		counts := map[string]int{}
		for id, n := range e.triggerCounts {
			counts[strconv.FormatInt(id, 10)] = n
		}
		e.mu.Unlock()
		runs := e.Runs()
		statusJSON(w, http.StatusOK, map[string]any{
			"now": e.clock.Now().UTC().Format(time.RFC3339Nano), "runs": runs, "trigger_counts": counts,
			"faults": e.faultList(),
		})
	case r.URL.Path == "/_emulator/advance" && r.Method == http.MethodPost:
		d, err := time.ParseDuration(r.URL.Query().Get("d"))
		if err != nil || d < 0 {
			statusJSON(w, http.StatusBadRequest, map[string]string{"error": "d must be a non-negative Go duration such as 5m"})
			return
		}
		if _, ok := e.clock.(Advancer); !ok {
			statusJSON(w, http.StatusConflict, map[string]string{"error": "the emulator runs on a real clock; start it with a fake clock to advance time"})
			return
		}
		e.Advance(d)
		statusJSON(w, http.StatusOK, map[string]string{"now": e.clock.Now().UTC().Format(time.RFC3339Nano)})
	default:
		statusJSON(w, http.StatusNotFound, map[string]string{"error": "unknown control endpoint " + r.Method + " " + r.URL.Path})
	}
}

func (e *Emulator) faultList() []faultWire {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := []faultWire{}
	for _, fe := range e.faults {
		fw := faultWire{Fault: fe.f, ID: fe.id, Remaining: fe.remaining}
		if fe.f.Latency > 0 {
			fw.Latency = fe.f.Latency.String()
		}
		out = append(out, fw)
	}
	return out
}
