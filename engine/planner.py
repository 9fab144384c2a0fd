"""Step planning: when does each step of a matched strategy run?

immediate → now; delay → N hours/minutes after the event arrived; until → at a set time,
skipped (and said so) when that time has already passed, as 晓售 does.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from events.field_types import FieldValueError, parse_datetime


@dataclass(frozen=True)
class PlannedStep:
    step_index: int
    processor_key: str
    config: dict
    timing: str
    due_at: datetime
    status: str  # "pending" or "skipped"
    note: str = ""


def step_delay(timing: dict) -> timedelta:
    hours = float(timing.get("hours") or 0)
    minutes = float(timing.get("minutes") or 0)
    return timedelta(hours=hours, minutes=minutes)


def plan_steps(steps: list[dict], arrived_at: datetime, now: datetime, tz_name: str) -> list[PlannedStep]:
    planned = []
    for index, step in enumerate(steps):
        timing = step.get("timing") if isinstance(step.get("timing"), dict) else {"mode": "immediate"}
        mode = timing.get("mode", "immediate")
        status, note, due = "pending", "", now
        if mode == "delay":
            due = arrived_at + step_delay(timing)
        elif mode == "until":
            try:
                due = parse_datetime(timing.get("at"), tz_name)
            except FieldValueError:
                status, note = "skipped", "指定执行时间无效，任务不生效"
            else:
                if due <= now:
                    status, note = "skipped", "指定执行时间已过，任务不生效"
        planned.append(PlannedStep(index, step["processor"], dict(step.get("config") or {}), mode,
                                   max(due, now) if status == "pending" else now, status, note))
    return planned
