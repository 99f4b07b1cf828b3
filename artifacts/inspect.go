package artifacts

import (
	"cmp"
	"io"
	"slices"
	"strings"
	"time"
)

// Summary is what `dbtlink artifacts inspect` prints about one artifact.
type Summary struct {
	Path          string     `json:"path"`
	Bytes         int64      `json:"bytes"`
	Kind          Kind       `json:"kind"`
	SchemaVersion int        `json:"schema_version"`
	SchemaURL     string     `json:"schema_url,omitempty"`
	DBTVersion    string     `json:"dbt_version,omitempty"`
	Adapter       string     `json:"adapter,omitempty"`
	ProjectName   string     `json:"project_name,omitempty"`
	GeneratedAt   *time.Time `json:"generated_at,omitempty"`
	InvocationID  string     `json:"invocation_id,omitempty"`
	// Counts is never nil, so the JSON always has the object. Manifest: one
	// entry per resource type present (model, test, source, macro, group,
	// ...). Catalog: nodes and sources. Run results and sources.json:
	// results.
	Counts map[string]int `json:"counts"`
	// Statuses counts results by status (run results and sources.json).
	Statuses map[string]int `json:"statuses,omitempty"`
	// Tests summarises data and unit test results (run results only).
	Tests *TestSummary `json:"tests,omitempty"`
	// Failures lists results that failed or errored, tests and other nodes
	// alike (run results and sources.json), in file order.
	Failures []ResultLine `json:"failures,omitempty"`
	// Slowest are the ten results with the longest execution time.
	Slowest     []ResultLine `json:"slowest,omitempty"`
	ElapsedTime float64      `json:"elapsed_time,omitempty"`
	Command     string       `json:"command,omitempty"`
}

// TestSummary counts test results by status.
type TestSummary struct {
	Pass    int `json:"pass"`
	Warn    int `json:"warn"`
	Fail    int `json:"fail"`
	Error   int `json:"error"`
	Skipped int `json:"skipped"`
	// Other counts statuses outside those five (dbt may add some).
	Other int `json:"other,omitempty"`
}

// ResultLine is one result in a summary list.
type ResultLine struct {
	UniqueID      string  `json:"unique_id"`
	Status        string  `json:"status"`
	Message       string  `json:"message,omitempty"`
	Failures      *int    `json:"failures,omitempty"`
	ExecutionTime float64 `json:"execution_time"`
}

// Inspect reads the artifact at path (any kind, plain or gzip) and summarises
// it. Code is skipped: a summary never needs it.
// A manifest is only counted, not read into the model (see manifestCounts);
// the summary is the same as Summarize on the full read.
func Inspect(path string) (*Summary, error) {
	opts := []Option{SkipCode()}
	kind, err := detectKindOfFile(path, opts)
	if err != nil {
		return nil, err
	}
	if kind == KindManifest {
		var c *manifestCounts
		err := withFile(path, KindManifest, opts, func(r io.Reader, opts []Option) error {
			var err error
			c, err = readManifestCounts(r, opts...)
			return err
		})
		if err != nil {
			return nil, err
		}
		return summarizeCounts(path, c), nil
	}
	f, err := readFileKind(path, kind, opts)
	if err != nil {
		return nil, err
	}
	return Summarize(path, f), nil
}

// summarizeCounts is Summarize for a manifest that was only counted.
func summarizeCounts(path string, c *manifestCounts) *Summary {
	s := newSummary(path, KindManifest, c.Metadata)
	for t, n := range c.Types {
		s.Counts[t] = n
	}
	if c.Macros > 0 {
		s.Counts[string(MacroType)] = c.Macros
	}
	if c.Groups > 0 {
		s.Counts[string(GroupType)] = c.Groups
	}
	return s
}

// Summarize builds the summary of an artifact already read.
func Summarize(path string, f *File) *Summary {
	s := newSummary(path, f.Kind, f.Metadata())
	switch {
	case f.Manifest != nil:
		for _, n := range f.Manifest.Nodes {
			s.Counts[string(n.ResourceType)]++
		}
		if len(f.Manifest.Macros) > 0 {
			s.Counts[string(MacroType)] = len(f.Manifest.Macros)
		}
		if len(f.Manifest.Groups) > 0 {
			s.Counts[string(GroupType)] = len(f.Manifest.Groups)
		}
	case f.Catalog != nil:
		s.Counts["nodes"] = len(f.Catalog.Nodes)
		s.Counts["sources"] = len(f.Catalog.Sources)
		if len(f.Catalog.Errors) > 0 {
			s.Counts["errors"] = len(f.Catalog.Errors)
		}
	case f.RunResults != nil:
		rr := f.RunResults
		s.Counts["results"] = len(rr.Results)
		s.ElapsedTime = rr.ElapsedTime
		s.Command = rr.Command
		s.Statuses = map[string]int{}
		var ts TestSummary
		tests := 0
		for i := range rr.Results {
			r := &rr.Results[i]
			s.Statuses[r.Status]++
			line := ResultLine{UniqueID: r.UniqueID, Status: statusLabel(r.Status, r.RawStatus), Message: r.Message,
				Failures: r.Failures, ExecutionTime: r.ExecutionTime}
			if isTestID(r.UniqueID) {
				tests++
				switch r.Status {
				case "pass", "success":
					ts.Pass++
				case "warn":
					ts.Warn++
				case "fail":
					ts.Fail++
				case "error", "runtime error":
					ts.Error++
				case "skipped":
					ts.Skipped++
				default:
					ts.Other++
				}
			}
			if failed(r.Status) {
				s.Failures = append(s.Failures, line)
			}
			s.Slowest = append(s.Slowest, line)
		}
		if tests > 0 {
			s.Tests = &ts
		}
		s.Slowest = slowest(s.Slowest)
	case f.Sources != nil:
		src := f.Sources
		s.Counts["results"] = len(src.Results)
		s.ElapsedTime = src.ElapsedTime
		s.Statuses = map[string]int{}
		for i := range src.Results {
			r := &src.Results[i]
			s.Statuses[r.Status]++
			line := ResultLine{UniqueID: r.UniqueID, Status: statusLabel(r.Status, r.RawStatus), Message: r.Message, ExecutionTime: r.ExecutionTime}
			if failed(r.Status) {
				s.Failures = append(s.Failures, line)
			}
			s.Slowest = append(s.Slowest, line)
		}
		s.Slowest = slowest(s.Slowest)
	}
	return s
}

// statusLabel is the status a result line shows: as dbt wrote it when it
// is a spelling of the status (Fusion's "Error"), and the status otherwise
// (an old file's "CREATE VIEW", "0.0" or null).
func statusLabel(status, raw string) string {
	if raw != "" && strings.EqualFold(raw, status) {
		return raw
	}
	return status
}

func isTestID(id string) bool {
	return strings.HasPrefix(id, "test.") || strings.HasPrefix(id, "unit_test.")
}

func failed(status string) bool {
	switch status {
	case "fail", "error", "runtime error":
		return true
	}
	return false
}

// slowest keeps the ten longest-running lines, longest first; ties keep file
// order so the output is deterministic.
func slowest(l []ResultLine) []ResultLine {
	slices.SortStableFunc(l, func(a, b ResultLine) int { return cmp.Compare(b.ExecutionTime, a.ExecutionTime) })
	if len(l) > 10 {
		l = l[:10:10]
	}
	// Messages are in Failures already; keep slow lines short.
	for i := range l {
		l[i].Message = ""
	}
	if len(l) == 0 {
		return nil
	}
	return l
}

// newSummary is the part of a summary every kind has.
func newSummary(path string, kind Kind, md Metadata) *Summary {
	s := &Summary{
		Path:          path,
		Bytes:         fileSize(path),
		Kind:          kind,
		SchemaVersion: md.SchemaVersion,
		SchemaURL:     md.SchemaURL,
		DBTVersion:    md.DBTVersion,
		Adapter:       md.AdapterType,
		ProjectName:   md.ProjectName,
		InvocationID:  md.InvocationID,
		Counts:        map[string]int{},
	}
	if !md.GeneratedAt.IsZero() {
		t := md.GeneratedAt
		s.GeneratedAt = &t
	}
	return s
}
