package openlineage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/dbtlink/dbtlink/artifacts"
	"github.com/dbtlink/dbtlink/dbtcloud"
)

// stepInvocation finds the dbt invocation of a step named "Invoke dbt
// with `dbt build -s x`" (the name dbt Cloud gives command steps).
var stepInvocation = regexp.MustCompile("`dbt\\s+([^`]*)`")

// dbtCommands are dbt's subcommands, to tell a command from the value of a
// global flag before it (`dbt --log-format json build`).
var dbtCommands = map[string]bool{"build": true, "clean": true, "clone": true, "compile": true, "debug": true, "deps": true,
	"docs": true, "init": true, "list": true, "ls": true, "parse": true, "retry": true, "run": true, "run-operation": true,
	"seed": true, "show": true, "snapshot": true, "source": true, "test": true}

// stepCommand is the dbt subcommand a step ran, "" for steps that are not
// dbt invocations (clone, profile).
func stepCommand(name string) string {
	m := stepInvocation.FindStringSubmatch(name)
	if m == nil {
		return ""
	}
	for _, tok := range strings.Fields(m[1]) {
		if dbtCommands[tok] {
			return tok
		}
	}
	return ""
}

// collected are the commands whose steps can have events.
var collected = map[string]bool{"run": true, "build": true, "test": true, "seed": true, "snapshot": true, "retry": true}

// FromCloud reads a finished dbt Cloud run and, step by step, the
// manifest.json and run_results.json of each step that ran dbt run, build,
// test, seed, snapshot or retry, plus the run's catalog.json when it has
// one, as the OpenLineage integration of Airflow's dbt Cloud provider
// does, and builds the run's events. Unless opts.DatasetNamespace is set,
// it also reads the warehouse connection through opts.Warehouses (one
// call per connection) to name the datasets; a connection it may not read
// or cannot name gives a fallback namespace and a warning, a passing
// failure (dbt Cloud's 5xx, the network) an error, so that the caller
// retries rather than send wrongly named datasets. One step's manifest is
// held at a time. A step without artifacts (it failed before dbt wrote them) is a
// warning; any other failure is an error.
func FromCloud(ctx context.Context, client *dbtcloud.Client, accountID, runID int64, opts Options) (Result, error) {
	run, _, err := client.Runs.Get(ctx, accountID, runID, &dbtcloud.RunGetOptions{IncludeRelated: []string{"run_steps", "environment"}})
	if err != nil {
		return Result{}, fmt.Errorf("read dbt Cloud run %d: %w", runID, err)
	}
	if !run.Status.Terminal() {
		return Result{}, fmt.Errorf("dbt Cloud run %d has not finished (%s): its events are made once it has", runID, run.Status)
	}
	cr := CloudRun{Host: client.Host(), AccountID: accountID, ProjectID: run.ProjectID, JobID: run.JobDefinitionID, RunID: run.ID,
		StatusMessage: run.StatusMessage, StartedAt: run.StartedAt.Time, FinishedAt: run.FinishedAt.Time}
	switch run.Status {
	case dbtcloud.RunStatusSuccess:
		cr.Outcome = OutcomeSuccess
	case dbtcloud.RunStatusError:
		cr.Outcome = OutcomeError
	default:
		cr.Outcome = OutcomeCancelled
	}
	if run.Environment != nil {
		cr.ConnectionID = run.Environment.ConnectionID
	}
	var nsWarning string
	if opts.DatasetNamespace == "" {
		w := opts.Warehouses
		if w == nil {
			w = &Warehouses{}
		}
		cr.WarehouseNamespace, cr.WarehouseAdapter, err = w.Namespace(ctx, client, accountID, run.ProjectID, cr.ConnectionID)
		var te *TransientError
		switch {
		case errors.As(err, &te):
			return Result{}, fmt.Errorf("read the warehouse connection of dbt Cloud run %d (try again): %w", runID, err)
		case err != nil:
			nsWarning = fmt.Sprintf("no dataset namespace from the warehouse connection: %v", err)
		}
	}
	var catalog *artifacts.Catalog
	err = fetch(ctx, client, accountID, runID, "catalog.json", 0, func(r io.Reader, o artifacts.Option) error {
		var err error
		catalog, err = artifacts.ReadCatalog(r, o)
		return err
	})
	if err != nil && !errors.Is(err, dbtcloud.ErrNotFound) {
		return Result{}, err
	}
	b := NewBuilder(cr, catalog, opts)
	if nsWarning != "" {
		b.Warnf("%s", nsWarning)
	}
	for _, st := range run.RunSteps {
		if !collected[stepCommand(st.Name)] {
			continue
		}
		s := Step{Index: st.Index, Name: st.Name, StartedAt: st.StartedAt.Time, FinishedAt: st.FinishedAt.Time}
		err := fetch(ctx, client, accountID, runID, "run_results.json", st.Index, func(r io.Reader, o artifacts.Option) error {
			var err error
			s.Results, err = artifacts.ReadRunResults(r, o)
			return err
		})
		if err == nil {
			err = fetch(ctx, client, accountID, runID, "manifest.json", st.Index, func(r io.Reader, o artifacts.Option) error {
				var err error
				s.Manifest, err = artifacts.ReadManifest(r, o)
				return err
			})
		}
		if errors.Is(err, dbtcloud.ErrNotFound) {
			b.Warnf("step %d (%s) wrote no manifest.json or run_results.json: no events for its nodes", st.Index, st.Name)
			continue
		}
		if err != nil {
			return Result{}, err
		}
		b.AddStep(s)
	}
	return b.Finish(), nil
}

// fetch streams one artifact of a run (step 0: the last step that wrote
// it) into read.
func fetch(ctx context.Context, client *dbtcloud.Client, accountID, runID int64, path string, step int,
	read func(io.Reader, artifacts.Option) error) error {
	where := fmt.Sprintf("%s of dbt Cloud run %d", path, runID)
	if step > 0 {
		where = fmt.Sprintf("%s of step %d of dbt Cloud run %d", path, step, runID)
	}
	body, _, err := client.Artifacts.Get(ctx, accountID, runID, path, step)
	if err != nil {
		return fmt.Errorf("download %s: %w", where, err)
	}
	defer body.Close()
	if err := read(body, artifacts.WithName(path)); err != nil {
		return fmt.Errorf("read %s: %w", where, err)
	}
	return nil
}
