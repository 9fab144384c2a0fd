"""设备与账号告警 (矩阵管理): devices that are offline, and WeChat accounts that need a look —
健康分 below the 一般 band (add-friend cap cut to 5 or 0), paused by the risk budget or by hand, banned
or reported offline. Device and account tables are bounded by the fleet size (hundreds, not millions)."""
from __future__ import annotations

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from analytics.panels import register
from analytics.panels.base import Door, Panel, PanelContext
from config.clock import as_utc
from devices.accounts import STATUS_LABELS
from devices.health import band_label
from devices.models import Device, WechatAccount

LOW_HEALTH = 50  # below this the seed's daily add-friend cap drops to 5 or 0
SHOWN = 6


@register
class DeviceHealth(Panel):
    key = "device_health"
    title = "设备与账号告警"
    permission = "devices.view"
    page = "devices.index"
    description = "离线设备、健康分偏低或已暂停的微信号"
    wide = True

    def data(self, session: Session, ctx: PanelContext) -> dict:
        offline = (Device.enabled.is_(True), Device.online.is_(False))
        offline_total = session.exec(select(func.count()).select_from(Device).where(*offline)).one()
        devices = session.exec(select(Device).where(*offline).order_by(col(Device.last_seen_at).desc(), Device.id)
                               .limit(SHOWN)).all()
        paused = col(WechatAccount.paused_until) > ctx.now
        alert = or_(WechatAccount.health_score < LOW_HEALTH, paused, WechatAccount.status != "normal")
        accounts_total = session.exec(select(func.count()).select_from(WechatAccount).where(alert)).one()
        accounts = session.exec(select(WechatAccount).where(alert).order_by(WechatAccount.health_score, WechatAccount.id)
                                .limit(SHOWN)).all()
        rows = []
        for a in accounts:
            reasons = []
            if a.health_score < LOW_HEALTH:
                reasons.append(f"健康分 {a.health_score}（{band_label(a.health_score)}）")
            if a.paused_until is not None and as_utc(a.paused_until) > as_utc(ctx.now):
                reasons.append("已暂停" + (f"：{a.pause_reason}" if a.pause_reason else ""))
            if a.status != "normal":
                reasons.append(STATUS_LABELS.get(a.status, a.status))
            rows.append({"id": a.id, "name": a.nickname or a.alias or a.wxid, "score": a.health_score,
                         "reasons": reasons, "door": Door("accounts.show", {"account_id": a.id})})
        return {"offline_total": int(offline_total), "accounts_total": int(accounts_total),
                "devices": [{"id": d.id, "name": d.name, "last_seen_at": d.last_seen_at,
                             "door": Door("devices.show", {"device_id": d.id})} for d in devices],
                "accounts": rows, "low_health": LOW_HEALTH,
                "devices_door": Door("devices.index", {"status": "offline"}), "accounts_door": Door("accounts.index", {})}
