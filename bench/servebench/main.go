// Command servebench is a load benchmark of `dbtlink serve`: 10,000 dbt
// Cloud runs in flight at once in the emulator, watched by one server, and
// the same runs watched the way Airflow does it (one GET per run per
// interval), side by side. It is a command, not a test: the full run takes
// about 18 minutes of real time on two cores (5 for dbtlink, 12 for the
// baseline).
//
//	go run ./bench/servebench -quick                    # 500 short runs: a smoke run, about 3 minutes
//	go run ./bench/servebench -out servebench.json      # 10,000 runs, the figures also as JSON
//	go run ./bench/servebench -db 'postgres://u:p@host:5432/empty_db'
//	go run ./bench/servebench -speed 1 -baseline=false  # the server with no time scaling, about 40 minutes
//
// It reports the time to settle every run, each run's settle lag (p50,
// p95, max), dbt Cloud calls per run and per run-minute, and the peak RSS
// of the process that watches, and checks the targets: every run
// settled within two poll intervals of its end, at most one call per 20
// run-minutes, RSS under 300 MB.
//
// # The runs
//
// The emulator gets a generated seed: one account with a run slot per run
// and a job per run (dbt Cloud queues the runs of one job behind each
// other, so 10,000 concurrent runs need 10,000 jobs). A run lasts, from
// created to finished, a duration drawn from -durations (uniformly 5 to 30
// emulated minutes by default); a share -fail of the jobs fails in its dbt
// step, after running it, leaving run_results.json as real failures do.
// The emulator keeps dbt Cloud's real rate limit: 5,000 requests per
// account and (emulated) minute, then a five-minute cooldown. Both sides
// create the runs longest first (-order), so that all of them are in
// flight at once although creating them takes minutes.
//
// # dbtlink's side
//
// The bench builds cmd/dbtlink and starts `dbtlink serve` as a child
// process (SQLite in a temporary directory, or an empty database given
// with -db), so that its memory can be read from /proc: VmRSS sampled
// every 200 ms, and VmHWM, the kernel's own peak, read before the server
// is stopped. It creates an admin token (`dbtlink token create`) and a
// connection to the emulator, creates every run through the API, POST
// /api/v1/runs {"job_id":N,"artifacts":[]}, 32 at a time (a phase timed on
// its own), and follows /metrics until every run has ended. Each run's
// settled_at, the server's record of the end, comes from GET /api/v1/runs.
//
// # The baseline
//
// Airflow's DbtCloudRunJobOperator (wait_for_termination) and
// DbtCloudJobRunSensor GET the run once per check_interval / poke_interval,
// 60 s by default, until it ends. A child process (this program again,
// measured like the server) triggers the same runs on a fresh emulator
// with the same seed, paced like the server, and then watches each with a
// goroutine doing that, on the grid it would have had from its trigger on.
// A GET refused with 429 is simply tried again an interval later, which
// is kinder than Airflow, where the error fails the task's try, and the
// sensors start only once every run is triggered, so the triggers never
// meet the rate limit. The child is a Go process with a goroutine per
// run: a real Airflow deployment holds a worker slot per waiting operator,
// or a deferrable trigger per run in the triggerer, which is much heavier;
// the bench claims no figure for that.
//
// # Counting calls
//
// The emulator is mounted (emulator.NewHandler) behind a handler that
// counts every request by operation and status; the server's own count
// (dbtlink_dbtcloud_requests_total) is printed next to it and must match.
// Calls are cut into job lookups (the API checks the job of a new run),
// triggers, watching (run lists, and reads of a single run before it
// settled) and reads after the settlement (the failure summary of a failed
// run: its steps and the failing step's run_results.json). Watching is
// what the per-run-minute target is about: the trigger alone is one call
// per run, more than one per 20 minutes for runs shorter than 20 minutes,
// so the figure with every call is shown as well.
//
// # Clocks
//
// Emulated time runs faster than real time: -speed times (6) for dbtlink,
// -baseline-speed times (3) for the baseline. Everything dbt Cloud does
// happens in emulated time, so the watchers' settings are scaled:
// --poll-min and --poll-max are -poll-min and -poll-max (2 s and 30 s, the
// server's defaults, in emulated time) divided by the speed,
// --requests-per-minute is -requests-per-minute (per emulated minute)
// times the speed, and the baseline's 60 s is divided the same way.
// Run-minutes, lags and intervals are reported in emulated time, marked
// [emu]; the machine's own work (creating runs, CPU) in real time, marked
// [real]. The emulator's clock is linear in the real one, which fixes the
// conversion (both clocks are read together, and the drift checked at the
// end): a run's settle lag is its settled_at (the server's, real clock)
// minus its finished_at (the emulator's) carried to the real clock, times
// the speed. A baseline run counts as seen when the emulator answered the
// GET that saw its end: the time it waited for the emulator's lock before
// (the emulator answers slowly under 10,000 runs, dbt Cloud would not) is
// left out.
//
// The emulator's clock starts behind the real one (see benchClock): the
// server's schedule compares a run's dbt Cloud created_at with its own
// clock, and a clock running ahead would make it poll every 3 s of real
// time whatever --poll-max says.
//
// What does not scale is the server's own work, done in real time: a pass
// that takes a second of real time costs speed seconds of emulated lag, so
// lags are pessimistic by that factor (the report splits each lag into
// the wait for the pass that saw the end and the work in that pass, the
// latter in real time too). Nor do the server's fixed real-time constants:
// runs in flight are listed in full every 2 minutes of real time
// (inflightEvery), every 2*speed emulated minutes here, so that listing
// costs about speed times fewer calls than against dbt Cloud (-speed 1
// measures it as it is).
//
// # Why these speeds
//
// dbtlink at 6: --poll-max is then 5 s, no longer than River's scheduler
// interval, so the server's snooze is exact (at speed 1 a 30 s snooze may
// wait up to 5 s more for River's scheduler), the server's own work stays
// a small part of an interval, and its side takes about 5 minutes. The
// baseline at 3: each request costs the emulator O(runs in flight) under
// one lock, about 2 ms with 10,000 in flight, so the 5,000 GETs it answers
// in a rate-limit window need about 9 s of its time, which fits in the
// 20 s of real time of an emulated minute at speed 3 and not at 6. The
// report shows how long the emulator took to answer and the mean time
// between two GETs of a run, so a run where it fell behind shows.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"time"
)

type config struct {
	Runs        int
	Dist        durationDist
	FailShare   float64
	Seed        uint64
	Speed       float64
	BaseSpeed   float64       // the baseline's emulator speed
	PollMin     time.Duration // emulated
	PollMax     time.Duration // emulated
	AirflowPoll time.Duration // emulated
	RPM         int           // per emulated minute
	Workers     int
	CreateConc  int
	DB          string
	Bin         string
	Baseline    bool
	Dbtlink     bool
	Keep        bool
	Order       string
}

// configJSON is the configuration as reported.
type configJSON struct {
	Runs             int     `json:"runs"`
	Durations        string  `json:"durations"`
	FailShare        float64 `json:"fail_share"`
	Seed             uint64  `json:"seed"`
	Speed            float64 `json:"speed"`
	BaselineSpeed    float64 `json:"baseline_speed"`
	PollMin          string  `json:"poll_min_emulated"`
	PollMax          string  `json:"poll_max_emulated"`
	ServerPollMin    string  `json:"server_poll_min_real"`
	ServerPollMax    string  `json:"server_poll_max_real"`
	AirflowPoll      string  `json:"airflow_poll_emulated"`
	RPM              int     `json:"requests_per_emulated_minute"`
	ServerRPM        int     `json:"server_requests_per_minute_real"`
	EmulatorRPM      int     `json:"emulator_rate_limit_per_emulated_minute"`
	Order            string  `json:"order"`
	Workers          int     `json:"workers"`
	CreateConc       int     `json:"create_concurrency"`
	DB               string  `json:"db"`
	CPUs             int     `json:"cpus"`
	GoVersion        string  `json:"go"`
	StartedAt        string  `json:"started_at"`
	WallClockSeconds float64 `json:"wall_clock_s"`
}

// real converts an emulated duration to real time at the bench's speed
// (to the microsecond, so that it prints short).
func (c *config) real(d time.Duration) time.Duration {
	return time.Duration(float64(d) / c.Speed).Round(time.Microsecond)
}

// emu converts a real duration to emulated time.
func (c *config) emu(d time.Duration) time.Duration {
	return time.Duration(float64(d) * c.Speed)
}

// realRPM is the per-emulated-minute budget per real minute.
func (c *config) realRPM() int { return int(float64(c.RPM) * c.Speed) }

// phaseTimeout bounds one side in real time: creating at the call budget,
// the longest run, and a generous margin for lag and rate-limit cooldowns.
func (c *config) phaseTimeout() time.Duration {
	creating := time.Duration(float64(2*c.Runs) / float64(c.RPM) * float64(time.Minute))
	return c.real(creating+c.Dist.max+45*time.Minute) + 2*time.Minute
}

// behind is how far the emulator's clock starts behind the real one, so
// that it stays behind for as long as a phase may last (see benchClock).
func (c *config) behind() time.Duration {
	if c.Speed <= 1 {
		return 0
	}
	return time.Duration(float64(c.phaseTimeout())*(c.Speed-1)) + 5*time.Minute
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == "-sensor-child" {
		if err := sensorChild(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "servebench: baseline child:", err)
			os.Exit(1)
		}
		return
	}
	cfg := &config{}
	flag.IntVar(&cfg.Runs, "runs", 10000, "runs in flight at once")
	dist := flag.String("durations", "uniform:5m,30m", "run durations, created to finished, in emulated time: uniform:MIN,MAX or fixed:D")
	flag.Float64Var(&cfg.FailShare, "fail", 0.1, "share of runs that fail (in their dbt step, after running it)")
	flag.Uint64Var(&cfg.Seed, "seed", 1, "random seed of the durations and failures")
	flag.Float64Var(&cfg.Speed, "speed", 6, "emulated seconds per real second; the server's poll bounds and call budget are scaled by it")
	flag.Float64Var(&cfg.BaseSpeed, "baseline-speed", 3, "the emulator's speed for the baseline: its 10,000 GETs a minute must stay within what the emulator answers in real time")
	flag.DurationVar(&cfg.PollMin, "poll-min", 2*time.Second, "the server's --poll-min, in emulated time (passed divided by -speed)")
	flag.DurationVar(&cfg.PollMax, "poll-max", 30*time.Second, "the server's --poll-max, in emulated time (passed divided by -speed)")
	flag.DurationVar(&cfg.AirflowPoll, "airflow-poll", 60*time.Second, "the baseline's interval, in emulated time (Airflow's check_interval / poke_interval)")
	flag.IntVar(&cfg.RPM, "requests-per-minute", 3000, "the server's --requests-per-minute, per emulated minute (passed multiplied by -speed); also paces the baseline's triggers")
	flag.IntVar(&cfg.Workers, "workers", 20, "the server's --workers")
	flag.IntVar(&cfg.CreateConc, "create-concurrency", 32, "runs created (or, for the baseline, triggered) at once")
	flag.StringVar(&cfg.DB, "db", "", "the server's database: empty for a SQLite file in a temporary directory, or an empty PostgreSQL database's postgres:// URL")
	flag.StringVar(&cfg.Bin, "bin", "", "a dbtlink binary to use instead of building ./cmd/dbtlink")
	flag.BoolVar(&cfg.Baseline, "baseline", true, "also measure the Airflow sensor pattern")
	flag.BoolVar(&cfg.Dbtlink, "dbtlink", true, "measure dbtlink serve (false: the baseline alone, when working on it)")
	flag.StringVar(&cfg.Order, "order", "longest", "the order runs are created in: longest (first, so that all are in flight at once) or random")
	flag.BoolVar(&cfg.Keep, "keep", false, "keep the server's temporary directory (database, log)")
	out := flag.String("out", "", "write the figures as JSON to this file")
	quick := flag.Bool("quick", false, "a smoke run: 500 runs of 2 to 6 emulated minutes (unless -runs or -durations are given)")
	flag.Parse()

	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *quick {
		if !set["runs"] {
			cfg.Runs = 500
		}
		if !set["durations"] {
			*dist = "uniform:2m,6m"
		}
	}
	var err error
	if cfg.Dist, err = parseDist(*dist); err != nil {
		fatal(err)
	}
	switch {
	case cfg.Runs < 1:
		fatal(fmt.Errorf("-runs must be positive"))
	case cfg.Speed <= 0 || cfg.BaseSpeed <= 0:
		fatal(fmt.Errorf("-speed and -baseline-speed must be positive"))
	case cfg.PollMin <= 0 || cfg.PollMax < cfg.PollMin:
		fatal(fmt.Errorf("-poll-min must be positive and at most -poll-max"))
	case cfg.RPM < 1 || cfg.CreateConc < 1 || cfg.Workers < 1:
		fatal(fmt.Errorf("-requests-per-minute, -create-concurrency and -workers must be positive"))
	case cfg.FailShare < 0 || cfg.FailShare > 1:
		fatal(fmt.Errorf("-fail must be between 0 and 1"))
	case !cfg.Dbtlink && !cfg.Baseline:
		fatal(fmt.Errorf("-dbtlink=false -baseline=false measures nothing"))
	case cfg.Order != "longest" && cfg.Order != "random":
		fatal(fmt.Errorf("-order must be longest or random"))
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	began := time.Now()
	ps := makePlans(cfg.Runs, cfg.Dist, cfg.FailShare, cfg.Seed, cfg.Order == "longest")

	bin := cfg.Bin
	if bin == "" && cfg.Dbtlink {
		dir, err := os.MkdirTemp("", "svbench-bin-")
		if err != nil {
			fatal(err)
		}
		defer os.RemoveAll(dir)
		if bin, err = buildDbtlink(dir); err != nil {
			fatal(err)
		}
	}
	fmt.Fprintf(os.Stderr, "servebench: %d runs, durations %s, %.0f%% failing; speed %g (an emulated minute every %s), baseline %g; phase timeout %s real\n",
		cfg.Runs, cfg.Dist.spec, cfg.FailShare*100, cfg.Speed, cfg.real(time.Minute), cfg.BaseSpeed, cfg.phaseTimeout().Round(time.Second))

	var d *sideResult
	if cfg.Dbtlink {
		if d, err = runDbtlink(ctx, cfg, bin, ps); err != nil {
			fatal(fmt.Errorf("dbtlink side: %w", err))
		}
	}
	var b *sideResult
	if cfg.Baseline {
		bcfg := *cfg
		bcfg.Speed = cfg.BaseSpeed
		if b, err = runBaseline(ctx, &bcfg, ps); err != nil {
			fatal(fmt.Errorf("baseline side: %w", err))
		}
	}

	rep := report{
		Config: configJSON{Runs: cfg.Runs, Durations: cfg.Dist.spec, FailShare: cfg.FailShare, Seed: cfg.Seed, Speed: cfg.Speed, BaselineSpeed: cfg.BaseSpeed,
			PollMin: cfg.PollMin.String(), PollMax: cfg.PollMax.String(),
			ServerPollMin: cfg.real(cfg.PollMin).String(), ServerPollMax: cfg.real(cfg.PollMax).String(),
			AirflowPoll: cfg.AirflowPoll.String(), RPM: cfg.RPM, ServerRPM: cfg.realRPM(), EmulatorRPM: 5000,
			Order: cfg.Order, Workers: cfg.Workers, CreateConc: cfg.CreateConc, DB: dbKind(cfg.DB), CPUs: runtime.NumCPU(),
			GoVersion: runtime.Version(), StartedAt: began.UTC().Format(time.RFC3339), WallClockSeconds: time.Since(began).Seconds()},
		Dbtlink: d, Baseline: b,
		Clocks: fmt.Sprintf("[real] figures are wall-clock time of this machine; [emu] figures are dbt Cloud's (the emulator's) time, running %g times faster than real time for dbtlink and %g times for the baseline; lags, intervals and run-minutes are emulated", cfg.Speed, cfg.BaseSpeed),
	}
	fmt.Println()
	fmt.Printf("servebench: %d runs, durations %s (emulated), %.0f%% failing; emulator speed %g (baseline %g); %d CPUs; %s\n",
		cfg.Runs, cfg.Dist.spec, cfg.FailShare*100, cfg.Speed, cfg.BaseSpeed, runtime.NumCPU(), dbKind(cfg.DB))
	fmt.Println(rep.Clocks)
	fmt.Println()
	printTable(os.Stdout, cfg, d, b)
	if d == nil {
		writeOut(*out, rep)
		return
	}
	rep.Targets = checkTargets(d, b)
	fmt.Println()
	fmt.Println("targets (dbtlink serve):")
	for _, t := range rep.Targets {
		verdict := "FAIL"
		if t.Pass {
			verdict = "PASS"
		}
		fmt.Printf("  %s  %s: %s", verdict, t.Target, t.Measured)
		if t.Baseline != "" {
			fmt.Printf("  [baseline: %s]", t.Baseline)
		}
		fmt.Println()
	}
	writeOut(*out, rep)
}

// writeOut writes the report as JSON to path, if one was given.
func writeOut(path string, rep report) {
	if path == "" {
		return
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err == nil {
		err = os.WriteFile(path, append(b, '\n'), 0o644)
	}
	if err != nil {
		fatal(err)
	}
	fmt.Printf("\nfigures written to %s\n", path)
}

func dbKind(dsn string) string {
	if dsn == "" {
		return "SQLite (temporary file)"
	}
	return "PostgreSQL"
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "servebench:", err)
	os.Exit(1)
}
