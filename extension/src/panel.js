// panel.js: the small panel the content script shows, in a closed-over
// shadow root so the page's CSS cannot reach it and ours cannot reach the
// page. Everything is built with textContent: catalog text is never HTML.
"use strict";

(function () {
  const CSS = `
:host { all: initial; }
.panel { position: fixed; right: 12px; bottom: 12px; z-index: 2147483646; width: 340px; max-height: 60vh; overflow: auto;
  font: 12px/1.4 system-ui, sans-serif; color: #1f2328; background: #fff; border: 1px solid #d0d7de; border-radius: 6px;
  box-shadow: 0 4px 16px rgba(0,0,0,.15); }
header { display: flex; align-items: center; gap: 6px; padding: 6px 8px; background: #f6f8fa; border-bottom: 1px solid #d0d7de; }
header b { flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
button { font: inherit; border: 0; background: none; cursor: pointer; color: #57606a; }
.body { padding: 6px 8px; }
.note { color: #57606a; }
.error { color: #a40e26; }
h4 { margin: 8px 0 2px; font-size: 11px; text-transform: uppercase; color: #57606a; }
ul { margin: 0; padding-left: 16px; }
li { overflow-wrap: anywhere; }
.pass, .success { color: #1a7f37; } .fail, .error-status, .warn { color: #a40e26; }
.collapsed .body { display: none; }
a { color: #0969da; }
`;

  let host = null;
  let root = null;

  function ensure() {
    if (host && host.isConnected) return root;
    host = document.createElement("dbtlink-panel");
    host.setAttribute("data-dbtlink", "");
    root = host.attachShadow({ mode: "open" });
    const style = document.createElement("style");
    style.textContent = CSS;
    root.appendChild(style);
    document.documentElement.appendChild(host);
    return root;
  }

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text != null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  function section(body, title, items, line) {
    if (!items || !items.length) return;
    body.appendChild(el("h4", title));
    const ul = el("ul");
    ul.setAttribute("data-section", title.toLowerCase());
    for (const it of items) {
      const li = el("li");
      line(li, it);
      ul.appendChild(li);
    }
    body.appendChild(ul);
  }

  function status(li, text, st) {
    li.appendChild(document.createTextNode(text + " "));
    li.appendChild(el("span", st || "no result", st === "error" ? "error-status" : st || "note"));
  }

  function frame(title) {
    const r = ensure();
    for (const old of r.querySelectorAll(".panel")) old.remove();
    const panel = el("div", null, "panel");
    const head = el("header");
    head.appendChild(el("span", "dbtlink"));
    const b = el("b", title);
    b.className = "title";
    head.appendChild(b);
    const toggle = el("button", "–");
    toggle.title = "collapse";
    toggle.addEventListener("click", () => panel.classList.toggle("collapsed"));
    head.appendChild(toggle);
    panel.appendChild(head);
    const body = el("div", null, "body");
    panel.appendChild(body);
    r.appendChild(panel);
    return { panel, body };
  }

  // show draws a lookup answer (see background.js).
  function show(view) {
    if (view.state !== "ok") {
      const { panel, body } = frame("");
      panel.setAttribute("data-state", view.state);
      if (view.error) panel.setAttribute("data-error", view.error);
      body.appendChild(el("div", view.message, view.state === "error" ? "message error" : "message note"));
      return;
    }
    const { panel, body } = frame(view.title);
    panel.setAttribute("data-state", "ok");
    panel.setAttribute("data-kind", view.kind);
    if (view.kind === "table") {
      body.appendChild(el("div", "Owner: " + (view.owner || "none"), "owner"));
      body.appendChild(el("div", view.description || "No description.", "description"));
      section(body, "Tests", view.tests, (li, t) => status(li, t.name + (t.column ? " (" + t.column + ")" : ""), t.status));
      section(body, "Last runs", view.runs, (li, r) => status(li, "run " + r.run + (r.job ? " " + r.job : ""), r.status));
      section(body, "Freshness", view.freshness, (li, f) => status(li, f.name, f.status));
      section(body, "Upstream", view.upstream, (li, n) => (li.textContent = n));
      section(body, "Downstream", view.downstream, (li, n) => (li.textContent = n));
      section(body, "Columns", view.columns, (li, c) => {
        li.appendChild(el("code", c.name));
        li.appendChild(document.createTextNode((c.type ? " " + c.type : "") + (c.description ? " — " + c.description : "")));
      });
      const a = el("a", "Open in dbtlink");
      a.href = view.url;
      a.target = "_blank";
      a.rel = "noopener";
      body.appendChild(a);
    } else if (view.kind === "job") {
      if (view.lastRun) body.appendChild(el("div", "Last run " + view.lastRun.run + ": " + view.lastRun.status, "last-run"));
      section(body, "Builds", view.steps, (li, s) => (li.textContent = s));
      section(body, "Runs", view.runs, (li, r) => status(li, "run " + r.run, r.status));
    } else if (view.kind === "run") {
      body.appendChild(el("div", "Status: " + view.status, "run-status"));
      if (!view.failing.length) body.appendChild(el("div", "No failing tests recorded for this run.", "note"));
      section(body, "Failing tests", view.failing, (li, t) => status(li, t.name + (t.table ? " on " + t.table : ""), t.status));
      section(body, "Failing nodes", view.nodes, (li, n) => (li.textContent = n));
      section(body, "Tables touched", view.tables, (li, n) => (li.textContent = n));
    }
  }

  function hide() {
    if (host) host.remove();
    host = null;
  }

  globalThis.dbtlinkPanel = { show, hide };
})();
