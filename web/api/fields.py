"""Typed body fields of the /api/v1 CRUD views: the domain services accept form strings (and would
save a JSON list as its Python repr), so the API first refuses a value of the wrong JSON type,
naming the field, with the one error envelope (422 invalid)."""
from __future__ import annotations

from web.api.common import BadRequest
from web.input_limits import INT_MAX, INT_MIN

_TYPES = {"string": (str,), "integer": (int,), "boolean": (bool,), "array": (list,), "object": (dict,)}
_WORDS = {"string": "字符串", "integer": "整数", "boolean": "true 或 false", "array": "数组", "object": "对象"}


def invalid(name: str, message: str) -> BadRequest:
    return BadRequest(f"{name}：{message}", {name: message}, status=422, code="invalid")


def checked(data: dict, schema: dict, *, partial: bool = False) -> dict:
    """`data` checked against an object schema of ours (properties with a type, nullable, required,
    additionalProperties False): unknown fields, missing required ones and wrong JSON types are
    refused, naming the field. Returns the data unchanged."""
    props = schema.get("properties", {})
    unknown = sorted(set(data) - set(props))
    if unknown:
        raise BadRequest(f"未知字段：{'、'.join(unknown)}", {k: "未知字段" for k in unknown}, status=422, code="invalid")
    if not partial:
        missing = [k for k in schema.get("required", ())
                   if k not in data or (data[k] in (None, "") and not props[k].get("nullable"))]
        if missing:
            raise BadRequest(f"缺少字段：{'、'.join(missing)}", {k: "必填" for k in missing}, status=422, code="invalid")
    for name, value in data.items():
        kind = props[name].get("type")
        if value is None:
            if props[name].get("nullable") or name not in schema.get("required", ()):
                continue
            raise invalid(name, "不能为空")
        if kind in _TYPES and (not isinstance(value, _TYPES[kind]) or (kind == "integer" and isinstance(value, bool))):
            raise invalid(name, f"应为{_WORDS[kind]}")
        if kind == "integer" and not INT_MIN <= value <= INT_MAX:
            raise invalid(name, "超出整数范围")
        if kind == "array" and props[name].get("items", {}).get("type") == "integer" and not all(
                isinstance(i, int) and not isinstance(i, bool) and INT_MIN <= i <= INT_MAX for i in value):
            raise invalid(name, "应为整数数组")
    return data
