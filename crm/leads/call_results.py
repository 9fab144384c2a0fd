"""What happens to a call: the CTI's signed status callbacks (振铃 → 接通 → 结束, with duration, result,
意向 level, the seat's notes and a recording URL) and dial failures update the CallRecord; an ended call
settles its number in the task (接通 → done; 未接通 / 忙线 → retried after the task's gap while attempts
remain, else failed) and becomes an event (`call.answered`, `call.ended`) so strategies tag, assign and
follow up. A lead's call also runs the lead pipeline again: the 意向 and notes land in the lead's data,
the scene's tag rules re-tag it, and an unassigned lead is assigned by the scene's rules.

Callbacks repeat and arrive out of order (a late 振铃 after 结束): a record never moves backwards."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional
from urllib.parse import urlsplit

from sqlmodel import Session, select

from config.clock import as_utc
from config.pii import mask_mobile
from crm.events_out import emit
from crm.leads.assignment import apply_assignment, decide
from crm.leads.call_models import CALL_RESULTS, INTENTS, CallRecord, CallTarget, CallTask
from crm.leads.errors import LeadNotFound, LeadsError
from crm.leads.intake import event_data
from crm.leads.models import Lead, LeadScene
from crm.leads.tagging import tag_lead
from events.builtin import CALL_EVENT_KEYS
from events.definitions import ensure_builtin

ORDER = {"dialing": 0, "ringing": 1, "answered": 2, "ended": 3}
EVENTS = ("ringing", "answered", "ended")


def _event(session: Session, code: str, record: CallRecord, tz: str, now: datetime, **extra) -> None:
    ensure_builtin(session, CALL_EVENT_KEYS)
    emit(session, code, {"call_id": record.call_id, "task_id": record.task_id, "lead_id": record.lead_id,
                         "customer_id": record.customer_id, "seat_user_id": record.seat_user_id,
                         "mobile": record.mobile or "", **extra}, tz, source="lead",
         event_id=f"{code}:{record.call_id}", now=now)


def _settle_target(session: Session, record: CallRecord, now: datetime) -> None:
    target = session.get(CallTarget, record.target_id) if record.target_id else None
    if target is None or target.status != "calling":
        return
    task = session.get(CallTask, record.task_id)
    target.last_result, target.updated_at = record.result, now
    if record.result == "answered":
        target.status, target.reason = "done", ""
    elif task is not None and record.result in (task.retry_on or []) and target.attempts < task.max_attempts \
            and task.status != "done":
        target.status = "pending"
        target.next_attempt_at = now + timedelta(minutes=task.retry_minutes)
        target.reason = f"{CALL_RESULTS[record.result]}，{task.retry_minutes} 分钟后重拨（第 {target.attempts} 次）"
    else:
        target.status = "failed"
        target.reason = record.error or f"{CALL_RESULTS.get(record.result, record.result)}（已拨 {target.attempts} 次）"
    session.add(target)


def _rerun_lead_pipeline(session: Session, record: CallRecord, now: datetime, tz: str) -> None:
    lead = session.get(Lead, record.lead_id) if record.lead_id else None
    if lead is None:
        return
    scene = session.get(LeadScene, lead.scene_id)
    data = dict(lead.lead_data or {})
    data.update({"call_status": "通话结束", "duration": record.duration_seconds, "call_result": record.result})
    if record.intent:
        data["intent"] = record.intent
    if record.notes:
        data["call_notes"] = record.notes
    lead.lead_data, lead.updated_at = data, now
    facts = event_data(lead.id, scene, data, lead.channel_id, lead.plan_id, "updated", "outbound_call")
    tag_lead(session, lead, scene, facts, now, tz)
    if lead.assignee_user_id is None and lead.assignee_group_id is None:
        decision = decide(session, lead, scene, facts, now, tz)
        if not decision.held:
            apply_assignment(session, lead, decision, actor="system:outbound_call", now=now)
    session.add(lead)


def finish(session: Session, record: CallRecord, result: str, now: datetime, tz: str, *, error: str = "",
           duration: int = 0, intent: str = "", notes: str = "", recording_url: str = "") -> CallRecord:
    """Ends a call once (a repeated 结束 changes nothing)."""
    if record.status == "ended":
        return record
    now = as_utc(now)
    record.status, record.result, record.ended_at, record.error = "ended", result, now, error[:500]
    record.duration_seconds, record.intent, record.notes = max(0, duration), intent, notes[:2000]
    record.recording_url = recording_url[:1000]
    session.add(record)
    _settle_target(session, record, now)
    _event(session, "call.ended", record, tz, now, duration=record.duration_seconds, result=result,
           result_label=CALL_RESULTS.get(result, result), intent=intent, notes=record.notes)
    if record.lead_id and result == "answered":
        _rerun_lead_pipeline(session, record, now, tz)
    return record


def _clean(payload: dict) -> dict:
    errors: dict[str, str] = {}
    if not isinstance(payload, dict):
        raise LeadsError("回调内容应为 JSON 对象")
    event = payload.get("event")
    if event not in EVENTS:
        errors["event"] = f"event 应为 {'/'.join(EVENTS)}"
    result = payload.get("result") or ("answered" if event == "ended" and payload.get("duration") else "")
    if event == "ended" and result not in ("answered", "no_answer", "busy", "failed"):
        errors["result"] = "result 应为 answered/no_answer/busy/failed"
    duration = payload.get("duration", 0)
    if isinstance(duration, bool) or not isinstance(duration, int) or not 0 <= duration <= 86400:
        errors["duration"] = "duration 应为 0–86400 的整数（秒）"
    intent = payload.get("intent") or ""
    if intent not in ("",) + INTENTS:
        errors["intent"] = f"intent 应为 {'/'.join(INTENTS)}"
    notes, url = payload.get("notes") or "", payload.get("recording_url") or ""
    if not isinstance(notes, str) or len(notes) > 2000:
        errors["notes"] = "notes 应为不超过 2000 字的文本"
    if not isinstance(url, str) or len(url) > 1000 or (url and urlsplit(url).scheme not in ("http", "https")):
        errors["recording_url"] = "recording_url 应为 http(s) 地址"
    if errors:
        raise LeadsError("通话回调内容有误", errors)
    return {"event": event, "result": result, "duration": duration, "intent": intent, "notes": notes, "url": url}


def apply_callback(session: Session, payload: dict, now: datetime, tz: str) -> CallRecord:
    clean = _clean(payload)
    record = session.exec(select(CallRecord).where(CallRecord.call_id == str(payload.get("call_id") or "")[:64])).first()
    if record is None:
        raise LeadNotFound(f"通话 {str(payload.get('call_id') or '')[:64]} 不存在")
    now = as_utc(now)
    if ORDER[clean["event"]] <= ORDER[record.status] and clean["event"] != "ended":
        return record  # repeated or late: never backwards
    if clean["event"] == "ringing":
        record.status = "ringing"
    elif clean["event"] == "answered":
        record.status, record.answered_at = "answered", now
        _event(session, "call.answered", record, tz, now)
    else:
        if record.answered_at is None and clean["result"] == "answered":
            record.answered_at = now - timedelta(seconds=clean["duration"])
        finish(session, record, clean["result"], now, tz, duration=clean["duration"], intent=clean["intent"],
               notes=clean["notes"], recording_url=clean["url"])
    session.add(record)
    return record


def masked_number(record_mobile: Optional[str], can_see: bool) -> str:
    return (record_mobile or "") if can_see else mask_mobile(record_mobile or "")
