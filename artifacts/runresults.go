package artifacts

import (
	"io"
	"strconv"
	"strings"
	"time"
)

// RunResults is the content of a run_results.json (schema v1 to v6).
type RunResults struct {
	Metadata    Metadata
	ElapsedTime float64
	// Command is args.which (run, build, test, seed, snapshot, ...); empty
	// before dbt wrote args (v1).
	Command string
	// Args is the args block as written.
	Args    map[string]any
	Results []NodeResult
}

// NodeResult is the result of one node in a run.
type NodeResult struct {
	UniqueID string
	// Status is dbt's status (success, error, skipped, pass, fail, warn,
	// runtime error, partial success, no-op, reused, ...), lower-cased
	// because dbt Fusion writes capitalised words (Error, Success), so that
	// it can be compared and counted. Files from dbt 0.18 and before, which
	// wrote the adapter's response, a test's failure count or null as the
	// status and the outcome in the fail, warn, skip and error keys, get
	// the status a newer dbt would have written (see legacyStatus).
	Status string
	// RawStatus is the status as the file has it: Fusion's "Error", or in
	// old files "CREATE VIEW", "0.0" or "" for null. Show it where dbt's own
	// words are wanted; count with Status.
	RawStatus string
	Message   string
	// Failures is the failing-row count of tests; nil when dbt wrote null.
	Failures      *int
	ExecutionTime float64
	Timing        []Timing
	ThreadID      string
	// AdapterResponse is the adapter's response (rows_affected, query_id, ...).
	AdapterResponse map[string]any
	// CompiledCode is the compiled SQL (compiled_code or compiled_sql); empty
	// when the file has none or the reader was told to skip code.
	CompiledCode string
	RelationName string
}

// Timing is one step (compile, execute) of a node's run.
type Timing struct {
	Name        string
	StartedAt   time.Time
	CompletedAt time.Time
}

// ReadRunResults reads a run_results.json of any schema version.
func ReadRunResults(r io.Reader, opts ...Option) (*RunResults, error) {
	d, done, err := start(r, KindRunResults, opts)
	if err != nil {
		return nil, err
	}
	defer done()
	rr := &RunResults{}
	var sawResults, sawElapsed bool
	err = d.top(func(name []byte) error {
		var err error
		switch string(name) {
		case "metadata":
			err = d.readMetadata(&rr.Metadata)
		case "generated_at":
			// Files from before metadata existed (dbt 0.18 and older)
			// carried it at top level.
			t, err := d.timeVal()
			if rr.Metadata.GeneratedAt.IsZero() {
				rr.Metadata.GeneratedAt = t
			}
			return err
		case "elapsed_time":
			sawElapsed = true
			rr.ElapsedTime, _, err = d.num()
		case "args":
			rr.Args, err = d.anyMap()
			if w, ok := rr.Args["which"].(string); ok {
				rr.Command = w
			}
		case "results":
			sawResults = true
			err = d.array(func() error {
				if d.peek() != '{' {
					return d.skip()
				}
				res, err := d.readNodeResult()
				rr.Results = append(rr.Results, res)
				return err
			})
		default:
			err = d.skip()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := d.checkKind(&rr.Metadata); err != nil {
		return nil, err
	}
	if rr.Metadata.SchemaURL == "" && !(sawResults && sawElapsed) {
		return nil, d.errorf("%w: no dbt_schema_version and no results/elapsed_time", ErrNotArtifact)
	}
	return rr, nil
}

// ReadRunResultsFile reads run results from a .json or gzip-compressed file.
func ReadRunResultsFile(path string, opts ...Option) (*RunResults, error) {
	return readFileAs(path, KindRunResults, opts, ReadRunResults)
}

// legacyResult holds what dbt 0.18 and older wrote about a result's outcome.
type legacyResult struct {
	seen             bool // a fail, warn, skip or error key, or a status that is not a string
	fail, warn, skip bool
	errText          string
	statusNum        float64
	statusIsNum      bool
}

// legacyStatus maps an old result to the status newer dbt writes, from
// dbt-core 0.17/0.18's RunModelResult: skip, error, fail and warn say what
// happened; a test's status is its failure count, and a node's the adapter's
// response ("CREATE VIEW", "SELECT 10", "OK") or "ERROR".
func legacyStatus(l legacyResult, uniqueID string) string {
	test := strings.HasPrefix(uniqueID, "test.")
	switch {
	case l.skip:
		return "skipped"
	case l.errText != "":
		return "error"
	case l.fail:
		return "fail"
	case l.warn:
		return "warn"
	case test && l.statusIsNum && l.statusNum > 0:
		// A failure count without the fail flag: dbt before 0.17 wrote
		// only the count.
		return "fail"
	case test:
		return "pass"
	}
	return "success"
}

func (d *dec) readNodeResult() (NodeResult, error) {
	var res NodeResult
	var old legacyResult
	err := d.object(func(name []byte) error {
		var err error
		switch string(name) {
		case "unique_id":
			res.UniqueID, err = d.istr()
		case "status":
			switch d.peek() {
			case '"':
				res.RawStatus, err = d.istr()
			case 'n':
				old.seen = true
				err = d.skip()
			default:
				old.seen = true
				res.RawStatus, err = d.istr()
				if f, perr := strconv.ParseFloat(res.RawStatus, 64); perr == nil {
					old.statusNum, old.statusIsNum = f, true
				}
			}
		case "fail", "warn", "skip":
			old.seen = true
			var v bool
			v, _, err = d.boolean()
			switch name[0] {
			case 'f':
				old.fail = v
			case 'w':
				old.warn = v
			default:
				old.skip = v
			}
		case "error":
			old.seen = true
			old.errText, err = d.str()
		case "message":
			res.Message, err = d.str()
		case "failures":
			var n int
			var ok bool
			n, ok, err = d.integer()
			if ok {
				res.Failures = &n
			}
		case "execution_time":
			res.ExecutionTime, _, err = d.num()
		case "thread_id":
			res.ThreadID, err = d.istr()
		case "adapter_response":
			res.AdapterResponse, err = d.anyMap()
		case "compiled_code", "compiled_sql":
			if d.skipCd {
				return d.skip()
			}
			res.CompiledCode, err = d.str()
		case "relation_name":
			res.RelationName, err = d.str()
		case "timing":
			err = d.array(func() error {
				var t Timing
				err := d.object(func(name []byte) error {
					var err error
					switch string(name) {
					case "name":
						t.Name, err = d.istr()
					case "started_at":
						t.StartedAt, err = d.timeVal()
					case "completed_at":
						t.CompletedAt, err = d.timeVal()
					default:
						err = d.skip()
					}
					return err
				})
				res.Timing = append(res.Timing, t)
				return err
			})
		case "node":
			// v1-v3 embed the whole node; its unique_id is the fallback id
			// and its compiled code the fallback code.
			err = d.object(func(name []byte) error {
				var err error
				switch string(name) {
				case "unique_id":
					var id string
					id, err = d.istr()
					if res.UniqueID == "" {
						res.UniqueID = id
					}
				case "compiled_sql", "compiled_code":
					if d.skipCd || res.CompiledCode != "" {
						return d.skip()
					}
					res.CompiledCode, err = d.str()
				default:
					err = d.skip()
				}
				return err
			})
		default:
			err = d.skip()
		}
		return err
	})
	if st := d.lower(res.RawStatus); !old.seen || modernStatus(st) {
		// A status word wins over the old keys, should a newer file
		// carry one of them too.
		res.Status = st
	} else {
		res.Status = legacyStatus(old, res.UniqueID)
		if old.statusIsNum && res.Failures == nil && strings.HasPrefix(res.UniqueID, "test.") {
			n := int(old.statusNum)
			res.Failures = &n
		}
	}
	if res.Message == "" {
		// Before message existed, an error's text was in error.
		res.Message = old.errText
	}
	return res, err
}

// modernStatus reports whether s (lower-cased) is a status dbt 0.19 and
// later write, rather than an adapter response or count from older files.
func modernStatus(s string) bool {
	switch s {
	case "success", "error", "skipped", "pass", "fail", "warn", "runtime error", "partial success", "no-op", "reused":
		return true
	}
	return false
}

// lower returns s lower-cased, interned; without a copy when it already is.
func (d *dec) lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' || c >= 0x80 {
			return d.intern([]byte(strings.ToLower(s)))
		}
	}
	return s
}
