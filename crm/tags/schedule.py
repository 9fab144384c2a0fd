"""定时任务 of 标签: 自动打标签 every night (05:30 by default, setting `autotag_cron` "HH:MM") and
标签过期清理 at 00:00 — both in the configured time zone. The engine's cron registry reads
CRON_SPECS; each function takes the shared services and returns a Chinese summary line.
"""
from __future__ import annotations

from config.errors import ClockError
from config.timewindow import clock_time
from crm.tags.autotag import run_auto_tags
from crm.tags.expiry import expire_tags

DEFAULT_AUTOTAG_TIME = "05:30"


def autotag_time(settings) -> dict:
    """{"hour", "minute"} from settings.autotag_cron ("HH:MM"); a malformed value falls back to 05:30."""
    raw = str(getattr(settings, "autotag_cron", DEFAULT_AUTOTAG_TIME) or DEFAULT_AUTOTAG_TIME)
    try:
        at = clock_time(raw)
    except ClockError:
        at = clock_time(DEFAULT_AUTOTAG_TIME)
    return {"hour": at.hour, "minute": at.minute}


def run_all(services) -> str:
    # Expired links go first so that 包含标签 rules never count a tag that lapsed at midnight.
    expired = expire_tags(services.db, services.now(), services.settings.timezone)
    report = run_auto_tags(services.db, now=services.now(), tz=services.settings.timezone)
    return (f"清除过期标签 {expired} 条；" if expired else "") + report.summary()


def expire(services) -> str:
    removed = expire_tags(services.db, services.now(), services.settings.timezone)
    return f"标签过期清理：移除 {removed} 条到期标签"


CRON_SPECS = [
    ("auto_tag", "自动打标签", {"hour": 5, "minute": 30}, run_all),
    ("tag_expiry", "标签过期清理", {"hour": 0, "minute": 0}, expire),
]


def cron_specs(settings) -> list[tuple]:
    """CRON_SPECS with the auto-tag time taken from settings."""
    return [(key, name, autotag_time(settings) if key == "auto_tag" else cron, fn)
            for key, name, cron, fn in CRON_SPECS]
