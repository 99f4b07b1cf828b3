package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
)

// The baseline is Airflow's pattern for dbt Cloud: DbtCloudRunJobOperator
// (wait_for_termination) and DbtCloudJobRunSensor trigger a run, then GET
// it once per check_interval / poke_interval (default 60 s) until it ends.
// It runs in a child process of its own (this program again, with
// -sensor-child), so that its memory is measured apart from the
// emulator's, like the server's.
//
// The child triggers every run first, paced like the server (its default
// budget of dbt Cloud calls), and only then starts watching: each sensor
// polls on the grid it would have had from its trigger on, starting with
// its first poke after the last trigger. So every run is in flight at
// once, as on the server's side, and the triggers never meet the rate
// limit. That is kinder to Airflow than a real DAG, whose sensors poll
// while the triggers go out and trip dbt Cloud's limit sooner.

// sensorConfig is what the parent hands the child, as JSON in a file.
type sensorConfig struct {
	URL         string        `json:"url"`
	Token       string        `json:"token"`
	Account     int64         `json:"account"`
	Jobs        []int64       `json:"jobs"`     // in creation order
	Interval    time.Duration `json:"interval"` // real time
	TriggerRPM  int           `json:"trigger_rpm"`
	Concurrency int           `json:"concurrency"`
	MaxBackoff  time.Duration `json:"max_backoff"` // real time
	Deadline    time.Time     `json:"deadline"`
}

// sensorResult is what the child answers on standard output.
type sensorResult struct {
	Start         time.Time   `json:"start"`
	TriggerEnd    time.Time   `json:"trigger_end"`
	TriggerErrors int         `json:"trigger_errors"`
	FirstError    string      `json:"first_error,omitempty"`
	Runs          []sensorRun `json:"runs"`
}

type sensorRun struct {
	Job   int64 `json:"job"`
	RunID int64 `json:"run_id"`
	// Detected is when the GET that saw the end was sent (see sensor).
	Detected time.Time     `json:"detected"`
	Status   int           `json:"status"`
	Gets     int           `json:"gets"`
	FirstGet time.Time     `json:"first_get"`
	LastGet  time.Time     `json:"last_get"`
	Latency  time.Duration `json:"latency"` // summed over the GETs
	Got429   int           `json:"got_429"`
	Errors   int           `json:"errors"`
	Missed   int           `json:"missed"` // ticks skipped: a GET outlasted the interval
}

// sensorChild is the child's main.
func sensorChild(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var cfg sensorConfig
	if err := json.Unmarshal(b, &cfg); err != nil {
		return err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost, tr.MaxConnsPerHost = 1024, 1024, 1024
	hc := &http.Client{Transport: tr}
	// Triggers are paced like the server's (its default budget of dbt
	// Cloud calls) and retried on 429 after the cooldown, so every run
	// exists in the end; sensors' GETs are neither paced nor retried: a
	// refused poke is simply tried again one interval later.
	trig, err := dbtcloud.NewClient(cfg.URL, cfg.Token, dbtcloud.WithHTTPClient(hc), dbtcloud.WithRateLimit(cfg.TriggerRPM),
		dbtcloud.WithRetryPolicy(dbtcloud.RetryPolicy{MaxAttempts: 1000, MinBackoff: cfg.MaxBackoff / 300, MaxBackoff: cfg.MaxBackoff,
			MaxElapsed: time.Until(cfg.Deadline)}))
	if err != nil {
		return err
	}
	poke, err := dbtcloud.NewClient(cfg.URL, cfg.Token, dbtcloud.WithHTTPClient(hc), dbtcloud.WithRateLimit(1<<30),
		dbtcloud.WithRetryPolicy(dbtcloud.RetryPolicy{MaxAttempts: 1}), dbtcloud.WithTimeout(5*time.Minute))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithDeadline(context.Background(), cfg.Deadline)
	defer cancel()

	res := sensorResult{Start: time.Now(), Runs: make([]sensorRun, len(cfg.Jobs))}
	var triggered, detected, gets, got429 atomic.Int64
	var sensors sync.WaitGroup
	// sensor GETs the run on a fixed grid, from first on, one interval
	// apart, until it has ended. Airflow sleeps poke_interval after each
	// answer, which against dbt Cloud (answers in well under a second) is
	// the same grid; against the emulator, which answers slowly while
	// 10,000 runs are in flight (each request costs it O(runs in flight)
	// under one lock), sleeping after the answer would stretch the
	// interval. For the same reason the parent takes the moment the
	// emulator answered the GET that saw the end (see runBaseline), not
	// the moment the answer came back here.
	sensor := func(r *sensorRun, first time.Time) {
		next := first
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(next)):
			}
			sent := time.Now()
			if r.FirstGet.IsZero() {
				r.FirstGet = sent
			}
			r.LastGet = sent
			run, _, err := poke.Runs.Get(ctx, cfg.Account, r.RunID, nil)
			r.Latency += time.Since(sent)
			r.Gets++
			gets.Add(1)
			var ae *dbtcloud.APIError
			switch {
			case err == nil && run.Status.Terminal():
				r.Detected, r.Status = sent, int(run.Status)
				detected.Add(1)
				return
			case errors.As(err, &ae) && ae.StatusCode == http.StatusTooManyRequests:
				r.Got429++
				got429.Add(1)
			case err != nil:
				r.Errors++
			}
			next = next.Add(cfg.Interval)
			for !next.After(time.Now()) {
				next = next.Add(cfg.Interval)
				r.Missed++
			}
		}
	}
	stopProgress := make(chan struct{})
	go func() {
		t := time.NewTicker(15 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stopProgress:
				return
			case <-t.C:
				fmt.Fprintf(os.Stderr, "servebench: baseline: +%s real: triggered %d, ended and seen %d; GETs %d (429: %d)\n",
					time.Since(res.Start).Round(time.Second), triggered.Load(), detected.Load(), gets.Load(), got429.Load())
			}
		}
	}()
	var next atomic.Int64
	var errs atomic.Int64
	var once sync.Once
	var triggers sync.WaitGroup
	triggeredAt := make([]time.Time, len(cfg.Jobs))
	for range cfg.Concurrency {
		triggers.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(cfg.Jobs) || ctx.Err() != nil {
					return
				}
				r := &res.Runs[i]
				r.Job = cfg.Jobs[i]
				run, _, err := trig.Runs.Trigger(ctx, cfg.Account, r.Job, &dbtcloud.TriggerRunRequest{Cause: "servebench baseline"})
				if err != nil {
					errs.Add(1)
					once.Do(func() { res.FirstError = err.Error() })
					continue
				}
				r.RunID, triggeredAt[i] = run.ID, time.Now()
				triggered.Add(1)
			}
		})
	}
	triggers.Wait()
	res.TriggerEnd = time.Now()
	res.TriggerErrors = int(errs.Load())
	// Each sensor keeps the phase it would have had if it had started with
	// its trigger, from its first poke after the last trigger on.
	for i := range res.Runs {
		r := &res.Runs[i]
		if r.RunID == 0 {
			continue
		}
		behind := res.TriggerEnd.Sub(triggeredAt[i])
		k := (behind + cfg.Interval - 1) / cfg.Interval
		first := triggeredAt[i].Add(k * cfg.Interval)
		sensors.Go(func() { sensor(r, first) })
	}
	sensors.Wait()
	close(stopProgress)
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		return err
	}
	// Stay alive until the parent has read our peak memory.
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}

// runBaseline is the comparison side, on a fresh emulator with the same seed.
func runBaseline(ctx context.Context, cfg *config, ps []plan) (*sideResult, error) {
	em, err := startEmulator(ps, cfg.Speed, cfg.behind())
	if err != nil {
		return nil, err
	}
	defer em.close()
	jobs := make([]int64, len(ps))
	for i, p := range ps {
		jobs[i] = p.JobID
	}
	start := time.Now()
	scfg := sensorConfig{URL: em.url, Token: benchToken, Account: accountID, Jobs: jobs,
		Interval: cfg.real(cfg.AirflowPoll), TriggerRPM: cfg.realRPM(), Concurrency: cfg.CreateConc,
		MaxBackoff: cfg.real(5 * time.Minute), Deadline: start.Add(cfg.phaseTimeout())}
	f, err := os.CreateTemp("", "svbench-sensor-*.json")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	if err := json.NewEncoder(f).Encode(scfg); err != nil {
		return nil, err
	}
	f.Close()
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-sensor-child", f.Name())
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "servebench: baseline: triggering %d runs directly (%d at a time, at most %d calls per emulated minute), then watching each with one GET every %s emulated (%s real)\n",
		len(ps), cfg.CreateConc, cfg.RPM, cfg.AirflowPoll, cfg.real(cfg.AirflowPoll))
	benchCPU0 := selfCPU()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	sampler := sampleProc(cmd.Process.Pid, 200*time.Millisecond)
	var out sensorResult
	decErr := json.NewDecoder(stdout).Decode(&out)
	stats := sampler.finish()
	stats.CPUSeconds, _ = readCPU(cmd.Process.Pid)
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("baseline child: %w", err)
	}
	if decErr != nil {
		return nil, fmt.Errorf("baseline child's answer: %w", decErr)
	}
	infos := em.e.Runs()
	total := em.count.snapshot()

	res := &sideResult{Name: "Airflow sensor pattern", Runs: len(ps), Interval: cfg.AirflowPoll.Seconds(),
		IntervalNote: fmt.Sprintf("one GET per run every %s emulated (%s real)", cfg.AirflowPoll, cfg.real(cfg.AirflowPoll)), Proc: stats}
	res.ClockDriftEmuSeconds = em.cmap.drift(em.clock).Seconds()
	res.Create = phaseFigures{RealSeconds: out.TriggerEnd.Sub(out.Start).Seconds(), Errors: out.TriggerErrors}
	res.Create.PerSecond = float64(len(ps)-out.TriggerErrors) / res.Create.RealSeconds
	res.TriggerRealSeconds = res.Create.RealSeconds
	if out.FirstError != "" {
		res.Notes = append(res.Notes, fmt.Sprintf("%d triggers failed; first: %s", out.TriggerErrors, out.FirstError))
	}
	// A run is seen when the emulator answered the GET that saw its end,
	// the run's last: its handler returned then, with the state as of that
	// moment. Queueing for the emulator's lock before it is left out (dbt
	// Cloud answers at once), and so is the way back to the sensor.
	seen := map[int64]time.Time{}
	for _, r := range out.Runs {
		if r.RunID == 0 || r.Detected.IsZero() {
			continue
		}
		if t := em.count.lastGet(r.RunID); !t.IsZero() {
			seen[r.RunID] = t
		} else {
			seen[r.RunID] = r.Detected
		}
	}
	res.fill(cfg, em.cmap, infos, seen, out.Start)
	var every, latency []float64
	for _, r := range out.Runs {
		if r.Gets > 1 {
			every = append(every, r.LastGet.Sub(r.FirstGet).Seconds()/float64(r.Gets-1)*cfg.Speed)
		}
		if r.Gets > 0 {
			latency = append(latency, r.Latency.Seconds()/float64(r.Gets))
		}
		res.SensorErrors += r.Errors
		res.SensorMissed += r.Missed
	}
	if len(every) > 0 {
		st := statsOf(every)
		res.EffectiveInterval = &st
	}
	if len(latency) > 0 {
		st := statsOf(latency)
		res.GetLatencyReal = &st
	}
	res.TCPConnections = int(em.count.conns.Load())
	res.BenchCPUSeconds = selfCPU() - benchCPU0
	res.Calls = callFigures{
		Total:           total.total(),
		ByCategory:      total.byCategory(),
		Status429:       total.withStatus(http.StatusTooManyRequests),
		Trigger:         total.cat(catTrigger),
		Watch:           total.cat(catRunGet),
		EmulatorCounted: total.total(),
	}
	res.Calls.derive(res.Runs, res.RunMinutes)
	res.Notes = append(res.Notes, "memory is this bench's Go child process with a goroutine per run; a real Airflow deployment holds a worker slot (a process) per waiting operator, or a deferrable trigger in the triggerer per run, which is much heavier; no figure is claimed for it")
	return res, nil
}
