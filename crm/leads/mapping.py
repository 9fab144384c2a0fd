"""数据映射: turning what a platform or form sent into the standard lead fields.

A scene's mapping rules say where each field comes from ("submission_data.tel" → 手机号,
"order.items.*.title" → 意向产品 joined) and how to transform it. Standard fields a rule does not
cover are still found under their usual names (phone/tel/手机号 → mobile …), so a plain form
needs no rules at all. Then every lead is cleaned the same way: mobiles as 11 digits, e-mails
lower-case, and obvious junk (test names, 11111111111-style numbers, script injection, no way
to contact the person) refused with a reason naming the field.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any

from crm.customers.normalize import BadContact, normalize_email, normalize_mobile
from crm.leads.fields import STANDARD_FIELDS, STANDARD_NAMES, custom_fields
from events.field_types import normalise

TRANSFORMS = {
    "": "原样",
    "trim": "去除首尾空格",
    "lower": "转小写",
    "upper": "转大写",
    "phone": "规范手机号",
    "email": "规范邮箱",
    "number": "转数值",
    "fen_to_yuan": "分转元",
    "join": "列表用顿号连接",
    "first": "取列表第一项",
}
# Usual names of the standard fields in forms, platforms and spreadsheets.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("name", "姓名", "username", "user_name", "buyer_name", "customer_name", "nickname", "contact"),
    "mobile": ("mobile", "phone", "tel", "telephone", "手机号", "手机", "电话", "buyer_phone", "caller", "phone_number"),
    "email": ("email", "邮箱", "mail", "e_mail"),
    "wechat": ("wechat", "微信", "微信号", "wechat_id", "wx"),
    "company": ("company", "公司", "company_name", "企业"),
    "message": ("message", "需求", "留言", "content", "comment", "remark_text", "描述", "summary"),
    "region": ("region", "地区", "city", "城市", "province", "省份", "area"),
    "product": ("product", "产品", "意向产品", "product_name"),
    "intent": ("intent", "意向", "意向度", "intention"),
    "value": ("value", "价值", "amount", "total_amount", "金额"),
    "source_url": ("source_url", "submission_url", "url", "page_url"),
    "remark": ("remark", "备注", "note"),
}
MAX_TEXT = 2000
JUNK_NAMES = frozenset({"test", "testing", "测试", "asdf", "qwer", "qwerty", "xxx", "null", "none", "undefined", "aaa", "abc"})
INJECTION = re.compile(r"<\s*script|javascript\s*:|<\s*iframe|onerror\s*=", re.IGNORECASE)
_MISSING = object()


def pick(raw: Any, path: str) -> Any:
    """'a.b.0.c' walks dicts and list indexes; '*' maps the rest of the path over a list."""
    parts = [p for p in str(path).split(".") if p != ""]
    return _walk(raw, parts)


def _walk(node: Any, parts: list[str]) -> Any:
    for i, part in enumerate(parts):
        if part == "*":
            if not isinstance(node, list):
                return _MISSING
            values = [_walk(item, parts[i + 1:]) for item in node]
            return [v for v in values if v is not _MISSING]
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


def _transform(value: Any, how: str) -> Any:
    if how in ("join", "first") or isinstance(value, list):
        items = value if isinstance(value, list) else [value]
        if how == "first":
            return items[0] if items else None
        return "、".join(str(v) for v in items if v not in (None, ""))
    if value is None:
        return None
    if how == "trim":
        return str(value).strip()
    if how == "lower":
        return str(value).strip().lower()
    if how == "upper":
        return str(value).strip().upper()
    if how == "fen_to_yuan":
        try:
            return round(float(value) / 100, 2)
        except (TypeError, ValueError):
            return value  # left for the type check to name
    if how == "number":
        try:
            return float(unicodedata.normalize("NFKC", str(value)).replace(",", ""))
        except ValueError:
            return value
    return value


def _body(raw: dict) -> dict:
    """Where a plain form's fields are: the guide's submission_data, else the payload itself."""
    inner = raw.get("submission_data")
    return inner if isinstance(inner, dict) else raw


def apply_rules(mapping_rules: list, raw: dict) -> tuple[dict, list[dict]]:
    data: dict[str, Any] = {}
    errors: list[dict] = []
    for rule in mapping_rules or []:
        target = str(rule.get("target", "")).strip()
        value = pick(raw, str(rule.get("source", "")))
        if value is _MISSING or value in (None, "", []):
            value = rule.get("default")
        if value in (None, "", []):
            if rule.get("required"):
                errors.append({"field": target, "message": f"缺少必填字段「{rule.get('label') or target}」（来源 {rule.get('source')}）"})
            continue
        data[target] = _transform(value, str(rule.get("transform") or ""))
    body = _body(raw)
    for name in STANDARD_NAMES - set(data):
        for alias in SYNONYMS.get(name, ()):
            value = body.get(alias)
            if isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value)):
                continue  # a nested object under a usual name ("content": {...}) is not the field
            if value not in (None, "", []):
                data[name] = _transform(value, "join") if isinstance(value, list) else value
                break
    return data, errors


def _clean_contacts(data: dict, errors: list[dict]) -> None:
    for name, normalize, label in (("mobile", normalize_mobile, "手机号"), ("email", normalize_email, "邮箱")):
        if data.get(name) in (None, ""):
            data.pop(name, None)
            continue
        try:
            data[name] = normalize(data[name])
        except BadContact as exc:
            errors.append({"field": name, "message": str(exc)})
            data.pop(name, None)
    mobile = data.get("mobile")
    if mobile and len(set(mobile[3:])) == 1:
        errors.append({"field": "mobile", "message": f"手机号「{mobile}」疑似无效（后 8 位为同一数字）"})


_LABELS = {f["name"]: f["label"] for f in STANDARD_FIELDS}


def _junk(data: dict, errors: list[dict], require_contact: bool) -> None:
    for key, value in data.items():
        if isinstance(value, str):
            if len(value) > MAX_TEXT:
                errors.append({"field": key, "message": f"「{_LABELS.get(key, key)}」最多 {MAX_TEXT} 个字符"})
            elif INJECTION.search(value):
                errors.append({"field": key, "message": f"「{_LABELS.get(key, key)}」含有疑似恶意脚本内容"})
    name = str(data.get("name") or "").strip()
    if name and (name.lower() in JUNK_NAMES or (len(name) >= 4 and len(set(name)) == 1)):
        errors.append({"field": "name", "message": f"姓名「{name}」疑似测试或无效数据"})
    if require_contact and not any(data.get(k) for k in ("mobile", "email", "wechat")) \
            and not any(e["field"] in ("mobile", "email") for e in errors):
        errors.append({"field": "mobile", "message": "缺少联系方式：手机号、邮箱、微信号至少填写一项"})
    if isinstance(data.get("value"), (int, float)) and data["value"] < 0:
        errors.append({"field": "value", "message": "线索价值不能为负数"})


def map_submission(scene, raw: dict, tz: str | None = None) -> tuple[dict, list[dict]]:
    """(lead_data, errors) for one submission under the scene's current rules."""
    if not isinstance(raw, dict):
        return {}, [{"field": "submission_data", "message": "线索数据应为 JSON 对象"}]
    data, errors = apply_rules(scene.mapping_rules, raw)
    for key in list(data):
        if isinstance(data[key], str):
            data[key] = unicodedata.normalize("NFKC", data[key]).strip() if key not in ("message", "remark") else data[key].strip()
    fields = STANDARD_FIELDS + custom_fields(scene.mapping_rules)
    typed, type_errors = normalise(fields, data, tz)
    errors += [{"field": e["field"], "message": e["message"]} for e in type_errors]
    known = {f["name"] for f in fields}
    typed = {k: v for k, v in typed.items() if k in known}
    _clean_contacts(typed, errors)
    # A payer is known by the platform's payer id, not a contact: payment leads may have none.
    # A payment has no contact to ask for; a synced 抖音 fan is reached in 抖音 (by open_id), not by phone.
    fans_sync = ((scene.params or {}).get("pull") or {}).get("kind") == "douyin_fans"
    require_contact = (scene.params or {}).get("require_contact", scene.scene_type != "PAYMENT_CODE" and not fans_sync)
    _junk(typed, errors, bool(require_contact))
    return typed, errors
