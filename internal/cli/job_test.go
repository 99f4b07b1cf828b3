package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
)

// jobTableIDs returns the ID column of a job list table.
func jobTableIDs(t *testing.T, out string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "ID ") {
		t.Fatalf("no table header:\n%s", out)
	}
	var ids []string
	for _, l := range lines[1:] {
		ids = append(ids, strings.Fields(l)[0])
	}
	return ids
}

func TestJobList(t *testing.T) {
	e := newCloudEnv(t)
	e.addDemo("demo")
	run := e.finishedRun(emulator.DemoDailyJobID)

	tests := []struct {
		name    string
		args    []string
		wantIDs []string
	}{
		{"all active jobs", nil, []string{"301", "302", "303", "304", "305", "306"}},
		{"by project", []string{"--project-id", "102"}, []string{"306"}},
		{"by environment", []string{"--environment-id", "202"}, []string{"305"}},
		{"by name, ignoring case", []string{"--name-contains", "FAIL"}, []string{"302"}},
		{"limit", []string{"--limit", "2"}, []string{"301", "302"}},
		{"all states", []string{"--state", "all", "--project-id", "102"}, []string{"306"}},
		{"deleted", []string{"--state", "deleted"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.mustRun(append([]string{"job", "list"}, tt.args...)...)
			if len(tt.wantIDs) == 0 {
				if r.stdout != "" || !strings.Contains(r.stderr, "No jobs match") {
					t.Errorf("want no jobs, got:\n%s%s", r.stdout, r.stderr)
				}
				return
			}
			if got := jobTableIDs(t, r.stdout); strings.Join(got, ",") != strings.Join(tt.wantIDs, ",") {
				t.Errorf("ids = %v, want %v\n%s", got, tt.wantIDs, r.stdout)
			}
		})
	}

	r := e.mustRun("job", "list", "--project-id", "101", "--environment-id", "201")
	var row301, row302 string
	for _, l := range strings.Split(r.stdout, "\n") {
		switch {
		case strings.HasPrefix(l, "301 "):
			row301 = l
		case strings.HasPrefix(l, "302 "):
			row302 = l
		}
	}
	for _, want := range []string{"daily build", "analytics", "Production", "scheduled", fmt.Sprintf("Success (run %d)", run.ID)} {
		if !strings.Contains(row301, want) {
			t.Errorf("row of job 301 lacks %q: %q", want, row301)
		}
	}
	if !strings.HasSuffix(strings.TrimSpace(row302), " -") {
		t.Errorf("job 302 (never run) should show - as last run: %q", row302)
	}

	rj := e.mustRun("job", "list", "--json", "--name-contains", "daily")
	var jobs []dbtcloud.Job
	if err := json.Unmarshal([]byte(rj.stdout), &jobs); err != nil {
		t.Fatalf("--json: %v\n%s", err, rj.stdout)
	}
	if len(jobs) != 3 || jobs[0].ID != emulator.DemoDailyJobID || jobs[0].MostRecentRun == nil || jobs[0].MostRecentRun.ID != run.ID {
		t.Errorf("--json jobs = %+v", jobs)
	}

	wantCode(t, e.run("job", "list", "--state", "gone"), ExitUsage, "bad state")
	wantCode(t, e.run("job", "list", "--limit", "-1"), ExitUsage, "bad limit")
}

func TestJobListNoConnection(t *testing.T) {
	e := newCloudEnv(t)
	r := e.run("job", "list")
	wantCode(t, r, ExitUsage, "job list without connection")
	if !strings.Contains(r.stderr, "connection add") {
		t.Errorf("stderr = %s", r.stderr)
	}
}

func TestJobGet(t *testing.T) {
	e := newCloudEnv(t)
	e.addDemo("demo")
	tests := []struct {
		args     []string
		wantCode int
		want     []string
	}{
		{[]string{"304"}, ExitOK, []string{"Job 304: docs build", "project:           analytics (101)", "environment:       Production (201)",
			"1. dbt build", "generate docs:     yes", "generate sources:  yes", "timeout:           none"}},
		{[]string{"303"}, ExitOK, []string{"timeout:           15m0s", "generate docs:     no"}},
		{[]string{"301"}, ExitOK, []string{"schedule:          0 6 * * *"}},
		{[]string{"302"}, ExitOK, []string{"1. dbt run", "2. dbt test", "schedule:          none"}},
		{[]string{"999"}, ExitNotFound, nil},
		{[]string{"311"}, ExitNotFound, nil}, // another account's job
		{[]string{"abc"}, ExitUsage, nil},
		{[]string{"0"}, ExitUsage, nil},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := e.run(append([]string{"job", "get"}, tt.args...)...)
			wantCode(t, r, tt.wantCode, "job get")
			for _, w := range tt.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
		})
	}
	r := e.mustRun("job", "get", "305", "--json")
	var j dbtcloud.Job
	if err := json.Unmarshal([]byte(r.stdout), &j); err != nil {
		t.Fatal(err)
	}
	if j.ID != 305 || j.Settings.Threads != 8 || j.Settings.TargetName != "staging" {
		t.Errorf("--json job = %+v", j)
	}
}

// TestGetByIDNotFound: a 404 on a command that names an object by id is
// said in words, exits 6 and still matches dbtcloud.ErrNotFound, without
// the raw HTTP line.
func TestGetByIDNotFound(t *testing.T) {
	t.Parallel()
	h := newRunHarness(t)
	for _, args := range [][]string{
		{"job", "get", "999"},
		{"job", "run", "999"},
		{"run", "get", "123"},
		{"run", "watch", "123"},
		{"run", "cancel", "123"},
		{"run", "retry", "123"},
		{"artifact", "list", "123"},
		{"artifact", "get", "123", "manifest.json", "-o", t.TempDir()},
	} {
		r := h.run(args...)
		wantCode(t, r, ExitNotFound, strings.Join(args, " "))
		what, id := args[0], args[2]
		if what == "artifact" {
			what = "run"
		}
		want := "error: " + what + " " + id + " was not found in account 1 (it does not exist, or this token cannot see it)\n"
		if r.stderr != want {
			t.Errorf("%v: stderr %q, want %q", args, r.stderr, want)
		}
	}
	err := lookupError("job", 999, 1, "get job 999", fmt.Errorf("x: %w", dbtcloud.ErrNotFound))
	if !errors.Is(err, dbtcloud.ErrNotFound) || exitCode(err) != ExitNotFound {
		t.Errorf("lookupError(404) = %v: loses ErrNotFound or exit 6", err)
	}
	err = lookupError("job", 999, 1, "get job 999", fmt.Errorf("dbtcloud: GET /x: %w", dbtcloud.ErrServer))
	if got := err.Error(); got != "get job 999: dbtcloud: GET /x: "+dbtcloud.ErrServer.Error() {
		t.Errorf("other errors keep their detail: %q", got)
	}
}
