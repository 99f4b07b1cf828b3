package main

import (
	"net/http/httptest"
	"testing"
	"time"
)

// The benchmark itself is a command (minutes of real time); these check
// the arithmetic its figures rest on.

func TestParseDist(t *testing.T) {
	d, err := parseDist("uniform:5m,30m")
	if err != nil || d.min != 5*time.Minute || d.max != 30*time.Minute {
		t.Fatalf("uniform: %+v, %v", d, err)
	}
	if d, err := parseDist("fixed:15m"); err != nil || d.min != d.max || d.min != 15*time.Minute {
		t.Fatalf("fixed: %+v, %v", d, err)
	}
	for _, bad := range []string{"5m,30m", "uniform:30m,5m", "uniform:5m", "fixed:10s", "normal:5m,1m", "uniform:5m,x"} {
		if _, err := parseDist(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestMakePlans(t *testing.T) {
	d, _ := parseDist("uniform:5m,30m")
	ps := makePlans(2000, d, 0.1, 1, true)
	again := makePlans(2000, d, 0.1, 1, true)
	fails := 0
	ids := map[int64]bool{}
	for i, p := range ps {
		if p != again[i] {
			t.Fatalf("plan %d differs between two draws with one seed: %+v, %+v", i, p, again[i])
		}
		if p.Duration < d.min || p.Duration > d.max || p.Duration%time.Second != 0 {
			t.Fatalf("plan %d: duration %s", i, p.Duration)
		}
		if i > 0 && p.Duration > ps[i-1].Duration {
			t.Fatalf("plans are not longest first at %d", i)
		}
		if ids[p.JobID] {
			t.Fatalf("job %d twice", p.JobID)
		}
		ids[p.JobID] = true
		if p.Fail {
			fails++
		}
	}
	if fails < 150 || fails > 250 {
		t.Errorf("%d of 2000 failing, want about 200", fails)
	}
	if err := makeSeed(ps).Validate(); err != nil {
		t.Fatal(err)
	}
	random := makePlans(2000, d, 0.1, 1, false)
	sorted := 0
	for i := 1; i < len(random); i++ {
		if random[i].Duration <= random[i-1].Duration {
			sorted++
		}
	}
	if sorted > 1500 {
		t.Errorf("random order looks sorted (%d of 1999 steps down)", sorted)
	}
}

func TestClassify(t *testing.T) {
	for _, c := range []struct{ method, target, want string }{
		{"POST", "/api/v2/accounts/1/jobs/7/run/", catTrigger},
		{"GET", "/api/v2/accounts/1/jobs/7/", catJob},
		{"GET", "/api/v2/accounts/1/jobs/?offset=100", catJobList},
		{"GET", "/api/v2/accounts/1/runs/?status__in=%5B1%2C2%2C3%5D&id__gt=5", catListInflight},
		{"GET", "/api/v2/accounts/1/runs/?finished_at__range=x&id__gt=5", catListFinished},
		{"GET", "/api/v2/accounts/1/runs/?job_definition_id=7&order_by=-id", catListOther},
		{"GET", "/api/v2/accounts/1/runs/70000001/", catRunGet},
		{"GET", "/api/v2/accounts/1/runs/70000001/artifacts/run_results.json?step=4", catArtifact},
		{"GET", "/api/v2/accounts/1/", catAccount},
		{"GET", "/_emulator/state", catOther},
	} {
		got, id := classify(httptest.NewRequest(c.method, c.target, nil))
		if got != c.want {
			t.Errorf("%s %s: %q, want %q", c.method, c.target, got, c.want)
		}
		if got == catRunGet && id != 70000001 {
			t.Errorf("%s: run id %d", c.target, id)
		}
	}
}

func TestClockMap(t *testing.T) {
	c := newBenchClock(6, time.Hour)
	m := calibrate(c)
	if d := time.Since(c.Now()); d < 59*time.Minute || d > 61*time.Minute {
		t.Fatalf("the clock is %s behind, want an hour", d)
	}
	r := time.Now().Round(0)
	if back := m.toReal(m.toEmu(r)); back.Sub(r).Abs() > time.Microsecond {
		t.Fatalf("round trip: %s -> %s", r, back)
	}
	time.Sleep(20 * time.Millisecond)
	// A reading now maps back to now, within the calibration's error.
	if d := m.drift(c); d > 5*time.Millisecond {
		t.Fatalf("drift %s", d)
	}
	if got := m.toEmu(m.Real.Add(time.Second)).Sub(m.Emu); got != 6*time.Second {
		t.Fatalf("one real second is %s emulated, want 6s", got)
	}
}

func TestStatsOf(t *testing.T) {
	var xs []float64
	for i := 100; i >= 1; i-- {
		xs = append(xs, float64(i))
	}
	s := statsOf(xs)
	if s.N != 100 || s.P50 != 50 || s.P95 != 95 || s.Max != 100 || s.Min != 1 || s.Mean != 50.5 {
		t.Fatalf("%+v", s)
	}
	if statsOf(nil).N != 0 {
		t.Fatal("empty")
	}
}
