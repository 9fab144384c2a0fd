"""设备管理: the phones connected to 存客宝 — which are online, when each last checked in, its
battery and network, the WeChat accounts it carries, its status history and logs, and the
重启/解绑 buttons (sent to the phone as commands, through the same risk budget as everything else)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional

from sqlalchemy import func
from sqlmodel import Session, select

from devices import tokens
from devices.accounts import AccountError, AccountNotFound
from devices.models import Device, DeviceCommand, DeviceLog, WechatAccount

LOG_KIND_LABELS = {"online": "上线", "offline": "离线", "command": "指令", "alert": "告警", "report": "上报",
                   "error": "错误"}
COMMAND_STATUS_LABELS = {"queued": ("排队中", "blue"), "sent": ("已下发", "blue"), "acked": ("已接收", "purple"),
                         "succeeded": ("成功", "green"), "failed": ("失败", "red"), "timeout": ("超时", "red"),
                         "deferred": ("已延后", "amber"), "refused": ("已拒绝", "red"), "cancelled": ("已取消", "gray")}


@dataclass
class DeviceRow:
    device: Device
    accounts: list[WechatAccount] = field(default_factory=list)


@dataclass
class FleetSummary:
    total: int
    online: int
    offline: int
    accounts: int


def list_devices(session: Session, *, status: str = "", keyword: str = "") -> list[DeviceRow]:
    """Offline devices first (they need a look), then by name."""
    query = select(Device)
    if status == "online":
        query = query.where(Device.online.is_(True), Device.enabled.is_(True))
    elif status == "offline":
        query = query.where(Device.online.is_(False), Device.enabled.is_(True))
    elif status == "unbound":
        query = query.where(Device.enabled.is_(False))
    if keyword:
        like = f"%{keyword}%"
        query = query.where(Device.name.like(like) | Device.model.like(like) | Device.remark.like(like))
    devices = session.exec(query.order_by(Device.enabled.desc(), Device.online, Device.name, Device.id)).all()
    by_device: dict[int, list[WechatAccount]] = {d.id: [] for d in devices}
    if by_device:
        for account in session.exec(select(WechatAccount).where(WechatAccount.device_id.in_(list(by_device)))
                                    .order_by(WechatAccount.id)).all():
            by_device[account.device_id].append(account)
    return [DeviceRow(d, by_device[d.id]) for d in devices]


def summary(session: Session) -> FleetSummary:
    enabled = Device.enabled.is_(True)
    total = session.exec(select(func.count()).select_from(Device).where(enabled)).one()
    online = session.exec(select(func.count()).select_from(Device).where(enabled, Device.online.is_(True))).one()
    accounts = session.exec(select(func.count()).select_from(WechatAccount)).one()
    return FleetSummary(total, online, total - online, accounts)


def get_device(session: Session, device_id: int) -> Device:
    device = session.get(Device, device_id)
    if device is None:
        raise AccountNotFound("设备")
    return device


def device_accounts(session: Session, device_id: int) -> list[WechatAccount]:
    return list(session.exec(select(WechatAccount).where(WechatAccount.device_id == device_id)
                             .order_by(WechatAccount.id)).all())


def device_logs(session: Session, device_id: int, kinds: tuple[str, ...] = (), limit: int = 100) -> list[DeviceLog]:
    query = select(DeviceLog).where(DeviceLog.device_id == device_id)
    if kinds:
        query = query.where(DeviceLog.kind.in_(kinds))
    return list(session.exec(query.order_by(DeviceLog.created_at.desc(), DeviceLog.id.desc()).limit(limit)).all())


def recent_commands(session: Session, device_id: int, limit: int = 30) -> list[DeviceCommand]:
    account_ids = select(WechatAccount.id).where(WechatAccount.device_id == device_id)
    query = select(DeviceCommand).where((DeviceCommand.device_id == device_id)
                                        | DeviceCommand.account_id.in_(account_ids))
    return list(session.exec(query.order_by(DeviceCommand.created_at.desc(), DeviceCommand.id.desc())
                             .limit(limit)).all())


def create_device(session: Session, name: str, remark: str = "", now: Optional[datetime] = None):
    """A new device and its token: (device, token). The token is shown once and only its hash kept."""
    name = (name or "").strip()
    if not name:
        raise AccountError("请填写设备名称", {"name": "请填写设备名称"})
    if len(name) > 100:
        raise AccountError("设备名称不能超过 100 个字", {"name": "设备名称不能超过 100 个字"})
    token = tokens.new_token()
    device = Device(name=name, remark=(remark or "").strip()[:500], token_hash=tokens.hash_token(token),
                    token_prefix=tokens.display_prefix(token))
    if now is not None:
        device.created_at = now
    session.add(device)
    session.flush()
    session.add(DeviceLog(device_id=device.id, kind="report", message="设备已添加，等待手机连接",
                          **({"created_at": now} if now else {})))
    return device, token


def _first_account(session: Session, device: Device) -> WechatAccount:
    account = session.exec(select(WechatAccount).where(WechatAccount.device_id == device.id)
                           .order_by(WechatAccount.id)).first()
    if account is None:
        raise AccountError("该设备上还没有微信号，无法下发指令")
    return account


def send_device_command(session: Session, device_id: int, kind: str, user_id: int, now: datetime, settings=None):
    """重启 / 解绑. Commands are addressed by account (the protocol's unit); a device-level command
    goes through the device's first account. 解绑 also disables the token so the phone cannot
    reconnect; the command still reaches a phone that is connected right now."""
    from devices.commands import issue_command  # owned by the risk budget; imported late

    if kind not in ("restart", "unbind"):
        raise AccountError("不支持的设备指令")
    device = get_device(session, device_id)
    if not device.enabled:
        raise AccountError("设备已解绑")
    account = _first_account(session, device) if kind == "restart" else session.exec(
        select(WechatAccount).where(WechatAccount.device_id == device.id).order_by(WechatAccount.id)).first()
    command = None
    if account is not None:
        stamp = now.strftime("%Y%m%d%H%M%S")
        command = issue_command(session, account.id, kind, {}, source="manual",
                                idempotency_key=f"device:{device.id}:{kind}:{stamp}", now=now, settings=settings)
    label = {"restart": "重启", "unbind": "解绑"}[kind]
    message = f"用户#{user_id} 下发{label}指令" + (f"（指令 #{command.id}，{command.status}）" if command else "")
    session.add(DeviceLog(device_id=device.id, kind="command", message=message, created_at=now))
    if kind == "unbind":
        device.enabled = False
        session.add(device)
    return command
