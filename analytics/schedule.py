"""数据中心's cron jobs as (key, name, cron fields, fn(services) -> summary), wired by
engine.crm_wiring: the live rollup every minute, the nightly recompute, and one push per
CKB_REPORT_PUSH_TIMES entry. Times are in the configured zone."""
from __future__ import annotations

from analytics import report_push, rollups
from config.timewindow import clock_time


def _live(services) -> str:
    return rollups.run_live(services.db, services.now(), services.settings.timezone)


def _nightly(services) -> str:
    s = services.settings
    return rollups.run_nightly(services.db, services.now(), max(1, s.rollup_recompute_days), s.timezone)


def _pusher(slot: str):
    def run(services) -> str:
        return f"每日数据报表推送 {slot}：{report_push.push(services, services.now(), slot)} 人"
    return run


def cron_specs(settings) -> list[tuple]:
    nightly = clock_time(settings.rollup_nightly_at)
    every = min(max(1, settings.rollup_live_minutes), 30)
    specs = [("rollup_live", "数据汇总（今日实时）", {"minute": "*" if every == 1 else f"*/{every}"}, _live),
             ("rollup_nightly", "数据汇总（夜间重算）", {"hour": nightly.hour, "minute": nightly.minute}, _nightly)]
    for at in report_push.push_times(settings.report_push_times):
        slot = at.strftime("%H:%M")
        specs.append((f"report_push_{at.strftime('%H%M')}", f"每日数据报表推送 {slot}",
                      {"hour": at.hour, "minute": at.minute}, _pusher(slot)))
    return specs
