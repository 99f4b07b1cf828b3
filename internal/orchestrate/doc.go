// Package orchestrate holds the policies dbtlink applies on top of the dbt
// Cloud client when it runs jobs: finding a job by names, triggering (or
// attaching to a run already in flight, or rerunning from failure),
// waiting for a run with adaptive polling and a deadline, and summarising
// why a run failed. It never prints: callers (the CLI today, a long-running
// server later) get progress through callbacks and decide how to show it.
//
// # Polling schedule
//
// Airflow's dbt Cloud operator asks for the run at once and then once a
// minute. That costs one call per minute and notices the end of the run
// 30 s late on average (up to 60 s). Wait does better by using what it
// knows:
//
//   - When the job has succeeded before, the duration of its latest
//     successful run (created to finished) is the expected duration E.
//     While the run is young Wait polls sparsely: the interval equals the
//     run's age, at least min(E/3, 1 min) and at most clamp(E/8, 1 min,
//     5 min), so a run that fails early is still seen within minutes. It
//     lands one poll just after E and, for runs of 10 minutes or more
//     (whose end varies by more than a poll), one at E - E/20. A run that
//     behaves like its predecessor is therefore seen about a second after
//     it ends. Past E it polls every clamp(E/40, 2 s, 30 s) for
//     max(E/5, 30 s), then falls back to the cold schedule.
//   - Without history (a new job) the interval is a third of the run's
//     age, between 3 s and 60 s: short runs are seen quickly, and a long
//     run never costs more than one call a minute, the same as Airflow.
//
// The price of sparse early polling on a long job is that a run failing
// early is noticed up to clamp(E/8, 1 min, 5 min) late, where Airflow
// takes up to a minute; a fixed --poll restores that if it matters.
//
// When the caller passes the run it got from the trigger or has just read
// (WaitOptions.Initial), the poll at age 0 is skipped: it could only say
// the same again. A run passed that way that already ended is returned at
// once.
//
// Ages and E are read on dbt Cloud's clock. Against a server whose clock
// runs clearly faster than ours (the local emulator with --speed), which
// Wait measures from the created_at and duration of the runs it reads, the
// schedule's delays are divided by that rate, so a 73-second job at speed
// 20 is seen to end within a second of its 3.7 real seconds. Real dbt Cloud
// runs at our speed and is polled exactly as above; a clock that looks far
// ahead at the first read costs one early read to find that out. See Pace.
//
// A fixed interval (WaitOptions.Poll) replaces the schedule. Schedule.Next
// computes it and is unit-tested; bench/pollbench measures it against
// Airflow's pattern on the emulator.
package orchestrate
