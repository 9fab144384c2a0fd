"""Console staff accounts: create, edit, enable/disable, passwords, and the login check
(throttling of repeated failures lives in login_throttle)."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Iterable, Optional

from sqlmodel import Session, col, func, select

from config.clock import as_utc, utcnow
from config.db import Database
from config.pii import fold_digits
from crm.people import passwords
from crm.people.errors import PeopleError
from crm.people.models import Role, User, UserRole
from crm.people.permissions import user_permissions
from crm.people.sessions import revoke_user_sessions

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{2,32}$")
MOBILE_RE = re.compile(r"^1[0-9]{10}$")
BAD_LOGIN = "用户名或密码错误"


def _clean_profile(display_name: str, email: str, mobile: str) -> tuple[str, str, str]:
    display_name, email, mobile = (display_name or "").strip(), (email or "").strip(), fold_digits(mobile or "").strip()
    if len(display_name) > 100:
        raise PeopleError("姓名不能超过 100 个字符", "display_name")
    if email and (len(email) > 320 or not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email)):
        raise PeopleError("邮箱格式不正确", "email")
    if mobile and not MOBILE_RE.match(mobile):
        raise PeopleError("手机号应为 11 位数字，以 1 开头", "mobile")
    return display_name, email, mobile


def _roles_by_code(session: Session, codes: Iterable[str]) -> list[Role]:
    codes = sorted(set(codes or []))
    if not codes:
        return []
    found = session.exec(select(Role).where(col(Role.code).in_(codes))).all()
    missing = set(codes) - {r.code for r in found}
    if missing:
        raise PeopleError("角色不存在：" + "、".join(sorted(missing)), "roles")
    return list(found)


def _set_roles(session: Session, user_id: int, roles: list[Role]) -> None:
    for link in session.exec(select(UserRole).where(UserRole.user_id == user_id)).all():
        session.delete(link)
    session.flush()
    for role in roles:
        session.add(UserRole(user_id=user_id, role_id=role.id))


def create_user(db: Database, username: str, password: str, display_name: str = "",
                email: str = "", mobile: str = "", roles: Iterable[str] = (),
                is_admin: bool = False, must_change_password: bool = False) -> User:
    username = (username or "").strip()
    if not USERNAME_RE.match(username):
        raise PeopleError("用户名需 2–32 位，只能包含字母、数字、下划线、点和短横线", "username")
    passwords.check_policy(password)
    display_name, email, mobile = _clean_profile(display_name, email, mobile)
    with db.write() as session:
        taken = session.exec(select(User).where(func.lower(User.username) == username.lower())).first()
        if taken:
            raise PeopleError("用户名已存在", "username")
        role_rows = _roles_by_code(session, roles)
        user = User(username=username, display_name=display_name or username, email=email,
                    mobile=mobile, password_hash=passwords.hash_password(password),
                    is_admin=is_admin, must_change_password=must_change_password)
        session.add(user)
        session.flush()
        _set_roles(session, user.id, role_rows)
        return user


def update_user(db: Database, user_id: int, *, display_name: str, email: str = "", mobile: str = "",
                roles: Iterable[str] = (), is_admin: Optional[bool] = None,
                actor_id: Optional[int] = None) -> User:
    display_name, email, mobile = _clean_profile(display_name, email, mobile)
    with db.write() as session:
        user = _get(session, user_id)
        if is_admin is not None and is_admin != user.is_admin:
            if not is_admin and actor_id == user.id:
                raise PeopleError("不能取消自己的管理员身份", "is_admin")
            if not is_admin:
                _refuse_last_admin(session, user)
            user.is_admin = is_admin
        user.display_name = display_name or user.username
        user.email, user.mobile = email, mobile
        _set_roles(session, user.id, _roles_by_code(session, roles))
        session.add(user)
        return user


def _get(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise PeopleError("用户不存在")
    return user


def _refuse_last_admin(session: Session, user: User) -> None:
    """Somebody must always be able to manage staff: keep at least one enabled admin."""
    if not (user.is_admin and user.enabled):
        return
    others = session.exec(select(func.count()).select_from(User).where(
        User.is_admin == True, User.enabled == True, User.id != user.id)).one()  # noqa: E712
    if not others:
        raise PeopleError("至少需要保留一个启用的管理员")


def get_user(db: Database, user_id: int) -> Optional[User]:
    with db.read() as session:
        return session.get(User, user_id)


def get_user_by_username(db: Database, username: str) -> Optional[User]:
    with db.read() as session:
        return session.exec(select(User).where(User.username == (username or "").strip())).first()


def roles_of(db: Database, user_id: int) -> list[Role]:
    with db.read() as session:
        stmt = select(Role).join(UserRole, UserRole.role_id == Role.id).where(UserRole.user_id == user_id)
        return list(session.exec(stmt.order_by(Role.id)).all())


def load_identity(db: Database, user_id: int) -> tuple[Optional[User], set[str]]:
    """The user and their effective permissions (empty when missing or disabled)."""
    user = get_user(db, user_id)
    if user is None or not user.enabled:
        return None, set()
    return user, user_permissions(user, roles_of(db, user_id))


def list_users(db: Database, search: str = "") -> list[tuple[User, list[Role]]]:
    """Every user with their roles, newest last; `search` matches username, name or mobile.
    Mobiles are sealed at rest, so the (short) staff list is searched after decryption."""
    with db.read() as session:
        users = list(session.exec(select(User).order_by(User.id)).all())
        needle = search.strip().lower()
        if needle:
            users = [u for u in users
                     if any(needle in (v or "").lower() for v in (u.username, u.display_name, u.mobile))]
        links = session.exec(select(UserRole, Role).join(Role, Role.id == UserRole.role_id)).all()
    by_user: dict[int, list[Role]] = {}
    for link, role in links:
        by_user.setdefault(link.user_id, []).append(role)
    return [(u, by_user.get(u.id, [])) for u in users]


def authenticate(db: Database, username: str, password: str, now: Optional[datetime] = None) -> User:
    """The user behind a correct username and password, or PeopleError with the message to show.

    Unknown usernames and wrong passwords get the same message (and the same time, through a
    dummy verification), so the form does not reveal who exists. Repeated failures are slowed by
    login_throttle, per address and per account from that address: a stranger's guesses must not
    lock the real user out, so the account itself is never locked here.
    """
    now = as_utc(now or utcnow())
    with db.write() as session:
        user = session.exec(select(User).where(User.username == (username or "").strip())).first()
        if user is None:
            passwords.burn_verify(password or "")
            raise PeopleError(BAD_LOGIN)
        if not passwords.verify_password(user.password_hash, password or ""):
            raise PeopleError(BAD_LOGIN)
        if not user.enabled:
            raise PeopleError("该账号已被停用，请联系管理员")
        if passwords.needs_rehash(user.password_hash):
            user.password_hash = passwords.hash_password(password)
        user.last_login_at = now
        session.add(user)
        return user


def change_password(db: Database, user_id: int, old_password: str, new_password: str,
                    confirm: Optional[str] = None) -> User:
    with db.write() as session:
        user = _get(session, user_id)
        if not passwords.verify_password(user.password_hash, old_password or ""):
            raise PeopleError("原密码不正确", "old_password")
        passwords.check_policy(new_password, "new_password")
        if confirm is not None and confirm != new_password:
            raise PeopleError("两次输入的新密码不一致", "confirm")
        if passwords.verify_password(user.password_hash, new_password):
            raise PeopleError("新密码不能与原密码相同", "new_password")
        user.password_hash = passwords.hash_password(new_password)
        user.must_change_password = False
        session.add(user)
        # Every sign-in ends, including one a thief holds; the view signs this browser in again.
        revoke_user_sessions(session, user.id)
        return user


def reset_password(db: Database, user_id: int, new_password: str) -> User:
    """An admin sets a temporary password; the user must choose their own at next login."""
    passwords.check_policy(new_password)
    with db.write() as session:
        user = _get(session, user_id)
        user.password_hash = passwords.hash_password(new_password)
        user.must_change_password = True
        session.add(user)
        revoke_user_sessions(session, user.id)
        return user


def set_enabled(db: Database, user_id: int, enabled: bool, actor_id: Optional[int] = None) -> User:
    with db.write() as session:
        user = _get(session, user_id)
        if not enabled:
            if actor_id == user.id:
                raise PeopleError("不能停用自己的账号")
            _refuse_last_admin(session, user)
        user.enabled = enabled
        if not enabled:
            revoke_user_sessions(session, user.id)
        session.add(user)
        return user
