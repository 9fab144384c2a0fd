/* 任务调度 pages (no inline scripts: CSP).

   input[data-schedule-preview="url"]  while typing, asks url?schedule=… for the next five runs and
                                       fills the list whose id is data-preview-target
   select[data-reload-on-change]       re-renders the form for the new choice ([data-reload-button])
   [data-job-live]                     a 立即执行 is queued or running: the page reloads until it ends */
(function () {
  "use strict";

  function showRuns(list, body) {
    list.innerHTML = "";
    var items = body.ok ? body.runs : [body.error || "执行时间无效"];
    items.forEach(function (text) {
      var li = document.createElement("li");
      li.textContent = text;
      if (!body.ok) li.className = "error-text";
      list.appendChild(li);
    });
  }

  document.querySelectorAll("input[data-schedule-preview]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("data-preview-target"));
    var timer = null, asked = 0;
    if (!list) return;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var mine = ++asked;
        var url = input.getAttribute("data-schedule-preview") + "?schedule=" + encodeURIComponent(input.value);
        fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (r) { return r.json(); })
          .then(function (body) { if (mine === asked) showRuns(list, body); })
          .catch(function () { /* offline: the saved form still validates on the server */ });
      }, 250);
    });
  });

  document.querySelectorAll("select[data-reload-on-change]").forEach(function (select) {
    select.addEventListener("change", function () {
      var button = select.form && select.form.querySelector("[data-reload-button]");
      if (button) button.click();
    });
  });

  if (document.querySelector("[data-job-live]")) {
    setTimeout(function () { window.location.reload(); }, 2000);
  }
})();
