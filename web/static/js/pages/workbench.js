/* 工作台 新建任务 wizard: shows one step at a time (上一步 / 下一步, the step list on top), opens
   the first step that has an error after a refused save, and adds rows to the 分发对象 and
   关键词规则 tables. Without JS every step shows at once and the form still works. */
(function () {
  "use strict";
  function init(form) {
    var steps = Array.prototype.slice.call(form.querySelectorAll(".wb-step"));
    var tabs = Array.prototype.slice.call(document.querySelectorAll("[data-step-tab]"));
    var prev = form.querySelector("[data-wizard-prev]"), next = form.querySelector("[data-wizard-next]");
    var save = form.querySelector("[data-wizard-save]");
    if (steps.length < 2) return;
    var current = 0;
    function show(i) {
      current = Math.max(0, Math.min(steps.length - 1, i));
      steps.forEach(function (s, k) { s.hidden = k !== current; });
      tabs.forEach(function (t, k) { t.classList.toggle("active", k === current); t.classList.toggle("done", k < current); });
      prev.hidden = current === 0;
      next.hidden = current === steps.length - 1;
      save.hidden = current !== steps.length - 1;
    }
    prev.addEventListener("click", function () { show(current - 1); });
    next.addEventListener("click", function () { show(current + 1); });
    tabs.forEach(function (t, k) { t.addEventListener("click", function () { show(k); }); });
    var bad = steps.findIndex(function (s) { return s.querySelector(".has-error, .field-error"); });
    show(bad >= 0 ? bad : 0);
  }
  function rows(box) {
    var body = box.querySelector("[data-row-body]");
    box.querySelector("[data-add-row]").addEventListener("click", function () {
      var last = body.querySelector("[data-row]:last-child");
      var copy = last.cloneNode(true);
      copy.querySelectorAll("input, textarea").forEach(function (el) { el.value = el.type === "number" ? (el.min || "0") : ""; });
      copy.querySelectorAll("select").forEach(function (el) { el.selectedIndex = 0; });
      body.appendChild(copy);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-wizard]").forEach(init);
    document.querySelectorAll("[data-rows]").forEach(rows);
  });
})();
