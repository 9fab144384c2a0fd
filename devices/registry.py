"""设备管理: adding a phone (its token shown once), rotating the token, unbinding and enabling it,
recognising it when it connects, the WeChat accounts it reports, and its log.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable, Optional

from sqlmodel import Session, select

from config.clock import utcnow
from devices.errors import DeviceError, DeviceNotFound
from devices.models import Device, DeviceLog, WechatAccount
from devices.tokens import display_prefix, hash_token, new_token, qr_payload

LOG_KINDS = ("online", "offline", "command", "alert", "report", "error")


def get_device(session: Session, device_id: int) -> Device:
    device = session.get(Device, device_id)
    if device is None:
        raise DeviceNotFound(f"设备 {device_id} 不存在")
    return device


def add_device(session: Session, name: str, host: str, remark: str = "") -> tuple[Device, str, str]:
    """Creates a device; returns (device, token, qr_payload). The token is never retrievable again."""
    name = (name or "").strip()
    if not name:
        raise DeviceError("设备名称不能为空")
    if len(name) > 100:
        raise DeviceError("设备名称最多 100 个字符")
    token = new_token()
    device = Device(name=name, token_hash=hash_token(token), token_prefix=display_prefix(token), remark=remark[:500])
    session.add(device)
    session.flush()
    write_log(session, device.id, "alert", "设备已添加，等待手机连接")
    return device, token, qr_payload(host, token)


def rotate_token(session: Session, device_id: int, host: str) -> tuple[Device, str, str]:
    """A new token; the old one stops working at once (its connection is refused at the next hello)."""
    device = get_device(session, device_id)
    token = new_token()
    device.token_hash = hash_token(token)
    device.token_prefix = display_prefix(token)
    session.add(device)
    write_log(session, device.id, "alert", "设备令牌已更换，旧令牌失效")
    session.flush()
    return device, token, qr_payload(host, token)


def set_enabled(session: Session, device_id: int, enabled: bool) -> Device:
    """解绑 (enabled=False) refuses the phone's next hello; 启用 lets it connect again."""
    device = get_device(session, device_id)
    device.enabled = enabled
    session.add(device)
    write_log(session, device.id, "alert", "设备已启用" if enabled else "设备已解绑，连接将被拒绝")
    session.flush()
    return device


def resolve_token(session: Session, token: str) -> Optional[Device]:
    """The device a token belongs to (by its sha256), or None."""
    if not token or not isinstance(token, str) or len(token) > 200:
        return None
    return session.exec(select(Device).where(Device.token_hash == hash_token(token))).first()


def write_log(session: Session, device_id: int, kind: str, message: str, at: Optional[datetime] = None) -> None:
    session.add(DeviceLog(device_id=device_id, kind=kind if kind in LOG_KINDS else "report",
                          message=message[:1000], created_at=at or utcnow()))


def device_logs(session: Session, device_id: int, limit: int = 200) -> list[DeviceLog]:
    stmt = (select(DeviceLog).where(DeviceLog.device_id == device_id)
            .order_by(DeviceLog.created_at.desc(), DeviceLog.id.desc()).limit(limit))
    return list(session.exec(stmt))


def _clip(value, limit: int) -> str:
    return str(value or "")[:limit]


def upsert_accounts(session: Session, device_id: int, accounts: Iterable[dict]) -> dict[str, int]:
    """The `accounts` frame: every WeChat account now logged in on the phone, linked to it.

    wxid is unique across devices: an account that moved to this phone is re-linked (and its
    move logged); accounts no longer on the phone keep their data but lose the link.
    Returns {wxid: account_id}.
    """
    wanted = {}
    for item in accounts:
        wxid = _clip(item.get("wxid"), 64).strip()
        if wxid:
            wanted[wxid] = item
    existing = {a.wxid: a for a in session.exec(select(WechatAccount).where(WechatAccount.wxid.in_(list(wanted))))} if wanted else {}
    ids = {}
    for wxid, item in wanted.items():
        account = existing.get(wxid)
        if account is None:
            account = WechatAccount(wxid=wxid, device_id=device_id)
            write_log(session, device_id, "report", f"新微信号上线：{wxid}")
        elif account.device_id != device_id:
            write_log(session, device_id, "report", f"微信号 {wxid} 从设备 {account.device_id} 转到本设备")
            account.device_id = device_id
        account.alias = _clip(item.get("alias", account.alias), 64)
        account.nickname = _clip(item.get("nickname", account.nickname), 100)
        account.mobile = _clip(item.get("mobile", account.mobile), 32)
        account.avatar = _clip(item.get("avatar", account.avatar), 500)
        if account.status == "offline":
            account.status = "normal"
        session.add(account)
        session.flush()
        ids[wxid] = account.id
    gone = session.exec(select(WechatAccount).where(WechatAccount.device_id == device_id,
                                                    WechatAccount.wxid.not_in(list(wanted) or [""]))).all()
    for account in gone:
        account.device_id = None
        session.add(account)
        write_log(session, device_id, "report", f"微信号 {account.wxid} 已不在本设备上")
    session.flush()
    return ids


def accounts_of(session: Session, device_id: int) -> list[WechatAccount]:
    return list(session.exec(select(WechatAccount).where(WechatAccount.device_id == device_id).order_by(WechatAccount.id)))
