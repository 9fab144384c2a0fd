"""Every cron job of the system in one list — the engine's, the customer center's and the device
layer's — and the customer center's background-job handlers (imports, exports, auto-tag now,
grouping and allocation runs).

crm modules register their job handlers when imported, so importing them here is the wiring;
their cron specs are (key, name, cron fields, fn(services) -> summary) and become CronJobs.
"""
from __future__ import annotations

import crm.customers.exporting  # noqa: F401 - registers the customer_export job handler
import crm.customers.importing  # noqa: F401 - registers the customer_import job handler
import crm.tags.jobs  # noqa: F401 - registers the auto_tag job handler
from crm.groups.schedule import CRON_SPECS as GROUP_CRON
from crm.sales.schedule import CRON_SPECS as SALES_CRON
from crm.tags.schedule import cron_specs as tag_cron_specs
from devices.health import resume_due, reward_clean_weeks
from engine.cron import CRON_JOBS, CronJob
from engine.marketing import CRON_JOB as MARKETING_CRON


def _resume_paused(runtime) -> str:
    with runtime.services.db.write() as s:
        return f"恢复暂停到期的微信号 {resume_due(s, runtime.services.now())} 个"


def _reward_clean(runtime) -> str:
    with runtime.services.db.write() as s:
        return f"连续 7 天无风险信号加分的微信号 {reward_clean_weeks(s, runtime.services.now())} 个"


DEVICE_CRON = [CronJob("resume_paused_accounts", "恢复暂停到期的微信号", {"minute": "*/5"}, _resume_paused),
               CronJob("reward_clean_accounts", "健康分无风险奖励", {"hour": 4, "minute": 0}, _reward_clean)]


def _from_spec(spec: tuple) -> CronJob:
    key, name, cron, fn = spec
    return CronJob(key, name, cron, lambda runtime, fn=fn: fn(runtime.services))


def all_cron_jobs(settings) -> list[CronJob]:
    """Engine jobs, then the customer center's (times in the configured zone)."""
    specs = list(tag_cron_specs(settings)) + list(GROUP_CRON) + list(SALES_CRON)
    jobs = list(CRON_JOBS) + [_from_spec(s) for s in specs] + [MARKETING_CRON] + DEVICE_CRON
    keys = [j.key for j in jobs]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise ValueError(f"cron job keys registered twice: {duplicates}")
    return jobs
