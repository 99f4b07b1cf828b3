// page.js: everything the extension reads from a dbt Cloud page, in one
// place, so that when dbt Cloud changes its markup only this file changes.
//
// The subject of a page is what the panel is about:
//   {kind: "job",   account, project, job}
//   {kind: "run",   account, project, run}
//   {kind: "model", account, project, uniqueId, name, file}
// or null when the page has none (a list page, settings, the IDE with no
// model file open).
//
// Where the URL names the subject (Jobs, Runs, Explore details) the URL
// wins; the IDE and a click on a node of Explore's lineage graph give it
// only through the page, so those are read from the DOM. The URL shapes are
// dbt Cloud's documented links (see /work/shared/CATALOG.md); the DOM
// selectors are inferred from public extensions and the React Flow library
// dbt Cloud's lineage graph uses, and are the fragile part: the emulator's
// stand-in pages (dbtcloud/emulator/pages.go) carry exactly these.
"use strict";

(function () {
  const SELECTORS = {
    // The page title of Jobs and Runs pages.
    pageTitle: 'h1[data-testid="page-header-title"]',
    // A node selected in Explore's lineage graph (React Flow keeps the
    // node's id, the dbt unique_id, in data-id and marks it "selected").
    selectedGraphNode: ".react-flow__node.selected[data-id]",
    // The IDE's active editor tab; its title attribute (or, failing that,
    // its text) is the open file's path in the project.
    activeEditorTab: '[role="tablist"] [role="tab"][aria-selected="true"]',
  };

  // URL patterns. Paths may carry a trailing slash or more segments
  // (a run's /steps, a model's /lineage tab).
  const DEPLOY = /^\/deploy\/(\d+)\/projects\/(\d+)\/(jobs|runs)\/(\d+)(?:\/|$)/;
  const EXPLORE = /^\/explore\/(\d+)\/projects\/(\d+)\/environments\/([^/]+)\/details\/([^/?#]+)/;
  const IDE = /^\/(?:develop|studio)\/(\d+)\/projects\/(\d+)(?:\/|$)/;
  // The legacy single-page links: /#/accounts/{a}/projects/{p}/jobs/{j}/.
  const LEGACY = /^#\/accounts\/(\d+)\/projects\/(\d+)\/(jobs|runs)\/(\d+)/;

  // modelFromFile turns "models/staging/stg_orders.sql" into "stg_orders";
  // files that are not models (yml, macros, tests) give "".
  function modelFromFile(path) {
    const p = (path || "").trim();
    if (!/^(?:.*\/)?models\/.+\.(?:sql|py)$/.test(p) && !/^[^/]+\.(?:sql|py)$/.test(p)) {
      return "";
    }
    const base = p.split("/").pop();
    return base.replace(/\.(sql|py)$/, "");
  }

  function nameFromUniqueId(id) {
    // model.pkg.name, model.pkg.name.v2, source.pkg.src.name, seed.pkg.name
    const parts = id.split(".");
    if (parts[0] === "model" && parts.length === 4 && /^v\d+$/.test(parts[3])) {
      return parts[2];
    }
    return parts[parts.length - 1];
  }

  function modelSubject(account, project, uniqueId) {
    return { kind: "model", account, project, uniqueId, name: nameFromUniqueId(uniqueId), file: "" };
  }

  // subject reads the page's subject from loc (window.location) and doc.
  function subject(loc, doc) {
    let m = DEPLOY.exec(loc.pathname) || LEGACY.exec(loc.hash || "");
    if (m) {
      const s = { kind: m[3] === "jobs" ? "job" : "run", account: m[1], project: m[2] };
      s[s.kind] = m[4];
      const h1 = doc.querySelector(SELECTORS.pageTitle);
      s.title = h1 ? h1.textContent.trim() : "";
      return s;
    }
    m = EXPLORE.exec(loc.pathname);
    if (m) {
      const node = doc.querySelector(SELECTORS.selectedGraphNode);
      const id = node ? node.getAttribute("data-id") : decodeURIComponent(m[4]);
      return modelSubject(m[1], m[2], id);
    }
    m = IDE.exec(loc.pathname);
    if (m) {
      const tab = doc.querySelector(SELECTORS.activeEditorTab);
      if (!tab) {
        return null;
      }
      const file = (tab.getAttribute("title") || tab.textContent || "").trim();
      const name = modelFromFile(file);
      if (!name) {
        return null;
      }
      return { kind: "model", account: m[1], project: m[2], uniqueId: "", name, file };
    }
    return null;
  }

  // key identifies a subject, so the content script refreshes only when
  // the subject changes.
  function key(s) {
    if (!s) {
      return "";
    }
    return [s.kind, s.account, s.project, s.job || s.run || s.uniqueId || s.name].join("|");
  }

  globalThis.dbtlinkPage = { SELECTORS, subject, key, modelFromFile, nameFromUniqueId };
})();
