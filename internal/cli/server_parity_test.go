package cli

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
)

// The same commands, run locally and through --server on the same
// emulator, print the same thing: job list and job get byte for byte; run
// list and run get the same rows and columns, the server adding only what
// it alone knows (a SERVER RUN column; the Server run, Reruns and Error
// rows after the local ones) and the local run get alone offering `run
// retry`; and `job run --wait` the same lines from the trigger on.
func TestServerOutputMatchesLocal(t *testing.T) {
	t.Parallel()
	b := newServerBench(t)
	b.env["DBT_CLOUD_HOST"], b.env["DBT_CLOUD_ACCOUNT_ID"], b.env["DBT_CLOUD_API_TOKEN"] = b.emu.URL, "1", emulator.DemoToken

	both := func(t *testing.T, args ...string) (local, server cloudResult) {
		t.Helper()
		local, server = b.run(args...), b.srv(args...)
		if local.code != server.code {
			t.Fatalf("%s: exit %d locally, %d through --server\nlocal:\n%s%s\nserver:\n%s%s", strings.Join(args, " "),
				local.code, server.code, local.stdout, local.stderr, server.stdout, server.stderr)
		}
		return local, server
	}
	same := func(t *testing.T, what, local, server string) {
		t.Helper()
		if local != server {
			t.Errorf("%s differs\nlocal:\n%s\nthrough --server:\n%s", what, local, server)
		}
	}

	// One run of each job triggered each way; the wait lines must agree.
	var serverRuns []string
	for _, job := range []string{"301", "302"} {
		local, server := both(t, "job", "run", job, "--wait")
		same(t, "job run "+job+" --wait (stdout)", normalizeWait(local.stdout, false), normalizeWait(server.stdout, false))
		same(t, "job run "+job+" --wait (stderr)", normalizeWait(local.stderr, false), normalizeWait(server.stderr, true))
		id := regexp.MustCompile(`Run (\d+) of job`).FindStringSubmatch(server.stderr)
		if id == nil {
			t.Fatalf("no run id in:\n%s", server.stderr)
		}
		serverRuns = append(serverRuns, id[1])
	}

	for _, args := range [][]string{
		{"job", "list"}, {"job", "list", "--name-contains", "daily", "--limit", "2"}, {"job", "list", "--json"},
		{"job", "get", "301"}, {"job", "get", "306"}, {"job", "get", "302", "--json"},
	} {
		local, server := both(t, args...)
		if local.code != ExitOK {
			t.Fatalf("%s: exit %d\n%s", strings.Join(args, " "), local.code, local.stderr)
		}
		// The humanized times of most_recent_run ("7 minutes ago") move on
		// between the two calls.
		same(t, strings.Join(args, " "), humanizedRe.ReplaceAllString(local.stdout, "${1}"), humanizedRe.ReplaceAllString(server.stdout, "${1}"))
	}

	// The server knows only its own runs; the local list shows every run of
	// the account. The rows of the server's runs must be the same.
	local, server := both(t, "run", "list")
	localRows, serverRows := tableRows(local.stdout), tableRows(server.stdout)
	if len(serverRows) != 1+len(serverRuns) {
		t.Fatalf("run list --server has %d rows, want a header and %d runs:\n%s", len(serverRows), len(serverRuns), server.stdout)
	}
	for _, row := range serverRows {
		if n := len(row); n == 0 || (row[0] != "ID" && !slices.Contains(serverRuns, row[0])) {
			t.Errorf("run list --server shows a row not of its runs: %q", row)
		}
		i := slices.IndexFunc(localRows, func(l []string) bool { return len(l) > 0 && l[0] == row[0] })
		if i < 0 {
			t.Errorf("run list: row %q is not in the local list:\n%s", row, local.stdout)
			continue
		}
		if want := localRows[i]; !slices.Equal(row[:len(row)-1], want) {
			t.Errorf("run list: row %q through --server, %q locally", row, want)
		}
	}
	if h := serverRows[0]; h[len(h)-1] != "SERVER RUN" {
		t.Errorf("run list --server header = %q, want SERVER RUN last", h)
	}

	for _, id := range serverRuns {
		for _, args := range [][]string{{"run", "get", id}, {"run", "get", id, "--steps"}} {
			local, server := both(t, args...)
			l := dropLines(local.stdout, "Retry:")
			if !serverParaRe.MatchString(server.stdout) {
				t.Fatalf("%s --server lacks the paragraph of the server's run:\n%s", strings.Join(args, " "), server.stdout)
			}
			same(t, strings.Join(args, " "), l, serverParaRe.ReplaceAllString(server.stdout, ""))
		}
	}
}

var (
	// serverParaRe is the paragraph of `run get --server` about the
	// server's own run, with the blank line before it.
	serverParaRe = regexp.MustCompile(`(?m)^\nServer run:.*\n(?:.+\n)*`)
	humanizedRe  = regexp.MustCompile(`("[a-z_]+_humanized": )"[^"]*"`)
	runIDRe      = regexp.MustCompile(`\b[Rr]un \d+|/runs/\d+/|\(run \d+\)`)
	logClockRe   = regexp.MustCompile(`(?m)^(\s+)\d\d:\d\d:\d\d  `)
	stateLineRe  = regexp.MustCompile(`(?m)^run RUN: (Queued|Starting|Running)\n`)
	serverOnly   = regexp.MustCompile(`(?m)^(Run of job .* recorded by the dbtlink server .*|server run \d+: .*)\n`)
)

// normalizeWait makes the output of two waits on two runs of one job
// comparable: run ids and the clock of log lines differ between them, and
// which of the states before the end a poll happened to see depends on
// timing. fromServer also drops the lines about the server's own run,
// which come before the trigger and have no local counterpart.
func normalizeWait(s string, fromServer bool) string {
	if fromServer {
		s = serverOnly.ReplaceAllString(s, "")
	}
	s = runIDRe.ReplaceAllStringFunc(s, func(m string) string {
		return regexp.MustCompile(`\d+`).ReplaceAllString(m, "RUN")
	})
	s = logClockRe.ReplaceAllString(s, "${1}HH:MM:SS  ")
	return stateLineRe.ReplaceAllString(s, "")
}

// tableRows splits a table into its cells (columns are two spaces apart
// at least; cells have single spaces at most).
func tableRows(s string) [][]string {
	var rows [][]string
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		rows = append(rows, regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(l), -1))
	}
	return rows
}

// dropLines removes the lines that start with one of prefixes.
func dropLines(s string, prefixes ...string) string {
	var out []string
	for _, l := range strings.SplitAfter(s, "\n") {
		if !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(l, p) }) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}
