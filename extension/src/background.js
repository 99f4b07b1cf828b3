// background.js: the extension's service worker. It alone holds the
// server URL and token (from chrome.storage.local) and talks to the
// dbtlink server; content scripts send it a page subject and get back a
// view to draw, or a one-line message to show instead.
"use strict";

const SETTINGS = ["server", "token", "hosts"];

async function settings() {
  const s = await chrome.storage.local.get(SETTINGS);
  return { server: (s.server || "").replace(/\/+$/, ""), token: s.token || "", hosts: s.hosts || [] };
}

// Failure is a message for the panel; kind lets tests and the panel tell
// them apart.
class Failure extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

async function api(cfg, path) {
  let res;
  try {
    res = await fetch(cfg.server + path, {
      headers: { Authorization: "Bearer " + cfg.token, Accept: "application/json" },
      credentials: "omit",
    });
  } catch (e) {
    // A server that is down and one that does not allow this extension's
    // origin (CORS) look the same from here.
    throw new Failure(
      "unreachable",
      "dbtlink server unreachable at " + cfg.server + " (is it running, with --extension-origin " + chrome.runtime.getURL("").replace(/\/$/, "") + "?)"
    );
  }
  if (res.status === 401 || res.status === 403) {
    throw new Failure("token", "token refused — check the options");
  }
  if (res.status === 404) {
    return null;
  }
  if (!res.ok) {
    let detail = "";
    try {
      detail = (await res.json()).error.message;
    } catch (e) {
      detail = res.statusText;
    }
    throw new Failure("server", "dbtlink server answered " + res.status + ": " + detail);
  }
  return res.json();
}

const enc = encodeURIComponent;

// findTable finds the catalog table of a dbt node: by unique_id when the
// page gives one, else by the model's name.
async function findTable(cfg, s) {
  const found = await api(cfg, "/api/v1/catalog/search?limit=50&q=" + enc(s.name));
  const results = (found && found.results) || [];
  const tables = results.filter((r) => r.kind === "table" && r.table);
  let hit;
  if (s.uniqueId) {
    hit = tables.find((r) => (r.table.nodes || []).includes(s.uniqueId));
  } else {
    const lower = s.name.toLowerCase();
    hit =
      tables.find((r) => (r.table.nodes || []).some((n) => n.startsWith("model.") && n.toLowerCase().endsWith("." + lower))) ||
      tables.find((r) => r.table.name.toLowerCase() === lower);
  }
  return hit ? hit.table : null;
}

function fullName(t) {
  return t.database + "." + t.schema + "." + t.name;
}

async function modelView(cfg, s) {
  const t = await findTable(cfg, s);
  if (!t) {
    return { state: "missing", message: "not in catalog: " + (s.uniqueId || s.name) };
  }
  const [detail, lineage] = await Promise.all([
    api(cfg, "/api/v1/catalog/tables/" + t.id),
    api(cfg, "/api/v1/catalog/tables/" + t.id + "/lineage?direction=both&depth=1"),
  ]);
  if (!detail) {
    return { state: "missing", message: "not in catalog: " + (s.uniqueId || s.name) };
  }
  const vertices = (lineage && lineage.vertices) || [];
  const upstream = vertices.filter((v) => v.depth < 0).map((v) => v.name);
  const downstream = vertices.filter((v) => v.depth > 0).map((v) => v.name);
  // Freshness: the table's own source node, and the sources it reads.
  const freshness = [];
  for (const n of detail.dbt || []) {
    if (n.freshness) freshness.push({ name: fullName(detail), status: n.freshness.status, checked: n.freshness.checked_at || "" });
  }
  const upTables = vertices.filter((v) => v.depth < 0 && v.table_id).slice(0, 10);
  const ups = await Promise.all(upTables.map((v) => api(cfg, "/api/v1/catalog/tables/" + v.table_id)));
  for (const u of ups) {
    for (const n of (u && u.dbt) || []) {
      if (n.freshness) freshness.push({ name: fullName(u), status: n.freshness.status, checked: n.freshness.checked_at || "" });
    }
  }
  return {
    state: "ok",
    kind: "table",
    title: fullName(detail),
    url: cfg.server + "/tables/" + detail.id,
    owner: detail.owner || "",
    description: detail.description || "",
    columns: (detail.columns || []).map((c) => ({ name: c.name, type: c.data_type || "", description: c.description || "" })),
    tests: (detail.tests || []).map((x) => ({ name: x.name, column: x.column || "", status: x.status, failures: x.failures == null ? null : x.failures })),
    runs: (detail.runs || []).slice(0, 3).map((r) => ({ run: r.run_id, job: r.job || "", status: r.status, at: r.finished_at || r.started_at || "" })),
    freshness,
    upstream,
    downstream,
  };
}

async function jobView(cfg, s) {
  const [jobs, runs] = await Promise.all([
    api(cfg, "/api/v1/catalog/jobs"),
    api(cfg, "/api/v1/catalog/runs?limit=5&job=" + enc(s.job)),
  ]);
  const job = ((jobs && jobs.jobs) || []).find((j) => String(j.job_id) === s.job);
  if (!job) {
    return { state: "missing", message: "not in catalog: job " + s.job };
  }
  return {
    state: "ok",
    kind: "job",
    title: job.name,
    steps: job.steps || [],
    lastRun: job.last_run_id ? { run: job.last_run_id, status: job.last_run_status || "" } : null,
    runs: ((runs && runs.runs) || []).map((r) => ({ run: r.run_id, status: r.run_status, at: r.finished_at || r.started_at || "" })),
  };
}

// runView shows a run's failing tests, the nodes they test, and the tables
// its tests touched. The catalog keeps each test's latest result only, so a
// run's tests are those whose latest result came from it.
async function runView(cfg, s) {
  const [runs, tests] = await Promise.all([api(cfg, "/api/v1/catalog/runs?limit=1000"), api(cfg, "/api/v1/catalog/tests?limit=1000")]);
  const run = ((runs && runs.runs) || []).find((r) => String(r.run_id) === s.run);
  if (!run) {
    return { state: "missing", message: "not in catalog: run " + s.run };
  }
  const mine = ((tests && tests.tests) || []).filter((t) => String(t.run_id) === s.run);
  const failing = mine.filter((t) => t.status === "fail" || t.status === "error" || t.status === "warn");
  const nodes = [...new Set(failing.map((t) => t.attached_to).filter(Boolean))].sort();
  const tables = [...new Set(mine.map((t) => t.table).filter(Boolean))].sort();
  return {
    state: "ok",
    kind: "run",
    title: "Run " + run.run_id + (run.job ? " of " + run.job : ""),
    status: run.run_status,
    failing: failing.map((t) => ({ name: t.name, status: t.status, table: t.table || "", message: t.message || "" })),
    nodes,
    tables,
  };
}

async function lookup(s) {
  const cfg = await settings();
  if (!cfg.server || !cfg.token) {
    return { state: "error", error: "setup", message: "dbtlink is not set up — open the extension's options" };
  }
  try {
    if (s.kind === "model") return await modelView(cfg, s);
    if (s.kind === "job") return await jobView(cfg, s);
    if (s.kind === "run") return await runView(cfg, s);
    return { state: "missing", message: "nothing to show on this page" };
  } catch (e) {
    if (e instanceof Failure) {
      return { state: "error", error: e.kind, message: e.message };
    }
    return { state: "error", error: "internal", message: "dbtlink: " + e.message };
  }
}

// testServer is the options page's "test" button: one read call.
async function testServer(server, token) {
  const cfg = { server: (server || "").replace(/\/+$/, ""), token: token || "" };
  try {
    const jobs = await api(cfg, "/api/v1/catalog/jobs");
    if (!jobs) {
      return { ok: false, message: "the server has no catalog (GET /api/v1/catalog/jobs answered 404)" };
    }
    return { ok: true, message: "connected: the catalog lists " + jobs.jobs.length + " jobs" };
  } catch (e) {
    return { ok: false, message: e.message };
  }
}

// Single-tenant hosts (https://acme.us1.dbt.com is matched already; a host
// such as https://dbt.acme.internal is not) get the content scripts
// registered at run time, for the hosts whose permission was granted.
async function registerHosts() {
  const { hosts } = await settings();
  const granted = [];
  for (const h of hosts) {
    const origin = h.replace(/\/+$/, "") + "/*";
    if (await chrome.permissions.contains({ origins: [origin] })) granted.push(origin);
  }
  const old = await chrome.scripting.getRegisteredContentScripts({ ids: ["dbtlink-hosts"] });
  if (old.length) await chrome.scripting.unregisterContentScripts({ ids: ["dbtlink-hosts"] });
  if (granted.length) {
    await chrome.scripting.registerContentScripts([
      { id: "dbtlink-hosts", matches: granted, js: ["src/page.js", "src/panel.js", "src/content.js"], runAt: "document_idle", persistAcrossSessions: true },
    ]);
  }
  return granted;
}

chrome.runtime.onMessage.addListener((msg, sender, reply) => {
  if (!msg || typeof msg !== "object") return false;
  if (msg.type === "lookup") {
    lookup(msg.subject).then(reply);
    return true;
  }
  // Only the extension's own pages (options) may test or re-register.
  if (sender.id !== chrome.runtime.id || !sender.url || !sender.url.startsWith(chrome.runtime.getURL(""))) return false;
  if (msg.type === "test") {
    testServer(msg.server, msg.token).then(reply);
    return true;
  }
  if (msg.type === "hosts") {
    registerHosts().then(
      (granted) => reply({ ok: true, granted }),
      (e) => reply({ ok: false, message: e.message })
    );
    return true;
  }
  return false;
});

chrome.runtime.onInstalled.addListener(() => registerHosts().catch(() => {}));
chrome.runtime.onStartup.addListener(() => registerHosts().catch(() => {}));
