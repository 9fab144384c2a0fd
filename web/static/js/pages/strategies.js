/* 自动化策略管理 list: disabling asks first, saying how many pending delayed tasks it cancels;
   "导出所选" downloads a bundle of the ticked strategies. */
(function () {
  "use strict";

  function idsOf(form) {
    var ids = [];
    form.querySelectorAll('input[type=hidden][name="ids"]').forEach(function (i) { ids.push(i.value); });
    if (form.id) {
      document.querySelectorAll('input[type=checkbox][name="ids"][form="' + form.id + '"]:checked')
        .forEach(function (b) { ids.push(b.value); });
    }
    return ids;
  }

  document.addEventListener("click", function (ev) {
    var button = ev.target.closest("button[data-pending-confirm]");
    if (button && !button.dataset.confirmed) {
      var form = button.closest("form");
      var ids = idsOf(form);
      if (!ids.length) return;  // the bulk guard in console.js answers this case
      ev.preventDefault();
      window.CKB.postJSON(form.getAttribute("data-pending-url"), { ids: ids })
        .then(function (body) {
          var n = body.pending || 0;
          var message = "确定禁用所选的 " + ids.length + " 条策略吗？禁用后事件不再触发它们。" +
            (n ? "将同时取消 " + n + " 个待执行的延迟任务。" : "目前没有待执行的延迟任务。");
          return window.CKB.confirm(message);
        })
        .then(function (yes) {
          if (!yes) return;
          button.dataset.confirmed = "1";
          button.click();
          delete button.dataset.confirmed;
        })
        .catch(function (err) { window.CKB.toast(err.message, "error"); });
      return;
    }
    var exporter = ev.target.closest("[data-export-selected]");
    if (exporter) {
      var ticked = Array.prototype.map.call(
        document.querySelectorAll('input[type=checkbox][name="ids"]:checked'), function (b) { return b.value; });
      if (!ticked.length) { window.CKB.toast("请先勾选要导出的策略", "warning"); return; }
      window.location.href = exporter.getAttribute("data-export-selected") + "?ids=" + ticked.join(",");
    }
  });
})();
