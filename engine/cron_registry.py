"""任务调度's registry: every cron job — the code's (engine.crm_wiring.all_cron_jobs) and the ones
an admin registered (engine.cron_custom) — with its owner, default schedule, and the schedule and
on/off stored in cron_schedule, which win over the default. Saving bumps cron_config_version;
each scheduler compares it every tick and re-times its jobs, so no restart is needed.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Optional

from sqlalchemy import func, insert, select, update
from sqlmodel import Session

from engine.cron import CronJob
from engine.cron_custom import CUSTOM_OWNER, as_cron_job
from engine.cron_models import CronConfigVersion, CronSchedule, CustomCronJob
from engine.models import CronRun
from engine.cron_schedule import describe, normalise, parse
from engine.errors import JobError, JobNotFound

VERSIONS = CronConfigVersion.__table__
RUNS = CronRun.__table__

# The module a job comes from, in an operator's words (longest prefix wins).
OWNER_LABELS = {
    "crm.tags": "客户中心 · 标签", "crm.groups": "客户中心 · 分组分配", "crm.sales": "客户中心 · 销售",
    "crm.leads": "线索获客", "crm": "客户中心", "commerce": "商城", "analytics": "数据分析",
    "community": "社群运营", "conversations": "聊天会话", "integrations.mp": "公众号", "integrations": "第三方对接",
    "engine.douyin_auth": "线索获客 · 抖音", "engine.lead_pull": "线索获客", "engine.outbound_calls": "线索获客 · 电话",
    "engine.marketing": "定向营销", "engine.broadcasts": "群发", "engine.fission": "裂变活动",
    "engine.schedule_triggers": "策略定时触发", "engine": "自动化引擎", "web.device_wiring": "设备管理",
    "devices": "设备管理", CUSTOM_OWNER: "定时任务注册",
}


def owner_of(job: CronJob) -> str:
    return job.owner or getattr(job.run, "__module__", "") or ""


def owner_label(module: str) -> str:
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        label = OWNER_LABELS.get(".".join(parts[:n]))
        if label:
            return label
    return module or "—"


@dataclass
class JobEntry:
    job: CronJob  # with the effective schedule
    default: str  # the code's schedule as text ("" for a registered job)
    schedule: str  # the effective schedule as text
    enabled: bool
    stored: Optional[CronSchedule]
    custom: Optional[CustomCronJob]

    @property
    def key(self) -> str:
        return self.job.key

    @property
    def name(self) -> str:
        return self.job.name

    @property
    def owner(self) -> str:
        return owner_of(self.job)

    @property
    def owner_label(self) -> str:
        return owner_label(self.owner)

    @property
    def customised(self) -> bool:
        return self.stored is not None and self.custom is None and self.schedule != self.default


def catalog(session: Session, code_jobs: list[CronJob]) -> list[JobEntry]:
    """Every job with its effective schedule, code jobs in registry order, then registered ones."""
    stored = {row.job_key: row for row in session.execute(select(CronSchedule)).scalars()}
    customs = list(session.execute(select(CustomCronJob).order_by(CustomCronJob.id)).scalars())
    out = []
    for job in code_jobs:
        row = stored.get(job.key)
        default = describe(job.cron)
        effective, text = job, default
        if row is not None and row.schedule:
            try:
                effective, text = replace(job, cron=parse(row.schedule)), row.schedule
            except JobError:
                pass  # validated when saved; a row the code can no longer read keeps the default
        out.append(JobEntry(effective, default, text, row.enabled if row is not None else True, row, None))
    for custom in customs:
        row = stored.get(custom.key)
        text = row.schedule if row is not None else ""
        try:
            cron = parse(text)
        except JobError:
            continue  # a registered job always has a valid schedule row; without one it cannot run
        out.append(JobEntry(as_cron_job(custom, cron), "", text, bool(row and row.enabled), row, custom))
    return out


def find(session: Session, code_jobs: list[CronJob], key: str) -> JobEntry:
    for entry in catalog(session, code_jobs):
        if entry.key == key:
            return entry
    raise JobNotFound("找不到这个定时任务：它可能已被删除")


def bump_version(session: Session) -> None:
    if not session.execute(update(VERSIONS).where(VERSIONS.c.id == 1).values(version=VERSIONS.c.version + 1)).rowcount:
        session.execute(insert(VERSIONS).values(id=1, version=1))


def current_version(session: Session) -> int:
    return session.execute(select(VERSIONS.c.version).where(VERSIONS.c.id == 1)).scalar() or 0


def store_schedule(session: Session, key: str, text: str, enabled: bool, who: str, now: datetime) -> CronSchedule:
    """Upserts the key's row (text validated and normalised) and bumps the version."""
    row = session.get(CronSchedule, key) or CronSchedule(job_key=key)
    row.schedule, row.enabled, row.updated_by, row.updated_at = normalise(text), bool(enabled), who[:64], now
    session.add(row)
    bump_version(session)
    session.flush()
    return row


def save_schedule(session: Session, code_jobs: list[CronJob], key: str, text: str, enabled: bool, who: str,
                  now: datetime) -> JobEntry:
    """任务调度 → 编辑: a job's schedule and on/off. The default written back stays recorded (who/when)."""
    find(session, code_jobs, key)
    store_schedule(session, key, text, enabled, who, now)
    return find(session, code_jobs, key)


def reset_schedule(session: Session, code_jobs: list[CronJob], key: str) -> JobEntry:
    """恢复默认: the stored row goes, so the code's default (for 自动打标签, the CKB_AUTOTAG_CRON
    setting) applies again, enabled — also when that default changes later."""
    entry = find(session, code_jobs, key)
    if entry.custom is not None:
        raise JobError("自定义任务没有默认时间，请直接修改执行时间", {"schedule": "自定义任务没有默认时间"})
    if entry.stored is not None:
        session.delete(entry.stored)
        bump_version(session)
        session.flush()
    return find(session, code_jobs, key)


def last_runs(session: Session) -> dict[str, CronRun]:
    """The latest run row of every job (missed ones included)."""
    latest = select(func.max(RUNS.c.id)).group_by(RUNS.c.job_key)
    return {r.job_key: r for r in session.execute(select(CronRun).where(CronRun.id.in_(latest))).scalars()}


def runs_of(session: Session, key: str, limit: int = 100) -> list[CronRun]:
    return list(session.execute(select(CronRun).where(CronRun.job_key == key)
                                .order_by(CronRun.slot_at.desc(), CronRun.id.desc()).limit(limit)).scalars())
