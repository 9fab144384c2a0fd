/* 获客场景配置 editors, shared by the scene form and step 3 of the 新建获客计划 wizard:
   - 打标签规则: rules of 晓售 condition rows over the lead's fields, each with the tags it adds;
   - 线索分配: ordered rules (conditions, method, people or team, weights, regions/skill tags/value
     tiers, daily cap), working hours, what happens outside them, backups, 通知负责人;
   - 数据映射: adding and removing mapping rows (server-rendered inputs).
   The two rule editors keep a hidden <input> holding their JSON up to date, so the form posts
   once; window.CKBLeads lets the wizard rebuild them for another scene. */
(function () {
  "use strict";
  var CKB = window.CKB, el = CKB.el, select = CKB.select, C = CKB.conditionChoices;

  function options(list) { return list.map(function (x) { return [x.id, x.name]; }); }
  function picked(sel) {
    return Array.prototype.filter.call(sel.options, function (o) { return o.selected && o.value !== ""; })
      .map(function (o) { return parseInt(o.value, 10); });
  }
  function multi(list, chosen, attrs) {
    var s = select(options(list), "", Object.assign({ multiple: "multiple", size: String(Math.min(6, Math.max(3, list.length))) }, attrs));
    Array.prototype.forEach.call(s.options, function (o) { o.selected = (chosen || []).map(String).indexOf(o.value) >= 0; });
    return s;
  }
  function labelled(text, control, hint) {
    return el("label", { "class": "lr-field" }, [el("span", { "class": "lr-label", text: text }), control,
      hint ? el("span", { "class": "muted small", text: hint }) : null]);
  }
  function button(text, attrs) { return el("button", Object.assign({ type: "button", "class": "btn btn-ghost btn-sm", text: text }, attrs)); }

  /* ---- condition rows (左括号 · 字段 · 操作符 · 值 · 右括号 · 连接符) ---- */
  function conditions(D, fields, rows, onChange) {
    function type(name) { var f = fields.filter(function (x) { return x.name === name; })[0]; return f ? f.type : null; }
    function op(key) { return D.operators.filter(function (o) { return o.key === key; })[0]; }
    function opSelect(t, current) {
      var ops = D.operators.filter(function (o) { return !t || o.types.indexOf(t) >= 0; });
      var keep = ops.some(function (o) { return o.key === current; }) ? current : (ops[0] && ops[0].key);
      return select(ops.map(function (o) { return [o.key, o.label]; }), keep, { "data-col": "op", "aria-label": "操作符" });
    }
    function valueCell(td, t, opKey, value) {
      td.innerHTML = "";
      var arity = (op(opKey) || {}).arity || "one";
      if (arity === "none") { td.appendChild(el("span", { "class": "muted", text: "无需填写" })); return; }
      if (arity === "two") {
        var pair = Array.isArray(value) ? value : ["", ""];
        td.appendChild(el("div", { "class": "lr-range" }, [el("input", { "data-value": "0", value: pair[0] == null ? "" : pair[0], "aria-label": "最小值" }),
          el("span", { "class": "muted", text: "至" }), el("input", { "data-value": "1", value: pair[1] == null ? "" : pair[1], "aria-label": "最大值" })]));
        return;
      }
      td.appendChild(el("input", { "data-value": arity === "many" ? "list" : "one", "aria-label": "查询值",
        type: t === "number" && arity === "one" ? "number" : "text", placeholder: arity === "many" ? "多个值用逗号分隔" : "查询值",
        value: Array.isArray(value) ? value.join(",") : (value == null ? "" : value) }));
    }
    var body = el("tbody", { "data-conditions": "" });
    function row(r) {
      r = r || { lparen: 0, field: "", op: "eq", value: "", rparen: 0, join: "and" };
      var fieldSel = select([["", "请选择字段"]].concat(fields.map(function (f) { return [f.name, f.label]; })), r.field, { "data-col": "field", "aria-label": "字段" });
      var opTd = el("td", {}, [opSelect(type(r.field), r.op)]), valTd = el("td", { "class": "col-value" });
      valueCell(valTd, type(r.field), opTd.firstChild.value, r.value);
      fieldSel.addEventListener("change", function () {
        opTd.replaceChild(opSelect(type(fieldSel.value), opTd.firstChild.value), opTd.firstChild);
        valueCell(valTd, type(fieldSel.value), opTd.firstChild.value, "");
      });
      opTd.addEventListener("change", function () { valueCell(valTd, type(fieldSel.value), opTd.firstChild.value, ""); });
      var del = el("button", { type: "button", "class": "icon-btn", text: "−", title: "删除此行", "aria-label": "删除此行" });
      var tr = el("tr", {}, [el("td", {}, [select(C.parens, r.lparen || 0, { "data-col": "lparen", "aria-label": "左括号" })]),
        el("td", {}, [fieldSel]), opTd, valTd, el("td", {}, [select(C.rparens, r.rparen || 0, { "data-col": "rparen", "aria-label": "右括号" })]),
        el("td", {}, [select(C.joins, r.join || "and", { "data-col": "join", "aria-label": "连接符" })]), el("td", { "class": "row-btns" }, [del])]);
      del.addEventListener("click", function () { tr.remove(); empty(); onChange(); });
      body.appendChild(tr);
      empty();
    }
    var table = el("table", { "class": "table cond-table lr-cond" }, [el("thead", {}, [el("tr", {}, ["左括号", "字段", "操作符", "值", "右括号", "连接符", ""].map(function (h) { return el("th", { text: h }); }))]), body]);
    var hint = el("p", { "class": "muted small", text: "没有条件：所有线索都满足。" });
    function empty() { var none = !body.querySelector("tr"); table.hidden = none; hint.hidden = !none; }
    (rows || []).forEach(row);
    empty();
    var add = button("+ 添加条件", { "data-add-condition": "" });
    add.addEventListener("click", function () { row(); onChange(); });
    return { node: el("div", { "class": "lr-conditions" }, [table, hint, add]),
             read: function () { return Array.prototype.map.call(body.querySelectorAll("tr"), CKB.readConditionRow).filter(function (r) { return r.field; }); } };
  }

  /* A fresh wrapper inside `box`: rebuilding an editor (another scene chosen in the wizard)
     drops the old one together with its listeners. */
  function fresh(box) { var root = el("div"); box.innerHTML = ""; box.appendChild(root); return root; }

  /* A list of rule cards with 添加/删除 that writes its JSON into `hidden` on every change. */
  function ruleList(box, hidden, rules, makeCard, addLabel, serialize) {
    var cards = [], list = el("div", { "class": "lr-list" });
    function sync() { hidden.value = JSON.stringify(serialize(cards.map(function (c) { return c.read(); }))); }
    function add(rule) {
      var card = makeCard(rule || null, sync);
      var remove = button("删除规则", { "class": "btn btn-danger-ghost btn-sm lr-remove" });
      remove.addEventListener("click", function () { card.node.remove(); cards.splice(cards.indexOf(card), 1); sync(); });
      card.node.querySelector(".lr-card-head").appendChild(remove);
      cards.push(card);
      list.appendChild(card.node);
    }
    box.appendChild(list);
    (rules || []).forEach(add);
    var more = button(addLabel, { "class": "btn btn-secondary btn-sm", "data-add-rule": "" });
    more.addEventListener("click", function () { add(); sync(); });
    box.appendChild(more);
    box.addEventListener("input", sync);
    box.addEventListener("change", sync);
    sync();
    return { sync: sync };
  }

  /* ---- 打标签规则 ---- */
  function tagRules(box, hidden, D, fields, rules) {
    function card(rule, sync) {
      rule = rule || { name: "", rows: [], tags: [] };
      var name = el("input", { value: rule.name || "", placeholder: "如：产品A意向", "data-rule-name": "" });
      var cond = conditions(D, fields, rule.rows, sync), tags = multi(D.tags, rule.tags, { "data-rule-tags": "" });
      var node = el("div", { "class": "lr-card", "data-tag-rule": "" }, [el("div", { "class": "lr-card-head" }, [labelled("规则名称", name)]),
        cond.node, labelled("满足条件时打上标签", tags, D.tags.length ? "按住 Ctrl / ⌘ 可多选；只能选全局手动标签" : "还没有可用的全局手动标签，请先到标签管理添加")]);
      return { node: node, read: function () { return { name: name.value.trim(), rows: cond.read(), tags: picked(tags) }; } };
    }
    return ruleList(fresh(box), hidden, rules, card, "+ 添加打标签规则", function (r) { return r; });
  }

  /* ---- 线索分配 ---- */
  var ENTRY = { region: { key: "regions", field: "region", label: "地区" }, skill: { key: "skills", field: "tag_id", label: "技能标签" },
                value: { key: "tiers", field: "min_value", label: "最低价值（元）" } };

  function entries(D, method, items, sync) {
    var spec = ENTRY[method], body = el("div", { "class": "lr-entries" });
    function row(item) {
      item = item || {};
      var value = spec.field === "tag_id" ? select([["", "请选择标签"]].concat(options(D.all_tags)), item.tag_id, { "data-entry-value": "" })
        : el("input", { value: item[spec.field] == null ? "" : item[spec.field], type: spec.field === "min_value" ? "number" : "text", "data-entry-value": "" });
      var users = multi(D.users, item.user_ids, { "data-entry-users": "", size: "3" });
      var del = el("button", { type: "button", "class": "icon-btn", text: "−", "aria-label": "删除" });
      var r = el("div", { "class": "lr-entry" }, [labelled(spec.label, value), labelled("负责人", users), del]);
      del.addEventListener("click", function () { r.remove(); sync(); });
      body.appendChild(r);
    }
    (items || []).forEach(row);
    var add = button("+ 添加" + spec.label.replace("（元）", "档位"));
    add.addEventListener("click", function () { row(); sync(); });
    return { node: el("div", {}, [body, add]), read: function () {
      return Array.prototype.map.call(body.querySelectorAll(".lr-entry"), function (r) {
        var v = r.querySelector("[data-entry-value]").value, out = { user_ids: picked(r.querySelector("[data-entry-users]")) };
        out[spec.field] = spec.field === "region" ? v.trim() : v;
        return out;
      });
    } };
  }

  function assignCard(D, fields) {
    return function (rule, sync) {
      rule = rule || { name: "", rows: [], method: "round_robin", user_ids: [], group_id: null, weights: {}, cap_per_day: 0 };
      var name = el("input", { value: rule.name || "", placeholder: "如：产品线A 轮询", "data-rule-name": "" });
      var method = select(Object.keys(D.methods).map(function (k) { return [k, D.methods[k]]; }), rule.method || "round_robin", { "data-rule-method": "" });
      var users = multi(D.users, rule.user_ids, { "data-rule-users": "" });
      var group = select([["", "不限团队"]].concat(options(D.groups)), rule.group_id || "", { "data-rule-group": "" });
      var cap = el("input", { type: "number", min: "0", value: rule.cap_per_day || 0, "data-rule-cap": "" });
      var cond = conditions(D, fields, rule.rows, sync), weightsBox = el("div", { "class": "lr-weights" }), entryBox = el("div");
      var weights = Object.assign({}, rule.weights || {}), entry = null;
      function drawWeights() {
        weightsBox.innerHTML = "";
        if (method.value !== "weighted") return;
        picked(users).forEach(function (id) {
          var who = D.users.filter(function (u) { return u.id === id; })[0];
          var input = el("input", { type: "number", min: "1", max: "100", value: weights[id] || 1, "data-weight-user": id });
          input.addEventListener("input", function () { weights[id] = input.value; });
          weightsBox.appendChild(labelled((who ? who.name : "#" + id) + " 的权重", input));
        });
        if (!weightsBox.childNodes.length) weightsBox.appendChild(el("p", { "class": "muted small", text: "选择分配人员后在这里设置各人权重（1–100）。" }));
      }
      function drawEntries(items) {
        entryBox.innerHTML = "";
        entry = ENTRY[method.value] ? entries(D, method.value, items, sync) : null;
        if (entry) entryBox.appendChild(entry.node);
      }
      method.addEventListener("change", function () { drawWeights(); drawEntries([]); });
      users.addEventListener("change", drawWeights);
      drawWeights();
      drawEntries(ENTRY[rule.method] ? rule[ENTRY[rule.method].key] : []);
      var node = el("div", { "class": "lr-card", "data-assign-rule": "" }, [
        el("div", { "class": "lr-card-head" }, [labelled("规则名称", name)]), cond.node,
        el("div", { "class": "lr-grid" }, [labelled("分配方式", method), labelled("分配人员", users, "不选人员时分给所选团队的业务员"),
          labelled("团队（客户分组）", group), labelled("每人每天上限", cap, "0 表示不限")]), weightsBox, entryBox]);
      return { node: node, read: function () {
        var out = { name: name.value.trim(), rows: cond.read(), method: method.value, user_ids: picked(users),
                    group_id: group.value ? parseInt(group.value, 10) : null, cap_per_day: parseInt(cap.value, 10) || 0, weights: {} };
        if (method.value === "weighted") out.user_ids.forEach(function (id) { out.weights[id] = parseInt(weights[id] || 1, 10); });
        if (entry) out[ENTRY[method.value].key] = entry.read();
        return out;
      } };
    };
  }

  function assignRules(box, hidden, D, fields, config) {
    config = config || {};
    var hours = config.working_hours || { enabled: false, weekdays: [1, 2, 3, 4, 5], start: "09:00", end: "18:00" };
    var rulesBox = el("div", { "class": "lr-rules" });
    var on = el("input", { type: "checkbox", "data-hours-enabled": "" }); on.checked = !!hours.enabled;
    var days = el("span", { "class": "check-list" }, Object.keys(D.weekdays).map(function (d) {
      var c = el("input", { type: "checkbox", value: d, "data-weekday": "" }); c.checked = (hours.weekdays || []).indexOf(parseInt(d, 10)) >= 0;
      return el("label", { "class": "check" }, [c, el("span", { text: D.weekdays[d] })]);
    }));
    var start = el("input", { type: "time", value: hours.start || "09:00", "data-hours-start": "" });
    var end = el("input", { type: "time", value: hours.end || "18:00", "data-hours-end": "" });
    var outside = select(Object.keys(D.outside).map(function (k) { return [k, D.outside[k]]; }), config.outside_hours || "backup", { "data-outside": "" });
    var backups = multi(D.users, config.backup_user_ids, { "data-backups": "" });
    var notify = el("input", { type: "checkbox", "data-notify-assignee": "" }); notify.checked = config.notify_assignee !== false;
    box = fresh(box);
    box.appendChild(rulesBox);
    box.appendChild(el("div", { "class": "lr-card lr-hours" }, [el("div", { "class": "lr-card-head" }, [el("strong", { text: "工作时间与备用分配人" })]),
      el("label", { "class": "check" }, [on, el("span", { text: "只在工作时间自动分配" })]), days,
      el("div", { "class": "lr-grid" }, [labelled("上班时间", start), labelled("下班时间", end), labelled("非工作时间的线索", outside),
        labelled("备用分配人", backups, "非工作时间或规则里没人能接时分给他们")]),
      el("label", { "class": "check" }, [notify, el("span", { text: "分配后通知负责人（站内通知）" })])]));
    var list = ruleList(rulesBox, hidden, config.rules, assignCard(D, fields), "+ 添加分配规则", function (rules) {
      return { rules: rules, working_hours: { enabled: on.checked, start: start.value, end: end.value,
               weekdays: Array.prototype.filter.call(days.querySelectorAll("input"), function (c) { return c.checked; }).map(function (c) { return parseInt(c.value, 10); }) },
               outside_hours: outside.value, backup_user_ids: picked(backups), notify_assignee: notify.checked };
    });
    box.addEventListener("input", list.sync);
    box.addEventListener("change", list.sync);
    return list;
  }

  /* ---- 数据映射 rows (server-rendered; the last row is the template for new ones) ---- */
  function mappingRows(box) {
    var body = box.querySelector("tbody");
    box.querySelector("[data-add-mapping]").addEventListener("click", function () {
      var copy = body.querySelector("tr:last-child").cloneNode(true);
      copy.querySelectorAll("input").forEach(function (i) { if (i.type === "checkbox") i.checked = false; else i.value = ""; });
      copy.querySelectorAll("select").forEach(function (s) { s.selectedIndex = 0; });
      body.appendChild(copy);
    });
    body.addEventListener("click", function (ev) {
      var del = ev.target.closest("[data-remove-mapping]");
      if (!del) return;
      var tr = del.closest("tr");
      if (body.querySelectorAll("tr").length > 1) tr.remove();
      else tr.querySelectorAll("input").forEach(function (i) { i.value = ""; });
    });
    // A checkbox posts nothing when unticked: keep each row's "required" flag in a hidden twin.
    body.addEventListener("change", function (ev) {
      if (ev.target.matches("[data-required-box]")) ev.target.nextElementSibling.value = ev.target.checked ? "1" : "";
    });
  }

  /* ---- 自动回复: show the inputs of the chosen way; offer only that channel's templates ---- */
  function responseSection(box) {
    var channel = box.querySelector("[data-response-channel]"), template = box.querySelector("[name=response_template]");
    function sync() {
      box.querySelectorAll("[data-response-for]").forEach(function (p) { p.hidden = p.getAttribute("data-response-for").split(" ").indexOf(channel.value) < 0; });
      Array.prototype.forEach.call(template.options, function (o) {
        o.hidden = !!o.value && o.getAttribute("data-channel") !== channel.value;
        if (o.hidden && o.selected) template.value = "";
      });
    }
    channel.addEventListener("change", sync);
    sync();
    return sync;
  }

  window.CKBLeads = { tagRules: tagRules, assignRules: assignRules, responseSection: responseSection };

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("[data-scene-form]"), D = CKB.jsonData("lead-rule-data");
    document.querySelectorAll("[data-mapping-rows]").forEach(mappingRows);
    document.querySelectorAll("[data-response]").forEach(responseSection);
    if (!form || !D) return;
    tagRules(form.querySelector("[data-tag-rules]"), form.querySelector("input[name=tagging_rules]"), D, D.fields, D.config.tagging_rules);
    assignRules(form.querySelector("[data-assign-rules]"), form.querySelector("input[name=assignment_rules]"), D, D.fields, D.config.assignment_rules);
  });
})();
