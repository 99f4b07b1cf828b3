//go:build cgo

package extension

import (
	"context"
	"encoding/json"
	"io/fs"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
	"github.com/dbtlink/dbtlink/internal/browsertest"
	"github.com/dbtlink/dbtlink/internal/catalog"
	"github.com/dbtlink/dbtlink/internal/server"
	"github.com/dbtlink/dbtlink/internal/servetest"
	"github.com/dbtlink/dbtlink/internal/store"
)

// TestExtension loads the extension into headless chromium, points it at an
// in-process dbtlink server whose catalog was synced from the emulator, and
// opens the emulator's stand-in dbt Cloud pages: the panel must show what
// the catalog holds, follow the single-page navigation, and say clearly
// when the token is refused or the server is gone.
func TestExtension(t *testing.T) {
	chromium := browsertest.Path(t)
	st := newStack(t)
	dir := unpacked(t)
	ctx := newBrowser(t, chromium, dir, 3*time.Minute)
	id := extensionID(t, ctx)

	// The dbtlink server allows the extension's origin, and is reached as
	// "localhost" while the pages are on 127.0.0.1, so the extension has no
	// host permission for it and only CORS lets it read the answers.
	srv, err := server.New(server.Config{Backend: servetest.Backend{Tracker: st.tr, Store: st.st}, Logger: slog.New(slog.DiscardHandler), Catalog: st.cat,
		ExtensionOrigins: []string{"chrome-extension://" + id}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(ts.URL, "http://"))
	serverURL := "http://localhost:" + port

	configure(t, ctx, id, serverURL, st.read, st.emu.URL)
	do(t, ctx, "test button", chromedp.Click(chromedp.CSS(`#test`)),
		poll(`document.getElementById("status").textContent.startsWith("connected")`, 20*time.Second))

	emu := st.emu.URL
	base := emu + "/deploy/1/projects/101"
	shots := os.Getenv("DBTLINK_SCREENSHOTS")
	shot := func(name string) {
		if shots == "" {
			return
		}
		png := get(t, ctx, "screenshot "+name, chromedp.CaptureScreenshot())
		if err := os.WriteFile(filepath.Join(shots, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Jobs page: the job's name and what it builds.
	jobs, err := st.cat.Jobs(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var job catalog.JobRow
	for _, j := range jobs {
		if j.JobID == emulator.DemoFailingJobID {
			job = j
		}
	}
	if job.Name == "" || len(job.Steps) == 0 {
		t.Fatalf("the catalog has no job %d with steps: %+v", emulator.DemoFailingJobID, jobs)
	}
	do(t, ctx, "open the job page", chromedp.Navigate(base+"/jobs/302"))
	p := panelDone(t, ctx)
	if p.State != "ok" || p.Kind != "job" || p.Title != job.Name {
		t.Fatalf("job panel: %+v, want job %q", p, job.Name)
	}
	for _, s := range job.Steps {
		if !slices.Contains(p.Sections["builds"], s) {
			t.Errorf("job panel builds %q, want step %q in it", p.Sections["builds"], s)
		}
	}
	shot("extension-job.png")

	// Runs page, reached from the job page's run list without a reload.
	runs, err := st.cat.Runs(t.Context(), emulator.DemoFailingJobID, 1)
	if err != nil || len(runs) == 0 {
		t.Fatalf("runs of job %d: %v %v", emulator.DemoFailingJobID, runs, err)
	}
	run := runs[0]
	tests, err := st.cat.Tests(t.Context(), catalog.TestQuery{Failing: true})
	if err != nil {
		t.Fatal(err)
	}
	var failing []string
	for _, x := range tests {
		if x.RunID == run.RunID && x.Status != "pass" {
			failing = append(failing, x.Name)
		}
	}
	if len(failing) == 0 {
		t.Fatalf("the setup has no failing test in run %d: %+v", run.RunID, tests)
	}
	do(t, ctx, "mark the document", eval(`window.__sameDocument = true`))
	runLink := chromedp.CSS(`a[href$="/runs/` + itoa(run.RunID) + `"]`)
	do(t, ctx, "click the run", chromedp.Click(runLink),
		poll(`location.pathname.endsWith("/runs/`+itoa(run.RunID)+`")`, 10*time.Second))
	p = panelTitled(t, ctx, "Run "+itoa(run.RunID)+" of "+run.Job)
	if p.Kind != "run" {
		t.Fatalf("run panel: %+v", p)
	}
	for _, name := range failing {
		if !slices.ContainsFunc(p.Sections["failing tests"], func(s string) bool { return strings.HasPrefix(s, name+" ") }) {
			t.Errorf("run panel failing tests %q, want %q in it", p.Sections["failing tests"], name)
		}
	}
	if len(p.Sections["tables touched"]) == 0 {
		t.Errorf("run panel lists no tables touched: %+v", p)
	}
	sameDocument(t, ctx)
	shot("extension-run.png")

	// Explore model page: the table's catalog entry.
	orders := tableOf(t, st.cat, "model.jaffle_shop.orders")
	explore := emu + "/explore/1/projects/101/environments/production/details/"
	do(t, ctx, "open the Explore page", chromedp.Navigate(explore+"model.jaffle_shop.orders"))
	p = panelTitled(t, ctx, orders.FullName())
	checkTable(t, st.cat, p, orders)
	shot("extension-explore.png")

	// A click on a lineage node changes the subject without a URL change;
	// a link changes it with pushState.
	customers := tableOf(t, st.cat, "model.jaffle_shop.customers")
	do(t, ctx, "mark the document", eval(`window.__sameDocument = true`))
	do(t, ctx, "click a lineage node", chromedp.Click(chromedp.CSS(`.react-flow__node[data-id="model.jaffle_shop.customers"]`)))
	checkTable(t, st.cat, panelTitled(t, ctx, customers.FullName()), customers)
	stg := tableOf(t, st.cat, "model.jaffle_shop.stg_orders")
	do(t, ctx, "follow a link", chromedp.Click(chromedp.CSS(`a[href$="/details/model.jaffle_shop.stg_orders"]`)),
		poll(`location.pathname.endsWith("/model.jaffle_shop.stg_orders")`, 10*time.Second))
	checkTable(t, st.cat, panelTitled(t, ctx, stg.FullName()), stg)
	sameDocument(t, ctx)

	// The IDE: no panel until a model file is open, then that model's.
	do(t, ctx, "open the IDE", chromedp.Navigate(emu+"/develop/1/projects/101"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=file-tree]`)))
	if n := get(t, ctx, "panel before a file is open", chromedp.Evaluate[int](`document.querySelectorAll("dbtlink-panel").length`)); n != 0 {
		t.Errorf("the IDE with no file open shows %d panels, want none", n)
	}
	do(t, ctx, "open a model file", chromedp.Click(chromedp.CSS(`[data-open-file="models/staging/stg_orders.sql"]`)))
	checkTable(t, st.cat, panelTitled(t, ctx, stg.FullName()), stg)
	do(t, ctx, "open another", chromedp.Click(chromedp.CSS(`[data-open-file="models/marts/orders.sql"]`)))
	checkTable(t, st.cat, panelTitled(t, ctx, orders.FullName()), orders)
	shot("extension-ide.png")

	// A model the catalog lacks.
	do(t, ctx, "open a node without a table", chromedp.Navigate(explore+"model.jaffle_shop.metricflow_time_spine"))
	if p := panelDone(t, ctx); p.State != "missing" && p.State != "ok" {
		t.Errorf("a model that may lack a table: %+v, want a quiet note or its table", p)
	}

	// A refused token, then a stopped server: a clear message each.
	configure(t, ctx, id, serverURL, "dbtl_wrong-token", emu)
	do(t, ctx, "open the job page", chromedp.Navigate(base+"/jobs/302"))
	if p := panelDone(t, ctx); p.State != "error" || p.Error != "token" || p.Message != "token refused — check the options" {
		t.Errorf("wrong token: %+v", p)
	}
	shot("extension-token-refused.png")
	configure(t, ctx, id, serverURL, st.read, emu)
	ts.Close()
	do(t, ctx, "open the job page", chromedp.Navigate(base+"/jobs/302"))
	if p := panelDone(t, ctx); p.State != "error" || p.Error != "unreachable" || !strings.HasPrefix(p.Message, "dbtlink server unreachable") {
		t.Errorf("stopped server: %+v", p)
	}
	if probs := get(t, ctx, "page errors", chromedp.Evaluate[[]string](`window.__problems || []`)); len(probs) > 0 {
		t.Errorf("the pages had script errors: %q", probs)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// panel is what the extension's panel shows, read from its shadow root.
type panel struct {
	State, Kind, Error, Title, Message, Owner, Description string
	Sections                                               map[string][]string
}

const readPanel = `(() => {
  const host = document.querySelector("dbtlink-panel");
  const p = host && host.shadowRoot && host.shadowRoot.querySelector(".panel");
  if (!p) return null;
  const text = (sel) => { const e = p.querySelector(sel); return e ? e.textContent : ""; };
  const sections = {};
  for (const ul of p.querySelectorAll("ul[data-section]")) sections[ul.dataset.section] = [...ul.children].map((li) => li.textContent);
  return { State: p.dataset.state || "", Kind: p.dataset.kind || "", Error: p.dataset.error || "", Title: text(".title"),
    Message: text(".message"), Owner: text(".owner"), Description: text(".description"), Sections: sections };
})()`

// panelDone waits for the panel to show an answer, not "looking up".
func panelDone(t *testing.T, ctx context.Context) panel {
	t.Helper()
	do(t, ctx, "wait for the panel", poll(`(() => { const p = `+readPanel+`; return !!p && p.State !== "loading"; })()`, 20*time.Second))
	return get(t, ctx, "read the panel", chromedp.Evaluate[panel](readPanel))
}

// panelTitled waits for the panel to show title (after a navigation).
func panelTitled(t *testing.T, ctx context.Context, title string) panel {
	t.Helper()
	b, _ := json.Marshal(title)
	do(t, ctx, "wait for the panel of "+title, poll(`(() => { const p = `+readPanel+`; return !!p && p.State === "ok" && p.Title === `+string(b)+`; })()`, 20*time.Second))
	return get(t, ctx, "read the panel", chromedp.Evaluate[panel](readPanel))
}

func sameDocument(t *testing.T, ctx context.Context) {
	t.Helper()
	if !get(t, ctx, "same document", chromedp.Evaluate[bool](`window.__sameDocument === true`)) {
		t.Error("the page was reloaded; the navigation should have stayed in the document")
	}
}

// tableOf finds the catalog table a dbt node claims.
func tableOf(t *testing.T, cat *catalog.API, uniqueID string) *catalog.TableDetail {
	t.Helper()
	list, err := cat.ListTables(t.Context(), store.ListTablesParams{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if slices.Contains(s.Nodes, uniqueID) {
			d, err := cat.Table(t.Context(), itoa(s.ID))
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
	}
	t.Fatalf("no catalog table for %s", uniqueID)
	return nil
}

// checkTable compares a table panel with the catalog's entry and lineage.
func checkTable(t *testing.T, cat *catalog.API, p panel, want *catalog.TableDetail) {
	t.Helper()
	if p.Kind != "table" || p.Title != want.FullName() {
		t.Errorf("panel %+v, want table %s", p, want.FullName())
		return
	}
	owner := want.Owner
	if owner == "" {
		owner = "none"
	}
	if p.Owner != "Owner: "+owner {
		t.Errorf("%s: owner %q, want %q", want.Name, p.Owner, owner)
	}
	if want.Description != "" && p.Description != want.Description {
		t.Errorf("%s: description %q, want %q", want.Name, p.Description, want.Description)
	}
	if got := len(p.Sections["columns"]); got != len(want.Columns) {
		t.Errorf("%s: %d columns, want %d", want.Name, got, len(want.Columns))
	}
	for i, c := range want.Columns {
		if i < len(p.Sections["columns"]) && !strings.HasPrefix(p.Sections["columns"][i], c.Name) {
			t.Errorf("%s: column %d %q, want %s", want.Name, i, p.Sections["columns"][i], c.Name)
		}
	}
	if got := len(p.Sections["tests"]); got != len(want.Tests) {
		t.Errorf("%s: %d tests, want %d", want.Name, got, len(want.Tests))
	}
	for _, x := range want.Tests {
		status := x.Status
		if status == "" {
			status = "no result" // a test no synced run has executed
		}
		if !slices.ContainsFunc(p.Sections["tests"], func(s string) bool { return strings.HasPrefix(s, x.Name) && strings.HasSuffix(s, " "+status) }) {
			t.Errorf("%s: tests %q, want %s %s", want.Name, p.Sections["tests"], x.Name, status)
		}
	}
	lin, err := cat.Lineage(t.Context(), itoa(want.ID), catalog.Both, 1)
	if err != nil {
		t.Fatal(err)
	}
	var up, down []string
	for _, v := range lin.Vertices {
		switch {
		case v.Depth < 0:
			up = append(up, v.Name)
		case v.Depth > 0:
			down = append(down, v.Name)
		}
	}
	if !slices.Equal(p.Sections["upstream"], up) || !slices.Equal(p.Sections["downstream"], down) {
		t.Errorf("%s: upstream %q downstream %q, want %q and %q", want.Name, p.Sections["upstream"], p.Sections["downstream"], up, down)
	}
}

// configure fills and saves the options page, as a user would.
// The emulator is given as a single-tenant host, so the panel shows on its
// pages through the content scripts the service worker registers for it.
func configure(t *testing.T, ctx context.Context, id, serverURL, token, host string) {
	t.Helper()
	do(t, ctx, "open the options page",
		chromedp.Navigate("chrome-extension://"+id+"/options.html"),
		chromedp.WaitVisible(chromedp.CSS(`#server`)),
		chromedp.SetValue(chromedp.CSS(`#server`), serverURL),
		chromedp.SetValue(chromedp.CSS(`#token`), token),
		chromedp.SetValue(chromedp.CSS(`#hosts`), host),
		chromedp.Click(chromedp.CSS(`#save`)),
		poll(`document.getElementById("status").textContent === "saved; the panel shows on 1 of 1 extra hosts"`, 10*time.Second),
	)
}

// unpacked writes the extension into a directory for --load-extension. The
// manifest gets host permission for http://127.0.0.1/*, where the
// emulator's stand-in pages are, as if the user had granted it when adding
// the emulator as a single-tenant host in the options (a headless browser
// cannot answer the permission prompt); every other byte is what ships.
func unpacked(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	err := fs.WalkDir(Files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, path), 0o755)
		}
		b, err := Files.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, path), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	m["host_permissions"] = []any{"http://127.0.0.1/*"}
	if b, err = json.MarshalIndent(m, "", "  "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// extensionID waits for the extension's service worker and returns the id
// in its URL.
func extensionID(t *testing.T, ctx context.Context) string {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(20 * time.Second)
	for {
		infos, err := chromedp.Targets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range infos {
			if i.Type == "service_worker" && strings.HasPrefix(i.URL, "chrome-extension://") && strings.HasSuffix(i.URL, "/src/background.js") {
				return strings.Split(strings.TrimPrefix(i.URL, "chrome-extension://"), "/")[0]
			}
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("the extension's service worker did not start; targets: %+v", infos)
		}
	}
}

// newBrowser starts chromium with the extension in dir loaded
// (browsertest). Extensions need the new headless mode.
func newBrowser(tb testing.TB, path, dir string, timeout time.Duration) context.Context {
	tb.Helper()
	return browsertest.Start(tb, path, timeout, chromedp.Flag("headless", "new"), chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("load-extension", dir), chromedp.Flag("disable-extensions-except", dir))
}

func do(tb testing.TB, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	tb.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.Fatalf("%s: %v%s", what, err, where(ctx))
	}
}

func get[T any](tb testing.TB, ctx context.Context, what string, a chromedp.Action[T]) T {
	tb.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		tb.Fatalf("%s: %v%s", what, err, where(ctx))
	}
	return v
}

func where(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 800) : ""`))
	p, _ := chromedp.Run(ctx, chromedp.Evaluate[any](readPanel))
	return "\nat " + loc + "\n" + body + "\npanel: " + jsonString(p)
}

func jsonString(v any) string { b, _ := json.Marshal(v); return string(b) }

func void[T any](a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := a(ctx, t)
		return chromedp.Void{}, err
	}
}

func eval(js string) chromedp.Action[chromedp.Void] { return void(chromedp.Evaluate[any](js)) }

func poll(expr string, timeout time.Duration) chromedp.Action[chromedp.Void] {
	return void(chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(20*time.Millisecond)))
}
