"""定时触发: scheduled features (社群推送, 定时提醒, 朋友圈同步, 自动建群) are ordinary strategies on
the `schedule.fired` event. Every minute the scheduler leader finds the triggers whose time has
come — cron or one-time, in the configured zone — and emits one `schedule.fired` event each
through the same ingestion path as any event, so 事件历史 shows every firing.

A trigger whose strategy is disabled is not fired but still moves on, so enabling it later does
not replay the runs it missed; after downtime a trigger fires once, not once per missed slot.
Each firing's event id is the trigger key plus the slot time: a crash between emitting and
advancing re-emits the same id, which ingestion stores only once.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select, update
from sqlmodel import Session

from config.clock import as_utc
from engine.cron import CronJob
from events.field_types import FieldValueError, parse_datetime
from rules.errors import RulesError
from rules.models import ScheduleTrigger, Strategy

log = logging.getLogger("ckb.schedule")
TRIGGERS = ScheduleTrigger.__table__
EVENT_CODE = "schedule.fired"
ORIGIN = "schedule"


def cron_trigger(cron: str, tz: str) -> CronTrigger:
    try:
        return CronTrigger.from_crontab(cron, timezone=tz)
    except ValueError as exc:
        raise RulesError(f"定时表达式「{cron}」无效：{exc}", {"schedule": f"定时表达式「{cron}」无效"}) from None


def next_fire_at(cron: str, run_at: datetime | None, after: datetime, tz: str) -> datetime | None:
    """The first slot strictly after `after` (aware UTC), or None when a one-time trigger is spent."""
    if not cron:
        return as_utc(run_at) if run_at is not None and as_utc(run_at) > after else None
    nxt = cron_trigger(cron, tz).get_next_fire_time(None, after + timedelta(seconds=1))
    return as_utc(nxt) if nxt is not None else None


def sync_triggers(session: Session, strategy_id: int, schedule_key: str, entries: list[dict], tz: str,
                  now: datetime) -> list[ScheduleTrigger]:
    """Makes the strategy's triggers exactly `entries` ([{cron} | {run_at}]); keys are schedule_key#i."""
    wanted = {}
    for i, entry in enumerate(entries):
        cron = str(entry.get("cron") or "").strip()
        run_at = None
        if not cron:
            try:
                run_at = parse_datetime(entry.get("run_at"), tz)
            except FieldValueError as exc:
                raise RulesError(f"定时时间无效：{exc}", {"schedule": "定时时间无效"}) from None
        wanted[f"{schedule_key}#{i}"] = (cron, run_at)
    existing = {t.key: t for t in session.execute(select(ScheduleTrigger).where(ScheduleTrigger.strategy_id == strategy_id)).scalars()}
    out = []
    for key, trigger in existing.items():
        if key not in wanted:
            session.delete(trigger)
    for key, (cron, run_at) in wanted.items():
        trigger = existing.get(key) or ScheduleTrigger(strategy_id=strategy_id, key=key)
        if trigger.cron != cron or trigger.run_at != run_at or trigger.next_fire_at is None:
            trigger.cron, trigger.run_at = cron, run_at
            trigger.next_fire_at = next_fire_at(cron, run_at, now - timedelta(seconds=1), tz)
        trigger.payload = {"schedule_key": schedule_key}
        trigger.enabled = True
        session.add(trigger)
        out.append(trigger)
    session.flush()
    return out


def delete_triggers(session: Session, strategy_id: int) -> int:
    rows = list(session.execute(select(ScheduleTrigger).where(ScheduleTrigger.strategy_id == strategy_id)).scalars())
    for row in rows:
        session.delete(row)
    session.flush()
    return len(rows)


def triggers_of(session: Session, strategy_ids: list[int]) -> dict[int, list[ScheduleTrigger]]:
    out: dict[int, list[ScheduleTrigger]] = {}
    if strategy_ids:
        for t in session.execute(select(ScheduleTrigger).where(ScheduleTrigger.strategy_id.in_(strategy_ids))
                              .order_by(ScheduleTrigger.key)).scalars():
            out.setdefault(t.strategy_id, []).append(t)
    return out


def _due(runtime, now: datetime) -> list:
    with runtime.services.db.read() as s:
        return s.execute(
            select(TRIGGERS.c.id, TRIGGERS.c.key, TRIGGERS.c.strategy_id, TRIGGERS.c.cron, TRIGGERS.c.run_at,
                   TRIGGERS.c.payload, TRIGGERS.c.next_fire_at, Strategy.__table__.c.enabled)
            .join(Strategy.__table__, Strategy.__table__.c.id == TRIGGERS.c.strategy_id, isouter=True)
            .where(TRIGGERS.c.enabled == True, TRIGGERS.c.next_fire_at <= now)  # noqa: E712
            .order_by(TRIGGERS.c.next_fire_at, TRIGGERS.c.id)
        ).all()


def fire_due(runtime) -> str:
    """The cron job: emit `schedule.fired` for every due trigger of an enabled strategy, then advance."""
    services = runtime.services
    tz, now = services.settings.timezone, services.now()
    fired = skipped = 0
    for t in _due(runtime, now):
        slot = as_utc(t.next_fire_at)
        if t.enabled:
            payload = dict(t.payload or {})
            event = {"event": EVENT_CODE, "id": f"{t.key}@{slot.isoformat()}", "occurred_at": slot.isoformat(),
                     "data": {"schedule_key": payload.get("schedule_key") or t.key, "strategy_id": t.strategy_id,
                              "fired_at": slot.isoformat()}}
            result = runtime.ingestor.ingest_trusted(ORIGIN, ORIGIN, [event])
            if result.payload.get("rejected"):
                log.warning("schedule event refused", extra={"trigger": t.key, "rejected": result.payload["rejected"]})
            fired += 1
        else:
            skipped += 1
        run_at = as_utc(t.run_at) if t.run_at else None
        nxt = next_fire_at(t.cron or "", run_at, now, tz)
        with services.db.write() as s:
            values = {"next_fire_at": nxt, "enabled": nxt is not None}
            if t.enabled:
                values["last_fired_at"] = slot
            s.execute(update(TRIGGERS).where(TRIGGERS.c.id == t.id, TRIGGERS.c.next_fire_at == t.next_fire_at)
                      .values(**values))
    if not fired and not skipped:
        return "没有到期的定时触发器"
    return f"定时触发 {fired} 个" + (f"，策略未启用跳过 {skipped} 个" if skipped else "")


CRON_JOB = CronJob("schedule_triggers", "定时触发器", {"minute": "*"}, fire_due)
