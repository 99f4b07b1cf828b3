package artifacts

import (
	"io"
	"time"
)

// SourcesResults is the content of a sources.json (source freshness, schema
// v1 to v3).
type SourcesResults struct {
	Metadata    Metadata
	ElapsedTime float64
	Results     []FreshnessResult
}

// FreshnessResult is the freshness check of one source.
type FreshnessResult struct {
	UniqueID string
	// Status is pass, warn, error or runtime error, lower-cased for
	// counting (dbt Fusion writes Pass, Error).
	Status string
	// RawStatus is the status as the file has it.
	RawStatus             string
	MaxLoadedAt           time.Time
	SnapshottedAt         time.Time
	MaxLoadedAtTimeAgoInS float64
	Criteria              *Freshness
	// Error is the error text of a runtime error; Message is message (v3)
	// or, when absent, Error.
	Error         string
	Message       string
	ExecutionTime float64
	ThreadID      string
}

// ReadSources reads a sources.json.
func ReadSources(r io.Reader, opts ...Option) (*SourcesResults, error) {
	d, done, err := start(r, KindSources, opts)
	if err != nil {
		return nil, err
	}
	defer done()
	s := &SourcesResults{}
	var sawResults bool
	err = d.top(func(name []byte) error {
		var err error
		switch string(name) {
		case "metadata":
			err = d.readMetadata(&s.Metadata)
		case "generated_at":
			// Files from before metadata existed carried it at top level.
			t, err := d.timeVal()
			if s.Metadata.GeneratedAt.IsZero() {
				s.Metadata.GeneratedAt = t
			}
			return err
		case "elapsed_time":
			s.ElapsedTime, _, err = d.num()
		case "meta":
			// dbt 0.14 to 0.18 wrote {"meta": {...}, "sources": {id: result}}.
			err = d.object(func(name []byte) error {
				switch string(name) {
				case "generated_at":
					t, err := d.timeVal()
					if s.Metadata.GeneratedAt.IsZero() {
						s.Metadata.GeneratedAt = t
					}
					return err
				case "elapsed_time":
					var err error
					s.ElapsedTime, _, err = d.num()
					return err
				}
				return d.skip()
			})
		case "sources":
			sawResults = true
			err = d.object(func(key []byte) error {
				if d.peek() != '{' {
					return d.skip()
				}
				id := d.intern(key)
				res, err := d.readFreshnessResult()
				if res.UniqueID == "" {
					res.UniqueID = id
				}
				s.Results = append(s.Results, res)
				return err
			})
		case "results":
			sawResults = true
			err = d.array(func() error {
				if d.peek() != '{' {
					return d.skip()
				}
				res, err := d.readFreshnessResult()
				s.Results = append(s.Results, res)
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
	if err := d.checkKind(&s.Metadata); err != nil {
		return nil, err
	}
	if s.Metadata.SchemaURL == "" && !sawResults {
		return nil, d.errorf("%w: no dbt_schema_version and no results", ErrNotArtifact)
	}
	return s, nil
}

// ReadSourcesFile reads source freshness results from a .json or
// gzip-compressed file.
func ReadSourcesFile(path string, opts ...Option) (*SourcesResults, error) {
	return readFileAs(path, KindSources, opts, ReadSources)
}

func (d *dec) readFreshnessResult() (FreshnessResult, error) {
	var res FreshnessResult
	err := d.object(func(name []byte) error {
		var err error
		switch string(name) {
		case "unique_id":
			res.UniqueID, err = d.istr()
		case "status", "state": // state: dbt 0.14 to 0.18
			res.RawStatus, err = d.istr()
			res.Status = d.lower(res.RawStatus)
		case "node":
			// dbt 0.18 and before embed the source; its unique_id is the
			// result's.
			err = d.object(func(name []byte) error {
				if string(name) != "unique_id" {
					return d.skip()
				}
				id, err := d.istr()
				if res.UniqueID == "" {
					res.UniqueID = id
				}
				return err
			})
		case "max_loaded_at":
			res.MaxLoadedAt, err = d.timeVal()
		case "snapshotted_at":
			res.SnapshottedAt, err = d.timeVal()
		case "max_loaded_at_time_ago_in_s", "age": // age: results written whole by dbt before 0.19
			res.MaxLoadedAtTimeAgoInS, _, err = d.num()
		case "criteria":
			res.Criteria, err = d.readFreshness()
		case "error":
			res.Error, err = d.str()
		case "message":
			res.Message, err = d.str()
		case "execution_time":
			res.ExecutionTime, _, err = d.num()
		case "thread_id":
			res.ThreadID, err = d.istr()
		default:
			err = d.skip()
		}
		return err
	})
	if res.Message == "" {
		res.Message = res.Error
	}
	return res, err
}
