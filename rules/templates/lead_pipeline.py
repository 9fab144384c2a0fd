"""线索处理 template: the default strategy of every 获客场景 — on lead.<scene key>: 识别客户 →
自动打标签 → 分配 → 自动回复. It is an ordinary strategy afterwards: operators reorder, delay or
add steps (a device welcome, an HTTP call to their own system) in 自动化策略管理.

Not a 工作台 feature (it is created with its scene, not from the workbench), so it is not in
TEMPLATES; it shares the spec/step builders."""
from __future__ import annotations

from rules.templates.base import spec, step

GROUP_NAME = "场景获客"
PIPELINE_STEPS = ("lead.identify", "lead.tag", "lead.assign", "lead.respond")
# Scenes whose leads are sales (付款码, 订单获客) also turn each into an order, after 分配 so the
# order is credited to the customer's owner.
ORDER_SCENE_TYPES = ("PAYMENT_CODE", "ORDER_SYNC")


def pipeline_spec(scene_name: str, event_code: str, scene_type: str = "") -> dict:
    keys = list(PIPELINE_STEPS)
    if scene_type in ORDER_SCENE_TYPES:
        keys.insert(keys.index("lead.assign") + 1, "lead.order")
    return spec(f"线索处理·{scene_name}", event_code, [], [step(key, {}) for key in keys])
