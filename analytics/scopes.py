"""Whose figures a viewer may read: a 业务员 (reports.view) their own and their own WeChat accounts';
a manager (reports.view_department) also their departments' (with sub-departments), the people in
them and those people's accounts; reports.view_all everyone and the whole company. Anything else is
ScopeNotFound (404), exactly like an id that does not exist."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from sqlmodel import Session, select

from analytics.errors import ScopeNotFound
from crm.people.models import Department, User, UserDepartment
from crm.scope import Viewer
from devices.models import WechatAccount

DIM_LABELS = {"company": "全公司", "department": "团队", "user": "个人", "account": "微信号"}


@dataclass(frozen=True)
class Scope:
    dim: str
    dim_id: int
    name: str

    @property
    def title(self) -> str:
        return self.name if self.dim == "company" else f"{DIM_LABELS[self.dim]}：{self.name}"


@dataclass
class Visible:
    company: bool = False
    departments: dict = field(default_factory=dict)  # id → name
    users: dict = field(default_factory=dict)
    accounts: dict = field(default_factory=dict)

    def names(self, dim: str) -> dict:
        return {"company": {0: "全公司"} if self.company else {}, "department": self.departments,
                "user": self.users, "account": self.accounts}.get(dim, {})


def _descendants(parents: dict, roots: set) -> set:
    out, changed = set(roots), True
    while changed:
        changed = False
        for d, p in parents.items():
            if p in out and d not in out:
                out.add(d)
                changed = True
    return out


def _user_name(u: User) -> str:
    return u.display_name or u.username


def visible(session: Session, viewer: Viewer) -> Visible:
    depts = {d.id: d for d in session.exec(select(Department))}
    users = {u.id: u for u in session.exec(select(User).where(User.enabled == True))}  # noqa: E712
    links = list(session.exec(select(UserDepartment.user_id, UserDepartment.department_id)))
    if viewer.has("reports.view_all"):
        dept_ids, user_ids = set(depts), set(users)
    else:
        dept_ids, user_ids = set(), {viewer.user_id} if viewer.user_id in users else set()
        if viewer.has("reports.view_department"):
            mine = {d for u, d in links if u == viewer.user_id}
            dept_ids = _descendants({d.id: d.parent_id for d in depts.values()}, mine)
            user_ids |= {u for u, d in links if d in dept_ids and u in users}
    accounts = session.exec(select(WechatAccount.id, WechatAccount.wxid, WechatAccount.nickname,
                                   WechatAccount.owner_user_id)).all()
    seen_all = viewer.has("reports.view_all")
    return Visible(
        company=seen_all,
        departments={i: depts[i].name for i in sorted(dept_ids)},
        users={i: _user_name(users[i]) for i in sorted(user_ids)},
        accounts={a: (nick or wxid) for a, wxid, nick, owner in accounts if seen_all or owner in user_ids})


def resolve(session: Session, viewer: Viewer, dim: Optional[str], dim_id: Optional[int],
            seen: Optional[Visible] = None) -> Scope:
    """The scope asked for, or the viewer's widest one when none is given."""
    seen = seen or visible(session, viewer)
    if not dim:
        if seen.company:
            return Scope("company", 0, "全公司")
        if seen.departments:
            first = next(iter(seen.departments))
            return Scope("department", first, seen.departments[first])
        dim, dim_id = "user", viewer.user_id
    if dim == "company":
        dim_id = 0
    names = seen.names(dim)
    if dim_id is None or dim_id not in names:
        raise ScopeNotFound("没有找到这个人员、团队或微信号的报表", {"id": "不存在或无权查看"})
    return Scope(dim, dim_id, names[dim_id])


def members(session: Session, scope: Scope, seen: Visible) -> list[Scope]:
    """One level down for the ranking table: a company's or team's people, a person's accounts."""
    if scope.dim == "user":
        ids = set(session.exec(select(WechatAccount.id).where(WechatAccount.owner_user_id == scope.dim_id)))
        return [Scope("account", i, n) for i, n in seen.accounts.items() if i in ids]
    if scope.dim == "company":
        return [Scope("user", i, n) for i, n in seen.users.items()]
    if scope.dim == "department":
        parents = {d: p for d, p in session.exec(select(Department.id, Department.parent_id))}
        under = _descendants(parents, {scope.dim_id})
        ids = {u for u, d in session.exec(select(UserDepartment.user_id, UserDepartment.department_id)) if d in under}
        return [Scope("user", i, n) for i, n in seen.users.items() if i in ids]
    return []
