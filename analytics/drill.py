"""Every number is a door: the rows behind one KPI for one scope and period — the same facts the
rollup counted, filtered to the scope's dimension, one line per person for a count of people."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from sqlmodel import Session, col, select

from analytics.kpis import kpi
from analytics.metrics import REGISTRY, Context
from analytics.periods import Period
from analytics.rollups import day_bounds, day_of
from analytics.scopes import Scope
from config.clock import format_local
from devices.models import Friend

MAX_ROWS = 5000
REF_LABELS = {"friend": "好友", "customer": "客户", "order": "订单", "lead": "线索", "member": "群成员",
              "command": "消息/朋友圈", "event": "消息"}


@dataclass
class DrillRow:
    when: str
    day: str
    label: str
    kind: str
    amount: int
    account_id: Optional[int]
    user_id: Optional[int]
    link: str


def _link(ref: tuple) -> str:
    kind, ident = (ref + (None, None))[:2]
    if kind == "customer":
        return f"/customers/{ident}"
    if kind == "lead":
        return f"/leads/{ident}"
    return ""


def _link_friends(session: Session, rows: list[DrillRow], refs: list[tuple]) -> None:
    """A friend linked to a CRM customer opens that customer (whose page checks the viewer's scope)."""
    ids = {ref[1] for ref in refs if ref and ref[0] == "friend"}
    if not ids:
        return
    customers = dict(session.exec(select(Friend.id, Friend.customer_id).where(
        col(Friend.id).in_(ids), col(Friend.customer_id).is_not(None))).all())
    for row, ref in zip(rows, refs):
        if ref and ref[0] == "friend" and customers.get(ref[1]):
            row.link = f"/customers/{customers[ref[1]]}"


def drill_metric(key: str) -> str:
    """A rate opens the list behind its numerator (有效粉占比 → the 有效粉)."""
    k = kpi(key)
    return k.numerator if k.is_rate else key


def rows(session: Session, key: str, scope: Scope, period: Period, tz: Optional[str] = None) -> tuple[list[DrillRow], bool]:
    """(rows newest first, truncated?)"""
    metric = REGISTRY[drill_metric(key)]
    ctx = Context.load(session)
    start, end = day_bounds(period.first, period.last, tz)
    wanted = (scope.dim, scope.dim_id)
    seen: set = set()
    out: list[DrillRow] = []
    refs: list[tuple] = []
    for fact in sorted(metric.facts(session, start, end, ctx), key=lambda f: f.when, reverse=True):
        if wanted not in ctx.dims(fact):
            continue
        if metric.distinct:
            person = (day_of(fact.when, tz), fact.person)
            if person in seen:
                continue
            seen.add(person)
        refs.append(fact.ref)
        out.append(DrillRow(format_local(fact.when, tz_name=tz), day_of(fact.when, tz).isoformat(), fact.label,
                            REF_LABELS.get(fact.ref[0] if fact.ref else "", ""), fact.amount, fact.account_id,
                            fact.user_id, _link(fact.ref)))
    truncated = len(out) > MAX_ROWS
    out = out[:MAX_ROWS]
    _link_friends(session, out, refs[:MAX_ROWS])
    return out, truncated
