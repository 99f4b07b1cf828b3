package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
)

// sideResult holds the figures of one side. Unless a name says "real",
// times are in emulated seconds (the dbt Cloud runs' clock).
type sideResult struct {
	Name         string  `json:"name"`
	Runs         int     `json:"runs"`
	Interval     float64 `json:"poll_interval_emulated_s"`
	IntervalNote string  `json:"poll_interval"`

	Create             phaseFigures   `json:"create"`
	TriggerRealSeconds float64        `json:"all_triggered_after_real_s"`
	TriggerSpan        float64        `json:"trigger_span_emulated_s"`
	PeakInFlight       int            `json:"peak_runs_in_flight"`
	Outcomes           map[string]int `json:"outcomes"`
	RunMinutes         float64        `json:"run_minutes_emulated"`

	Settled       int      `json:"settled"`
	Unsettled     int      `json:"unsettled"`
	Finalized     int      `json:"finalized,omitempty"`
	SettleAllReal float64  `json:"settle_all_real_s"`
	SettleAll     float64  `json:"settle_all_emulated_s"`
	AfterLastEnd  float64  `json:"last_settle_after_last_end_emulated_s"`
	Lag           lagStats `json:"settle_lag_emulated_s"`
	WithinTwo     int      `json:"settled_within_two_intervals"`

	Calls callFigures `json:"calls"`

	PollPasses       int       `json:"poll_passes,omitempty"`
	PollErrors       int       `json:"poll_errors,omitempty"`
	PassInterval     *lagStats `json:"pass_interval_emulated_s,omitempty"`
	PassIntervalReal *lagStats `json:"pass_interval_real_s,omitempty"`
	LagSplit         *lagSplit `json:"settle_lag_split,omitempty"`
	BenchCPUSeconds  float64   `json:"bench_process_cpu_s"`
	// PassStartsReal: when each pass's finished-runs listing began, in
	// real seconds from the first run's creation.
	PassStartsReal []float64 `json:"pass_starts_real_s,omitempty"`
	// EffectiveInterval: the baseline's mean time between two GETs of a
	// run, per run (emulated), to check the sensors kept their interval.
	EffectiveInterval *lagStats `json:"effective_interval_emulated_s,omitempty"`
	// GetLatencyReal: per run, the mean time the emulator took to answer
	// its GETs, in real seconds; SensorErrors: GETs that failed otherwise
	// than with 429; SensorMissed: ticks skipped because a GET outlasted
	// the interval.
	GetLatencyReal *lagStats `json:"get_latency_real_s,omitempty"`
	SensorErrors   int       `json:"sensor_errors,omitempty"`
	SensorMissed   int       `json:"sensor_missed_ticks,omitempty"`
	TCPConnections int       `json:"tcp_connections_to_dbt_cloud"`

	Proc                 procStats `json:"process"`
	ClockDriftEmuSeconds float64   `json:"clock_map_drift_emulated_s"`
	Notes                []string  `json:"notes,omitempty"`
}

type phaseFigures struct {
	RealSeconds float64 `json:"real_s"`
	PerSecond   float64 `json:"runs_per_real_s"`
	Errors      int     `json:"errors"`
}

type lagStats struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Min  float64 `json:"min"`
}

func statsOf(xs []float64) lagStats {
	if len(xs) == 0 {
		return lagStats{}
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	q := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	var sum float64
	for _, v := range s {
		sum += v
	}
	return lagStats{N: len(s), Mean: sum / float64(len(s)), P50: q(0.5), P95: q(0.95), P99: q(0.99), Max: s[len(s)-1], Min: s[0]}
}

// callFigures are dbt Cloud calls counted by the emulator, after setup
// (adding the connection).
type callFigures struct {
	Setup      int                       `json:"setup,omitempty"`
	Total      int                       `json:"total"`
	ByCategory map[string]map[string]int `json:"by_category_and_status"`
	Status429  int                       `json:"status_429"`
	// Create: job lookups made while the API records runs; Trigger: the
	// POSTs (and trigger lookups); Watch: what follows runs to their end;
	// Finalize: reads after a run settled (failure summaries).
	Create          int `json:"create"`
	Trigger         int `json:"trigger"`
	Watch           int `json:"watch"`
	Finalize        int `json:"finalize"`
	DuringCreation  int `json:"during_creation,omitempty"`
	ServerCounted   int `json:"server_counted,omitempty"`
	EmulatorCounted int `json:"emulator_counted"`

	PerRun             float64 `json:"per_run"`
	WatchPerRun        float64 `json:"watch_per_run"`
	PerRunMinute       float64 `json:"per_run_minute"`
	WatchPerRunMinute  float64 `json:"watch_per_run_minute"`
	RunMinutesPerWatch float64 `json:"run_minutes_per_watch_call"`
}

func (c *callFigures) derive(runs int, runMinutes float64) {
	c.PerRun = float64(c.Total) / float64(runs)
	c.WatchPerRun = float64(c.Watch) / float64(runs)
	if runMinutes > 0 {
		c.PerRunMinute = float64(c.Total) / runMinutes
		c.WatchPerRunMinute = float64(c.Watch) / runMinutes
	}
	if c.Watch > 0 {
		c.RunMinutesPerWatch = runMinutes / float64(c.Watch)
	}
}

// fill computes the run figures from the emulator's runs (emulated clock)
// and when the watcher recorded each end (real clock), keyed by dbt Cloud
// run id; start is the real instant the side began creating runs.
func (r *sideResult) fill(cfg *config, cm clockMap, infos []emulator.RunInfo, seen map[int64]time.Time, start time.Time) {
	r.Outcomes = map[string]int{}
	var lags []float64
	var firstCreated, lastCreated, lastEnd time.Time
	var lastSeen time.Time
	type ev struct {
		t time.Time
		d int
	}
	var evs []ev
	for _, in := range infos {
		r.Outcomes[strings.ToLower(in.StatusHuman)]++
		if firstCreated.IsZero() || in.CreatedAt.Before(firstCreated) {
			firstCreated = in.CreatedAt
		}
		lastCreated = later(lastCreated, in.CreatedAt)
		evs = append(evs, ev{in.CreatedAt, 1})
		if in.FinishedAt.IsZero() {
			r.Unsettled++
			continue
		}
		evs = append(evs, ev{in.FinishedAt, -1})
		lastEnd = later(lastEnd, in.FinishedAt)
		r.RunMinutes += in.FinishedAt.Sub(in.CreatedAt).Minutes()
		at, ok := seen[in.ID]
		if !ok {
			r.Unsettled++
			continue
		}
		r.Settled++
		lastSeen = later(lastSeen, at)
		// Both instants on the real clock, then scaled to emulated time.
		lag := at.Sub(cm.toReal(in.FinishedAt)).Seconds() * cfg.Speed
		lags = append(lags, lag)
		if lag <= 2*r.Interval {
			r.WithinTwo++
		}
	}
	if missing := r.Runs - len(infos); missing > 0 {
		r.Unsettled += missing
		r.Notes = append(r.Notes, fmt.Sprintf("%d runs never reached dbt Cloud", missing))
	}
	r.Lag = statsOf(lags)
	r.TriggerSpan = lastCreated.Sub(firstCreated).Seconds()
	sort.Slice(evs, func(i, j int) bool {
		if !evs[i].t.Equal(evs[j].t) {
			return evs[i].t.Before(evs[j].t)
		}
		return evs[i].d < evs[j].d // an end before a start at the same instant
	})
	cur := 0
	for _, e := range evs {
		cur += e.d
		r.PeakInFlight = max(r.PeakInFlight, cur)
	}
	if !lastSeen.IsZero() {
		r.SettleAllReal = lastSeen.Sub(start).Seconds()
		r.SettleAll = r.SettleAllReal * cfg.Speed
		r.AfterLastEnd = lastSeen.Sub(cm.toReal(lastEnd)).Seconds() * cfg.Speed
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// passIntervals: the time between two passes' first finished-runs pages.
func (r *sideResult) passIntervals(cfg *config, starts []time.Time) {
	if len(starts) < 2 {
		return
	}
	var d []float64
	for i := 1; i < len(starts); i++ {
		d = append(d, starts[i].Sub(starts[i-1]).Seconds())
	}
	real := statsOf(d)
	for i := range d {
		d[i] *= cfg.Speed
	}
	emu := statsOf(d)
	r.PassInterval, r.PassIntervalReal = &emu, &real
}

// lagSplit cuts each run's settle lag at the pass that saw its end (the
// first page of that pass's finished-runs listing): the wait for that
// pass, then the pass's own work until the settlement was committed. The
// second part is spent in real time by the server, so at speed S it
// weighs S times more in emulated time than it would against dbt Cloud.
type lagSplit struct {
	Wait       lagStats `json:"wait_for_pass_emulated_s"`
	InPass     lagStats `json:"in_pass_emulated_s"`
	InPassReal lagStats `json:"in_pass_real_s"`
	Unmatched  int      `json:"unmatched"`
}

func (r *sideResult) splitLag(cfg *config, cm clockMap, infos []emulator.RunInfo, seen map[int64]time.Time, starts []time.Time, c *counter) {
	if len(starts) == 0 {
		return
	}
	var wait, in, inReal []float64
	ls := &lagSplit{}
	for _, info := range infos {
		at, ok := seen[info.ID]
		if !ok || info.FinishedAt.IsZero() {
			continue
		}
		// The last pass that began before the settlement, or the last
		// read of the run alone (a pass over one or two runs reads them
		// one by one), whichever is later.
		var p time.Time
		if i := sort.Search(len(starts), func(i int) bool { return starts[i].After(at) }) - 1; i >= 0 {
			p = starts[i]
		}
		p = later(p, c.lastGetBefore(info.ID, at))
		if p.IsZero() {
			ls.Unmatched++
			continue
		}
		end := cm.toReal(info.FinishedAt)
		w := max(p.Sub(end), 0)
		wait = append(wait, w.Seconds()*cfg.Speed)
		d := at.Sub(end) - w
		in = append(in, d.Seconds()*cfg.Speed)
		inReal = append(inReal, d.Seconds())
	}
	ls.Wait, ls.InPass, ls.InPassReal = statsOf(wait), statsOf(in), statsOf(inReal)
	r.LagSplit = ls
}

// report is everything the bench writes with -out.
type report struct {
	Config   configJSON    `json:"config"`
	Dbtlink  *sideResult   `json:"dbtlink,omitempty"`
	Baseline *sideResult   `json:"baseline,omitempty"`
	Targets  []targetCheck `json:"targets,omitempty"`
	Clocks   string        `json:"clocks"`
}

type targetCheck struct {
	Target   string `json:"target"`
	Measured string `json:"measured"`
	Pass     bool   `json:"pass"`
	Baseline string `json:"baseline,omitempty"`
}

const peakRSSTargetMB = 300

func checkTargets(d, b *sideResult) []targetCheck {
	ts := []targetCheck{
		{
			Target:   fmt.Sprintf("every run settled within two poll intervals (2 x %s = %s emulated) of its end", secs(d.Interval), secs(2*d.Interval)),
			Measured: fmt.Sprintf("%d of %d within; max lag %s, p95 %s", d.WithinTwo, d.Runs, secs(d.Lag.Max), secs(d.Lag.P95)),
			Pass:     d.WithinTwo == d.Runs && d.Unsettled == 0,
		},
		{
			Target:   "at most one dbt Cloud call per 20 run-minutes for watching (watch calls / run-minutes <= 0.05)",
			Measured: fmt.Sprintf("%.4f (%d calls / %.0f run-minutes; one per %.0f run-minutes)", d.Calls.WatchPerRunMinute, d.Calls.Watch, d.RunMinutes, d.Calls.RunMinutesPerWatch),
			Pass:     d.Calls.WatchPerRunMinute <= 0.05,
		},
		{
			Target:   "the same with every call after setup (job lookups, triggers, failure summaries)",
			Measured: fmt.Sprintf("%.4f (%d calls / %.0f run-minutes)", d.Calls.PerRunMinute, d.Calls.Total, d.RunMinutes),
			Pass:     d.Calls.PerRunMinute <= 0.05,
		},
		{
			Target:   fmt.Sprintf("server peak RSS under %d MB (VmHWM)", peakRSSTargetMB),
			Measured: fmt.Sprintf("%.0f MB", d.Proc.PeakRSSMB),
			Pass:     d.Proc.PeakRSSMB > 0 && d.Proc.PeakRSSMB < peakRSSTargetMB,
		},
	}
	if b != nil {
		ts[0].Baseline = fmt.Sprintf("%d of %d within 2 x %s; max lag %s", b.WithinTwo, b.Runs, secs(b.Interval), secs(b.Lag.Max))
		ts[1].Baseline = fmt.Sprintf("%.4f", b.Calls.WatchPerRunMinute)
		ts[2].Baseline = fmt.Sprintf("%.4f", b.Calls.PerRunMinute)
		ts[3].Baseline = fmt.Sprintf("%.0f MB (bench's Go child, not Airflow)", b.Proc.PeakRSSMB)
	}
	return ts
}

// secs formats emulated seconds as a duration.
func secs(s float64) string {
	if math.IsNaN(s) {
		return "-"
	}
	d := time.Duration(s * float64(time.Second))
	switch {
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(10 * time.Millisecond).String()
}

// printTable prints the sides measured (either may be nil) side by side.
func printTable(w io.Writer, cfg *config, d, b *sideResult) {
	var sides []*sideResult
	header := []string{""}
	for _, r := range []*sideResult{d, b} {
		if r != nil {
			sides = append(sides, r)
			header = append(header, r.Name)
		}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(label string, f func(*sideResult) string) {
		cols := []string{label}
		for _, r := range sides {
			cols = append(cols, f(r))
		}
		fmt.Fprintln(tw, strings.Join(cols, "\t")+"\t")
	}
	fmt.Fprintln(tw, strings.Join(header, "\t")+"\t")
	row("poll interval", func(r *sideResult) string { return r.IntervalNote })
	row("runs (outcomes)", func(r *sideResult) string { return fmt.Sprintf("%d %v", r.Runs, r.Outcomes) })
	row("run-minutes [emu]", func(r *sideResult) string {
		return fmt.Sprintf("%.0f (mean %.1f min/run)", r.RunMinutes, r.RunMinutes/float64(r.Runs))
	})
	row("peak runs in flight at once", func(r *sideResult) string { return fmt.Sprint(r.PeakInFlight) })
	row("creating runs (baseline: triggering) [real]", func(r *sideResult) string {
		return fmt.Sprintf("%.1fs, %.0f runs/s, %d errors", r.Create.RealSeconds, r.Create.PerSecond, r.Create.Errors)
	})
	row("all triggered after [real]", func(r *sideResult) string {
		return fmt.Sprintf("%.1fs (dbt created_at span %s emu)", r.TriggerRealSeconds, secs(r.TriggerSpan))
	})
	row("settled / unsettled", func(r *sideResult) string { return fmt.Sprintf("%d / %d", r.Settled, r.Unsettled) })
	row("time to settle all [real | emu]", func(r *sideResult) string {
		return fmt.Sprintf("%s | %s", secs(r.SettleAllReal), secs(r.SettleAll))
	})
	row("last settle after last end [emu]", func(r *sideResult) string { return secs(r.AfterLastEnd) })
	row("settle lag p50 / p95 / max [emu]", func(r *sideResult) string {
		return fmt.Sprintf("%s / %s / %s", secs(r.Lag.P50), secs(r.Lag.P95), secs(r.Lag.Max))
	})
	row("settle lag mean / p99 [emu]", func(r *sideResult) string { return fmt.Sprintf("%s / %s", secs(r.Lag.Mean), secs(r.Lag.P99)) })
	row("within two intervals", func(r *sideResult) string {
		return fmt.Sprintf("%d of %d (2 x %s)", r.WithinTwo, r.Runs, secs(r.Interval))
	})
	row("dbt Cloud calls after setup", func(r *sideResult) string { return fmt.Sprint(r.Calls.Total) })
	row("  job lookups / triggers", func(r *sideResult) string { return fmt.Sprintf("%d / %d", r.Calls.Create, r.Calls.Trigger) })
	row("  watching", func(r *sideResult) string { return fmt.Sprint(r.Calls.Watch) })
	row("  after settling (failure summaries)", func(r *sideResult) string { return fmt.Sprint(r.Calls.Finalize) })
	row("  answered 429", func(r *sideResult) string { return fmt.Sprint(r.Calls.Status429) })
	row("calls per run: all / watching", func(r *sideResult) string {
		return fmt.Sprintf("%.2f / %.3f", r.Calls.PerRun, r.Calls.WatchPerRun)
	})
	row("calls per run-minute: all / watching", func(r *sideResult) string {
		return fmt.Sprintf("%.4f / %.4f", r.Calls.PerRunMinute, r.Calls.WatchPerRunMinute)
	})
	row("run-minutes per watching call", func(r *sideResult) string { return fmt.Sprintf("%.1f", r.Calls.RunMinutesPerWatch) })
	row("peak RSS (VmHWM) / max sampled VmRSS", func(r *sideResult) string {
		return fmt.Sprintf("%.0f MB / %.0f MB", r.Proc.PeakRSSMB, r.Proc.MaxSampledRSSMB)
	})
	row("CPU time [real]", func(r *sideResult) string { return fmt.Sprintf("%.1fs", r.Proc.CPUSeconds) })
	row("TCP connections to dbt Cloud", func(r *sideResult) string { return fmt.Sprint(r.TCPConnections) })
	row("time between two GETs of a run, mean over runs p50 / max [emu]", func(r *sideResult) string {
		if r.EffectiveInterval == nil {
			return "-"
		}
		return fmt.Sprintf("%s / %s", secs(r.EffectiveInterval.P50), secs(r.EffectiveInterval.Max))
	})
	row("emulator's answer time per GET, mean over runs p50 / max [real]", func(r *sideResult) string {
		if r.GetLatencyReal == nil {
			return "-"
		}
		return fmt.Sprintf("%s / %s (errors %d, missed ticks %d)", secs(r.GetLatencyReal.P50), secs(r.GetLatencyReal.Max), r.SensorErrors, r.SensorMissed)
	})
	row("bench process CPU (emulator, client) [real]", func(r *sideResult) string { return fmt.Sprintf("%.1fs", r.BenchCPUSeconds) })
	if d != nil && d.PassInterval != nil {
		fmt.Fprintf(tw, "poll passes (dbtlink)\t%d, %d failed\t\n", d.PollPasses, d.PollErrors)
		fmt.Fprintf(tw, "  time between passes p50 / p95 / max\t%s / %s / %s emu = %s / %s / %s real (configured %s real)\t\n",
			secs(d.PassInterval.P50), secs(d.PassInterval.P95), secs(d.PassInterval.Max),
			secs(d.PassIntervalReal.P50), secs(d.PassIntervalReal.P95), secs(d.PassIntervalReal.Max), cfg.real(cfg.PollMax))
	}
	if d != nil && d.LagSplit != nil {
		l := d.LagSplit
		fmt.Fprintf(tw, "  lag = wait for the pass + work in it\tp50 %s + %s, p95 %s + %s, max %s + %s emu\t\n",
			secs(l.Wait.P50), secs(l.InPass.P50), secs(l.Wait.P95), secs(l.InPass.P95), secs(l.Wait.Max), secs(l.InPass.Max))
		fmt.Fprintf(tw, "  work in the pass, real time\tp50 %s, p95 %s, max %s real\t\n",
			secs(l.InPassReal.P50), secs(l.InPassReal.P95), secs(l.InPassReal.Max))
	}
	_ = tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(w, "dbt Cloud calls by operation and status (emulator's count, after setup):")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, cat := range categories {
		cell := func(r *sideResult) string {
			m := r.Calls.ByCategory[cat]
			if len(m) == 0 {
				return "-"
			}
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var parts []string
			for _, k := range keys {
				parts = append(parts, fmt.Sprintf("%s:%d", k, m[k]))
			}
			return strings.Join(parts, " ")
		}
		cols := []string{"  " + cat}
		used := false
		for _, r := range sides {
			c := cell(r)
			used = used || c != "-"
			cols = append(cols, c)
		}
		if used {
			fmt.Fprintln(tw, strings.Join(cols, "\t")+"\t")
		}
	}
	_ = tw.Flush()
	for _, r := range sides {
		for _, n := range r.Notes {
			fmt.Fprintf(w, "note (%s): %s\n", r.Name, n)
		}
	}
}
