// 企业微信侧边栏: find the current external contact (JS-SDK getCurExternalContact when Tencent's
// script is present, else ?external_userid= or window.ckbSidebar.show(id)), then show our portrait
// from GET /api/crm/customers/<id> and the quick replies (GET /wecom/sidebar/quick-replies).
(function () {
  "use strict";
  var root = document.getElementById("wecom-sidebar");
  if (!root) { return; }
  var $ = function (id) { return document.getElementById(id); };
  var currentCustomerId = null;

  function status(text) { $("ws-status").textContent = text; $("ws-status").hidden = !text; }
  function yuan(fen) { return "¥" + (Number(fen || 0) / 100).toFixed(2); }
  function day(iso) { return iso ? iso.slice(0, 10) : ""; }
  function li(text, meta) {
    var item = document.createElement("li");
    item.textContent = text;
    if (meta) { var m = document.createElement("div"); m.className = "ws-meta"; m.textContent = meta; item.appendChild(m); }
    return item;
  }
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) { return { ok: r.ok, status: r.status, body: body }; });
    });
  }

  function render(data) {
    var c = data.customer;
    currentCustomerId = c.id;
    $("ws-name").textContent = c.name || "（未命名客户）";
    $("ws-koc").hidden = !data.koc;
    $("ws-level").hidden = !data.level;
    $("ws-level").textContent = data.level ? String(data.level) : "";
    $("ws-spend").textContent = yuan(data.spend.total_fen);
    $("ws-orders-count").textContent = String(data.spend.order_count);
    $("ws-owner").textContent = data.owner ? data.owner.name : "未分配";
    $("ws-mobile").textContent = c.mobile || "—";
    var tags = $("ws-tags");
    tags.replaceChildren();
    data.tags.forEach(function (t) {
      var span = document.createElement("span"); span.className = "ws-tag"; span.textContent = t.name; tags.appendChild(span);
    });
    var orders = $("ws-orders");
    orders.replaceChildren();
    data.recent_orders.forEach(function (o) { orders.appendChild(li(o.order_no + " · " + yuan(o.total_fen), o.status_label + " · " + day(o.created_at))); });
    $("ws-orders-card").hidden = !data.recent_orders.length;
    var follows = $("ws-follows");
    follows.replaceChildren();
    data.follow_ups.forEach(function (f) { follows.appendChild(li(f.content, (f.user || "") + " · " + day(f.at))); });
    $("ws-follow-card").hidden = !data.follow_ups.length;
    $("ws-portrait").hidden = false;
    status("");
    loadReplies("");
  }

  function show(wxId) {
    if (!wxId) { status("未取得当前聊天的客户"); return Promise.resolve(); }
    status("正在加载客户画像…");
    return getJSON("/api/crm/customers/" + encodeURIComponent(wxId)).then(function (res) {
      if (res.ok) { render(res.body); return; }
      $("ws-portrait").hidden = true;
      status((res.body.error && res.body.error.message) || ("加载失败（" + res.status + "）"));
    }).catch(function () { status("网络错误，请稍后重试"); });
  }

  function sendReply(text) {
    if (window.wx && window.wx.invoke) {
      window.wx.invoke("sendChatMessage", { msgtype: "text", text: { content: text } }, function () {});
      return;
    }
    if (navigator.clipboard) { navigator.clipboard.writeText(text).catch(function () {}); }
    $("ws-replies-hint").textContent = "已复制到剪贴板";
  }

  function loadReplies(q) {
    var url = "/wecom/sidebar/quick-replies?q=" + encodeURIComponent(q) + (currentCustomerId ? "&customer_id=" + currentCustomerId : "");
    getJSON(url).then(function (res) {
      var list = $("ws-replies");
      list.replaceChildren();
      if (!res.ok) { $("ws-replies-hint").textContent = "快捷回复库未启用或无权使用"; return; }
      var items = res.body.items || [];
      items.forEach(function (r) {
        var item = document.createElement("li"), button = document.createElement("button");
        button.type = "button";
        button.textContent = r.rendered || r.text || r.content || "";
        button.title = r.title || "";
        button.addEventListener("click", function () { sendReply(button.textContent); });
        item.appendChild(button); list.appendChild(item);
      });
      $("ws-replies-hint").textContent = items.length ? "点击发送到当前聊天" : "没有匹配的话术";
    }).catch(function () { $("ws-replies-hint").textContent = "快捷回复加载失败"; });
  }

  var timer = null;
  $("ws-reply-q").addEventListener("input", function (e) {
    clearTimeout(timer);
    timer = setTimeout(function () { loadReplies(e.target.value); }, 250);
  });

  function viaJssdk() {
    var url = root.dataset.jssdkUrl + "?url=" + encodeURIComponent(location.href.split("#")[0]);
    getJSON(url).then(function (res) {
      if (!res.ok) { status((res.body.error && res.body.error.message) || "JS-SDK 配置失败"); return; }
      var cfg = res.body, wx = window.wx;
      wx.config({ beta: true, debug: false, appId: cfg.corpid, timestamp: cfg.timestamp, nonceStr: cfg.nonceStr,
                  signature: cfg.signature, jsApiList: cfg.jsApiList });
      wx.ready(function () {
        wx.agentConfig({ corpid: cfg.corpid, agentid: cfg.agentid, timestamp: cfg.timestamp, nonceStr: cfg.nonceStr,
                         signature: cfg.agentSignature, jsApiList: cfg.jsApiList,
                         success: function () {
                           wx.invoke("getCurExternalContact", {}, function (r) {
                             if (r.err_msg === "getCurExternalContact:ok") { show(r.userId); } else { status("请在与客户的聊天中打开"); }
                           });
                         },
                         fail: function (r) { status("企业微信授权失败：" + (r && r.errMsg || "")); } });
      });
      wx.error(function (r) { status("JS-SDK 校验失败：" + (r && r.errMsg || "")); });
    });
  }

  window.ckbSidebar = { show: show, loadReplies: loadReplies };
  var given = root.dataset.externalUserid;
  if (given) { show(given); }
  else if (root.dataset.jssdk === "1" && window.wx) { viaJssdk(); }
  else { status("未检测到企业微信环境：请从企业微信聊天工具栏打开"); }
})();
