/* 快捷回复库 and 消息群发 pages: the 群发 form shows the panel of the chosen target mode and content
   type, and 预估人数 POSTs the form to data-preview-url for the number of friends reached.
   Uses window.CKB (fetch, toast). */
(function () {
  "use strict";

  function toggle(form, attr, value) {
    form.querySelectorAll("[" + attr + "]").forEach(function (panel) {
      panel.hidden = panel.getAttribute(attr).split(" ").indexOf(value) < 0;
    });
  }

  function initBroadcastForm(form) {
    function mode() {
      var checked = form.querySelector("[data-mode-radio]:checked");
      return checked ? checked.value : "tags";
    }
    form.querySelectorAll("[data-mode-radio]").forEach(function (radio) {
      radio.addEventListener("change", function () { toggle(form, "data-mode-panel", mode()); });
    });
    var type = form.querySelector("[data-type-select]");
    if (type) type.addEventListener("change", function () { toggle(form, "data-type-panel", type.value); });
    var button = form.querySelector("[data-broadcast-preview]");
    var out = form.querySelector("[data-broadcast-count]");
    if (!button || !out) return;
    button.addEventListener("click", function () {
      out.textContent = "计算中…";
      window.CKB.fetch(form.getAttribute("data-preview-url"), { method: "POST", body: new FormData(form) })
        .then(function (resp) {
          return resp.json().then(function (body) {
            if (!resp.ok) throw new Error((body.error && body.error.message) || "预估失败");
            return body;
          });
        })
        .then(function (body) { out.textContent = "预计发送给 " + body.count + " 位好友（" + body.accounts + " 个微信号）"; })
        .catch(function (err) { out.textContent = err.message; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-broadcast-form]").forEach(initBroadcastForm);
  });
})();
