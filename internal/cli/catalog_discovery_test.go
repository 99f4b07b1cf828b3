package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
)

// catalog sync --source discovery reads the emulator's Discovery API; the
// same runs read from their artifacts afterwards are a new fingerprint, so
// the scope is synced again rather than reported unchanged.
func TestCatalogSyncSourceDiscovery(t *testing.T) {
	e := newCloudEnv(t)
	e.env["DBTLINK_DB"] = filepath.Join(t.TempDir(), "catalog.db")
	e.addDemo("demo")
	e.finishedRun(emulator.DemoDocsJobID)
	e.finishedRun(emulator.DemoFailingJobID)
	scope := []string{"demo", "--project", "analytics", "--exclude-environment", "Staging"}

	r := e.mustRun(append([]string{"catalog", "sync", "--source", "discovery"}, scope...)...)
	if !strings.Contains(r.stdout, "analytics / Production (cloud:demo:201): ok") {
		t.Fatalf("sync --source discovery:\n%s\n%s", r.stdout, r.stderr)
	}
	r = e.mustRun(append([]string{"catalog", "sync", "--source", "discovery", "--discovery-url", e.emu.URL + "/beta/graphql"}, scope...)...)
	if !strings.Contains(r.stdout, "(cloud:demo:201): unchanged") {
		t.Errorf("the same runs through the Discovery API again should be unchanged:\n%s", r.stdout)
	}
	r = e.mustRun(append([]string{"catalog", "sync"}, scope...)...)
	if !strings.Contains(r.stdout, "(cloud:demo:201): ok") {
		t.Errorf("switching to artifacts should sync again:\n%s", r.stdout)
	}

	wantCode(t, e.run(append([]string{"catalog", "sync", "--source", "graphql"}, scope...)...), ExitUsage, "an unknown source")
	wantCode(t, e.run(append([]string{"catalog", "sync", "--discovery-url", "http://127.0.0.1:1/graphql"}, scope...)...), ExitUsage, "--discovery-url without --source discovery")
	r = e.run(append([]string{"catalog", "sync", "--source", "discovery", "--discovery-url", "ftp://x"}, scope...)...)
	wantCode(t, r, ExitUsage, "a Discovery URL that is not http(s)")
}
