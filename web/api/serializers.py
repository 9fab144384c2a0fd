"""Model → JSON for the API (and the console's JSON endpoints). Secrets never leave."""
from __future__ import annotations

from web.api.common import iso, masked


def definition(d) -> dict:
    return {"id": d.id, "code": d.code, "name": d.name, "enabled": d.enabled, "remark": d.remark,
            "fields": d.fields, "builtin_key": d.builtin_key, "version": d.version,
            "created_at": iso(d.created_at), "updated_at": iso(d.updated_at)}


def app(a) -> dict:
    return {"id": a.id, "name": a.name, "app_key": a.app_key, "ip_allowlist": a.ip_allowlist, "enabled": a.enabled,
            "remark": a.remark, "secret_rotating_until": iso(a.previous_secret_expires_at),
            "created_at": iso(a.created_at), "updated_at": iso(a.updated_at)}


def processor_definition(p) -> dict:
    return {"id": p.id, "key": p.key, "name": p.name, "method": p.method, "url": p.url, "params": p.params,
            "headers": p.headers, "body": p.body, "timeout_seconds": p.timeout_seconds, "remark": p.remark,
            "enabled": p.enabled, "disabled_reason": p.disabled_reason, "retry_schedule": p.retry_schedule,
            "builtin": False, "created_at": iso(p.created_at), "updated_at": iso(p.updated_at)}


def group(g) -> dict:
    return {"id": g.id, "name": g.name, "position": g.position}


def strategy(s) -> dict:
    return {"id": s.id, "name": s.name, "group_id": s.group_id, "event_id": s.event_id, "enabled": s.enabled,
            "position": s.position, "starts_at": iso(s.starts_at), "ends_at": iso(s.ends_at),
            "conditions": s.conditions, "steps": s.steps, "remark": s.remark, "version": s.version,
            "created_by": s.created_by, "created_at": iso(s.created_at), "updated_at": iso(s.updated_at)}


def version(v) -> dict:
    return {"version": v.version, "changed_by": v.changed_by, "changed_at": iso(v.changed_at),
            "summary": v.summary, "snapshot": v.snapshot}


def task(t, strategy_name: str = "", event_code: str = "") -> dict:
    return {"id": t.id, "event_record_id": t.event_record_id, "strategy_id": t.strategy_id,
            "strategy_name": strategy_name, "event_code": event_code, "step_index": t.step_index,
            "processor_key": t.processor_key, "processor_name": t.processor_name, "timing": t.timing,
            "due_at": iso(t.due_at), "status": t.status, "attempts": t.attempts, "max_attempts": t.max_attempts,
            "last_error": masked(t.last_error), "note": t.note, "rendered": masked(t.rendered),
            "result": masked(t.result), "created_at": iso(t.created_at), "finished_at": iso(t.finished_at)}


def attempt(a) -> dict:
    return {"number": a.number, "state": a.state, "ok": a.ok, "retryable": a.retryable, "started_at": iso(a.started_at),
            "finished_at": iso(a.finished_at), "duration_ms": a.duration_ms, "request": masked(a.request),
            "response": masked(a.response), "error": masked(a.error)}


def record(r, app_name: str = "", event_name: str = "", outcome_label: str = "") -> dict:
    return {"id": r.id, "event_code": r.event_code, "event_name": event_name, "app_id": r.app_id,
            "app_name": app_name, "source": r.source, "external_id": r.external_id,
            "occurred_at": iso(r.occurred_at), "received_at": iso(r.received_at), "status": r.status,
            "reject_reason": r.reject_reason, "errors": masked(r.errors), "outcome": r.outcome,
            "outcome_label": outcome_label, "outcome_note": masked(r.outcome_note), "matched_count": r.matched_count,
            "data": masked(r.data)}
