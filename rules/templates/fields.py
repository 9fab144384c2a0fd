"""Reading a wizard's answers: each helper turns one raw form value into a clean value, or
writes a Chinese message for that input into `errors` (the wizard shows it next to the input)."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Iterable

from config.errors import ClockError
from config.timewindow import normalize_clock


def text(config: dict, name: str, label: str, errors: dict, *, required: bool = False, max_len: int = 2000,
         default: str = "") -> str:
    value = config.get(name)
    value = default if value is None else str(value).strip()
    if required and not value:
        errors[name] = f"请填写{label}"
    elif len(value) > max_len:
        errors[name] = f"{label}最多 {max_len} 个字符"
    return value


def number(config: dict, name: str, label: str, errors: dict, *, default: int | None = None, low: int = 0,
           high: int = 1_000_000, required: bool = False) -> int | None:
    raw = config.get(name)
    if raw in (None, ""):
        if required and default is None:
            errors[name] = f"请填写{label}"
        return default
    try:
        value = int(str(raw).strip())
    except ValueError:
        errors[name] = f"{label}应为整数"
        return default
    if not low <= value <= high:
        errors[name] = f"{label}应在 {low}–{high} 之间"
    return value


def ids(config: dict, name: str, label: str, errors: dict, *, required: bool = False) -> list[int]:
    """A list of record ids from a multi-select, a comma-separated string or a JSON list."""
    raw = config.get(name) or []
    if isinstance(raw, (str, int)):
        raw = [p for p in re.split(r"[,，\s]+", str(raw)) if p]
    out: list[int] = []
    for item in raw:
        try:
            value = int(item)
        except (TypeError, ValueError):
            errors[name] = f"{label}中有无效的编号「{item}」"
            continue
        if value not in out:
            out.append(value)
    if required and not out:
        errors[name] = f"请至少选择一个{label}"
    return out


def words(config: dict, name: str, label: str, errors: dict, *, required: bool = False, max_items: int = 200) -> list[str]:
    """Names separated by commas, 、 or new lines (tags, wxids, keywords)."""
    raw = config.get(name) or []
    if isinstance(raw, str):
        raw = re.split(r"[,，、\n]+", raw)
    out = []
    for item in raw:
        item = str(item).strip()
        if item and item not in out:
            out.append(item[:100])
    if required and not out:
        errors[name] = f"请填写{label}"
    if len(out) > max_items:
        errors[name] = f"{label}最多 {max_items} 个"
    return out


def choice(config: dict, name: str, label: str, options: Iterable[str], errors: dict, default: str) -> str:
    value = str(config.get(name) or default)
    if value not in options:
        errors[name] = f"{label}「{value}」无效"
        return default
    return value


def flag(config: dict, name: str, default: bool = False) -> bool:
    value = config.get(name, default)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "on", "yes", "是")
    return bool(value)


def clock_time(value: Any, label: str, name: str, errors: dict, *, end: bool = False) -> str:
    """"HH:MM" in the configured zone ("24:00" allowed as a window's end; config.timewindow)."""
    try:
        return normalize_clock(value, end=end)
    except ClockError:
        errors[name] = f"{label}「{value}」应为 时:分，例如 09:30"
        return "00:00"


def clock_times(config: dict, name: str, label: str, errors: dict, *, required: bool = False) -> list[str]:
    raw = config.get(name) or []
    if isinstance(raw, str):
        raw = [p for p in re.split(r"[,，\s]+", raw) if p]
    out = sorted({clock_time(v, label, name, errors) for v in raw})
    if required and not out:
        errors[name] = f"请填写{label}"
    return out


def window(config: dict, errors: dict, start: str = "start_time", end: str = "end_time",
           default: tuple[str, str] = ("00:00", "23:59")) -> tuple[str, str]:
    """A daily time window; it may cross midnight (22:00–07:00)."""
    a = clock_time(config.get(start) or default[0], "开始时间", start, errors)
    b = clock_time(config.get(end) or default[1], "结束时间", end, errors, end=True)
    if a == b:
        errors[end] = "结束时间不能等于开始时间"
    return a, b


def local_datetime(config: dict, name: str, label: str, errors: dict, *, required: bool = False) -> str:
    """A wall-clock "YYYY-MM-DDTHH:MM" in the configured zone, kept as typed."""
    raw = str(config.get(name) or "").strip().replace(" ", "T")
    if not raw:
        if required:
            errors[name] = f"请填写{label}"
        return ""
    try:
        return datetime.fromisoformat(raw).strftime("%Y-%m-%dT%H:%M")
    except ValueError:
        errors[name] = f"{label}「{raw}」格式应为 2026-01-31 09:30"
        return ""
