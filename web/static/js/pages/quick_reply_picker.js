/* 快捷回复 picker inside a chat compose form (form[data-chat-compose][data-conversation-id]):
   typing in [data-quick-reply-search] asks GET data-pick-url?q=&conversation_id= for replies
   rendered for that conversation's customer; choosing one (click, or Enter on the first) puts its
   text into the form's textarea[name=text] and POSTs the use to data-used-url (发送次数).
   Uses window.CKB (fetch, postJSON, toast). */
(function () {
  "use strict";

  function debounce(fn, ms) {
    var t = null;
    return function () {
      var args = arguments;
      clearTimeout(t);
      t = setTimeout(function () { fn.apply(null, args); }, ms);
    };
  }

  function init(picker) {
    if (picker.getAttribute("data-ready")) return;
    picker.setAttribute("data-ready", "1");
    var form = picker.closest("form[data-chat-compose]");
    var input = picker.querySelector("[data-quick-reply-search]");
    var list = picker.querySelector("[data-quick-reply-results]");
    var items = [];
    var seq = 0;

    function conversationId() {
      return form ? form.getAttribute("data-conversation-id") : "";
    }

    function choose(item) {
      var box = form ? form.querySelector("textarea[name=text]") : null;
      if (!box) return;
      box.value = item.text;
      box.dispatchEvent(new Event("input", { bubbles: true }));
      box.focus();
      list.hidden = true;
      input.value = "";
      var url = picker.getAttribute("data-used-url").replace(/\/0\/used$/, "/" + item.id + "/used");
      window.CKB.postJSON(url, { conversation_id: conversationId() }).catch(function (err) {
        window.CKB.toast(err.message, "error");
      });
    }

    function render() {
      list.textContent = "";
      items.forEach(function (item) {
        var li = document.createElement("li");
        li.setAttribute("role", "option");
        li.className = "qr-picker-item";
        li.setAttribute("data-reply-id", item.id);
        var title = document.createElement("strong");
        title.textContent = item.title + (item.category ? " · " + item.category : "");
        var text = document.createElement("span");
        text.className = "qr-picker-text";
        text.textContent = item.text;
        li.appendChild(title);
        li.appendChild(text);
        li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(item); });
        list.appendChild(li);
      });
      if (!items.length) {
        var empty = document.createElement("li");
        empty.className = "qr-picker-empty";
        empty.textContent = "没有匹配的快捷回复";
        list.appendChild(empty);
      }
      list.hidden = false;
    }

    var search = debounce(function () {
      var mine = ++seq;
      var url = picker.getAttribute("data-pick-url") + "?q=" + encodeURIComponent(input.value.trim()) +
        "&conversation_id=" + encodeURIComponent(conversationId());
      window.CKB.fetch(url).then(function (resp) {
        return resp.json().then(function (body) {
          if (!resp.ok) throw new Error((body.error && body.error.message) || "查询失败");
          return body;
        });
      }).then(function (body) {
        if (mine !== seq) return;  // an older answer arriving late
        items = body.items || [];
        render();
      }).catch(function (err) { window.CKB.toast(err.message, "error"); });
    }, 200);

    input.addEventListener("input", search);
    input.addEventListener("focus", search);
    input.addEventListener("blur", function () { setTimeout(function () { list.hidden = true; }, 150); });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter") {
        e.preventDefault();
        if (items.length && !list.hidden) choose(items[0]);
      } else if (e.key === "Escape") {
        list.hidden = true;
      }
    });
  }

  function initAll() {
    document.querySelectorAll("[data-quick-reply-picker]").forEach(init);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initAll);
  else initAll();
  // the chat page may swap its compose form when another conversation opens
  new MutationObserver(initAll).observe(document.documentElement, { childList: true, subtree: true });
})();
