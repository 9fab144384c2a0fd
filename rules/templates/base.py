"""What every workbench template is: a key stored on the strategy (never renamed), the wizard's
steps, and `build(config, context)` turning the wizard's answers into an ordinary strategy —
event, condition rows, processor steps — plus, for scheduled features, when it fires."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from config.timewindow import clock_time
from rules.errors import RulesError

WIZARD_KEY = "wizard"  # the first step's config keeps the wizard's answers under this key


class TemplateError(RulesError):
    """The wizard's answers do not make a task; `errors` maps each input to a message."""


@dataclass(frozen=True)
class BuildContext:
    timezone: str | None = None  # None: the configured zone
    # Shared by this task's schedule triggers and tested by its condition row, so a
    # `schedule.fired` event reaches exactly this strategy. Made once, kept across edits.
    schedule_key: str = ""
    # 获客场景 name → the words that describe it (its kind, e.g. 抖音获客, and its channel's name), so a
    # 客户来源 filter of 「抖音」 matches customers from a scene named 直播间留资 of kind 抖音获客.
    scene_words: dict = field(default_factory=dict)


@dataclass(frozen=True)
class WizardStep:
    title: str
    hint: str = ""


@dataclass(frozen=True)
class Template:
    key: str
    name: str
    description: str
    icon: str
    steps: tuple[WizardStep, ...]
    build: Callable[[dict, BuildContext], dict]
    defaults: dict = field(default_factory=dict)
    scheduled: bool = False  # fired by schedule.fired (needs a schedule key)


def row(field_name: str, op: str, value, join: str = "and", lparen: int = 0, rparen: int = 0) -> dict:
    return {"lparen": lparen, "field": field_name, "op": op, "value": value, "rparen": rparen, "join": join}


def step(processor: str, config: dict, *, seconds: int = 0) -> dict:
    """A strategy step, immediate or delayed by N seconds (stored as minutes, the engine's unit)."""
    if seconds > 0:
        return {"processor": processor, "config": config,
                "timing": {"mode": "delay", "hours": 0, "minutes": round(seconds / 60, 4)}}
    return {"processor": processor, "config": config, "timing": {"mode": "immediate"}}


def spec(name: str, event_code: str, conditions: list, steps: list, schedule: list | None = None) -> dict:
    return {"name": name, "event_code": event_code, "conditions": conditions, "steps": steps,
            "schedule": list(schedule or [])}


def schedule_condition(context: BuildContext) -> list[dict]:
    if not context.schedule_key:
        raise TemplateError("定时任务缺少调度标识", {"schedule": "定时任务缺少调度标识"})
    return [row("schedule_key", "eq", context.schedule_key)]


DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # 周一 … 周日 = 1 … 7


def daily_crons(times: list[str], weekdays: list[int] | None = None) -> list[dict]:
    """["08:00", "12:00", "12:30"] → one 5-field cron per distinct minute ("0 8,12 * * *", "30 12 * * *")."""
    by_minute: dict[int, list[int]] = {}
    for t in times:
        at = clock_time(t)
        hour, minute = at.hour, at.minute
        by_minute.setdefault(minute, []).append(hour)
    # Day names, not numbers: crontab counts Sunday as 0, APScheduler counts Monday as 0.
    dow = ",".join(DAY_NAMES[d - 1] for d in sorted(weekdays)) if weekdays else "*"
    return [{"cron": f"{m} {','.join(str(h) for h in sorted(hours))} * * {dow}"} for m, hours in sorted(by_minute.items())]


def require_clean(errors: dict) -> None:
    if errors:
        raise TemplateError("任务设置有误，请按提示修改", errors)
