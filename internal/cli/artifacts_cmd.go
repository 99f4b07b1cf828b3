package cli

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/dbtlink/dbtlink/artifacts"
)

func newCmdArtifacts(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "artifacts",
		Short: "Read dbt artifacts offline (manifest, catalog, run_results, sources)",
		Long: `Read dbt's artifact files (manifest.json, catalog.json, run_results.json and
sources.json, of any schema version, plain or gzip-compressed) without dbt
Cloud or a dbt installation.`,
	}
	cmd.AddCommand(NewCmdArtifactsInspect(f, nil))
	return cmd
}

// ArtifactsInspectOptions are the inputs of `dbtlink artifacts inspect`.
type ArtifactsInspectOptions struct {
	IO *IOStreams

	Paths []string
	JSON  bool

	// Inspect summarises one file; tests may replace it.
	Inspect func(path string) (*artifacts.Summary, error)
}

// NewCmdArtifactsInspect builds `dbtlink artifacts inspect`. runF, when not
// nil, replaces artifactsInspectRun so tests can check flag parsing alone.
func NewCmdArtifactsInspect(f *Factory, runF func(*ArtifactsInspectOptions) error) *cobra.Command {
	opts := &ArtifactsInspectOptions{IO: f.IO, Inspect: artifacts.Inspect}
	cmd := &cobra.Command{
		Use:   "inspect PATH...",
		Short: "Summarise dbt artifact files",
		Long: `Summarise each artifact file: its kind and schema version, dbt version,
adapter, when it was generated, and counts by resource type. For
run_results.json and sources.json it also shows results by status, a test
summary (pass, warn, fail, error, skipped), every failed or errored result
with its message, and the ten slowest nodes.

The kind is detected from the file's content, and gzip files (.json.gz, or a
gzip body under any name) are read transparently. Code is not loaded, so
large manifests are quick to inspect.

A file that cannot be read is reported with its name and the byte offset
where reading stopped; the other files are still inspected, and the command
exits with status 2 at the end.`,
		Example: `  # Everything dbt wrote after a build
  dbtlink artifacts inspect target/manifest.json target/run_results.json

  # All artifacts of a directory, for a script
  dbtlink artifacts inspect --json target/*.json | jq '.[] | {path, kind, counts}'

  # Which tests failed in a run downloaded from dbt Cloud
  dbtlink artifacts inspect run_results.json.gz`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError("give at least one artifact file, e.g. 'dbtlink artifacts inspect target/manifest.json'")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			if runF != nil {
				return runF(opts)
			}
			return artifactsInspectRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false,
		"print a JSON array with one object per file (files that cannot be read have an \"error\" field)")
	return cmd
}

// inspectResult is one element of the --json array. The summary's fields are
// inlined; Path is repeated here so that a file that could not be read still
// has one, next to its error.
type inspectResult struct {
	Path string `json:"path"`
	*artifacts.Summary
	Error string `json:"error,omitempty"`
}

func artifactsInspectRun(opts *ArtifactsInspectOptions) error {
	results := make([]inspectResult, 0, len(opts.Paths))
	failed := 0
	for i, p := range opts.Paths {
		s, err := opts.Inspect(p)
		r := inspectResult{Path: p, Summary: s}
		if err != nil {
			failed++
			r.Summary = nil
			r.Error = err.Error()
			// Errors go to stderr as they happen, so that in human mode they
			// sit next to the files that were read and in JSON mode stdout
			// stays parseable.
			fmt.Fprintf(opts.IO.ErrOut, "error: %v\n", err)
		}
		results = append(results, r)
		if !opts.JSON && r.Summary != nil {
			if i > 0 {
				fmt.Fprintln(opts.IO.Out)
			}
			if err := writeInspectSummary(opts.IO, r.Summary); err != nil {
				return err
			}
		}
	}
	if opts.JSON {
		if err := writeJSON(opts.IO.Out, results); err != nil {
			return err
		}
	}
	if failed > 0 {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf(
			"%d of %d files could not be read (see above); check that each is a dbt artifact and not truncated",
			failed, len(opts.Paths))}
	}
	return nil
}

// writeInspectSummary prints one summary for people: a header block of key/value
// lines, then counts, test summary, failures and slowest nodes as tables.
func writeInspectSummary(ios *IOStreams, s *artifacts.Summary) error {
	w := ios.Out
	fmt.Fprintf(w, "%s\n", s.Path)

	kind := string(s.Kind)
	if s.SchemaVersion > 0 {
		kind += fmt.Sprintf(" (schema v%d)", s.SchemaVersion)
	}
	kv := newTable(w)
	kv.row("  kind:", kind)
	kv.row("  dbt version:", orDash(s.DBTVersion))
	kv.row("  adapter:", orDash(s.Adapter))
	if s.ProjectName != "" {
		kv.row("  project:", s.ProjectName)
	}
	generated := "-"
	if s.GeneratedAt != nil {
		generated = s.GeneratedAt.UTC().Format(time.RFC3339)
	}
	kv.row("  generated at:", generated)
	if s.Command != "" {
		kv.row("  command:", s.Command)
	}
	if s.ElapsedTime > 0 {
		kv.row("  elapsed:", inspectSeconds(s.ElapsedTime)+"s")
	}
	kv.row("  size:", byteSize(s.Bytes))
	if err := kv.flush(); err != nil {
		return fmt.Errorf("write summary of %s: %w", s.Path, err)
	}

	if len(s.Counts) > 0 {
		fmt.Fprintln(w, "  counts:")
		t := newTable(w)
		for _, k := range inspectCountKeys(s.Counts) {
			t.row("    "+k, strconv.Itoa(s.Counts[k]))
		}
		if err := t.flush(); err != nil {
			return fmt.Errorf("write summary of %s: %w", s.Path, err)
		}
	}
	if len(s.Statuses) > 0 {
		parts := make([]string, 0, len(s.Statuses))
		for _, k := range inspectCountKeys(s.Statuses) {
			parts = append(parts, fmt.Sprintf("%s %d", k, s.Statuses[k]))
		}
		fmt.Fprintf(w, "  statuses: %s\n", strings.Join(parts, ", "))
	}
	if ts := s.Tests; ts != nil {
		line := fmt.Sprintf("pass %d, warn %d, fail %d, error %d, skipped %d", ts.Pass, ts.Warn, ts.Fail, ts.Error, ts.Skipped)
		if ts.Other > 0 {
			line += fmt.Sprintf(", other %d", ts.Other)
		}
		fmt.Fprintf(w, "  tests: %s\n", line)
	}

	if len(s.Failures) > 0 {
		fmt.Fprintf(w, "  failures (%d):\n", len(s.Failures))
		// On a terminal a long message (a compiled SQL error can be pages)
		// would wrap and bury the list, so it is cut to the space left on
		// the line. Pipes get the whole message for grep and logs.
		maxMsg := 0
		if ios.IsStdoutTTY() {
			// Column widths as the table will make them, headers included.
			idWidth, statusWidth := len("UNIQUE ID"), len("STATUS")
			for _, l := range s.Failures {
				idWidth = max(idWidth, utf8.RuneCountInString(l.UniqueID))
				statusWidth = max(statusWidth, utf8.RuneCountInString(l.Status))
			}
			maxMsg = max(30, ios.TerminalWidth()-4-statusWidth-2-idWidth-2)
		}
		t := newTable(w, "    STATUS", "UNIQUE ID", "MESSAGE")
		for _, l := range s.Failures {
			msg := l.Message
			if maxMsg > 0 {
				msg = inspectTruncate(msg, maxMsg)
			}
			t.row("    "+l.Status, l.UniqueID, msg)
		}
		if err := t.flush(); err != nil {
			return fmt.Errorf("write summary of %s: %w", s.Path, err)
		}
	}

	if len(s.Slowest) > 0 {
		fmt.Fprintf(w, "  slowest:\n")
		t := newTable(w, "    SECONDS", "STATUS", "UNIQUE ID")
		for _, l := range s.Slowest {
			// Right-aligned by padding, since the table aligns left.
			t.row("    "+fmt.Sprintf("%7s", inspectSeconds(l.ExecutionTime)), l.Status, l.UniqueID)
		}
		if err := t.flush(); err != nil {
			return fmt.Errorf("write summary of %s: %w", s.Path, err)
		}
	}
	return nil
}

// inspectCountKeys orders count keys by count, largest first, then by name, so
// the resource types that make up a project come first.
func inspectCountKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if c := cmp.Compare(m[b], m[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return keys
}

// inspectTruncate keeps the first line of msg and at most n runes in all,
// marking a cut with an ellipsis.
func inspectTruncate(msg string, n int) string {
	msg = strings.TrimSpace(msg)
	cut := false
	if i := strings.IndexAny(msg, "\r\n"); i >= 0 {
		msg, cut = strings.TrimSpace(msg[:i]), true
	}
	if !cut && utf8.RuneCountInString(msg) <= n {
		return msg
	}
	// n runes in all, the ellipsis included.
	if r := []rune(msg); len(r) > n-1 {
		msg = string(r[:n-1])
	}
	return msg + "…"
}

func inspectSeconds(s float64) string { return strconv.FormatFloat(s, 'f', 2, 64) }
