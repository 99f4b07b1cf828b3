package cli

import (
	"os"
	"strings"
	"testing"
)

// TestExitCodesHelpMatchesREADME keeps `dbtlink --help`'s exit code table
// saying what the README's does for code 4, whose meaning is easy to lose:
// a second Ctrl-C or SIGTERM during --wait also exits 4.
func TestExitCodesHelpMatchesREADME(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var want string
	for line := range strings.SplitSeq(string(readme), "\n") {
		if rest, ok := strings.CutPrefix(line, "| 4 | "); ok {
			want = strings.ReplaceAll(strings.TrimSuffix(strings.TrimSpace(rest), " |"), "`", "")
		}
	}
	if want == "" {
		t.Fatal("README has no row for exit code 4")
	}
	if !strings.Contains(exitCodesHelpText, "\n  4  "+want+"\n") {
		t.Errorf("exit code help text lacks %q (the README's meaning of 4):\n%s", want, exitCodesHelpText)
	}
	e := newCloudEnv(t)
	if r := e.run("--help"); !strings.Contains(r.stdout, want) {
		t.Errorf("dbtlink --help lacks %q:\n%s", want, r.stdout)
	}
}
