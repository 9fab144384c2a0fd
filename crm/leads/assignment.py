"""线索分配: who follows up a new lead. The scene's first matching 分配规则 picks a salesperson
(轮询, 随机, 按权重, 按负载, 按地区, 按技能标签, 按线索价值) within daily caps and working hours;
backups take what nobody else can. Operators assign and reassign by hand from the lead page.

Deciding is separate from doing: `decide` only chooses (and moves the rotation pointer), and
`apply_assignment` records it — the lead's assignee and status, an 分配记录 row with the latency,
a line in the 线索处理日志, the customer's owner when the customer had none, and a 站内通知 for the
assignee. Both run inside the caller's write transaction, so a lead is never half-assigned.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlalchemy import insert, select
from sqlmodel import Session

from config.clock import as_utc
from crm import events_out
from crm.customers.models import Customer, GrowthRecord
from crm.groups.journal import ASSIGNED_EVENT
from crm.groups.links import member_role
from crm.groups.membership import assign as assign_customer
from crm.groups.models import CrmLog, CustomerGroup, GroupMember
from crm.leads import rule_cache
from crm.leads.assign_methods import (BACKUP_KEY, Availability, claim, in_working_hours, narrow, pick,
                                      rule_key)
from crm.leads.assign_rules import ENTRY_LISTS, METHODS, hours_text
from crm.leads.errors import LeadNotFound, LeadsError
from crm.leads.logs import write_log
from crm.leads.models import Lead, LeadAssignment, LeadScene
from crm.people.models import Notification, User
from events.field_types import typed
from rules.conditions import ConditionError

# The lead's page in the console (web/console, blueprint "leads").
LEAD_LINK = "/leads/{id}"
ASSIGNABLE_FROM = ("NEW", "QUALIFIED")  # later statuses (跟进中, 已转化 …) stay as they are
_PHRASES = {"round_robin": "按轮询", "random": "随机", "weighted": "按权重", "load": "按负载"}


@dataclass
class Decision:
    user_id: Optional[int]
    group_id: Optional[int]
    method: str        # a rule method, "backup", "owner" (a known customer's owner) or "manual"
    rule_name: str
    reason: str        # Chinese, for the log: 规则「产品A线索」按轮询分配给 张三
    held: bool = False  # nobody gets the lead now (no rule matched, outside working hours …)
    user_name: str = ""  # the assignee's display name when `decide` already read it


def _held(reason: str, rule_name: str = "", method: str = "") -> Decision:
    return Decision(None, None, method, rule_name, reason, held=True)


def _matching_rule(scene: LeadScene, rules: list, facts: dict, now: datetime, tz: str) -> tuple[Optional[dict], list]:
    """The first rule whose rows match, and the rules skipped because their rows no longer fit
    the scene's fields (a mapped field was removed after the rule was saved)."""
    compiled = rule_cache.compiled(scene, "assignment", rules, tz)
    data = typed(compiled.fields, facts or {}, tz)
    broken = []
    for index, rule in enumerate(rules):
        try:
            predicate = compiled.predicate(index)
        except ConditionError as exc:
            broken.append(f"规则「{rule.get('name')}」的条件已失效：{exc.message}")
            continue
        if predicate(data, now):
            return rule, broken
    return None, broken


def _backup(session: Session, lead: Lead, config: dict, why: str, now: datetime, tz: str,
            rule_name: str = "") -> Decision:
    """The backups, in turn, skipping disabled ones; they have no cap (they are the overflow)."""
    users = list(config.get("backup_user_ids") or [])
    available = Availability(session, lead.scene_id, users, 0, now, tz)
    chosen = pick(session, claim(session, lead.scene_id, BACKUP_KEY), "round_robin", users, {}, lead, available)
    if chosen.user_id is None:
        return _held(f"{why}，且没有可用的备用分配人", rule_name, "backup")
    return Decision(chosen.user_id, None, "backup", rule_name, f"{why}，由备用分配人 {available.name(chosen.user_id)} 接收",
                    user_name=available.name(chosen.user_id))


def _owner_of_known_customer(session: Session, lead: Lead) -> Optional[Decision]:
    """A lead of a customer someone already follows goes to that owner (while they are enabled):
    a returning customer keeps their salesperson instead of being rotated to a new one."""
    if lead.customer_id is None or lead.customer_is_new:
        return None
    customer = session.get(Customer, lead.customer_id)
    if customer is None or customer.owner_id is None or customer.status != "active":
        return None
    owner = session.get(User, customer.owner_id)
    if owner is None or not owner.enabled:
        return None
    name = owner.display_name or owner.username
    return Decision(owner.id, None, "owner", "", f"老客户「{customer.name}」已有负责人，沿用负责人 {name}",
                    user_name=name)


def decide(session: Session, lead: Lead, scene: LeadScene, facts: dict, now: datetime, tz: str) -> Decision:
    """Who gets `lead` under the scene's 分配规则; `facts` is the lead's event data. A known
    customer's lead goes to their owner first, before working hours and rules."""
    kept = _owner_of_known_customer(session, lead)
    if kept is not None:
        return kept
    config = scene.assignment_rules or {}
    hours = config.get("working_hours")
    if not in_working_hours(hours, now, tz):
        why = f"非工作时间（{hours_text(hours)}）"
        if config.get("outside_hours") == "hold":
            return _held(f"{why}，线索暂不分配，等待人工处理")
        return _backup(session, lead, config, why, now, tz)
    rule, broken = _matching_rule(scene, config.get("rules") or [], facts, now, tz)
    if rule is None:
        return _held("；".join(["没有匹配的分配规则", *broken]))
    name = str(rule.get("name") or "")
    method = rule.get("method") if rule.get("method") in METHODS else "round_robin"  # a hand-edited config
    who = f"规则「{name}」"
    narrowed = narrow(session, lead, facts, rule)
    # The rule's own row is locked even when a narrowed list keeps its own pointer, so two
    # workers never count one rule's caps or loads at the same time.
    pointer = claim(session, scene.id, rule_key(name))
    if narrowed.part:
        pointer = claim(session, scene.id, rule_key(name, narrowed.part))
    available = Availability(session, scene.id, narrowed.users, rule.get("cap_per_day") or 0, now, tz)
    how = "round_robin" if method in ENTRY_LISTS else method
    chosen = pick(session, pointer, how, narrowed.users, rule.get("weights") or {}, lead, available)
    passed = f"（跳过：{'、'.join(chosen.passed)}）" if chosen.passed else ""
    if chosen.user_id is None:
        missing = f"{narrowed.miss}，" if narrowed.miss else ""
        why = (f"{who}：{missing}分配人员都不可用{passed}" if narrowed.users
               else f"{who}：{missing}没有可分配的人员")
        return _backup(session, lead, config, why, now, tz, name)
    person = available.name(chosen.user_id)
    if narrowed.label:
        reason = f"{who}按{narrowed.label}分配给 {person}{passed}"
    elif narrowed.miss:
        reason = f"{who}：{narrowed.miss}，按轮询分配给 {person}{passed}"
    else:
        reason = f"{who}{_PHRASES[method]}分配给 {person}{chosen.note}{passed}"
    return Decision(chosen.user_id, rule.get("group_id"), method, name, reason, user_name=person)


_INSERT_LOG, _INSERT_GROWTH = insert(CrmLog.__table__), insert(GrowthRecord.__table__)


def _take_customer(session: Session, lead: Lead, user_id: int, group_id: Optional[int], reason: str,
                   rule_name: str, actor_id: Optional[int], now: datetime, user_name: str = "") -> None:
    """A customer nobody follows yet gets the lead's assignee as owner — through the team's
    group (a GroupLink assigned to them) when the lead went to a team they belong to."""
    customer = session.get(Customer, lead.customer_id) if lead.customer_id else None
    if customer is None or customer.owner_id is not None or customer.status != "active":
        return
    rule_name = rule_name or "场景获客"
    if group_id and member_role(session, group_id, user_id):
        assign_customer(session, [customer.id], group_id, user_id, actor_id, reason=reason, now=now,
                        rule_name=rule_name)
        session.expire(customer)
        return
    if not user_name:
        user = session.get(User, user_id)
        user_name = user.display_name or user.username
    customer.owner_id, customer.updated_at = user_id, now
    session.add(customer)
    session.flush()
    # One customer: the rows crm.groups.journal's set-based writers (write_logs, write_growth,
    # emit_events) would write, without their INSERT … SELECT and counting round trips.
    session.execute(_INSERT_LOG, dict(
        kind="allocation", action="assign", customer_id=customer.id, group_id=None, from_user_id=None,
        to_user_id=user_id, rule_name=rule_name[:100], reason=(reason or "")[:500], operator_id=actor_id,
        created_at=now))
    session.execute(_INSERT_GROWTH, dict(
        customer_id=customer.id, kind="assign", summary=f"线索分配：由 {user_name} 跟进"[:500],
        operator_id=actor_id, created_at=now))
    events_out.emit(session, ASSIGNED_EVENT, {"customer_id": customer.id, "user_id": user_id})


def _notify(session: Session, lead: Lead, user_id: Optional[int], group_id: Optional[int], reason: str,
            now: datetime) -> None:
    """站内通知 in the caller's transaction: the assignee, or a team's managers for a team lead."""
    what = lead.name or f"线索#{lead.id}"
    if user_id:
        targets, title = [user_id], f"新线索分配给你：{what}"
    else:
        group = session.get(CustomerGroup, group_id)
        targets = list(session.scalars(select(GroupMember.user_id).where(
            GroupMember.group_id == group_id, GroupMember.role == "manager")))
        title = f"新线索分配给团队「{group.name if group else group_id}」：{what}，请安排跟进人"
    for target in targets:
        session.add(Notification(user_id=target, title=title[:200], body=reason[:5000],
                                 link=LEAD_LINK.format(id=lead.id), source="leads", created_at=as_utc(now)))


def _record(session: Session, lead: Lead, decision: Decision, actor: str, actor_id: Optional[int],
            now: datetime, marker: Optional[dict] = None) -> LeadAssignment:
    from_user_id = lead.assignee_user_id
    lead.assignee_user_id, lead.assignee_group_id = decision.user_id, decision.group_id
    lead.assigned_at = lead.updated_at = now
    if lead.status in ASSIGNABLE_FROM:
        lead.status = "ASSIGNED"
    session.add(lead)
    latency = (as_utc(now) - as_utc(lead.created_at)).total_seconds() if lead.created_at else 0
    row = LeadAssignment(lead_id=lead.id, scene_id=lead.scene_id, from_user_id=from_user_id,
                         to_user_id=decision.user_id, to_group_id=decision.group_id, method=decision.method[:24],
                         rule_name=decision.rule_name[:100], reason=decision.reason[:500], actor=actor[:64],
                         latency_seconds=max(latency, 0.0), created_at=now)
    session.add(row)
    session.flush()
    write_log(session, lead.id, "assigned", decision.reason, actor=actor, detail={
        "assignment_id": row.id, "from_user_id": from_user_id, "user_id": decision.user_id,
        "group_id": decision.group_id, "method": decision.method, "rule_name": decision.rule_name, **(marker or {})})
    if decision.user_id:
        _take_customer(session, lead, decision.user_id, decision.group_id, decision.reason, decision.rule_name,
                       actor_id, now, decision.user_name)
    scene = session.get(LeadScene, lead.scene_id)
    if (scene.assignment_rules or {}).get("notify_assignee", True) if scene else True:
        _notify(session, lead, decision.user_id, decision.group_id, decision.reason, now)
    return row


def apply_assignment(session: Session, lead: Lead, decision: Decision, *, actor: str, now: datetime,
                     actor_id: Optional[int] = None, batch_of: Optional[int] = None) -> Optional[LeadAssignment]:
    """Records `decision`; a held decision only writes the log line (暂未分配) and returns None.
    `batch_of`: the lead whose batch (crm.leads.batch) does this one; kept in the log line."""
    marker = {"batch": batch_of} if batch_of is not None else {}
    if decision.held:
        write_log(session, lead.id, "held", decision.reason, ok=False, actor=actor,
                  detail={"method": decision.method, "rule_name": decision.rule_name, **marker})
        return None
    return _record(session, lead, decision, actor, actor_id, now, marker)


def _by_id(session: Session, model, raw):
    """The row with a form's or JSON's id ("3" or 3), or None."""
    try:
        return None if isinstance(raw, bool) else session.get(model, int(raw))
    except (TypeError, ValueError):
        return None


def _person(session: Session, user_id) -> User:
    user = _by_id(session, User, user_id)
    if user is None:
        raise LeadsError("所选销售不存在", {"user_id": "所选销售不存在"})
    if not user.enabled:
        name = user.display_name or user.username
        raise LeadsError(f"{name} 已停用，不能分配线索", {"user_id": f"{name} 已停用"})
    return user


def _target_text(session: Session, user_id: Optional[int], group_id: Optional[int]) -> str:
    user = session.get(User, user_id) if user_id else None
    group = session.get(CustomerGroup, group_id) if group_id else None
    name = (user.display_name or user.username) if user else ""
    team = f"团队「{group.name}」" if group else ""
    return f"{name}（{team}）" if name and team else name or team or "无人"


def manual_assign(session: Session, lead_id: int, *, user_id=None, group_id=None, actor: str, now: datetime,
                  actor_id: Optional[int] = None) -> LeadAssignment:
    """手动分配/改派 to a salesperson, a team, or a salesperson of that team."""
    valid_id = isinstance(lead_id, int) and not isinstance(lead_id, bool)
    lead = session.get(Lead, lead_id) if valid_id else None
    if lead is None:
        raise LeadNotFound("线索不存在", {"lead_id": "线索不存在"})
    if user_id in (None, "") and group_id in (None, ""):
        raise LeadsError("请选择要分配给的销售或团队", {"user_id": "请选择销售或团队"})
    user = _person(session, user_id) if user_id not in (None, "") else None
    group = _by_id(session, CustomerGroup, group_id) if group_id not in (None, "") else None
    if group_id not in (None, "") and group is None:
        raise LeadsError("所选团队不存在", {"group_id": "所选团队不存在"})
    if user and group and member_role(session, group.id, user.id) is None:
        name = user.display_name or user.username
        raise LeadsError(f"{name} 不是团队「{group.name}」的成员", {"user_id": f"请选择团队「{group.name}」的成员"})
    to_user, to_group = (user.id if user else None), (group.id if group else None)
    target = _target_text(session, to_user, to_group)
    if (lead.assignee_user_id, lead.assignee_group_id) == (to_user, to_group):
        raise LeadsError(f"线索已经分配给 {target}", {"user_id": "请选择另一位销售或团队"})
    if lead.assignee_user_id or lead.assignee_group_id:
        before = _target_text(session, lead.assignee_user_id, lead.assignee_group_id)
        reason = f"手动改派：{before} → {target}"
    else:
        reason = f"手动分配给 {target}"
    return _record(session, lead, Decision(to_user, to_group, "manual", "", reason), actor, actor_id, now)


__all__ = ["Decision", "LEAD_LINK", "apply_assignment", "decide", "manual_assign"]
