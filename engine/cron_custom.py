"""定时任务注册: jobs an admin registers in 任务调度 — on a schedule, fire a registered event (its data
checked against the definition's typed fields) or call a registered HTTP processor.

Both go through the one door into the ledger. An event job stores its event with
Ingestor.ingest_trusted (source "cron"), so the dispatcher matches strategies on it and 事件历史
shows it. An HTTP job stores a `schedule.fired` event and plans one step of the processor on it
(engine.own_steps, as 定向营销 does): the executor calls the processor with its retries, dead
letter and history, and the run's summary reports the step's outcome.
"""
from __future__ import annotations

import time
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from engine.cron import CronJob
from engine.cron_models import CUSTOM_ACTION_LABELS, CustomCronJob
from engine.errors import JobError
from engine.models import StrategyTask
from engine.own_steps import plan_step
from events.definitions import ensure_builtin, get_by_code
from events.field_types import normalise as normalise_data
from events.ingestion import store_trusted
from events.models import EventDefinition
from handlers.errors import UnknownProcessor
from handlers.models import ProcessorDefinition

CUSTOM_OWNER = "cron.custom"
SOURCE = "cron"
TICKET_EVENT = "schedule.fired"
WAIT_SLACK_SECONDS = 5.0
MAX_WAIT_SECONDS = 60.0


def event_choices(session: Session) -> list[tuple[str, str]]:
    return [(d.code, d.picker_label()) for d in session.execute(
        select(EventDefinition).where(EventDefinition.enabled == True).order_by(EventDefinition.name)).scalars()]  # noqa: E712


def processor_choices(session: Session) -> list[tuple[str, str]]:
    return [(d.key, d.name + ("" if d.enabled else "（已停用）")) for d in session.execute(
        select(ProcessorDefinition).order_by(ProcessorDefinition.name)).scalars()]


def action_fields(session: Session, registry, action: str, target: str) -> list[dict]:
    """The typed fields of the chosen event, or the step fields of the chosen processor:
    [{name, label, type, required, help}] for the form."""
    if action == "event" and target:
        definition = get_by_code(session, target)
        return [{"name": f["name"], "label": f.get("label") or f["name"], "type": f.get("type", "text"),
                 "required": bool(f.get("required")), "help": f.get("remark", "")}
                for f in (definition.fields if definition else [])]
    if action == "http" and target:
        try:
            processor = registry.get(target)
        except UnknownProcessor:
            return []
        return [{"name": f.name, "label": f.label, "type": "text", "required": bool(getattr(f, "required", False)),
                 "help": f.help} for f in processor.config_fields]
    return []


def clean(session: Session, registry, form: dict, tz: str, existing_id: int | None = None) -> dict:
    """Validated {name, action, target, data, remark} from the form; JobError names each bad field."""
    errors: dict[str, str] = {}
    name = str(form.get("name") or "").strip()
    if not name:
        errors["name"] = "请填写任务名称"
    elif len(name) > 100:
        errors["name"] = "任务名称最多 100 个字"
    else:
        clash = session.execute(select(CustomCronJob.id).where(CustomCronJob.name == name)).scalar()
        if clash is not None and clash != existing_id:
            errors["name"] = "已有同名的定时任务"
    action = str(form.get("action") or "")
    target = str(form.get("target") or "").strip()
    raw = {k: v for k, v in (form.get("data") or {}).items()}
    data: dict = {}
    if action not in CUSTOM_ACTION_LABELS:
        errors["action"] = "请选择任务动作"
    elif action == "event":
        definition = get_by_code(session, target) if target else None
        if definition is None or not definition.enabled:
            errors["target"] = "请选择一个已启用的事件"
        else:
            declared = {f["name"] for f in definition.fields}
            values, problems = normalise_data(definition.fields, {k: v for k, v in raw.items() if k in declared}, tz)
            for p in problems:
                errors[f"data.{p['field']}"] = p["message"]
            data = {k: v for k, v in values.items() if v not in (None, "")}
    else:
        definition = session.execute(select(ProcessorDefinition).where(ProcessorDefinition.key == target)).scalars().first()
        if definition is None:
            errors["target"] = "请选择一个已注册的 HTTP 处理器"
        else:
            processor = registry.get(target)
            data = {f.name: str(raw.get(f.name, "")).strip() for f in processor.config_fields
                    if str(raw.get(f.name, "")).strip()}
            for problem in processor.validate_config(data):
                errors.setdefault("target", problem)
    remark = str(form.get("remark") or "").strip()
    if len(remark) > 500:
        errors["remark"] = "备注最多 500 个字"
    if errors:
        raise JobError("请修改标红的项目", errors)
    return {"name": name, "action": action, "target": target, "data": data, "remark": remark}


def as_cron_job(custom: CustomCronJob, cron: dict) -> CronJob:
    snapshot = custom.model_copy()
    run = _fire_event if custom.action == "event" else _call_http
    return CronJob(custom.key, custom.name, cron, lambda runtime: run(runtime, snapshot), owner=CUSTOM_OWNER)


def _fire_id(job: CustomCronJob, now: datetime) -> str:
    return f"{job.key}@{now.isoformat()}"


def _fire_event(runtime, job: CustomCronJob) -> str:
    now = runtime.services.now()
    event = {"event": job.target, "id": _fire_id(job, now), "occurred_at": now.isoformat(), "data": dict(job.data or {})}
    result = runtime.ingestor.ingest_trusted(SOURCE, f"{SOURCE}:{job.key}", [event])
    rejected = result.payload.get("rejected") or []
    if rejected:
        reasons = "；".join(e.get("message", "") for e in rejected[0].get("errors") or []) or rejected[0].get("reason")
        raise JobError(f"事件「{job.target}」未通过校验：{reasons}")
    stored = (result.payload.get("accepted") or result.payload.get("duplicates") or [{}])[0]
    return f"已触发事件「{job.target}」（事件记录 #{stored.get('record_id')}）"


def _call_http(runtime, job: CustomCronJob) -> str:
    svc = runtime.services
    now = svc.now()
    processor = runtime.registry.get(job.target)  # UnknownProcessor: the run fails with its message
    with svc.db.write() as s:
        ensure_builtin(s, ["schedule_fired"])
        event = {"event": TICKET_EVENT, "id": _fire_id(job, now), "occurred_at": now.isoformat(),
                 "data": {"schedule_key": job.key, "fired_at": now.isoformat()}}
        result = store_trusted(s, SOURCE, f"{SOURCE}:{job.key}", [event], now, svc.settings.timezone)
        accepted = result.payload.get("accepted") or []
        if not accepted:
            raise JobError("本次调用已记录过，未重复执行")
        record_id = accepted[0]["record_id"]
        idem = f"cron:{job.key}:{record_id}"
        plan_step(s, record_id, f"定时任务「{job.name}」", processor, dict(job.data or {}), idem, now,
                  runtime.registry.max_attempts(processor.key))
    runtime.submit(runtime.scheduler.sweep())
    timeout = float(getattr(getattr(processor, "definition", None), "timeout_seconds", 10) or 10)
    task = _wait(svc.db, idem, min(MAX_WAIT_SECONDS, timeout + WAIT_SLACK_SECONDS))
    where = f"（事件记录 #{record_id}，步骤 #{task.id}）"
    if task.status == "done":
        code = (task.result or {}).get("status") or (task.result or {}).get("status_code")
        return f"调用 HTTP 处理器「{processor.name}」成功" + (f"，HTTP {code}" if code else "") + where
    if task.status in ("failed", "dead"):
        later = "，将按重试计划再试" if task.status == "failed" else "，已转入死信"
        raise JobError(f"调用 HTTP 处理器「{processor.name}」失败{later}：{task.last_error or '未知错误'}{where}")
    return f"已提交 HTTP 处理器「{processor.name}」，仍在执行{where}"


def _wait(db, idem: str, seconds: float) -> StrategyTask:
    """The planned step once it has an outcome (or as it is when `seconds` have passed)."""
    deadline = time.monotonic() + seconds
    while True:
        with db.read() as s:
            task = s.execute(select(StrategyTask).where(StrategyTask.idempotency_key == idem)).scalars().one()
            s.expunge(task)
        if task.status not in ("pending", "running") or time.monotonic() >= deadline:
            return task
        time.sleep(0.1)
