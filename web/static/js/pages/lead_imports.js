/* 线索导入: the 获客计划 list offers only the chosen scene's plans. (Job progress polling of the
   [data-job-progress] boxes is the customer import's, from crm_customers.js, loaded alongside.) */
(function () {
  "use strict";

  function filterPlans(sceneSelect, planSelect) {
    var scene = sceneSelect.value;
    Array.prototype.forEach.call(planSelect.options, function (opt) {
      if (!opt.value) return;
      var mine = !scene || opt.dataset.scene === scene;
      opt.hidden = !mine;
      opt.disabled = !mine;
      if (!mine && opt.selected) planSelect.value = "";
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var scene = document.getElementById("f-scene_id");
    var plan = document.querySelector("[data-plan-select]");
    if (!scene || !plan) return;
    scene.addEventListener("change", function () { filterPlans(scene, plan); });
    filterPlans(scene, plan);
  });
})();
