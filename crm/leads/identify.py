"""客户识别: who is this lead? Following the scene's dedup strategy the lead is matched to an
existing customer by mobile and/or e-mail (then the customer's empty fields are filled and its
owner is told), or a prospect customer is created in the company pool. A lead of the same person
in the same scene identified before this one marks it as a duplicate (重复线索), counted in
statistics.

"Before" is the order of identification, not of lead ids: a scene's identifications are
serialised (SQLite's write lock; a per-scene advisory lock on PostgreSQL), so each lead sees
exactly the leads and customers the identifications before it made, and the outcome is that of
processing the leads one by one in that order — whatever the arrival order, the batch a lead
was processed in, or the worker that took it. (Comparing ids instead made the outcome depend on
processing order: a lead processed before a lower-id lead of the same person was marked a
duplicate AND made a new customer, and the lower-id lead then matched it — bench/leads.py
counted one duplicate too few and one customer too many. On PostgreSQL a lower id can also
commit after a higher one is processed.)
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Optional

from sqlalchemy import bindparam, or_, text
from sqlmodel import Session, select

from config.pii_column import blind_index
from crm.customers.growth import record_growth
from crm.customers.models import Customer
from crm.customers.service import create_customer
from crm.leads.contact_index import CONTACT_INDEX
from crm.leads.logs import write_log
from crm.leads.models import Lead, LeadScene
from crm.people.models import Notification

REPLY_WINDOW_DAYS = 30
_PLACEHOLDER = re.compile(r"^线索\d+$")
FILLABLE = (("name", "name"), ("mobile", "mobile"), ("email", "email"), ("wechat", "wechat_id"), ("region", "city"))


@dataclass
class Identified:
    customer_id: Optional[int]
    created: bool = False
    matched_by: str = ""  # mobile | email | "" (new or not checked)
    duplicate_of: Optional[int] = None
    filled: list = field(default_factory=list)
    note: str = ""


def _keys(strategy: str) -> tuple[str, ...]:
    return {"BY_PHONE": ("mobile",), "BY_EMAIL": ("email",), "BY_PHONE_OR_EMAIL": ("mobile", "email")}.get(strategy, ())


@lru_cache(maxsize=8)
def _lookup_query(present: tuple[str, ...]):
    """The lookups for a lead with these contacts, built once (parameters: scene_id, lead_id and
    one per contact); rebuilding five subqueries per lead cost more than running them. Each
    names the lowest id where several rows qualify, so the outcome is one (not the plan's pick)."""
    lead_id = bindparam("lead_id")
    # The earlier lead is one already identified (it has its customer): see the module docstring.
    columns = [select(Lead.id).where(Lead.scene_id == bindparam("scene_id"), Lead.id != lead_id,
                                     Lead.customer_id.is_not(None),
                                     or_(*[getattr(Lead, f"{k}_bidx") == bindparam(k) for k in present]))
               .order_by(Lead.id).limit(1).scalar_subquery().label("earlier")]
    for key in present:
        columns.append(select(Customer.id).where(getattr(Customer, f"{key}_bidx") == bindparam(key))
                       .order_by(Customer.id).limit(1).scalar_subquery().label(f"customer_{key}"))
    for key in present:
        columns.append(select(Lead.customer_id).where(getattr(Lead, f"{key}_bidx") == bindparam(key), Lead.id != lead_id,
                                                      Lead.customer_id.is_not(None)).order_by(Lead.id).limit(1)
                       .scalar_subquery().label(f"linked_{key}"))
    return select(*columns)


IDENTIFY_LOCK = 0x1EAD  # the class of PostgreSQL advisory locks a scene's identification takes


def serialize_identification(session: Session, scene_id) -> None:
    """On PostgreSQL, one transaction at a time identifies a scene's leads (until it commits):
    two processors identifying the same phone at once would otherwise each see no customer and
    make two. Re-entrant within a transaction; a caller that locks rows takes it before them, so
    it never waits while holding one. SQLite serialises writers anyway."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:c, :k)"), {"c": IDENTIFY_LOCK, "k": int(scene_id or 0)})


def _lookups(session: Session, lead: Lead, keys: tuple[str, ...]) -> tuple[Optional[int], Optional[Customer], str]:
    """(the first identified lead of this person in the scene, the customer and the key that found it).

    The customer is the first holding the lead's mobile (then e-mail); failing that, the one an
    earlier lead with this mobile (or e-mail) was linked to — the person may already be a
    customer under their other contact: workers can process a backlog out of arrival order, so
    without this, a repeat by e-mail and a repeat by phone of one person made two customers.
    Every lookup is a scalar subquery of one SELECT: one round trip instead of five."""
    present = tuple(k for k in keys if getattr(lead, k))
    pairs = {k: blind_index(k, getattr(lead, k)) for k in present}
    index = session.info.get(CONTACT_INDEX)  # a batch read its leads' contacts at once
    if index is not None and index.scene_id == lead.scene_id and index.covers(pairs):
        earlier, customer_id, key = index.lookups(pairs)
        return earlier, (session.get(Customer, customer_id) if customer_id is not None else None), key
    params = {"scene_id": lead.scene_id, "lead_id": lead.id, **pairs}
    row = session.execute(_lookup_query(present), params).mappings().one()
    for prefix in ("customer", "linked"):
        for key in present:
            customer_id = row[f"{prefix}_{key}"]
            if customer_id is not None:
                return row.get("earlier"), session.get(Customer, customer_id), key
    return row.get("earlier"), None, ""


def placeholder_name(lead_id: int) -> str:
    """The name of a prospect whose lead had none; a later lead or import with a real name replaces it."""
    return f"线索{lead_id}"


def _is_placeholder(name: str | None) -> bool:
    return bool(_PLACEHOLDER.match(name or ""))


def _fill_empty(session: Session, customer: Customer, data: dict) -> list[str]:
    """Copies lead values into the customer's empty fields (never over a value, never a clash);
    a placeholder name (线索28) counts as empty."""
    filled = []
    for lead_key, column in FILLABLE:
        value = data.get(lead_key)
        current = getattr(customer, column)
        if not value or (current and not (column == "name" and _is_placeholder(current))):
            continue
        held = (getattr(Customer, f"{column}_bidx") == blind_index(column, str(value)) if column in ("mobile", "email")
                else Customer.wechat_id == value if column == "wechat_id" else None)
        if held is not None and session.exec(select(Customer.id).where(held).limit(1)).first() is not None:
            continue  # another customer holds it; identifying the person is the operator's call
        setattr(customer, column, str(value)[:100])
        filled.append(column)
    return filled


def earlier_reply(session: Session, lead: Lead, scene: LeadScene, now: datetime) -> Optional[tuple[int, int]]:
    """(lead id, days) when this lead's known customer already got the scene's auto reply within
    the scene's reply window (auto_response.repeat_days, default REPLY_WINDOW_DAYS; 0 = always reply).
    A returning customer is thanked once per window, not on every form they fill in."""
    if lead.customer_id is None or lead.customer_is_new:
        return None
    try:
        days = int((scene.auto_response or {}).get("repeat_days", REPLY_WINDOW_DAYS))
    except (TypeError, ValueError):
        days = REPLY_WINDOW_DAYS
    if days <= 0:
        return None
    earlier = session.exec(select(Lead.id).where(
        Lead.customer_id == lead.customer_id, Lead.scene_id == lead.scene_id, Lead.id != lead.id,
        Lead.responded_at.is_not(None), Lead.responded_at >= now - timedelta(days=days)).limit(1)).first()
    return (earlier, days) if earlier is not None else None


def identify(session: Session, lead: Lead, scene: LeadScene, now: datetime, batch_of: Optional[int] = None) -> Identified:
    """`batch_of`: the lead whose batch (crm.leads.batch) does this one; kept in the log line."""
    marker = {"batch": batch_of} if batch_of is not None else {}
    if lead.customer_id is not None:
        # An updated lead (通话结束, a re-import) may bring what the customer still lacks, e.g. the
        # real name behind a placeholder.
        customer = session.get(Customer, lead.customer_id)
        filled = _fill_empty(session, customer, dict(lead.lead_data or {})) if customer is not None else []
        if filled:
            customer.updated_at = now
            session.add(customer)
            write_log(session, lead.id, "identified", f"线索信息更新，补全了客户的 {'、'.join(filled)}",
                      detail={"customer_id": customer.id, "filled": filled})
        return Identified(lead.customer_id, filled=filled, note="线索已关联客户，无需重复识别")
    keys = _keys(scene.dedup_strategy)
    if not keys:
        write_log(session, lead.id, "identified", "场景设置为不去重：不关联客户", detail=dict(marker))
        return Identified(None, note="不去重，不关联客户")
    if not any(getattr(lead, k) for k in keys):
        write_log(session, lead.id, "identified", "线索没有可用于识别的手机号或邮箱：不关联客户", detail=dict(marker))
        return Identified(None, note="没有手机号或邮箱，不关联客户")
    # Every path into identification (a new lead's step, a batch, a re-drive, an update of a lead
    # never identified) is serialised per scene, so "identified before" is one order.
    serialize_identification(session, lead.scene_id)
    duplicate_of, customer, matched_by = _lookups(session, lead, keys)
    data = dict(lead.lead_data or {})
    result = Identified(None, duplicate_of=duplicate_of, matched_by=matched_by)
    if customer is not None:
        result.customer_id = customer.id
        result.filled = _fill_empty(session, customer, data)
        if result.filled:
            customer.updated_at = now
            session.add(customer)
        record_growth(session, customer.id, "lead", f"通过获客场景「{scene.name}」再次留资（线索 #{lead.id}）")
        if customer.owner_id:
            session.add(Notification(user_id=customer.owner_id, title=f"你的客户「{customer.name}」有新线索",
                                     body=f"来自获客场景「{scene.name}」", link=f"/leads/{lead.id}",
                                     source="leads", created_at=now))
        label = "手机号" if matched_by == "mobile" else "邮箱"
        result.note = f"按{label}识别为老客户「{customer.name}」" + (f"，补全了 {'、'.join(result.filled)}" if result.filled else "")
    else:
        name = str(data.get("name") or "").strip() or placeholder_name(lead.id)
        created = create_customer(session, {"name": name, "mobile": lead.mobile, "email": lead.email,
                                             "wechat_id": data.get("wechat") or None, "city": lead.region,
                                             "source": scene.name[:64]}, source_note=f"获客场景「{scene.name}」")
        result.customer_id, result.created = created.id, True
        result.note = f"未找到已有客户，新建潜在客户「{created.name}」"
    if duplicate_of:
        result.note += f"；与线索 #{duplicate_of} 重复"
    lead.customer_id, lead.customer_is_new, lead.duplicate_of_id = result.customer_id, result.created, duplicate_of
    index = session.info.get(CONTACT_INDEX)
    if index is not None:  # the batch's index follows what this identification wrote
        index.holds(customer if customer is not None else created)
        index.identified(lead)
    if scene.scene_type == "PAYMENT_CODE" and customer is not None and lead.status in ("NEW", "QUALIFIED"):
        # A known customer paying through a payment code is a deal (成交), not a new lead.
        lead.status, lead.converted_at = "CONVERTED", now
        record_growth(session, customer.id, "deal", f"付款码成交 ¥{lead.value:g}（线索 #{lead.id}）")
        result.note += "；老客户付款，记为成交"
    elif lead.status == "NEW":
        lead.status = "QUALIFIED"
    lead.updated_at = now
    session.add(lead)
    write_log(session, lead.id, "identified", result.note,
              detail={"customer_id": result.customer_id, "created": result.created, "matched_by": matched_by,
                      "duplicate_of": duplicate_of, "filled": result.filled, **marker})
    return result
