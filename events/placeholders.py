"""`${var}` placeholders filled from event data, rendered in a Jinja2 sandbox.

As in 晓售: `${user_name}` becomes the event's data["user_name"]; an object or list becomes its
JSON text. Templates can only read data — the sandbox blocks attribute tricks — and a
variable the event does not carry is an error, never a silent empty string. Rendering has a
work and size budget (events.template_budget): a template that exceeds it even with empty data
is refused at save (find_variables, which every save path runs), and at render with the reason.

Messages for people (短信, 邮件, 日志, 消息模板, texts sent from phones) use render_message: a value
that is a time — a datetime, or a whole ISO-8601 date-time string with a zone offset such as the
stored `2026-12-07T06:50:00+00:00` — prints as the configured zone's wall clock, `2026-12-07 14:50`.
render_text keeps values as they are, for machine payloads (HTTP processors).
"""
from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from typing import Any

from jinja2 import ChainableUndefined, StrictUndefined, TemplateError, TemplateSyntaxError, UndefinedError, meta
from jinja2.sandbox import SecurityError

from config.clock import format_local, parse_iso_instant
from events.template_budget import BudgetedSandbox, TemplateBudgetError, render, trial_render


class PlaceholderError(ValueError):
    """A template cannot be parsed or refers to data the event does not have (message in Chinese)."""


def _finalize(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _finalize_for_people(value: Any) -> Any:
    value = parse_iso_instant(value) or value
    if isinstance(value, datetime):
        return format_local(value)
    return _finalize(value)


_OPTIONS = dict(
    variable_start_string="${",
    variable_end_string="}",
    # Block and comment syntax moved out of the way so literal "{%" or "{#" in text stays text.
    block_start_string="${%",
    block_end_string="%}",
    comment_start_string="${#",
    comment_end_string="#}",
    undefined=StrictUndefined,
    finalize=_finalize,
    autoescape=False,
    keep_trailing_newline=True,
)
_env = BudgetedSandbox(**_OPTIONS)
_people_env = _env.overlay(finalize=_finalize_for_people)
# The same templates with every variable empty: the trial render at save.
_trial_env = _env.overlay(undefined=ChainableUndefined)


@lru_cache(maxsize=4096)
def _compile(text: str, for_people: bool = False):
    try:
        return (_people_env if for_people else _env).from_string(text)
    except TemplateSyntaxError as exc:
        raise PlaceholderError(f"模板语法错误（第 {exc.lineno} 行）：{exc.message}") from exc


def has_placeholders(text: str) -> bool:
    return "${" in text


def render_text(text: str, data: dict, *, for_people: bool = False) -> str:
    if not isinstance(text, str) or not has_placeholders(text):
        return text
    try:
        return render(_compile(text, for_people), data)
    except UndefinedError as exc:
        raise PlaceholderError(f"事件数据中没有变量：{exc.message}") from exc
    except SecurityError as exc:
        raise PlaceholderError(f"模板不允许的操作：{exc}") from exc
    except TemplateBudgetError as exc:
        raise PlaceholderError(str(exc)) from exc
    except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError, RecursionError) as exc:
        raise PlaceholderError(f"模板渲染失败：{type(exc).__name__}") from exc


@lru_cache(maxsize=4096)
def _over_budget(text: str) -> str | None:
    return trial_render(_trial_env.from_string(text), {})


def render_message(text: str, data: dict) -> str:
    """A text a person reads: times in the configured zone (see the module docstring)."""
    return render_text(text, data, for_people=True)


def render_value(value: Any, data: dict) -> Any:
    """Renders every string inside nested dicts/lists; other values pass through."""
    if isinstance(value, str):
        return render_text(value, data)
    if isinstance(value, dict):
        return {k: render_value(v, data) for k, v in value.items()}
    if isinstance(value, list):
        return [render_value(v, data) for v in value]
    return value


def find_variables(value: Any) -> set[str]:
    """Root names of every ${var} used anywhere in a nested value."""
    if isinstance(value, str):
        if not has_placeholders(value):
            return set()
        try:
            names = set(meta.find_undeclared_variables(_env.parse(value)))
        except TemplateSyntaxError as exc:
            raise PlaceholderError(f"模板语法错误（第 {exc.lineno} 行）：{exc.message}") from exc
        reason = _over_budget(value)
        if reason:
            raise PlaceholderError(reason)
        return names
    if isinstance(value, dict):
        return set().union(*(find_variables(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(find_variables(v) for v in value)) if value else set()
    return set()
