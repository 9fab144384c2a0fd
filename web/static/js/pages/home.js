/* 工作台: the 选择模块 / 默认工作台 picker. Rows of ol[data-panel-picker] move with their ↑/↓
   buttons or by dragging; the checkboxes are named "panels", so the form posts the ticked keys in
   the rows' order and the server stores exactly that order. */
(function () {
  "use strict";
  function move(li, dir) {
    if (dir === "up" && li.previousElementSibling) { li.parentNode.insertBefore(li, li.previousElementSibling); }
    if (dir === "down" && li.nextElementSibling) { li.parentNode.insertBefore(li.nextElementSibling, li); }
  }
  function setup(list) {
    var dragged = null;
    list.addEventListener("click", function (ev) {
      var btn = ev.target.closest("[data-move]");
      if (!btn) { return; }
      ev.preventDefault();
      move(btn.closest("li"), btn.getAttribute("data-move"));
      btn.focus();
    });
    list.addEventListener("dragstart", function (ev) {
      dragged = ev.target.closest("li");
      if (!dragged) { return; }
      dragged.classList.add("dragging");
      ev.dataTransfer.effectAllowed = "move";
      ev.dataTransfer.setData("text/plain", dragged.getAttribute("data-key"));
    });
    list.addEventListener("dragover", function (ev) {
      var over = ev.target.closest("li");
      if (!dragged || !over || over === dragged) { return; }
      ev.preventDefault();
      var box = over.getBoundingClientRect();
      var after = ev.clientY > box.top + box.height / 2;
      list.insertBefore(dragged, after ? over.nextElementSibling : over);
    });
    list.addEventListener("dragend", function () {
      if (dragged) { dragged.classList.remove("dragging"); }
      dragged = null;
    });
  }
  function start() { document.querySelectorAll("ol[data-panel-picker]").forEach(setup); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
