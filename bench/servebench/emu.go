package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
)

// Call categories, by route and query, as the emulator sees them.
const (
	catTrigger      = "trigger (POST jobs/{id}/run/)"
	catJob          = "job get (GET jobs/{id}/)"
	catJobList      = "job list (GET jobs/)"
	catListInflight = "run list, in flight (status__in)"
	catListFinished = "run list, finished (finished_at__range)"
	catListOther    = "run list, other"
	catRunGet       = "run get (GET runs/{id}/)"
	catArtifact     = "artifact get"
	catAccount      = "account get"
	catOther        = "other"
)

var categories = []string{catTrigger, catJob, catJobList, catListInflight, catListFinished, catListOther, catRunGet,
	catArtifact, catAccount, catOther}

// emu is an emulator behind a counting handler on its own listener.
type emu struct {
	e     *emulator.Emulator
	clock *benchClock
	cmap  clockMap
	url   string
	hs    *http.Server
	count *counter
}

func startEmulator(ps []plan, speed float64, behind time.Duration) (*emu, error) {
	clock := newBenchClock(speed, behind)
	e, err := emulator.NewHandler(emulator.Options{Seed: makeSeed(ps), Clock: clock})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.Close()
		return nil, err
	}
	c := newCounter()
	hs := &http.Server{Handler: c.wrap(e), ReadHeaderTimeout: 10 * time.Second,
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				c.conns.Add(1)
			}
		}}
	go func() { _ = hs.Serve(ln) }()
	return &emu{e: e, clock: clock, cmap: calibrate(clock), url: "http://" + ln.Addr().String(), hs: hs, count: c}, nil
}

func (m *emu) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = m.hs.Shutdown(ctx)
	m.e.Close()
}

// counter counts requests by category and status, and remembers when each
// run was read on its own (to tell the poller's reads from the reads that
// follow a settled run) and when each finished-runs listing started (one
// per polling pass).
type counter struct {
	mu            sync.Mutex
	calls         map[string]map[int]int // category -> status -> count
	runGets       map[int64][]time.Time
	finishedPages []time.Time // first pages only: one per pass
	total         atomic.Int64
	triggered     atomic.Int64 // answered 200
	conns         atomic.Int64 // TCP connections accepted
}

func newCounter() *counter {
	return &counter{calls: map[string]map[int]int{}, runGets: map[int64][]time.Time{}}
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (w *statusRecorder) WriteHeader(c int) {
	if w.code == 0 {
		w.code = c
	}
	w.ResponseWriter.WriteHeader(c)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (c *counter) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if rec.code == 0 {
			rec.code = http.StatusOK
		}
		cat, runID := classify(r)
		now := time.Now()
		c.total.Add(1)
		if cat == catTrigger && rec.code == http.StatusOK {
			c.triggered.Add(1)
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		m := c.calls[cat]
		if m == nil {
			m = map[int]int{}
			c.calls[cat] = m
		}
		m[rec.code]++
		if cat == catRunGet {
			c.runGets[runID] = append(c.runGets[runID], now)
		}
		if cat == catListFinished {
			if off := r.URL.Query().Get("offset"); off == "" || off == "0" {
				c.finishedPages = append(c.finishedPages, now)
			}
		}
	})
}

// classify names the dbt Cloud operation of a request to the emulator.
func classify(r *http.Request) (string, int64) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	// api v2 accounts {a} ...
	if len(parts) < 4 || parts[0] != "api" || parts[2] != "accounts" {
		return catOther, 0
	}
	rest := parts[4:]
	switch {
	case len(rest) == 0:
		return catAccount, 0
	case rest[0] == "jobs" && len(rest) == 3 && rest[2] == "run" && r.Method == http.MethodPost:
		return catTrigger, 0
	case rest[0] == "jobs" && len(rest) == 2 && r.Method == http.MethodGet:
		return catJob, 0
	case rest[0] == "jobs" && len(rest) == 1 && r.Method == http.MethodGet:
		return catJobList, 0
	case rest[0] == "runs" && len(rest) == 1:
		q := r.URL.Query()
		switch {
		case q.Has("finished_at__range"):
			return catListFinished, 0
		case q.Has("status__in"):
			return catListInflight, 0
		}
		return catListOther, 0
	case rest[0] == "runs" && len(rest) == 2 && r.Method == http.MethodGet:
		id, _ := strconv.ParseInt(rest[1], 10, 64)
		return catRunGet, id
	case rest[0] == "runs" && len(rest) >= 3 && rest[2] == "artifacts":
		return catArtifact, 0
	}
	return catOther, 0
}

// snapshot is the counts at one moment.
type snapshot map[string]map[int]int

func (c *counter) snapshot() snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := snapshot{}
	for cat, m := range c.calls {
		s[cat] = map[int]int{}
		for code, n := range m {
			s[cat][code] = n
		}
	}
	return s
}

func (s snapshot) total() int {
	n := 0
	for _, m := range s {
		for _, v := range m {
			n += v
		}
	}
	return n
}

func (s snapshot) withStatus(code int) int {
	n := 0
	for _, m := range s {
		n += m[code]
	}
	return n
}

func (s snapshot) cat(cat string) int {
	n := 0
	for _, v := range s[cat] {
		n += v
	}
	return n
}

func (s snapshot) minus(o snapshot) snapshot {
	d := snapshot{}
	for cat, m := range s {
		d[cat] = map[int]int{}
		for code, n := range m {
			if v := n - o[cat][code]; v != 0 {
				d[cat][code] = v
			}
		}
	}
	return d
}

// byCategory flattens a snapshot for the report: "category" -> "status" -> n.
func (s snapshot) byCategory() map[string]map[string]int {
	out := map[string]map[string]int{}
	for _, cat := range categories {
		if len(s[cat]) == 0 {
			continue
		}
		out[cat] = map[string]int{}
		for code, n := range s[cat] {
			out[cat][strconv.Itoa(code)] = n
		}
	}
	return out
}

// runGetsAfter splits the single-run reads of each run at a moment of the
// server's: before it (the poller's reads, the last of which may have seen
// the end) and after it (reads that follow the settlement, such as the
// failure summary's).
func (c *counter) runGetsAround(at map[int64]time.Time) (before, after int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, ts := range c.runGets {
		cut, ok := at[id]
		for _, t := range ts {
			if ok && t.After(cut) {
				after++
			} else {
				before++
			}
		}
	}
	return before, after
}

// lastGet is when the emulator last answered a read of run id alone.
func (c *counter) lastGet(id int64) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	var last time.Time
	for _, g := range c.runGets[id] {
		last = later(last, g)
	}
	return last
}

// lastGetBefore is when run id was last read on its own before t, or zero.
func (c *counter) lastGetBefore(id int64, t time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	var last time.Time
	for _, g := range c.runGets[id] {
		if !g.After(t) {
			last = later(last, g)
		}
	}
	return last
}

func (c *counter) passStarts() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.finishedPages)
}

// benchClock is the emulator's clock: like emulator.NewRealClock(speed),
// linear in the real clock, but reading behind it (by at least behind
// for as long as the phase may last), where a RealClock reads the real
// time at its start and then runs ahead.
//
// The server compares its own clock with dbt Cloud's timestamps in one
// place: the age of a run (now - created_at) feeds the adaptive schedule
// (orchestrate.Schedule), whose bounds are absolute (3 s to 60 s while it
// knows no duration). With a clock running ahead, every age is negative,
// so the server polls every 3 s of real time whatever --poll-max says
// (15 s of emulated time at speed 5, where dbt Cloud's runs would see a
// poll every 30 s). Behind the real clock, ages are long, the schedule
// asks for its longest interval and --poll-max (scaled) decides, which is
// what the server does at speed 1 once its runs are a few minutes old.
type benchClock struct {
	start    time.Time // real, with its monotonic reading
	origin   time.Time // emulated time at start
	speed    float64
	interval time.Duration
}

func newBenchClock(speed float64, behind time.Duration) *benchClock {
	now := time.Now()
	interval := min(max(time.Duration(float64(time.Second)/speed), 20*time.Millisecond), 500*time.Millisecond)
	return &benchClock{start: now, origin: now.Round(0).UTC().Add(-behind).Truncate(time.Second), speed: speed, interval: interval}
}

// Now reports the emulated time.
func (c *benchClock) Now() time.Time {
	return c.origin.Add(time.Duration(float64(time.Since(c.start)) * c.speed))
}

// Speed reports how many emulated seconds pass per real second.
func (c *benchClock) Speed() float64 { return c.speed }

// OnTick calls f from a ticker until stop is called, as RealClock does.
func (c *benchClock) OnTick(f func()) func() {
	t := time.NewTicker(c.interval)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-t.C:
				f()
			case <-done:
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			t.Stop()
			close(done)
		})
	}
}

// clockMap converts between the real clock and the emulator's, which is
// linear in it, so one reading of both clocks taken close together fixes
// the line.
type clockMap struct {
	Real  time.Time `json:"real"`
	Emu   time.Time `json:"emulated"`
	Speed float64   `json:"speed"`
}

// calibrate reads both clocks many times and keeps the tightest pair.
func calibrate(c *benchClock) clockMap {
	best := time.Duration(1<<63 - 1)
	var m clockMap
	for range 200 {
		t1 := time.Now()
		e := c.Now()
		t2 := time.Now()
		if d := t2.Sub(t1); d < best {
			best = d
			m = clockMap{Real: t1.Add(d / 2).Round(0), Emu: e, Speed: c.Speed()}
		}
	}
	return m
}

func (m clockMap) toReal(e time.Time) time.Time {
	return m.Real.Add(time.Duration(float64(e.Sub(m.Emu)) / m.Speed))
}

func (m clockMap) toEmu(r time.Time) time.Time {
	return m.Emu.Add(time.Duration(float64(r.Sub(m.Real)) * m.Speed))
}

// drift checks the map against a fresh reading of the clock.
func (m clockMap) drift(c *benchClock) time.Duration {
	n := calibrate(c)
	d := m.toEmu(n.Real).Sub(n.Emu)
	if d < 0 {
		d = -d
	}
	return d
}

func (m clockMap) String() string {
	return fmt.Sprintf("emulated %s at real %s, speed %g", m.Emu.Format(time.RFC3339Nano), m.Real.Format(time.RFC3339Nano), m.Speed)
}
