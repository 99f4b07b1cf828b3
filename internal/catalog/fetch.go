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
	for _, ref := range ep.Manifests {
		err := fetchOne(ctx, client, ep.AccountID, ref, func(r io.Reader, opt artifacts.Option) error {
			m, err := artifacts.ReadManifest(r, opt)
			in.Manifest = m
			return err
		})
		if errors.Is(err, dbtcloud.ErrNotFound) {
			in.Warnings = append(in.Warnings, fmt.Sprintf("%s: not found", ref))
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("fetch %s: %w", where, err)
		}
		in.ManifestRunID = ref.RunID
		break
	}
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
	for _, ref := range ep.Catalogs {
		err := fetchOne(ctx, client, ep.AccountID, ref, func(r io.Reader, opt artifacts.Option) error {
			c, err := artifacts.ReadCatalog(r, opt)
			in.Catalog = c
			return err
		})
		if errors.Is(err, dbtcloud.ErrNotFound) {
			in.Warnings = append(in.Warnings, fmt.Sprintf("%s: not found (docs were not generated)", ref))
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("fetch %s: %w", where, err)
		}
		break
	}
	if len(ep.Catalogs) == 0 {
		in.Warnings = append(in.Warnings, "no job generates docs: column types are the documented ones only (turn on \"Generate docs on run\" for a job)")
	}
	for _, ref := range ep.Sources {
		err := fetchOne(ctx, client, ep.AccountID, ref, func(r io.Reader, opt artifacts.Option) error {
			s, err := artifacts.ReadSources(r, opt)
			in.Sources = s
			return err
		})
		if errors.Is(err, dbtcloud.ErrNotFound) {
			in.Warnings = append(in.Warnings, fmt.Sprintf("%s: not found", ref))
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("fetch %s: %w", where, err)
		}
		in.SourcesRunID = ref.RunID
		break
	}
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
