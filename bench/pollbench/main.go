// Command pollbench compares dbtlink's adaptive polling with Airflow's dbt
// Cloud operator pattern (one GET of the run every 60 s, the first at once)
// for one triggered-and-waited run, on the emulator with a fake clock, so
// the figures are deterministic and take no real time:
//
//	go run ./bench/pollbench
//	go run ./bench/pollbench -durations 45s,3m,12m,40m -airflow-poll 60s
//
// For each run duration it primes the job with one finished run (the
// history the adaptive schedule uses), then triggers a run and waits for it
// three ways on fresh emulators: adaptive with history, adaptive without
// history (a new job), and a fixed interval. "calls" counts API requests
// made while waiting (the history lookup included, the trigger excluded:
// both patterns trigger once). "lag" is how long after the run finished
// (its finished_at) the waiter saw it.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
	"github.com/dbtlink/dbtlink/internal/orchestrate"
)

// setupSeconds is what the emulator spends before a job's first dbt
// command: queue 2 s, starting 5 s, clone 2 s, profile 1 s, deps 3 s.
const setupSeconds = 13

func main() {
	durations := flag.String("durations", "45s,3m,12m,40m", "comma-separated run durations (created to finished)")
	airflowPoll := flag.Duration("airflow-poll", 60*time.Second, "the fixed interval to compare with (Airflow's check_interval)")
	jitter := flag.Int("phases", 4, "average each figure over this many durations D + k*airflow-poll/phases, since a fixed interval's lag depends on where the end falls between polls")
	flag.Parse()
	var ds []time.Duration
	for _, s := range strings.Split(*durations, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil || d <= setupSeconds*time.Second {
			fmt.Fprintf(os.Stderr, "pollbench: duration %q must be a Go duration longer than %ds\n", s, setupSeconds)
			os.Exit(2)
		}
		ds = append(ds, d)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "run duration\tcalls ours\tcalls fixed %s\tlag ours\tlag fixed %s\tcalls ours (no history)\tlag ours (no history)\t\n", *airflowPoll, *airflowPoll)
	var sum [2]float64
	for _, d := range ds {
		ours := average(d, *airflowPoll, *jitter, orchestrate.WaitOptions{}, true)
		fixed := average(d, *airflowPoll, *jitter, orchestrate.WaitOptions{Poll: *airflowPoll}, true)
		cold := average(d, *airflowPoll, *jitter, orchestrate.WaitOptions{}, false)
		sum[0] += ours.calls
		sum[1] += fixed.calls
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%s\t%s\t%.1f\t%s\t\n", d, ours.calls, fixed.calls, ours.lag, fixed.lag, cold.calls, cold.lag)
	}
	check(tw.Flush())
	fmt.Printf("\ntotal calls: ours %.1f, fixed %s %.1f (each figure is the mean over %d runs of D + 0, %s, ..., %s)\n",
		sum[0], *airflowPoll, sum[1], *jitter, *airflowPoll/time.Duration(*jitter), *airflowPoll*time.Duration(*jitter-1)/time.Duration(*jitter))
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "pollbench:", err)
		os.Exit(1)
	}
}

type mean struct {
	calls float64
	lag   time.Duration
}

// average measures runs lasting d + k*interval/phases for k < phases.
func average(d, interval time.Duration, phases int, opts orchestrate.WaitOptions, withHistory bool) mean {
	var m mean
	step := interval / time.Duration(phases)
	for k := range phases {
		r, err := measure(d+time.Duration(k)*step, opts, withHistory)
		check(err)
		m.calls += float64(r.calls) / float64(phases)
		m.lag += r.lag / time.Duration(phases)
	}
	m.lag = m.lag.Round(100 * time.Millisecond)
	return m
}

type result struct {
	duration time.Duration
	calls    int
	lag      time.Duration
}

// countingTransport counts requests once enabled.
type countingTransport struct {
	next  http.RoundTripper
	on    atomic.Bool
	calls atomic.Int64
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.on.Load() {
		t.calls.Add(1)
	}
	return t.next.RoundTrip(r)
}

// measure waits for one run of a job lasting d on a fresh emulator.
func measure(d time.Duration, opts orchestrate.WaitOptions, withHistory bool) (result, error) {
	const jobID = 900
	step := d.Seconds() - setupSeconds
	seed := &emulator.Seed{Accounts: []emulator.SeedAccount{{
		ID: 1, Name: "bench", Tokens: []string{"bench-token"},
		Projects: []emulator.SeedProject{{ID: 10, Name: "p", Environments: []emulator.SeedEnvironment{{
			ID: 20, Name: "Production", Jobs: []emulator.SeedJob{{ID: jobID, Name: "job", Behaviour: emulator.SeedBehaviour{StepSeconds: []float64{step}}}},
		}}}},
	}}}
	clock := emulator.NewFakeClock(time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC))
	srv, err := emulator.New(emulator.Options{Clock: clock, Seed: seed, RateLimitPerMinute: -1})
	if err != nil {
		return result{}, err
	}
	defer srv.Close()
	ct := &countingTransport{next: srv.Client().Transport}
	noSleep := func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	client, err := dbtcloud.NewClient(srv.URL, srv.Token, dbtcloud.WithHTTPClient(&http.Client{Transport: ct}), dbtcloud.WithClock(clock.Now, noSleep))
	if err != nil {
		return result{}, err
	}
	ctx := context.Background()
	trigger := func() (*dbtcloud.Run, error) {
		r, _, err := client.Runs.Trigger(ctx, 1, jobID, &dbtcloud.TriggerRunRequest{Cause: "pollbench"})
		return r, err
	}
	if withHistory {
		prev, err := trigger()
		if err != nil {
			return result{}, err
		}
		if _, err := orchestrate.Wait(ctx, client, 1, prev.ID, orchestrate.WaitOptions{Clock: orchestrate.SteppedClock{Clock: clock}, Poll: time.Hour}); err != nil {
			return result{}, err
		}
	}
	run, err := trigger()
	if err != nil {
		return result{}, err
	}
	opts.Clock = orchestrate.SteppedClock{Clock: clock}
	opts.JobID = jobID
	if opts.Poll == 0 {
		// dbtlink hands Wait the run the trigger returned; Airflow's
		// operator polls at once.
		opts.Initial = run
	}
	ct.on.Store(true)
	final, err := orchestrate.Wait(ctx, client, 1, run.ID, opts)
	ct.on.Store(false)
	if err != nil {
		return result{}, err
	}
	if final.Status != dbtcloud.RunStatusSuccess {
		return result{}, fmt.Errorf("run %d ended %s", final.ID, final.Status)
	}
	return result{
		duration: final.FinishedAt.Sub(final.CreatedAt.Time).Round(time.Second),
		calls:    int(ct.calls.Load()),
		lag:      clock.Now().Sub(final.FinishedAt.Time),
	}, nil
}
