/* 组织管理 / 脱敏管理: "全选" boxes for the add-people dialog and the masking table. */
(function () {
  "use strict";
  document.querySelectorAll("[data-org-check-all]").forEach(function (box) {
    box.addEventListener("change", function () {
      var form = box.closest("form");
      form.querySelectorAll('input[name="' + box.getAttribute("data-org-check-all") + '"]').forEach(function (b) {
        b.checked = box.checked;
      });
    });
  });
  var bulk = document.getElementById("mask-bulk");
  if (bulk) {
    bulk.addEventListener("submit", function (ev) {
      if (!document.querySelector("[data-org-pick]:checked")) {
        ev.preventDefault();
        if (window.CKB) window.CKB.toast("请先勾选要设置的用户", "error");
      }
    });
  }
})();
