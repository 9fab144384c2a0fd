"""定时任务注册 → 新建 / 修改 / 删除: a registered job's row and its schedule (cron_schedule under
user.<id>) change together in one transaction, and the config version moves with them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session

from engine.cron_custom import clean
from engine.cron_models import CronSchedule, CustomCronJob
from engine.cron_registry import bump_version, store_schedule
from engine.cron_schedule import normalise
from engine.errors import JobError, JobNotFound


def _validated(session: Session, registry, form: dict, tz: str, existing_id: int | None) -> tuple[dict, str]:
    """(the job's values, its normalised schedule); JobError with every bad field at once."""
    errors: dict = {}
    values, schedule = {}, ""
    try:
        schedule = normalise(str(form.get("schedule") or ""))
    except JobError as exc:
        errors.update(exc.errors)
    try:
        values = clean(session, registry, form, tz, existing_id)
    except JobError as exc:
        errors.update(exc.errors)
    if errors:
        raise JobError("请修改标红的项目", errors)
    return values, schedule


def get_custom(session: Session, job_id: int) -> CustomCronJob:
    row = session.get(CustomCronJob, job_id)
    if row is None:
        raise JobNotFound("找不到这个定时任务：它可能已被删除")
    return row


def create_custom(session: Session, registry, form: dict, tz: str, who: str, now: datetime) -> CustomCronJob:
    values, schedule = _validated(session, registry, form, tz, None)
    row = CustomCronJob(**values, created_by=who[:64], created_at=now, updated_at=now)
    session.add(row)
    session.flush()
    store_schedule(session, row.key, schedule, form.get("enabled", True) not in (False, "", "0", None), who, now)
    return row


def update_custom(session: Session, registry, job_id: int, form: dict, tz: str, who: str, now: datetime) -> CustomCronJob:
    row = get_custom(session, job_id)
    values, schedule = _validated(session, registry, form, tz, job_id)
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_at = now
    session.add(row)
    store_schedule(session, row.key, schedule, form.get("enabled", True) not in (False, "", "0", None), who, now)
    return row


def delete_custom(session: Session, job_id: int) -> str:
    """Deletes the job and its schedule; its run records stay (they are history). Returns its name."""
    row = get_custom(session, job_id)
    name, key = row.name, row.key
    session.delete(row)
    session.execute(delete(CronSchedule.__table__).where(CronSchedule.__table__.c.job_key == key))
    bump_version(session)
    session.flush()
    return name
