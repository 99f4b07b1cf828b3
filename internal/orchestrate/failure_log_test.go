package orchestrate

import (
	"fmt"
	"strings"
	"testing"
)

// realisticDBTLog is a `dbt build` log as dbt Cloud keeps it: the failing
// test ran early, dozens of PASS lines followed, then dbt's summary.
func realisticDBTLog() string {
	var b strings.Builder
	w := func(s string) { b.WriteString("14:02:11  " + s + "\n") }
	w("Running with dbt=1.9.1")
	w("Registered adapter: snowflake=1.9.0")
	w("Found 12 models, 48 data tests, 3 sources, 589 macros")
	w("")
	w("Concurrency: 4 threads (target='default')")
	w("")
	for i := 1; i <= 12; i++ {
		w(fmt.Sprintf("%d of 60 OK created sql view model analytics.model_%02d .......... [SUCCESS 1 in 0.41s]", i, i))
	}
	w("13 of 60 FAIL 3 not_null_stg_customers_customer_id ...................... [FAIL 3 in 0.22s]")
	for i := 14; i <= 60; i++ {
		w(fmt.Sprintf("%d of 60 PASS unique_model_%02d_id ........................ [PASS in 0.18s]", i, i))
	}
	w("")
	w("Finished running 12 view models, 48 data tests in 0 hours 0 minutes and 21.40 seconds (21.40s).")
	w("")
	w("Completed with 1 error, 0 partial successes, and 0 warnings:")
	w("")
	w("Failure in test not_null_stg_customers_customer_id (models/staging/schema.yml)")
	w("  Got 3 results, configured to fail if != 0")
	w("")
	w("  compiled code at target/compiled/jaffle_shop/models/staging/schema.yml/not_null_stg_customers_customer_id.sql")
	w("")
	w("Done. PASS=59 WARN=0 ERROR=1 SKIP=0 NO-OP=0 TOTAL=60")
	return b.String()
}

func TestExplainLog(t *testing.T) {
	t.Parallel()
	got := explainLog(realisticDBTLog(), LogTailLines)
	if len(got) > LogTailLines+3 {
		t.Errorf("%d lines, want about %d", len(got), LogTailLines)
	}
	text := strings.Join(got, "\n")
	for _, want := range []string{
		// The line of the failing test.
		"13 of 60 FAIL 3 not_null_stg_customers_customer_id",
		// The summary, whole.
		"Finished running 12 view models",
		"Completed with 1 error",
		"Failure in test not_null_stg_customers_customer_id (models/staging/schema.yml)\n14:02:11    Got 3 results, configured to fail if != 0",
		"Done. PASS=59 WARN=0 ERROR=1",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("excerpt lacks %q:\n%s", want, text)
		}
	}
	if !strings.HasPrefix(got[0], "… (18 earlier lines omitted)") {
		t.Errorf("first line %q, want the count of earlier lines omitted", got[0])
	}
	// Other nodes' progress lines, even next to the failure, say nothing
	// about it (issue 15: eight PASS lines around the one FAIL).
	for _, noise := range []string{" PASS unique_model", " OK created"} {
		if strings.Contains(text, noise) {
			t.Errorf("excerpt keeps progress lines of nodes that passed (%q):\n%s", noise, text)
		}
	}
	// A plain tail would have shown only PASS lines and the summary.
	tail := strings.Join(tailLines(realisticDBTLog(), LogTailLines), "\n")
	if strings.Contains(tail, "13 of 60 FAIL") {
		t.Fatal("the fixture does not reproduce the problem")
	}
}

func TestExplainLogEdges(t *testing.T) {
	t.Parallel()
	if got := explainLog("", 30); got != nil {
		t.Errorf("empty log: %q", got)
	}
	short := "a\r\nERROR b\nc\n"
	if got := strings.Join(explainLog(short, 30), "|"); got != "a|ERROR b|c" {
		t.Errorf("short log: %q", got)
	}
	// No marker at all: the last lines, with what came before counted.
	var b strings.Builder
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	got := explainLog(b.String(), 10)
	if len(got) != 11 || got[0] != "… (30 earlier lines omitted)" || got[1] != "line 31" || got[10] != "line 40" {
		t.Errorf("unmarked log: %q", got)
	}
	// Colored markers match; many failures are cut to the limit, keeping
	// the end of the log.
	b.Reset()
	for i := 1; i <= 50; i++ {
		fmt.Fprintf(&b, "\x1b[31mFailure in test t%d\x1b[0m\n  detail %d\n\n\n", i, i)
	}
	b.WriteString("Done. PASS=0 ERROR=50\n")
	got = explainLog(b.String(), 30)
	kept := 0
	for _, l := range got {
		if !strings.HasPrefix(l, "… (") {
			kept++
		}
	}
	if kept != 30 || got[len(got)-1] != "Done. PASS=0 ERROR=50" || !strings.HasPrefix(got[0], "… (") {
		t.Errorf("many failures: %d log lines kept:\n%s", kept, strings.Join(got, "\n"))
	}
}

// tailLines is the old behaviour, to show the fixture reproduces the bug.
func tailLines(s string, n int) []string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[max(len(lines)-n, 0):]
}
