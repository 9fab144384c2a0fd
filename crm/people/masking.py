"""脱敏管理: who may see a customer's full mobile number.

Each user has one of five modes (set by an administrator):

- 脱敏 (mask): every customer's number is masked for this user;
- 私有客户不脱敏 (private_clear): their own private customers (they are the owner) are not;
- 分配的客户不脱敏 (assigned_clear): customers assigned to them in any customer group are not;
- 小组客户不脱敏 (group_clear): customers of the customer groups they belong to are not;
- 不脱敏 (clear): no customer is masked for them.

Administrators and holders of 查看完整手机号 (pii.view) count as 不脱敏.

As in 晓售, lists, exports, histories, logs and API answers always show 138****8000 unless the
user's mode is 不脱敏; only the customer detail page applies the per-customer modes above.
"""
from __future__ import annotations

from typing import Iterable

from sqlmodel import Session, col, select

from config.db import Database
from crm.customers.models import Customer
from crm.groups.models import GroupLink, GroupMember
from crm.people.errors import PeopleError
from crm.people.models import User

MASK, PRIVATE_CLEAR, ASSIGNED_CLEAR, GROUP_CLEAR, CLEAR = (
    "mask", "private_clear", "assigned_clear", "group_clear", "clear")
MODES: tuple[str, ...] = (MASK, PRIVATE_CLEAR, ASSIGNED_CLEAR, GROUP_CLEAR, CLEAR)
MODE_LABELS = {
    MASK: "脱敏",
    PRIVATE_CLEAR: "私有客户不脱敏",
    ASSIGNED_CLEAR: "分配的客户不脱敏",
    GROUP_CLEAR: "小组客户不脱敏",
    CLEAR: "不脱敏",
}
MODE_HELP = {
    MASK: "所有客户的手机号对该用户都脱敏显示（如 138****8000）。",
    PRIVATE_CLEAR: "该用户作为负责人的私有客户，在客户详情页显示完整手机号；其他客户脱敏。",
    ASSIGNED_CLEAR: "分配给该用户跟进的客户（任一客户分组中），在客户详情页显示完整手机号；其他客户脱敏。",
    GROUP_CLEAR: "该用户所在客户分组（作为经理或业务员）里的全部客户，在客户详情页显示完整手机号；其他客户脱敏。",
    CLEAR: "所有客户对该用户都不脱敏，列表、导出和日志中也显示完整手机号。",
}
# Chunk IN lists so a long page never hits SQLite's bound-parameter limit.
_CHUNK = 500


def mask_mode_of(user, permissions: Iterable[str]) -> str:
    """The effective mode: admins and pii.view holders are 不脱敏; an unknown stored value masks."""
    if user is None:
        return MASK
    if getattr(user, "is_admin", False) or "pii.view" in set(permissions or ()):
        return CLEAR
    mode = getattr(user, "mask_mode", MASK) or MASK
    return mode if mode in MODES else MASK


def lists_show_full(mode: str) -> bool:
    """Lists, exports, histories, logs and API answers show full numbers only for 不脱敏."""
    return mode == CLEAR


def _chunks(ids: list[int]):
    for i in range(0, len(ids), _CHUNK):
        yield ids[i:i + _CHUNK]


def clear_customer_ids(session: Session, user_id: int, mode: str, customer_ids: Iterable[int]) -> set[int]:
    """Which of `customer_ids` this user may see unmasked on the detail page (set-based: one query
    per 500 ids, whatever the mode)."""
    ids = sorted({int(c) for c in customer_ids if c is not None})
    if not ids or mode not in MODES or mode == MASK:
        return set()
    if mode == CLEAR:
        return set(ids)
    found: set[int] = set()
    for part in _chunks(ids):
        if mode == PRIVATE_CLEAR:
            stmt = select(Customer.id).where(col(Customer.id).in_(part), Customer.owner_id == user_id)
        elif mode == ASSIGNED_CLEAR:
            stmt = select(GroupLink.customer_id).where(col(GroupLink.customer_id).in_(part),
                                                       GroupLink.assignee_id == user_id)
        else:
            groups = select(GroupMember.group_id).where(GroupMember.user_id == user_id)
            stmt = select(GroupLink.customer_id).where(col(GroupLink.customer_id).in_(part),
                                                       col(GroupLink.group_id).in_(groups))
        found.update(session.exec(stmt.distinct()).all())
    return found


def can_see_full(session: Session, user, permissions: Iterable[str], customer_id: int) -> bool:
    """For the customer detail page: does this user see this customer's full number?"""
    if user is None:
        return False
    mode = mask_mode_of(user, permissions)
    return customer_id in clear_customer_ids(session, user.id, mode, [customer_id])


def set_mask_mode(db: Database, user_id, mode: str) -> list[int]:
    """Sets the mode of one user or of several (a list of ids: 批量脱敏设置); returns the ids."""
    if mode not in MODES:
        raise PeopleError("请选择脱敏方式", "mode")
    ids = sorted({int(u) for u in (user_id if isinstance(user_id, (list, tuple, set)) else [user_id])})
    if not ids:
        raise PeopleError("请选择用户", "user_ids")
    with db.write() as session:
        users = session.exec(select(User).where(col(User.id).in_(ids))).all()
        if len(users) != len(ids):
            raise PeopleError("用户不存在")
        for user in users:
            user.mask_mode = mode
            session.add(user)
    return ids


def list_mask_modes(db: Database, search: str = "") -> list[User]:
    """Every user with their stored mode, for the 脱敏管理 page."""
    with db.read() as session:
        stmt = select(User).order_by(User.id)
        if search.strip():
            like = f"%{search.strip()}%"
            stmt = stmt.where(col(User.username).ilike(like) | col(User.display_name).ilike(like))
        return list(session.exec(stmt).all())
