"""标签分值: a customer's tag_score is the sum of the scores of its enabled tags (customer
quality, usable in conditions and sorting). Kept in the customer row so audiences sort by it
without joining tags.

Two ways to keep it right, both set-based:
- `recompute(session, ids_table)` sets the exact sum for the customers in a scratch table
  (used by manual tagging and expiry, where the touched set is small or mixed);
- `shift(session, delta, ids_table)` adds one tag's score to / subtracts it from a set of
  customers (used by the nightly pass and by enabling, disabling or re-scoring a tag), which is
  O(changed links) instead of re-summing every tag of every touched customer.
`drift(session)` counts customers whose stored total is wrong (tests, bench, repair).
"""
from __future__ import annotations

from sqlalchemy import func, select, true, update
from sqlalchemy.sql.expression import TableClause
from sqlmodel import Session

from crm.customers.models import Customer
from crm.tags.models import CustomerTag, Tag


def _sum_for(customer_id_col):
    return (select(func.coalesce(func.sum(Tag.score), 0))
            .select_from(CustomerTag).join(Tag, Tag.id == CustomerTag.tag_id)
            .where(CustomerTag.customer_id == customer_id_col, Tag.enabled == true())
            .scalar_subquery())


def recompute(session: Session, ids_table: TableClause | None = None) -> int:
    """Exact totals for the customers in `ids_table` (every customer when None)."""
    stmt = update(Customer).values(tag_score=_sum_for(Customer.id))
    if ids_table is not None:
        stmt = stmt.where(Customer.id.in_(select(ids_table.c.customer_id)))
    return session.execute(stmt.execution_options(synchronize_session=False)).rowcount or 0


def shift(session: Session, delta: int, ids_table: TableClause | None = None, tag_id: int | None = None) -> int:
    """tag_score += delta for the customers in `ids_table`, or for every holder of `tag_id`."""
    if not delta:
        return 0
    if ids_table is not None:
        members = select(ids_table.c.customer_id)
    else:
        members = select(CustomerTag.customer_id).where(CustomerTag.tag_id == tag_id)
    stmt = (update(Customer).where(Customer.id.in_(members))
            .values(tag_score=Customer.tag_score + delta).execution_options(synchronize_session=False))
    return session.execute(stmt).rowcount or 0


def drift(session: Session) -> int:
    """How many customers' stored tag_score differs from the sum of their enabled tags."""
    return int(session.execute(select(func.count()).select_from(Customer)
                               .where(Customer.tag_score != _sum_for(Customer.id))).scalar() or 0)


__all__ = ["recompute", "shift", "drift"]
