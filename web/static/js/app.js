/* 存客宝 console behaviour. No inline scripts are allowed (CSP), so pages opt in with
   data-* attributes, and page-specific code goes in its own static file using window.CKB.

   data-confirm="问题"          on a <form> (asks before submit) or a <button>/<a>
   data-modal-open="dialog-id"  opens <dialog id=…>; data-modal-close closes the enclosing one
   data-dismiss                 removes the enclosing .alert
   data-copy="#selector"        copies that element's text
   data-expand="#row-id"        toggles a hidden detail row (table row expand)
   tbody[data-reorder-url]      rows <tr data-id draggable="true"> can be dragged; after a drop
                                POST {"order": [ids…]} (JSON) to the URL, with the CSRF header
   fieldset[data-perm-group] input[data-check-all]   ticks/unticks the whole group
   [data-menu-preview]          live menu preview for the role form (checked permissions)
   nav[data-menu] details[data-menu-group]   the sidebar's collapsible groups (state in localStorage)

   window.CKB: csrfToken(), fetch(url, options) (adds X-CSRFToken on unsafe methods),
   postJSON(url, data), toast(message, tone), confirm(message) → Promise<boolean>,
   openModal(id), closeModal(id), jsonData(id) (parses <script type="application/json" id=…>),
   enableReorder(tbody, url). */
(function () {
  "use strict";

  var SAFE = /^(GET|HEAD|OPTIONS|TRACE)$/i;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function sameOrigin(url) {
    try { return new URL(url, window.location.href).origin === window.location.origin; }
    catch (e) { return false; }
  }

  function ckbFetch(url, options) {
    options = Object.assign({ credentials: "same-origin" }, options || {});
    var method = (options.method || "GET").toUpperCase();
    var headers = new Headers(options.headers || {});
    if (!SAFE.test(method) && sameOrigin(url) && !headers.has("X-CSRFToken")) {
      headers.set("X-CSRFToken", csrfToken());
    }
    if (!headers.has("Accept")) headers.set("Accept", "application/json");
    options.headers = headers;
    return window.fetch(url, options);
  }

  function postJSON(url, data) {
    return ckbFetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(data)
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (body) {
        if (!resp.ok) {
          var msg = (body && body.error && body.error.message) || ("请求失败（" + resp.status + "）");
          throw new Error(msg);
        }
        return body;
      });
    });
  }

  function toast(message, tone) {
    var stack = document.getElementById("toasts");
    if (!stack) return;
    var el = document.createElement("div");
    el.className = "toast toast-" + (tone || "info");
    el.setAttribute("role", "status");
    el.textContent = message;
    stack.appendChild(el);
    setTimeout(function () {
      el.classList.add("leaving");
      setTimeout(function () { el.remove(); }, 300);
    }, tone === "error" ? 6000 : 3500);
  }

  function openModal(id) {
    var dlg = document.getElementById(id);
    if (dlg && !dlg.open) {
      dlg.showModal();
      var first = dlg.querySelector("input:not([type=hidden]), select, textarea");
      if (first) first.focus();
    }
  }

  function closeModal(id) {
    var dlg = typeof id === "string" ? document.getElementById(id) : id;
    if (dlg && dlg.open) dlg.close();
  }

  /* A styled confirm dialog; resolves true when the user presses 确定. */
  function confirmDialog(message) {
    var dlg = document.getElementById("confirm-dialog");
    if (!dlg) return Promise.resolve(window.confirm(message));
    document.getElementById("confirm-message").textContent = message;
    return new Promise(function (resolve) {
      function done(value) {
        dlg.removeEventListener("close", onClose);
        ok.removeEventListener("click", onOk);
        cancel.removeEventListener("click", onCancel);
        if (dlg.open) dlg.close();
        resolve(value);
      }
      var ok = dlg.querySelector("[data-confirm-ok]");
      var cancel = dlg.querySelector("[data-confirm-cancel]");
      function onOk() { done(true); }
      function onCancel() { done(false); }
      function onClose() { done(false); }
      ok.addEventListener("click", onOk);
      cancel.addEventListener("click", onCancel);
      dlg.addEventListener("close", onClose);
      dlg.showModal();
      ok.focus();
    });
  }

  function jsonData(id) {
    var el = document.getElementById(id);
    if (!el) return null;
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }

  /* ---- drag-and-drop reorder ---- */
  function enableReorder(tbody, url) {
    var dragged = null;
    tbody.addEventListener("dragstart", function (ev) {
      var row = ev.target.closest("tr[data-id]");
      if (!row) return;
      dragged = row;
      row.classList.add("dragging");
      ev.dataTransfer.effectAllowed = "move";
      ev.dataTransfer.setData("text/plain", row.dataset.id);
    });
    tbody.addEventListener("dragover", function (ev) {
      var row = ev.target.closest("tr[data-id]");
      if (!dragged || !row || row === dragged) return;
      ev.preventDefault();
      tbody.querySelectorAll(".drag-over").forEach(function (r) { r.classList.remove("drag-over"); });
      row.classList.add("drag-over");
    });
    tbody.addEventListener("drop", function (ev) {
      var row = ev.target.closest("tr[data-id]");
      if (!dragged || !row || row === dragged) return;
      ev.preventDefault();
      var rows = Array.prototype.slice.call(tbody.querySelectorAll("tr[data-id]"));
      var after = rows.indexOf(dragged) < rows.indexOf(row);
      row.parentNode.insertBefore(dragged, after ? row.nextSibling : row);
      saveOrder(tbody, url);
    });
    tbody.addEventListener("dragend", function () {
      if (dragged) dragged.classList.remove("dragging");
      tbody.querySelectorAll(".drag-over").forEach(function (r) { r.classList.remove("drag-over"); });
      dragged = null;
    });
  }

  function saveOrder(tbody, url) {
    var order = Array.prototype.map.call(tbody.querySelectorAll("tr[data-id]"), function (r) { return r.dataset.id; });
    return postJSON(url, { order: order })
      .then(function () { toast("顺序已保存", "success"); })
      .catch(function (err) { toast("保存顺序失败：" + err.message, "error"); });
  }

  /* ---- role form: check-all per group and the live menu preview ---- */
  function syncGroup(group) {
    var all = group.querySelector("[data-check-all]");
    var boxes = group.querySelectorAll('input[type=checkbox]:not([data-check-all])');
    var on = Array.prototype.filter.call(boxes, function (b) { return b.checked; }).length;
    if (all) { all.checked = on > 0 && on === boxes.length; all.indeterminate = on > 0 && on < boxes.length; }
  }

  function refreshPreview() {
    var preview = document.querySelector("[data-menu-preview]");
    var form = preview && preview.closest("form");
    if (!form) return;
    var granted = {};
    form.querySelectorAll('input[name="permissions"]:checked').forEach(function (b) { granted[b.value] = true; });
    preview.querySelectorAll("[data-permission]").forEach(function (item) {
      // One permission, or several separated by spaces of which any one shows the item.
      var perms = (item.getAttribute("data-permission") || "").split(" ").filter(Boolean);
      var shown = !perms.length || perms.some(function (p) { return !!granted[p]; });
      item.classList.toggle("hidden-item", !shown);
      var state = item.querySelector(".menu-preview-state");
      if (state) state.textContent = shown ? "可见" : "隐藏";
    });
  }

  /* ---- wiring ---- */
  document.addEventListener("click", function (ev) {
    var t = ev.target;
    var opener = t.closest("[data-modal-open]");
    if (opener) { ev.preventDefault(); openModal(opener.getAttribute("data-modal-open")); return; }
    var closer = t.closest("[data-modal-close]");
    if (closer) { ev.preventDefault(); closeModal(closer.closest("dialog")); return; }
    var dismiss = t.closest("[data-dismiss]");
    if (dismiss) { var box = dismiss.closest(".alert"); if (box) box.remove(); return; }
    var copy = t.closest("[data-copy]");
    if (copy) {
      var src = document.querySelector(copy.getAttribute("data-copy"));
      if (src && navigator.clipboard) {
        navigator.clipboard.writeText(src.textContent.trim())
          .then(function () { toast("已复制到剪贴板", "success"); })
          .catch(function () { toast("复制失败，请手动选择复制", "error"); });
      }
      return;
    }
    var expander = t.closest("[data-expand]");
    if (expander && !t.closest("a, button, input, form")) {
      var row = document.querySelector(expander.getAttribute("data-expand"));
      if (row) { row.hidden = !row.hidden; expander.setAttribute("aria-expanded", String(!row.hidden)); }
      return;
    }
    if (t.closest("[data-sidebar-toggle]")) { document.body.classList.toggle("sidebar-open"); return; }
    if (t.closest("[data-sidebar-close]")) { document.body.classList.remove("sidebar-open"); return; }
    var asker = t.closest("a[data-confirm], button[data-confirm]");
    if (asker && !asker.dataset.confirmed) {
      ev.preventDefault();
      confirmDialog(asker.getAttribute("data-confirm")).then(function (yes) {
        if (!yes) return;
        asker.dataset.confirmed = "1";
        asker.click();
        delete asker.dataset.confirmed;
      });
    }
  });

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.matches("form[data-confirm]") || form.dataset.confirmed) return;
    ev.preventDefault();
    confirmDialog(form.getAttribute("data-confirm")).then(function (yes) {
      if (!yes) return;
      form.dataset.confirmed = "1";
      if (form.requestSubmit) form.requestSubmit(ev.submitter || undefined); else form.submit();
    });
  });

  document.addEventListener("change", function (ev) {
    var t = ev.target;
    var group = t.closest("[data-perm-group]");
    if (group) {
      if (t.matches("[data-check-all]")) {
        group.querySelectorAll('input[type=checkbox]:not([data-check-all])').forEach(function (b) { b.checked = t.checked; });
      }
      syncGroup(group);
    }
    if (t.name === "permissions" || t.matches("[data-check-all]")) refreshPreview();
  });

  // Close the user dropdown when clicking elsewhere.
  document.addEventListener("click", function (ev) {
    document.querySelectorAll("details.user-menu[open]").forEach(function (d) {
      if (!d.contains(ev.target)) d.removeAttribute("open");
    });
  });

  /* ---- sidebar: collapsible groups ----
     The active page's group is open (server-rendered) and its item scrolled into view; other
     groups open or closed as this browser last left them (localStorage); with no memory yet, a
     short menu starts fully open and a long one with only the active group open. */
  var MENU_KEY = "ckb.menu.open";
  function menuMemory() {
    try { return JSON.parse(window.localStorage.getItem(MENU_KEY) || "{}") || {}; } catch (e) { return {}; }
  }
  function initMenu() {
    var menu = document.querySelector("[data-menu]");
    if (!menu) return;
    var memory = menuMemory();
    var short = menu.querySelectorAll(".menu-item").length <= 16;
    menu.querySelectorAll("details[data-menu-group]").forEach(function (d) {
      var key = d.getAttribute("data-menu-group");
      if (d.hasAttribute("data-active-group")) d.open = true;
      else if (Object.prototype.hasOwnProperty.call(memory, key)) d.open = !!memory[key];
      else d.open = short;
    });
    menu.addEventListener("click", function (ev) {
      var summary = ev.target.closest("summary.menu-group-label");
      if (!summary) return;
      var d = summary.parentNode, state = menuMemory();
      state[d.getAttribute("data-menu-group")] = !d.open;  // the click is about to flip it
      try { window.localStorage.setItem(MENU_KEY, JSON.stringify(state)); } catch (e) { /* private mode */ }
    });
    var active = menu.querySelector(".menu-item.active");
    if (active) {
      var top = active.offsetTop, bottom = top + active.offsetHeight;
      if (top < menu.scrollTop || bottom > menu.scrollTop + menu.clientHeight) {
        menu.scrollTop = Math.max(0, top - menu.clientHeight / 2);
      }
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    initMenu();
    document.querySelectorAll("tbody[data-reorder-url]").forEach(function (tb) {
      enableReorder(tb, tb.getAttribute("data-reorder-url"));
    });
    document.querySelectorAll("[data-perm-group]").forEach(syncGroup);
    refreshPreview();
  });

  /* Building blocks the page editors share (策略条件, 标签规则, 客户高级筛选). */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "class") node.className = attrs[k];
      else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }
  function selectBox(options, value, attrs) {
    var s = el("select", attrs);
    options.forEach(function (o) {
      var opt = el("option", { value: o[0], text: o[1] });
      if (String(o[0]) === String(value)) opt.selected = true;
      s.appendChild(opt);
    });
    return s;
  }
  // One condition row back to its stored shape {lparen, field, op, value, rparen, join}; the value
  // widget is one input ("one"/"list") or two ("0"/"1" for 介于), or none (为空/不为空).
  function readConditionRow(tr) {
    function col(name) { var s = tr.querySelector('[data-col="' + name + '"]'); return s ? s.value : ""; }
    var value = null, one = tr.querySelector('[data-value="one"], [data-value="list"]');
    if (one) value = one.value;
    else if (tr.querySelector('[data-value="0"]')) value = [tr.querySelector('[data-value="0"]').value, tr.querySelector('[data-value="1"]').value];
    return { lparen: parseInt(col("lparen"), 10) || 0, field: col("field"), op: col("op"), value: value,
             rparen: parseInt(col("rparen"), 10) || 0, join: col("join") || "and" };
  }
  // The 晓售 condition row's fixed choices: brackets and 并且/或者.
  var CONDITION_CHOICES = {
    parens: [[0, "无"], [1, "("], [2, "(("], [3, "((("]],
    rparens: [[0, "无"], [1, ")"], [2, "))"], [3, ")))"]],
    joins: [["and", "并且"], ["or", "或者"]]
  };

  window.CKB = {
    csrfToken: csrfToken, fetch: ckbFetch, postJSON: postJSON, toast: toast, confirm: confirmDialog,
    openModal: openModal, closeModal: closeModal, jsonData: jsonData, enableReorder: enableReorder,
    el: el, select: selectBox, conditionChoices: CONDITION_CHOICES, readConditionRow: readConditionRow
  };
})();
