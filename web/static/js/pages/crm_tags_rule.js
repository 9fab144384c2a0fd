/* 标签规则 editor: condition rows (左括号 · 字段 · 操作符 · 值 · 右括号 · 连接符) over customer
   fields, 包含标签 / 不包含标签, or 自定义SQL; 预览 posts the rule and lists the matching customers;
   保存规则 posts it and shows each server error next to the part it names. */
(function () {
  "use strict";
  var CKB = window.CKB, D, root;
  var PARENS = CKB.conditionChoices.parens, RPARENS = CKB.conditionChoices.rparens, JOINS = CKB.conditionChoices.joins;

  var el = CKB.el, select = CKB.select;  // shared DOM helpers (app.js)
  function field(name) { return D.fields.filter(function (f) { return f.name === name; })[0]; }
  function operatorsFor(type) { return D.operators.filter(function (op) { return !type || op.types.indexOf(type) >= 0; }); }
  function operator(key) { return D.operators.filter(function (op) { return op.key === key; })[0]; }

  function valueCell(td, type, opKey, value) {
    td.innerHTML = "";
    var op = operator(opKey), arity = op ? op.arity : "one";
    var inputType = type === "datetime" && opKey !== "within_days" ? "date" : (type === "number" ? "number" : "text");
    if (arity === "none") {
      td.appendChild(el("span", { "class": "muted", text: "无需填写" }));
    } else if (arity === "two") {
      var pair = Array.isArray(value) ? value : ["", ""];
      td.appendChild(el("div", { "class": "range" }, [
        el("input", { type: inputType, "data-value": "0", value: pair[0] == null ? "" : pair[0], "aria-label": "最小值" }),
        el("span", { "class": "muted", text: "至" }),
        el("input", { type: inputType, "data-value": "1", value: pair[1] == null ? "" : pair[1], "aria-label": "最大值" })]));
    } else if (arity === "many") {
      td.appendChild(el("input", { type: "text", "data-value": "list", placeholder: "多个值用逗号分隔", "aria-label": "查询值",
        value: Array.isArray(value) ? value.join(",") : (value == null ? "" : value) }));
    } else if (type === "boolean") {
      td.appendChild(select([["true", "是"], ["false", "否"]], String(value) === "false" ? "false" : "true", { "data-value": "one", "aria-label": "查询值" }));
    } else {
      td.appendChild(el("input", { type: opKey === "within_days" ? "number" : inputType, "data-value": "one", "aria-label": "查询值",
        placeholder: opKey === "within_days" ? "天数" : "查询值", value: value == null ? "" : value }));
    }
  }

  function opSelect(type, current) {
    var ops = operatorsFor(type);
    var keep = ops.some(function (o) { return o.key === current; }) ? current : (ops[0] && ops[0].key);
    return select(ops.map(function (o) { return [o.key, o.label]; }), keep, { "data-col": "op", "aria-label": "操作符" });
  }

  function typeOf(name) { var f = field(name); return f ? f.type : null; }

  function conditionRow(row) {
    row = row || { lparen: 0, field: "", op: "eq", value: "", rparen: 0, join: "and" };
    var tr = el("tr", { "data-condition": "1" });
    var opts = [["", "请选择字段"]].concat(D.fields.map(function (f) { return [f.name, f.label + "（" + f.name + "）"]; }));
    var fieldSel = select(opts, row.field, { "data-col": "field", "aria-label": "字段名" });
    var opTd = el("td"), valueTd = el("td", { "class": "col-value" });
    opTd.appendChild(opSelect(typeOf(row.field), row.op));
    valueCell(valueTd, typeOf(row.field), opTd.firstChild.value, row.value);
    fieldSel.addEventListener("change", function () {
      opTd.replaceChild(opSelect(typeOf(fieldSel.value), opTd.firstChild.value), opTd.firstChild);
      valueCell(valueTd, typeOf(fieldSel.value), opTd.firstChild.value, "");
    });
    opTd.addEventListener("change", function () { valueCell(valueTd, typeOf(fieldSel.value), opTd.firstChild.value, ""); });
    var add = el("button", { type: "button", "class": "icon-btn", title: "在下方添加一行", "aria-label": "添加一行", text: "+" });
    var del = el("button", { type: "button", "class": "icon-btn", title: "删除此行", "aria-label": "删除此行", text: "−" });
    add.addEventListener("click", function () { addRow(tr); });
    del.addEventListener("click", function () { tr.remove(); syncEmpty(); });
    tr.appendChild(el("td", {}, [select(PARENS, row.lparen || 0, { "data-col": "lparen", "aria-label": "左括号" })]));
    tr.appendChild(el("td", {}, [fieldSel]));
    tr.appendChild(opTd);
    tr.appendChild(valueTd);
    tr.appendChild(el("td", {}, [select(RPARENS, row.rparen || 0, { "data-col": "rparen", "aria-label": "右括号" })]));
    tr.appendChild(el("td", {}, [select(JOINS, row.join || "and", { "data-col": "join", "aria-label": "连接符" })]));
    tr.appendChild(el("td", { "class": "col-actions row-btns" }, [add, del]));
    return tr;
  }

  function addRow(after, row) {
    var body = root.querySelector("[data-conditions]"), tr = conditionRow(row);
    if (after) body.insertBefore(tr, after.nextSibling); else body.appendChild(tr);
    syncEmpty();
  }
  function syncEmpty() {
    var empty = !root.querySelector("[data-conditions] tr");
    root.querySelector("[data-conditions-empty]").hidden = !empty;
    root.querySelector(".cond-table").hidden = empty;
  }

  function picked(name) {
    return Array.prototype.filter.call(root.querySelector('[data-bind="' + name + '"]').options, function (o) { return o.selected; })
      .map(function (o) { return parseInt(o.value, 10); });
  }
  // 目标客户群 (product_audience/edit.html) reuses this editor with a 查询方案 picker.
  function savedQuery() {
    var s = root.querySelector('[data-bind="saved_query_id"]');
    return s && s.value ? parseInt(s.value, 10) : null;
  }
  function readRule() {
    var mode = root.querySelector('[data-bind="mode"]').value;
    return { mode: mode, name: root.querySelector('[data-bind="name"]').value,
             rows: mode === "conditions" ? Array.prototype.map.call(root.querySelectorAll("[data-conditions] tr"), CKB.readConditionRow) : [],
             include_tags: mode === "conditions" ? picked("include_tags") : [],
             exclude_tags: mode === "conditions" ? picked("exclude_tags") : [],
             sql: mode === "sql" ? root.querySelector('[data-bind="sql"]').value : "",
             saved_query_id: savedQuery() };
  }

  function clearErrors() {
    root.querySelectorAll("[data-error-for]").forEach(function (p) { p.hidden = true; p.textContent = ""; });
  }
  function showErrors(err) {
    var errors = (err && err.errors) || {}, shown = false;
    Object.keys(errors).forEach(function (key) {
      var slot = root.querySelector('[data-error-for="' + key + '"]') || root.querySelector('[data-error-for="__all__"]');
      slot.textContent = [].concat(errors[key]).join("；");
      slot.hidden = false;
      shown = true;
    });
    if (!shown) {
      var all = root.querySelector('[data-error-for="__all__"]');
      all.textContent = (err && err.message) || "请求失败";
      all.hidden = false;
    }
  }
  function post(url, data) {
    return CKB.fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(data) })
      .then(function (resp) {
        return resp.json().catch(function () { return {}; }).then(function (body) {
          if (!resp.ok) throw (body.error || { message: "请求失败（" + resp.status + "）" });
          return body;
        });
      });
  }

  function preview() {
    clearErrors();
    var panel = document.querySelector("[data-preview-panel]");
    post(D.preview_url, { rule: readRule() }).then(function (body) {
      panel.hidden = false;
      panel.querySelector("[data-preview-count]").textContent = "满足当前规则条件的客户共 " + body.count + " 位" +
        (body.count > body.customers.length ? "（显示前 " + body.customers.length + " 位）" : "");
      var tbody = panel.querySelector("[data-preview-rows]");
      tbody.innerHTML = "";
      body.customers.forEach(function (c) {
        tbody.appendChild(el("tr", {}, [el("td", { text: c.name || "—" }), el("td", { text: c.mobile || "—" }),
          el("td", { text: c.city || "—" }), el("td", { text: String(c.tag_score) })]));
      });
      if (!body.customers.length) tbody.appendChild(el("tr", {}, [el("td", { colspan: "4", "class": "muted", text: "没有满足条件的客户" })]));
    }).catch(function (err) { panel.hidden = true; showErrors(err); });
  }
  function save() {
    clearErrors();
    post(D.save_url, { rule: readRule() }).then(function (body) {
      CKB.toast(body.message, "success");
      window.location.href = body.redirect;
    }).catch(showErrors);
  }

  function fillTags(name, selected) {
    var s = root.querySelector('[data-bind="' + name + '"]');
    D.tags.forEach(function (t) {
      var opt = el("option", { value: t.id, text: t.name + (t.kind === "auto" ? "（自动）" : "") });
      if ((selected || []).indexOf(t.id) >= 0) opt.selected = true;
      s.appendChild(opt);
    });
  }
  function syncMode() {
    var mode = root.querySelector('[data-bind="mode"]').value;
    root.querySelectorAll("[data-mode-panel]").forEach(function (p) { p.hidden = p.getAttribute("data-mode-panel") !== mode; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    root = document.querySelector("[data-rule-editor]");
    D = CKB.jsonData("rule-editor-data");
    if (!root || !D) return;
    var rule = D.rule || {};
    root.querySelector('[data-bind="mode"]').value = rule.mode || "conditions";
    root.querySelector('[data-bind="name"]').value = rule.name || "";
    root.querySelector('[data-bind="sql"]').value = rule.sql || "";
    fillTags("include_tags", rule.include_tags);
    fillTags("exclude_tags", rule.exclude_tags);
    (rule.rows || []).forEach(function (r) { addRow(null, r); });
    syncEmpty();
    syncMode();
    root.querySelector('[data-bind="mode"]').addEventListener("change", syncMode);
    root.querySelector("[data-add-condition]").addEventListener("click", function () { addRow(null); });
    root.querySelector("[data-preview]").addEventListener("click", preview);
    root.querySelector("[data-save]").addEventListener("click", save);
  });
})();
