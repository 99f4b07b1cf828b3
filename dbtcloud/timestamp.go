package dbtcloud

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Timestamp is a time as dbt Cloud sends it. Runs use
// "2021-12-07 10:32:24.326116+00:00" (a space, not a T); jobs, projects and
// environments use RFC 3339 with T, sometimes with Z, with or without a
// fraction. JSON null and "" decode to the zero Timestamp, which marshals
// back to null.
type Timestamp struct {
	time.Time
}

// timestampLayouts are tried in order. The ".999999999" fraction makes the
// fractional seconds optional in each layout.
var timestampLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999Z07",
	"2006-01-02 15:04:05.999999999Z07",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
}

// ParseTimestamp parses any of the time formats dbt Cloud sends. A time
// without a zone is taken as UTC, which is what dbt Cloud stores.
func ParseTimestamp(s string) (Timestamp, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Timestamp{}, nil
	}
	for _, layout := range timestampLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return Timestamp{t}, nil
		}
	}
	return Timestamp{}, fmt.Errorf("dbtcloud: unrecognised timestamp %q", s)
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*t = Timestamp{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("dbtcloud: timestamp must be a string: %w", err)
	}
	ts, err := ParseTimestamp(s)
	if err != nil {
		return err
	}
	*t = ts
	return nil
}

// MarshalJSON implements json.Marshaler: RFC 3339 with nanoseconds, or null
// for the zero Timestamp.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.Format(time.RFC3339Nano))
}
