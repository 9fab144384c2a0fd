// 触客宝: renders the open thread from JSON, pages back, sends (one client key per composed message,
// so a double click sends once), and applies live events from /chat/stream (SSE) — or, when the
// server has no stream slot left (429), from /chat/events polled every 0.8 s.
(function () {
  "use strict";
  var CKB = window.CKB;
  var root, thread, list, form, openId = 0, seq = 0, oldest = 0, readTimer = null;
  var shown = {};  // message id → <li>

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function newKey() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function body(m) {
    var p = m.payload || {};
    var box = el("div", "chat-bubble");
    if (m.msg_type === "link") {
      var a = el("a", "chat-card", p.title || p.url || m.text);
      if (/^https?:\/\//.test(p.url || "")) { a.href = p.url; a.target = "_blank"; a.rel = "noopener noreferrer"; }
      box.appendChild(a);
      if (p.description) box.appendChild(el("div", "chat-card-desc", p.description));
    } else if (m.msg_type === "text") {
      box.textContent = m.text;
    } else {
      box.textContent = "[" + (m.type_label || m.msg_type) + "] " + (m.text || p.title || p.file_name || "");
    }
    if (p.at_wxids && p.at_wxids.length) box.appendChild(el("div", "chat-card-desc", "@ " + p.at_wxids.length + " 位成员"));
    return box;
  }

  function paintStatus(li, m) {
    if (!li.classList.contains("chat-msg-out")) return;  // only our messages have a fate to show
    li.setAttribute("data-status", m.status || "");
    var s = li.querySelector("[data-msg-status]");
    if (s) s.textContent = (m.status_label || "") + (m.reason ? "：" + m.reason : "");
  }

  function render(m) {
    var li = el("li", "chat-msg chat-msg-" + (m.direction === "out" ? "out" : "in"));
    li.setAttribute("data-message-id", m.id);
    if (m.sender_name && (m.direction === "in" ? thread.getAttribute("data-kind") === "group" : true)) {
      li.appendChild(el("div", "chat-sender small muted", m.sender_name));
    }
    li.appendChild(body(m));
    var meta = el("div", "chat-meta small");
    meta.appendChild(el("span", "muted", m.time || ""));
    var st = el("span", "chat-status");
    st.setAttribute("data-msg-status", "");
    meta.appendChild(st);
    li.appendChild(meta);
    paintStatus(li, m);
    return li;
  }

  function add(m, prepend) {
    if (shown[m.id]) { paintStatus(shown[m.id], m); return; }
    var li = render(m);
    shown[m.id] = li;
    var box = thread.querySelector("[data-chat-messages]");
    if (prepend) box.insertBefore(li, box.firstChild);
    else {
      box.appendChild(li);
      thread.scrollTop = thread.scrollHeight;
    }
  }

  function markRead() {
    if (readTimer || !thread) return;
    readTimer = setTimeout(function () {
      readTimer = null;
      CKB.fetch(thread.getAttribute("data-read-url"), { method: "POST" }).then(function (r) {
        if (!r.ok || !list) return;
        var badge = list.querySelector('[data-conversation="' + openId + '"] [data-field="unread"]');
        if (badge) { badge.textContent = "0"; badge.classList.add("is-zero"); }
      });
    }, 300);
  }

  function loadPage(before) {
    var url = thread.getAttribute("data-messages-url") + (before ? "?before=" + before : "");
    return CKB.fetch(url, { headers: { Accept: "application/json" } }).then(function (r) { return r.json(); }).then(function (data) {
      var msgs = data.messages || [];
      if (before) {
        var box = thread.querySelector("[data-chat-messages]");
        var first = box.firstChild, height = thread.scrollHeight;
        for (var i = msgs.length - 1; i >= 0; i--) add(msgs[i], true);
        thread.scrollTop = thread.scrollHeight - height;
        void first;
      } else {
        msgs.forEach(function (m) { add(m, false); });
        thread.scrollTop = thread.scrollHeight;
      }
      if (msgs.length) oldest = msgs[0].id;
      thread.querySelector("[data-chat-older]").hidden = !data.more;
      return data;
    });
  }

  function updateList(c) {
    if (!list || !c) return;
    var li = list.querySelector('[data-conversation="' + c.id + '"]');
    if (!li) {
      li = el("li", "chat-conv");
      li.setAttribute("data-conversation", c.id);
      var a = el("a");
      a.href = root.getAttribute("data-list-url") + "?conversation=" + c.id;
      var top = el("span", "chat-conv-top");
      var t = el("span", "chat-conv-title", c.title); t.setAttribute("data-field", "title");
      var tm = el("span", "chat-conv-time muted small"); tm.setAttribute("data-field", "time");
      top.appendChild(t); top.appendChild(tm);
      var bottom = el("span", "chat-conv-bottom");
      var last = el("span", "chat-conv-last muted"); last.setAttribute("data-field", "last");
      var un = el("span", "chat-unread"); un.setAttribute("data-field", "unread");
      bottom.appendChild(last); bottom.appendChild(un);
      var meta = el("span", "chat-conv-meta small muted", c.account || "");
      a.appendChild(top); a.appendChild(bottom); a.appendChild(meta);
      li.appendChild(a);
      var empty = root.querySelector("[data-chat-empty]");
      if (empty) empty.remove();
    }
    li.querySelector('[data-field="time"]').textContent = c.time || "";
    li.querySelector('[data-field="last"]').textContent = (c.last_direction === "out" ? "我：" : "") + (c.last_message_text || "");
    var unread = c.id === openId ? 0 : c.unread_count;
    var badge = li.querySelector('[data-field="unread"]');
    badge.textContent = unread;
    badge.classList.toggle("is-zero", !unread);
    list.insertBefore(li, list.firstChild);
  }

  function apply(ev) {
    if (ev.type === "reset") { if (thread) { loadPage(0); } return; }
    var m = ev.message || {};
    if (ev.type === "message") {
      updateList(ev.conversation);
      if (m.conversation_id === openId) {
        add(m, false);
        if (m.direction === "in") markRead();
      }
    } else if (ev.type === "status" && shown[m.id]) {
      paintStatus(shown[m.id], m);
    }
  }

  function poll() {
    CKB.fetch(root.getAttribute("data-events-url") + "?after=" + seq, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) { seq = data.seq; (data.events || []).forEach(apply); })
      .catch(function () { /* the next poll retries */ })
      .then(function () { setTimeout(poll, 800); });
  }

  function listen() {
    if (!window.EventSource) { poll(); return; }
    var source = new EventSource(root.getAttribute("data-stream-url"));
    source.onmessage = function (e) {
      seq = parseInt(e.lastEventId, 10) || seq;
      apply(JSON.parse(e.data));
    };
    source.addEventListener("hello", function (e) { seq = parseInt(e.lastEventId, 10) || seq; root.setAttribute("data-live", "stream"); });
    source.onerror = function () {
      if (source.readyState === 2) {  // refused (429: no stream slot) — poll instead
        root.setAttribute("data-live", "poll");
        poll();
      }
    };
  }

  function applyKind() {
    var kind = form.querySelector("[data-chat-kind]").value;
    form.querySelectorAll("[data-kinds]").forEach(function (node) {
      node.hidden = node.getAttribute("data-kinds").split(" ").indexOf(kind) < 0;
    });
  }

  function showError(message) {
    var box = form.querySelector("[data-chat-error]");
    box.textContent = message || "";
    box.hidden = !message;
  }

  function send(ev) {
    ev.preventDefault();
    var button = form.querySelector("[data-chat-send]");
    if (button.disabled) return;
    if (!form.dataset.key) form.dataset.key = newKey();
    var data = { client_key: form.dataset.key };
    new FormData(form).forEach(function (value, name) {
      if (name === "csrf_token") return;
      if (name === "at_wxids") { (data.at_wxids = data.at_wxids || []).push(value); return; }
      data[name] = value;
    });
    button.disabled = true;
    showError("");
    CKB.fetch(form.action, { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
                             body: JSON.stringify(data) })
      .then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
      .then(function (res) {
        if (!res.ok) { showError(res.body.message || "发送失败"); return; }
        add(res.body.message, false);
        form.reset();
        applyKind();
        delete form.dataset.key;  // the next message gets its own key
      })
      .catch(function () { showError("网络异常，消息可能未发出：请稍后重试（重试不会重复发送）"); })
      .then(function () { button.disabled = false; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    root = document.querySelector("[data-chat]");
    if (!root) return;
    list = root.querySelector("[data-chat-list]");
    thread = root.querySelector("[data-chat-thread]");
    form = root.querySelector("[data-chat-compose]");
    if (thread) {
      openId = parseInt(thread.getAttribute("data-conversation-id"), 10);
      loadPage(0).then(markRead);
      thread.querySelector("[data-chat-older]").addEventListener("click", function () { loadPage(oldest); });
    }
    if (form) {
      applyKind();
      form.addEventListener("change", function (e) { if (e.target.matches("[data-chat-kind]")) applyKind(); });
      form.addEventListener("input", function () { if (!form.dataset.key) form.dataset.key = newKey(); });
      form.addEventListener("submit", send);
      var text = form.querySelector("textarea[name=text]");
      text.addEventListener("keydown", function (e) {
        if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
      });
    }
    root.querySelectorAll("[data-autosubmit]").forEach(function (input) {
      input.addEventListener("change", function () { input.form.requestSubmit(); });
    });
    listen();
  });
})();
