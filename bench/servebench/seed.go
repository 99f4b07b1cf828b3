package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
)

// setup is what the emulator spends on a run before its dbt command's own
// step: queue 2 s, starting 5 s, clone 2 s, profile 1 s, deps 3 s (see
// the emulator's package documentation and bench/pollbench).
const setup = 13 * time.Second

// Ids and token of the generated account.
const (
	accountID  = 1
	benchToken = "dbtc_servebench_token"
	firstJobID = 100_000
)

// plan is one run of the benchmark: a job of its own (runs of one job
// queue behind each other in dbt Cloud, so 10,000 concurrent runs need
// 10,000 jobs), how long it lasts from created to finished, and whether it
// fails.
type plan struct {
	JobID    int64         `json:"job_id"`
	Duration time.Duration `json:"duration"`
	Fail     bool          `json:"fail"`
}

// durationDist draws run durations (created to finished, emulated time).
type durationDist struct {
	spec     string
	kind     string // uniform, fixed
	min, max time.Duration
}

// parseDist reads "uniform:5m,30m" or "fixed:15m".
func parseDist(s string) (durationDist, error) {
	d := durationDist{spec: s}
	kind, rest, ok := strings.Cut(s, ":")
	if !ok {
		return d, fmt.Errorf("duration distribution %q: want uniform:MIN,MAX or fixed:D", s)
	}
	d.kind = kind
	var parts []time.Duration
	for _, p := range strings.Split(rest, ",") {
		v, err := time.ParseDuration(strings.TrimSpace(p))
		if err != nil {
			return d, fmt.Errorf("duration distribution %q: %v", s, err)
		}
		if v <= setup+time.Second {
			return d, fmt.Errorf("duration distribution %q: %s is too short; every run spends %s before its dbt step", s, v, setup)
		}
		parts = append(parts, v)
	}
	switch {
	case kind == "uniform" && len(parts) == 2 && parts[0] <= parts[1]:
		d.min, d.max = parts[0], parts[1]
	case kind == "fixed" && len(parts) == 1:
		d.min, d.max = parts[0], parts[0]
	default:
		return d, fmt.Errorf("duration distribution %q: want uniform:MIN,MAX (MIN <= MAX) or fixed:D", s)
	}
	return d, nil
}

func (d durationDist) draw(rng *rand.Rand) time.Duration {
	if d.max == d.min {
		return d.min
	}
	// Whole seconds, so that the seed's step durations are round numbers.
	span := int64((d.max - d.min) / time.Second)
	return d.min + time.Duration(rng.Int64N(span+1))*time.Second
}

// makePlans draws n runs, in the order both sides create them: longest
// first, or as drawn (random). Creating 10,000 runs takes minutes of
// emulated time, and longest first keeps every run in flight at the moment
// the last one is created (it also packs the ends closer together, which
// is the harder case for a poller); in random order short runs end while
// others are still being created.
func makePlans(n int, dist durationDist, failShare float64, seed uint64, longestFirst bool) []plan {
	rng := rand.New(rand.NewPCG(seed, 0x5e12eb))
	ps := make([]plan, n)
	for i := range ps {
		ps[i] = plan{JobID: firstJobID + int64(i), Duration: dist.draw(rng), Fail: rng.Float64() < failShare}
	}
	if longestFirst {
		slices.SortStableFunc(ps, func(a, b plan) int { return int(b.Duration - a.Duration) })
	}
	return ps
}

// makeSeed is one account with a run slot per run, one project and
// environment, and a job per plan whose single dbt step lasts what the
// plan says; failing jobs fail in that step (after it ran), so they leave
// run_results.json for the server's failure summary, as real failures do.
func makeSeed(ps []plan) *emulator.Seed {
	one := 1
	jobs := make([]emulator.SeedJob, len(ps))
	for i, p := range ps {
		b := emulator.SeedBehaviour{StepSeconds: []float64{(p.Duration - setup).Seconds()}}
		if p.Fail {
			b.Outcome, b.FailStep = "error", &one
		}
		jobs[i] = emulator.SeedJob{ID: p.JobID, Name: "job " + strconv.FormatInt(p.JobID, 10),
			ExecuteSteps: []string{"dbt build"}, Behaviour: b}
	}
	return &emulator.Seed{Accounts: []emulator.SeedAccount{{
		ID: accountID, Name: "servebench", Plan: "enterprise", RunSlots: len(ps), QueueLimit: len(ps),
		Tokens: []string{benchToken},
		Projects: []emulator.SeedProject{{ID: 10, Name: "analytics", Environments: []emulator.SeedEnvironment{{
			ID: 20, Name: "Production", DeploymentType: "production", Jobs: jobs,
		}}}},
	}}}
}
