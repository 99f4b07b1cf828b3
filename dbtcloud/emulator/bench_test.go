package emulator

import (
	"testing"
	"time"
)

// BenchmarkAdvanceManyQueuedRuns measures what every request pays first: bringing runs up to date when 10,000 runs
// are queued behind the demo account's two run slots and nothing is due.
func BenchmarkAdvanceManyQueuedRuns(b *testing.B) {
	clock := NewFakeClock(t0)
	e, err := NewHandler(Options{Clock: clock})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	e.mu.Lock()
	for i := range 10_000 {
		e.newRunLocked(e.jobs[[]int64{DemoDailyJobID, DemoSlowJobID, DemoDocsJobID}[i%3]], trigger{cause: "bench"}, nil, clock.Now())
	}
	e.advanceLocked(clock.Now().Add(time.Minute))
	now := clock.Now().Add(time.Minute)
	b.ResetTimer()
	for b.Loop() {
		e.advanceLocked(now)
	}
	e.mu.Unlock()
}
