"""交接: turning a plan of (customer, salesperson) pairs into assignments — one set-based assign per
salesperson — and a 跟进任务 for each new owner (through the sales area's create_follow_up_tasks,
which skips customers that already have an open follow-up task)."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Optional

from sqlmodel import Session

from crm.groups.membership import assign
from crm.sales.tasks import create_follow_up_tasks


def create_tasks(session: Session, pairs, creator_id: Optional[int], now: datetime, tz: str) -> int:
    """One 跟进任务 per new assignment (skipping customers that already have an open one)."""
    return create_follow_up_tasks(session, pairs, creator_id=creator_id, now=now, tz=tz)


def hand_over(session: Session, group_id: int, pairs: list[tuple[int, int]], *, now: datetime, tz: str,
              operator_id: Optional[int], rule_name: str, create_task: bool, action: str = "assign",
              reason: str = "") -> int:
    """Assigns the planned pairs (one set-based assign per salesperson) and creates their tasks."""
    by_user: dict[int, list[int]] = defaultdict(list)
    for customer_id, user_id in pairs:
        by_user[user_id].append(customer_id)
    count = 0
    for user_id, ids in by_user.items():
        count += assign(session, ids, group_id, user_id, operator_id, reason, now=now, rule_name=rule_name,
                        action=action)
    if create_task:
        create_tasks(session, pairs, operator_id, now, tz)
    return count
