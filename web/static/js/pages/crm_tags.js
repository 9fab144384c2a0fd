/* 标签管理: follows an 自动打标签 job's progress (polls its JSON until done/failed) and submits
   the filter form when 包含下级 is ticked. */
(function () {
  "use strict";
  var CKB = window.CKB;
  var STATUS = { queued: "排队中", running: "执行中", done: "已完成", failed: "失败" };

  function paint(box, job) {
    var bar = box.querySelector("[data-job-bar]");
    bar.style.width = (job.percent || 0) + "%";
    box.querySelector("[data-job-status]").textContent = STATUS[job.status] || job.status;
    box.querySelector("[data-job-text]").textContent = job.message || ("已完成 " + job.done + " / " + job.total + " 个标签");
    box.dataset.status = job.status;
  }

  function follow(box) {
    var url = box.getAttribute("data-tag-job");
    var bar = box.querySelector("[data-job-bar]");
    bar.style.width = (bar.getAttribute("data-percent") || 0) + "%";
    function tick() {
      CKB.fetch(url).then(function (r) { return r.json(); }).then(function (body) {
        paint(box, body.job);
        if (body.job.status === "done" || body.job.status === "failed") {
          if (body.job.status === "done") CKB.toast("自动打标签已完成", "success");
          return;
        }
        setTimeout(tick, 1000);
      }).catch(function () { setTimeout(tick, 3000); });
    }
    tick();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.querySelector("[data-tag-job]");
    if (box) follow(box);
    document.querySelectorAll("[data-autosubmit]").forEach(function (input) {
      input.addEventListener("change", function () { input.form.submit(); });
    });
  });
})();
