// content.js: finds the page's subject (page.js), asks the service worker
// about it and draws the answer (panel.js). dbt Cloud is a single-page app,
// so the subject is looked for again whenever the URL or the page changes,
// without a reload. Nothing here may throw into the page: every failure
// ends as a one-line note in the panel, or no panel at all.
"use strict";

(function () {
  if (globalThis.__dbtlinkStarted) return; // injected twice (manifest and registered hosts)
  globalThis.__dbtlinkStarted = true;

  let current = null; // key of the subject shown
  let seq = 0; // answers to an older subject are dropped
  let timer = 0;

  function check() {
    timer = 0;
    let s = null;
    try {
      s = dbtlinkPage.subject(location, document);
    } catch (e) {
      s = null;
    }
    const k = dbtlinkPage.key(s);
    if (k === current) return;
    current = k;
    const mine = ++seq;
    if (!s) {
      dbtlinkPanel.hide();
      return;
    }
    dbtlinkPanel.show({ state: "loading", message: "dbtlink: looking up…" });
    try {
      chrome.runtime.sendMessage({ type: "lookup", subject: s }, (view) => {
        if (mine !== seq) return;
        if (chrome.runtime.lastError || !view) {
          dbtlinkPanel.show({ state: "error", error: "extension", message: "dbtlink extension unavailable — reload the page" });
          return;
        }
        dbtlinkPanel.show(view);
      });
    } catch (e) {
      // The extension was reloaded or removed under this page.
      dbtlinkPanel.hide();
    }
  }

  function soon() {
    if (!timer) timer = setTimeout(check, 150);
  }

  // pushState from the page's own world cannot be seen from here, so the
  // page's DOM changes (which every SPA navigation makes) and popstate
  // trigger a fresh look; check is cheap when nothing changed.
  new MutationObserver(soon).observe(document.documentElement, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ["class", "aria-selected", "title"],
  });
  addEventListener("popstate", soon);
  addEventListener("hashchange", soon);
  check();
})();
