"""站内通知管理: compose a notice (title, body, attachments), pick recipients by user, role or
department (a department includes its sub-departments), keep it as a draft, then send it — each
recipient gets it in their 站内通知 with the unread badge, linked to the notice and its files.

Functions take the caller's Session and never commit; sending writes every recipient's
notification in that one unit of work, so a notice is sent to all of them or to none.
Attachments are stored under <var_dir>/notice_attachments/<notice id>/<random name>: the name a
user uploaded is kept only as text, never used as a path.
"""
from __future__ import annotations

import secrets
import shutil
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Optional

from sqlalchemy import func, insert
from sqlmodel import Session, col, select

from config.clock import as_utc, utcnow
from crm.errors import CrmError, NotFound
from crm.people.models import Department, Notification, User, UserDepartment, UserRole
from crm.sales.notice_models import Notice

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 5
ATTACHMENT_DIR = "notice_attachments"
RECIPIENT_KINDS = ("users", "roles", "departments")


def get_notice(session: Session, notice_id: int) -> Notice:
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise NotFound("通知不存在或已删除")
    return notice


def notice_link(notice_id: int) -> str:
    return f"/notices/{notice_id}/read"


def _ids(values) -> list[int]:
    out = []
    for v in values or []:
        try:
            out.append(int(v))
        except (TypeError, ValueError):
            continue
    return sorted(set(out))


def save_draft(session: Session, data: dict, user_id: int, notice_id: Optional[int] = None,
               now: Optional[datetime] = None) -> Notice:
    """Creates or updates a draft; a sent notice can no longer change."""
    errors = {}
    title = str(data.get("title") or "").strip()
    if not title:
        errors["title"] = "请填写通知标题"
    elif len(title) > 200:
        errors["title"] = "通知标题不能超过 200 字"
    body = str(data.get("body") or "")
    if len(body) > 5000:
        errors["body"] = "通知内容不能超过 5000 字"
    if errors:
        raise CrmError("通知信息有误：" + "；".join(errors.values()), errors)
    notice = get_notice(session, notice_id) if notice_id else Notice(created_by=user_id,
                                                                     created_at=as_utc(now or utcnow()))
    if notice.status != "draft":
        raise CrmError("通知已发送，不能再修改", {"__all__": "通知已发送"})
    notice.title, notice.body = title, body
    notice.recipients = {k: _ids(data.get(k)) for k in RECIPIENT_KINDS}
    session.add(notice)
    session.flush()
    return notice


def _department_tree(session: Session, roots: list[int]) -> set[int]:
    """The chosen departments and all their sub-departments."""
    parents = dict(session.exec(select(Department.id, Department.parent_id)).all())
    found = set(roots)
    changed = True
    while changed:
        changed = False
        for dep_id, parent in parents.items():
            if parent in found and dep_id not in found:
                found.add(dep_id)
                changed = True
    return found


def recipient_ids(session: Session, recipients: dict) -> list[int]:
    """Enabled users named directly, through a role or through a department."""
    users, roles, deps = (_ids((recipients or {}).get(k)) for k in RECIPIENT_KINDS)
    wanted = set(users)
    if roles:
        wanted |= set(session.exec(select(UserRole.user_id).where(col(UserRole.role_id).in_(roles))))
    if deps:
        tree = _department_tree(session, deps)
        wanted |= set(session.exec(select(UserDepartment.user_id).where(col(UserDepartment.department_id).in_(tree))))
    if not wanted:
        return []
    return sorted(session.exec(select(User.id).where(col(User.id).in_(wanted), User.enabled == True)))  # noqa: E712


def send_notice(session: Session, notice_id: int, now: Optional[datetime] = None) -> int:
    """Sends a draft to every recipient; returns how many users received it."""
    now = as_utc(now or utcnow())
    notice = get_notice(session, notice_id)
    if notice.status != "draft":
        raise CrmError("通知已发送过", {"__all__": "通知已发送"})
    ids = recipient_ids(session, notice.recipients)
    if not ids:
        raise CrmError("没有收件人：请选择用户、角色或部门（已停用的用户不会收到）", {"recipients": "请选择收件人"})
    body = notice.body if not notice.attachments else (
        notice.body + "\n\n附件：" + "、".join(a["name"] for a in notice.attachments))
    session.exec(insert(Notification), params=[
        dict(user_id=uid, title=notice.title, body=body[:5000], link=notice_link(notice.id), source="notice",
             read=False, created_at=now) for uid in ids])
    notice.status, notice.sent_at, notice.recipient_count = "sent", now, len(ids)
    session.add(notice)
    session.flush()
    return len(ids)


def list_notices(session: Session, status: str, page: int = 1, per_page: int = 20,
                 created_by: Optional[int] = None) -> tuple[list[Notice], int]:
    where = [Notice.status == status]
    if created_by is not None:
        where.append(Notice.created_by == created_by)
    total = session.exec(select(func.count()).select_from(Notice).where(*where)).one()
    rows = session.exec(select(Notice).where(*where).order_by(Notice.id.desc())
                        .offset((max(1, page) - 1) * per_page).limit(per_page)).all()
    return list(rows), total


def can_read(session: Session, notice: Notice, user_id: int, can_send: bool) -> bool:
    """The author, anyone who manages notices, and each user it was sent to."""
    if can_send or notice.created_by == user_id:
        return True
    return session.exec(select(Notification.id).where(Notification.user_id == user_id,
                                                      Notification.link == notice_link(notice.id))).first() is not None


def _folder(var_dir: Path, notice_id: int) -> Path:
    return Path(var_dir) / ATTACHMENT_DIR / str(int(notice_id))


def add_attachment(session: Session, notice_id: int, filename: str, stream: BinaryIO, var_dir: Path,
                   max_bytes: int = MAX_ATTACHMENT_BYTES) -> dict:
    """Stores one uploaded file on a draft; refuses it past the size cap without keeping a byte."""
    notice = get_notice(session, notice_id)
    if notice.status != "draft":
        raise CrmError("通知已发送，不能再添加附件", {"attachment": "通知已发送"})
    if len(notice.attachments or []) >= MAX_ATTACHMENTS:
        raise CrmError(f"每条通知最多 {MAX_ATTACHMENTS} 个附件", {"attachment": "附件数量已达上限"})
    name = Path(str(filename or "").replace("\\", "/")).name.strip()[:120] or "附件"
    folder = _folder(var_dir, notice.id)
    folder.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(12)
    target, size = folder / token, 0
    with open(target, "wb") as out:
        while chunk := stream.read(64 * 1024):
            size += len(chunk)
            if size > max_bytes:
                out.close()
                target.unlink(missing_ok=True)
                raise CrmError(f"附件「{name}」超过 {max_bytes // (1024 * 1024)} MB 上限",
                               {"attachment": "附件过大"})
            out.write(chunk)
    entry = {"id": token, "name": name, "size": size}
    notice.attachments = [*(notice.attachments or []), entry]
    session.add(notice)
    session.flush()
    return entry


def remove_attachment(session: Session, notice_id: int, attachment_id: str, var_dir: Path) -> None:
    notice = get_notice(session, notice_id)
    if notice.status != "draft":
        raise CrmError("通知已发送，不能删除附件", {"attachment": "通知已发送"})
    notice.attachments = [a for a in notice.attachments or [] if a["id"] != attachment_id]
    session.add(notice)
    session.flush()
    (_folder(var_dir, notice.id) / Path(attachment_id).name).unlink(missing_ok=True)


def attachment_file(notice: Notice, attachment_id: str, var_dir: Path) -> tuple[Path, str]:
    """(path on disk, original name) of one attachment; NotFound when it is not this notice's."""
    for entry in notice.attachments or []:
        if entry["id"] == attachment_id:
            path = _folder(var_dir, notice.id) / entry["id"]
            if path.is_file():
                return path, entry["name"]
    raise NotFound("附件不存在")


def delete_draft(session: Session, notice_id: int, var_dir: Path) -> None:
    notice = get_notice(session, notice_id)
    if notice.status != "draft":
        raise CrmError("已发送的通知不能删除", {"__all__": "通知已发送"})
    session.delete(notice)
    session.flush()
    shutil.rmtree(_folder(var_dir, notice_id), ignore_errors=True)
