package orchestrate_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
	"github.com/dbtlink/dbtlink/internal/orchestrate"
)

func TestWait(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		job  int64
		opts orchestrate.WaitOptions
		// onUpdate runs on every poll, with the bundle and a cancel for ctx.
		onUpdate  func(b *bundle, run *dbtcloud.Run, cancel context.CancelFunc)
		wantState dbtcloud.RunStatus // of the returned run
		wantErr   error
		// wantEmulator is the run's status in the emulator afterwards.
		wantEmulator  int
		wantCancelled bool // TimeoutError.Cancelled
	}{
		{name: "success", job: emulator.DemoDailyJobID, wantState: dbtcloud.RunStatusSuccess, wantEmulator: emulator.StatusSuccess},
		{name: "error", job: emulator.DemoFailingJobID, wantState: dbtcloud.RunStatusError, wantEmulator: emulator.StatusError},
		{name: "fixed poll", job: emulator.DemoDailyJobID, opts: orchestrate.WaitOptions{Poll: 10 * time.Second}, wantState: dbtcloud.RunStatusSuccess, wantEmulator: emulator.StatusSuccess},
		{name: "job timeout in dbt Cloud ends cancelled", job: emulator.DemoSlowJobID, wantState: dbtcloud.RunStatusCancelled, wantEmulator: emulator.StatusCancelled},
		{
			name: "cancelled by someone else", job: emulator.DemoSlowJobID,
			onUpdate: func(b *bundle, run *dbtcloud.Run, _ context.CancelFunc) {
				if run.Status == dbtcloud.RunStatusRunning {
					if _, _, err := b.client.Runs.Cancel(context.Background(), b.acct, run.ID); err != nil {
						panic(err)
					}
				}
			},
			wantState: dbtcloud.RunStatusCancelled, wantEmulator: emulator.StatusCancelled,
		},
		{
			name: "context cancelled", job: emulator.DemoSlowJobID,
			onUpdate:  func(_ *bundle, _ *dbtcloud.Run, cancel context.CancelFunc) { cancel() },
			wantState: dbtcloud.RunStatusQueued, wantErr: context.Canceled, wantEmulator: emulator.StatusQueued,
		},
		{
			name: "timeout leaves the run running", job: emulator.DemoSlowJobID, opts: orchestrate.WaitOptions{Timeout: 2 * time.Minute},
			wantState: dbtcloud.RunStatusRunning, wantErr: orchestrate.ErrWaitTimeout, wantEmulator: emulator.StatusRunning,
		},
		{
			name: "timeout with cancel", job: emulator.DemoSlowJobID, opts: orchestrate.WaitOptions{Timeout: 2 * time.Minute, CancelOnTimeout: true},
			wantState: dbtcloud.RunStatusRunning, wantErr: orchestrate.ErrWaitTimeout, wantEmulator: emulator.StatusCancelled, wantCancelled: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			run := b.trigger(t, tt.job)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			opts := tt.opts
			opts.Clock = b.stepped
			var updates int
			opts.OnUpdate = func(r *dbtcloud.Run) {
				updates++
				if tt.onUpdate != nil {
					tt.onUpdate(b, r, cancel)
				}
			}
			got, err := orchestrate.Wait(ctx, b.client, b.acct, run.ID, opts)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Wait err = %v, want %v", err, tt.wantErr)
			}
			if got == nil || got.Status != tt.wantState {
				t.Fatalf("Wait returned run %+v, want status %v", got, tt.wantState)
			}
			if updates == 0 {
				t.Error("OnUpdate was never called")
			}
			if st := b.emulatorRun(t, run.ID).Status; st != tt.wantEmulator {
				t.Errorf("emulator run status %d, want %d", st, tt.wantEmulator)
			}
			var te *orchestrate.TimeoutError
			if errors.As(err, &te) && te.Cancelled != tt.wantCancelled {
				t.Errorf("TimeoutError.Cancelled = %v, want %v (%v)", te.Cancelled, tt.wantCancelled, err)
			}
		})
	}
}

func TestWaitToleratesFailedPolls(t *testing.T) {
	t.Parallel()
	b := setup(t)
	run := b.trigger(t, emulator.DemoDailyJobID)
	// Every attempt of the first two polls fails (the client makes 3).
	if _, err := b.srv.InjectFault(emulator.Fault{Method: "GET", Path: "/api/v2/accounts/{a}/runs/{r}/", Kind: emulator.FaultStatus, Status: 503, Times: 6}); err != nil {
		t.Fatal(err)
	}
	var pollErrs int
	got, err := orchestrate.Wait(t.Context(), b.client, b.acct, run.ID, orchestrate.WaitOptions{
		Clock: b.stepped, OnPollError: func(error) { pollErrs++ },
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != dbtcloud.RunStatusSuccess {
		t.Errorf("status %v", got.Status)
	}
	if pollErrs != 2 {
		t.Errorf("OnPollError called %d times, want 2", pollErrs)
	}
}

func TestWaitGivesUp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		runID   int64 // 0: a real run
		fault   *emulator.Fault
		wantErr error
	}{
		{name: "unknown run at once", runID: 424242, wantErr: dbtcloud.ErrNotFound},
		{name: "dbt Cloud down past MaxErrorDuration", fault: &emulator.Fault{Path: "/api/", Kind: emulator.FaultStatus, Status: 503, Times: -1}, wantErr: dbtcloud.ErrServer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			id := tt.runID
			if id == 0 {
				id = b.trigger(t, emulator.DemoDailyJobID).ID
			}
			if tt.fault != nil {
				if _, err := b.srv.InjectFault(*tt.fault); err != nil {
					t.Fatal(err)
				}
			}
			_, err := orchestrate.Wait(t.Context(), b.client, b.acct, id, orchestrate.WaitOptions{
				Clock: b.stepped, MaxErrorDuration: 5 * time.Minute, ExpectedDuration: -1,
			})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestWaitUsesSteps checks that run_steps are fetched only when asked for.
func TestWaitUsesSteps(t *testing.T) {
	t.Parallel()
	for _, steps := range []bool{false, true} {
		b := setup(t)
		run := b.trigger(t, emulator.DemoDailyJobID)
		got, err := orchestrate.Wait(t.Context(), b.client, b.acct, run.ID, orchestrate.WaitOptions{Clock: b.stepped, Steps: steps})
		if err != nil {
			t.Fatal(err)
		}
		if has := len(got.RunSteps) > 0; has != steps {
			t.Errorf("Steps=%v: run came with %d steps", steps, len(got.RunSteps))
		}
	}
}

func TestScheduleNext(t *testing.T) {
	t.Parallel()
	s := time.Second
	tests := []struct {
		name     string
		sched    orchestrate.Schedule
		age      time.Duration
		want     time.Duration
		describe string
	}{
		{name: "fixed", sched: orchestrate.Schedule{Fixed: 60 * s}, age: 5 * s, want: 60 * s},
		{name: "cold start", age: 0, want: 3 * s},
		{name: "cold, a third of the age", age: 90 * s, want: 30 * s},
		{name: "cold, capped at a minute", age: time.Hour, want: 60 * s},
		// E = 10m: early interval = age within [60s, 75s]; points at 9m30s and 10m01s.
		{name: "warm, young run", sched: orchestrate.Schedule{Expected: 10 * time.Minute}, age: 10 * s, want: 60 * s},
		{name: "warm, interval grows with age", sched: orchestrate.Schedule{Expected: 10 * time.Minute}, age: 70 * s, want: 70 * s},
		{name: "warm, early cap", sched: orchestrate.Schedule{Expected: 10 * time.Minute}, age: 4 * time.Minute, want: 75 * s},
		{name: "warm, lands before the end", sched: orchestrate.Schedule{Expected: 10 * time.Minute}, age: 9 * time.Minute, want: 30 * s},
		{name: "warm, then just after the end", sched: orchestrate.Schedule{Expected: 10 * time.Minute}, age: 570 * s, want: 31 * s},
		{name: "warm, overrunning: dense", sched: orchestrate.Schedule{Expected: 10 * time.Minute}, age: 610 * s, want: 15 * s},
		{name: "warm, long overrun: cold", sched: orchestrate.Schedule{Expected: 10 * time.Minute}, age: 20 * time.Minute, want: 60 * s},
		{name: "warm, a hair before the end: floor", sched: orchestrate.Schedule{Expected: 10 * time.Minute}, age: 601*s - time.Millisecond, want: s},
		// E = 2m: no point before the end (the window would be 6s).
		{name: "short job, straight to the end", sched: orchestrate.Schedule{Expected: 2 * time.Minute}, age: 100 * s, want: 21 * s},
		// E = 40m: early interval up to 5m.
		{name: "long job, early cap", sched: orchestrate.Schedule{Expected: 40 * time.Minute}, age: 20 * time.Minute, want: 5 * time.Minute},
	}
	for _, tt := range tests {
		if got := tt.sched.Next(tt.age); got != tt.want {
			t.Errorf("%s: Next(%v) = %v, want %v", tt.name, tt.age, got, tt.want)
		}
	}
}

// TestScheduleBeatsFixedMinute simulates the schedule for runs that last as
// long as their predecessor and checks the claim in the package doc: fewer
// calls than one a minute once a run is a few minutes long, and detection
// within seconds of the end.
func TestScheduleBeatsFixedMinute(t *testing.T) {
	t.Parallel()
	// Durations are not whole minutes: a fixed minute would otherwise see
	// the end the instant it happens.
	for _, d := range []time.Duration{197 * time.Second, 12*time.Minute + 40*time.Second, 41*time.Minute + 5*time.Second, 3*time.Hour + 7*time.Minute + 13*time.Second} {
		ours, lag := simulate(orchestrate.Schedule{Expected: d}, d)
		airflow, airflowLag := simulate(orchestrate.Schedule{Fixed: time.Minute}, d)
		if ours > airflow || lag > 2*time.Second || lag >= airflowLag {
			t.Errorf("run of %v: ours %d calls, lag %v; one a minute %d calls, lag %v", d, ours, lag, airflow, airflowLag)
		}
	}
	// Without history the schedule never polls slower than once a minute.
	for _, d := range []time.Duration{45 * time.Second, 12 * time.Minute} {
		_, lag := simulate(orchestrate.Schedule{}, d)
		if lag > time.Minute {
			t.Errorf("cold run of %v detected %v late", d, lag)
		}
	}
}

// simulate counts the polls of a run that ends at d (the first one at age
// 0) and how late its end is seen.
func simulate(s orchestrate.Schedule, d time.Duration) (calls int, lag time.Duration) {
	var age time.Duration
	for {
		calls++
		if age >= d {
			return calls, age - d
		}
		age += s.Next(age)
	}
}

// TestWaitTimeoutSaysQueuedOrRunning: the timeout message describes the
// run as the last poll read it, so a run that never left the queue is not
// called "still running".
func TestWaitTimeoutSaysQueuedOrRunning(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		timeout time.Duration
		want    string
	}{
		{time.Second, "; it is still queued in dbt Cloud (follow it with `dbtlink run watch "},
		{2 * time.Minute, "; it is still running in dbt Cloud (follow it with `dbtlink run watch "},
	} {
		b := setup(t)
		run := b.trigger(t, emulator.DemoSlowJobID)
		last, err := orchestrate.Wait(t.Context(), b.client, b.acct, run.ID, orchestrate.WaitOptions{Clock: b.stepped, Timeout: tt.timeout})
		var te *orchestrate.TimeoutError
		if !errors.As(err, &te) {
			t.Fatalf("timeout %v: err = %v", tt.timeout, err)
		}
		if te.LastStatus != last.Status {
			t.Errorf("LastStatus %v, last run read %v", te.LastStatus, last.Status)
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("timeout %v (run %v): %q lacks %q", tt.timeout, last.Status, err, tt.want)
		}
	}
	te := &orchestrate.TimeoutError{RunID: 5, After: time.Minute, LastStatus: dbtcloud.RunStatusQueued, CancelErr: errors.New("boom")}
	if got, want := te.Error(), "run 5 did not finish within 1m0s; cancelling it failed (boom), so it may still be queued"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestWaitOnSchedule: every sleep is announced with its length, and the
// announced sleeps are exactly the time the poller waited.
func TestWaitOnSchedule(t *testing.T) {
	t.Parallel()
	b := setup(t)
	run := b.trigger(t, emulator.DemoDailyJobID)
	start := b.stepped.Now()
	var total time.Duration
	var n int
	got, err := orchestrate.Wait(t.Context(), b.client, b.acct, run.ID, orchestrate.WaitOptions{
		Clock: b.stepped, Poll: 7 * time.Second,
		OnSchedule: func(d time.Duration) { n++; total += d },
	})
	if err != nil || got.Status != dbtcloud.RunStatusSuccess {
		t.Fatalf("Wait: %v, %v", got, err)
	}
	if n == 0 || total != 7*time.Second*time.Duration(n) || b.stepped.Now().Sub(start) != total {
		t.Errorf("%d sleeps announced, %v in all; the clock moved %v", n, total, b.stepped.Now().Sub(start))
	}
}
