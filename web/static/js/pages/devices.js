// 设备管理, 微信号管理, 内容库: filters submit when a select changes (data-autosubmit); the content
// form shows only the fields its kind uses (data-kinds="a b").
(function () {
  "use strict";
  function applyKind(form) {
    var select = form.querySelector("[data-content-kind]");
    if (!select) return;
    form.querySelectorAll("[data-kinds]").forEach(function (el) {
      el.hidden = el.getAttribute("data-kinds").split(" ").indexOf(select.value) < 0;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-autosubmit]").forEach(function (input) {
      input.addEventListener("change", function () {
        if (input.form) input.form.requestSubmit ? input.form.requestSubmit() : input.form.submit();
      });
    });
    document.querySelectorAll("[data-content-form]").forEach(function (form) {
      applyKind(form);
      form.addEventListener("change", function (event) {
        if (event.target.matches("[data-content-kind]")) applyKind(form);
      });
    });
  });
})();
