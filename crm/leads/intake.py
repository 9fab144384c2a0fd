"""线索接入: every way in (API, platform webhooks, polling, files, payment codes, posters) ends here.

A submission is mapped and cleaned by its scene's current rules, then stored in ONE write
transaction as: the Lead (status NEW, raw data kept), its first log line, and the event
lead.<scene key> that the scene's strategy processes (identify → tag → assign → respond).
So an acknowledged lead is never lost, and its processing is as visible as any event's.

Idempotency: a platform's own id (external_id) is unique per scene. A second delivery of the same
id is acknowledged as a duplicate and changes nothing — unless it is an update ("updated" stage,
e.g. a call that ended), which merges the new fields and runs the scene's strategy again.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Optional, Union

from sqlalchemy import insert, select, update
from sqlmodel import Session

from config.clock import to_local, utcnow
from config.db import Database
from config.pii_column import CONTACT_FIELDS, with_indexes
from config.dialect_insert import insert_for
from crm.events_out import emit
from crm.leads.errors import LeadsError, SubmissionRefused
from crm.leads.logs import write_log
from crm.leads.mapping import map_submission
from crm.leads.models import DEAD_LETTER_STATUSES, AcquisitionPlan, Lead, LeadChannel, LeadDeadLetter, LeadLog, LeadScene
from events.ingestion import SessionDefinitions, store_trusted
from events import safe_json

LEADS = Lead.__table__
SOURCES = {"api": "接口", "webhook": "平台推送", "pull": "平台同步", "file": "文件导入", "payment": "付款码",
           "qr": "扫码表单", "console": "手工录入"}
_INSERTS: dict[str, object] = {}
_UNKNOWN = object()  # the scene's running plan, not looked up yet


@dataclass
class Submission:
    raw: dict
    external_id: Optional[str] = None
    meta: dict = field(default_factory=dict)
    source: str = "api"
    channel_id: Optional[int] = None
    plan_id: Optional[int] = None
    stage: str = "created"  # "updated": merge into the lead with this external_id and run again


@dataclass
class Accepted:
    lead_id: int
    duplicate: bool = False


Result = Union[Accepted, SubmissionRefused]


def event_data(lead_id: int, scene: LeadScene, lead_data: dict, channel_id, plan_id, stage: str, source: str) -> dict:
    return {**lead_data, "lead_id": lead_id, "scene_id": scene.id, "scene_type": scene.scene_type,
            "channel_id": channel_id, "plan_id": plan_id, "stage": stage, "source": source}


def _insert_lead(conn, values: dict) -> Optional[int]:
    """INSERT … ON CONFLICT (scene_id, external_id) DO NOTHING RETURNING id: one statement, safe
    against a concurrent delivery of the same id on PostgreSQL (SQLite serialises writers)."""
    stmt = _INSERTS.get(conn.dialect.name)
    if stmt is None:
        ins = insert_for(conn)(LEADS)
        stmt = _INSERTS[conn.dialect.name] = ins.on_conflict_do_nothing(
            index_elements=["scene_id", "external_id"]).returning(LEADS.c.id)
    return conn.execute(stmt, values).scalar()


class _Intake:
    """One scene, one transaction: the scene, its event definition and known channels/plans are
    read once for the whole batch."""

    def __init__(self, session: Session, scene: LeadScene, tz: str):
        self.session, self.scene, self.tz = session, scene, tz
        self.conn = session.connection()
        self.definitions = SessionDefinitions(session)
        self.definition = self.definitions.get(scene.event_code) if scene.event_code else None
        self.now = utcnow()
        self.channels: dict[int, bool] = {}
        self.plans: dict[int, int] = {}
        self._default_plan = _UNKNOWN
        # Log lines and events of the batch, written by one statement each at the end (`flush`):
        # three statements per lead were most of a batch's time.
        self.logs: list[dict] = []
        self.events: list[dict] = []

    def _channel(self, sub: Submission, errors: dict) -> Optional[int]:
        if sub.channel_id in (None, ""):
            return self.scene.default_channel_id
        try:
            cid = int(sub.channel_id)
        except (TypeError, ValueError):
            errors["channel_id"] = "channel_id 应为整数"
            return None
        if cid not in self.channels:
            self.channels[cid] = self.session.get(LeadChannel, cid) is not None
        if not self.channels[cid]:
            errors["channel_id"] = f"渠道 {cid} 不存在"
        return cid

    def _running_plan(self) -> Optional[int]:
        """The scene's one running plan in its period (leads from webhooks, the API and polling
        name no plan; with exactly one campaign running they belong to it)."""
        if self._default_plan is _UNKNOWN:
            today = to_local(self.now, self.tz).date()
            plans = [p for p in self.session.execute(select(AcquisitionPlan).where(
                AcquisitionPlan.scene_id == self.scene.id, AcquisitionPlan.status == "running")).scalars()
                if (p.starts_on is None or p.starts_on <= today) and (p.ends_on is None or today <= p.ends_on)]
            self._default_plan = plans[0].id if len(plans) == 1 else None
        return self._default_plan

    def _plan(self, sub: Submission, errors: dict) -> Optional[int]:
        if sub.plan_id in (None, ""):
            return self._running_plan()
        try:
            pid = int(sub.plan_id)
        except (TypeError, ValueError):
            errors["plan_id"] = "plan_id 应为整数"
            return None
        if pid not in self.plans:
            plan = self.session.get(AcquisitionPlan, pid)
            self.plans[pid] = plan.scene_id if plan else -1
        if self.plans[pid] != self.scene.id:
            errors["plan_id"] = f"获客计划 {pid} 不存在或不属于场景「{self.scene.name}」"
        return pid

    def one(self, sub: Submission, now: datetime) -> Result:
        if not self.scene.is_enabled:
            return SubmissionRefused(f"获客场景「{self.scene.name}」已停用", {"scene": "场景已停用"})
        if self.definition is None or not self.definition.enabled:
            return SubmissionRefused(f"获客场景「{self.scene.name}」的事件未注册或已禁用", {"scene": "场景事件不可用"})
        external_id = None if sub.external_id in (None, "") else str(sub.external_id)
        if external_id is not None and len(external_id) > 128:
            return SubmissionRefused("外部线索ID最多 128 个字符", {"external_lead_id": "外部线索ID最多 128 个字符"})
        unstorable = (safe_json.problems(sub.raw) + safe_json.problems(sub.meta, "meta")
                      + safe_json.problems(external_id, "external_lead_id"))
        if unstorable:  # NUL, lone surrogates, NaN/Infinity: refused naming the field, from every door
            return SubmissionRefused("线索数据有误：" + "；".join(p["message"] for p in unstorable),
                                     {p["field"]: p["message"] for p in unstorable})
        lead_data, problems = map_submission(self.scene, sub.raw, self.tz)
        errors = {p["field"]: p["message"] for p in problems}
        channel_id = self._channel(sub, errors)
        plan_id = self._plan(sub, errors)
        if errors:
            return SubmissionRefused("线索数据有误：" + "；".join(errors.values()), errors)
        if external_id is not None:
            existing = self.conn.execute(select(LEADS.c.id, LEADS.c.lead_data, LEADS.c.channel_id, LEADS.c.plan_id)
                                         .where(LEADS.c.scene_id == self.scene.id, LEADS.c.external_id == external_id)).first()
            if existing is not None:
                if sub.stage != "updated":
                    return Accepted(existing.id, duplicate=True)
                return self._merge(existing, sub, lead_data, now)
        values = {"scene_id": self.scene.id, "channel_id": channel_id, "plan_id": plan_id, "external_id": external_id,
                  "status": "NEW", "substatus": str(sub.raw.get("call_status") or "")[:32] if isinstance(sub.raw, dict) else "",
                  "lead_data": lead_data, "raw_data": sub.raw, "meta": sub.meta or {},
                  "name": str(lead_data.get("name") or "")[:100], "mobile": lead_data.get("mobile"),
                  "email": lead_data.get("email"), "region": str(lead_data.get("region") or "")[:64],
                  "value": float(lead_data.get("value") or 0), "tag_ids": [], "customer_is_new": False,
                  "notes": "", "error": "", "created_at": now, "updated_at": now}
        lead_id = _insert_lead(self.conn, with_indexes(values, CONTACT_FIELDS))
        if lead_id is None:  # a concurrent delivery of the same id won the race
            lead_id = self.conn.execute(select(LEADS.c.id).where(LEADS.c.scene_id == self.scene.id,
                                                                 LEADS.c.external_id == external_id)).scalar()
            return Accepted(lead_id, duplicate=True)
        self._log(lead_id, "received", f"通过{SOURCES.get(sub.source, sub.source)}接收线索", now,
                  {"source": sub.source, "external_id": external_id})
        self._emit(lead_id, lead_data, channel_id, plan_id, "created", sub.source)
        return Accepted(lead_id)

    def _merge(self, existing, sub: Submission, lead_data: dict, now: datetime) -> Accepted:
        merged = {**(existing.lead_data or {}), **{k: v for k, v in lead_data.items() if v not in (None, "")}}
        changes = {"lead_data": merged, "updated_at": now, "name": str(merged.get("name") or "")[:100],
                   "mobile": merged.get("mobile"), "email": merged.get("email"),
                   "region": str(merged.get("region") or "")[:64], "value": float(merged.get("value") or 0)}
        if isinstance(sub.raw, dict) and sub.raw.get("call_status"):
            changes["substatus"] = str(sub.raw["call_status"])[:32]
        self.conn.execute(update(LEADS).where(LEADS.c.id == existing.id).values(**with_indexes(changes, CONTACT_FIELDS)))
        updated = sorted(k for k, v in lead_data.items() if (existing.lead_data or {}).get(k) != v)
        self._log(existing.id, "updated", "线索信息更新：" + ("、".join(updated) if updated else "无变化"), now,
                  {"source": sub.source, "fields": updated})
        self._emit(existing.id, merged, existing.channel_id, existing.plan_id, "updated", sub.source)
        return Accepted(existing.id, duplicate=True)

    def _log(self, lead_id: int, stage: str, message: str, now: datetime, detail: dict) -> None:
        self.logs.append({"lead_id": lead_id, "stage": stage, "ok": True, "message": message, "detail": detail,
                          "actor": "system", "created_at": now})

    def _emit(self, lead_id, lead_data, channel_id, plan_id, stage, source) -> None:
        # A lead's creation is one event whatever happens, so it carries a dedupe id.
        data = event_data(lead_id, self.scene, lead_data, channel_id, plan_id, stage, source)
        self.events.append({"event": self.scene.event_code, "data": data,
                            **({"id": f"{lead_id}:created"} if stage == "created" else {})})

    def flush(self) -> None:
        """The batch's log lines, then its events through the one ingestion door, in this
        transaction (leads, logs and events commit together), in the leads' order."""
        if self.logs:
            self.conn.execute(insert(LeadLog.__table__), self.logs)
        if self.events:
            store_trusted(self.session, "lead", "lead", self.events, self.now, self.tz, self.definitions)
        self.logs, self.events = [], []


def submit(db: Database, scene_id: int, submissions: list[Submission], tz: str | None = None,
           now: Optional[datetime] = None) -> list[Result]:
    """Stores what is valid, refuses what is not (each with field errors); one transaction.
    `now` is the caller's clock (services.now()), so lead times agree with the engine's."""
    with db.write() as session:
        return submit_in(session, scene_id, submissions, tz, now)


def submit_in(session: Session, scene_id: int, submissions: list[Submission], tz: str | None = None,
              now: Optional[datetime] = None) -> list[Result]:
    """`submit` inside the caller's write transaction (the lead API takes its Idempotency-Key in
    the same transaction as the leads it stores)."""
    scene = session.get(LeadScene, scene_id)
    if scene is None:
        refused = SubmissionRefused(f"获客场景 {scene_id} 不存在", {"scene": "场景不存在"})
        return [refused for _ in submissions]
    intake = _Intake(session, scene, tz)
    intake.now = now or utcnow()
    results = [intake.one(sub, intake.now) for sub in submissions]
    intake.flush()
    return results


def reemit(session: Session, lead: Lead, stage: str, tz: str | None = None) -> None:
    """Runs the scene's strategy for a stored lead again (a re-drive after a fix)."""
    scene = session.get(LeadScene, lead.scene_id)
    emit(session, scene.event_code, event_data(lead.id, scene, dict(lead.lead_data or {}), lead.channel_id,
                                                lead.plan_id, stage, "console"), tz, source="lead")


# -- dead letters -----------------------------------------------------------------------------
def dead_letter(session: Session, scene_id: Optional[int], source: str, submission: Submission, reason: str,
                errors) -> LeadDeadLetter:
    errors_list = [{"field": k, "message": v} for k, v in errors.items()] if isinstance(errors, dict) else list(errors or [])
    # Kept for the console to show and re-drive: scrubbed, as a refused payload may hold what the
    # database cannot store (NUL, lone surrogates).
    row = LeadDeadLetter(scene_id=scene_id, source=source[:16], payload=safe_json.scrub(asdict(submission)),
                         reason=safe_json.scrub(reason[:1000]), errors=safe_json.scrub(errors_list), created_at=utcnow())
    session.add(row)
    session.flush()
    return row


def redrive(db: Database, dead_letter_id: int, tz: str | None = None, now: Optional[datetime] = None) -> int:
    """Processes a dead letter again under the scene's current rules; returns the lead id."""
    with db.read() as session:
        row = session.get(LeadDeadLetter, dead_letter_id)
        if row is None:
            raise LeadsError(f"死信 {dead_letter_id} 不存在")
        if row.status != "open":
            raise LeadsError("该死信已处理，不能重复处理")
        scene_id, payload, source, lead_id = row.scene_id, dict(row.payload or {}), row.source, row.lead_id
    if source == "pipeline" and lead_id:
        with db.write() as session:
            lead = session.get(Lead, lead_id)
            lead.error = ""
            reemit(session, lead, "redrive", tz)
            write_log(session, lead.id, "redrive", "从线索死信重新处理", actor="console")
            _resolve(session, dead_letter_id, lead.id)
        return lead_id
    if scene_id is None:
        raise LeadsError("死信未关联获客场景，无法重新处理")
    sub = Submission(**{k: v for k, v in payload.items() if k in Submission.__dataclass_fields__})
    result = submit(db, scene_id, [sub], tz, now)[0]
    with db.write() as session:
        if isinstance(result, SubmissionRefused):
            dl = session.get(LeadDeadLetter, dead_letter_id)
            dl.attempts += 1
            dl.reason = result.message[:1000]
            dl.errors = [{"field": k, "message": v} for k, v in result.errors.items()]
            session.add(dl)
        else:
            _resolve(session, dead_letter_id, result.lead_id)
    if isinstance(result, SubmissionRefused):
        raise LeadsError(f"仍无法处理：{result.message}", result.errors)
    return result.lead_id


def _resolve(session: Session, dead_letter_id: int, lead_id: int) -> None:
    dl = session.get(LeadDeadLetter, dead_letter_id)
    dl.status, dl.lead_id, dl.resolved_at, dl.attempts = "redriven", lead_id, utcnow(), dl.attempts + 1
    session.add(dl)


def discard(db: Database, dead_letter_id: int) -> None:
    with db.write() as session:
        row = session.get(LeadDeadLetter, dead_letter_id)
        if row is None:
            raise LeadsError(f"死信 {dead_letter_id} 不存在")
        if row.status != "open":
            raise LeadsError(f"已是「{DEAD_LETTER_STATUSES.get(row.status, row.status)}」，不能丢弃")
        row.status, row.resolved_at = "discarded", utcnow()
        session.add(row)
