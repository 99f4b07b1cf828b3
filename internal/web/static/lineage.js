// The lineage graph: cytoscape with the dagre layered layout, left to
// right. The page lists the same tables without JavaScript.
(function () {
  "use strict";
  var el = document.getElementById("graph");
  if (!el || typeof cytoscape === "undefined") {
    return;
  }
  if (typeof cytoscapeDagre !== "undefined") {
    cytoscape.use(cytoscapeDagre);
  }
  var colours = { model: "#2563eb", source: "#15803d", seed: "#c2410c", snapshot: "#7c3aed", table: "#4b5563" };

  fetch(el.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) {
      if (!r.ok) {
        throw new Error("the lineage could not be read (" + r.status + ")");
      }
      return r.json();
    })
    .then(draw)
    .catch(function (err) {
      el.textContent = String(err.message || err);
      el.dataset.error = "1";
    });

  function draw(g) {
    var t0 = performance.now();
    var elements = [];
    g.nodes.forEach(function (n) {
      elements.push({ group: "nodes", data: {
        id: n.id, label: n.label, type: n.resource_type, url: n.url || "",
        test: n.test_status || "", start: n.id === g.start ? 1 : 0,
        w: Math.max(60, Math.min(260, n.label.length * 6.6 + 16)),
        colour: colours[n.resource_type] || colours.table
      } });
    });
    g.edges.forEach(function (e, i) {
      elements.push({ group: "edges", data: { id: "e" + i, source: e.source, target: e.target } });
    });
    // Up to 150 vertices dagre lays the graph out (it routes long edges
    // best); beyond, its crossing minimisation takes seconds, so the
    // vertices are put in columns by their distance from the table (the
    // server's depth) and ordered by a few barycentre sweeps: a layered
    // layout in milliseconds.
    var big = g.nodes.length > 150;
    if (big) {
      layered(g, elements);
    }
    var cy = cytoscape({
      container: el,
      elements: elements,
      minZoom: 0.05,
      maxZoom: 3,
      textureOnViewport: big,
      hideEdgesOnViewport: big,
      pixelRatio: big ? 1 : "auto",
      style: [
        { selector: "node", style: {
          // A big graph starts zoomed out too far to read labels: they are
          // drawn (and measured) once zoomed in (the "named" class).
          shape: "round-rectangle", width: "data(w)", height: 26, label: big ? "" : "data(label)",
          "background-color": "data(colour)", color: "#fff", "font-size": 11,
          "text-valign": "center", "text-halign": "center", "text-max-width": "data(w)", "text-wrap": big ? "none" : "ellipsis",
          // Zoomed out on a big graph, labels too small to read are not
          // drawn (and not paid for); zooming in brings them back.
          "min-zoomed-font-size": big ? 7 : 0,
          "border-width": 0
        } },
        { selector: "node.named", style: { label: "data(label)" } },
        { selector: "node[test = 'fail']", style: { "border-width": 4, "border-color": "#dc2626" } },
        { selector: "node[test = 'pass']", style: { "border-width": 3, "border-color": "#22c55e" } },
        { selector: "node[start = 1]", style: { "underlay-color": "#facc15", "underlay-opacity": 0.8, "underlay-padding": 6, "font-weight": "bold" } },
        { selector: "edge", style: {
          width: 1.5, "line-color": "#94a3b8", "target-arrow-color": "#94a3b8", "target-arrow-shape": big ? "none" : "triangle",
          "curve-style": big ? "haystack" : "bezier"
        } }
      ],
      layout: { name: "preset" }
    });
    var done = function () {
      el.dataset.layoutMs = String(Math.round(performance.now() - t0));
      cy.one("render", function () {
        requestAnimationFrame(function () {
          el.dataset.drawnMs = String(Math.round(performance.now() - t0));
          el.dataset.nodes = String(cy.nodes().length);
          el.dataset.layout = big || typeof cytoscapeDagre === "undefined" ? "layered" : "dagre";
          el.dataset.ready = "1";
        });
      });
      cy.fit(undefined, 20);
    };
    if (big || typeof cytoscapeDagre === "undefined") {
      if (!big) {
        layered(g, elements);
        cy.nodes().forEach(function (n) { n.position(n.data("pos")); });
      }
      done();
    } else {
      var layout = cy.layout({ name: "dagre", rankDir: "LR", nodeSep: 8, rankSep: 70, edgeSep: 4, fit: true, padding: 20, animate: false });
      layout.one("layoutstop", done);
      layout.run();
    }

    if (big) {
      var named = false;
      cy.on("zoom", function () {
        var want = cy.zoom() >= 0.6;
        if (want !== named) {
          named = want;
          cy.batch(function () {
            if (want) {
              cy.nodes().addClass("named");
            } else {
              cy.nodes().removeClass("named");
            }
          });
        }
      });
    }
    cy.on("tap", "node", function (ev) {
      var url = ev.target.data("url");
      if (url) {
        window.location.href = url;
      }
    });
    cy.on("mouseover", "node", function (ev) {
      el.title = ev.target.data("label") + " (" + ev.target.data("type") + ")" + (ev.target.data("url") ? ": click to open" : "");
    });
    // For the browser tests: where a node is drawn, to click it there.
    window.dbtlinkLineage = cy;

    var exp = document.querySelector(".export");
    if (exp) {
      exp.hidden = false;
    }
    bind("export-png", function () {
      download(cy.png({ full: true, scale: 2, bg: "#ffffff" }), "lineage.png");
    });
    bind("export-svg", function () {
      var blob = new Blob([toSVG(cy)], { type: "image/svg+xml" });
      var url = URL.createObjectURL(blob);
      download(url, "lineage.svg");
      setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
    });
    bind("fit", function () { cy.fit(undefined, 20); });
  }

  // layered places the vertices of g in columns by depth, each column
  // ordered to put a vertex near its neighbours (four sweeps of the
  // barycentre heuristic), and writes the positions into elements.
  function layered(g, elements) {
    var cols = {}, col = {}, nbrs = {}, width = {};
    g.nodes.forEach(function (n) {
      (cols[n.depth] = cols[n.depth] || []).push(n.id);
      col[n.id] = n.depth;
      nbrs[n.id] = [];
    });
    g.edges.forEach(function (e) {
      if (nbrs[e.source] && nbrs[e.target]) {
        nbrs[e.source].push(e.target);
        nbrs[e.target].push(e.source);
      }
    });
    var depths = Object.keys(cols).map(Number).sort(function (a, b) { return a - b; });
    var rel = {};
    function place() {
      depths.forEach(function (d) {
        var c = cols[d];
        c.forEach(function (id, i) { rel[id] = c.length > 1 ? i / (c.length - 1) : 0.5; });
      });
    }
    place();
    for (var sweep = 0; sweep < 4; sweep++) {
      var order = sweep % 2 ? depths.slice().reverse() : depths;
      order.forEach(function (d) {
        var bary = {};
        cols[d].forEach(function (id) {
          var side = nbrs[id].filter(function (o) { return sweep % 2 ? col[o] > d : col[o] < d; });
          bary[id] = side.length ? side.reduce(function (s, o) { return s + rel[o]; }, 0) / side.length : rel[id];
        });
        cols[d].sort(function (a, b) { return bary[a] - bary[b]; });
        cols[d].forEach(function (id, i) { rel[id] = cols[d].length > 1 ? i / (cols[d].length - 1) : 0.5; });
      });
    }
    elements.forEach(function (e) {
      if (e.group === "nodes") {
        width[col[e.data.id]] = Math.max(width[col[e.data.id]] || 0, e.data.w);
      }
    });
    var x = {}, acc = 0;
    depths.forEach(function (d) { x[d] = acc + width[d] / 2; acc += width[d] + 70; });
    var index = {};
    depths.forEach(function (d) {
      var c = cols[d];
      c.forEach(function (id, i) { index[id] = { x: x[d], y: (i - (c.length - 1) / 2) * 34 }; });
    });
    elements.forEach(function (e) {
      if (e.group === "nodes") {
        e.position = index[e.data.id];
        e.data.pos = index[e.data.id];
      }
    });
  }

  function bind(id, fn) {
    var b = document.getElementById(id);
    if (b) {
      b.addEventListener("click", fn);
    }
  }

  function download(href, name) {
    var a = document.createElement("a");
    a.href = href;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
  }

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" }[c];
    });
  }

  // toSVG draws the laid-out graph as SVG from the model positions: boxes,
  // labels and straight edges with arrow heads.
  function toSVG(cy) {
    var bb = cy.elements().boundingBox();
    var pad = 20, w = bb.w + 2 * pad, h = bb.h + 2 * pad;
    var out = ['<svg xmlns="http://www.w3.org/2000/svg" width="' + w + '" height="' + h + '" viewBox="' +
      (bb.x1 - pad) + " " + (bb.y1 - pad) + " " + w + " " + h + '" font-family="sans-serif" font-size="11">',
      '<defs><marker id="a" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0L10,5L0,10z" fill="#94a3b8"/></marker></defs>'];
    cy.edges().forEach(function (e) {
      var s = e.sourceEndpoint(), t = e.targetEndpoint();
      out.push('<line x1="' + s.x + '" y1="' + s.y + '" x2="' + t.x + '" y2="' + t.y + '" stroke="#94a3b8" stroke-width="1.5" marker-end="url(#a)"/>');
    });
    cy.nodes().forEach(function (n) {
      var p = n.position(), nw = n.width(), nh = n.height();
      var stroke = n.data("test") === "fail" ? ' stroke="#dc2626" stroke-width="4"' : n.data("test") === "pass" ? ' stroke="#22c55e" stroke-width="3"' : "";
      out.push('<g><title>' + esc(n.data("label")) + '</title><rect x="' + (p.x - nw / 2) + '" y="' + (p.y - nh / 2) + '" width="' + nw + '" height="' + nh +
        '" rx="5" fill="' + n.data("colour") + '"' + stroke + '/><text x="' + p.x + '" y="' + (p.y + 4) + '" fill="#fff" text-anchor="middle">' + esc(n.data("label")) + "</text></g>");
    });
    out.push("</svg>");
    return out.join("\n");
  }
})();
