package catalog

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/dbtlink/dbtlink/artifacts"
	"github.com/dbtlink/dbtlink/dbtcloud"
)

// ErrNoRuns is returned by Fetch for an environment none of whose jobs has
// a completed run with a manifest.
var ErrNoRuns = errors.New("no completed run with a manifest")

// firstFound reads the first of refs (candidates, newest first) that dbt
// Cloud has, with read; each one not found (404) adds a warning ending in
// note and the next is tried. None found gives the zero value and a nil
// error: the caller decides whether that is fatal.
func firstFound[T any](ctx context.Context, client *dbtcloud.Client, accountID int64, refs []ArtifactRef, note string, warnings *[]string,
	read func(io.Reader, ...artifacts.Option) (T, error)) (T, ArtifactRef, error) {
	var zero T
	for _, ref := range refs {
		var v T
		err := fetchOne(ctx, client, accountID, ref, func(r io.Reader, opt artifacts.Option) error {
			var err error
			v, err = read(r, opt)
			return err
		})
		if errors.Is(err, dbtcloud.ErrNotFound) {
			*warnings = append(*warnings, fmt.Sprintf("%s: not found%s", ref, note))
			continue
		}
		if err != nil {
			return zero, ArtifactRef{}, err
		}
		return v, ref, nil
	}
	return zero, ArtifactRef{}, nil
}

// Fetch downloads and reads the artifacts a plan chose. Each body is
// streamed into its reader, never held whole. The manifest is required:
// the first candidate that exists is read. A missing run_results.json,
// catalog.json or sources.json (404) is a warning in Inputs.Warnings, and
// for catalogs and sources the next candidate is tried; any other failure,
// including a file that is truncated or of another kind, is an error that
// names the file, run and step.
func Fetch(ctx context.Context, client *dbtcloud.Client, ep EnvPlan) (*Inputs, error) {
	where := fmt.Sprintf("environment %q (%d)", ep.Environment.Name, ep.Environment.ID)
	in := &Inputs{Fingerprint: ep.Fingerprint}
	in.Jobs, in.Runs = jobsAndRuns(client, ep)
	m, ref, err := firstFound(ctx, client, ep.AccountID, ep.Manifests, "", &in.Warnings, artifacts.ReadManifest)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", where, err)
	}
	in.Manifest, in.ManifestRunID = m, ref.RunID
	if in.Manifest == nil {
		return nil, fmt.Errorf("fetch %s: %w (%d job(s) looked at); run a job of this environment, or exclude it", where, ErrNoRuns, len(ep.Jobs))
	}
	for _, ref := range ep.RunResults {
		var rr *artifacts.RunResults
		err := fetchOne(ctx, client, ep.AccountID, ref, func(r io.Reader, opt artifacts.Option) error {
			var err error
			rr, err = artifacts.ReadRunResults(r, opt)
			return err
		})
		if errors.Is(err, dbtcloud.ErrNotFound) {
			// A step that failed before dbt wrote results.
			in.Warnings = append(in.Warnings, fmt.Sprintf("%s: not found", ref))
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("fetch %s: %w", where, err)
		}
		in.Results = append(in.Results, RunResultsInput{RunID: ref.RunID, JobID: ref.JobID, Step: ref.Step, RunFinishedAt: ref.RunFinishedAt, Results: rr})
	}
	if in.Catalog, _, err = firstFound(ctx, client, ep.AccountID, ep.Catalogs, " (docs were not generated)", &in.Warnings, artifacts.ReadCatalog); err != nil {
		return nil, fmt.Errorf("fetch %s: %w", where, err)
	}
	if len(ep.Catalogs) == 0 {
		in.Warnings = append(in.Warnings, "no job generates docs: column types are the documented ones only (turn on \"Generate docs on run\" for a job)")
	}
	src, ref, err := firstFound(ctx, client, ep.AccountID, ep.Sources, "", &in.Warnings, artifacts.ReadSources)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", where, err)
	}
	in.Sources, in.SourcesRunID = src, ref.RunID
	return in, nil
}

// fetchOne streams one artifact into read. Read errors are wrapped with the
// artifact's run and step; a failure to download keeps ErrNotFound
// matchable.
func fetchOne(ctx context.Context, client *dbtcloud.Client, accountID int64, ref ArtifactRef, read func(io.Reader, artifacts.Option) error) error {
	body, _, err := client.Artifacts.Get(ctx, accountID, ref.RunID, ref.Path, ref.Step)
	if err != nil {
		return fmt.Errorf("download %s: %w", ref, err)
	}
	defer body.Close()
	if err := read(body, artifacts.WithName(ref.Path)); err != nil {
		return fmt.Errorf("read %s: %w", ref, err)
	}
	return nil
}
