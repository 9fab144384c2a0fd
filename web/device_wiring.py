"""The device layer's periodic work, composed here because web is the one package that may
import both the engine and devices (DESIGN's import direction)."""
from __future__ import annotations

from devices.health import resume_due, reward_clean_weeks
from engine.cron import CronJob


def _resume_paused(runtime) -> str:
    with runtime.services.db.write() as s:
        return f"恢复暂停到期的微信号 {resume_due(s, runtime.services.now())} 个"


def _reward_clean(runtime) -> str:
    with runtime.services.db.write() as s:
        return f"连续 7 天无风险信号加分的微信号 {reward_clean_weeks(s, runtime.services.now())} 个"


DEVICE_CRON = (
    CronJob("resume_paused_accounts", "恢复暂停到期的微信号", {"minute": "*/5"}, _resume_paused),
    CronJob("reward_clean_accounts", "健康分无风险奖励", {"hour": 4, "minute": 0}, _reward_clean),
)


def make_runtime(settings, clock=None):
    """The engine runtime of a web, worker or scheduler process, with the device jobs added."""
    from engine.runtime import Runtime

    return Runtime.from_settings(settings, clock=clock, extra_cron_jobs=DEVICE_CRON)
