package catalog

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"time"

	"github.com/dbtlink/dbtlink/artifacts"
	"github.com/dbtlink/dbtlink/internal/store"
)

// Inputs are the artifacts one snapshot is built from, with where each came
// from. Fetch fills them from dbt Cloud, InputsFromFiles from uploaded files.
type Inputs struct {
	Manifest *artifacts.Manifest
	// ManifestRunID is the run whose manifest this is (0 for uploads).
	ManifestRunID int64
	// Catalog and Sources are nil when none was available.
	Catalog      *artifacts.Catalog
	Sources      *artifacts.SourcesResults
	SourcesRunID int64
	// Results are every run_results read, in any order: BuildSnapshot picks
	// the newest execution per node itself.
	Results []RunResultsInput
	// Jobs and Runs are the dbt Cloud jobs and the runs read (empty for
	// uploads).
	Jobs []store.CatalogJob
	Runs []store.CatalogRun
	// Fingerprint names the inputs: the plan's fingerprint, or the sha256
	// of the uploaded files.
	Fingerprint string
	// Warnings say what was missing but not fatal (no catalog.json, ...).
	Warnings []string
}

// RunResultsInput is one run_results.json with its provenance.
type RunResultsInput struct {
	RunID int64
	JobID int64
	// Step is the run step (from 1) that wrote it; 0 when unknown.
	Step int
	// RunFinishedAt is the run's finish time, used for results without an
	// execute timing; zero for uploads (metadata.generated_at is used).
	RunFinishedAt time.Time
	Results       *artifacts.RunResults
}

// kept is an uploaded file's name and metadata, for the checks across files.
type kept struct {
	name string
	md   artifacts.Metadata
}

// UploadScope is the store scope of an upload named name (--project).
func UploadScope(name string) store.CatalogScope {
	return store.CatalogScope{Key: "upload:" + name, Kind: store.ScopeUpload, ProjectName: name}
}

// UploadFile is one file of a dbt Core upload.
type UploadFile struct {
	// Name is how the user named it (a path), used in messages.
	Name string
	R    io.Reader
}

// InputsFromFiles reads the files of `dbtlink catalog upload`: exactly one
// manifest.json and any of run_results.json (several allowed: one per
// invocation), catalog.json and sources.json, in any order; each file's kind
// is detected, not taken from its name. It refuses a second manifest,
// catalog or sources file, and a run_results or sources file whose
// metadata.project_id differs from the manifest's (both set: files of
// another project); an invocation_id that differs from the manifest's is
// normal (dbt test after dbt run) and not reported. The fingerprint is the
// sha256 of the files in the order given.
func InputsFromFiles(files ...UploadFile) (*Inputs, error) {
	return inputsFromFiles(files, "")
}

// inputsFromFiles is InputsFromFiles; a caller that has hashed the files
// already gives their fingerprint, and they are not hashed again (100 MB
// of artifacts cost SHA-256 about 0.1 s).
func inputsFromFiles(files []UploadFile, fingerprint string) (*Inputs, error) {
	in := &Inputs{}
	var h hash.Hash = sha256.New()
	if fingerprint != "" {
		h = nopHash{}
	}
	var manifestName string
	var others []kept
	for _, f := range files {
		if f.R == nil {
			return nil, fmt.Errorf("upload %s: no content", f.Name)
		}
		// Detection reads the start of the file (metadata comes first);
		// the bytes it read are replayed, so each file is read once.
		var seen bytes.Buffer
		br := bufio.NewReaderSize(io.TeeReader(f.R, h), 1<<16)
		kind, _, err := artifacts.Detect(io.TeeReader(br, &seen), artifacts.WithName(f.Name))
		if err != nil {
			return nil, fmt.Errorf("upload %s: %w (expected a dbt manifest.json, run_results.json, catalog.json or sources.json)", f.Name, err)
		}
		r := io.MultiReader(bytes.NewReader(seen.Bytes()), br)
		opt := artifacts.WithName(f.Name)
		switch kind {
		case artifacts.KindManifest:
			if in.Manifest != nil {
				return nil, fmt.Errorf("upload %s: a second manifest (the first was %s); give one manifest.json per upload", f.Name, manifestName)
			}
			m, err := artifacts.ReadManifest(r, opt)
			if err != nil {
				return nil, fmt.Errorf("upload %s: %w", f.Name, err)
			}
			in.Manifest, manifestName = m, f.Name
		case artifacts.KindRunResults:
			rr, err := artifacts.ReadRunResults(r, opt)
			if err != nil {
				return nil, fmt.Errorf("upload %s: %w", f.Name, err)
			}
			in.Results = append(in.Results, RunResultsInput{Results: rr})
			others = append(others, kept{f.Name, rr.Metadata})
		case artifacts.KindCatalog:
			if in.Catalog != nil {
				return nil, fmt.Errorf("upload %s: a second catalog.json; give at most one", f.Name)
			}
			c, err := artifacts.ReadCatalog(r, opt)
			if err != nil {
				return nil, fmt.Errorf("upload %s: %w", f.Name, err)
			}
			in.Catalog = c
		case artifacts.KindSources:
			if in.Sources != nil {
				return nil, fmt.Errorf("upload %s: a second sources.json; give at most one", f.Name)
			}
			s, err := artifacts.ReadSources(r, opt)
			if err != nil {
				return nil, fmt.Errorf("upload %s: %w", f.Name, err)
			}
			in.Sources = s
			others = append(others, kept{f.Name, s.Metadata})
		default:
			return nil, fmt.Errorf("upload %s: unsupported artifact kind %s", f.Name, kind)
		}
		// Drain what the reader left (trailing whitespace) so the hash
		// covers the whole file.
		if _, err := io.Copy(io.Discard, br); err != nil {
			return nil, fmt.Errorf("upload %s: %w", f.Name, err)
		}
	}
	if in.Manifest == nil {
		return nil, errors.New("upload: no manifest.json among the files; the manifest is required (dbt writes it to target/ on every invocation)")
	}
	pid := in.Manifest.Metadata.ProjectID
	for _, o := range others {
		if pid != "" && o.md.ProjectID != "" && o.md.ProjectID != pid {
			return nil, fmt.Errorf("upload %s: project_id %s differs from the manifest's (%s, in %s): the file belongs to another dbt project", o.name, o.md.ProjectID, pid, manifestName)
		}
	}
	in.Warnings = append(in.Warnings, uploadWarnings(in, manifestName, others)...)
	in.Fingerprint = fingerprint
	if in.Fingerprint == "" {
		in.Fingerprint = "sha256:" + hex.EncodeToString(h.Sum(nil))
	}
	return in, nil
}

// nopHash takes the bytes of files already hashed.
type nopHash struct{}

func (nopHash) Write(p []byte) (int, error) { return len(p), nil }
func (nopHash) Sum(b []byte) []byte         { return b }
func (nopHash) Reset()                      {}
func (nopHash) Size() int                   { return 0 }
func (nopHash) BlockSize() int              { return 1 }

// uploadWarnings flags files that are probably not of the manifest's
// project but cannot be refused for sure (catalog.json carries no
// project_id; run_results of a dbt 0.x run neither): files describing
// none of the manifest's nodes, or written by another dbt version.
func uploadWarnings(in *Inputs, manifestName string, others []kept) []string {
	var w []string
	m := in.Manifest
	if c := in.Catalog; c != nil && len(c.Nodes)+len(c.Sources) > 0 {
		found := false
		for _, t := range slices.Concat(c.Nodes, c.Sources) {
			if m.Node(t.UniqueID) != nil {
				found = true
				break
			}
		}
		if !found {
			w = append(w, fmt.Sprintf("catalog.json describes none of the nodes of %s: is it of another project?", manifestName))
		}
	}
	for i, rr := range in.Results {
		found := false
		for _, r := range rr.Results.Results {
			if m.Node(r.UniqueID) != nil {
				found = true
				break
			}
		}
		if !found && len(rr.Results.Results) > 0 {
			w = append(w, fmt.Sprintf("run_results file %d has no result for a node of %s: is it of another project?", i+1, manifestName))
		}
	}
	for _, o := range others {
		if v := o.md.DBTVersion; v != "" && m.Metadata.DBTVersion != "" && v != m.Metadata.DBTVersion {
			w = append(w, fmt.Sprintf("%s was written by dbt %s, the manifest by dbt %s", o.name, v, m.Metadata.DBTVersion))
		}
	}
	return w
}
