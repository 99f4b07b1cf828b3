package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/dbtlink/dbtlink/dbtcloud"
)

// TestExitCodesHelpMatchesREADME keeps `dbtlink --help`'s exit code table
// and the README's saying the same thing, row by row: scripts are written
// from either.
func TestExitCodesHelpMatchesREADME(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for line := range strings.SplitSeq(string(readme), "\n") {
		code, meaning, ok := strings.Cut(strings.Trim(line, "| "), " | ")
		if _, err := strconv.Atoi(code); ok && err == nil && strings.HasPrefix(line, "| ") {
			rows[code] = strings.ReplaceAll(meaning, "`", "")
		}
	}
	if len(rows) != 9 {
		t.Fatalf("README exit code table has %d rows, want 9 (0 to 7 and 130): %v", len(rows), rows)
	}
	e := newCloudEnv(t)
	help := e.run("--help").stdout
	for code, want := range rows {
		row := regexp.MustCompile(`(?m)^ +` + code + `  ` + regexp.QuoteMeta(want) + `$`)
		if !row.MatchString(exitCodesHelpText) {
			t.Errorf("exit code help text lacks row %s %q (the README's):\n%s", code, want, exitCodesHelpText)
		}
		if !strings.Contains(help, want) {
			t.Errorf("dbtlink --help lacks %q", want)
		}
	}
}

func TestExitCode(t *testing.T) {
	interrupted := &url.Error{Op: "Get", URL: "https://cloud.getdbt.com/api/v2/accounts/1/runs/", Err: context.Canceled}
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitOK},
		{"explicit code wins", &ExitError{Code: ExitWaitTimeout, Err: context.Canceled}, ExitWaitTimeout},
		// An interrupted HTTP call is a net.Error too; it must not read as
		// a network failure, nor as a cancelled run.
		{"interrupted request", fmt.Errorf("list runs: %w", interrupted), ExitInterrupted},
		{"not found", fmt.Errorf("get job 9: %w", dbtcloud.ErrNotFound), ExitNotFound},
		{"unauthorized", dbtcloud.ErrUnauthorized, ExitAuth},
		{"network", fmt.Errorf("list runs: %w", &url.Error{Op: "Get", URL: "https://x/", Err: errors.New("connection refused")}), ExitUpstream},
		{"anything else", errors.New("bad"), ExitUsage},
	}
	for _, tt := range tests {
		if got := exitCode(tt.err); got != tt.want {
			t.Errorf("%s: exitCode(%v) = %d, want %d", tt.name, tt.err, got, tt.want)
		}
	}
}
