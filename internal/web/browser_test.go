package web

import (
	"context"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/dbtlink/dbtlink/internal/browsertest"
)

// newBrowser starts a headless chromium (browsertest) and returns a
// chromedp context for one tab, cancelled when tb ends.
func newBrowser(tb testing.TB, timeout time.Duration) context.Context {
	tb.Helper()
	ctx := browsertest.Start(tb, browsertest.Path(tb), timeout, chromedp.Headless, chromedp.Flag("disable-extensions", true))
	// Every page records what the Content-Security-Policy blocked and the
	// script errors, for pageProblems.
	if _, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: `
		window.__problems = [];
		document.addEventListener("securitypolicyviolation", function (e) { window.__problems.push("CSP blocked " + e.violatedDirective + " " + e.blockedURI); });
		window.addEventListener("error", function (e) { window.__problems.push("script error: " + e.message); });`}); err != nil {
		tb.Fatalf("install the page watcher: %v", err)
	}
	return ctx
}

// do runs chromedp steps, failing the test with what was being done,
// where the tab was and what it showed.
func do(tb testing.TB, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	tb.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.Fatalf("%s: %v%s", what, err, where(ctx))
	}
}

// get runs one chromedp action and returns its value.
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
	body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 1500) : ""`))
	return "\nat " + loc + "\n" + body
}

// void drops an action's value, to run it among steps.
func void[T any](a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := a(ctx, t)
		return chromedp.Void{}, err
	}
}

// eval runs JavaScript for its effect.
func eval(js string) chromedp.Action[chromedp.Void] { return void(chromedp.Evaluate[any](js)) }

// login logs in with token through the login form.
func login(tb testing.TB, ctx context.Context, base, token string) {
	tb.Helper()
	do(tb, ctx, "log in",
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`#token`)),
		chromedp.SendKeys(chromedp.CSS(`#token`), token),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`header.top nav`)),
	)
}

// poll waits until the JavaScript expression is true.
func poll(expr string, timeout time.Duration) chromedp.Action[chromedp.Void] {
	return void(chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(20*time.Millisecond)))
}

// pageProblems returns what the current page's CSP blocked and its
// script errors.
func pageProblems(tb testing.TB, ctx context.Context) []string {
	tb.Helper()
	return get(tb, ctx, "page problems", chromedp.Evaluate[[]string](`window.__problems || []`))
}
