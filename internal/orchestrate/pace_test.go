package orchestrate_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
	"github.com/dbtlink/dbtlink/internal/orchestrate"
)

// speedClock is the poller's clock against an emulator whose clock runs
// speed times faster (the emulator's --speed): sleeping d here moves the
// emulator on by speed*d. Its own time starts well behind the emulator's,
// as an emulator started a while ago is ahead of the wall clock.
type speedClock struct {
	emu   *emulator.FakeClock
	speed float64
	now   *time.Time
}

func (c speedClock) Now() time.Time { return *c.now }
func (c speedClock) After(d time.Duration) <-chan time.Time {
	*c.now = c.now.Add(d)
	c.emu.Advance(time.Duration(float64(d) * c.speed))
	ch := make(chan time.Time, 1)
	ch <- *c.now
	return ch
}

// TestWaitFollowsAcceleratedClock: against a server whose clock runs 20
// times faster than ours, the adaptive schedule is read on the server's
// clock (measured from the runs it returns), so a run that ends in under 4
// real seconds is seen to end within a second, not after the 24 s the
// schedule would first sleep on our clock. At speed 1 the schedule is the
// one it always was.
func TestWaitFollowsAcceleratedClock(t *testing.T) {
	t.Parallel()
	tests := []struct {
		speed float64
		// behind is how far our clock is behind the server's.
		behind   time.Duration
		maxReads int
	}{
		{speed: 1, maxReads: 4},
		// A clock an hour off (but running at our speed) costs one early
		// read, to learn that it is not accelerated, and nothing more.
		{speed: 1, behind: time.Hour, maxReads: 5},
		{speed: 20, behind: 19 * time.Minute, maxReads: 40},
		{speed: 60, behind: 59 * time.Minute, maxReads: 40},
	}
	for _, tt := range tests {
		speed := tt.speed
		t.Run(fmt.Sprintf("speed %g behind %s", speed, tt.behind), func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.finish(t, b.trigger(t, emulator.DemoDailyJobID).ID) // history: the job's expected duration
			local := b.clock.Now().Add(-tt.behind)
			clock := speedClock{emu: b.clock, speed: speed, now: &local}
			run := b.trigger(t, emulator.DemoDailyJobID)
			begin := clock.Now()
			polls := 0
			got, err := orchestrate.Wait(t.Context(), b.client, b.acct, run.ID, orchestrate.WaitOptions{
				Clock: clock, Initial: run, OnUpdate: func(*dbtcloud.Run) { polls++ },
			})
			if err != nil || got.Status != dbtcloud.RunStatusSuccess {
				t.Fatalf("Wait: %v, %+v", err, got)
			}
			took := clock.Now().Sub(begin)
			// When the run ended, on our clock.
			endedLocal := time.Duration(float64(got.FinishedAt.Sub(run.CreatedAt.Time)) / speed)
			lag := took - endedLocal
			t.Logf("speed %g: run took %s of ours, seen %s after its end, %d reads", speed, endedLocal.Round(time.Millisecond), lag.Round(time.Millisecond), polls)
			maxLag := time.Second
			if speed == 1 {
				maxLag = 30 * time.Second // the schedule's own bound at speed 1
			}
			if lag < 0 || lag > maxLag {
				t.Errorf("seen %s after its end, want at most %s", lag, maxLag)
			}
			if polls > tt.maxReads {
				t.Errorf("%d reads, want at most %d", polls, tt.maxReads)
			}
		})
	}
}
