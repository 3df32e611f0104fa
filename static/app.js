// Roster's behaviour; the CSP forbids inline script, so it all lives here.
(function () {
  "use strict";

  // The styled file input: show the chosen file's name next to the red button.
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input.file-input")) return;
    var label = document.getElementById("chosen-file");
    if (label) label.textContent = input.files.length ? input.files[0].name : "No file chosen";
  });

  // With JavaScript on, htmx saves as you go: the plain-form fallback buttons step aside.
  document.documentElement.classList.add("js");

  // "Select all on this page": ticks every checkbox of the same name in the same form.
  document.addEventListener("change", function (event) {
    var all = event.target;
    if (!all.matches || !all.matches("[data-select-all]")) return;
    var boxes = all.form ? all.form.querySelectorAll('input[type=checkbox][name="' + all.getAttribute("data-select-all") + '"]') : [];
    Array.prototype.forEach.call(boxes, function (box) { box.checked = all.checked; });
  });

  // A plain (non-htmx) form that writes: one click only.
  document.addEventListener("submit", function (event) {
    var button = event.target.querySelector("[data-disable-on-submit]");
    if (button) setTimeout(function () { button.disabled = true; }, 0);
  });

  // Keyboard review of a preview (the help overlay lists the keys). Every key clicks a button or link
  // that is on the page, so the key and the mouse do one and the same thing.
  function reviewRows() {
    return Array.prototype.slice.call(document.querySelectorAll("#results [data-review-row]"));
  }

  function move(step) {
    var rows = reviewRows();
    if (!rows.length) return;
    var index = rows.indexOf(document.activeElement);
    var next = index < 0 ? (step > 0 ? 0 : rows.length - 1) : Math.min(Math.max(index + step, 0), rows.length - 1);
    rows[next].focus();
  }

  function click(selector) {
    var link = document.querySelector(selector);
    if (!link) return;
    htmx.process(link.form || link);  // see decide()
    link.click();
  }

  function toggleHelp() {
    var help = document.getElementById("shortcuts");
    var toggle = document.querySelector("[data-shortcuts-toggle]");
    if (!help) return;
    help.hidden = !help.hidden;
    if (toggle) toggle.setAttribute("aria-expanded", String(!help.hidden));
  }

  function openDetail(row, then) {
    var next = row.nextElementSibling;
    if (next && next.hasAttribute("data-detail-for")) {
      if (then) then(next); else next.remove();
      return;
    }
    var detail = document.createElement("tr");
    detail.setAttribute("data-detail-for", "");
    var cell = document.createElement("td");
    cell.colSpan = row.children.length;
    detail.appendChild(cell);
    row.after(detail);
    var loaded = htmx.ajax("GET", row.getAttribute("data-detail-url"), { target: cell, swap: "innerHTML" });
    if (then && loaded) loaded.then(function () { then(detail); });
  }

  // f: the row's detail, focus in the first cell with an issue (else the first cell), ready to fix.
  function fixRow(row) {
    openDetail(row, function (detail) {
      htmx.process(detail);  // bound now, not at settle: Enter may come sooner (see decide())
      var input = detail.querySelector("[data-fix-input].is-invalid") || detail.querySelector("[data-fix-input][data-has-issue]") ||
        detail.querySelector("[data-fix-input]");
      if (input) { input.focus(); input.select(); }
    });
  }

  // y / x / i: the button of that key for the focused row or kind; Y / X / I and c: the page's own.
  function decide(key, target) {
    var scope = target.closest("[data-review-row], [data-kind-item]");
    var button = scope && scope.querySelector('[data-key="' + key + '"]');
    if (!button) return;
    // Content swapped in moments ago is bound by htmx when it settles (20 ms later); a key can come
    // sooner, and the form would then post as a plain page. Binding it now is what htmx does then.
    if (button.form) htmx.process(button.form);
    button.click();
  }

  function focusKind(n) {
    var link = document.getElementById("kind-" + n);
    if (link) link.focus();
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-shortcuts-toggle]")) toggleHelp();
  });

  document.addEventListener("keydown", function (event) {
    if (!document.querySelector("#results[data-review]")) return;
    var target = event.target;
    if (event.key === "Escape" && target.closest("[data-detail-for]")) {  // out of a fix, back to its row
      var row = target.closest("[data-detail-for]").previousElementSibling;
      if (row) { event.preventDefault(); row.focus(); }
      return;
    }
    if (target.closest("input, textarea, select, [contenteditable]") || event.ctrlKey || event.metaKey || event.altKey) return;
    var keys = {
      j: function () { move(1); }, ArrowDown: function () { move(1); },
      k: function () { move(-1); }, ArrowUp: function () { move(-1); },
      e: function () { click('#results [data-filter="errors"]'); },
      w: function () { click('#results [data-filter="warnings"]'); },
      a: function () { click('#results [data-filter="all"]'); },
      n: function () { click('#results [data-page="next"]'); },
      p: function () { click('#results [data-page="previous"]'); },
      y: function () { decide("y", target); }, x: function () { decide("x", target); }, i: function () { decide("i", target); },
      u: function () { decide("u", target); }, N: function () { decide("n", target); },
      Y: function () { click('#results [data-key="Y"]'); }, X: function () { click('#results [data-key="X"]'); },
      I: function () { click('#results [data-key="I"]'); },
      c: function () { click('#results [data-key="c"]'); },
      f: function () { var row = target.closest("[data-review-row]"); if (row) fixRow(row); },
      "?": toggleHelp
    };
    if (/^[1-9]$/.test(event.key)) {
      event.preventDefault();
      focusKind(event.key);
      return;
    }
    if (event.key === "Enter" && target.matches("[data-review-row]")) {
      event.preventDefault();
      openDetail(target);
      return;
    }
    if (keys[event.key]) {
      event.preventDefault();
      keys[event.key]();
    }
  });

  // After a swap of the results, focus lands on the first row (or the panel), so review continues; after
  // a decision for a kind, back on that kind (unless htmx already put it somewhere that still exists).
  // After a row's decision, on the row again: its buttons may be gone with the old line.
  // After an upload, on the new upload at the top of the list (or the file picker when it was refused):
  // the button that had focus is gone with the old panel.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    var results = document.getElementById("results");
    var from = event.detail.requestConfig && event.detail.requestConfig.elt;
    var keeps = from && from.closest && from.closest("[data-keeps-focus]");
    var lost = !document.activeElement || document.activeElement === document.body;
    if (results && target && target.id === "results") {
      if (keeps) {
        var kept = document.getElementById(keeps.getAttribute("data-keeps-focus"));
        if (lost && kept) kept.focus();
      } else {
        var first = results.querySelector("[data-review-row]");
        (first || results).focus();
      }
    }
    if (lost && target && target.matches && target.matches("[data-review-row]") && target.isConnected) target.focus();
    if (lost && target && target.id && target.id.indexOf("row-") === 0 && !target.isConnected) {
      var again = document.getElementById(target.id);
      if (again) again.focus();
    }
    var panel = document.getElementById("upload-panel");
    if (panel && target && target.id === "upload-panel") {
      var refused = panel.querySelector("#upload-error .alert");
      var next = refused ? panel.querySelector("input.file-input") : panel.querySelector("tbody a");
      if (next) next.focus();
    }
  });
})();
