/* 营销工具 pages: behaviour shared by lists and forms (no inline scripts: CSP).

   input[data-select-all="name"]   ticks every checkbox named `name` on the page
   [data-needs-selection="name"]   a bulk button: refuses (toast) when no `name` box is ticked
   table[data-rows]                editable row table: <template data-row-template> holds a blank
                                   row; [data-row-add] inserts one after its row (or at the end),
                                   [data-row-remove] removes its row (the last row is cleared instead)
   [data-show-if="field=A,B"]      shown only while the form control named `field` has value A or B
   tr[data-detail-url]             clicking the row toggles the next row and loads its HTML once */
(function () {
  "use strict";

  function boxes(name) {
    return Array.prototype.slice.call(document.querySelectorAll('input[type=checkbox][name="' + name + '"]'));
  }

  function syncSelectAll(name) {
    var all = document.querySelector('input[data-select-all="' + name + '"]');
    if (!all) return;
    var list = boxes(name), on = list.filter(function (b) { return b.checked; }).length;
    all.checked = on > 0 && on === list.length;
    all.indeterminate = on > 0 && on < list.length;
  }

  function clearRow(row) {
    row.querySelectorAll("input, select, textarea").forEach(function (el) {
      if (el.type === "checkbox") el.checked = false;
      else if (el.tagName === "SELECT") el.selectedIndex = 0;
      else el.value = "";
    });
    row.querySelectorAll(".field-error").forEach(function (e) { e.remove(); });
  }

  function newRow(table) {
    var tpl = table.querySelector("template[data-row-template]");
    return tpl ? tpl.content.firstElementChild.cloneNode(true) : null;
  }

  function applyShowIf(scope) {
    (scope || document).querySelectorAll("[data-show-if]").forEach(function (el) {
      var spec = el.getAttribute("data-show-if").split("=");
      var form = el.closest("form") || document;
      var control = form.querySelector('[name="' + spec[0] + '"]');
      var values = (spec[1] || "").split(",");
      el.hidden = !control || values.indexOf(control.value) < 0;
    });
  }

  function toggleDetail(row) {
    var detail = row.nextElementSibling;
    if (!detail || !detail.classList.contains("detail-row")) return;
    detail.hidden = !detail.hidden;
    row.setAttribute("aria-expanded", String(!detail.hidden));
    row.classList.toggle("is-open", !detail.hidden);
    if (detail.hidden || detail.dataset.loaded) return;
    var cell = detail.querySelector("td");
    cell.innerHTML = '<div class="muted detail-loading">正在加载…</div>';
    window.CKB.fetch(row.getAttribute("data-detail-url"), { headers: { Accept: "text/html" } })
      .then(function (resp) {
        if (!resp.ok) throw new Error("加载失败（" + resp.status + "）");
        return resp.text();
      })
      .then(function (html) { cell.innerHTML = html; detail.dataset.loaded = "1"; })
      .catch(function (err) { cell.innerHTML = ""; cell.textContent = err.message; });
  }

  document.addEventListener("change", function (ev) {
    var t = ev.target;
    if (t.matches("input[data-select-all]")) {
      boxes(t.getAttribute("data-select-all")).forEach(function (b) { b.checked = t.checked; });
    } else if (t.type === "checkbox" && t.name) {
      syncSelectAll(t.name);
    }
    if (t.name) applyShowIf(t.closest("form") || document);
  });

  document.addEventListener("click", function (ev) {
    var t = ev.target;
    var bulk = t.closest("[data-needs-selection]");
    if (bulk) {
      var ticked = boxes(bulk.getAttribute("data-needs-selection")).filter(function (b) { return b.checked; });
      if (!ticked.length) {
        ev.preventDefault();
        ev.stopImmediatePropagation();
        window.CKB.toast("请先勾选要操作的记录", "warning");
        return;
      }
    }
    var add = t.closest("[data-row-add]");
    if (add) {
      ev.preventDefault();
      var table = add.closest("[data-rows]") || document.querySelector(add.getAttribute("data-row-add"));
      var row = newRow(table);
      if (!row) return;
      var here = add.closest("tr");
      var body = table.querySelector("tbody");
      if (here && here.parentNode === body) body.insertBefore(row, here.nextSibling); else body.appendChild(row);
      var first = row.querySelector("input, select");
      if (first) first.focus();
      return;
    }
    var remove = t.closest("[data-row-remove]");
    if (remove) {
      ev.preventDefault();
      var tr = remove.closest("tr");
      if (tr.parentNode.querySelectorAll("tr").length > 1) tr.remove(); else clearRow(tr);
      return;
    }
    var detailRow = t.closest("tr[data-detail-url]");
    if (detailRow && !t.closest("a, button, input, form, label")) toggleDetail(detailRow);
  }, true);

  document.addEventListener("keydown", function (ev) {
    var row = ev.target.closest && ev.target.closest("tr[data-detail-url]");
    if (row && ev.target === row && (ev.key === "Enter" || ev.key === " ")) { ev.preventDefault(); toggleDetail(row); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    applyShowIf(document);
    document.querySelectorAll("input[data-select-all]").forEach(function (a) { syncSelectAll(a.getAttribute("data-select-all")); });
  });
})();
