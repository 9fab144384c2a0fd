/* 销售管理 pages: 任务中心 drag-and-drop (POST the new column and position, then move the card),
   the template editor's 预览 and e-mail-only subject, and the marketing form's 间隔天数 toggle.
   Uses window.CKB from app.js (postJSON, toast). */
(function () {
  "use strict";

  function cardIndex(container, y) {
    var cards = Array.prototype.filter.call(container.querySelectorAll("[data-task-card]"), function (c) {
      return !c.classList.contains("dragging");
    });
    for (var i = 0; i < cards.length; i++) {
      var box = cards[i].getBoundingClientRect();
      if (y < box.top + box.height / 2) return { index: i, before: cards[i] };
    }
    return { index: cards.length, before: null };
  }

  function initBoard(board) {
    var kind = board.getAttribute("data-kind");
    var urlTemplate = board.getAttribute("data-move-url");
    var dragged = null;
    board.addEventListener("dragstart", function (e) {
      var card = e.target.closest && e.target.closest("[data-task-card]");
      if (!card) return;
      dragged = card;
      card.classList.add("dragging");
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", card.getAttribute("data-id"));
    });
    board.addEventListener("dragend", function () {
      if (dragged) dragged.classList.remove("dragging");
      board.querySelectorAll(".drop-target").forEach(function (c) { c.classList.remove("drop-target"); });
      dragged = null;
    });
    board.querySelectorAll("[data-column]").forEach(function (column) {
      if (column.getAttribute("data-droppable") !== "true") return;
      column.addEventListener("dragover", function (e) {
        if (!dragged) return;
        e.preventDefault();
        column.classList.add("drop-target");
      });
      column.addEventListener("dragleave", function (e) {
        if (!column.contains(e.relatedTarget)) column.classList.remove("drop-target");
      });
      column.addEventListener("drop", function (e) {
        e.preventDefault();
        column.classList.remove("drop-target");
        if (!dragged) return;
        var card = dragged;
        var cards = column.querySelector("[data-column-cards]");
        var spot = cardIndex(cards, e.clientY);
        var id = card.getAttribute("data-id");
        var url = urlTemplate.replace(/\/0\/move$/, "/" + id + "/move");
        window.CKB.postJSON(url, { kind: kind, column: column.getAttribute("data-column"), position: spot.index })
          .then(function () {
            cards.insertBefore(card, spot.before);
            window.CKB.toast("已移动任务", "success");
          })
          .catch(function (err) { window.CKB.toast(err.message, "error"); });
      });
    });
  }

  function initTemplateForm(form) {
    var channel = form.querySelector("[data-channel-select]");
    var subject = form.querySelector("[data-email-only]");
    function sync() { if (subject && channel) subject.classList.toggle("is-hidden", channel.value !== "email"); }
    if (channel) { channel.addEventListener("change", sync); sync(); }
    var button = form.querySelector("[data-template-preview]");
    var out = form.querySelector("[data-preview-output]");
    if (!button || !out) return;
    button.addEventListener("click", function () {
      var data = {
        channel: channel ? channel.value : "sms",
        subject: (form.querySelector("[name=subject]") || {}).value || "",
        body: (form.querySelector("[name=body]") || {}).value || "",
        event_code: (form.querySelector("[name=event_code]") || {}).value || ""
      };
      window.CKB.postJSON(form.getAttribute("data-preview-url"), data).then(function (res) {
        out.hidden = false;
        out.querySelector("[data-preview-customer]").textContent =
          "预览客户：" + (res.customer.name || "示例客户") + (res.customer.id ? "（编号 " + res.customer.id + "）" : "");
        out.querySelector("[data-preview-subject]").textContent = res.subject || "";
        out.querySelector("[data-preview-body]").textContent = res.body;
      }).catch(function (err) { window.CKB.toast(err.message, "error"); });
    });
  }

  function initMarketingForm(form) {
    var schedule = form.querySelector("[data-schedule-select]");
    var every = form.querySelector("[data-every-days]");
    function sync() { if (every && schedule) every.classList.toggle("is-hidden", schedule.value !== "every_n_days"); }
    if (schedule) { schedule.addEventListener("change", sync); sync(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-task-board]").forEach(initBoard);
    document.querySelectorAll("[data-template-form]").forEach(initTemplateForm);
    document.querySelectorAll("[data-marketing-form]").forEach(initMarketingForm);
  });
})();
