package orchestrate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
)

// ErrWaitTimeout is matched (errors.Is) by the error Wait returns when its
// timeout passed before the run finished.
var ErrWaitTimeout = errors.New("timed out waiting for the run")

// TimeoutError is the error Wait returns at its deadline. It matches
// ErrWaitTimeout.
type TimeoutError struct {
	RunID int64
	After time.Duration
	// LastStatus is the run's status at the last successful poll (0 when
	// none succeeded), so the message can say "still queued" of a run that
	// never started.
	LastStatus dbtcloud.RunStatus
	// Cancelled is true when WaitOptions.CancelOnTimeout was set and the
	// cancel request succeeded; CancelErr says why it did not.
	Cancelled bool
	CancelErr error
}

func (e *TimeoutError) Error() string {
	msg := fmt.Sprintf("run %d did not finish within %s", e.RunID, e.After)
	state := "running"
	if e.LastStatus == dbtcloud.RunStatusQueued {
		state = "queued"
	}
	switch {
	case e.Cancelled:
		msg += "; it was cancelled in dbt Cloud"
	case e.CancelErr != nil:
		msg += fmt.Sprintf("; cancelling it failed (%v), so it may still be %s", e.CancelErr, state)
	default:
		msg += fmt.Sprintf("; it is still %s in dbt Cloud (follow it with `dbtlink run watch %d`)", state, e.RunID)
	}
	return msg
}

// Is makes errors.Is(err, ErrWaitTimeout) true.
func (e *TimeoutError) Is(target error) bool { return target == ErrWaitTimeout }

// Clock is the time source of Wait: production uses the real clock, tests
// and the benchmark a simulated one, so no test sleeps.
type Clock interface {
	Now() time.Time
	// After is time.After: the channel receives once d has passed.
	After(d time.Duration) <-chan time.Time
}

// RealClock is the wall clock.
type RealClock struct{}

// Now is time.Now.
func (RealClock) Now() time.Time { return time.Now() }

// After is time.After.
func (RealClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// SteppedClock drives simulated time, such as an emulator's FakeClock: After
// moves the clock forward by d at once and returns a channel that is
// already ready. Waiting on it therefore takes no real time, and the run
// being waited for advances exactly as far as the poller sleeps. It is for
// tests and benchmarks with a single waiter.
type SteppedClock struct {
	Clock interface {
		Now() time.Time
		Advance(time.Duration)
	}
}

// Now reads the underlying clock.
func (c SteppedClock) Now() time.Time { return c.Clock.Now() }

// After advances the underlying clock by d and returns a ready channel.
func (c SteppedClock) After(d time.Duration) <-chan time.Time {
	c.Clock.Advance(d)
	ch := make(chan time.Time, 1)
	ch <- c.Clock.Now()
	return ch
}

// WaitOptions configure Wait. The zero value waits forever with the
// adaptive schedule on the real clock.
type WaitOptions struct {
	// Timeout bounds the wait; 0 means no limit.
	Timeout time.Duration
	// Poll is a fixed interval between polls; 0 means the adaptive
	// schedule described in the package documentation.
	Poll time.Duration
	// CancelOnTimeout cancels the run in dbt Cloud when Timeout passes.
	CancelOnTimeout bool
	// Clock defaults to RealClock.
	Clock Clock
	// ExpectedDuration seeds the adaptive schedule. 0 means: look up the
	// job's latest successful run (one extra API call); negative means no
	// history (cold schedule).
	ExpectedDuration time.Duration
	// JobID lets the history lookup start before the first poll; when 0
	// it is read from the first poll.
	JobID int64
	// Initial is the run as the caller already has it (from the trigger
	// answer, or a read of its own); when set, Wait skips the poll at age
	// 0, which could only say the same again, and starts with the first
	// scheduled one. An Initial that already ended is returned as it is,
	// with no call to dbt Cloud.
	Initial *dbtcloud.Run
	// Steps asks for run_steps with every poll, for progress displays that
	// show them.
	Steps bool
	// OnUpdate is called with every run read (including the final one).
	OnUpdate func(*dbtcloud.Run)
	// OnPollError is called when a poll fails and Wait carries on.
	OnPollError func(error)
	// OnSchedule is called before each sleep with how long it will last,
	// so a display can say when the next status check is due.
	OnSchedule func(next time.Duration)
	// MaxErrorDuration is how long polls may keep failing in a row (after
	// the client's own retries) before Wait gives up with the last error.
	// 0 means 10 minutes.
	MaxErrorDuration time.Duration
}

// Wait polls run runID until it is Success, Error or Cancelled and returns
// it. At the deadline it returns the last run read (possibly nil) and a
// *TimeoutError (matching ErrWaitTimeout), after cancelling the run if
// asked to. When ctx ends it returns the last run read and ctx.Err().
//
// Failed polls are tolerated (the client has already retried them) until
// the deadline or MaxErrorDuration, except 401, 403 and 404, which no
// amount of waiting fixes and which are returned at once.
func Wait(ctx context.Context, client *dbtcloud.Client, accountID, runID int64, opts WaitOptions) (*dbtcloud.Run, error) {
	clock := opts.Clock
	if clock == nil {
		clock = RealClock{}
	}
	maxErr := opts.MaxErrorDuration
	if maxErr <= 0 {
		maxErr = 10 * time.Minute
	}
	if in := opts.Initial; in != nil && in.ID == runID && in.Status.Terminal() {
		if opts.OnUpdate != nil {
			opts.OnUpdate(in)
		}
		return in, nil
	}
	begin := clock.Now()
	var deadline time.Time
	if opts.Timeout > 0 {
		deadline = begin.Add(opts.Timeout)
	}
	sched := Schedule{Fixed: opts.Poll}
	historyKnown := opts.Poll > 0 || opts.ExpectedDuration != 0
	if opts.ExpectedDuration > 0 {
		sched.Expected = opts.ExpectedDuration
	}
	lookHistory := func(jobID int64) {
		historyKnown = true
		if jobID > 0 {
			sched.Expected = previousDuration(ctx, client, accountID, jobID)
		}
	}
	if !historyKnown && opts.JobID > 0 {
		lookHistory(opts.JobID)
	}
	var getOpts *dbtcloud.RunGetOptions
	if opts.Steps {
		getOpts = &dbtcloud.RunGetOptions{IncludeRelated: []string{"run_steps"}}
	}

	var last *dbtcloud.Run
	var pc Pace    // how fast dbt Cloud's clock runs (see Pace)
	start := begin // the run's age is measured from its creation when known
	var failingSince time.Time
	skip := opts.Initial != nil && opts.Initial.ID == runID
	for {
		var run *dbtcloud.Run
		var err error
		if skip {
			skip, run = false, opts.Initial
		} else {
			run, _, err = client.Runs.Get(ctx, accountID, runID, getOpts)
		}
		now := clock.Now()
		switch {
		case ctx.Err() != nil:
			return last, ctx.Err()
		case err != nil:
			if errors.Is(err, dbtcloud.ErrUnauthorized) || errors.Is(err, dbtcloud.ErrForbidden) || errors.Is(err, dbtcloud.ErrNotFound) {
				return last, fmt.Errorf("get run %d: %w", runID, err)
			}
			if failingSince.IsZero() {
				failingSince = now
			}
			if now.Sub(failingSince) >= maxErr {
				return last, fmt.Errorf("get run %d: dbt Cloud has not answered for %s: %w", runID, now.Sub(failingSince).Round(time.Second), err)
			}
			if opts.OnPollError != nil {
				opts.OnPollError(err)
			}
		default:
			failingSince = time.Time{}
			if last == nil && !run.CreatedAt.IsZero() && run.CreatedAt.Before(start) {
				start = run.CreatedAt.Time
			}
			last = run
			pc.Observe(run, now)
			if opts.OnUpdate != nil {
				opts.OnUpdate(run)
			}
			if run.Status.Terminal() {
				return run, nil
			}
			if !historyKnown {
				lookHistory(run.JobDefinitionID)
			}
		}

		if !deadline.IsZero() && !now.Before(deadline) {
			return last, timeout(ctx, client, accountID, runID, last, opts)
		}
		if ctx.Err() != nil {
			return last, ctx.Err()
		}
		d := sched.Next(now.Sub(start))
		if opts.Poll <= 0 && last != nil {
			d = pc.Adjust(sched, d, last.CreatedAt.Time, now)
		}
		if !deadline.IsZero() {
			d = min(d, deadline.Sub(now))
		}
		if opts.OnSchedule != nil {
			opts.OnSchedule(d)
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-clock.After(d):
		}
	}
}

func timeout(ctx context.Context, client *dbtcloud.Client, accountID, runID int64, last *dbtcloud.Run, opts WaitOptions) error {
	te := &TimeoutError{RunID: runID, After: opts.Timeout}
	if last != nil {
		te.LastStatus = last.Status
	}
	if opts.CancelOnTimeout {
		if _, _, err := client.Runs.Cancel(ctx, accountID, runID); err != nil {
			te.CancelErr = err
		} else {
			te.Cancelled = true
		}
	}
	return te
}

// previousDuration is how long the job's latest successful run took from
// creation to finish, or 0 when unknown. A failed lookup only costs
// precision, so its error is dropped.
func previousDuration(ctx context.Context, client *dbtcloud.Client, accountID, jobID int64) time.Duration {
	runs, _, err := client.Runs.List(ctx, accountID, &dbtcloud.RunListOptions{
		JobDefinitionID: jobID,
		Status:          dbtcloud.RunStatusSuccess,
		OrderBy:         "-id",
		ListOptions:     dbtcloud.ListOptions{Limit: 1},
	})
	if err != nil || len(runs) == 0 {
		return 0
	}
	r := runs[0]
	if r.CreatedAt.IsZero() || r.FinishedAt.IsZero() || !r.FinishedAt.After(r.CreatedAt.Time) {
		return 0
	}
	return r.FinishedAt.Sub(r.CreatedAt.Time)
}

// Schedule decides how long to wait before the next poll of a run of a
// given age. See the package documentation for the reasoning.
type Schedule struct {
	// Fixed, when positive, is used for every interval.
	Fixed time.Duration
	// Expected is the expected duration of the run; 0 means unknown.
	Expected time.Duration
}

// Bounds of the schedule.
const (
	coldMin  = 3 * time.Second
	coldMax  = 60 * time.Second
	justPast = time.Second // poll this long after the expected end
)

// Next returns the delay before the next poll of a run that is age old.
func (s Schedule) Next(age time.Duration) time.Duration {
	if s.Fixed > 0 {
		return s.Fixed
	}
	age = max(age, 0)
	cold := clamp(age/3, coldMin, coldMax)
	e := s.Expected
	if e <= 0 {
		return cold
	}
	end := e + justPast
	if age < end {
		// Sparse while the run is young: the interval grows with the age,
		// from min(E/3, 1m) up to clamp(E/8, 60s, 5m). It never jumps
		// over the two points of interest: E - E/20 (for runs of 10
		// minutes or more, whose end varies by more than a poll) and just
		// after E.
		hi := clamp(e/8, time.Minute, 5*time.Minute)
		lo := min(e/3, time.Minute)
		d := clamp(age, lo, hi)
		next := end
		if w := e / 20; w >= 30*time.Second && age < e-w-time.Second {
			next = e - w
		}
		// The floor keeps a poll that lands a hair before a point from
		// being followed by another one at once.
		return max(min(d, next-age), time.Second)
	}
	if age < e+max(e/5, 30*time.Second) {
		// Overrunning: the run is late, not necessarily long; look often.
		return clamp(e/40, 2*time.Second, 30*time.Second)
	}
	return cold
}

func clamp(d, lo, hi time.Duration) time.Duration { return min(max(d, lo), hi) }
