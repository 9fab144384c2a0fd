"""平均分配: who gets which customer. Customers come best first (highest 标签总分值, then oldest);
a customer invited by another (MGM) goes first to the inviter's salesperson when that person is a
member of the group; the rest go round-robin, starting with whoever currently holds the fewest
customers in the group, so the team stays even. A customer being reassigned after recycling
never goes back to the salesperson who just lost it.

This decides only; crm.groups.allocation does the assigning.
"""
from __future__ import annotations

import heapq
from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from crm.customers.models import Customer
from crm.groups.models import GroupLink, GroupMember

BATCH = 5000


def holdings(session: Session, group_id: int, users: list[int]) -> dict[int, int]:
    counts = dict(session.execute(select(GroupLink.assignee_id, func.count()).where(
        GroupLink.group_id == group_id, GroupLink.assignee_id.in_(users)).group_by(GroupLink.assignee_id)).all())
    return {u: counts.get(u, 0) for u in users}


def inviter_owners(session: Session, group_id: int, customer_ids: list[int]) -> dict[int, int]:
    """customer id → the owner of the customer who invited them, when that owner is in the group."""
    inviter = aliased(Customer)
    members = select(GroupMember.user_id).where(GroupMember.group_id == group_id)
    out: dict[int, int] = {}
    for start in range(0, len(customer_ids), BATCH):
        chunk = customer_ids[start:start + BATCH]
        out.update(session.execute(
            select(Customer.id, inviter.owner_id).join(inviter, inviter.id == Customer.invited_by_id)
            .where(Customer.id.in_(chunk), inviter.owner_id.in_(members))).all())
    return out


def plan(session: Session, group_id: int, candidates: list[int], users: list[int],
         exclude: Optional[dict[int, int]] = None, mgm: bool = True) -> list[tuple[int, int]]:
    """[(customer_id, user_id)] for the ordered candidates; customers nobody may take are left out.

    Each customer goes to whoever holds the fewest customers of the group at that moment; among
    equals, to whoever got one longest ago — with equal loads that is plain round-robin."""
    exclude = exclude or {}
    if not candidates:
        return []
    invited = inviter_owners(session, group_id, candidates) if mgm else {}
    counts = holdings(session, group_id, users) if users else {}
    # (load, turn, user): the smallest is next; `turn` keeps the rotation among equal loads.
    queue = [(counts[u], turn, u) for turn, u in enumerate(sorted(users, key=lambda u: (counts[u], u)))]
    heapq.heapify(queue)
    turn = len(queue)
    pairs = []
    for customer_id in candidates:
        barred = exclude.get(customer_id)
        owner = invited.get(customer_id)
        if owner is not None and owner != barred:
            pairs.append((customer_id, owner))
            queue = [(load + (u == owner), t, u) for load, t, u in queue]
            heapq.heapify(queue)
            continue
        skipped = []
        while queue and queue[0][2] == barred:
            skipped.append(heapq.heappop(queue))
        if queue:
            load, _, user = heapq.heappop(queue)
            pairs.append((customer_id, user))
            heapq.heappush(queue, (load + 1, turn, user))
            turn += 1
        for item in skipped:
            heapq.heappush(queue, item)
    return pairs


def best_first(session: Session, where, limit: Optional[int] = None) -> list[int]:
    """Customer ids matching `where` (filters on Customer), highest tag score first, ties by id."""
    stmt = select(Customer.id).where(*where).order_by(Customer.tag_score.desc(), Customer.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))
