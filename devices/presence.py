"""在线/离线: a device is online while it talks to the server; one silent for more than three
heartbeats is marked offline, logged, and announced as a `device.offline` event (a strategy can
notify the accounts' owners — the device layer itself does not reach into the CRM).

A disconnect alone does not alert: a phone that reconnects within three heartbeats (a tunnel,
a network switch) is only logged. The alert is sent once per outage.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from config.clock import as_utc, format_local
from devices.models import Device, WechatAccount
from devices.registry import write_log

MISSED_HEARTBEATS = 3


def mark_online(session: Session, device: Device, now: datetime, ip: str = "", app_version: str = "", model: str = "") -> None:
    was_online = device.online
    device.online = True
    device.offline_alerted = False
    device.last_seen_at = now
    device.last_ip = (ip or "")[:64]
    if app_version:
        device.app_version = str(app_version)[:32]
    if model:
        device.model = str(model)[:64]
    session.add(device)
    write_log(session, device.id, "online", "设备重新连接" if was_online else "设备上线", now)


def heartbeat(session: Session, device_id: int, now: datetime, battery=None, network=None) -> None:
    values = {"last_seen_at": now, "online": True}
    if isinstance(battery, int) and not isinstance(battery, bool) and 0 <= battery <= 100:
        values["battery"] = battery
    if isinstance(network, str) and network:
        values["network"] = network[:16]
    session.execute(update(Device).where(Device.id == device_id).values(**values))


def touch(session: Session, device_id: int, now: datetime) -> None:
    """Any frame proves the phone is alive, not only heartbeats."""
    session.execute(update(Device).where(Device.id == device_id).values(last_seen_at=now))


def mark_disconnected(session: Session, device_id: int, now: datetime, reason: str) -> None:
    session.execute(update(Device).where(Device.id == device_id).values(online=False))
    write_log(session, device_id, "offline", f"连接断开：{reason}" if reason else "连接断开", now)


def find_silent(session: Session, now: datetime, heartbeat_seconds: float) -> list[int]:
    cutoff = now - timedelta(seconds=heartbeat_seconds * MISSED_HEARTBEATS)
    stmt = select(Device.id).where(Device.enabled == True, Device.offline_alerted == False,  # noqa: E712
                                   Device.last_seen_at.is_not(None), Device.last_seen_at < cutoff)
    return list(session.exec(stmt))


def mark_offline(session: Session, device_id: int, now: datetime, heartbeat_seconds: float, tz: str):
    """Marks one silent device offline (once); returns the `device.offline` event data, or None
    when another process got there first or the device spoke meanwhile."""
    cutoff = now - timedelta(seconds=heartbeat_seconds * MISSED_HEARTBEATS)
    done = session.execute(
        update(Device).where(Device.id == device_id, Device.offline_alerted == False,  # noqa: E712
                             Device.last_seen_at < cutoff).values(online=False, offline_alerted=True))
    if done.rowcount != 1:
        return None
    device = session.get(Device, device_id)
    session.refresh(device)
    accounts = list(session.exec(select(WechatAccount).where(WechatAccount.device_id == device_id)))
    seen = format_local(device.last_seen_at, "%Y-%m-%d %H:%M:%S", tz)
    write_log(session, device_id, "alert",
              f"设备离线告警：超过 {MISSED_HEARTBEATS} 个心跳周期（{int(heartbeat_seconds * MISSED_HEARTBEATS)} 秒）无消息，最后心跳 {seen}", now)
    return {"device_id": device.id, "device_name": device.name, "last_seen_at": as_utc(device.last_seen_at).isoformat(),
            "account_ids": [a.id for a in accounts],
            "owner_user_ids": sorted({a.owner_user_id for a in accounts if a.owner_user_id is not None})}
