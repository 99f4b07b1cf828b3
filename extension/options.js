// options.js: keeps the server URL, read token and extra dbt Cloud hosts
// in chrome.storage.local, asks for host permission for exactly the
// origins given, and tests the server through the service worker.
"use strict";

const $ = (id) => document.getElementById(id);

function say(text, ok) {
  $("status").textContent = text;
  $("status").className = ok ? "ok" : "bad";
}

// origin turns a URL the user typed into "scheme://host[:port]", or throws
// a message saying what is wrong.
function origin(text, what) {
  let u;
  try {
    u = new URL(text.trim());
  } catch (e) {
    throw new Error(what + " " + JSON.stringify(text) + " is not a URL: write it as https://host[:port]");
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") {
    throw new Error(what + " " + JSON.stringify(text) + " must start with https:// or http://");
  }
  return u.origin;
}

function hostList() {
  return $("hosts")
    .value.split(/\s+/)
    .filter(Boolean)
    .map((h) => origin(h, "host"));
}

async function load() {
  $("origin").textContent = location.origin;
  const s = await chrome.storage.local.get(["server", "token", "hosts"]);
  $("server").value = s.server || "";
  $("token").value = s.token || "";
  $("hosts").value = (s.hosts || []).join("\n");
}

// request asks for host permission; a browser without the prompt (or a
// user saying no) leaves it ungranted, which the server's CORS answer
// makes up for on the server's origin, and which disables extra hosts.
async function request(origins) {
  try {
    return await chrome.permissions.request({ origins });
  } catch (e) {
    return false;
  }
}

async function save(ev) {
  ev.preventDefault();
  let server, hosts;
  try {
    server = origin($("server").value, "server URL") + new URL($("server").value.trim()).pathname.replace(/\/+$/, "");
    hosts = hostList();
  } catch (e) {
    say(e.message, false);
    return;
  }
  const token = $("token").value.trim();
  if (!token) {
    say("the read token is empty: create one with `dbtlink token create --scope read`", false);
    return;
  }
  // Saved first: the permission prompt may never be answered.
  await chrome.storage.local.set({ server, token, hosts });
  say("saved", true);
  // The extra hosts first, then the server: a prompt nobody answers must
  // not keep the hosts' content scripts from being registered.
  if (hosts.length) {
    await request(hosts.map((h) => h + "/*"));
    const r = await chrome.runtime.sendMessage({ type: "hosts" });
    if (r && r.ok) say("saved; the panel shows on " + r.granted.length + " of " + hosts.length + " extra hosts", true);
    else say("saved, but the extra hosts could not be set up: " + (r ? r.message : "no answer"), false);
  } else {
    chrome.runtime.sendMessage({ type: "hosts" });
  }
  request([new URL(server).origin + "/*"]);
}

async function test() {
  say("testing…", true);
  const r = await chrome.runtime.sendMessage({ type: "test", server: $("server").value.trim(), token: $("token").value.trim() });
  say(r.message, r.ok);
}

$("form").addEventListener("submit", save);
$("test").addEventListener("click", test);
load();
