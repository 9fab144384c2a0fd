"""The "when" part of scheduled wizards (社群推送, 定时提醒, 自动建群): once at a set time, every
day at set times, or on chosen weekdays at set times — all in the configured time zone."""
from __future__ import annotations

from rules.templates import fields
from rules.templates.base import daily_crons

REPEATS = {"once": "单次", "daily": "每天", "weekly": "每周"}
WEEKDAYS = {1: "周一", 2: "周二", 3: "周三", 4: "周四", 5: "周五", 6: "周六", 7: "周日"}


def read_schedule(config: dict, errors: dict) -> tuple[dict, list[dict]]:
    """Returns (the clean answers to keep, the schedule entries for the triggers)."""
    repeat = fields.choice(config, "repeat", "发送频率", REPEATS, errors, "once")
    run_at = fields.local_datetime(config, "run_at", "发送时间", errors, required=repeat == "once")
    times = fields.clock_times(config, "times", "每日发送时间", errors, required=repeat != "once")
    days = [d for d in fields.ids(config, "weekdays", "星期", errors, required=repeat == "weekly")]
    if any(d not in WEEKDAYS for d in days):
        errors["weekdays"] = "星期应为 1（周一）到 7（周日）"
        days = [d for d in days if d in WEEKDAYS]
    clean = {"repeat": repeat, "run_at": run_at, "times": times, "weekdays": days}
    if errors:
        return clean, []
    if repeat == "once":
        return clean, [{"run_at": run_at}]
    return clean, daily_crons(times, days if repeat == "weekly" else None)
