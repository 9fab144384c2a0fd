"""部门与员工 sync: WeCom's department tree onto ours (matched by name under the mapped parent,
else created), members onto our users (by 登录名 == UserID, else by a unique 显示名 == name).
Users are never created here (an unmatched member is shown for mapping by hand), so no sync can
grant anyone console access, let alone an admin's."""
from __future__ import annotations

from sqlmodel import Session, col, select

from config.clock import utcnow
from crm.people.models import Department, User, UserDepartment
from integrations.errors import IntegrationError, IntegrationNotFound
from integrations.wecom.models import WecomDepartment, WecomMember


def fetch(client) -> dict:
    departments = client.get("/cgi-bin/department/list")["department"]
    roots = [d["id"] for d in departments if not d.get("parentid")] or [min(d["id"] for d in departments)]
    users: dict[str, dict] = {}
    for root in roots:
        for user in client.get("/cgi-bin/user/list", {"department_id": root, "fetch_child": 1})["userlist"]:
            users[user["userid"]] = user
    return {"departments": departments, "users": list(users.values())}


def _map_department(session: Session, row: WecomDepartment, parent_ours) -> None:
    if row.department_id and session.get(Department, row.department_id) is not None:
        return
    found = session.exec(select(Department).where(Department.name == row.name,
                                                  Department.parent_id == parent_ours)).first()
    if found is None:
        found = Department(name=row.name, parent_id=parent_ours)
        session.add(found)
        session.flush()
    row.department_id = found.id


def apply(session: Session, corp_pk: int, data: dict) -> dict:
    now = utcnow()
    rows = {r.wecom_id: r for r in session.exec(select(WecomDepartment).where(WecomDepartment.corp_pk == corp_pk))}
    seen = set()
    # Parents before children: WeCom's list is ordered by tree, but do not rely on it.
    pending = sorted(data["departments"], key=lambda d: (d.get("parentid") or 0, d["id"]))
    by_id = {d["id"]: d for d in pending}
    def depth(d):
        n = 0
        while d.get("parentid") in by_id and n < 64:
            d, n = by_id[d["parentid"]], n + 1
        return n
    for dept in sorted(pending, key=depth):
        row = rows.get(dept["id"]) or WecomDepartment(corp_pk=corp_pk, wecom_id=dept["id"])
        row.name, row.parent_wecom_id, row.removed, row.synced_at = dept["name"][:100], dept.get("parentid") or 0, False, now
        parent = rows.get(row.parent_wecom_id)
        _map_department(session, row, parent.department_id if parent else None)
        session.add(row)
        rows[dept["id"]] = row
        seen.add(dept["id"])
    for wecom_id, row in rows.items():
        if wecom_id not in seen:
            row.removed = True
            session.add(row)
    members = {m.userid: m for m in session.exec(select(WecomMember).where(WecomMember.corp_pk == corp_pk))}
    matched = 0
    seen_users = set()
    for user in data["users"]:
        row = members.get(user["userid"]) or WecomMember(corp_pk=corp_pk, userid=user["userid"])
        row.name, row.departments = str(user.get("name") or "")[:100], list(user.get("department") or [])
        row.status, row.removed, row.synced_at = int(user.get("status") or 1), False, now
        if row.user_id is None:
            _match_user(session, row)
        if row.user_id is not None:
            matched += 1
            _join_departments(session, row.user_id, [rows[d].department_id for d in row.departments if d in rows])
        session.add(row)
        seen_users.add(row.userid)
    for userid, row in members.items():
        if userid not in seen_users:
            row.removed = True
            session.add(row)
    session.flush()
    return {"departments": len(seen), "members": len(seen_users), "matched": matched,
            "unmatched": len(seen_users) - matched}


def _match_user(session: Session, row: WecomMember) -> None:
    user = session.exec(select(User).where(User.username == row.userid, User.enabled == True)).first()  # noqa: E712
    if user is not None:
        row.user_id, row.matched_by = user.id, "username"
        return
    if row.name:
        named = session.exec(select(User.id).where(User.display_name == row.name, User.enabled == True).limit(2)).all()  # noqa: E712
        if len(named) == 1:
            row.user_id, row.matched_by = named[0], "name"


def _join_departments(session: Session, user_id: int, department_ids) -> None:
    wanted = {d for d in department_ids if d}
    if not wanted:
        return
    have = set(session.exec(select(UserDepartment.department_id).where(
        UserDepartment.user_id == user_id, col(UserDepartment.department_id).in_(wanted))).all())
    for dept in wanted - have:
        session.add(UserDepartment(user_id=user_id, department_id=dept))


def map_member(session: Session, corp_pk: int, member_id: int, user_id: int | None) -> WecomMember:
    """员工映射 by hand (None clears it)."""
    row = session.get(WecomMember, member_id)
    if row is None or row.corp_pk != corp_pk:
        raise IntegrationNotFound("员工不存在")
    if user_id is not None and session.get(User, user_id) is None:
        raise IntegrationError("系统用户不存在")
    row.user_id, row.matched_by = user_id, "manual" if user_id else ""
    session.add(row)
    return row
