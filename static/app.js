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

  // Keyboard review of a preview: j/k or arrows move, Enter opens detail, e/w/a filter, n/p page, ? help.
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
    if (link) link.click();
  }

  function toggleHelp() {
    var help = document.getElementById("shortcuts");
    var toggle = document.querySelector("[data-shortcuts-toggle]");
    if (!help) return;
    help.hidden = !help.hidden;
    if (toggle) toggle.setAttribute("aria-expanded", String(!help.hidden));
  }

  function openDetail(row) {
    var next = row.nextElementSibling;
    if (next && next.hasAttribute("data-detail-for")) { next.remove(); return; }
    var detail = document.createElement("tr");
    detail.setAttribute("data-detail-for", "");
    var cell = document.createElement("td");
    cell.colSpan = 4;
    detail.appendChild(cell);
    row.after(detail);
    htmx.ajax("GET", row.getAttribute("data-detail-url"), { target: cell, swap: "innerHTML" });
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-shortcuts-toggle]")) toggleHelp();
  });

  document.addEventListener("keydown", function (event) {
    if (!document.querySelector("#results[data-review]")) return;
    var target = event.target;
    if (target.closest("input, textarea, select, [contenteditable]") || event.ctrlKey || event.metaKey || event.altKey) return;
    var keys = {
      j: function () { move(1); }, ArrowDown: function () { move(1); },
      k: function () { move(-1); }, ArrowUp: function () { move(-1); },
      e: function () { click('#results [data-filter="errors"]'); },
      w: function () { click('#results [data-filter="warnings"]'); },
      a: function () { click('#results [data-filter="all"]'); },
      n: function () { click('#results [data-page="next"]'); },
      p: function () { click('#results [data-page="previous"]'); },
      "?": toggleHelp
    };
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

  // After a swap of the results, focus lands on the first row (or the panel), so review continues.
  // After an upload, on the new upload at the top of the list (or the file picker when it was refused):
  // the button that had focus is gone with the old panel.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    var results = document.getElementById("results");
    if (results && target && target.id === "results") {
      var first = results.querySelector("[data-review-row]");
      (first || results).focus();
    }
    var panel = document.getElementById("upload-panel");
    if (panel && target && target.id === "upload-panel") {
      var refused = panel.querySelector("#upload-error .alert");
      var next = refused ? panel.querySelector("input.file-input") : panel.querySelector("tbody a");
      if (next) next.focus();
    }
  });
})();
