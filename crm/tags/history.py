"""标签历史: every add/remove of a tag on a customer — object, tag, 手动/自动, 新增/移除, time,
operator — filterable, newest first. A personal tag's history is shown to its owner only.
Functions take a Session.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlmodel import Session

from config.pii_column import blind_index
from crm.customers.models import Customer
from crm.people.models import User
from crm.tags.models import Tag, TagHistory

SOURCE_LABELS = {"manual": "手动", "auto": "自动", "expiry": "过期移除", "strategy": "策略", "import": "导入"}
ACTION_LABELS = {"add": "新增", "remove": "移除"}


def list_history(session: Session, viewer_id: int | None, *, start: datetime | None = None,
                 end: datetime | None = None, tag_name: str = "", customer: str = "", source: str = "",
                 action: str = "", customer_id: int | None = None, page: int = 1,
                 per_page: int = 20) -> tuple[list[dict], int]:
    """A page of rows {"row", "customer", "operator"} and the total count."""
    personal = select(Tag.id).where(Tag.kind == "personal", Tag.owner_id != viewer_id) if viewer_id is not None \
        else select(Tag.id).where(Tag.kind == "personal")
    stmt = select(TagHistory).where(TagHistory.tag_id.not_in(personal))
    if start is not None:
        stmt = stmt.where(TagHistory.created_at >= start)
    if end is not None:
        stmt = stmt.where(TagHistory.created_at < end)
    if tag_name.strip():
        stmt = stmt.where(TagHistory.tag_name.contains(tag_name.strip(), autoescape=True))
    if source in SOURCE_LABELS:
        stmt = stmt.where(TagHistory.source == source)
    if action in ACTION_LABELS:
        stmt = stmt.where(TagHistory.action == action)
    if customer_id is not None:
        stmt = stmt.where(TagHistory.customer_id == customer_id)
    if customer.strip():
        needle = customer.strip()
        stmt = stmt.where(TagHistory.customer_id.in_(select(Customer.id).where(or_(
            Customer.name.contains(needle, autoescape=True), Customer.mobile_bidx == blind_index("mobile", needle)))))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = list(session.scalars(stmt.order_by(TagHistory.created_at.desc(), TagHistory.id.desc())
                                .offset((page - 1) * per_page).limit(per_page)))
    customers = {c.id: c for c in session.scalars(
        select(Customer).where(Customer.id.in_({r.customer_id for r in rows})))} if rows else {}
    operators = dict(session.execute(select(User.id, User.display_name).where(
        User.id.in_({r.operator_id for r in rows if r.operator_id}))).all()) if rows else {}
    return [{"row": r, "customer": customers.get(r.customer_id), "operator": operators.get(r.operator_id, "")}
            for r in rows], total
