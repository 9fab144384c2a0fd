"""The fields of a lead: the standard ones every scene fills (姓名, 手机号, 邮箱 …) and the scene's
own fields declared by its mapping rules. They are the fields of the scene's event (lead.<key>),
so condition rows in tag rules, assignment rules and strategies are checked against them."""
from __future__ import annotations

import re

from events.models import FIELD_TYPES


def _f(name: str, type_: str, label: str, required: bool = False, remark: str = "") -> dict:
    return {"name": name, "type": type_, "label": label, "required": required, "remark": remark}


# Filled by mapping; `value` is the lead's worth in yuan (an order total, a payment, an estimate).
STANDARD_FIELDS: list[dict] = [
    _f("name", "text", "姓名"),
    _f("mobile", "text", "手机号"),
    _f("email", "text", "邮箱"),
    _f("wechat", "text", "微信号"),
    _f("company", "text", "公司"),
    _f("message", "text", "需求描述"),
    _f("region", "text", "地区"),
    _f("product", "text", "意向产品"),
    _f("intent", "text", "意向度"),
    _f("value", "number", "线索价值", remark="单位：元"),
    _f("source_url", "text", "来源URL"),
    _f("remark", "text", "备注"),
]
STANDARD_NAMES = frozenset(f["name"] for f in STANDARD_FIELDS)

# Always present in the event: who the lead is and where it came from.
ENVELOPE_FIELDS: list[dict] = [
    _f("lead_id", "number", "线索ID", True),
    _f("scene_id", "number", "场景ID", True),
    _f("scene_type", "text", "场景类型"),
    _f("channel_id", "number", "渠道ID"),
    _f("plan_id", "number", "获客计划ID"),
    _f("stage", "text", "阶段", remark="created 新线索 / updated 线索信息更新（如通话结束）"),
    _f("source", "text", "接入方式", remark="api / webhook / pull / file / payment / qr"),
]
ENVELOPE_NAMES = frozenset(f["name"] for f in ENVELOPE_FIELDS)
CUSTOM_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def custom_fields(mapping_rules: list) -> list[dict]:
    """The scene's own fields: mapping targets that are not standard fields (typed per rule)."""
    out, seen = [], set()
    for rule in mapping_rules or []:
        target = str(rule.get("target", "")).strip()
        if not target or target in STANDARD_NAMES or target in ENVELOPE_NAMES or target in seen:
            continue
        seen.add(target)
        type_ = rule.get("type") if rule.get("type") in FIELD_TYPES else "text"
        out.append(_f(target, type_, str(rule.get("label") or target)[:50]))
    return out


def lead_event_fields(scene) -> list[dict]:
    return ENVELOPE_FIELDS + STANDARD_FIELDS + custom_fields(scene.mapping_rules)


def field_labels(scene) -> dict[str, str]:
    return {f["name"]: f["label"] for f in lead_event_fields(scene)}
