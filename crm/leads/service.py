"""线索: finding leads (filters, paging, sorting), reading one, and the operator's changes —
status along the lead's life (新线索 → 有效/无效 → 已分配 → 跟进中 → 已转化/已关闭), notes, the
related customer and corrected fields. Every change is written to the lead's processing log.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable, Optional

from sqlalchemy import func, or_
from sqlmodel import Session, select

from config.clock import format_local, utcnow
from config.pii import mask_email, mask_mobile, mask_value
from crm.customers.models import Customer
from crm.customers.sealed_search import contact_conditions
from crm.errors import NotFound
from crm.leads.errors import LeadsError
from crm.leads.logs import write_log
from crm.leads.mapping import map_submission
from crm.leads.models import LEAD_STATUSES, Lead, LeadChannel, LeadScene, LeadTag
from crm.people.models import User
from crm.scope import SYSTEM, Viewer, leads as lead_scope, load
from crm.tags.models import Tag

# Allowed next statuses; CLOSED and DISQUALIFIED can be reopened as 有效.
STATUS_FLOW: dict[str, tuple[str, ...]] = {
    "NEW": ("QUALIFIED", "DISQUALIFIED", "ASSIGNED", "CLOSED"),
    "QUALIFIED": ("ASSIGNED", "DISQUALIFIED", "CLOSED"),
    "DISQUALIFIED": ("QUALIFIED", "CLOSED"),
    "ASSIGNED": ("PROCESSING", "CONVERTED", "DISQUALIFIED", "CLOSED"),
    "PROCESSING": ("CONVERTED", "CLOSED", "DISQUALIFIED"),
    "CONVERTED": ("CLOSED",),
    "CLOSED": ("QUALIFIED",),
}
SORTABLE = {"created_at": Lead.created_at, "updated_at": Lead.updated_at, "status": Lead.status, "value": Lead.value,
            "assigned_at": Lead.assigned_at, "id": Lead.id}


def get_lead(session: Session, lead_id, viewer: Viewer) -> Lead:
    """The lead if `viewer` may see it; LeadNotFound for an unknown id and someone else's lead alike."""
    return load(session, viewer, Lead, lead_id)


def _ids(raw) -> list[int]:
    if raw in (None, ""):
        return []
    items = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
    try:
        return [int(x) for x in items if str(x).strip()]
    except ValueError:
        raise LeadsError("标签ID应为整数，多个用逗号分隔", {"tags_contain_any": "标签ID应为整数，多个用逗号分隔"}) from None


def list_leads(session: Session, *, status=None, channel_id=None, scene_id=None, scene_type=None,
               assignee_user_id=None, start: Optional[datetime] = None, end: Optional[datetime] = None,
               tag_ids=None, q: str = "", page: int = 1, size: int = 20, sort_by: str = "created_at",
               sort_order: str = "desc", viewer: Viewer = SYSTEM) -> tuple[list[Lead], int]:
    """Only the leads `viewer` may see (a salesperson: the ones assigned to them)."""
    if sort_by not in SORTABLE:
        raise LeadsError(f"不支持按「{sort_by}」排序", {"sort_by": f"可选：{'、'.join(SORTABLE)}"})
    if sort_order not in ("asc", "desc"):
        raise LeadsError("排序方向只能是 asc 或 desc", {"sort_order": "只能是 asc 或 desc"})
    conditions = [lead_scope(viewer)]
    statuses = [s for s in (status if isinstance(status, (list, tuple)) else [status]) if s]
    unknown = [s for s in statuses if s not in LEAD_STATUSES]
    if unknown:
        raise LeadsError(f"线索状态「{unknown[0]}」无效", {"status": f"可选：{'、'.join(LEAD_STATUSES)}"})
    if statuses:
        conditions.append(Lead.status.in_(statuses))
    for column, value in ((Lead.channel_id, channel_id), (Lead.scene_id, scene_id),
                          (Lead.assignee_user_id, assignee_user_id)):
        if value not in (None, ""):
            conditions.append(column == int(value))
    if scene_type:
        conditions.append(Lead.scene_id.in_(select(LeadScene.id).where(LeadScene.scene_type == scene_type)))
    if start is not None:
        conditions.append(Lead.created_at >= start)
    if end is not None:
        conditions.append(Lead.created_at < end)
    tags = _ids(tag_ids)
    if tags:
        conditions.append(Lead.id.in_(select(LeadTag.lead_id).where(LeadTag.tag_id.in_(tags))))
    q = (q or "").strip()
    if q:
        like = f"%{q}%"
        conditions.append(or_(Lead.name.like(like), *contact_conditions(Lead, q), Lead.external_id == q))
    total = session.exec(select(func.count()).select_from(Lead).where(*conditions)).one()
    column = SORTABLE[sort_by]
    order = column.asc() if sort_order == "asc" else column.desc()
    page, size = max(1, int(page)), min(max(1, int(size)), 200)
    rows = list(session.exec(select(Lead).where(*conditions).order_by(order, Lead.id.desc())
                             .offset((page - 1) * size).limit(size)))
    return rows, total


def _set_status(session: Session, lead: Lead, status: str, actor: str, now: datetime) -> None:
    if status == lead.status:
        return
    if status not in LEAD_STATUSES:
        raise LeadsError(f"线索状态「{status}」无效", {"status": f"可选：{'、'.join(LEAD_STATUSES)}"})
    allowed = STATUS_FLOW.get(lead.status, ())
    if status not in allowed:
        names = "、".join(LEAD_STATUSES[s] for s in allowed) or "无"
        raise LeadsError(f"线索状态不能从「{LEAD_STATUSES[lead.status]}」改为「{LEAD_STATUSES[status]}」（可改为：{names}）",
                         {"status": f"不能从「{LEAD_STATUSES[lead.status]}」改为「{LEAD_STATUSES[status]}」"})
    if status == "ASSIGNED" and lead.assignee_user_id is None and lead.assignee_group_id is None:
        raise LeadsError("线索还没有负责人，请先分配", {"status": "请先分配线索"})
    write_log(session, lead.id, "status", f"状态：{LEAD_STATUSES[lead.status]} → {LEAD_STATUSES[status]}", actor=actor)
    lead.status = status
    if status == "CONVERTED":
        lead.converted_at = now


def _set_fields(session: Session, lead: Lead, fields: dict, actor: str) -> None:
    if not isinstance(fields, dict):
        raise LeadsError("lead_data 应为对象", {"lead_data": "lead_data 应为 JSON 对象"})
    scene = session.get(LeadScene, lead.scene_id)
    merged = {**(lead.lead_data or {}), **fields}
    clean, problems = map_submission(scene, {"submission_data": merged}, None)
    if problems:
        raise LeadsError("线索字段有误：" + "；".join(p["message"] for p in problems),
                         {f"lead_data.{p['field']}": p["message"] for p in problems})
    changed = sorted(k for k in clean if (lead.lead_data or {}).get(k) != clean[k])
    lead.lead_data = {**(lead.lead_data or {}), **clean}
    lead.name, lead.mobile, lead.email = str(clean.get("name") or "")[:100], clean.get("mobile"), clean.get("email")
    lead.region, lead.value = str(clean.get("region") or "")[:64], float(clean.get("value") or 0)
    if changed:
        write_log(session, lead.id, "updated", "修改线索信息：" + "、".join(changed), actor=actor)


def update_lead(session: Session, lead_id, data: dict, actor: str, *, viewer: Viewer) -> Lead:
    """Applies the keys present: status, notes, related_customer_id, lead_data (partial)."""
    if not isinstance(data, dict) or not data:
        raise LeadsError("请提供要修改的内容（status、notes、related_customer_id 或 lead_data）")
    unknown = sorted(set(data) - {"status", "notes", "related_customer_id", "lead_data"})
    if unknown:
        raise LeadsError(f"不支持修改的字段：{'、'.join(unknown)}", {k: "不支持修改" for k in unknown})
    lead = get_lead(session, lead_id, viewer)
    now = utcnow()
    if "lead_data" in data:
        _set_fields(session, lead, data["lead_data"], actor)
    if "related_customer_id" in data:
        raw = data["related_customer_id"]
        if raw in (None, ""):
            lead.customer_id = None
        else:
            if isinstance(raw, bool) or not str(raw).isdigit() or not _customer_visible(session, viewer, raw):
                raise LeadsError(f"客户 {raw} 不存在", {"related_customer_id": f"客户 {raw} 不存在"})
            if lead.customer_id != int(raw):
                write_log(session, lead.id, "identified", f"手工关联客户 #{raw}", actor=actor)
            lead.customer_id = int(raw)
    if "notes" in data:
        notes = str(data["notes"] or "")
        if len(notes) > 4000:
            raise LeadsError("备注最多 4000 个字符", {"notes": "备注最多 4000 个字符"})
        if notes != lead.notes:
            write_log(session, lead.id, "note", "修改备注", actor=actor)
        lead.notes = notes
    if "status" in data:
        _set_status(session, lead, str(data["status"] or ""), actor, now)
    lead.updated_at = now
    session.add(lead)
    session.flush()
    return lead


def _customer_visible(session: Session, viewer: Viewer, customer_id) -> bool:
    try:
        load(session, viewer, Customer, customer_id)
    except NotFound:
        return False
    return True


def add_note(session: Session, lead_id, text: str, actor: str, now: Optional[datetime] = None,
             tz: str | None = None, *, viewer: Viewer) -> Lead:
    """Appends a line dated in the operator's time zone to the lead's notes (跟进备注)."""
    text = (text or "").strip()
    if not text:
        raise LeadsError("备注不能为空", {"note": "备注不能为空"})
    if len(text) > 1000:
        raise LeadsError("单条备注最多 1000 个字符", {"note": "单条备注最多 1000 个字符"})
    lead = get_lead(session, lead_id, viewer)
    now = now or utcnow()
    stamp = format_local(now, tz_name=tz)
    notes = (lead.notes + "\n" if lead.notes else "") + f"[{stamp} {actor}] {text}"
    if len(notes) > 4000:
        raise LeadsError("备注已满（最多 4000 个字符），请精简后再添加", {"note": "备注已满"})
    lead.notes, lead.updated_at = notes, now
    session.add(lead)
    write_log(session, lead.id, "note", text, actor=actor)
    return lead


def _names(session: Session, model, ids: Iterable, attr: str) -> dict:
    ids = [i for i in set(ids) if i is not None]
    if not ids:
        return {}
    return {row.id: getattr(row, attr) for row in session.exec(select(model).where(model.id.in_(ids)))}


def lead_dicts(session: Session, leads: list[Lead], mask: bool) -> list[dict]:
    """API/console shape of leads (names resolved in four queries for the whole page)."""
    scenes = {s.id: s for s in session.exec(select(LeadScene).where(LeadScene.id.in_({l.scene_id for l in leads})))} if leads else {}
    channels = _names(session, LeadChannel, (l.channel_id for l in leads), "name")
    users = _names(session, User, (l.assignee_user_id for l in leads), "display_name")
    tag_names = _names(session, Tag, (t for l in leads for t in (l.tag_ids or [])), "name")
    out = []
    for lead in leads:
        data = dict(lead.lead_data or {})
        mobile, email = lead.mobile, lead.email
        if mask:  # free text (需求描述) may hold a number too
            mobile, email, data = mask_mobile(mobile or "") or None, mask_email(email or "") or None, mask_value(data)
        scene = scenes.get(lead.scene_id)
        out.append({
            "lead_id": lead.id, "external_lead_id": lead.external_id, "status": lead.status,
            "status_label": LEAD_STATUSES.get(lead.status, lead.status), "substatus": lead.substatus,
            "acquisition_scene_id": lead.scene_id, "scene_name": scene.name if scene else "",
            "scene_type": scene.scene_type if scene else "", "source_channel_id": lead.channel_id,
            "channel_name": channels.get(lead.channel_id, ""), "plan_id": lead.plan_id,
            "name": lead.name, "mobile": mobile, "email": email, "region": lead.region, "value": lead.value,
            "lead_data": data, "tags": [{"id": t, "name": tag_names.get(t, "")} for t in lead.tag_ids or []],
            "assigned_to_user_id": lead.assignee_user_id, "assignee_name": users.get(lead.assignee_user_id, ""),
            "assigned_to_team_id": lead.assignee_group_id,
            "assignment_time": lead.assigned_at.isoformat() if lead.assigned_at else None,
            # unknown (null) until the lead is linked to a customer: false would claim a known customer
            "related_customer_id": lead.customer_id,
            "customer_is_new": lead.customer_is_new if lead.customer_id is not None else None,
            "duplicate_of_id": lead.duplicate_of_id, "notes": lead.notes, "error": lead.error,
            "responded_at": lead.responded_at.isoformat() if lead.responded_at else None,
            "created_at": lead.created_at.isoformat(), "updated_at": lead.updated_at.isoformat()})
    return out


def lead_dict(session: Session, lead: Lead, mask: bool, raw: bool = False) -> dict:
    """One lead; `raw` adds the received payload and meta (masked like the fields)."""
    out = lead_dicts(session, [lead], mask)[0]
    if raw:
        out["raw_data"] = mask_value(lead.raw_data) if mask else lead.raw_data
        out["meta"] = lead.meta
    return out
