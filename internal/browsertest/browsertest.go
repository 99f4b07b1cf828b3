// Package browsertest starts Debian's chromium for tests, through
// chromedp: the web UI's and the browser extension's tests share how it is
// found (skipped where it is absent, a failure with
// DBTLINK_REQUIRE_BROWSER=1) and the flags it needs here.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Path returns chromium's path ($DBTLINK_CHROMIUM first), or skips tb, or
// fails it when DBTLINK_REQUIRE_BROWSER=1 (as .ci/run sets).
func Path(tb testing.TB) string {
	tb.Helper()
	for _, p := range []string{os.Getenv("DBTLINK_CHROMIUM"), "/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("DBTLINK_REQUIRE_BROWSER") == "1" {
		tb.Fatal("chromium is not installed and DBTLINK_REQUIRE_BROWSER=1: install it (apt-get install -y chromium) or set DBTLINK_CHROMIUM")
	}
	tb.Skip("browser tests skipped: chromium is not installed (apt-get install -y chromium; DBTLINK_REQUIRE_BROWSER=1 makes this a failure)")
	return ""
}

// Start starts chromium at path with a fresh profile, the flags chromium
// needs as root in a container and those that keep it from calling home,
// then opts (the headless mode among them), and returns a chromedp
// context for one tab that ends after timeout or with tb. A chromium that
// does not start fails tb here, clearly.
func Start(tb testing.TB, path string, timeout time.Duration, opts ...chromedp.ExecAllocatorOption) context.Context {
	tb.Helper()
	all := append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.WindowSize(1280, 900),
	}, opts...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), all...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	tb.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("start chromium (%s): %v", path, err)
	}
	return ctx
}
