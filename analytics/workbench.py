"""个性化工作台 and 默认工作台: which panels a person's home shows, in which order.

A person's own choice (saved from 选择模块) wins. Without one, the home shows their roles' defaults
(set on 默认工作台 by a holder of home.defaults): with several roles, the union of their lists in
the first role's order, then the panels only later roles add, in theirs — "first" meaning the role
created first (lowest role id), since a user's roles carry no order of their own. Without any role
default, every panel in registry order. Whatever the source, only panels the person's permissions
allow are shown: a default naming 策略运行 does not show it to a 业务员."""
from __future__ import annotations

from typing import Iterable, Optional

from sqlmodel import Session, col, select

from analytics import panels as registry
from analytics.panels.errors import WorkbenchError
from analytics.workbench_models import RoleDefaultPanels, WorkbenchLayout
from config.clock import utcnow
from crm.errors import NotFound
from crm.people.models import Role, UserRole

MAX_PANELS = 30


def clean_keys(keys: Iterable, permissions: Optional[Iterable[str]] = None) -> list[str]:
    """The keys de-duplicated in order; unknown keys (or, given `permissions`, ones not allowed) refused."""
    out: list[str] = []
    for raw in keys or []:
        key = str(raw).strip()
        if key and key not in out:
            out.append(key)
    unknown = [k for k in out if registry.get(k) is None]
    if unknown:
        raise WorkbenchError("包含未知的模块", {"panels": "未知的模块：" + "、".join(k[:40] for k in unknown[:5])})
    if permissions is not None:
        granted = set(permissions)
        forbidden = [registry.get(k).title for k in out if not registry.get(k).visible_to(granted)]
        if forbidden:
            raise WorkbenchError("包含无权查看的模块", {"panels": "无权查看的模块：" + "、".join(forbidden)})
    if len(out) > MAX_PANELS:
        raise WorkbenchError("模块过多", {"panels": f"最多选择 {MAX_PANELS} 个模块"})
    return out


def _role_ids(session: Session, user_id: int) -> list[int]:
    return list(session.exec(select(UserRole.role_id).where(UserRole.user_id == user_id).order_by(UserRole.role_id)).all())


def role_default(session: Session, role_ids: list[int]) -> Optional[list[str]]:
    """The union of these roles' defaults in the first role's order, or None when none is set."""
    if not role_ids:
        return None
    rows = {r.role_id: r.panels for r in session.exec(
        select(RoleDefaultPanels).where(col(RoleDefaultPanels.role_id).in_(role_ids))).all()}
    if not rows:
        return None
    merged: list[str] = []
    for role_id in role_ids:
        merged += [k for k in rows.get(role_id) or [] if k not in merged]
    return merged


def default_keys(session: Session, user_id: int) -> list[str]:
    found = role_default(session, _role_ids(session, user_id))
    return found if found is not None else list(registry.PANELS)


def saved_keys(session: Session, user_id: int) -> Optional[list[str]]:
    row = session.exec(select(WorkbenchLayout).where(WorkbenchLayout.user_id == user_id)).first()
    return list(row.panels) if row is not None else None


def layout(session: Session, user_id: int, permissions: Iterable[str]) -> list[registry.Panel]:
    """The panels of this person's home, in order (keys dropped from the registry are skipped)."""
    granted = set(permissions)
    keys = saved_keys(session, user_id)
    if keys is None:
        keys = default_keys(session, user_id)
    panels = [registry.get(k) for k in keys]
    return [p for p in panels if p is not None and p.visible_to(granted)]


def is_custom(session: Session, user_id: int) -> bool:
    return saved_keys(session, user_id) is not None


def save_layout(session: Session, user_id: int, keys: Iterable, permissions: Iterable[str]) -> list[str]:
    """选择模块: store this person's panels in this order (an empty list is a valid, empty home)."""
    clean = clean_keys(keys, permissions)
    row = session.exec(select(WorkbenchLayout).where(WorkbenchLayout.user_id == user_id)).first()
    row = row or WorkbenchLayout(user_id=user_id)
    row.panels, row.updated_at = clean, utcnow()
    session.add(row)
    return clean


def reset_layout(session: Session, user_id: int) -> None:
    """恢复默认: forget the personal choice; the role default applies again."""
    row = session.exec(select(WorkbenchLayout).where(WorkbenchLayout.user_id == user_id)).first()
    if row is not None:
        session.delete(row)


def role_defaults(session: Session) -> list[dict]:
    """Every role with its default panels (None: no default set, every permitted panel shows)."""
    rows = {r.role_id: r for r in session.exec(select(RoleDefaultPanels)).all()}
    return [{"role": role, "panels": list(rows[role.id].panels) if role.id in rows else None,
             "updated_at": rows[role.id].updated_at if role.id in rows else None}
            for role in session.exec(select(Role).order_by(Role.id)).all()]


def _role(session: Session, role_id) -> Role:
    try:
        role = session.get(Role, int(role_id))
    except (TypeError, ValueError, OverflowError):
        role = None
    if role is None:
        raise NotFound("角色不存在")
    return role


def set_role_default(session: Session, role_id, keys: Iterable, set_by: Optional[int] = None) -> list[str]:
    """默认工作台: the role's panel list. Panels beyond the role's permissions are kept out."""
    role = _role(session, role_id)
    clean = clean_keys(keys)
    granted = set(role.permissions or [])
    beyond = [registry.get(k).title for k in clean if not registry.get(k).visible_to(granted)]
    if beyond and role.code != "admin":  # 管理员 holds every permission, whatever its row lists
        raise WorkbenchError("包含该角色无权查看的模块", {"panels": f"角色「{role.name}」无权查看：" + "、".join(beyond)})
    row = session.exec(select(RoleDefaultPanels).where(RoleDefaultPanels.role_id == role.id)).first()
    row = row or RoleDefaultPanels(role_id=role.id)
    row.panels, row.set_by, row.updated_at = clean, set_by, utcnow()
    session.add(row)
    return clean


def clear_role_default(session: Session, role_id) -> None:
    role = _role(session, role_id)
    row = session.exec(select(RoleDefaultPanels).where(RoleDefaultPanels.role_id == role.id)).first()
    if row is not None:
        session.delete(row)
