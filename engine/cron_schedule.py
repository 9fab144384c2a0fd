"""A job's schedule as operators write it — 「HH:MM」 (every day at that time) or a standard 5-field
cron expression (分 时 日 月 周, 0 or 7 = Sunday as in crontab) — turned into the CronTrigger
fields CronSlots times, and back into text for the page; the next runs previewed in the
configured zone.

APScheduler 3 numbers weekdays from Monday = 0 (its own documented mistake), so digits in the
周 field are translated to names before they reach it: 「0 9 * * 1」 is Monday as anyone expects.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from config.clock import format_local, zone
from config.errors import ClockError
from config.timewindow import clock_time
from engine.cron_clock import CronSlots
from engine.errors import JobError

FIELDS = ("minute", "hour", "day", "month", "day_of_week")
WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^\d{1,2}[:：]\d{2}$")
_DIGIT = re.compile(r"\d+")
MAX_LENGTH = 64


def _weekday(token: str) -> str:
    """One 周 item with crontab numbering → APScheduler names ("1-5" → "mon-fri", "0" → "sun")."""
    if "/" in token:
        base, step = token.split("/", 1)
        return f"{_weekday(base)}/{step}"
    if "-" in token:
        lo, hi = token.split("-", 1)
        if lo.isdigit() and hi.isdigit() and int(lo) == 0 and int(hi) > 0:  # "0-5": sun, then mon-fri
            return "sun" if int(hi) in (0, 7) else f"sun,mon-{WEEKDAYS[int(hi)]}"
        return f"{_weekday(lo)}-{_weekday(hi)}"
    if token.isdigit():
        n = int(token)
        if n > 7:
            raise JobError(f"星期「{token}」超出范围（0–7，0 和 7 都是星期日）", {"schedule": f"星期「{token}」超出范围（0–7）"})
        return WEEKDAYS[n]
    return token


def parse(text: str) -> dict:
    """CronTrigger fields for `text`; JobError naming the problem (for the 「执行时间」 field)."""
    raw = (text or "").strip()
    if not raw:
        raise JobError("请填写执行时间", {"schedule": "请填写执行时间（如 05:30 或 */10 * * * *）"})
    if len(raw) > MAX_LENGTH:
        raise JobError("执行时间太长", {"schedule": f"执行时间最多 {MAX_LENGTH} 个字符"})
    if _HHMM.match(raw):
        try:
            at = clock_time(raw.replace("：", ":"))
        except ClockError as exc:
            raise JobError(f"时间「{raw}」无效：{exc}", {"schedule": f"时间「{raw}」无效，请写 00:00–23:59"}) from None
        return {"hour": at.hour, "minute": at.minute}
    parts = raw.split()
    if len(parts) != 5:
        msg = f"「{raw}」既不是 HH:MM，也不是 5 段 cron 表达式（分 时 日 月 周，当前 {len(parts)} 段）"
        raise JobError(msg, {"schedule": msg})
    fields = dict(zip(FIELDS, parts))
    fields["day_of_week"] = ",".join(_weekday(t) for t in parts[4].lower().split(","))
    try:
        CronTrigger(timezone="UTC", **fields)
    except ValueError as exc:
        msg = f"cron 表达式「{raw}」无效：{exc}"
        raise JobError(msg, {"schedule": msg}) from None
    return {k: v for k, v in fields.items() if v != "*" or k == "minute"}


def normalise(text: str) -> str:
    """The text to store: validated, 「5:3」-style times written 05:03, cron spaces collapsed."""
    cron = parse(text)
    raw = (text or "").strip()
    if _HHMM.match(raw):
        return f"{cron['hour']:02d}:{cron['minute']:02d}"
    return " ".join(raw.split())


def describe(cron: dict) -> str:
    """A code default's CronTrigger fields as the text an operator would type."""
    if set(cron) == {"hour", "minute"} and all(isinstance(cron[k], int) for k in cron):
        return f"{cron['hour']:02d}:{cron['minute']:02d}"
    return " ".join(str(cron.get(k, "*")) for k in FIELDS)


def human(cron: dict) -> str:
    """The common shapes in words (每天 05:30 / 每 10 分钟 / 每小时第 7 分); "" for the rest."""
    if set(cron) == {"hour", "minute"} and all(isinstance(cron[k], int) for k in cron):
        return f"每天 {cron['hour']:02d}:{cron['minute']:02d}"
    if set(cron) == {"minute"}:
        minute = str(cron["minute"])
        if minute == "*":
            return "每分钟"
        if minute.startswith("*/") and minute[2:].isdigit():
            return f"每 {minute[2:]} 分钟"
        if minute.isdigit():
            return f"每小时第 {minute} 分"
    return ""


def next_runs(cron: dict, tz: str, now: datetime, count: int = 5) -> list[datetime]:
    """The next `count` slots at or after `now` (aware UTC)."""
    slots, out, moment = CronSlots(cron, tz), [], now
    while len(out) < count:
        nxt = slots.after(moment)
        if nxt is None:
            break
        out.append(nxt)
        moment = nxt + timedelta(seconds=1)
    return out


CN_WEEKDAYS = "一二三四五六日"


def local_label(moment: datetime, tz: str) -> str:
    """「2026-11-21 06:10 周六」 in the configured zone."""
    weekday = CN_WEEKDAYS[moment.astimezone(zone(tz)).weekday()]
    return f"{format_local(moment, '%Y-%m-%d %H:%M', tz_name=tz)} 周{weekday}"


def preview(text: str, tz: str, now: datetime, count: int = 5) -> list[str]:
    """The next runs of `text` as local wall-clock labels; JobError when the text is invalid."""
    return [local_label(t, tz) for t in next_runs(parse(text), tz, now, count)]
