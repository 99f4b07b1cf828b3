package tracker

import (
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
	"github.com/dbtlink/dbtlink/internal/orchestrate"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/store/storetest"
)

// localClock is the tracker's clock in these tests, moved by hand.
type localClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *localClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *localClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// The poller reads the account's clock rate from the runs it polls, as
// `job run --wait` does: against an emulator whose clock runs 20 times
// faster than ours, the second pass schedules the next on the emulator's
// clock, converted to ours; against a dbt Cloud whose clock runs at ours,
// the interval is the one the schedule always gave.
func TestPollFollowsAcceleratedClock(t *testing.T) {
	t.Parallel()
	const pollMin = 20 * time.Millisecond
	cold := func(age time.Duration) time.Duration { return orchestrate.Schedule{}.Next(age) }
	tests := []struct {
		name string
		// ahead is how far the emulator's clock is ahead of ours at the
		// start; serverStep how far it moves while ours moves a second.
		ahead, serverStep time.Duration
		want              time.Duration
	}{
		// rate (20s - 1s of rounding) / 1s = 19; the run is 20 s old on
		// its clock, so the schedule's cold interval at 20 s, at rate 19.
		{name: "accelerated", ahead: time.Hour, serverStep: 20 * time.Second, want: time.Duration(float64(cold(20*time.Second)) / 19)},
		// Same clocks: the run is 1 s old, as before this change.
		{name: "real speed", ahead: 0, serverStep: time.Second, want: cold(time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			local := &localClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
			emuClock := emulator.NewFakeClock(local.Now().Add(tt.ahead))
			emu, err := emulator.New(emulator.Options{Clock: emuClock})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(emu.Close)
			st := storetest.Open(t, storetest.Backends(t)[0])
			tr, err := New(ctx, Config{Store: st, Keys: newKeys(t), Logger: slog.New(slog.DiscardHandler),
				PollMin: pollMin, PollMax: 30 * time.Second, Now: local.Now})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tr.AddConnection(ctx, NewConnection{Name: "emu", Host: emu.URL, AccountID: emu.AccountID, Token: emu.Token}); err != nil {
				t.Fatal(err)
			}
			cl, c, err := tr.client(ctx, "emu")
			if err != nil {
				t.Fatal(err)
			}
			run, _, err := cl.Runs.Trigger(ctx, c.AccountID, emulator.DemoDailyJobID, &dbtcloud.TriggerRunRequest{Cause: "pace test"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.CreateRun(ctx, store.Run{Connection: "emu", AccountID: c.AccountID, JobID: emulator.DemoDailyJobID,
				Marker: "pacetest" + tt.name, State: store.RunQueued, DbtRunID: run.ID, DbtCreatedAt: run.CreatedAt.Time,
				TriggerAttemptedAt: local.Now()}); err != nil {
				t.Fatal(err)
			}
			if _, err := tr.pollPass(ctx, "emu"); err != nil {
				t.Fatal(err)
			}
			emuClock.Advance(tt.serverStep)
			local.Advance(time.Second)
			got, err := tr.pollPass(ctx, "emu")
			if err != nil {
				t.Fatal(err)
			}
			if d := got - max(tt.want, pollMin); d < -time.Millisecond || d > time.Millisecond {
				t.Errorf("next poll in %s, want %s", got, max(tt.want, pollMin))
			}
			if _, fast := tr.pollStateOf("emu").pace.Accelerated(); fast != (tt.ahead > 0) {
				t.Errorf("accelerated = %v, want %v", fast, tt.ahead > 0)
			}
		})
	}
}
