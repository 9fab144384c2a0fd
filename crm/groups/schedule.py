"""定时任务 of this area — 自动分组 06:00, 自动分配 06:15, 客户回收 01:00 in the configured time
zone — and the background jobs behind the console's "立即执行" buttons, so a run over many
customers never holds a web request. The engine's cron registry reads CRON_SPECS; each function
takes the services and returns a Chinese summary for the scheduler's log.
"""
from __future__ import annotations

from config.clock import utcnow
from crm.groups.allocation import run_allocation
from crm.groups.recycle import run_recycle
from crm.groups.rules import run_group_rules
from crm.jobs.runner import register_handler, submit

JOB_GROUP_RULES = "group_rules"
JOB_ALLOCATION = "group_allocation"


def _tz(services) -> str:
    return services.settings.timezone


def group_rules_job(services) -> str:
    out = run_group_rules(services.db, now=services.now(), tz=_tz(services))
    return f"执行分组规则 {out['rules']} 条，移动客户 {out['moved']} 个"


def allocation_job(services) -> str:
    out = run_allocation(services.db, now=services.now(), tz=_tz(services))
    return f"执行分配规则 {out['rules']} 条，分配客户 {out['assigned']} 个"


def recycle_job(services) -> str:
    out = run_recycle(services.db, now=services.now(), tz=_tz(services))
    return f"执行回收规则 {out['rules']} 条，回收客户 {out['recycled']} 个，重新分配 {out['reassigned']} 个"


CRON_SPECS = [
    ("group_rules", "自动分组", {"hour": 6, "minute": 0}, group_rules_job),
    ("allocation", "自动分配", {"hour": 6, "minute": 15}, allocation_job),
    ("recycle", "客户回收", {"hour": 1, "minute": 0}, recycle_job),
]


def _job_clock(db, job):
    """A job carries the console's time zone in its params; the runner gives no clock, so the
    wall clock stamps the run."""
    return utcnow(), (job.params or {}).get("tz")


def run_group_rules_job(db, job, progress) -> dict:
    """params: {"rule_ids": [..] or None, "tz"}; progress counts rules."""
    now, tz = _job_clock(db, job)
    out = run_group_rules(db, now=now, tz=tz, rule_ids=(job.params or {}).get("rule_ids") or None,
                          operator_id=job.created_by, progress=lambda done, total: progress(done, total, done, 0))
    return {"message": f"执行分组规则 {out['rules']} 条，移动客户 {out['moved']} 个", "ok": out["moved"]}


def run_allocation_job(db, job, progress) -> dict:
    """params: {"group_id", "rule_ids": [..] or None, "tz"}; progress counts rules."""
    now, tz = _job_clock(db, job)
    params = job.params or {}
    out = run_allocation(db, params.get("group_id"), now=now, tz=tz, rule_ids=params.get("rule_ids") or None,
                         operator_id=job.created_by, progress=lambda done, total: progress(done, total, done, 0))
    return {"message": f"执行分配规则 {out['rules']} 条，分配客户 {out['assigned']} 个", "ok": out["assigned"]}


def submit_group_rules(db, rule_ids, created_by, tz: str):
    """"立即执行" of the chosen grouping rules (all enabled ones when none is chosen)."""
    return submit(db, JOB_GROUP_RULES, {"rule_ids": sorted(set(rule_ids or [])), "tz": tz}, created_by)


def submit_allocation(db, group_id: int, created_by, tz: str, rule_ids=None):
    """"立即分配" of one group's enabled allocation rules (or the chosen ones)."""
    return submit(db, JOB_ALLOCATION, {"group_id": group_id, "rule_ids": sorted(set(rule_ids or [])), "tz": tz},
                  created_by)


def register_jobs() -> None:
    register_handler(JOB_GROUP_RULES, run_group_rules_job)
    register_handler(JOB_ALLOCATION, run_allocation_job)


register_jobs()
