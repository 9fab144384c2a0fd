"""附件: files kept with a customer (contracts, ID scans, call notes). Stored under
var/attachments/<customer id>/ with a random stored name; the original name is shown but never
used as a path, so an upload cannot escape the folder or overwrite another file.

Functions take a Session and the Settings (for var_dir).
"""
from __future__ import annotations

import os
import re
import secrets
import unicodedata
from pathlib import Path
from typing import BinaryIO, Optional

from sqlmodel import Session, select

from config.clock import utcnow
from crm.customers.growth import record_growth
from crm.customers.models import Attachment
from crm.customers.service import get_customer
from crm.errors import CrmError, NotFound
from crm.scope import Viewer

MAX_BYTES = 10 * 1024 * 1024
BLOCKED_SUFFIXES = {".exe", ".bat", ".cmd", ".sh", ".js", ".html", ".htm", ".svg", ".php", ".jsp", ".com", ".scr"}
_UNSAFE = re.compile(r"[^\w.\-\u4e00-\u9fff （）()]+")


def safe_filename(name: str) -> str:
    """The display name: no directories, no control characters, at most 120 characters."""
    name = unicodedata.normalize("NFKC", name or "").replace("\\", "/").split("/")[-1]
    name = _UNSAFE.sub("_", name).strip(" ._") or "附件"
    stem, suffix = os.path.splitext(name)
    return stem[: 120 - len(suffix[:10])] + suffix[:10]


def attachments_dir(var_dir: Path) -> Path:
    return Path(var_dir) / "attachments"


def list_attachments(session: Session, customer_id: int) -> list[Attachment]:
    return list(session.exec(select(Attachment).where(Attachment.customer_id == customer_id)
                             .order_by(Attachment.id.desc())))


def save_attachment(session: Session, var_dir: Path, customer_id: int, filename: str, stream: BinaryIO,
                    uploaded_by: Optional[int] = None, max_bytes: int = MAX_BYTES, *, viewer: Viewer) -> Attachment:
    get_customer(session, customer_id, viewer)
    display = safe_filename(filename)
    suffix = os.path.splitext(display)[1].lower()
    if suffix in BLOCKED_SUFFIXES:
        raise CrmError(f"不允许上传「{suffix}」类型的文件", {"file": f"不允许上传「{suffix}」类型的文件"})
    folder = attachments_dir(var_dir) / str(customer_id)
    folder.mkdir(parents=True, exist_ok=True)
    stored = folder / (secrets.token_hex(16) + suffix)
    size = 0
    try:
        with open(stored, "xb") as out:
            while True:
                chunk = stream.read(64 * 1024)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise CrmError(f"文件太大（最多 {max_bytes // (1024 * 1024)} MB）",
                                   {"file": f"文件太大（最多 {max_bytes // (1024 * 1024)} MB）"})
                out.write(chunk)
        if size == 0:
            raise CrmError("文件是空的", {"file": "文件是空的"})
    except BaseException:
        stored.unlink(missing_ok=True)
        raise
    row = Attachment(customer_id=customer_id, filename=display, stored_path=str(stored.relative_to(var_dir)),
                     size=size, uploaded_by=uploaded_by, created_at=utcnow())
    session.add(row)
    session.flush()
    record_growth(session, customer_id, "attachment", f"上传附件「{display}」", uploaded_by)
    return row


def attachment_path(session: Session, var_dir: Path, customer_id: int, attachment_id: int, *,
                    viewer: Viewer) -> tuple[Attachment, Path]:
    get_customer(session, customer_id, viewer)
    row = session.get(Attachment, attachment_id)
    if row is None or row.customer_id != customer_id:
        raise NotFound("附件不存在或已删除")
    path = (Path(var_dir) / row.stored_path).resolve()
    if attachments_dir(var_dir).resolve() not in path.parents or not path.exists():
        raise NotFound("附件文件已丢失")
    return row, path


def delete_attachment(session: Session, var_dir: Path, customer_id: int, attachment_id: int,
                      operator_id: Optional[int] = None, *, viewer: Viewer) -> None:
    get_customer(session, customer_id, viewer)
    row = session.get(Attachment, attachment_id)
    if row is None or row.customer_id != customer_id:
        raise NotFound("附件不存在或已删除")
    path = (Path(var_dir) / row.stored_path).resolve()
    if attachments_dir(var_dir).resolve() in path.parents:
        path.unlink(missing_ok=True)
    session.delete(row)
    record_growth(session, customer_id, "attachment", f"删除附件「{row.filename}」", operator_id)
    session.flush()
