"""客户分组管理: groups, their managers (see every customer of the group) and salespeople (see and
follow only the customers assigned to them), and the 请求任务设置 (may salespeople ask for more
customers once their follow-up tasks are done; how many times a day; how many each time).

Functions take the caller's Session (`with services.db.write() as s:`); bad input raises
CrmError with Chinese messages per field and writes nothing.
"""
from __future__ import annotations

from typing import Optional

from sqlalchemy import delete, func, or_, select, update
from sqlmodel import Session

from crm.customers.models import Customer
from crm.errors import CrmError
from crm.groups.links import get_group
from crm.groups.models import AllocationRule, CustomerGroup, GroupLink, GroupMember, GroupRule, RecycleRule
from crm.people.models import User

ROLES = {"manager": "管理员", "sales": "业务员"}
MAX_PER_DAY = 100
MAX_PER_REQUEST = 1000


def _int(raw, field: str, label: str, errors: dict, low: int, high: int) -> int:
    try:
        value = int(raw if raw not in (None, "") else 0)
    except (TypeError, ValueError):
        errors[field] = f"{label}应为整数"
        return 0
    if isinstance(raw, bool) or not low <= value <= high:
        errors[field] = f"{label}应在 {low}–{high} 之间"
    return value


def _flag(raw) -> bool:
    return raw is True or str(raw).lower() in ("1", "true", "on", "yes")


def clean_group(session: Session, data: dict, current: Optional[CustomerGroup] = None) -> dict:
    errors: dict = {}
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = "请填写分组名称"
    elif len(name) > 100:
        errors["name"] = "分组名称最多 100 个字"
    else:
        taken = session.scalar(select(CustomerGroup.id).where(func.lower(CustomerGroup.name) == name.lower()))
        if taken and (current is None or taken != current.id):
            errors["name"] = "已有同名分组"
    remark = str(data.get("remark") or "").strip()
    if len(remark) > 500:
        errors["remark"] = "备注最多 500 个字"
    clean = {"name": name, "remark": remark, "allow_requests": _flag(data.get("allow_requests")),
             "requests_per_day": _int(data.get("requests_per_day"), "requests_per_day", "每天请求次数", errors, 0,
                                      MAX_PER_DAY),
             "customers_per_request": _int(data.get("customers_per_request"), "customers_per_request",
                                           "每次请求数量", errors, 0, MAX_PER_REQUEST)}
    if clean["allow_requests"] and not errors and (clean["requests_per_day"] < 1 or clean["customers_per_request"] < 1):
        errors["requests_per_day"] = "允许请求时，每天次数和每次数量都至少为 1"
    if errors:
        raise CrmError("分组信息有误", errors)
    return clean


def _members(session: Session, raw) -> list[tuple[int, str]]:
    """[(user_id, role)] from [{"user_id", "role"}]; a user listed twice keeps the manager role."""
    errors: dict = {}
    chosen: dict[int, str] = {}
    for item in raw or []:
        try:
            user_id = int(item.get("user_id"))
        except (AttributeError, TypeError, ValueError):
            errors["members"] = "成员选择有误"
            continue
        role = item.get("role") or "sales"
        if role not in ROLES:
            errors["members"] = f"成员角色「{role}」无效"
            continue
        chosen[user_id] = "manager" if "manager" in (role, chosen.get(user_id)) else "sales"
    known = set(session.scalars(select(User.id).where(User.id.in_(list(chosen))))) if chosen else set()
    if set(chosen) - known:
        errors["members"] = "所选成员不存在"
    if errors:
        raise CrmError("分组成员有误", errors)
    return sorted(chosen.items())


def create_group(session: Session, data: dict) -> CustomerGroup:
    clean = clean_group(session, data)
    members = _members(session, data.get("members"))
    top = session.scalar(select(func.max(CustomerGroup.position))) or 0
    group = CustomerGroup(**clean, position=top + 1)
    session.add(group)
    session.flush()
    _set_members(session, group.id, members)
    return group


def update_group(session: Session, group_id: int, data: dict) -> CustomerGroup:
    group = get_group(session, group_id)
    clean = clean_group(session, data, group)
    members = _members(session, data.get("members")) if "members" in data else None
    for key, value in clean.items():
        setattr(group, key, value)
    session.add(group)
    if members is not None:
        _set_members(session, group.id, members)
    session.flush()
    return group


def _set_members(session: Session, group_id: int, members: list[tuple[int, str]]) -> None:
    session.execute(delete(GroupMember).where(GroupMember.group_id == group_id))
    for user_id, role in members:
        session.add(GroupMember(group_id=group_id, user_id=user_id, role=role))
    session.flush()


def delete_group(session: Session, group_id: int) -> None:
    """Only an empty group can go: its customers must be moved or released first."""
    group = get_group(session, group_id)
    linked = session.scalar(select(func.count()).select_from(GroupLink).where(GroupLink.group_id == group.id))
    if linked:
        raise CrmError(f"分组「{group.name}」还有 {linked} 个客户，请先移出或退回公海", {"group_id": "分组不为空"})
    used = session.scalar(select(func.count()).select_from(GroupRule).where(
        or_(GroupRule.source_group_id == group.id, GroupRule.target_group_id == group.id)))
    if used:
        raise CrmError(f"有 {used} 条客户分组规则使用了分组「{group.name}」，请先修改这些规则", {"group_id": "分组被规则引用"})
    for model in (AllocationRule, RecycleRule, GroupMember):
        session.execute(delete(model).where(model.group_id == group.id))
    session.delete(group)
    session.flush()


def list_groups(session: Session) -> list[dict]:
    """Every group with its members and counts (in the group, in its pool, assigned)."""
    groups = list(session.scalars(select(CustomerGroup).order_by(CustomerGroup.position, CustomerGroup.id)))
    counts = {gid: (total, pooled) for gid, total, pooled in session.execute(
        select(GroupLink.group_id, func.count(), func.count().filter(GroupLink.assignee_id.is_(None)))
        .group_by(GroupLink.group_id))}
    members = members_by_group(session)
    out = []
    for g in groups:
        total, pooled = counts.get(g.id, (0, 0))
        out.append({"group": g, "members": members.get(g.id, []), "total": total, "pooled": pooled,
                    "assigned": total - pooled})
    return out


def members_by_group(session: Session) -> dict[int, list[dict]]:
    rows = session.execute(select(GroupMember.group_id, GroupMember.role, User)
                           .join(User, User.id == GroupMember.user_id).order_by(GroupMember.role, User.username))
    out: dict[int, list[dict]] = {}
    for group_id, role, user in rows:
        out.setdefault(group_id, []).append({"user": user, "role": role, "role_label": ROLES.get(role, role)})
    return out


def group_members(session: Session, group_id: int, role: Optional[str] = None) -> list[int]:
    stmt = select(GroupMember.user_id).where(GroupMember.group_id == group_id)
    if role:
        stmt = stmt.where(GroupMember.role == role)
    return list(session.scalars(stmt.order_by(GroupMember.user_id)))


def groups_of_user(session: Session, user_id: int) -> list[tuple[CustomerGroup, str]]:
    return list(session.execute(select(CustomerGroup, GroupMember.role)
                                .join(GroupMember, GroupMember.group_id == CustomerGroup.id)
                                .where(GroupMember.user_id == user_id).order_by(CustomerGroup.position)))


def visible_customer_ids(user_id: int):
    """SELECT of the customer ids a user may see through groups: every customer of the groups
    they manage, and the customers assigned to (or owned by) them."""
    managed = select(GroupMember.group_id).where(GroupMember.user_id == user_id, GroupMember.role == "manager")
    in_managed = select(GroupLink.customer_id).where(GroupLink.group_id.in_(managed))
    assigned = select(GroupLink.customer_id).where(GroupLink.assignee_id == user_id)
    return select(Customer.id).where(or_(Customer.id.in_(in_managed), Customer.id.in_(assigned),
                                         Customer.owner_id == user_id))


def reorder_groups(session: Session, order: list[int]) -> None:
    for position, group_id in enumerate(order, start=1):
        session.execute(update(CustomerGroup).where(CustomerGroup.id == group_id).values(position=position))
