package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// procSampler follows a child process's memory from /proc: VmRSS sampled
// every interval and VmHWM, the kernel's own peak, read last (before the
// process is told to stop, so it still exists).
type procSampler struct {
	pid  int
	stop chan struct{}
	done chan struct{}

	mu      sync.Mutex
	maxRSS  int64 // kB, largest VmRSS sampled
	hwm     int64 // kB, latest VmHWM read
	samples int
	series  []rssPoint
}

type rssPoint struct {
	At    time.Time `json:"at"`
	RSSMB float64   `json:"rss_mb"`
}

func sampleProc(pid int, every time.Duration) *procSampler {
	s := &procSampler{pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		lastSeries := time.Time{}
		for {
			rss, hwm, err := readMem(pid)
			if err == nil {
				s.mu.Lock()
				s.maxRSS = max(s.maxRSS, rss)
				s.hwm = max(s.hwm, hwm)
				s.samples++
				if now := time.Now(); now.Sub(lastSeries) >= 5*time.Second {
					s.series = append(s.series, rssPoint{At: now, RSSMB: float64(rss) / 1024})
					lastSeries = now
				}
				s.mu.Unlock()
			}
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// finish reads VmHWM a last time and stops sampling. Call it while the
// process is still alive.
func (s *procSampler) finish() procStats {
	rss, hwm, err := readMem(s.pid)
	cpu, cerr := readCPU(s.pid)
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		s.maxRSS = max(s.maxRSS, rss)
		s.hwm = max(s.hwm, hwm)
	}
	st := procStats{PeakRSSMB: float64(s.hwm) / 1024, MaxSampledRSSMB: float64(s.maxRSS) / 1024,
		EndRSSMB: float64(rss) / 1024, Samples: s.samples, Series: s.series}
	if cerr == nil {
		st.CPUSeconds = cpu
	}
	return st
}

type procStats struct {
	PeakRSSMB       float64    `json:"peak_rss_mb_vmhwm"`
	MaxSampledRSSMB float64    `json:"max_sampled_rss_mb"`
	EndRSSMB        float64    `json:"end_rss_mb"`
	CPUSeconds      float64    `json:"cpu_seconds"`
	Samples         int        `json:"samples"`
	Series          []rssPoint `json:"rss_every_5s,omitempty"`
}

// readMem returns VmRSS and VmHWM in kB.
func readMem(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for line := range bytes.Lines(b) {
		f := strings.Fields(string(line))
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			rss, _ = strconv.ParseInt(f[1], 10, 64)
		case "VmHWM:":
			hwm, _ = strconv.ParseInt(f[1], 10, 64)
		}
	}
	return rss, hwm, nil
}

// readCPU returns the user+system CPU seconds of pid, from /proc/pid/stat
// in clock ticks of 1/100 s (USER_HZ, 100 on every Linux architecture Go
// supports).
func readCPU(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces; fields resume after its ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad utime/stime", pid)
	}
	return (ut + st) / 100, nil
}

// selfCPU is this process's CPU seconds.
func selfCPU() float64 {
	v, _ := readCPU(os.Getpid())
	return v
}
