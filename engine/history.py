"""事件历史: every event record with its outcome, and — expanded — the strategies it matched
(or why none did), each step's status, attempts, rendered request, response or error.

The viewer reads only the ledger; "why didn't it fire" re-explains the stored event against
the strategies as they are now, row by row.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlalchemy import exists, func, select
from sqlmodel import Session

from config.clock import from_local, to_local
from engine.models import StepAttempt, StrategyRun, StrategyTask
from events.field_types import typed
from events.ingestion import REJECT_LABELS
from events.models import App, EventDefinition, EventRecord
from rules.conditions import ConditionError, explain, parse_conditions
from rules.models import Strategy

OUTCOME_LABELS = {"matched": "匹配成功", "unmatched": "未匹配", "none": "无订阅策略", "error": "匹配出错",
                  "rejected": "接入失败", "": "待处理"}


@dataclass
class HistoryFilter:
    event_code: Optional[str] = None
    app_id: Optional[int] = None
    since: Optional[datetime] = None
    until: Optional[datetime] = None
    outcome: Optional[str] = None  # matched | unmatched | none | error | rejected | pending
    task_status: Optional[str] = None  # done | dead | failed | pending | cancelled | skipped
    strategy_id: Optional[int] = None
    page: int = 1
    per_page: int = 20


def list_records(session: Session, f: HistoryFilter) -> tuple[list[dict], int]:
    E = EventRecord
    conds = []
    if f.event_code:
        conds.append(E.event_code == f.event_code)
    if f.app_id:
        conds.append(E.app_id == f.app_id)
    if f.since:
        conds.append(E.received_at >= f.since)
    if f.until:
        conds.append(E.received_at < f.until)
    if f.outcome == "pending":
        conds.append(E.outcome == "")
    elif f.outcome:
        conds.append(E.outcome == f.outcome)
    if f.task_status:
        conds.append(exists().where(StrategyTask.event_record_id == E.id, StrategyTask.status == f.task_status))
    if f.strategy_id:
        conds.append(exists().where(StrategyRun.event_record_id == E.id, StrategyRun.strategy_id == f.strategy_id))
    total = session.execute(select(func.count(E.id)).where(*conds)).scalar() or 0
    rows = session.execute(
        select(E, App.name, EventDefinition.name)
        .join(App, App.id == E.app_id, isouter=True)
        .join(EventDefinition, EventDefinition.code == E.event_code, isouter=True)
        .where(*conds).order_by(E.id.desc()).offset((f.page - 1) * f.per_page).limit(f.per_page)
    ).all()
    return [{"record": r, "app_name": a or source_label(r.source), "event_name": n or r.event_code,
             "outcome_label": outcome_label(r)} for r, a, n in rows], total


def start_of_today(now: datetime, tz: str) -> datetime:
    """Midnight of the configured zone's today, as aware UTC (事件历史 defaults to today)."""
    local = to_local(now, tz)
    return from_local(datetime.combine(local.date(), datetime.min.time()), tz)


def source_label(source: str) -> str:
    return {"api": "开放接口", "device": "设备", "webhook": "平台回调", "schedule": "定时", "crm": "客户中心",
            "console": "控制台", "lead": "获客线索", "marketing": "定向营销"}.get(source, source)


def outcome_label(record: EventRecord) -> str:
    if record.status == "rejected":
        return f"接入失败（{REJECT_LABELS.get(record.reject_reason, record.reject_reason)}）"
    return OUTCOME_LABELS.get(record.outcome, record.outcome)


def record_detail(session: Session, record_id: int, now: datetime, tz: str) -> Optional[dict]:
    record = session.get(EventRecord, record_id)
    if record is None:
        return None
    runs = list(session.execute(select(StrategyRun).where(StrategyRun.event_record_id == record_id)
                                .order_by(StrategyRun.id)).scalars())
    tasks = list(session.execute(select(StrategyTask).where(StrategyTask.event_record_id == record_id)
                                 .order_by(StrategyTask.strategy_run_id, StrategyTask.step_index)).scalars())
    attempts: dict[int, list] = {}
    if tasks:
        for a in session.execute(select(StepAttempt).where(StepAttempt.task_id.in_([t.id for t in tasks]))
                                 .order_by(StepAttempt.number)).scalars():
            attempts.setdefault(a.task_id, []).append(a)
    app = session.get(App, record.app_id) if record.app_id else None
    definition = session.execute(select(EventDefinition).where(EventDefinition.code == record.event_code)).scalars().first()
    matched_ids = {r.strategy_id for r in runs}
    return {
        "record": record, "app_name": app.name if app else source_label(record.source),
        "event_name": definition.name if definition else record.event_code, "outcome_label": outcome_label(record),
        "runs": [{"run": r, "tasks": [{"task": t, "attempts": attempts.get(t.id, [])} for t in tasks
                                      if t.strategy_run_id == r.id]} for r in runs],
        "unmatched": _explain_unmatched(session, record, definition, matched_ids, now, tz) if record.status == "accepted" else [],
    }


def _explain_unmatched(session: Session, record: EventRecord, definition, matched_ids: set, now, tz) -> list[dict]:
    """Why each enabled strategy of this event did not fire, row by row."""
    if definition is None:
        return []
    data = typed(definition.fields or [], record.data or {}, tz)
    out = []
    for s in session.execute(select(Strategy).where(Strategy.event_id == definition.id).order_by(Strategy.id)).scalars():
        if s.id in matched_ids:
            continue
        if not s.enabled:
            out.append({"strategy": s, "reason": "策略未启用", "trace": []})
            continue
        try:
            ok, trace = explain(parse_conditions(s.conditions or [], definition.fields or []), data, now)
        except ConditionError as exc:
            out.append({"strategy": s, "reason": f"条件无法解析：{exc.message}", "trace": []})
            continue
        reason = "条件不满足" if not ok else "当前条件满足（可能是事件接入后才修改或启用了策略）"
        out.append({"strategy": s, "reason": reason, "trace": trace})
    return out
