package cli

import (
	"strings"
	"testing"
)

// TestServeCatalogJobTimeout: --catalog-job-timeout is in serve's help, and
// one too short is refused before anything is opened.
func TestServeCatalogJobTimeout(t *testing.T) {
	home := t.TempDir()
	run := func(args ...string) (int, string) {
		ios, _, out, errOut := TestStreams()
		f := NewFactory(ios)
		f.Getenv = func(k string) string {
			if k == "DBTLINK_HOME" {
				return home
			}
			return ""
		}
		f.Environ = func() []string { return nil }
		code := Run(t.Context(), f, args)
		return code, out.String() + errOut.String()
	}
	if code, out := run("serve", "--help"); code != ExitOK || !strings.Contains(out, "--catalog-job-timeout duration") || !strings.Contains(out, "(default 30m0s)") {
		t.Errorf("serve --help (exit %d) does not document --catalog-job-timeout with its default:\n%s", code, out)
	}
	code, out := run("serve", "--catalog-job-timeout", "10ms")
	if code != ExitUsage || !strings.Contains(out, "--catalog-job-timeout 10ms is too short") {
		t.Errorf("serve --catalog-job-timeout 10ms: exit %d, %s; want a usage error", code, out)
	}
}
