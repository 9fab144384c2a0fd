"""定时作业 of 社群增长 (the engine's cron registry reads CRON_SPECS; each takes the services and
returns a Chinese summary): the 群活 rollup plus the 群活监控 rules every minute, the nightly
recount of yesterday (late or imported messages), and 群发助手's dispatch and follow-up."""
from __future__ import annotations

from datetime import timedelta

from community.activity.alerts import evaluate
from community.activity.days import day_of
from community.activity.rollup import recompute_day, roll_up
from community.groups.broadcast import run_due


def activity_job(services) -> str:
    now, tz = services.now(), services.settings.timezone
    with services.db.write() as session:
        rolled = roll_up(session, now, tz)
    with services.db.write() as session:
        alerts = evaluate(session, now, tz)
    return (f"群活统计 {rolled['messages']} 条消息（{rolled['groups']} 个群）；"
            f"群活预警新增 {alerts['opened']} 条，解除 {alerts['closed']} 条，进行中 {alerts['open']} 条")


def recount_job(services) -> str:
    now, tz = services.now(), services.settings.timezone
    yesterday = day_of(now, tz) - timedelta(days=1)
    with services.db.write() as session:
        counted = recompute_day(session, yesterday, tz, now)
    return f"重算 {yesterday.isoformat()} 群活：{counted} 条消息"


def broadcast_job(services) -> str:
    out = run_due(services.db, services.now(), services.settings, getattr(services, "redis", None))
    return f"群发助手：开始发送 {out['dispatched']} 个，跟进 {out['followed']} 个"


CRON_SPECS = [
    ("community_activity", "群活统计与群活监控", {"minute": "*"}, activity_job),
    ("community_recount", "群活昨日重算", {"hour": 0, "minute": 20}, recount_job),
    ("community_broadcasts", "群发助手发送与跟进", {"minute": "*"}, broadcast_job),
]
