package cli

import (
	"os"
	"strings"
	"testing"
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
		if len(line) > 6 && line[0] == '|' && line[2] >= '0' && line[2] <= '9' && line[3] == ' ' {
			code, meaning, _ := strings.Cut(strings.Trim(line, "| "), " | ")
			rows[code] = strings.ReplaceAll(meaning, "`", "")
		}
	}
	if len(rows) != 8 {
		t.Fatalf("README exit code table has %d rows, want 8 (0 to 7): %v", len(rows), rows)
	}
	e := newCloudEnv(t)
	help := e.run("--help").stdout
	for code, want := range rows {
		line := "\n  " + code + "  " + want + "\n"
		if !strings.Contains(exitCodesHelpText+"\n", line) {
			t.Errorf("exit code help text lacks %q (the README's row %s):\n%s", strings.TrimSpace(line), code, exitCodesHelpText)
		}
		if !strings.Contains(help, want) {
			t.Errorf("dbtlink --help lacks %q", want)
		}
	}
}
