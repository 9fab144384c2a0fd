"""Creating and changing a campaign: its type, window, hold period, depth cap, pool (accounts new
friends go to, groups new members join), reward stages (threshold → 权益 step + its config), poster
template and H5 limits. Everything is checked here; CommunityError names the bad field in Chinese."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Optional

from sqlmodel import Session, col, select

from community.errors import CommunityError
from community.records import get_or_missing, whole_field
from community.fission.models import CAMPAIGN_KINDS, CAMPAIGN_STATES, Campaign
from community.rewards.models import BoxPool, CouponBatch
from config.clock import as_utc
from devices.models import ChatGroup, WechatAccount

# The steps a stage may give, and the setting each needs (checked to exist at save, not at payout).
STAGE_STEPS = {"rewards.grant_points": ("发放积分", "points"), "rewards.issue_coupon": ("发放优惠券", "batch_id"),
               "rewards.draw_box": ("抽取盲盒", "pool_id")}
MAX_STAGES = 5
COLOR_DEFAULT = "#d9381e"
# WeChat 外链规范 1.2: rewarding shares (积分/券/抽奖 for forwarding, 助力, 砍价) risks 诱导分享 penalties.
SHARE_RULE_WARNING = ("风险提示：根据《微信外部链接内容管理规范》，以积分、优惠券、抽奖等奖励诱导用户分享、转发或关注，"
                      "以及「助力」「砍价」类链接，可能被判定为诱导分享，导致链接被限制传播或账号被处罚。"
                      "建议以加好友/入群后的服务为奖励主体，海报文案避免「转发」「分享到朋友圈即可领取」等表述。")


def _err(field: str, message: str) -> CommunityError:
    return CommunityError(message, {field: message})


def _ids(session: Session, raw, model, field: str, label: str) -> list[int]:
    values = raw if isinstance(raw, list) else [v for v in str(raw or "").replace("，", ",").split(",")]
    out = []
    for value in values:
        text = str(value).strip()
        if not text:
            continue
        if not text.isdigit() or session.get(model, int(text)) is None:
            raise _err(field, f"{label} {text} 不存在")
        out.append(int(text))
    return sorted(set(out))


def parse_stages(session: Session, raw) -> list[dict]:
    """[{threshold, name, processor, config}] from the form's JSON (thresholds rising)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw or "[]")
        except ValueError:
            raise _err("stages", "奖励阶梯格式错误") from None
    if not isinstance(raw, list) or not raw:
        raise _err("stages", "请至少设置一个奖励阶梯")
    if len(raw) > MAX_STAGES:
        raise _err("stages", f"奖励阶梯最多 {MAX_STAGES} 级")
    stages, last = [], 0
    for i, item in enumerate(raw, 1):
        if not isinstance(item, dict):
            raise _err("stages", f"第 {i} 级奖励格式错误")
        try:
            threshold = int(str(item.get("threshold") or "0"))
        except ValueError:
            threshold = 0
        if threshold <= last:
            raise _err("stages", f"第 {i} 级门槛应为大于 {last} 的整数（逐级递增）")
        key = str(item.get("processor") or "")
        if key not in STAGE_STEPS:
            raise _err("stages", f"第 {i} 级请选择奖励方式（发放积分/发放优惠券/抽取盲盒）")
        label, needed = STAGE_STEPS[key]
        value = str((item.get("config") or {}).get(needed) or item.get(needed) or "").strip()
        if not value.isdigit() or int(value) <= 0:
            raise _err("stages", f"第 {i} 级「{label}」需要填写{'积分数' if needed == 'points' else '批次/奖池 ID'}")
        model = {"batch_id": CouponBatch, "pool_id": BoxPool}.get(needed)
        if model is not None and session.get(model, int(value)) is None:
            raise _err("stages", f"第 {i} 级：{'优惠券批次' if model is CouponBatch else '盲盒奖池'} #{value} 不存在")
        name = str(item.get("name") or f"邀请满 {threshold} 人").strip()[:100]
        stages.append({"threshold": threshold, "name": name, "processor": key, "config": {needed: int(value)}})
        last = threshold
    return stages


def _poster(data: dict) -> dict:
    color = str(data.get("poster_color") or COLOR_DEFAULT).strip()
    if len(color) != 7 or not color.startswith("#"):
        raise _err("poster_color", "背景色应为 #RRGGBB 格式")
    material = str(data.get("poster_material_id") or "").strip()
    if material and not material.isdigit():
        raise _err("poster_material_id", "背景素材 ID 应为数字")
    return {"title": str(data.get("poster_title") or "").strip()[:60] or str(data.get("name") or "")[:60],
            "subtitle": str(data.get("poster_subtitle") or "").strip()[:120], "color": color.lower(),
            "material_id": int(material) if material else None,
            "qr_x": whole_field(data, "poster_qr_x", "二维码横坐标", 0, 700, 215),
            "qr_y": whole_field(data, "poster_qr_y", "二维码纵坐标", 0, 1280, 820),
            "qr_size": whole_field(data, "poster_qr_size", "二维码尺寸", 120, 600, 320)}


def clean(session: Session, data: dict, starts_at: Optional[datetime], ends_at: Optional[datetime]) -> dict:
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 100:
        raise _err("name", "请填写活动名称（不超过 100 字）")
    kind = str(data.get("kind") or "")
    if kind not in CAMPAIGN_KINDS:
        raise _err("kind", "请选择活动类型")
    if starts_at is None:
        raise _err("starts_at", "请填写开始时间")
    if ends_at is None or as_utc(ends_at) <= as_utc(starts_at):
        raise _err("ends_at", "结束时间应晚于开始时间")
    accounts = _ids(session, data.get("account_ids"), WechatAccount, "account_ids", "微信号")
    groups = _ids(session, data.get("group_ids"), ChatGroup, "group_ids", "群")
    if kind == "group" and not groups:
        raise _err("group_ids", "群裂变需要选择至少一个活动群")
    if kind != "group" and not accounts:
        raise _err("account_ids", "请选择承接新好友的员工微信号")
    return {"name": name, "kind": kind, "starts_at": starts_at, "ends_at": ends_at,
            "hold_hours": whole_field(data, "hold_hours", "考察期（小时）", 0, 24 * 90, 72),
            "depth_cap": whole_field(data, "depth_cap", "层级上限", 1, 10, 3),
            "team_size": whole_field(data, "team_size", "成团人数", 2, 100, 3),
            "commission_bp": whole_field(data, "commission_bp", "分销佣金（万分比）", 0, 5000, 0),
            "rules": str(data.get("rules") or "").strip()[:2000], "account_ids": accounts, "group_ids": groups,
            "stages": parse_stages(session, data.get("stages")), "poster": _poster(data),
            "rate_limit": {"per_ip": whole_field(data, "per_ip", "每 IP 每小时参与上限", 1, 10000, 20),
                           "per_device": whole_field(data, "per_device", "每设备每小时参与上限", 1, 10000, 5)}}


def create(session: Session, values: dict, user_id: Optional[int], now: datetime) -> Campaign:
    campaign = Campaign(**values, status="draft", created_by=user_id, created_at=now, updated_at=now)
    session.add(campaign)
    session.flush()
    return campaign


def update(session: Session, campaign_id: int, values: dict, now: datetime) -> Campaign:
    campaign = get(session, campaign_id)
    for key, value in values.items():
        setattr(campaign, key, value)
    campaign.updated_at = now
    session.add(campaign)
    session.flush()
    return campaign


def set_status(session: Session, campaign_id: int, status: str, now: datetime) -> Campaign:
    if status not in CAMPAIGN_STATES:
        raise _err("status", "状态无效")
    campaign = get(session, campaign_id)
    campaign.status, campaign.updated_at = status, now
    session.add(campaign)
    return campaign


def get(session: Session, campaign_id) -> Campaign:
    return get_or_missing(session, Campaign, campaign_id, "裂变活动不存在")


def list_all(session: Session) -> list[Campaign]:
    return list(session.exec(select(Campaign).order_by(col(Campaign.id).desc())))


def is_running(campaign: Campaign, now: datetime) -> bool:
    return campaign.status == "active" and as_utc(campaign.starts_at) <= now < as_utc(campaign.ends_at)
