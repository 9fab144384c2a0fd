"""渠道管理: where leads come from (百度推广, 抖音, 线下活动 …). A channel's code is what a 渠道码 or
poster link carries, so scans and leads are counted per channel."""
from __future__ import annotations

import re
import secrets

from sqlalchemy import func
from sqlmodel import Session, select

from config.clock import utcnow
from crm.leads.errors import LeadNotFound, LeadsError
from crm.leads.models import CHANNEL_TYPES, Lead, LeadChannel

CODE_RE = re.compile(r"^[A-Za-z0-9_-]{2,32}$")


def list_channels(session: Session, active_only: bool = False) -> list[LeadChannel]:
    query = select(LeadChannel).order_by(LeadChannel.id)
    if active_only:
        query = query.where(LeadChannel.is_active == True)  # noqa: E712
    return list(session.exec(query))


def get_channel(session: Session, channel_id) -> LeadChannel:
    try:
        row = session.get(LeadChannel, int(channel_id))
    except (TypeError, ValueError):
        row = None
    if row is None:
        raise LeadNotFound(f"渠道 {channel_id} 不存在")
    return row


def _clean(session: Session, data: dict, existing: LeadChannel | None) -> dict:
    errors: dict[str, str] = {}
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = "渠道名称不能为空"
    elif len(name) > 100:
        errors["name"] = "渠道名称最多 100 个字符"
    else:
        clash = session.exec(select(LeadChannel).where(LeadChannel.name == name)).first()
        if clash is not None and (existing is None or clash.id != existing.id):
            errors["name"] = f"渠道名称「{name}」已存在"
    channel_type = str(data.get("channel_type") or "OTHER")
    if channel_type not in CHANNEL_TYPES:
        errors["channel_type"] = f"渠道类型「{channel_type}」无效"
    code = str(data.get("code") or "").strip() or (existing.code if existing else "c" + secrets.token_hex(4))
    if not CODE_RE.match(code):
        errors["code"] = "渠道码只能包含字母、数字、下划线和短横线，2–32 个字符"
    else:
        clash = session.exec(select(LeadChannel).where(LeadChannel.code == code)).first()
        if clash is not None and (existing is None or clash.id != existing.id):
            errors["code"] = f"渠道码「{code}」已被渠道「{clash.name}」使用"
    remark = str(data.get("remark") or "").strip()
    if len(remark) > 500:
        errors["remark"] = "备注最多 500 个字符"
    if errors:
        raise LeadsError("渠道信息有误，请按提示修改", errors)
    active = data.get("is_active", True)
    return {"name": name, "channel_type": channel_type, "code": code, "remark": remark,
            "is_active": active if isinstance(active, bool) else str(active).lower() in ("1", "true", "on", "yes")}


def create_channel(session: Session, data: dict) -> LeadChannel:
    row = LeadChannel(**_clean(session, data, None))
    session.add(row)
    session.flush()
    return row


def update_channel(session: Session, channel_id, data: dict) -> LeadChannel:
    row = get_channel(session, channel_id)
    for key, value in _clean(session, data, row).items():
        setattr(row, key, value)
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return row


def delete_channel(session: Session, channel_id) -> None:
    """Refused while leads point at the channel: history must keep its source (停用 instead)."""
    row = get_channel(session, channel_id)
    used = session.exec(select(func.count()).select_from(Lead).where(Lead.channel_id == row.id)).one()
    if used:
        raise LeadsError(f"渠道「{row.name}」已有 {used} 条线索，不能删除，可改为停用")
    session.delete(row)
    session.flush()
