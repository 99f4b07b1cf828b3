//go:build cgo

package web

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/dbtlink/dbtlink/internal/catalog"
	"github.com/dbtlink/dbtlink/internal/store"
)

// TestBrowser drives the UI of a whole in-process `dbtlink serve` in
// headless chromium, as a user would: issue 10's proof.
func TestBrowser(t *testing.T) {
	ctx := newBrowser(t, 4*time.Minute)
	s := newStack(t)
	base := s.ts.URL
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	badge := `(document.querySelector("#run-state .badge") ? document.querySelector("#run-state .badge").textContent : "")`

	t.Run("login required", func(t *testing.T) {
		do(t, ctx, "open /runs without a session", chromedp.Navigate(base+"/runs"), chromedp.WaitVisible(css(`#token`)))
		loc := get(t, ctx, "location", chromedp.Location())
		u, _ := url.Parse(loc)
		if u.Path != "/login" || u.Query().Get("next") != "/runs" {
			t.Fatalf("redirected to %s, want /login?next=/runs", loc)
		}
		// A wrong token is refused with a message the user can act on.
		do(t, ctx, "log in with a wrong token",
			chromedp.SendKeys(css(`#token`), "dbtl_not-a-real-token"),
			chromedp.Click(css(`form[action="/login"] button[type=submit]`)),
			chromedp.WaitVisible(css(`#login-error`)))
		if msg := get(t, ctx, "error", chromedp.Text(css(`#login-error`))); !strings.Contains(msg, "Unknown token") {
			t.Fatalf("login error %q", msg)
		}
	})

	t.Run("log in and back to the page asked for", func(t *testing.T) {
		do(t, ctx, "log in from the redirect",
			chromedp.Navigate(base+"/syncs"),
			chromedp.WaitVisible(css(`#token`)),
			chromedp.SendKeys(css(`#token`), s.write),
			chromedp.Submit(css(`#token`)),
			chromedp.WaitVisible(css(`#dbt`)))
		if loc := get(t, ctx, "location", chromedp.Location()); !strings.HasSuffix(loc, "/syncs") {
			t.Fatalf("after login at %s, want /syncs", loc)
		}
		if c := get(t, ctx, "document.cookie", chromedp.Evaluate[string](`document.cookie`)); strings.Contains(c, sessionCookie) {
			t.Errorf("the session cookie is readable from JavaScript (%q): it must be HttpOnly", c)
		}
	})

	t.Run("sync status", func(t *testing.T) {
		do(t, ctx, "sync page", chromedp.Navigate(base+"/syncs"), chromedp.WaitVisible(css(`#dbt`)))
		text := get(t, ctx, "text", chromedp.Text(css(`main`)))
		for _, want := range []string{"duck", "cloud:emu:", "matched", "Missing tables"} {
			if !strings.Contains(text, want) {
				t.Errorf("sync page lacks %q:\n%s", want, text)
			}
		}
	})

	t.Run("search as you type and open a table", func(t *testing.T) {
		const q = "orders"
		want, err := s.cat.Search(t.Context(), store.SearchParams{Query: q, Limit: 8})
		if err != nil || len(want) == 0 {
			t.Fatalf("catalog search: %v, %v", want, err)
		}
		var wantHrefs []string
		for _, r := range want {
			if r.Table != nil {
				wantHrefs = append(wantHrefs, "/tables/"+strconv.FormatInt(r.Table.ID, 10))
			}
		}
		do(t, ctx, "type into the header box",
			chromedp.Navigate(base+"/browse"),
			chromedp.WaitVisible(css(`#q`)),
			// "/" focuses the search box from anywhere on the page.
			chromedp.KeyEvent("/"),
			poll(`document.activeElement && document.activeElement.id === "q"`, 5*time.Second),
			chromedp.KeyEvent(q),
			chromedp.WaitVisible(css(`#quick a.hit`)))
		hrefs := get(t, ctx, "results", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#quick a.hit")).map(a => a.getAttribute("href"))`))
		if !slices.Equal(hrefs, wantHrefs) {
			t.Fatalf("results as you type %v, want the catalog's ranking %v", hrefs, wantHrefs)
		}
		// Arrows move from the box into the results and between them.
		do(t, ctx, "arrows", chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.ArrowDown))
		focused := get(t, ctx, "focus", chromedp.Evaluate[string](`document.activeElement.getAttribute("href") || ""`))
		if len(hrefs) > 1 && focused != hrefs[1] {
			t.Fatalf("after two ArrowDown the focus is on %q, want the second result %q", focused, hrefs[1])
		}
		do(t, ctx, "open the focused result", chromedp.KeyEvent(kb.ArrowUp), chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(css(`#table-name`)))
		if loc := get(t, ctx, "location", chromedp.Location()); !strings.HasSuffix(loc, hrefs[0]) {
			t.Fatalf("opened %s, want %s", loc, hrefs[0])
		}

		// The search page with a facet: the catalog's results, filtered.
		do(t, ctx, "search page with a facet",
			chromedp.Navigate(base+"/search"),
			chromedp.WaitVisible(css(`#sq`)),
			chromedp.SendKeys(css(`#sq`), "customers"),
			chromedp.WaitVisible(css(`#results a.hit`)),
			chromedp.SetValue(css(`#f-test`), "fail"),
			eval(`document.getElementById("f-test").dispatchEvent(new Event("change", {bubbles: true}))`),
			poll(`location.search.includes("test_status=fail")`, 5*time.Second),
			poll(`!document.querySelector("#results").classList.contains("htmx-request")`, 5*time.Second))
		filtered, err := s.cat.Search(t.Context(), store.SearchParams{Query: "customers", TestStatus: "fail", Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		tables := 0
		for _, r := range filtered {
			if r.Table != nil {
				tables++
			}
		}
		do(t, ctx, "facet results", poll(fmt.Sprintf(`document.querySelectorAll("#results a.hit").length === %d`, tables), 5*time.Second))
	})

	t.Run("failing test on its column", func(t *testing.T) {
		f := s.failed
		sel := fmt.Sprintf(`#col-%s .badge`, cssEscape(f.Column))
		do(t, ctx, "table page of the failing test",
			chromedp.Navigate(fmt.Sprintf("%s/tables/%d", base, f.TableID)),
			chromedp.WaitVisible(css(`#column-table`)))
		cls := get(t, ctx, "badge", chromedp.Evaluate[string](fmt.Sprintf(`(function(){var b=[...document.querySelectorAll(%q)].find(b=>b.textContent===%q);return b?b.className:""})()`, sel, f.Status)))
		if !strings.Contains(cls, "bad") {
			t.Fatalf("column %s shows no %q badge (class %q)", f.Column, f.Status, cls)
		}
		if text := get(t, ctx, "tests", chromedp.Text(css(`#tests + table`))); !strings.Contains(text, f.Name) {
			t.Errorf("tests table lacks %s:\n%s", f.Name, text)
		}
	})

	t.Run("browse with counts and badges", func(t *testing.T) {
		tables, err := s.cat.ListTables(t.Context(), store.ListTablesParams{Warehouse: "duck", Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		fails, err := s.cat.Tests(t.Context(), catalog.TestQuery{Failing: true})
		if err != nil {
			t.Fatal(err)
		}
		perSchema, failing := map[string]int{}, map[string]map[int64]bool{}
		for _, tb := range tables {
			perSchema[tb.Schema]++
			for _, f := range fails {
				if f.TableID == tb.ID {
					if failing[tb.Schema] == nil {
						failing[tb.Schema] = map[int64]bool{}
					}
					failing[tb.Schema][tb.ID] = true
				}
			}
		}
		do(t, ctx, "browse", chromedp.Navigate(base+"/browse"), chromedp.WaitVisible(css(`main table`)),
			chromedp.Click(css(`main table a[href="/browse/duck"]`)), chromedp.WaitVisible(css(`main table a[href="/browse/duck/jaffle_shop"]`)),
			chromedp.Click(css(`main table a[href="/browse/duck/jaffle_shop"]`)), chromedp.WaitVisible(css(`main table a[href="/browse/duck/jaffle_shop/main"]`)))
		rows := get(t, ctx, "schema rows", chromedp.Evaluate[[][]string](`[...document.querySelectorAll("main table tbody tr")].map(tr => [...tr.cells].map(c => c.textContent.trim()))`))
		for _, row := range rows {
			want := fmt.Sprint(perSchema[row[0]])
			if row[1] != want {
				t.Errorf("schema %s: %s tables, want %s", row[0], row[1], want)
			}
			if n := len(failing[row[0]]); n > 0 && !strings.Contains(row[2], fmt.Sprintf("%d failing", n)) {
				t.Errorf("schema %s: badge %q, want %d failing", row[0], row[2], n)
			}
		}
		if len(rows) != len(perSchema) {
			t.Errorf("schemas %v, want %v", rows, perSchema)
		}
		do(t, ctx, "open a schema", chromedp.Click(css(`main table a[href="/browse/duck/jaffle_shop/main"]`)), chromedp.WaitVisible(css(`main table tbody tr`)))
		if n := get(t, ctx, "tables", chromedp.Evaluate[int](`document.querySelectorAll("main table tbody tr").length`)); n != perSchema["main"] {
			t.Errorf("schema main lists %d tables, want %d", n, perSchema["main"])
		}
	})

	t.Run("test history and failure summary", func(t *testing.T) {
		f := s.failed
		do(t, ctx, "history of the failing test",
			chromedp.Navigate(fmt.Sprintf("%s/tables/%d", base, f.TableID)),
			chromedp.WaitVisible(css(`#tests + table`)),
			chromedp.Click(css(fmt.Sprintf(`a[href="/tests/%s/%s"]`, f.Scope, f.UniqueID))),
			chromedp.WaitVisible(css(`main table tbody tr`)))
		if text := get(t, ctx, "history", chromedp.Text(css(`main table tbody`))); !strings.Contains(text, f.Status) {
			t.Errorf("history of %s lacks %q:\n%s", f.UniqueID, f.Status, text)
		}
		// The setup's failing build (job 302) shows its steps and failing nodes.
		failed, err := s.tr.ListRuns(t.Context(), store.RunFilter{JobID: 302})
		if err != nil || len(failed) == 0 {
			t.Fatalf("no run of job 302: %v", err)
		}
		do(t, ctx, "failed run", chromedp.Navigate(fmt.Sprintf("%s/runs/%d", base, failed[0].ID)), chromedp.WaitVisible(css(`#run-live`)))
		text := get(t, ctx, "run page", chromedp.Text(css(`#run-live`)))
		for _, want := range []string{"Steps", "Failure summary", "test.", "error"} {
			if !strings.Contains(text, want) {
				t.Errorf("failed run page lacks %q:\n%s", want, text)
			}
		}
	})

	t.Run("lineage graph and click through to an upstream", func(t *testing.T) {
		view, err := s.cat.Lineage(t.Context(), strconv.FormatInt(s.failed.TableID, 10), catalog.Upstream, 2)
		if err != nil {
			t.Fatal(err)
		}
		var up *catalog.LineageItem
		for i, v := range view.Vertices {
			if v.Depth < 0 && v.TableID != 0 {
				up = &view.Vertices[i]
				break
			}
		}
		if up == nil {
			t.Fatalf("table %d has no upstream table: %+v", s.failed.TableID, view)
		}
		do(t, ctx, "draw the graph",
			chromedp.Navigate(fmt.Sprintf("%s/tables/%d/lineage?direction=upstream&depth=2", base, s.failed.TableID)),
			chromedp.WaitVisible(css(`#graph[data-ready="1"]`)))
		if n := get(t, ctx, "nodes", chromedp.Evaluate[string](`document.getElementById("graph").dataset.nodes`)); n != strconv.Itoa(len(view.Vertices)) {
			t.Fatalf("graph drew %s nodes, the catalog has %d", n, len(view.Vertices))
		}
		pos := get(t, ctx, "node position", chromedp.Evaluate[struct{ X, Y float64 }](fmt.Sprintf(`(function(){
			var n = window.dbtlinkLineage.getElementById(%q), r = document.getElementById("graph").getBoundingClientRect(), p = n.renderedPosition();
			return {X: r.left + p.x, Y: r.top + p.y};
		})()`, up.Key)))
		// Export: the PNG and SVG the buttons would download.
		exported := get(t, ctx, "export", chromedp.Evaluate[[]string](`(function(){
			var got = [], click = HTMLAnchorElement.prototype.click, blobURL = URL.createObjectURL;
			window.__svgBlob = null;
			URL.createObjectURL = function (b) { window.__svgBlob = b; return blobURL.call(URL, b); };
			HTMLAnchorElement.prototype.click = function () { got.push(this.download + " " + this.href); };
			document.getElementById("export-png").click();
			document.getElementById("export-svg").click();
			HTMLAnchorElement.prototype.click = click;
			URL.createObjectURL = blobURL;
			return got;
		})()`))
		if len(exported) != 2 || !strings.HasPrefix(exported[0], "lineage.png data:image/png;base64,") || !strings.HasPrefix(exported[1], "lineage.svg blob:") {
			t.Fatalf("exports %.200q", exported)
		}
		svg := get(t, ctx, "svg", chromedp.Evaluate[string](`window.__svgBlob.text()`, func(p *runtime.EvaluateParams) { p.AwaitPromise = ptrTrue() }))
		if !strings.HasPrefix(svg, "<svg") || strings.Count(svg, "<rect") != len(view.Vertices) || !strings.Contains(svg, up.Name) {
			t.Errorf("SVG export: %d boxes for %d vertices, has %s: %v\n%.300s", strings.Count(svg, "<rect"), len(view.Vertices), up.Name, strings.Contains(svg, up.Name), svg)
		}
		do(t, ctx, "click it", chromedp.MouseClickXY(pos.X, pos.Y), chromedp.WaitVisible(css(`#table-name`)))
		if loc := get(t, ctx, "location", chromedp.Location()); !strings.HasSuffix(loc, "/tables/"+strconv.FormatInt(up.TableID, 10)) {
			t.Fatalf("clicking %s opened %s", up.Name, loc)
		}
	})

	t.Run("run goes running then success live", func(t *testing.T) {
		do(t, ctx, "trigger job 301",
			chromedp.Navigate(base+"/runs"),
			chromedp.WaitVisible(css(`#trigger-301`)),
			chromedp.Click(css(`#trigger-301`)),
			chromedp.WaitVisible(css(`#run-live`)),
			// A mark on the page: were it reloaded, the mark would be gone.
			eval(`window.__noReload = true; window.__states = [];
				(function(){
					function seen(){ var s = document.querySelector("#run-state .badge"); if (s && window.__states[window.__states.length-1] !== s.textContent) window.__states.push(s.textContent); }
					new MutationObserver(seen).observe(document.getElementById("run-live"), {childList: true, subtree: true});
					seen();
				})()`),
			poll(badge+` === "success"`, 60*time.Second))
		if !get(t, ctx, "no reload", chromedp.Evaluate[bool](`window.__noReload === true`)) {
			t.Fatal("the page was reloaded; it must update live")
		}
		states := get(t, ctx, "states", chromedp.Evaluate[[]string](`window.__states`))
		if !slices.Contains(states, "running") || states[len(states)-1] != "success" {
			t.Fatalf("states seen live %v, want running then success", states)
		}
	})

	t.Run("cancel a running run", func(t *testing.T) {
		do(t, ctx, "trigger job 303 and cancel it",
			chromedp.Navigate(base+"/runs"),
			chromedp.WaitVisible(css(`#trigger-303`)),
			chromedp.Click(css(`#trigger-303`)),
			chromedp.WaitVisible(css(`#run-live`)),
			poll(badge+` === "running"`, 60*time.Second),
			chromedp.Click(css(`#cancel`)),
			poll(badge+` === "cancelled"`, 60*time.Second))
	})

	t.Run("accessibility basics", func(t *testing.T) {
		for _, p := range []string{"/", "/search?q=orders", "/browse", fmt.Sprintf("/tables/%d", s.failed.TableID), fmt.Sprintf("/tables/%d/lineage", s.failed.TableID), "/runs", "/syncs"} {
			do(t, ctx, "open "+p, chromedp.Navigate(base+p), chromedp.WaitVisible(css(`main`)))
			unlabelled := get(t, ctx, "labels on "+p, chromedp.Evaluate[[]string](`[...document.querySelectorAll("input:not([type=hidden]), select, textarea, button")].filter(function(e){
					if (e.tagName === "BUTTON") return !(e.textContent.trim() || e.getAttribute("aria-label"));
					return !(e.labels && e.labels.length) && !e.getAttribute("aria-label");
				}).map(function(e){ return e.outerHTML.slice(0, 120); })`))
			if len(unlabelled) > 0 {
				t.Errorf("%s: controls without a label: %v", p, unlabelled)
			}
			if low := get(t, ctx, "contrast on "+p, chromedp.Evaluate[[]string](contrastJS)); len(low) > 0 {
				t.Errorf("%s: text below 4.5:1 contrast: %v", p, low)
			}
			if probs := pageProblems(t, ctx); len(probs) > 0 {
				t.Errorf("%s: %v", p, probs)
			}
		}
		// The checks see a problem when there is one.
		low := get(t, ctx, "contrast check", chromedp.Evaluate[[]string](`(function(){
			var p = document.createElement("p"); p.textContent = "faint"; p.style.color = "#cccccc"; p.id = "faint";
			document.querySelector("main").appendChild(p); return `+contrastJS+`; })()`))
		if len(low) == 0 || !strings.Contains(strings.Join(low, " "), "faint") {
			t.Errorf("the contrast check missed light grey on white: %v", low)
		}
		// Focus order: skip link, brand, the navigation, the search box.
		steps := []chromedp.Action[chromedp.Void]{chromedp.Navigate(base + "/browse"), chromedp.WaitVisible(css(`main`)), eval(`window.order = []`)}
		for range 7 {
			steps = append(steps, chromedp.KeyEvent(kb.Tab), eval(`window.order.push(document.activeElement.id || document.activeElement.textContent.trim())`))
		}
		do(t, ctx, "tab through the header", steps...)
		order := get(t, ctx, "order", chromedp.Evaluate[[]string](`window.order`))
		want := []string{"Skip to content", "dbtlink", "Search", "Browse", "Jobs and runs", "Sync status", "q"}
		if !slices.Equal(order, want) {
			t.Errorf("focus order %q, want %q", order, want)
		}
	})

	t.Run("readable without JavaScript", func(t *testing.T) {
		if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: false}); err != nil {
				t.Fatal(err)
			}
		}()
		// The search form submits as a plain GET and the page answers whole.
		do(t, ctx, "search without scripts",
			chromedp.Navigate(base+"/search"),
			chromedp.WaitVisible(css(`#sq`)),
			chromedp.SendKeys(css(`#sq`), "orders"),
			chromedp.Submit(css(`#sq`)),
			chromedp.WaitVisible(css(`#results a.hit`)))
		if get(t, ctx, "htmx", chromedp.Evaluate[bool](`typeof window.htmx !== "undefined"`)) {
			t.Fatal("the page's scripts ran: this checks the page without them")
		}
		if loc := get(t, ctx, "location", chromedp.Location()); !strings.Contains(loc, "/search?q=orders") {
			t.Errorf("search without scripts landed on %s", loc)
		}
		// The lineage page lists what the graph would draw.
		do(t, ctx, "lineage without scripts",
			chromedp.Navigate(fmt.Sprintf("%s/tables/%d/lineage?direction=upstream", base, s.failed.TableID)),
			chromedp.WaitVisible(css(`.lists`)))
		if text := get(t, ctx, "lists", chromedp.Text(css(`.lists`))); !strings.Contains(text, "Upstream") || strings.Contains(text, "None.\nDownstream") {
			t.Errorf("lineage lists without scripts:\n%s", text)
		}
		if n := get(t, ctx, "upstream links", chromedp.Evaluate[int](`document.querySelectorAll(".lists a[href^='/tables/']").length`)); n == 0 {
			t.Error("no upstream table links without scripts")
		}
	})

	t.Run("read scope is refused", func(t *testing.T) {
		do(t, ctx, "log out", chromedp.Navigate(base+"/"), chromedp.WaitVisible(css(`form.logout button`)),
			chromedp.Click(css(`form.logout button`)), chromedp.WaitVisible(css(`#token`)))
		login(t, ctx, base, s.read)
		do(t, ctx, "runs page as a reader", chromedp.Navigate(base+"/runs"), chromedp.WaitVisible(css(`#trigger-301`)))
		disabled := get(t, ctx, "disabled", chromedp.Evaluate[bool](`document.getElementById("trigger-301").disabled`))
		note := get(t, ctx, "note", chromedp.Text(css(`#write-note`)))
		if !disabled || !strings.Contains(note, "write scope") {
			t.Fatalf("trigger button disabled=%v, note %q", disabled, note)
		}
		before, err := s.tr.ListRuns(t.Context(), store.RunFilter{})
		if err != nil {
			t.Fatal(err)
		}
		// The server refuses even when the button is forced on.
		do(t, ctx, "force the form",
			eval(`document.getElementById("trigger-301").disabled = false`),
			chromedp.Click(css(`#trigger-301`)),
			chromedp.WaitVisible(css(`.problem`)))
		if msg := get(t, ctx, "refusal", chromedp.Text(css(`.problem`))); !strings.Contains(msg, "needs a token with the write scope") {
			t.Fatalf("refusal %q", msg)
		}
		after, err := s.tr.ListRuns(t.Context(), store.RunFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != len(before) {
			t.Fatalf("a read token triggered a run: %d runs, were %d", len(after), len(before))
		}
	})

	t.Run("log out", func(t *testing.T) {
		do(t, ctx, "log out",
			chromedp.Navigate(base+"/"),
			chromedp.Click(css(`form.logout button`)),
			chromedp.WaitVisible(css(`#token`)),
			chromedp.Navigate(base+"/runs"),
			chromedp.WaitVisible(css(`#token`)))
		if loc := get(t, ctx, "location", chromedp.Location()); !strings.Contains(loc, "/login") {
			t.Fatalf("after logout /runs is at %s, want the login page", loc)
		}
	})
}

// cssEscape escapes an id for a CSS selector.
func cssEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			b.WriteRune(r)
		} else {
			fmt.Fprintf(&b, "\\%x ", r)
		}
	}
	return b.String()
}

// contrastJS lists text elements whose colour against their background
// is below 4.5:1 (WCAG AA for body text), background walked up to the
// first opaque ancestor.
const contrastJS = `(function(){
  function rgb(s){ var m = s.match(/[\d.]+/g); return m ? m.map(Number) : [0,0,0,0]; }
  function lum(c){ var a = c.slice(0,3).map(function(v){ v/=255; return v <= 0.03928 ? v/12.92 : Math.pow((v+0.055)/1.055, 2.4); }); return 0.2126*a[0]+0.7152*a[1]+0.0722*a[2]; }
  function bg(e){ for (; e; e = e.parentElement) { var c = rgb(getComputedStyle(e).backgroundColor); if (c.length < 4 || c[3] > 0.5) return c; } return [255,255,255]; }
  var bad = [];
  document.querySelectorAll("main *, header *").forEach(function(e){
    if (!e.childNodes.length || ![...e.childNodes].some(function(n){ return n.nodeType === 3 && n.textContent.trim(); })) return;
    var st = getComputedStyle(e); if (st.visibility === "hidden" || st.display === "none" || e.closest("[hidden]") || e.closest("pre")) return;
    var l1 = lum(rgb(st.color)), l2 = lum(bg(e)), r = (Math.max(l1,l2)+0.05)/(Math.min(l1,l2)+0.05);
    if (r < 4.5) bad.push(e.tagName + "." + e.className + " " + r.toFixed(2) + ": " + e.textContent.trim().slice(0, 30));
  });
  return bad.slice(0, 10);
})()`

func ptrTrue() *bool { t := true; return &t }
