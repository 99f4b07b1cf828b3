package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
)

func newCmdArtifact(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "artifact",
		Short: "List and download the artifacts of a dbt Cloud run",
		Long: `List and download the files a dbt Cloud run saved under target/:
manifest.json, run_results.json, catalog.json (only when docs were generated),
sources.json (only after source freshness), and compiled/ and run/ SQL.
To read downloaded artifacts, see 'dbtlink artifacts inspect'.`,
	}
	cmd.AddCommand(NewCmdArtifactList(f, nil), NewCmdArtifactGet(f, nil))
	return cmd
}

// ---- artifact list ----

// ArtifactListOptions holds the dependencies and flags of `artifact list`.
type ArtifactListOptions struct {
	IO     *IOStreams
	Client func(...dbtcloud.Option) (*dbtcloud.Client, int64, error)
	// Server, ServerURL and Connection: see JobRunOptions.
	Server     func() (*serverClient, error)
	ServerURL  string
	Connection string

	RunID int64
	Step  int
	JSON  bool
}

// NewCmdArtifactList builds `dbtlink artifact list`.
func NewCmdArtifactList(f *Factory, runF func(*ArtifactListOptions) error) *cobra.Command {
	opts := &ArtifactListOptions{IO: f.IO, Client: jobAccountClient(f), Server: f.Server}
	cmd := &cobra.Command{
		Use:     "list RUN_ID",
		Aliases: []string{"ls"},
		Short:   "List the artifact paths a run saved, one per line",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := jobParseID("run", args[0])
			if err != nil {
				return err
			}
			opts.RunID = id
			if opts.Step < 0 {
				return usageError("--step counts from 1 (0 means the last step), got %d", opts.Step)
			}
			opts.ServerURL, opts.Connection = f.ServerURL(), f.ConnectionName
			if runF != nil {
				return runF(opts)
			}
			if opts.ServerURL != "" {
				return artifactListServer(cmd.Context(), opts)
			}
			return artifactListRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().IntVar(&opts.Step, "step", 0, "list the files of this run step, counted from 1 (default: every file the run saved)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the paths as a JSON array")
	return cmd
}

func artifactListRun(ctx context.Context, opts *ArtifactListOptions) error {
	client, accountID, err := opts.Client()
	if err != nil {
		return err
	}
	paths, _, err := client.Artifacts.List(ctx, accountID, opts.RunID, opts.Step)
	if err != nil {
		if opts.Step > 0 && errors.Is(err, dbtcloud.ErrNotFound) {
			// The 404 may be the step's, not the run's: tell them apart.
			if serr := checkRunStep(ctx, client, accountID, opts.RunID, opts.Step); serr != nil {
				return serr
			}
		}
		return lookupError("run", opts.RunID, accountID, fmt.Sprintf("list artifacts of run %d", opts.RunID), err)
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, paths)
	}
	if len(paths) == 0 {
		fmt.Fprintf(opts.IO.ErrOut, "Run %d has no artifacts (yet: they are uploaded when a run finishes).\n", opts.RunID)
		return nil
	}
	for _, p := range paths {
		fmt.Fprintln(opts.IO.Out, p)
	}
	return nil
}

// ---- artifact get ----

// ArtifactGetOptions holds the dependencies and flags of `artifact get`.
type ArtifactGetOptions struct {
	IO     *IOStreams
	Client func(...dbtcloud.Option) (*dbtcloud.Client, int64, error)
	// Server, ServerURL and Connection: see JobRunOptions.
	Server     func() (*serverClient, error)
	ServerURL  string
	Connection string

	RunID    int64
	Paths    []string
	Step     int
	Dir      string
	Parallel int
}

// NewCmdArtifactGet builds `dbtlink artifact get`.
func NewCmdArtifactGet(f *Factory, runF func(*ArtifactGetOptions) error) *cobra.Command {
	opts := &ArtifactGetOptions{IO: f.IO, Client: jobAccountClient(f), Server: f.Server}
	cmd := &cobra.Command{
		Use:   "get RUN_ID PATH...",
		Short: "Download artifacts of a run",
		Long: `Download the named artifacts of a run into a directory (default: the current
one), several at a time, keeping their paths: compiled/jaffle_shop/models/x.sql
lands in DIR/compiled/jaffle_shop/models/x.sql. Each file is written to a
temporary name and renamed when complete, so an interrupted download never
leaves a partial file under the real name. Paths that would land outside DIR
(absolute, with "..", or through a symbolic link leading out) are refused.

With -o - the single artifact named is written to standard output.`,
		Example: `  dbtlink artifact get 70000001 manifest.json run_results.json -o target
  dbtlink artifact get 70000001 manifest.json -o - | jq .metadata`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := jobParseID("run", args[0])
			if err != nil {
				return err
			}
			opts.RunID, opts.Paths = id, args[1:]
			if opts.Step < 0 {
				return usageError("--step counts from 1 (0 means the last step), got %d", opts.Step)
			}
			if opts.Parallel < 1 {
				return usageError("--parallel must be at least 1, got %d", opts.Parallel)
			}
			opts.ServerURL, opts.Connection = f.ServerURL(), f.ConnectionName
			if runF != nil {
				return runF(opts)
			}
			if opts.ServerURL != "" {
				return artifactGetServer(cmd.Context(), opts)
			}
			return artifactGetRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&opts.Step, "step", 0, "download the files of this run step, counted from 1 (default: the last version of each file)")
	fl.StringVarP(&opts.Dir, "output", "o", ".", "directory to save into, created if missing; - writes one artifact to standard output")
	fl.IntVar(&opts.Parallel, "parallel", 4, "how many artifacts to download at once")
	return cmd
}

func artifactGetRun(ctx context.Context, opts *ArtifactGetOptions) error {
	client, accountID, err := opts.Client()
	if err != nil {
		return err
	}
	return downloadArtifacts(ctx, client, accountID, opts.RunID, opts.Step, opts.Paths, opts.Dir, opts.Parallel, opts.IO)
}

// downloadArtifacts saves the artifacts paths (relative to target/) of run
// runID under dir, at most parallel at a time, printing each saved path and
// size to io.Out. dir "-" writes the single artifact to io.Out instead.
// step 0 means the last version of each file.
//
// Every path is checked before anything is downloaded; then every artifact
// is attempted, and the errors of those that failed are returned joined (a
// missing artifact exits 6 and names it). Files are written through a
// temporary name and renamed when complete, inside an os.Root on dir so that
// no path or symbolic link can make a write land outside dir.
//
// `job run --artifacts` calls this too.
func downloadArtifacts(ctx context.Context, client *dbtcloud.Client, accountID, runID int64, step int, paths []string, dir string, parallel int, ios *IOStreams) error {
	open := func(ctx context.Context, p string) (io.ReadCloser, error) {
		return artifactOpen(ctx, client, accountID, runID, step, p)
	}
	return saveArtifacts(ctx, open, runID, paths, dir, parallel, ios)
}

// artifactOpener opens one artifact of a run, by its cleaned path.
type artifactOpener func(ctx context.Context, p string) (io.ReadCloser, error)

// saveArtifacts is downloadArtifacts from any source: dbt Cloud, or a
// dbtlink server (`job run --server --artifacts`).
func saveArtifacts(ctx context.Context, open artifactOpener, runID int64, paths []string, dir string, parallel int, ios *IOStreams) error {
	if len(paths) == 0 {
		return usageError("no artifact paths given; e.g. manifest.json run_results.json (see 'dbtlink artifact list %d')", runID)
	}
	if dir == "-" {
		if len(paths) != 1 {
			return usageError("-o - writes one artifact to standard output, and %d were named; name one, or give a directory", len(paths))
		}
		p, err := artifactCleanPath(paths[0], "standard output")
		if err != nil {
			return err
		}
		_, err = artifactCopy(ctx, open, runID, p, ios.Out)
		return err
	}
	if dir == "" {
		dir = "."
	}
	var clean []string
	seen := map[string]bool{}
	var bad []string
	for _, p := range paths {
		c, err := artifactCleanPath(p, dir)
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		if !seen[c] {
			seen[c] = true
			clean = append(clean, c)
		}
	}
	if len(bad) > 0 {
		return usageError("%s", strings.Join(bad, "\n"))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return withCode(ExitUsage, fmt.Errorf("create the output directory: %w", err))
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return withCode(ExitUsage, fmt.Errorf("open the output directory: %w", err))
	}
	defer root.Close()

	errs := make([]error, len(clean))
	var printMu sync.Mutex
	var g errgroup.Group
	g.SetLimit(max(parallel, 1))
	for i, p := range clean {
		g.Go(func() error {
			n, err := artifactSave(ctx, open, runID, p, root)
			if err != nil {
				errs[i] = err
				return nil // the others still download; all failures are reported
			}
			printMu.Lock()
			defer printMu.Unlock()
			fmt.Fprintf(ios.Out, "%s  %s\n", filepath.Join(dir, filepath.FromSlash(p)), byteSize(n))
			return nil
		})
	}
	_ = g.Wait()
	return errors.Join(errs...)
}

// artifactCleanPath checks that an artifact path names a file inside the
// output directory and returns it cleaned, with forward slashes (the form
// the API takes).
func artifactCleanPath(p, dir string) (string, error) {
	c := path.Clean(strings.ReplaceAll(p, `\`, "/"))
	local := filepath.FromSlash(c)
	if p == "" || c == "." || !filepath.IsLocal(local) {
		return "", fmt.Errorf("artifact path %q is refused: it must be relative to target/ and stay inside %s (no leading /, no ..)", p, dir)
	}
	// IsLocal is the rule; the join is a second check of the same promise.
	base := filepath.Clean(dir)
	if rel, err := filepath.Rel(base, filepath.Join(base, local)); err != nil || !filepath.IsLocal(rel) {
		return "", fmt.Errorf("artifact path %q is refused: it would be written outside %s", p, dir)
	}
	return c, nil
}

// saveError explains a failure to write an artifact locally. Only an
// escape refused by os.Root gets the hint about the output directory: a full
// disk or a permission problem must not be blamed on symbolic links. os.Root
// does not export that error, so its text is matched.
func saveError(p, dir string, err error) error {
	msg := fmt.Errorf("save artifact %s under %s: %w", p, dir, err)
	if strings.Contains(err.Error(), "path escapes from parent") {
		msg = fmt.Errorf("%w (files must stay inside the output directory; symbolic links leading out of it are refused)", msg)
	}
	return withCode(ExitUsage, msg)
}

// recordingWriter remembers the error of the underlying writer, so a
// failed io.Copy can tell a write error from a read error.
type recordingWriter struct {
	w   io.Writer
	err error
}

func (r *recordingWriter) Write(b []byte) (int, error) {
	n, err := r.w.Write(b)
	if err != nil {
		r.err = err
	}
	return n, err
}

// artifactSave downloads one artifact into root at p through a temporary
// file, and returns its size.
func artifactSave(ctx context.Context, open artifactOpener, runID int64, p string, root *os.Root) (int64, error) {
	rc, err := open(ctx, p)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	local := filepath.FromSlash(p)
	where := func(err error) error { return saveError(p, root.Name(), err) }
	if d := filepath.Dir(local); d != "." {
		if err := root.MkdirAll(d, 0o755); err != nil {
			return 0, where(err)
		}
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(filepath.Dir(local), "."+filepath.Base(local)+".part-"+hex.EncodeToString(rnd[:]))
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0, where(err)
	}
	// A failed copy is either dbt Cloud's answer breaking off (exit 7) or
	// this machine refusing the write, e.g. a full disk (a local problem);
	// the writer records which.
	w := &recordingWriter{w: f}
	n, err := io.Copy(w, rc)
	if err == nil {
		err = f.Sync() // so a crash after the rename cannot leave an empty file
		w.err = err
	}
	if cerr := f.Close(); err == nil {
		err, w.err = cerr, cerr
	}
	if err != nil {
		_ = root.Remove(tmp)
		switch {
		case ctx.Err() != nil:
			return 0, fmt.Errorf("download artifact %s of run %d: %w", p, runID, ctx.Err())
		case w.err != nil:
			return 0, where(w.err)
		}
		return 0, withCode(ExitUpstream, fmt.Errorf("download artifact %s of run %d: %w", p, runID, err))
	}
	if err := root.Rename(tmp, local); err != nil {
		_ = root.Remove(tmp)
		return 0, where(err)
	}
	return n, nil
}

// artifactCopy streams one artifact to w.
func artifactCopy(ctx context.Context, open artifactOpener, runID int64, p string, w io.Writer) (int64, error) {
	rc, err := open(ctx, p)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	n, err := io.Copy(w, rc)
	if err != nil {
		return n, withCode(ExitUpstream, fmt.Errorf("download artifact %s of run %d: %w", p, runID, err))
	}
	return n, nil
}

// artifactOpen starts the download of one artifact, turning a 404 into an
// error that says which artifact is missing and the likely reason.
func artifactOpen(ctx context.Context, client *dbtcloud.Client, accountID, runID int64, step int, p string) (io.ReadCloser, error) {
	rc, _, err := client.Artifacts.Get(ctx, accountID, runID, p, step)
	if err == nil {
		return rc, nil
	}
	if !errors.Is(err, dbtcloud.ErrNotFound) {
		return nil, fmt.Errorf("download artifact %s of run %d: %w", p, runID, err)
	}
	// One look at the run tells a wrong run id and an unfinished run apart
	// from a file the run never wrote.
	run, _, rerr := client.Runs.Get(ctx, accountID, runID, nil)
	if errors.Is(rerr, dbtcloud.ErrNotFound) {
		return nil, lookupError("run", runID, accountID, "", err)
	}
	if step > 0 && rerr == nil {
		if serr := checkRunStep(ctx, client, accountID, runID, step); serr != nil {
			return nil, serr
		}
	}
	what := fmt.Sprintf("artifact %s of run %d", p, runID)
	if step > 0 {
		what += fmt.Sprintf(" (step %d)", step)
	}
	return nil, withCode(ExitNotFound, fmt.Errorf("%s not found (404): %s", what, artifactMissingHint(run, rerr, runID, p)))
}

// checkRunStep returns a "not found" error (exit 6) that names the step
// when run runID exists but has no step number step, and nil otherwise
// (the run exists with that step, or reading it failed: the caller's own
// error then says more). dbt Cloud answers both a missing run and a
// missing step with a bare 404.
func checkRunStep(ctx context.Context, client *dbtcloud.Client, accountID, runID int64, step int) error {
	run, _, err := client.Runs.Get(ctx, accountID, runID, &dbtcloud.RunGetOptions{IncludeRelated: []string{"run_steps"}})
	if err != nil {
		return nil
	}
	for _, s := range run.RunSteps {
		if s.Index == step {
			return nil
		}
	}
	n := len(run.RunSteps)
	plural := "s"
	if n == 1 {
		plural = ""
	}
	return withCode(ExitNotFound, fmt.Errorf("run %d has no step %d: it has %d step%s (--step counts from 1; see them with: dbtlink run get %d --steps)", runID, step, n, plural, runID))
}

// artifactMissingHint explains a 404 for artifact p of a run that exists,
// given the run as just read (or the error reading it).
func artifactMissingHint(run *dbtcloud.Run, err error, runID int64, p string) string {
	switch {
	case err == nil && !run.Status.Terminal():
		return fmt.Sprintf("run %d is still %s, and artifacts are uploaded when it finishes", runID, run.Status)
	}
	switch path.Base(p) {
	case "catalog.json":
		return "catalog.json exists only when docs were generated for the run; turn on \"Generate docs on run\" for the job, or add `dbt docs generate` to its commands"
	case "sources.json":
		return "sources.json exists only when the run checked source freshness (\"Run source freshness\", or `dbt source freshness`)"
	}
	return fmt.Sprintf("the run did not save it; list what it saved with: dbtlink artifact list %d", runID)
}
