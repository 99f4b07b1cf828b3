package cli

import (
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dbtlink/dbtlink/dbtcloud"
)

// TestProgressNarrowTerminal: at 50 columns every line of the live view
// fits (a wrapped line would leave rows behind at the next redraw), the
// states and durations stay whole, and names give way; the width is
// stderr's, where the view is drawn, even when stdout is a pipe.
func TestProgressNarrowTerminal(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)
	ts := func(sec int) dbtcloud.Timestamp {
		return dbtcloud.Timestamp{Time: t0.Add(time.Duration(sec) * time.Second)}
	}
	run := dbtcloud.Run{ID: 70000001, Status: dbtcloud.RunStatusRunning, CreatedAt: ts(0), RunSteps: []dbtcloud.RunStep{
		{Index: 1, Name: "Clone git repository", Status: dbtcloud.RunStatusSuccess, StartedAt: ts(7), FinishedAt: ts(9)},
		{Index: 2, Name: "Create profile from connection Emulated DuckDB (analytics)", Status: dbtcloud.RunStatusSuccess, StartedAt: ts(9), FinishedAt: ts(10)},
		{Index: 3, Name: "Invoke dbt with `dbt build --select state:modified+ --defer`", Status: dbtcloud.RunStatusRunning, StartedAt: ts(10)},
	}}
	ios, _, _, errOut := TestStreams()
	ios.SetTTY(false, false, true) // stdout piped, stderr a terminal
	ios.SetWidth(80)               // stdout's width must not be the one used
	ios.errWidth = 50
	now := t0.Add(3723 * time.Second)
	p := newProgress(ios, func() time.Time { return now }, "nightly full refresh of the warehouse", "")
	p.update(&run)
	p.scheduled(40 * time.Second)

	ansi := regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")
	frames := strings.Split(errOut.String(), "\x1b[J")
	last := ansi.ReplaceAllString(frames[len(frames)-1], "")
	lines := strings.Split(strings.TrimSuffix(last, "\n"), "\n")
	for _, l := range lines {
		if n := utf8.RuneCountInString(l); n > 49 {
			t.Errorf("line of %d columns at width 50: %q", n, l)
		}
	}
	want := []string{"· Running · 1h02m03s", "`dbt build --selec…  1h01m53s", "repository                 2s", "Emu…  1s", "next check in 40s"}
	for _, w := range want {
		if !strings.Contains(last, w) {
			t.Errorf("frame lacks %q:\n%s", w, last)
		}
	}
	if got := len(lines); got != 6 { // header, blank, three steps, next check
		t.Errorf("%d lines, want 6:\n%s", got, last)
	}
}
