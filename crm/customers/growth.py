"""成长记录: one line for every tag, group, assignment, follow-up, import or strategy action that
touched a customer, shown newest first on the detail page. Every area writes through
`record_growth` (one customer) or `record_growth_bulk` (set-based, from a subquery of ids)."""
from __future__ import annotations

from typing import Optional

from sqlalchemy import insert, literal, select
from sqlmodel import Session

from config.clock import utcnow
from crm.customers.models import GrowthRecord

GROWTH_KINDS = {"tag": "标签", "group": "分组", "assign": "分配", "recycle": "回收", "follow": "跟进",
                "strategy": "策略", "import": "导入", "transfer": "转移", "create": "创建", "edit": "编辑",
                "attachment": "附件"}


def record_growth(session: Session, customer_id: int, kind: str, summary: str,
                  operator_id: Optional[int] = None) -> GrowthRecord:
    row = GrowthRecord(customer_id=customer_id, kind=kind[:32], summary=summary[:500], operator_id=operator_id,
                       created_at=utcnow())
    session.add(row)
    session.flush()
    return row


def record_growth_bulk(session: Session, customer_ids_select, kind: str, summary: str,
                       operator_id: Optional[int] = None, now=None) -> int:
    """INSERT … SELECT one record per id of `customer_ids_select` (a Select of one id column)."""
    ids = customer_ids_select.subquery()
    col = list(ids.c)[0]
    stmt = insert(GrowthRecord).from_select(
        ["customer_id", "kind", "summary", "operator_id", "created_at"],
        select(col, literal(kind[:32]), literal(summary[:500]),
               literal(operator_id, GrowthRecord.__table__.c.operator_id.type),  # a typed NULL for PostgreSQL
               literal(now or utcnow(), GrowthRecord.__table__.c.created_at.type)))
    return session.execute(stmt).rowcount or 0


def growth_of(session: Session, customer_id: int, limit: int = 200) -> list[GrowthRecord]:
    return list(session.scalars(select(GrowthRecord).where(GrowthRecord.customer_id == customer_id)
                                .order_by(GrowthRecord.created_at.desc(), GrowthRecord.id.desc()).limit(limit)))
