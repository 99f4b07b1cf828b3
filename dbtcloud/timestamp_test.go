package dbtcloud

import (
	"encoding/json"
	"testing"
	"time"
)

func TestTimestampUnmarshal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Time
	}{
		{`"2021-12-07 10:32:24.326116+00:00"`, time.Date(2021, 12, 7, 10, 32, 24, 326116000, time.UTC)},
		{`"2021-11-18T15:19:03.185668+00:00"`, time.Date(2021, 11, 18, 15, 19, 3, 185668000, time.UTC)},
		{`"2022-05-05T06:51:10Z"`, time.Date(2022, 5, 5, 6, 51, 10, 0, time.UTC)},
		{`"2022-05-05T06:51:10.5Z"`, time.Date(2022, 5, 5, 6, 51, 10, 500000000, time.UTC)},
		{`"2022-05-05 06:51:10+00:00"`, time.Date(2022, 5, 5, 6, 51, 10, 0, time.UTC)},
		{`"2022-05-01 00:00:00Z"`, time.Date(2022, 5, 1, 0, 0, 0, 0, time.UTC)},
		{`"2022-05-05T08:51:10+02:00"`, time.Date(2022, 5, 5, 6, 51, 10, 0, time.UTC)},
		{`"2022-05-05T06:51:10.123456"`, time.Date(2022, 5, 5, 6, 51, 10, 123456000, time.UTC)},
		{`"2022-05-05 06:51:10"`, time.Date(2022, 5, 5, 6, 51, 10, 0, time.UTC)},
		{`null`, time.Time{}},
		{`""`, time.Time{}},
	}
	for _, tt := range tests {
		var ts Timestamp
		if err := json.Unmarshal([]byte(tt.in), &ts); err != nil {
			t.Errorf("Unmarshal(%s): %v", tt.in, err)
			continue
		}
		if !ts.Equal(tt.want) {
			t.Errorf("Unmarshal(%s) = %v, want %v", tt.in, ts.Time, tt.want)
		}
	}
	for _, bad := range []string{`"yesterday"`, `"2022-13-01T00:00:00Z"`, `12345`} {
		var ts Timestamp
		if err := json.Unmarshal([]byte(bad), &ts); err == nil {
			t.Errorf("Unmarshal(%s) = %v, want error", bad, ts)
		}
	}
}

func TestTimestampMarshal(t *testing.T) {
	t.Parallel()
	b, _ := json.Marshal(struct{ A, B Timestamp }{B: Timestamp{time.Date(2022, 5, 5, 6, 51, 10, 0, time.UTC)}})
	if got, want := string(b), `{"A":null,"B":"2022-05-05T06:51:10Z"}`; got != want {
		t.Errorf("Marshal = %s, want %s", got, want)
	}
}

func TestRunStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s        RunStatus
		str      string
		terminal bool
	}{
		{RunStatusQueued, "Queued", false},
		{RunStatusStarting, "Starting", false},
		{RunStatusRunning, "Running", false},
		{RunStatusSuccess, "Success", true},
		{RunStatusError, "Error", true},
		{RunStatusCancelled, "Cancelled", true},
		{RunStatus(7), "Unknown(7)", false},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.str {
			t.Errorf("%d.String() = %q, want %q", int(tt.s), got, tt.str)
		}
		if got := tt.s.Terminal(); got != tt.terminal {
			t.Errorf("%d.Terminal() = %v, want %v", int(tt.s), got, tt.terminal)
		}
		if p, ok := ParseRunStatus(tt.str); ok != (tt.s != 7) || (ok && p != tt.s) {
			t.Errorf("ParseRunStatus(%q) = %v, %v", tt.str, p, ok)
		}
	}
	if p, ok := ParseRunStatus("cancelled"); !ok || p != RunStatusCancelled {
		t.Errorf("ParseRunStatus(cancelled) = %v, %v", p, ok)
	}
}
