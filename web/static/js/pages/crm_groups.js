/* 客户分组 pages: the audience editor (add/remove condition rows, operators fitting the field's
   type, conditions ↔ SQL), and "立即执行 / 立即分配" buttons that submit a background job and
   show its progress until it finishes, then reload the page. */
(function () {
  "use strict";

  function fitOperators(row) {
    var field = row.querySelector(".cond-field");
    var op = row.querySelector(".cond-op");
    if (!field || !op) return;
    var chosen = field.options[field.selectedIndex];
    var type = chosen ? chosen.getAttribute("data-type") : "";
    var firstAllowed = null;
    Array.prototype.forEach.call(op.options, function (o) {
      var ok = !type || (o.getAttribute("data-types") || "").split(",").indexOf(type) >= 0;
      o.hidden = !ok;
      o.disabled = !ok;
      if (ok && firstAllowed === null) firstAllowed = o;
    });
    if (op.selectedOptions.length && op.selectedOptions[0].disabled && firstAllowed) op.value = firstAllowed.value;
  }

  function setupAudience(box) {
    var rows = box.querySelector("[data-cond-rows]");
    var tpl = box.querySelector("[data-cond-template]");
    Array.prototype.forEach.call(box.querySelectorAll(".cond-row"), fitOperators);
    box.addEventListener("change", function (e) {
      if (e.target.classList.contains("cond-field")) fitOperators(e.target.closest(".cond-row"));
      if (e.target.name === "mode") {
        Array.prototype.forEach.call(box.querySelectorAll("[data-mode-panel]"), function (p) {
          p.hidden = p.getAttribute("data-mode-panel") !== e.target.value;
        });
      }
    });
    box.addEventListener("click", function (e) {
      var add = e.target.closest("[data-cond-add]");
      var remove = e.target.closest("[data-cond-remove]");
      if (add && tpl && rows) {
        var clone = tpl.content.firstElementChild.cloneNode(true);
        rows.appendChild(clone);
        fitOperators(clone);
      } else if (remove) {
        var row = remove.closest(".cond-row");
        if (rows.querySelectorAll(".cond-row").length > 1) row.remove();
        else Array.prototype.forEach.call(row.querySelectorAll("input, select"), function (el) { el.value = ""; });
      }
    });
  }

  function showProgress(status) {
    var box = document.querySelector("[data-job-progress]");
    if (!box) return;
    box.hidden = false;
    var bar = box.querySelector("[data-job-bar]");
    var text = box.querySelector("[data-job-text]");
    bar.style.width = (status.percent || 0) + "%";
    var labels = { queued: "排队中", running: "执行中", done: "已完成", failed: "失败" };
    text.textContent = "任务 #" + status.id + " " + (labels[status.status] || status.status) +
      (status.total ? "（" + status.done + "/" + status.total + "）" : "") + (status.message ? "：" + status.message : "");
    text.setAttribute("data-status", status.status);
  }

  function poll(url) {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (status) {
        showProgress(status);
        if (status.status === "done" || status.status === "failed") {
          if (window.CKB && CKB.toast) CKB.toast(status.message || "任务已结束", status.status === "done" ? "success" : "danger");
          setTimeout(function () { window.location.reload(); }, 1200);
        } else {
          setTimeout(function () { poll(url); }, 1000);
        }
      });
  }

  function setupRunButtons() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-run-job]"), function (btn) {
      btn.addEventListener("click", function () {
        btn.disabled = true;
        CKB.postJSON(btn.getAttribute("data-run-job"), {}).then(function (answer) {
          var job = answer && (answer.job || (answer.data && answer.data.job));
          if (!job) { btn.disabled = false; return; }
          showProgress(job);
          poll(btn.getAttribute("data-job-url").replace(/\/0$/, "/" + job.id));
        }, function () { btn.disabled = false; });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-audience]"), setupAudience);
    setupRunButtons();
  });
})();
