package emulator

import (
	"sync"
	"time"
)

// Clock is the emulator's source of emulated time. Every run transition is computed from Now, so the emulator's
// state is a deterministic function of the clock: two emulators with the same seed, the same requests and the same
// clock readings give the same answers.
//
// OnTick lets the clock tell the emulator that time moved, so that run transitions (and the webhooks they send)
// happen even when nobody polls. A fake clock calls f from Advance; a real clock calls it from a ticker.
type Clock interface {
	Now() time.Time
	// OnTick registers f to be called whenever the clock has moved. The returned function unregisters it.
	OnTick(f func()) (stop func())
}

// Advancer is implemented by clocks that tests can move by hand, such as FakeClock.
type Advancer interface {
	Advance(d time.Duration)
}

// FakeClock is a Clock that moves only when Advance or Set is called. Use it in tests: nothing sleeps, and runs move
// along exactly as far as the test advances the clock.
type FakeClock struct {
	mu    sync.Mutex
	now   time.Time
	subs  map[int]func()
	nextS int
}

// NewFakeClock returns a FakeClock reading t0.
func NewFakeClock(t0 time.Time) *FakeClock {
	return &FakeClock{now: t0, subs: map[int]func(){}}
}

// Now reports the fake time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d (negative d is ignored: emulated time never runs backwards) and then, before
// returning, lets every subscriber (the emulator) catch up, so a test sees the new state as soon as Advance returns.
func (c *FakeClock) Advance(d time.Duration) {
	if d < 0 {
		d = 0
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	subs := c.snapshot()
	c.mu.Unlock()
	for _, f := range subs {
		f()
	}
}

// Set moves the clock to t if t is later than the current reading.
func (c *FakeClock) Set(t time.Time) {
	c.mu.Lock()
	if t.After(c.now) {
		c.now = t
	}
	subs := c.snapshot()
	c.mu.Unlock()
	for _, f := range subs {
		f()
	}
}

// OnTick registers f; Advance and Set call it synchronously.
func (c *FakeClock) OnTick(f func()) func() {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.nextS
	c.nextS++
	c.subs[id] = f
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.subs, id)
	}
}

func (c *FakeClock) snapshot() []func() {
	out := make([]func(), 0, len(c.subs))
	for i := 0; i < c.nextS; i++ { // in registration order, for determinism
		if f, ok := c.subs[i]; ok {
			out = append(out, f)
		}
	}
	return out
}

// RealClock is a Clock that follows the wall clock, optionally faster: with Speed 60 a minute of emulated time passes
// every real second, so a ten-minute dbt job finishes in ten seconds.
type RealClock struct {
	start    time.Time // wall time when the clock was made
	origin   time.Time // emulated time at start
	speed    float64
	interval time.Duration
}

// NewRealClock returns a clock that starts at the current wall time and runs speed times faster than it. A speed
// of 0 or less means 1.
func NewRealClock(speed float64) *RealClock {
	if speed <= 0 {
		speed = 1
	}
	now := time.Now()
	// Tick often enough that webhooks fire within about a second of emulated time at high speeds, without burning
	// CPU at speed 1.
	interval := time.Duration(float64(time.Second) / speed)
	interval = min(max(interval, 20*time.Millisecond), 500*time.Millisecond)
	return &RealClock{start: now, origin: now.UTC(), speed: speed, interval: interval}
}

// Speed reports how many emulated seconds pass per real second.
func (c *RealClock) Speed() float64 { return c.speed }

// Now reports the emulated time.
func (c *RealClock) Now() time.Time {
	elapsed := time.Since(c.start) // monotonic
	return c.origin.Add(time.Duration(float64(elapsed) * c.speed))
}

// OnTick calls f from a ticker until stop is called.
func (c *RealClock) OnTick(f func()) func() {
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
