//go:build cgo

package web

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dbtlink/dbtlink/internal/store"
)

// TestScreenshots writes PNGs of the main pages into the directory
// DBTLINK_SCREENSHOTS names (`make screenshots` passes docs/screenshots),
// from the same in-process server as TestBrowser. Without the variable it
// skips: the pictures are for the README, not a check.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("DBTLINK_SCREENSHOTS")
	if dir == "" {
		t.Skip("set DBTLINK_SCREENSHOTS to a directory to write screenshots (make screenshots)")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := newBrowser(t, 3*time.Minute)
	s := newStack(t)
	base := s.ts.URL
	login(t, ctx, base, s.write)
	runs, err := s.tr.ListRuns(t.Context(), store.RunFilter{Limit: 1})
	if err != nil || len(runs) == 0 {
		t.Fatalf("no run to show: %v", err)
	}
	shots := []struct {
		name, path, ready string
		setup             chromedp.Action[chromedp.Void]
	}{
		{"search", "/search", `#sq`, chromedp.SendKeys(chromedp.CSS(`#sq`), "customer")},
		{"table", fmt.Sprintf("/tables/%d", s.failed.TableID), `#column-table`, nil},
		{"lineage", fmt.Sprintf("/tables/%d/lineage?depth=3", s.failed.TableID), `#graph[data-ready="1"]`, nil},
		{"browse", "/browse/duck/jaffle_shop", `main table`, nil},
		{"runs", "/runs", `#runs-table`, nil},
		{"run", fmt.Sprintf("/runs/%d", runs[0].ID), `#run-live`, nil},
		{"syncs", "/syncs", `#dbt`, nil},
	}
	for _, sh := range shots {
		steps := []chromedp.Action[chromedp.Void]{chromedp.Navigate(base + sh.path), chromedp.WaitVisible(chromedp.CSS(sh.ready))}
		if sh.setup != nil {
			steps = append(steps, sh.setup, chromedp.WaitVisible(chromedp.CSS(`#results a.hit`)))
		}
		do(t, ctx, "open "+sh.path, steps...)
		png := get(t, ctx, "screenshot "+sh.name, chromedp.CaptureScreenshot())
		out := filepath.Join(dir, sh.name+".png")
		if err := os.WriteFile(out, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", out, len(png))
	}
}
