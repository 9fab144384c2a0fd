"""Every cron job of the system in one list — the engine's, the customer center's, and whatever
the composition root adds (web adds the device layer's) — and the customer center's
background-job handlers (imports, exports, auto-tag now, grouping and allocation runs).

crm modules register their job handlers when imported, so importing them here is the wiring;
their cron specs are (key, name, cron fields, fn(services) -> summary) and become CronJobs.
"""
from __future__ import annotations

import commerce.catalog.importing  # noqa: F401 - registers the product_import job handler
import crm.customers.exporting  # noqa: F401 - registers the customer_export job handler
import crm.customers.importing  # noqa: F401 - registers the customer_import job handler
import crm.leads.importing  # noqa: F401 - registers the leads.import job handler
import crm.tags.jobs  # noqa: F401 - registers the auto_tag job handler
from analytics import audience_fields
from analytics.schedule import cron_specs as analytics_cron_specs
from analytics.snapshot import CRON_SPECS as RFM_CRON
from commerce.orders.schedule import CRON_SPECS as ORDER_CRON
from commerce.recommend.schedule import CRON_SPECS as RECOMMEND_CRON
from conversations.retention import CRON_SPECS as CHAT_RETENTION_CRON
from crm.groups.schedule import CRON_SPECS as GROUP_CRON
from crm.leads.schedule import CRON_SPECS as LEADS_CRON
from crm.sales.schedule import CRON_SPECS as SALES_CRON
from crm.tags.schedule import cron_specs as tag_cron_specs
from community.schedule import CRON_SPECS as COMMUNITY_CRON
from engine.cron import CRON_JOBS, CronJob
from engine.douyin_auth import CRON_SPECS as DOUYIN_CRON
from engine.fission import CRON_JOBS as FISSION_CRON
from engine.lead_pull import CRON_JOB as LEAD_PULL_CRON
from engine.outbound_calls import CRON_SPECS as CALL_CRON
from engine.marketing import CRON_JOB as MARKETING_CRON
from engine.schedule_triggers import CRON_JOB as SCHEDULE_CRON
from engine.broadcasts import CRON_JOB as BROADCAST_CRON
from integrations.mp.schedule import CRON_SPECS as MP_CRON
from crm.audit.retention import CRON_SPECS as AUDIT_CRON

audience_fields.register()  # RFM 分层 / 生命周期阶段 as audience fields for the jobs (auto-tag, group push)


def _from_spec(spec: tuple) -> CronJob:
    key, name, cron, fn = spec
    return CronJob(key, name, cron, lambda runtime, fn=fn: fn(runtime.services), owner=fn.__module__)


def all_cron_jobs(settings, extra: tuple = ()) -> list[CronJob]:
    """Engine jobs, the customer center's, then `extra` — the device layer's, composed by web
    (the engine may not import devices). Times are in the configured zone."""
    specs = (list(tag_cron_specs(settings)) + list(GROUP_CRON) + list(SALES_CRON) + list(LEADS_CRON)
             + list(ORDER_CRON) + list(RECOMMEND_CRON) + analytics_cron_specs(settings) + list(RFM_CRON)
             + list(DOUYIN_CRON) + list(CALL_CRON) + list(MP_CRON) + list(COMMUNITY_CRON) + list(CHAT_RETENTION_CRON))
    specs += list(AUDIT_CRON)  # 审计日志 retention (issue 14)
    jobs = (list(CRON_JOBS) + [_from_spec(s) for s in specs] + [MARKETING_CRON, SCHEDULE_CRON, LEAD_PULL_CRON, BROADCAST_CRON]
            + list(FISSION_CRON) + list(extra))
    keys = [j.key for j in jobs]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise ValueError(f"cron job keys registered twice: {duplicates}")
    return jobs
