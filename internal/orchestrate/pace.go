package orchestrate

import (
	"strconv"
	"strings"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
)

// pace estimates how fast dbt Cloud's clock runs against ours, from the
// runs it returns, so that the adaptive schedule can follow a server whose
// time is accelerated: the local emulator with --speed 20 ends a 73-second
// job in under 4 real seconds, and a schedule read on our clock would first
// look again after 24 s.
//
// Real dbt Cloud does not advertise a speed and its clock runs at ours, so
// the estimate uses only what it sends anyway: an unfinished run's
// created_at plus its duration ("HH:MM:SS", which dbt Cloud computes when
// it answers) is its "now". Between two reads, its now advanced by ds
// while ours advanced by dl; the rate is (ds - 1s) / dl, a lower bound
// (the duration is cut to whole seconds). Only a rate of at least
// minAccelerated counts; below it the schedule runs on our clock exactly as
// before, so a real dbt Cloud (rate 1, or a constant clock skew, which
// cancels out) is polled as it always was. No emulator-only header was
// added for this: an emulator is only faithful if clients cannot tell it
// from dbt Cloud.
type pace struct {
	n int // samples taken
	// first and last samples: dbt Cloud's now and ours.
	server0, local0 time.Time
	server, local   time.Time
	rate            float64 // 1 unless clearly accelerated
}

const (
	// minAccelerated is the rate below which the server is taken to run at
	// our speed: 1 s of quantisation over a short sample can read as 1.5.
	minAccelerated = 2.0
	// maxRate bounds the estimate (the emulator's --speed is rarely more
	// than a few hundred).
	maxRate = 1000.0
	// probeAfter is when to read a run a second time if its server's clock
	// looked well ahead of ours at the first read, to learn the rate early
	// instead of sleeping a full interval of the unscaled schedule.
	probeAfter = 2 * time.Second
	// probeSkew is how far ahead of ours dbt Cloud's clock must look for
	// the early probe: more than any NTP-synchronised pair of clocks differ.
	probeSkew = 5 * time.Second
	// minScaledPoll is the shortest interval of a scaled schedule, so that
	// an emulator at a huge speed is not polled in a tight loop.
	minScaledPoll = 100 * time.Millisecond
)

// observe records run as read at local time local; runs that ended or
// carry no usable duration teach nothing.
func (p *pace) observe(run *dbtcloud.Run, local time.Time) {
	if run == nil || run.CreatedAt.IsZero() || !run.FinishedAt.IsZero() {
		return
	}
	d, ok := ParseClockDuration(run.Duration)
	if !ok {
		return
	}
	now := run.CreatedAt.Add(d)
	if p.n == 0 {
		p.server0, p.local0 = now, local
	}
	p.n++
	p.server, p.local = now, local
	p.rate = 1
	if dl := local.Sub(p.local0); dl >= 500*time.Millisecond {
		if r := float64(now.Sub(p.server0)-time.Second) / float64(dl); r >= minAccelerated {
			p.rate = min(r, maxRate)
		}
	}
}

// accelerated reports whether dbt Cloud's clock was seen to run clearly
// faster than ours.
func (p *pace) accelerated() bool { return p.rate >= minAccelerated }

// wantsProbe reports whether the next read should come early, to learn the
// rate: there is a single sample so far, and dbt Cloud's clock looked far
// ahead of ours at that read (an accelerated clock started a while ago).
func (p *pace) wantsProbe() bool {
	return p.n == 1 && p.server.Sub(p.local) > probeSkew
}

// serverAge is the age of the run on dbt Cloud's clock at local time now:
// its duration at the last read plus the time since, at the measured rate.
func (p *pace) serverAge(created time.Time, now time.Time) time.Duration {
	since := time.Duration(float64(now.Sub(p.local)) * p.rate)
	return max(p.server.Sub(created)+since, 0)
}

// toLocal converts a delay on dbt Cloud's clock to one on ours.
func (p *pace) toLocal(d time.Duration) time.Duration {
	return max(time.Duration(float64(d)/p.rate), minScaledPoll)
}

// ParseClockDuration reads dbt Cloud's "HH:MM:SS" durations (hours may
// exceed 24).
func ParseClockDuration(s string) (time.Duration, bool) {
	parts := strings.Split(strings.TrimSpace(s), ":")
	if len(parts) != 3 {
		return 0, false
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 || (i > 0 && v > 59) {
			return 0, false
		}
		n[i] = v
	}
	return time.Duration(n[0])*time.Hour + time.Duration(n[1])*time.Minute + time.Duration(n[2])*time.Second, true
}
