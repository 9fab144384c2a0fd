"""Deciding who is dialled now: for every running task inside its time window, pending numbers whose
retry time has come go to free seats (a seat has one call at a time). Per-number limits are enforced
here, where calls are issued — like the risk budget for phones: a number on the 禁呼名单 (do-not-call
list) is skipped for good, and a number already dialled CKB_CALL_DAILY_ATTEMPTS times today (across
all tasks) waits for tomorrow. Each decision is a CallRecord in status 呼叫中 written before the CTI is
asked (engine/outbound_calls.py), so a crash between the two leaves a record the timeout sweep closes."""
from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from config.clock import as_utc, from_local, to_local
from config.pii_column import blind_index
from config.timewindow import TimeWindow
from crm.customers.normalize import normalize_mobile
from crm.leads.call_models import CallRecord, CallTarget, CallTask, DoNotCall
from crm.leads.errors import LeadsError

ACTIVE_CALL = ("dialing", "ringing", "answered")
STALE_CALL = timedelta(hours=2)  # a call the CTI never reported on is closed as failed after this


def _day_start(now: datetime, tz: str) -> datetime:
    local = to_local(now, tz)
    return from_local(datetime.combine(local.date(), time(0)), tz)


def attempts_today(session: Session, mobile_bidx: str, now: datetime, tz: str) -> int:
    return session.exec(select(func.count()).select_from(CallRecord).where(
        CallRecord.mobile_bidx == mobile_bidx, CallRecord.started_at >= _day_start(now, tz))).one()


def is_blocked(session: Session, mobile_bidx: str) -> bool:
    return session.exec(select(DoNotCall.id).where(DoNotCall.mobile_bidx == mobile_bidx)).first() is not None


def add_do_not_call(session: Session, mobile: str, reason: str, user_id) -> DoNotCall:
    try:
        number = normalize_mobile(mobile)
    except ValueError as exc:
        raise LeadsError(str(exc), {"mobile": str(exc)}) from None
    if not number:
        raise LeadsError("请填写手机号", {"mobile": "请填写手机号"})
    existing = session.exec(select(DoNotCall).where(DoNotCall.mobile_bidx == blind_index("mobile", number))).first()
    if existing is not None:
        return existing
    row = DoNotCall(mobile=number, reason=str(reason or "")[:200], created_by=user_id)
    session.add(row)
    session.flush()
    return row


def _busy_seats(session: Session) -> set[int]:
    return set(session.exec(select(CallRecord.seat_user_id).where(col(CallRecord.status).in_(ACTIVE_CALL))).all())


def plan_dials(session: Session, now: datetime, tz: str, daily_limit: int) -> list[int]:
    """Creates the CallRecords to dial now; returns their ids. Runs in one write transaction."""
    now = as_utc(now)
    local = to_local(now, tz)
    busy = _busy_seats(session)
    planned: list[int] = []
    for task in session.exec(select(CallTask).where(CallTask.status == "running").order_by(CallTask.id)).all():
        if not TimeWindow.parse(task.window).contains(local):
            continue
        free = [seat for seat in task.seat_user_ids if seat not in busy]
        if not free:
            continue
        due = session.exec(select(CallTarget).where(
            CallTarget.task_id == task.id, CallTarget.status == "pending",
            (CallTarget.next_attempt_at.is_(None)) | (CallTarget.next_attempt_at <= now))
            .order_by(CallTarget.next_attempt_at.is_not(None), CallTarget.next_attempt_at, CallTarget.id)
            .limit(len(free) * 5)).all()
        for target in due:
            if not free:
                break
            if is_blocked(session, target.mobile_bidx):
                target.status, target.reason = "skipped", "号码在禁呼名单中"
                session.add(target)
                continue
            if attempts_today(session, target.mobile_bidx, now, tz) >= daily_limit:
                target.next_attempt_at = _day_start(now + timedelta(days=1), tz)
                target.reason = f"该号码今日已拨打 {daily_limit} 次，明天再拨"
                session.add(target)
                continue
            seat = free.pop(0)
            busy.add(seat)
            target.status, target.attempts, target.updated_at, target.reason = "calling", target.attempts + 1, now, ""
            session.add(target)
            record = CallRecord(call_id=f"ckb-{uuid.uuid4().hex}", task_id=task.id, target_id=target.id,
                                seat_user_id=seat, lead_id=target.lead_id, customer_id=target.customer_id,
                                mobile=target.mobile, status="dialing", started_at=now)
            session.add(record)
            session.flush()
            planned.append(record.id)
    return planned


def stale_calls(session: Session, now: datetime) -> list[CallRecord]:
    return list(session.exec(select(CallRecord).where(col(CallRecord.status).in_(ACTIVE_CALL),
                                                      CallRecord.started_at < as_utc(now) - STALE_CALL)).all())
