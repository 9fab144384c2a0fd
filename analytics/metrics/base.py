"""What every metric plugin is: a stable key (stored in metric_daily.metric), a label, a unit, whether
it counts distinct people, and `facts`: the raw rows behind it for an instant range, each with when it
happened, who it was about (for distinct counts and the drill-down list) and the dimensions it
belongs to. The rollup engine (analytics/rollups.py) turns facts into per-day, per-dimension values;
the drill-down page lists the same facts, so a number and its list cannot disagree."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterator, Optional

from sqlmodel import Session, select

from crm.people.models import Department, UserDepartment
from devices.models import WechatAccount


@dataclass(frozen=True)
class Fact:
    when: datetime  # aware UTC; its Beijing (configured zone) day is the day it counts for
    person: Optional[str]  # who it is about ("c:12" customer, "w:wxid" WeChat person); None: not distinct
    amount: int = 1  # 1 for counts, 分 for money
    user_id: Optional[int] = None  # staff credited (account owner, assignee, 业绩归属)
    account_id: Optional[int] = None
    group_id: Optional[int] = None
    channel_id: Optional[int] = None
    scene_id: Optional[int] = None
    ref: tuple = ()  # (kind, id) of the row behind it for the drill-down: customer/friend/order/lead/member/command/event
    label: str = ""  # what the drill-down shows (nickname, order number …); never a phone number


@dataclass
class Context:
    """Lookups shared by every plugin in one recompute: who owns each account and which
    departments (with their ancestors, so a 部门 counts its sub-teams) each user sits in."""

    account_owner: dict = field(default_factory=dict)
    user_departments: dict = field(default_factory=dict)
    # Raw rows several plugins read in one recompute (messages: 咨询, 活跃, 有效粉), read and decoded once.
    cache: dict = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> "Context":
        owners = {a: u for a, u in session.exec(select(WechatAccount.id, WechatAccount.owner_user_id))}
        parents = {d: p for d, p in session.exec(select(Department.id, Department.parent_id))}
        depts: dict[int, set] = {}
        for user_id, dept_id in session.exec(select(UserDepartment.user_id, UserDepartment.department_id)):
            seen, d = depts.setdefault(user_id, set()), dept_id
            while d is not None and d not in seen:  # a cycle cannot loop forever
                seen.add(d)
                d = parents.get(d)
        return cls(owners, {u: sorted(s) for u, s in depts.items()})

    def owner(self, account_id) -> Optional[int]:
        return self.account_owner.get(account_id)

    def dims(self, fact: Fact) -> list[tuple[str, int]]:
        out = [("company", 0)]
        if fact.user_id is not None:
            out.append(("user", fact.user_id))
            out.extend(("department", d) for d in self.user_departments.get(fact.user_id, ()))
        for dim, value in (("account", fact.account_id), ("group", fact.group_id),
                           ("channel", fact.channel_id), ("scene", fact.scene_id)):
            if value is not None:
                out.append((dim, value))
        return out


class Metric(ABC):
    key = ""
    label = ""
    unit = "人"  # 人 | 条 | 次 | 分 | 单
    distinct = True  # people counted once per day and dimension
    money = False
    # Days after the event day during which the value may still change (有效粉 waits 7 days for a
    # reply); the nightly recompute covers at least this many days for the metric.
    settle_days = 0
    definition = ""  # shown on the report page

    @abstractmethod
    def facts(self, session: Session, start: datetime, end: datetime, ctx: Context) -> Iterator[Fact]:
        """Facts that happened in [start, end) (aware UTC); every metric plugin counts its own rows."""


def between(column, start: datetime, end: datetime):
    return (column >= start) & (column < end)


def wx(wxid: str) -> str:
    return f"w:{wxid}"
