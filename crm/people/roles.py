"""Roles: named sets of permissions. The built-in ones (管理员, 运营, 只读) always exist; custom
roles are created in 角色管理."""
from __future__ import annotations

import re
from typing import Iterable, Optional

from sqlmodel import func, select

from config.db import Database
from crm.people.errors import PeopleError
from crm.people.models import Role, UserRole
from crm.people.permissions import ALL_PERMISSIONS, BUILTIN_ROLES, PERMISSIONS, unknown

CODE_RE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")


def _clean(name: str, permissions: Iterable[str]) -> tuple[str, list[str]]:
    name = (name or "").strip()
    if not name:
        raise PeopleError("请填写角色名称", "name")
    if len(name) > 100:
        raise PeopleError("角色名称不能超过 100 个字符", "name")
    perms = sorted(set(permissions or []))
    bad = unknown(perms)
    if bad:
        raise PeopleError("未知的权限：" + "、".join(bad), "permissions")
    return name, perms


def ensure_builtin_roles(db: Database) -> None:
    """Creates missing built-in roles. Customised operator/viewer roles are kept as edited; the
    roles built as "everything" (管理员, 项目主理人) always hold every permission, including ones
    added by later releases."""
    with db.write() as session:
        existing = {r.code: r for r in session.exec(select(Role)).all()}
        for spec in BUILTIN_ROLES:
            role = existing.get(spec.code)
            if role is None:
                session.add(Role(code=spec.code, name=spec.name,
                                 permissions=sorted(spec.permissions), builtin=True))
            elif spec.permissions == ALL_PERMISSIONS and set(role.permissions or []) != ALL_PERMISSIONS:
                role.permissions = sorted(ALL_PERMISSIONS)
                session.add(role)


def list_roles(db: Database) -> list[tuple[Role, int]]:
    """Every role with how many users hold it; built-in roles first."""
    with db.read() as session:
        roles = session.exec(select(Role).order_by(Role.builtin.desc(), Role.id)).all()
        counts = dict(session.exec(select(UserRole.role_id, func.count()).group_by(UserRole.role_id)).all())
    return [(r, counts.get(r.id, 0)) for r in roles]


def get_role(db: Database, role_id: int) -> Optional[Role]:
    with db.read() as session:
        return session.get(Role, role_id)


def create_role(db: Database, code: str, name: str, permissions: Iterable[str]) -> Role:
    code = (code or "").strip()
    if not CODE_RE.match(code):
        raise PeopleError("角色代码需 2–32 位，以小写字母开头，只含小写字母、数字和下划线", "code")
    name, perms = _clean(name, permissions)
    with db.write() as session:
        if session.exec(select(Role).where(Role.code == code)).first():
            raise PeopleError("角色代码已存在", "code")
        role = Role(code=code, name=name, permissions=perms, builtin=False)
        session.add(role)
        session.flush()
        return role


def update_role(db: Database, role_id: int, name: str, permissions: Iterable[str]) -> Role:
    name, perms = _clean(name, permissions)
    with db.write() as session:
        role = session.get(Role, role_id)
        if role is None:
            raise PeopleError("角色不存在")
        if role.code == "admin" and set(perms) != set(PERMISSIONS):
            raise PeopleError("管理员角色始终拥有全部权限，不能修改", "permissions")
        role.name, role.permissions = name, perms
        session.add(role)
        return role


def delete_role(db: Database, role_id: int) -> None:
    with db.write() as session:
        role = session.get(Role, role_id)
        if role is None:
            raise PeopleError("角色不存在")
        if role.builtin:
            raise PeopleError("内置角色不能删除")
        holders = session.exec(select(func.count()).select_from(UserRole)
                               .where(UserRole.role_id == role_id)).one()
        if holders:
            raise PeopleError(f"仍有 {holders} 个用户使用该角色，请先调整这些用户的角色")
        session.delete(role)
