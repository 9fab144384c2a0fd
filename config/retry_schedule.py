"""Retry schedules: how long a failed step waits before each further attempt.

Written the way operators say it, "5s, 1m, 5m, 30m, 2h, 5h" (秒/分/时/天 also accepted):
the n-th entry is the wait after the n-th failed attempt, so a schedule of six waits means
seven attempts in all. The default rides out an outage of a few hours (Svix-style) instead of
giving up after seconds; CKB_RETRY_SCHEDULE changes it for the whole server and each
processor may declare or be configured with its own.
"""
from __future__ import annotations

import re
from functools import lru_cache

DEFAULT_RETRY_SCHEDULE = "5s, 1m, 5m, 30m, 2h, 5h"
MAX_ENTRIES = 20
MAX_WAIT_SECONDS = 24 * 3600.0
_UNITS = {"": 1, "s": 1, "秒": 1, "m": 60, "min": 60, "分": 60, "分钟": 60, "h": 3600, "时": 3600,
          "小时": 3600, "d": 86400, "天": 86400}
_ENTRY_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*([a-z\u4e00-\u9fff]*)$")


class RetryScheduleError(ValueError):
    """A schedule that cannot be read; the message (Chinese) names the entry."""


@lru_cache(maxsize=256)
def parse_schedule(text: str) -> tuple[float, ...]:
    """'5s, 1m, 2h' → (5.0, 60.0, 7200.0); raises RetryScheduleError."""
    entries = [e.strip() for e in re.split(r"[,，、\s]+", (text or "").strip().lower()) if e.strip()]
    if not entries:
        raise RetryScheduleError("重试间隔不能为空，例如：5s, 1m, 5m, 30m, 2h, 5h")
    if len(entries) > MAX_ENTRIES:
        raise RetryScheduleError(f"重试间隔最多 {MAX_ENTRIES} 项")
    waits = []
    for entry in entries:
        match = _ENTRY_RE.match(entry)
        if not match or match.group(2) not in _UNITS:
            raise RetryScheduleError(f"无法识别的重试间隔「{entry}」，请写成 30s、5m、2h 或 1d")
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
        if not 0 < seconds <= MAX_WAIT_SECONDS:
            raise RetryScheduleError(f"重试间隔「{entry}」须大于 0 且不超过 1 天")
        waits.append(seconds)
    return tuple(waits)


def format_schedule(waits: tuple[float, ...]) -> str:
    """(5.0, 60.0, 7200.0) → '5s, 1m, 2h' (the form the console shows)."""
    out = []
    for seconds in waits:
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
            if seconds >= size and seconds % size == 0:
                out.append(f"{int(seconds // size)}{unit}")
                break
        else:
            out.append(f"{seconds:g}s")
    return ", ".join(out)
