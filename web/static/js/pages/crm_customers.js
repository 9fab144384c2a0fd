/* 客户中心 pages: 客户档案 advanced filter (condition rows + tags + sort, 查询方案), column
   chooser, select-all, customer detail tabs, and import/export job progress polling. */
(function () {
  "use strict";
  var CKB = window.CKB;
  var PARENS = CKB.conditionChoices.parens, RPARENS = CKB.conditionChoices.rparens, JOINS = CKB.conditionChoices.joins;

  var el = CKB.el, select = CKB.select;  // shared DOM helpers (app.js)

  /* ---- 高级筛选 ---- */
  function initFilter(root) {
    var D = CKB.jsonData("customer-filter-data") || { fields: [], operators: [], adv: {} };
    var body = root.querySelector("[data-conditions]");
    function field(name) { return D.fields.filter(function (f) { return f.name === name; })[0]; }
    function opsFor(type) { return D.operators.filter(function (o) { return !type || o.types.indexOf(type) >= 0; }); }
    function op(key) { return D.operators.filter(function (o) { return o.key === key; })[0]; }

    function valueCell(td, type, opKey, value) {
      td.innerHTML = "";
      var o = op(opKey), arity = o ? o.arity : "one";
      var inputType = type === "datetime" && opKey !== "within_days" ? "date" : "text";
      if (arity === "none") { td.appendChild(el("span", { "class": "muted", text: "无需填写" })); return; }
      if (arity === "two") {
        var pair = Array.isArray(value) ? value : ["", ""];
        td.appendChild(el("input", { type: inputType, "data-value": "0", value: pair[0] || "", "aria-label": "最小值", placeholder: "最小值" }));
        td.appendChild(el("input", { type: inputType, "data-value": "1", value: pair[1] || "", "aria-label": "最大值", placeholder: "最大值" }));
        return;
      }
      if (type === "boolean") {
        td.appendChild(select([["true", "是"], ["false", "否"]], String(value) === "false" ? "false" : "true", { "data-value": "one", "aria-label": "查询值" }));
        return;
      }
      td.appendChild(el("input", { type: inputType, "data-value": arity === "many" ? "list" : "one", "aria-label": "查询值",
        placeholder: arity === "many" ? "多个值用逗号分隔" : "查询值", value: Array.isArray(value) ? value.join(",") : (value == null ? "" : value) }));
    }

    function row(r) {
      r = r || { lparen: 0, field: "", op: "eq", value: "", rparen: 0, join: "and" };
      var tr = el("tr", { "data-condition": "1" });
      var fieldSel = select([["", "请选择属性"]].concat(D.fields.map(function (f) { return [f.name, f.label]; })), r.field, { "data-col": "field", "aria-label": "属性" });
      var opTd = el("td"), valTd = el("td");
      function opSel(type, current) {
        var ops = opsFor(type);
        var keep = ops.some(function (o) { return o.key === current; }) ? current : (ops[0] && ops[0].key);
        return select(ops.map(function (o) { return [o.key, o.label]; }), keep, { "data-col": "op", "aria-label": "操作符" });
      }
      function type() { var f = field(fieldSel.value); return f ? f.type : null; }
      opTd.appendChild(opSel(type(), r.op));
      valueCell(valTd, type(), opTd.firstChild.value, r.value);
      fieldSel.addEventListener("change", function () {
        opTd.replaceChild(opSel(type(), opTd.firstChild.value), opTd.firstChild);
        valueCell(valTd, type(), opTd.firstChild.value, "");
      });
      opTd.addEventListener("change", function () { valueCell(valTd, type(), opTd.firstChild.value, ""); });
      var del = el("button", { type: "button", "class": "icon-btn", text: "−", "aria-label": "删除此行" });
      del.addEventListener("click", function () { tr.remove(); });
      [el("td", {}, [select(PARENS, r.lparen || 0, { "data-col": "lparen", "aria-label": "左括号" })]), el("td", {}, [fieldSel]), opTd, valTd,
       el("td", {}, [select(RPARENS, r.rparen || 0, { "data-col": "rparen", "aria-label": "右括号" })]),
       el("td", {}, [select(JOINS, r.join || "and", { "data-col": "join", "aria-label": "连接符" })]), el("td", {}, [del])
      ].forEach(function (td) { tr.appendChild(td); });
      body.appendChild(tr);
    }

    function tags(name) {
      var s = root.querySelector('[data-adv-tags="' + name + '"]');
      return s ? Array.prototype.filter.call(s.options, function (o) { return o.selected; }).map(function (o) { return parseInt(o.value, 10); }) : [];
    }
    function current() {
      var sort = root.querySelector("[data-adv-sort]");
      return { rows: Array.prototype.map.call(body.querySelectorAll("tr"), CKB.readConditionRow).filter(function (r) { return r.field; }),
               include_tags: tags("include_tags"), exclude_tags: tags("exclude_tags"), sort: sort ? sort.value : "" };
    }

    ((D.adv && D.adv.rows) || []).forEach(row);
    root.querySelector("[data-add-condition]").addEventListener("click", function () { row(); });
    root.querySelector("[data-adv-apply]").addEventListener("click", function () {
      var form = document.getElementById("list-filter");
      form.querySelector("[data-adv-input]").value = JSON.stringify(current());
      form.submit();
    });
    root.querySelector("[data-adv-clear]").addEventListener("click", function () { body.innerHTML = ""; });
    var save = root.querySelector("[data-save-query]");
    if (save) save.addEventListener("submit", function () { save.querySelector("[data-adv-save]").value = JSON.stringify(current()); });
  }

  /* ---- 选择列 / 全选 ---- */
  function initColumns(form) {
    form.addEventListener("submit", function () {
      var keys = Array.prototype.filter.call(form.querySelectorAll("[data-col-choice]"), function (c) { return c.checked; })
        .map(function (c) { return c.value; });
      form.querySelector("[data-cols-value]").value = keys.join(",");
    });
  }
  function initCheckAll(box) {
    box.addEventListener("change", function () {
      document.querySelectorAll('#bulk-form input[name="ids"]').forEach(function (c) { c.checked = box.checked; });
    });
  }

  /* ---- 客户详情 tabs ---- */
  function showPane(name) {
    var found = false;
    document.querySelectorAll("[data-crm-pane]").forEach(function (p) { var on = p.dataset.crmPane === name; p.hidden = !on; found = found || on; });
    if (!found) return;
    document.querySelectorAll("[data-crm-tab]").forEach(function (t) { t.classList.toggle("active", t.dataset.crmTab === name); });
  }
  function initTabs() {
    document.querySelectorAll("[data-crm-tab]").forEach(function (t) {
      t.addEventListener("click", function (ev) { ev.preventDefault(); showPane(t.dataset.crmTab); history.replaceState(null, "", "#" + t.dataset.crmTab); });
    });
    if (window.location.hash) showPane(window.location.hash.slice(1));
  }

  /* ---- job progress ---- */
  function poll(box) {
    var url = box.dataset.jobProgress;
    CKB.fetch(url).then(function (r) { return r.json(); }).then(function (s) {
      var bar = box.querySelector("progress");
      if (bar) bar.value = s.percent;
      var count = box.querySelector("[data-job-count]");
      if (count) count.textContent = s.done + "/" + s.total;
      if (s.status === "done" || s.status === "failed") { window.location.reload(); return; }
      setTimeout(function () { poll(box); }, 1500);
    }).catch(function () { setTimeout(function () { poll(box); }, 5000); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var filter = document.getElementById("customer-filter");
    if (filter) initFilter(filter);
    var cols = document.querySelector("[data-cols-form]");
    if (cols) initColumns(cols);
    var all = document.querySelector("[data-check-all-rows]");
    if (all) initCheckAll(all);
    if (document.querySelector("[data-crm-tab]")) initTabs();
    document.querySelectorAll("[data-job-progress]").forEach(function (box) {
      if (box.dataset.jobState === "queued" || box.dataset.jobState === "running") setTimeout(function () { poll(box); }, 1000);
    });
  });
})();
