/* Charts on console pages (ECharts, vendored in static/vendor/echarts). A page renders
     {% import "macros.html" as ui %} … {{ ui.chart("trend", option) }} … {% block head %}{{ ui.chart_scripts() }}{% endblock %}
   and the option (built in Python, plain JSON) sits in a <script type="application/json"> next to the
   chart's <div>, so no inline JavaScript is needed under the CSP. Tooltips use ECharts' richText mode
   because its HTML tooltips carry style="…" attributes, which the CSP forbids.
   A data item with a `link` ({"value": 12, "link": "/customers?…"}) opens that page when clicked:
   every number is a door. The div gets data-chart-ready="1" once drawn (tests wait for it). */
(function () {
  "use strict";
  function draw(el) {
    var source = document.getElementById(el.getAttribute("data-chart"));
    if (!source || !window.echarts) { return; }
    var option = JSON.parse(source.textContent || "{}");
    option.tooltip = Object.assign({ trigger: "item", renderMode: "richText" }, option.tooltip || {});
    option.tooltip.renderMode = "richText";
    if (option.animation === undefined) { option.animation = false; }
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option);
    chart.on("click", function (params) {
      var data = params && params.data;
      if (data && typeof data === "object" && typeof data.link === "string" && data.link.charAt(0) === "/") {
        window.location.href = data.link;
      }
    });
    window.addEventListener("resize", function () { chart.resize(); });
    el.setAttribute("data-chart-ready", "1");
  }
  function start() { document.querySelectorAll("[data-chart]").forEach(draw); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
