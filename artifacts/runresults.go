package artifacts

import (
	"io"
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
	// Status is kept as dbt wrote it (success, error, skipped, pass, fail,
	// warn, runtime error, partial success, no-op, reused, ...), lower-cased
	// because dbt Fusion writes capitalised words (Error, Success).
	Status  string
	Message string
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

func (d *dec) readNodeResult() (NodeResult, error) {
	var res NodeResult
	err := d.object(func(name []byte) error {
		var err error
		switch string(name) {
		case "unique_id":
			res.UniqueID, err = d.istr()
		case "status":
			var s string
			s, err = d.istr()
			res.Status = d.intern([]byte(strings.ToLower(s)))
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
	return res, err
}
