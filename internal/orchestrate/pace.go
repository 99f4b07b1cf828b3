package orchestrate

import (
	"strconv"
	"strings"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
)

// Pace estimates how fast dbt Cloud's clock runs against ours, from the
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
//
// Wait keeps one Pace per wait; the server's tracker keeps one per
// connection across its polls (see internal/tracker), so both follow an
// accelerated emulator the same way. The zero value is ready; samples may
// come from different runs of one account, since created_at plus duration
// is the server's now whichever run carries it.
type Pace struct {
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
	// resetBack is how far back the server's clock may seem to go before
	// the estimate restarts: samples from different runs jitter by up to a
	// second (durations are whole seconds), a restarted emulator jumps.
	resetBack = time.Minute
)

// Adjust returns the delay before the next read of a run created at
// created (on dbt Cloud's clock), at local time now, given d, the delay
// schedule s gives on our clock. When dbt Cloud's clock was seen to run
// clearly faster, the schedule is read on its clock (the run's age and
// expected duration are dbt Cloud's) and the delay converted to ours; when
// a single sample showed its clock well ahead of ours, the next read comes
// after probeAfter at the latest, to learn the rate. Otherwise d is kept:
// a dbt Cloud running at our speed is polled as without a Pace.
func (p *Pace) Adjust(s Schedule, d time.Duration, created, now time.Time) time.Duration {
	switch {
	case p.accelerated():
		return p.toLocal(s.Next(p.serverAge(created, now)))
	case p.wantsProbe():
		return min(d, probeAfter)
	}
	return d
}

// Accelerated reports whether dbt Cloud's clock was seen to run clearly
// faster than ours, and the measured rate.
func (p *Pace) Accelerated() (float64, bool) { return p.rate, p.accelerated() }

// Observe records run as read at local time local; runs that ended or
// carry no usable duration teach nothing. A server clock seen to go back by
// more than resetBack (an emulator restarted) starts the estimate again.
func (p *Pace) Observe(run *dbtcloud.Run, local time.Time) {
	if run == nil || run.CreatedAt.IsZero() || !run.FinishedAt.IsZero() {
		return
	}
	d, ok := ParseClockDuration(run.Duration)
	if !ok {
		return
	}
	now := run.CreatedAt.Add(d)
	if p.n > 0 && p.server.Sub(now) > resetBack {
		*p = Pace{}
	}
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
func (p *Pace) accelerated() bool { return p.rate >= minAccelerated }

// wantsProbe reports whether the next read should come early, to learn the
// rate: there is a single sample so far, and dbt Cloud's clock looked far
// ahead of ours at that read (an accelerated clock started a while ago).
func (p *Pace) wantsProbe() bool {
	return p.n == 1 && p.server.Sub(p.local) > probeSkew
}

// serverAge is the age of the run on dbt Cloud's clock at local time now:
// its duration at the last read plus the time since, at the measured rate.
func (p *Pace) serverAge(created time.Time, now time.Time) time.Duration {
	since := time.Duration(float64(now.Sub(p.local)) * p.rate)
	return max(p.server.Sub(created)+since, 0)
}

// toLocal converts a delay on dbt Cloud's clock to one on ours.
func (p *Pace) toLocal(d time.Duration) time.Duration {
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
