"""Picking the person for a lead once a rule is chosen: first narrow the people down by the lead
(按地区 / 按技能标签 / 按线索价值), then pick one — 轮询, 随机, 按权重, 按负载 — skipping whoever
cannot take a lead right now (停用, or today's cap reached). Also: is it working time?

Rotation pointers live in LeadAssignState, one row per scene rule (and per narrowed list), read
with SELECT … FOR UPDATE inside the caller's write transaction: several workers share one
rotation, and two workers never hand the same rule's lead out at the same moment (which also
keeps caps and loads exact). On SQLite the caller already holds the write lock (BEGIN IMMEDIATE).
"""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Optional

from sqlalchemy import bindparam, func, select
from sqlmodel import Session

from config.clock import to_local
from config.timewindow import TimeWindow
from config.dialect_insert import insert_for
from crm.groups.models import GroupMember
from crm.groups.requests import day_start
from crm.leads.models import Lead, LeadAssignment, LeadAssignState
from crm.people.models import User
from crm.tags.models import Tag

# A salesperson's load: leads given to them that nobody has finished yet.
OPEN_STATUSES = ("NEW", "QUALIFIED", "ASSIGNED", "PROCESSING")
BACKUP_KEY = "backup"


@dataclass
class Narrowed:
    """The people a rule picks among for this lead, and why (「地区「广东」」)."""

    users: list[int]
    label: str = ""   # what narrowed them, shown in the reason
    miss: str = ""    # the lead had no region/tag/value the rule knows; the rule's own people are used
    part: str = ""    # the pointer of this narrowed list


@dataclass
class Pick:
    user_id: Optional[int]
    note: str = ""                                     # 「（未完成线索 3 条）」 for 按负载
    passed: list[str] = field(default_factory=list)    # 「李四 今日已达上限 2 条」, 「王五 已停用」


def rule_key(rule_name: str, part: str = "") -> str:
    """A pointer per rule name (renaming a rule restarts its rotation; reordering rules does not)."""
    return "rule:" + hashlib.sha1(f"{rule_name}\x00{part}".encode()).hexdigest()[:32]


_POINTER = (select(LeadAssignState).where(LeadAssignState.scene_id == bindparam("scene_id"),
                                          LeadAssignState.rule_key == bindparam("rule_key"))
            .with_for_update().execution_options(populate_existing=True))


def claim(session: Session, scene_id: int, key: str) -> LeadAssignState:
    """The pointer row, created when missing and locked until the caller's transaction ends."""
    params = {"scene_id": scene_id, "rule_key": key}
    state = session.scalars(_POINTER, params).first()  # nearly always there: one round trip, not two
    if state is not None:
        return state
    values = {"scene_id": scene_id, "rule_key": key, "counter": 0}
    session.execute(insert_for(session)(LeadAssignState).values(**values).on_conflict_do_nothing())
    return session.scalars(_POINTER, params).one()


def rule_people(session: Session, rule: dict) -> list[int]:
    """The rule's people, or (none listed) its team's salespeople."""
    if rule.get("user_ids"):
        return list(rule["user_ids"])
    if not rule.get("group_id"):
        return []
    return list(session.scalars(select(GroupMember.user_id).where(
        GroupMember.group_id == rule["group_id"], GroupMember.role == "sales").order_by(GroupMember.user_id)))


def _region_entry(entries: list[dict], region: str) -> Optional[dict]:
    """An exact match first, else the longest configured region the lead's region starts with
    (「广东」 takes 「广东省深圳市」)."""
    exact = [e for e in entries if e["region"] == region]
    if exact:
        return exact[0]
    prefixes = [e for e in entries if region.startswith(e["region"])]
    return max(prefixes, key=lambda e: len(e["region"])) if prefixes else None


def _number(raw) -> Optional[float]:
    try:
        return None if raw in (None, "") or isinstance(raw, bool) else float(raw)
    except (TypeError, ValueError):
        return None


def _yuan(value: float) -> str:
    """1299.0 → 1299, 12.5 → 12.5, never 1.2e+06."""
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}".rstrip("0")


def narrow(session: Session, lead: Lead, facts: dict, rule: dict) -> Narrowed:
    method = rule.get("method")
    if method == "region":
        region = (lead.region or str(facts.get("region") or "")).strip()
        entry = _region_entry(rule.get("regions") or [], region) if region else None
        if entry:
            return Narrowed(entry["user_ids"], f"地区「{entry['region']}」", part=f"region:{entry['region']}")
        miss = f"地区「{region}」没有对应的负责人" if region else "线索没有地区"
    elif method == "skill":
        tags = {t for t in (lead.tag_ids or []) if isinstance(t, int)}
        # The configured order is the priority: a lead tagged both VIP and 产品A goes by whichever
        # the marketer listed first.
        entry = next((e for e in rule.get("skills") or [] if e["tag_id"] in tags), None)
        if entry:
            tag = session.get(Tag, entry["tag_id"])
            name = tag.name if tag else f"#{entry['tag_id']}"
            return Narrowed(entry["user_ids"], f"技能标签「{name}」", part=f"skill:{entry['tag_id']}")
        miss = "线索没有规则里的技能标签"
    elif method == "value":
        value = _number(lead.value) or _number(facts.get("value")) or 0
        fitting = [t for t in rule.get("tiers") or [] if t["min_value"] <= value]
        if fitting:
            tier = fitting[-1]  # tiers are stored ascending
            return Narrowed(tier["user_ids"], f"线索价值 {_yuan(value)} 元（≥ {_yuan(tier['min_value'])} 元档）",
                            part=f"value:{tier['min_value']}")
        miss = f"线索价值 {_yuan(value)} 元低于最低档位"
    else:
        return Narrowed(rule_people(session, rule))
    return Narrowed(rule_people(session, rule), miss=miss)


_PEOPLE = select(User).where(User.id.in_(bindparam("ids", expanding=True)))


class Availability:
    """Who of `users` may take a lead now: enabled, and under the rule's daily cap for this scene
    (today = the configured zone's calendar day)."""

    def __init__(self, session: Session, scene_id: int, users: list[int], cap: int, now: datetime, tz: str):
        self.cap = cap
        self.people = {u.id: u for u in session.scalars(_PEOPLE, {"ids": list(users)})} if users else {}
        self.today: dict[int, int] = {}
        if cap and users:
            start = day_start(now, tz)
            self.today = dict(session.execute(
                select(LeadAssignment.to_user_id, func.count()).where(
                    LeadAssignment.scene_id == scene_id, LeadAssignment.to_user_id.in_(users),
                    LeadAssignment.created_at >= start, LeadAssignment.created_at < start + timedelta(days=1))
                .group_by(LeadAssignment.to_user_id)).all())

    def name(self, user_id: int) -> str:
        user = self.people.get(user_id)
        return (user.display_name or user.username) if user else f"用户#{user_id}"

    def why_not(self, user_id: int) -> Optional[str]:
        user = self.people.get(user_id)
        if user is None:
            return f"用户#{user_id} 已删除"
        if not user.enabled:
            return f"{self.name(user_id)} 已停用"
        if self.cap and self.today.get(user_id, 0) >= self.cap:
            return f"{self.name(user_id)} 今日已达上限 {self.cap} 条"
        return None


@lru_cache(maxsize=256)
def smooth_sequence(weights: tuple[int, ...]) -> tuple[int, ...]:
    """One period of nginx's smooth weighted round-robin: 3:1 gives A A B A — the exact shares
    over every sum(weights) picks, with the heavy ones spread out rather than bunched."""
    total, current, out = sum(weights), [0] * len(weights), []
    for _ in range(total):
        for i, weight in enumerate(weights):
            current[i] += weight
        best = max(range(len(weights)), key=lambda i: current[i])  # the first on a tie
        current[best] -= total
        out.append(best)
    return tuple(out)


def _walk(order: list[int], start: int, available: Availability) -> tuple[Optional[int], int, list[str]]:
    """The first available user of `order` from `start` on (cyclically): (user, steps taken, passed)."""
    passed: list[str] = []
    for step in range(len(order)):
        user_id = order[(start + step) % len(order)]
        why = available.why_not(user_id)
        if why is None:
            return user_id, step, passed
        if why not in passed:
            passed.append(why)
    return None, len(order), passed


def pick(session: Session, state: LeadAssignState, method: str, users: list[int], weights: dict,
         lead: Lead, available: Availability) -> Pick:
    """One user of `users` by `method`; the pointer moves past whoever was picked."""
    if not users:
        return Pick(None)
    if method == "random":
        # Seeded by the lead: the same lead always draws the same person (re-runs, tests).
        start = random.Random(lead.id or 0).randrange(len(users))
        user_id, _, passed = _walk(users, start, available)
        return Pick(user_id, passed=passed)
    if method == "load":
        loads = dict(session.execute(select(Lead.assignee_user_id, func.count()).where(
            Lead.assignee_user_id.in_(users), Lead.status.in_(OPEN_STATUSES)).group_by(Lead.assignee_user_id)).all())
        order = sorted(users, key=lambda u: loads.get(u, 0))  # stable: ties keep the configured order
        user_id, _, passed = _walk(order, 0, available)
        note = f"（未完成线索 {loads.get(user_id, 0)} 条）" if user_id else ""
        return Pick(user_id, note, passed)
    if method == "weighted":
        sequence = smooth_sequence(tuple(int(weights.get(str(u), 1)) for u in users))
        order = [users[i] for i in sequence]
    else:  # round robin, and the narrowed lists of region/skill/value
        order = list(users)
    start = state.counter % len(order)
    user_id, steps, passed = _walk(order, start, available)
    if user_id is not None:
        state.counter = (start + steps + 1) % len(order)
        session.add(state)
    return Pick(user_id, passed=passed)


def in_working_hours(hours: Optional[dict], now: datetime, tz: str) -> bool:
    """True when working hours are off or `now` (in the configured zone) falls inside them.
    An end before the start is a night shift: 22:00–06:00 runs past midnight, and the hours
    after midnight belong to the shift that started on the previous (working) day."""
    if not hours or not hours.get("enabled"):
        return True
    local = to_local(now, tz)
    window = TimeWindow.of(hours.get("start") or "09:00", hours.get("end") or "18:00")
    return window.contains(local) and window.opened_on(local).isoweekday() in set(hours.get("weekdays") or [])
