/* 新建获客计划 wizard: one step at a time (上一步 / 下一步, or click a step), opening the first step
   with an error after a refused save. Step 1's type filters the scenes and the type-specific
   inputs of step 2; choosing another scene loads its processing rules into step 3 (lead_scenes.js
   draws the editors); step 4 summarises everything before 保存草稿 / 启动计划. */
(function () {
  "use strict";
  var CKB = window.CKB, Leads = window.CKBLeads, el = CKB.el;

  function steps(form) {
    var sections = Array.prototype.slice.call(form.querySelectorAll(".lead-step"));
    var tabs = Array.prototype.slice.call(document.querySelectorAll("[data-step-tab]"));
    var prev = form.querySelector("[data-wizard-prev]"), next = form.querySelector("[data-wizard-next]");
    var saves = form.querySelectorAll("[data-wizard-save]"), current = 0, onShow = [];
    function show(i) {
      current = Math.max(0, Math.min(sections.length - 1, i));
      sections.forEach(function (s, k) { s.hidden = k !== current; });
      tabs.forEach(function (t, k) { t.classList.toggle("active", k === current); t.classList.toggle("done", k < current); });
      prev.hidden = current === 0;
      next.hidden = current === sections.length - 1;
      saves.forEach(function (b) { b.hidden = current !== sections.length - 1; });
      onShow.forEach(function (fn) { fn(current); });
      window.scrollTo(0, 0);
    }
    prev.addEventListener("click", function () { show(current - 1); });
    next.addEventListener("click", function () { show(current + 1); });
    tabs.forEach(function (t, k) { t.addEventListener("click", function () { show(k); }); });
    var bad = sections.findIndex(function (s) { return s.querySelector(".has-error, .field-error"); });
    return { start: function () { show(bad >= 0 ? bad : 0); }, onShow: function (fn) { onShow.push(fn); } };
  }

  function value(form, name) { var x = form.querySelector('[name="' + name + '"]'); return x ? x.value : ""; }
  function typeOf(form) {
    var radio = form.querySelector("input[name=scene_type]:checked");
    return radio ? radio.value : value(form, "scene_type");
  }

  function init(form) {
    var D = CKB.jsonData("lead-rule-data"), L = CKB.jsonData("lead-plan-labels");
    var sceneSel = form.querySelector("[data-scene-select]"), newScene = form.querySelector("[data-new-scene]");
    var tagBox = form.querySelector("[data-tag-rules]"), assignBox = form.querySelector("[data-assign-rules]");
    function scene(id) { return D.scenes.filter(function (s) { return String(s.id) === String(id); })[0]; }
    function chosenScene() { return scene(sceneSel ? sceneSel.value : D.plan_scene); }

    function drawRules(config, fields) {
      Leads.tagRules(tagBox, form.querySelector("input[name=tagging_rules]"), D, fields, config.tagging_rules || []);
      Leads.assignRules(assignBox, form.querySelector("input[name=assignment_rules]"), D, fields, config.assignment_rules || {});
    }
    // Another scene chosen: its stored processing settings replace what step 3 shows.
    function loadScene() {
      var sc = chosenScene(), ar = (sc && sc.auto_response) || {};
      form.querySelector("[name=dedup_strategy]").value = (sc && sc.dedup_strategy) || "BY_PHONE_OR_EMAIL";
      var channel = form.querySelector("[name=response_channel]");
      channel.value = ar.channel || "";
      form.querySelector("[name=response_template]").value = ar.template || "";
      form.querySelector("[name=response_device_text]").value = ar.device_text || "";
      form.querySelector("[name=response_device_account]").value = ar.device_account || "";
      channel.dispatchEvent(new Event("change"));
      drawRules(sc || {}, sc ? sc.fields : D.new_scene_fields);
    }
    function syncType(keepScene) {
      var type = typeOf(form);
      form.querySelectorAll("[data-for-type]").forEach(function (box) { box.hidden = box.getAttribute("data-for-type") !== type; });
      if (!sceneSel) return;
      var first = null;
      Array.prototype.forEach.call(sceneSel.options, function (o) {
        var t = o.getAttribute("data-type");
        o.hidden = !!t && t !== type;
        if (t === type && !first) first = o.value;
      });
      var current = sceneSel.options[sceneSel.selectedIndex];
      if (!keepScene || (current && current.hidden)) {
        sceneSel.value = first || "new";
        syncScene(true);
      }
    }
    function syncScene(load) {
      if (newScene) newScene.hidden = sceneSel.value !== "new";
      if (load) loadScene();
    }
    if (sceneSel) {
      form.querySelectorAll("input[name=scene_type]").forEach(function (r) { r.addEventListener("change", function () { syncType(false); }); });
      sceneSel.addEventListener("change", function () { syncScene(true); });
    }
    // First draw: what the server rendered (a refused save keeps what was posted).
    var sc = chosenScene();
    drawRules(D.config, sc ? sc.fields : D.new_scene_fields);
    if (sceneSel && !sceneSel.value) syncType(false);  // a fresh wizard: the type's first scene, or a new one
    else { syncType(true); if (sceneSel) syncScene(false); }

    /* 营销话术 rows */
    var scripts = form.querySelector("[data-script-list]");
    form.querySelector("[data-add-script]").addEventListener("click", function () {
      var row = scripts.querySelector(".lead-script").cloneNode(true);
      row.querySelector("textarea").value = "";
      scripts.appendChild(row);
      row.querySelector("textarea").focus();
    });
    scripts.addEventListener("click", function (ev) {
      var del = ev.target.closest("[data-remove-script]");
      if (!del) return;
      var row = del.closest(".lead-script");
      if (scripts.querySelectorAll(".lead-script").length > 1) row.remove(); else row.querySelector("textarea").value = "";
    });

    /* 海报 preview */
    var preview = form.querySelector("[data-poster-preview]");
    function poster() {
      preview.querySelector("[data-poster-title]").textContent = value(form, "poster_title") || "海报标题";
      preview.querySelector("[data-poster-subtitle]").textContent = value(form, "poster_subtitle") || "副标题";
      preview.style.backgroundColor = value(form, "poster_color") || "#1f6feb";
    }
    form.querySelectorAll("[data-poster-input]").forEach(function (i) { i.addEventListener("input", poster); });
    poster();

    return { summary: function () { summarise(form, D, L, chosenScene()); } };
  }

  /* 总结: what will be saved, read from the form as it is now. */
  function summarise(form, D, L, sc) {
    var type = typeOf(form), box = form.querySelector("[data-summary]");
    function checkedLabels(name) {
      return Array.prototype.filter.call(form.querySelectorAll('input[name="' + name + '"]'), function (c) { return c.checked; })
        .map(function (c) { return c.closest("label").textContent.trim(); });
    }
    function lines(name) { return value(form, name).split("\n").map(function (s) { return s.trim(); }).filter(Boolean); }
    function names(list, ids) { return list.filter(function (x) { return ids.indexOf(x.id) >= 0; }).map(function (x) { return x.name; }); }
    var tags = JSON.parse(value(form, "tagging_rules") || "[]"), assign = JSON.parse(value(form, "assignment_rules") || "{}");
    var scripts = Array.prototype.filter.call(form.querySelectorAll("[name=script]"), function (t) { return t.value.trim(); }).length;
    var sceneName = value(form, "scene_id") === "new" ? "新建：" + (value(form, "scene_name") || "（未填写名称）") : (sc ? sc.name : "（未选择）");
    var start = value(form, "starts_on"), end = value(form, "ends_on"), goal = parseInt(value(form, "goal_leads"), 10) || 0;
    var response = value(form, "response_channel"), rows = [
      ["获客类型", L.types[type] || type], ["获客场景", sceneName], ["计划名称", value(form, "name") || "（未填写）"],
      ["目标", (goal ? goal + " 条线索" : "不设目标") + (value(form, "goal_note") ? "；" + value(form, "goal_note") : "")],
      ["计划周期", (start || "立即") + " 至 " + (end || "长期")],
      ["获客渠道", checkedLabels("channel_ids").join("、") || "未选择"]];
    if (type === "SOCIAL_MEDIA_LEAD") rows.push(["抖音账号", lines("douyin_accounts").join("、") || "未填写"]);
    if (type === "PHONE_CALL") rows.push(["电话号码池", lines("phone_numbers").length + " 个号码"]);
    if (type === "QR_CODE_SCAN") rows.push(["海报", value(form, "poster_title") || "未设置标题"]);
    rows.push(["营销话术 / 素材", scripts + " 条话术，" + checkedLabels("material_ids").length + " 个素材"]);
    rows.push(["线索去重", L.dedups[value(form, "dedup_strategy")] || ""]);
    rows.push(["自动打标签", tags.length ? tags.map(function (r) { return (r.name || "未命名") + " → " + (names(D.tags, r.tags).join("、") || "未选标签"); }).join("；") : "不打标签"]);
    rows.push(["线索分配", (assign.rules || []).length ? assign.rules.map(function (r) {
      return (r.name || "未命名") + "（" + (D.methods[r.method] || r.method) + "：" + (names(D.users, r.user_ids || []).join("、") || "按团队/条目") + "）";
    }).join("；") : "不自动分配"]);
    if (assign.working_hours && assign.working_hours.enabled) rows.push(["工作时间", assign.working_hours.start + "–" + assign.working_hours.end + "，备用分配人 " + (names(D.users, assign.backup_user_ids || []).join("、") || "无")]);
    rows.push(["自动回复", L.responses[response] + (response === "device" ? "：" + value(form, "response_device_text") : "") + (assign.notify_assignee === false ? "；不通知负责人" : "；分配后通知负责人")]);
    box.innerHTML = "";
    rows.forEach(function (r) { box.appendChild(el("dt", { text: r[0] })); box.appendChild(el("dd", { text: r[1] })); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("[data-plan-wizard]");
    if (!form || !Leads) return;
    var wizard = init(form), nav = steps(form);
    nav.onShow(function (i) { if (i === 3) wizard.summary(); });
    nav.start();
  });
})();
