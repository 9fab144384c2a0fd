/* 策略配置 editor: draws 第二步 condition rows and 第三步 step rows from #editor-data, opens the
   "配置操作" form built from a processor's config_fields, saves through the console's JSON
   endpoint and puts each server error next to the row or step it names. Also 试运行 / 回测. */
(function () {
  "use strict";

  var CKB = window.CKB, D, root;
  var PARENS = CKB.conditionChoices.parens, RPARENS = CKB.conditionChoices.rparens, JOINS = CKB.conditionChoices.joins;
  var MODES = [["immediate", "立即执行"], ["delay", "延迟"], ["until", "延迟到"]];

  var el = CKB.el, select = CKB.select;  // shared DOM helpers (app.js)
  function rowButtons(onAdd, onRemove) {
    var add = el("button", { type: "button", "class": "icon-btn", title: "在下方添加一行", "aria-label": "添加一行", text: "+" });
    var del = el("button", { type: "button", "class": "icon-btn", title: "删除此行", "aria-label": "删除此行", "data-remove": "1", text: "−" });
    add.addEventListener("click", onAdd);
    del.addEventListener("click", onRemove);
    return el("td", { "class": "col-actions row-btns" }, [add, del]);
  }
  function errorSlot(key) { return el("p", { "class": "field-error", "data-error-for": key, hidden: "hidden" }); }
  function pretty(value) { return typeof value === "string" ? value : JSON.stringify(value, null, 2); }

  /* ---- event fields and operators ---- */
  function currentEvent() {
    var id = root.querySelector('[data-bind="event_id"]').value;
    return D.events.filter(function (e) { return String(e.id) === String(id); })[0] || null;
  }
  function fieldsOf() { var ev = currentEvent(); return ev ? ev.fields : []; }
  function fieldType(name) {
    var f = fieldsOf().filter(function (x) { return x.name === name; })[0];
    return f ? f.type : null;
  }
  function operatorsFor(type) {
    return D.operators.filter(function (op) { return !type || op.types.indexOf(type) >= 0; });
  }
  function operator(key) { return D.operators.filter(function (op) { return op.key === key; })[0]; }

  /* ---- 第二步：配置条件 ---- */
  function valueCell(td, type, opKey, value) {
    td.innerHTML = "";
    var op = operator(opKey);
    var arity = op ? op.arity : "one";
    var inputType = type === "datetime" && opKey !== "within_days" ? "datetime-local" : "text";
    if (arity === "none") {
      td.appendChild(el("span", { "class": "muted", text: "无需填写" }));
    } else if (arity === "two") {
      var pair = Array.isArray(value) ? value : ["", ""];
      td.appendChild(el("div", { "class": "period-range" }, [
        el("input", { type: inputType, "data-value": "0", value: pair[0] == null ? "" : pair[0], placeholder: "最小值", "aria-label": "最小值" }),
        el("span", { "class": "muted", text: "至" }),
        el("input", { type: inputType, "data-value": "1", value: pair[1] == null ? "" : pair[1], placeholder: "最大值", "aria-label": "最大值" })]));
    } else if (arity === "many") {
      td.appendChild(el("input", { type: "text", "data-value": "list", placeholder: "多个值用逗号分隔", "aria-label": "查询值",
        value: Array.isArray(value) ? value.join(",") : (value == null ? "" : value) }));
    } else if (type === "boolean") {
      td.appendChild(select([["true", "是"], ["false", "否"]], String(value) === "false" ? "false" : "true", { "data-value": "one", "aria-label": "查询值" }));
    } else {
      td.appendChild(el("input", { type: inputType, "data-value": "one", "aria-label": "查询值",
        placeholder: opKey === "within_days" ? "天数" : "查询值", value: value == null ? "" : value }));
    }
    td.appendChild(errorSlot("row"));
  }

  function opSelect(type, current) {
    var ops = operatorsFor(type);
    var keep = ops.some(function (o) { return o.key === current; }) ? current : (ops[0] && ops[0].key);
    return select(ops.map(function (o) { return [o.key, o.label]; }), keep, { "data-col": "op", "aria-label": "操作符" });
  }

  function conditionRow(row) {
    row = row || { lparen: 0, field: "", op: "eq", value: "", rparen: 0, join: "and" };
    var tr = el("tr", { "data-condition": "1" });
    var fieldOpts = [["", "请选择属性"]].concat(fieldsOf().map(function (f) {
      return [f.name, (f.label || f.name) + "（" + f.name + "）"];
    }));
    if (row.field && !fieldType(row.field)) fieldOpts.push([row.field, row.field + "（事件中已没有此字段）"]);
    var fieldSel = select(fieldOpts, row.field, { "data-col": "field", "aria-label": "属性名" });
    var opTd = el("td"), valueTd = el("td", { "class": "col-value" });
    opTd.appendChild(opSelect(fieldType(row.field), row.op));
    valueCell(valueTd, fieldType(row.field), opTd.firstChild.value, row.value);
    fieldSel.addEventListener("change", function () {
      var type = fieldType(fieldSel.value);
      opTd.replaceChild(opSelect(type, opTd.firstChild.value), opTd.firstChild);
      valueCell(valueTd, type, opTd.firstChild.value, "");
    });
    opTd.addEventListener("change", function () {
      valueCell(valueTd, fieldType(fieldSel.value), opTd.firstChild.value, "");
    });
    tr.appendChild(el("td", {}, [select(PARENS, row.lparen || 0, { "data-col": "lparen", "aria-label": "左括号" })]));
    tr.appendChild(el("td", {}, [fieldSel]));
    tr.appendChild(opTd);
    tr.appendChild(valueTd);
    tr.appendChild(el("td", {}, [select(RPARENS, row.rparen || 0, { "data-col": "rparen", "aria-label": "右括号" })]));
    tr.appendChild(el("td", {}, [select(JOINS, row.join || "and", { "data-col": "join", "aria-label": "连接符" })]));
    tr.appendChild(rowButtons(function () { addCondition(tr); }, function () { tr.remove(); syncEmpty(); }));
    return tr;
  }

  function addCondition(after, row) {
    var body = root.querySelector("[data-conditions]");
    var tr = conditionRow(row);
    if (after) body.insertBefore(tr, after.nextSibling); else body.appendChild(tr);
    syncEmpty();
    return tr;
  }

  function syncEmpty() {
    var empty = !root.querySelector("[data-conditions] tr");
    root.querySelector("[data-conditions-empty]").hidden = !empty;
    root.querySelector(".cond-table").hidden = empty;
  }


  function renderConditions(rows) {
    var body = root.querySelector("[data-conditions]");
    body.innerHTML = "";
    (rows || []).forEach(function (r) { addCondition(null, r); });
    syncEmpty();
  }

  /* ---- 第三步：设置执行操作 ---- */
  function processor(key) { return D.processors.filter(function (p) { return p.key === key; })[0]; }
  function defaults(p) {
    var config = {};
    (p ? p.config_fields : []).forEach(function (f) { if (f.default !== null && f.default !== undefined) config[f.name] = f.default; });
    return config;
  }
  function isConfigured(p, config) {
    if (!p) return false;
    return p.config_fields.every(function (f) {
      var v = config[f.name];
      return !f.required || (v !== undefined && v !== null && String(v).trim() !== "");
    });
  }

  function timingCell(td, timing) {
    td.innerHTML = "";
    var mode = timing.mode || "immediate";
    if (mode === "delay") {
      td.appendChild(el("div", { "class": "delay-inputs" }, [
        el("input", { type: "number", min: "0", step: "1", "data-timing": "hours", value: timing.hours == null ? "" : timing.hours, "aria-label": "延迟小时数", placeholder: "0" }),
        el("span", { text: "小时" }),
        el("input", { type: "number", min: "0", max: "59", step: "1", "data-timing": "minutes", value: timing.minutes || "", "aria-label": "延迟分钟数", placeholder: "0" }),
        el("span", { text: "分钟" })]));
    } else if (mode === "until") {
      td.appendChild(el("input", { type: "datetime-local", "data-timing": "at", value: timing.at || "", "aria-label": "指定执行时间" }));
    } else {
      td.appendChild(el("span", { "class": "muted", text: "事件接入后立即执行" }));
    }
  }

  function stepRow(step) {
    step = step || { processor: "", config: {}, timing: { mode: "immediate" } };
    var tr = el("tr", { "data-step": "1" });
    tr._config = Object.assign({}, step.config || {});
    var opts = [["", "请选择处理器"]].concat(D.processors.map(function (p) {
      return [p.key, p.name + (p.builtin ? "（内置）" : (p.enabled === false ? "（已停用）" : "（扩展）"))];
    }));
    if (step.processor && !processor(step.processor)) opts.push([step.processor, step.processor + "（已删除）"]);
    var procSel = select(opts, step.processor, { "data-col": "processor", "aria-label": "处理器名" });
    var state = el("span", { "class": "badge" });
    var configure = el("button", { type: "button", "class": "btn btn-secondary btn-sm", text: "配置操作", "data-configure": "1" });
    function refresh() {
      var p = processor(procSel.value), ok = isConfigured(p, tr._config);
      state.textContent = !p ? "未选择" : (ok ? "已配置" : "未配置");
      state.className = "badge " + (!p ? "badge-gray" : (ok ? "badge-green" : "badge-amber"));
      configure.disabled = !p;
    }
    tr._refresh = refresh;
    procSel.addEventListener("change", function () { tr._config = defaults(processor(procSel.value)); refresh(); });
    configure.addEventListener("click", function () { openConfig(tr); });
    var modeSel = select(MODES, (step.timing || {}).mode || "immediate", { "data-col": "mode", "aria-label": "延迟方式" });
    var timingTd = el("td", { "class": "col-timing" });
    timingCell(timingTd, step.timing || {});
    modeSel.addEventListener("change", function () { timingCell(timingTd, { mode: modeSel.value }); });
    tr.appendChild(el("td", {}, [procSel, errorSlot("processor")]));
    tr.appendChild(el("td", {}, [el("div", { "class": "config-cell" }, [state, configure]), errorSlot("config")]));
    tr.appendChild(el("td", {}, [modeSel, errorSlot("timing")]));
    tr.appendChild(timingTd);
    tr.appendChild(rowButtons(function () { addStep(tr); }, function () {
      if (root.querySelectorAll("[data-steps] tr").length > 1) tr.remove();
      else CKB.toast("至少保留一个执行操作", "warning");
    }));
    refresh();
    return tr;
  }

  function addStep(after, step) {
    var body = root.querySelector("[data-steps]");
    var tr = stepRow(step);
    if (after) body.insertBefore(tr, after.nextSibling); else body.appendChild(tr);
  }

  function readStep(tr) {
    var timing = { mode: tr.querySelector('[data-col="mode"]').value };
    tr.querySelectorAll("[data-timing]").forEach(function (i) {
      var k = i.getAttribute("data-timing");
      timing[k] = k === "at" ? i.value : (i.value === "" ? 0 : Number(i.value));
    });
    return { processor: tr.querySelector('[data-col="processor"]').value, config: tr._config, timing: timing };
  }

  /* ---- 配置操作 modal ---- */
  var editing = null;
  function configInput(f, value) {
    var id = "cfg-" + f.name, control;
    if (f.kind === "textarea" || f.kind === "json") {
      control = el("textarea", { id: id, rows: f.kind === "json" ? 6 : 4, "class": f.kind === "json" ? "mono" : null });
      control.value = value == null ? "" : (typeof value === "string" ? value : JSON.stringify(value, null, 2));
    } else if (f.kind === "select") {
      control = select([["", "请选择"]].concat(f.choices.map(function (c) { return Array.isArray(c) ? c : [c, c]; })), value == null ? "" : value, { id: id });
    } else if (f.kind === "boolean") {
      control = el("input", { type: "checkbox", id: id });
      control.checked = value === true || value === "true";
      return el("div", { "class": "field field-check", "data-config-field": f.name, "data-kind": f.kind },
        [el("label", { "class": "check" }, [control, el("span", { text: f.label })]), f.help ? el("p", { "class": "help", text: f.help }) : null]);
    } else if (f.kind === "keyvalue") {
      control = el("table", { "class": "table rows-table kv-table" }, [el("thead", {}, [el("tr", {}, [el("th", { text: "名称" }), el("th", { text: "值" }), el("th", {})])]), el("tbody")]);
      var rows = Array.isArray(value) ? value : Object.keys(value || {}).map(function (k) { return { name: k, value: value[k] }; });
      if (!rows.length) rows = [{ name: "", value: "" }];
      rows.forEach(function (r) { kvRow(control.querySelector("tbody"), r); });
    } else {
      control = el("input", { id: id, type: f.kind === "number" ? "number" : "text", value: value == null ? "" : value });
    }
    return el("div", { "class": "field", "data-config-field": f.name, "data-kind": f.kind }, [
      el("label", { "for": id }, [f.label, f.required ? el("span", { "class": "req", text: "*" }) : null]),
      control, f.help ? el("p", { "class": "help", text: f.help }) : null]);
  }

  function kvRow(body, r) {
    var tr = el("tr", {}, [el("td", {}, [el("input", { value: r.name || "", "aria-label": "名称" })]),
                           el("td", {}, [el("input", { value: r.value == null ? "" : r.value, "aria-label": "值" })])]);
    tr.appendChild(rowButtons(function () { kvRow(body, {}); }, function () { if (body.children.length > 1) tr.remove(); }));
    body.appendChild(tr);
  }

  function openConfig(tr) {
    var p = processor(tr.querySelector('[data-col="processor"]').value);
    if (!p) return;
    editing = tr;
    var modal = document.getElementById("config-modal");
    modal.querySelector("#config-modal-title").textContent = "配置操作：" + p.name;
    var vars = fieldsOf().map(function (f) { return "${" + f.name + "}"; }).join("  ");
    modal.querySelector("[data-config-help]").textContent = (p.description ? p.description + "。" : "") +
      (vars ? "可用变量：" + vars : "先在第一步选择事件，才能使用事件字段作为变量。");
    var form = modal.querySelector("[data-config-form]");
    form.innerHTML = "";
    if (!p.config_fields.length) form.appendChild(el("p", { "class": "muted", text: "此处理器无需配置。" }));
    p.config_fields.forEach(function (f) { form.appendChild(configInput(f, tr._config[f.name])); });
    CKB.openModal("config-modal");
  }

  function applyConfig() {
    if (!editing) return;
    var config = {};
    document.querySelectorAll("#config-modal [data-config-field]").forEach(function (box) {
      var name = box.getAttribute("data-config-field"), kind = box.getAttribute("data-kind");
      if (kind === "boolean") config[name] = box.querySelector("input").checked;
      else if (kind === "keyvalue") {
        config[name] = [];
        box.querySelectorAll("tbody tr").forEach(function (r) {
          var i = r.querySelectorAll("input");
          if (i[0].value.trim()) config[name].push({ name: i[0].value.trim(), value: i[1].value });
        });
      } else if (kind === "number") {
        var n = box.querySelector("input").value;
        if (n !== "") config[name] = Number(n);
      } else {
        config[name] = box.querySelector("input, textarea, select").value;
      }
    });
    editing._config = config;
    editing._refresh();
    CKB.closeModal("config-modal");
  }

  /* ---- collect, errors, save ---- */
  function collect() {
    function bind(name) { return root.querySelector('[data-bind="' + name + '"]').value; }
    return {
      id: D.strategy.id, name: bind("name").trim(), group_id: bind("group_id") ? Number(bind("group_id")) : null,
      event_id: bind("event_id") ? Number(bind("event_id")) : null, starts_at: bind("starts_at"), ends_at: bind("ends_at"),
      remark: D.strategy.remark || "",
      conditions: Array.prototype.map.call(root.querySelectorAll("[data-conditions] tr"), CKB.readConditionRow),
      steps: Array.prototype.map.call(root.querySelectorAll("[data-steps] tr"), readStep)
    };
  }

  function clearErrors() {
    root.querySelectorAll("[data-error-for]").forEach(function (e) { e.hidden = true; e.textContent = ""; });
    root.querySelectorAll(".has-error").forEach(function (e) { e.classList.remove("has-error"); });
  }

  function show(slot, message) {
    if (!slot) return false;
    slot.textContent = message;
    slot.hidden = false;
    var holder = slot.closest(".field, td");
    if (holder) holder.classList.add("has-error");
    return true;
  }

  function showErrors(errors, message) {
    clearErrors();
    var placed = false;
    Object.keys(errors || {}).forEach(function (key) {
      var text = [].concat(errors[key]).join("；");
      var m = /^steps\[(\d+)\]\.(\w+)$/.exec(key);
      if (m) {
        var tr = root.querySelectorAll("[data-steps] tr")[Number(m[1])];
        placed = (tr && show(tr.querySelector('[data-error-for="' + m[2] + '"]'), text)) || placed;
        return;
      }
      if (key === "conditions") {
        var row = /第 (\d+) 行/.exec(text);
        var target = row && root.querySelectorAll("[data-conditions] tr")[Number(row[1]) - 1];
        if (target) { target.classList.add("has-error"); show(target.querySelector('[data-error-for="row"]'), text); }
      }
      placed = show(root.querySelector('[data-error-for="' + key + '"]'), text) || placed;
    });
    if (!placed || !Object.keys(errors || {}).length) show(root.querySelector('[data-error-for="__all__"]'), message);
    var first = root.querySelector(".has-error, [data-error-for]:not([hidden])");
    if (first) first.scrollIntoView({ behavior: "smooth", block: "center" });
  }

  function send(url, data) {
    return CKB.fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(data) })
      .then(function (resp) {
        return resp.json().catch(function () { return {}; }).then(function (body) { return { ok: resp.ok, status: resp.status, body: body }; });
      });
  }

  function save() {
    send(D.urls.save, collect()).then(function (r) {
      if (r.ok) { window.location.href = r.body.redirect; return; }
      var err = r.body.error || { message: "保存失败（" + r.status + "）" };
      showErrors(err.errors, err.message);
      CKB.toast(err.message, "error");
    }).catch(function () { CKB.toast("网络错误，策略未保存", "error"); });
  }

  /* ---- 试运行 / 回测 ---- */
  function sampleFor(fields) {
    var out = {}, now = new Date();
    fields.forEach(function (f) {
      var n = f.name.toLowerCase();
      if (f.type === "number") out[f.name] = 1;
      else if (f.type === "boolean") out[f.name] = true;
      else if (f.type === "datetime") out[f.name] = now.toISOString().slice(0, 19);
      else if (f.type === "list") out[f.name] = [];
      else if (n.indexOf("mobile") >= 0 || n.indexOf("phone") >= 0) out[f.name] = "13800000000";
      else if (n.indexOf("email") >= 0) out[f.name] = "user@example.com";
      else out[f.name] = f.label || f.name;
    });
    return JSON.stringify(out, null, 2);
  }

  function table(headers, rows) {
    return el("table", { "class": "table sub-table" }, [
      el("thead", {}, [el("tr", {}, headers.map(function (h) { return el("th", { text: h }); }))]),
      el("tbody", {}, rows.map(function (cells) {
        return el("tr", {}, cells.map(function (c) { return c && c.nodeType ? el("td", {}, [c]) : el("td", { text: c == null ? "" : String(c) }); }));
      }))]);
  }

  function renderDryRun(box, result) {
    box.innerHTML = "";
    if (!result.valid) {
      box.appendChild(el("div", { "class": "alert alert-error" }, [el("div", {}, [el("strong", { text: "示例事件未通过字段校验：" })].concat(
        result.errors.map(function (e) { return el("div", { text: e.message }); })))]));
      return;
    }
    box.appendChild(el("div", { "class": "alert " + (result.matched ? "alert-success" : "alert-warning"),
      text: result.matched ? "条件满足：事件接入时将执行下列操作" : "条件不满足：此事件不会触发该策略" }));
    if (result.trace.length) {
      box.appendChild(el("h3", { "class": "sub-title", text: "逐行条件结果" }));
      box.appendChild(table(["行", "字段", "操作符", "期望值", "实际值", "结果"], result.trace.map(function (t) {
        return [t.row, t.field_label + "（" + t.field + "）", t.op_label, t.expected, t.actual,
                el("span", { "class": t.result ? "trace-true" : "trace-false", text: t.result ? "✓ 满足" : "✗ 不满足" })];
      })));
    } else {
      box.appendChild(el("p", { "class": "muted", text: "无条件：任何此类事件都会触发。" }));
    }
    box.appendChild(el("h3", { "class": "sub-title", text: "执行操作预览" }));
    result.steps.forEach(function (s) {
      var when = s.status === "skipped" ? "不生效：" + s.note : (s.timing === "immediate" ? "立即执行" : "计划于 " + s.due_at_text + " 执行");
      box.appendChild(el("div", { "class": "run-card" }, [
        el("div", { "class": "run-head" }, [el("strong", { text: "第 " + (s.index + 1) + " 步 · " + (s.processor_name || s.processor) }), el("span", { "class": "muted", text: when })]),
        s.error ? el("p", { "class": "error-text step-note", text: s.error }) : el("pre", { "class": "code-block wrap", text: pretty(s.rendered) })]));
    });
  }

  function dryRun() {
    var box = document.querySelector("[data-dry-result]"), sample;
    try { sample = JSON.parse(document.getElementById("sample-json").value || "{}"); }
    catch (e) { CKB.toast("示例事件不是有效的 JSON：" + e.message, "error"); return; }
    box.innerHTML = '<div class="muted">正在试运行…</div>';
    send(D.urls.dry_run, { strategy: collect(), sample: sample }).then(function (r) {
      if (!r.ok) {
        var err = r.body.error || { message: "试运行失败（" + r.status + "）" };
        box.innerHTML = "";
        box.appendChild(el("div", { "class": "alert alert-error", text: err.message }));
        showErrors(err.errors, err.message);
        return;
      }
      clearErrors();
      renderDryRun(box, r.body);
    });
  }

  function backtest() {
    var box = document.querySelector("[data-backtest-result]");
    var payload = { strategy: collect() };
    document.querySelectorAll("[data-bt]").forEach(function (i) { payload[i.getAttribute("data-bt")] = i.value; });
    box.innerHTML = '<div class="muted">正在回测…</div>';
    send(D.urls.backtest, payload).then(function (r) {
      box.innerHTML = "";
      if (!r.ok) { box.appendChild(el("div", { "class": "alert alert-error", text: (r.body.error || {}).message || "回测失败" })); return; }
      var b = r.body;
      box.appendChild(el("div", { "class": "stat-grid" }, [
        el("div", { "class": "stat-card" }, [el("span", { "class": "stat-label", text: "期间事件" }), el("span", { "class": "stat-value", text: String(b.total) })]),
        el("div", { "class": "stat-card stat-green" }, [el("span", { "class": "stat-label", text: "满足条件" }), el("span", { "class": "stat-value", text: String(b.matched) })]),
        el("div", { "class": "stat-card" }, [el("span", { "class": "stat-label", text: "匹配率" }), el("span", { "class": "stat-value", text: (b.ratio * 100).toFixed(1) + "%" })])]));
      if (b.examples.length) {
        box.appendChild(el("h3", { "class": "sub-title", text: "匹配示例" }));
        box.appendChild(table(["事件记录", "接入时间", "数据"], b.examples.map(function (x) {
          return [el("a", { href: x.url, text: "#" + x.record_id }), x.received_at_text,
                  el("code", { text: JSON.stringify(x.data) })];
        })));
      }
    });
  }

  /* ---- wiring ---- */
  function init() {
    root = document.getElementById("strategy-editor");
    D = CKB.jsonData("editor-data");
    if (!root || !D) return;
    var S = D.strategy;
    var groupSel = root.querySelector('[data-bind="group_id"]'), eventSel = root.querySelector('[data-bind="event_id"]');
    [["", "请选择策略组"]].concat(D.groups.map(function (g) { return [g.id, g.name]; })).forEach(function (o) {
      groupSel.appendChild(el("option", { value: o[0], text: o[1] }));
    });
    [["", "请选择事件"]].concat(D.events.map(function (e) { return [e.id, e.label + (e.enabled ? "" : "（已禁用）")]; })).forEach(function (o) {
      eventSel.appendChild(el("option", { value: o[0], text: o[1] }));
    });
    ["name", "group_id", "event_id", "starts_at", "ends_at"].forEach(function (k) {
      root.querySelector('[data-bind="' + k + '"]').value = S[k] == null ? "" : S[k];
    });
    renderConditions(S.conditions);
    (S.steps.length ? S.steps : [null]).forEach(function (s) { addStep(null, s); });
    var sample = document.getElementById("sample-json"), sampleTouched = false;
    if (sample) {
      sample.value = sampleFor(fieldsOf());
      sample.addEventListener("input", function () { sampleTouched = true; });
    }
    eventSel.addEventListener("change", function () {
      renderConditions(Array.prototype.map.call(root.querySelectorAll("[data-conditions] tr"), CKB.readConditionRow));
      if (sample && !sampleTouched) sample.value = sampleFor(fieldsOf());
    });
    root.querySelector("[data-add-condition]").addEventListener("click", function () { addCondition(null); });
    document.querySelectorAll("[data-editor-save]").forEach(function (b) { b.addEventListener("click", save); });
    document.querySelector("[data-config-apply]").addEventListener("click", applyConfig);
    var on = function (sel, fn) { var n = document.querySelector(sel); if (n) n.addEventListener("click", fn); };
    on("[data-dry-run]", dryRun);
    on("[data-backtest]", backtest);
    on("[data-sample-reset]", function () { sample.value = sampleFor(fieldsOf()); sampleTouched = false; });
    document.querySelectorAll("[data-test-tab]").forEach(function (tab) {
      tab.addEventListener("click", function () {
        document.querySelectorAll("[data-test-tab]").forEach(function (t) { t.classList.toggle("active", t === tab); });
        document.querySelectorAll("[data-test-pane]").forEach(function (p) { p.hidden = p.getAttribute("data-test-pane") !== tab.getAttribute("data-test-tab"); });
      });
    });
    if (!D.can_manage) root.querySelectorAll("input, select, button").forEach(function (n) { if (!n.closest("[data-configure]")) n.disabled = true; });
  }

  document.addEventListener("DOMContentLoaded", init);
})();
