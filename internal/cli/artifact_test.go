package cli

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
)

// artifactFiles lists every regular file under dir, slash-separated.
func artifactFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func TestArtifactList(t *testing.T) {
	e := newCloudEnv(t)
	e.addDemo("demo")
	run := e.finishedRun(emulator.DemoDailyJobID)
	id := strconv.FormatInt(run.ID, 10)

	r := e.mustRun("artifact", "list", id)
	paths := strings.Split(strings.TrimSpace(r.stdout), "\n")
	for _, want := range []string{"manifest.json", "run_results.json"} {
		if !slices.Contains(paths, want) {
			t.Errorf("list lacks %s:\n%s", want, r.stdout)
		}
	}
	if slices.Contains(paths, "catalog.json") {
		t.Errorf("a run without docs lists catalog.json")
	}
	if !slices.ContainsFunc(paths, func(p string) bool { return strings.HasPrefix(p, "compiled/") }) {
		t.Errorf("list has no compiled/ files:\n%s", r.stdout)
	}

	rj := e.mustRun("artifact", "list", id, "--json", "--step", "4")
	var got []string
	if err := json.Unmarshal([]byte(rj.stdout), &got); err != nil {
		t.Fatalf("--json: %v\n%s", err, rj.stdout)
	}
	if !slices.Equal(got, paths) {
		t.Errorf("--json = %v, want %v", got, paths)
	}

	// A run still going has nothing yet; a run that does not exist is 6.
	pending := e.startRun(emulator.DemoDailyJobID)
	r = e.mustRun("artifact", "list", strconv.FormatInt(pending.ID, 10))
	if r.stdout != "" || !strings.Contains(r.stderr, "has no artifacts") {
		t.Errorf("pending run:\n%s%s", r.stdout, r.stderr)
	}
	wantCode(t, e.run("artifact", "list", "123"), ExitNotFound, "unknown run")
	wantCode(t, e.run("artifact", "list", "x1"), ExitUsage, "bad run id")
	wantCode(t, e.run("artifact", "list", id, "--step", "-1"), ExitUsage, "bad step")
}

// TestArtifactMissingStep: a step the run does not have is named as such,
// not reported as a missing run (dbt Cloud answers both with a bare 404).
func TestArtifactMissingStep(t *testing.T) {
	e := newCloudEnv(t)
	e.addDemo("demo")
	run := e.finishedRun(emulator.DemoDailyJobID)
	id := strconv.FormatInt(run.ID, 10)
	steps := 0
	for _, ri := range e.emu.Runs() {
		if ri.ID == run.ID {
			steps = len(ri.Steps)
		}
	}
	if steps == 0 {
		t.Fatal("the demo run has no steps")
	}
	beyond := strconv.Itoa(steps + 1)
	want := fmt.Sprintf("run %s has no step %s: it has %d steps", id, beyond, steps)
	for _, args := range [][]string{
		{"artifact", "list", id, "--step", beyond},
		{"artifact", "get", id, "manifest.json", "--step", beyond, "-o", t.TempDir()},
	} {
		r := e.run(args...)
		wantCode(t, r, ExitNotFound, strings.Join(args, " "))
		if !strings.Contains(r.stderr, want) || strings.Contains(r.stderr, "was not found in account") {
			t.Errorf("%v: stderr\n%s\nwant %q and no word of a missing run", args, r.stderr, want)
		}
	}
	// The last step itself is fine.
	e.mustRun("artifact", "list", id, "--step", strconv.Itoa(steps))
}

func TestArtifactGet(t *testing.T) {
	e := newCloudEnv(t)
	e.addDemo("demo")
	run := e.finishedRun(emulator.DemoDailyJobID)
	id := strconv.FormatInt(run.ID, 10)
	var compiled []string
	for _, p := range strings.Split(strings.TrimSpace(e.mustRun("artifact", "list", id).stdout), "\n") {
		if strings.HasPrefix(p, "compiled/") {
			compiled = append(compiled, p)
		}
	}
	if len(compiled) < 2 {
		t.Fatalf("want several compiled files, got %v", compiled)
	}

	// What dbt Cloud serves, read through -o - one artifact at a time.
	want := map[string]string{}
	names := append([]string{"manifest.json", "run_results.json"}, compiled...)
	for _, p := range names {
		want[p] = e.mustRun("artifact", "get", id, p, "-o", "-").stdout
		if want[p] == "" {
			t.Fatalf("-o - printed nothing for %s", p)
		}
	}

	dir := filepath.Join(t.TempDir(), "out", "nested")
	r := e.mustRun(append([]string{"artifact", "get", id, "-o", dir, "--parallel", "3", "manifest.json"}, names...)...)
	got := artifactFiles(t, dir)
	wantNames := slices.Clone(names)
	slices.Sort(wantNames)
	if !slices.Equal(got, wantNames) {
		t.Fatalf("files = %v, want %v (no temporary files left)", got, wantNames)
	}
	for _, p := range names {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != want[p] {
			t.Errorf("%s differs from what -o - printed", p)
		}
		line := fmt.Sprintf("%s  %s", filepath.Join(dir, filepath.FromSlash(p)), byteSize(int64(len(b))))
		if strings.Count(r.stdout, line+"\n") != 1 {
			t.Errorf("stdout lacks exactly one %q:\n%s", line, r.stdout)
		}
	}
}

func TestArtifactGetErrors(t *testing.T) {
	e := newCloudEnv(t)
	e.addDemo("demo")
	run := e.finishedRun(emulator.DemoDailyJobID)
	id := strconv.FormatInt(run.ID, 10)
	pending := strconv.FormatInt(e.startRun(emulator.DemoFailingJobID).ID, 10)

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  []string
		// wantFiles are the files the output directory must hold afterwards.
		wantFiles []string
	}{
		{"catalog without docs", []string{id, "catalog.json", "manifest.json"}, ExitNotFound,
			[]string{"artifact catalog.json of run " + id + " not found (404)", "docs were generated"}, []string{"manifest.json"}},
		{"sources without freshness", []string{id, "sources.json"}, ExitNotFound, []string{"source freshness"}, nil},
		{"other missing file", []string{id, "nope.json"}, ExitNotFound, []string{"dbtlink artifact list " + id}, nil},
		{"unknown run", []string{"123", "manifest.json"}, ExitNotFound, []string{"run 123 was not found in account 1 (it does not exist, or this token cannot see it)"}, nil},
		{"unfinished run", []string{pending, "manifest.json"}, ExitNotFound, []string{"is still", "uploaded when it finishes"}, nil},
		{"dot-dot escape", []string{id, "manifest.json", "../evil.json"}, ExitUsage, []string{`"../evil.json" is refused`}, nil},
		{"nested dot-dot escape", []string{id, "compiled/../../evil.json"}, ExitUsage, []string{"is refused"}, nil},
		{"absolute path", []string{id, "/etc/passwd"}, ExitUsage, []string{`"/etc/passwd" is refused`}, nil},
		{"several to stdout", []string{id, "manifest.json", "run_results.json", "-o", "-"}, ExitUsage, []string{"writes one artifact"}, nil},
		{"bad parallel", []string{id, "manifest.json", "--parallel", "0"}, ExitUsage, []string{"--parallel"}, nil},
		{"no path", []string{id}, ExitUsage, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"artifact", "get", "-o", dir}, tt.args...)
			r := e.run(args...)
			wantCode(t, r, tt.wantCode, "artifact get")
			for _, w := range tt.wantErr {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if got := artifactFiles(t, dir); !slices.Equal(got, tt.wantFiles) {
				t.Errorf("files = %v, want %v", got, tt.wantFiles)
			}
		})
	}
}

func TestArtifactGetRefusesSymlinkEscape(t *testing.T) {
	e := newCloudEnv(t)
	e.addDemo("demo")
	id := strconv.FormatInt(e.finishedRun(emulator.DemoDailyJobID).ID, 10)
	var compiled string
	for _, p := range strings.Split(e.mustRun("artifact", "list", id).stdout, "\n") {
		if strings.HasPrefix(p, "compiled/") {
			compiled = p
			break
		}
	}

	dir, outside := t.TempDir(), t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, "compiled")); err != nil {
		t.Skipf("cannot make symlinks here: %v", err)
	}
	r := e.run("artifact", "get", id, compiled, "manifest.json", "-o", dir)
	wantCode(t, r, ExitUsage, "write through an escaping symlink")
	if !strings.Contains(r.stderr, "save artifact "+compiled) {
		t.Errorf("stderr does not name the artifact:\n%s", r.stderr)
	}
	if got := artifactFiles(t, outside); len(got) != 0 {
		t.Errorf("files written outside the output dir: %v", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err != nil {
		t.Errorf("the other artifact was not saved: %v", err)
	}
}

func TestArtifactCleanPath(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"manifest.json", "manifest.json", true},
		{"compiled/x/y.sql", "compiled/x/y.sql", true},
		{"compiled/./x.sql", "compiled/x.sql", true},
		{"a/../b.json", "b.json", true},
		{"", "", false},
		{".", "", false},
		{"..", "", false},
		{"../x", "", false},
		{"/abs", "", false},
		{`..\x`, "", false},
	}
	for _, tt := range tests {
		got, err := artifactCleanPath(tt.in, "out")
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("artifactCleanPath(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
