"""登录日志: every sign-in attempt and sign-out, with what came of it."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlmodel import Session, select

from config.db import Database
from config.pii import mask_text
from crm.audit.models import LoginLog
from crm.people.models import User
from crm.people.users import BAD_LOGIN

RESULTS = {
    "success": "成功", "bad_password": "密码错误", "unknown_user": "用户不存在", "disabled": "已停用",
    "throttled": "被限流", "unavailable": "登录服务不可用", "missing": "未填写完整", "logout": "退出登录",
    "rejected": "被拒绝",
}
CHANNELS = {"console": "控制台", "wecom_sidebar": "企业微信侧边栏"}


def classify_failure(session: Session, username: str, message: str) -> tuple[str, Optional[int]]:
    """(result, user id) for a refused password sign-in. The form says the same thing for an
    unknown user and a wrong password (so it reveals nobody); the log, read by admins, tells them
    apart."""
    user = session.exec(select(User).where(User.username == (username or "").strip())).first()
    if user is None:
        return "unknown_user", None
    return ("bad_password" if message == BAD_LOGIN or user.enabled else "disabled"), user.id


def record_login(db: Database, *, username: str, result: str, ip: str, user_agent: str, now: datetime,
                 user_id: Optional[int] = None, channel: str = "console", detail: str = "") -> None:
    """One row in its own transaction (a refused sign-in has no other to join). The username is
    stored masked: people type their phone number or e-mail into the box."""
    with db.write() as session:
        session.add(LoginLog(created_at=now, username=mask_text((username or "").strip())[:150], user_id=user_id,
                             result=result if result in RESULTS else "rejected", channel=channel, ip=(ip or "")[:64],
                             user_agent=(user_agent or "")[:500], detail=mask_text(detail or "")[:500]))


def record_failed_password(db: Database, *, username: str, message: str, ip: str, user_agent: str,
                           now: datetime) -> None:
    with db.read() as session:
        result, user_id = classify_failure(session, username, message)
    record_login(db, username=username, result=result, ip=ip, user_agent=user_agent, now=now, user_id=user_id)
