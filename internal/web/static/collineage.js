// The column lineage graph: a cytoscape vertex per column, inside a box
// per table (compound nodes), laid out left to right by dagre. Edge kinds
// are told apart by line style and colour (the legend's). The page lists
// the same columns and edges without JavaScript.
(function () {
  "use strict";
  var el = document.getElementById("graph");
  if (!el || typeof cytoscape === "undefined") {
    return;
  }
  if (typeof cytoscapeDagre !== "undefined") {
    cytoscape.use(cytoscapeDagre);
  }
  var kinds = {
    copy: { colour: "#2563eb", line: "solid" },
    transform: { colour: "#c2410c", line: "dashed" },
    filter: { colour: "#6b7280", line: "dotted" },
    join: { colour: "#7c3aed", line: "dotted" }
  };

  fetch(el.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) {
      if (!r.ok) {
        throw new Error("the column lineage could not be read (" + r.status + ")");
      }
      return r.json();
    })
    .then(draw)
    .catch(function (err) {
      el.textContent = String(err.message || err);
      el.dataset.error = "1";
    });

  function draw(g) {
    var elements = [];
    g.tables.forEach(function (t) {
      elements.push({ group: "nodes", data: { id: "grp:" + t.id, label: t.label, url: t.url || "", group: 1 } });
    });
    g.nodes.forEach(function (n) {
      elements.push({ group: "nodes", data: {
        id: n.id, parent: "grp:" + n.table, label: n.label, name: n.name, url: n.url || "",
        start: n.id === g.start ? 1 : 0, w: Math.max(50, Math.min(220, n.label.length * 6.6 + 14))
      } });
    });
    g.edges.forEach(function (e, i) {
      var k = kinds[e.kind] || kinds.copy;
      elements.push({ group: "edges", data: {
        id: "e" + i, source: e.source, target: e.target, kind: e.kind, colour: k.colour, line: k.line,
        width: e.kind === "join" ? 1 : 1.8
      } });
    });
    var cy = cytoscape({
      container: el,
      elements: elements,
      minZoom: 0.05,
      maxZoom: 3,
      style: [
        { selector: "node", style: {
          shape: "round-rectangle", width: "data(w)", height: 22, label: "data(label)",
          "background-color": "#2563eb", color: "#fff", "font-size": 11,
          "text-valign": "center", "text-halign": "center", "text-max-width": "data(w)", "text-wrap": "ellipsis"
        } },
        { selector: "node[?group]", style: {
          shape: "round-rectangle", "background-color": "#eef2f7", "border-width": 1, "border-color": "#94a3b8",
          color: "#1f2937", "text-valign": "top", "text-halign": "center", "font-size": 11, padding: 8
        } },
        { selector: "node[start = 1]", style: { "underlay-color": "#facc15", "underlay-opacity": 0.8, "underlay-padding": 5, "font-weight": "bold" } },
        { selector: "edge", style: {
          width: "data(width)", "line-color": "data(colour)", "line-style": "data(line)",
          "target-arrow-color": "data(colour)", "target-arrow-shape": "triangle", "curve-style": "bezier"
        } }
      ],
      layout: { name: "preset" }
    });
    var done = function () {
      cy.one("render", function () {
        requestAnimationFrame(function () {
          el.dataset.nodes = String(cy.nodes("[!group]").length);
          el.dataset.edges = String(cy.edges().length);
          el.dataset.ready = "1";
        });
      });
      cy.fit(undefined, 20);
    };
    var layout = cy.layout(typeof cytoscapeDagre !== "undefined" ?
      { name: "dagre", rankDir: "LR", nodeSep: 6, rankSep: 80, fit: true, padding: 20, animate: false } :
      { name: "breadthfirst", directed: true, fit: true, padding: 20, animate: false });
    layout.one("layoutstop", done);
    layout.run();

    cy.on("tap", "node", function (ev) {
      var url = ev.target.data("url");
      if (url) {
        window.location.href = url;
      }
    });
    cy.on("mouseover", "node", function (ev) {
      var d = ev.target.data();
      el.title = (d.group ? d.label : d.name) + (d.url ? ": click to open" : "");
    });
    cy.on("mouseover", "edge", function (ev) {
      el.title = ev.target.data("kind") + " edge";
    });
    // For the browser tests: the drawn graph, to read and click.
    window.dbtlinkColumnLineage = cy;
    var exp = document.querySelector(".export");
    if (exp) {
      exp.hidden = false;
    }
    var fit = document.getElementById("fit");
    if (fit) {
      fit.addEventListener("click", function () { cy.fit(undefined, 20); });
    }
  }
})();
