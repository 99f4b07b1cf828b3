// Package orchestrate holds the policies dbtlink applies on top of the dbt
// Cloud client when it runs jobs: finding a job by names, triggering (or
// attaching to a run already in flight, or rerunning from failure),
// waiting for a run with adaptive polling and a deadline, and summarising
// why a run failed. It never prints: callers (the CLI today, a long-running
// server later) get progress through callbacks and decide how to show it.
//
// # Polling schedule
//
// Airflow's dbt Cloud operator asks for the run once a minute. That costs
// one call per minute and notices the end of the run 30 s late on average
// (up to 60 s). Wait does better on both counts by using what it knows:
//
//   - When the job has finished before, the duration of its latest
//     successful run (created to finished) is the expected duration E.
//     Wait polls sparsely while the run is young (every age/2, at least
//     E/10 and at most clamp(E/8, 60 s, 5 min)), lands one poll at E - w,
//     where w = clamp(E/20, 3 s, 90 s), one just after E, and then polls
//     every clamp(w/2, 2 s, 30 s) until E + 4w. A run that behaves like its
//     predecessor is therefore seen within about a second of its end, for
//     far fewer calls than one a minute.
//   - Without history (a new job, or a run past its expected window) the
//     interval is a third of the run's age, between 3 s and 60 s: short
//     runs are seen quickly, and a long run never costs more than one call
//     a minute, the same as Airflow.
//
// A fixed interval (WaitOptions.Poll) replaces the schedule. Schedule.Next
// computes it and is unit-tested; bench/pollbench measures it against
// Airflow's pattern on the emulator.
package orchestrate
