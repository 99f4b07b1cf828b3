// dbtlink web UI: keyboard search, copy buttons and live run updates.
// Pages work without this file; it only adds to them. No inline script
// anywhere: the Content-Security-Policy allows scripts from this origin.
(function () {
  "use strict";

  function searchInput() {
    return document.getElementById("sq") || document.getElementById("q");
  }

  function hits(input) {
    var box = document.getElementById(input.dataset.results);
    return box ? Array.prototype.slice.call(box.querySelectorAll("a.hit")) : [];
  }

  document.addEventListener("keydown", function (e) {
    var t = e.target;
    var typing = t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
    if (e.key === "/" && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
      var input = searchInput();
      if (input) {
        e.preventDefault();
        input.focus();
        input.select();
      }
      return;
    }
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp" && e.key !== "Escape") {
      return;
    }
    // From a search box, ArrowDown enters its results.
    if (t && t.dataset && t.dataset.results) {
      var list = hits(t);
      if (e.key === "ArrowDown" && list.length) {
        e.preventDefault();
        list[0].focus();
      } else if (e.key === "Escape" && t.dataset.results === "quick") {
        document.getElementById("quick").innerHTML = "";
      }
      return;
    }
    // Within results, arrows move; up from the first goes back to the box.
    if (t && t.classList && t.classList.contains("hit")) {
      var input2 = document.querySelector("[data-results='" + t.closest("[id]").id + "']") ||
        document.querySelector("[data-results='" + (t.closest("#quick") ? "quick" : "results") + "']");
      if (!input2) {
        return;
      }
      var all = hits(input2);
      var i = all.indexOf(t);
      if (e.key === "Escape") {
        input2.focus();
        return;
      }
      e.preventDefault();
      if (e.key === "ArrowDown" && i < all.length - 1) {
        all[i + 1].focus();
      } else if (e.key === "ArrowUp") {
        (i > 0 ? all[i - 1] : input2).focus();
      }
    }
  });

  function setupCopy() {
    document.querySelectorAll("button[data-copy]").forEach(function (b) {
      b.hidden = false;
      b.addEventListener("click", function () {
        var src = document.getElementById(b.dataset.copy);
        if (!src || !navigator.clipboard) {
          return;
        }
        navigator.clipboard.writeText(src.textContent).then(function () {
          b.textContent = "Copied";
        }, function () {
          b.textContent = "Copy failed";
        });
      });
    });
  }

  // Live runs: the server pushes the HTML of the part that changed as a
  // server-sent event; the page swaps it in and never polls.
  function setupLive() {
    document.querySelectorAll("[data-sse]").forEach(function (el) {
      var id = el.dataset.swap;
      var outer = el.dataset.outer === "1";
      var es = new EventSource(el.dataset.sse);
      es.addEventListener("run", function (ev) {
        var target = document.getElementById(id);
        if (!target) {
          return;
        }
        if (outer) {
          target.outerHTML = ev.data;
          target = document.getElementById(id);
        } else {
          target.innerHTML = ev.data;
        }
        // Let htmx enhance the new HTML (the cancel form posts in place).
        if (target && window.htmx) {
          window.htmx.process(target);
        }
      });
      es.addEventListener("end", function (ev) {
        es.close();
        var target = document.getElementById(id);
        if (target) {
          target.dataset.ended = ev.data;
        }
      });
      es.onerror = function () {
        // The browser reconnects by itself; once the run has ended the
        // server closes the stream and "end" has closed it here.
      };
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setupCopy(); setupLive(); });
  } else {
    setupCopy();
    setupLive();
  }
})();
