"""Typing a parameter's value: the form text → the Settings field's type (its own pydantic type and
constraints, then the declared bounds and check), and back to text for the page and the log."""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Annotated, Any

from pydantic import TypeAdapter, ValidationError

from config.parameters import Parameter, ParameterInvalid
from config.settings import Settings

_MESSAGES = {
    "int_parsing": "请填写整数", "int_from_float": "请填写整数", "float_parsing": "请填写数字",
    "bool_parsing": "请选择「是」或「否」", "string_too_long": "内容过长",
}


@lru_cache(maxsize=None)
def adapter(key: str) -> TypeAdapter:
    """The field's annotation with its Field(ge=…, le=…) constraints, as pydantic checks them."""
    field = Settings.model_fields[key]
    return TypeAdapter(Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation)


def kind(key: str) -> str:
    """bool / int / float / str: how the page draws the input."""
    annotation = Settings.model_fields[key].annotation
    return {bool: "bool", int: "int", float: "float"}.get(annotation, "str")


def _pydantic_message(exc: ValidationError) -> str:
    error = exc.errors()[0]
    ctx = error.get("ctx") or {}
    bounds = {"greater_than_equal": ("不能小于", "ge"), "less_than_equal": ("不能大于", "le"),
              "greater_than": ("须大于", "gt"), "less_than": ("须小于", "lt")}
    if error["type"] in bounds:
        word, name = bounds[error["type"]]
        return f"{word} {ctx.get(name)}"
    return _MESSAGES.get(error["type"], "取值无效")


def parse(param: Parameter, raw: Any) -> Any:
    """The typed, normalised value of form text (or a stored JSON value); raises ParameterInvalid."""
    text = raw.strip() if isinstance(raw, str) else raw
    what = kind(param.key)
    if what in ("int", "float") and text in ("", None):
        raise ParameterInvalid("请填写数值")
    if what == "bool" and isinstance(text, str):
        text = {"1": True, "on": True, "true": True, "是": True, "0": False, "off": False,
                "false": False, "否": False}.get(text.lower(), text)
    try:
        value = adapter(param.key).validate_python(text)
    except ValidationError as exc:
        raise ParameterInvalid(_pydantic_message(exc)) from None
    if param.minimum is not None and value < param.minimum:
        raise ParameterInvalid(f"不能小于 {param.minimum:g}")
    if param.maximum is not None and value > param.maximum:
        raise ParameterInvalid(f"不能大于 {param.maximum:g}")
    if param.choices and value not in {code for code, _ in param.choices}:
        raise ParameterInvalid("请从列表中选择")
    return param.check(value) if param.check else value


def encode(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def decode(param: Parameter, stored: str) -> Any:
    return parse(param, json.loads(stored))


def shown(param: Parameter, value: Any) -> str:
    """The value as the page and the change log show it (never a secret's value)."""
    if param.secret:
        return "已设置" if value else "未设置"
    if isinstance(value, bool):
        return "是" if value else "否"
    if param.choices:
        return dict(param.choices).get(value, str(value))
    if value in ("", None):
        return "（空）"
    return f"{value:g}" if isinstance(value, float) else str(value)


def form_text(param: Parameter, value: Any) -> str:
    """What the input holds when the page opens (a secret's input is always empty)."""
    if param.secret:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return f"{value:g}" if isinstance(value, float) else str(value if value is not None else "")
