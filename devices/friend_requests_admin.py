"""好友请求 handled by hand (通过 sends the phone an accept command through the risk budget,
忽略 just closes the request), and the 自动通过规则 a marketer edits: which accounts, which
greeting keywords and sources, how many a day, and in which hours."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Optional

from sqlalchemy import func
from sqlmodel import Session, select

from config.errors import ClockError
from config.timewindow import normalize_clock
from devices.accounts import AccountError, AccountNotFound
from devices.models import AutoAcceptRule, FriendRequest, WechatAccount

REQUEST_STATUS_LABELS = {"pending": "待处理", "accepted": "已通过", "rejected": "已拒绝", "ignored": "已忽略"}
SOURCE_LABELS = {"search": "搜索", "qrcode": "扫码", "group": "群聊", "card": "名片", "phone": "手机号"}
MAX_DAILY_CAP = 100


# -- requests ------------------------------------------------------------------------------------

def list_requests(session: Session, *, status: str = "", account_id: Optional[int] = None, page: int = 1,
                  per_page: int = 20, where=None) -> tuple[list[FriendRequest], int]:
    """A page of requests and the total; `where` narrows them further (the API's account scope)."""
    conditions = [] if where is None else [where]
    if status:
        conditions.append(FriendRequest.status == status)
    if account_id is not None:
        conditions.append(FriendRequest.account_id == account_id)
    total = session.exec(select(func.count()).select_from(FriendRequest).where(*conditions)).one()
    rows = session.exec(select(FriendRequest).where(*conditions)
                        .order_by(FriendRequest.created_at.desc(), FriendRequest.id.desc())
                        .offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), total


def _pending(session: Session, request_id: int) -> FriendRequest:
    request = session.get(FriendRequest, request_id)
    if request is None:
        raise AccountNotFound("好友请求")
    if request.status != "pending":
        raise AccountError(f"该请求已处理（{REQUEST_STATUS_LABELS.get(request.status, request.status)}）")
    return request


def accept_request(session: Session, request_id: int, user_id: int, now: datetime, settings=None):
    """通过: the accept command goes through the risk budget like any other. A refused command
    leaves the request pending (with the reason); a deferred one runs later and counts as handled."""
    from devices.commands import issue_command  # owned by the risk budget; imported late

    request = _pending(session, request_id)
    command = issue_command(session, request.account_id, "accept_friend",
                            {"request_id": request.id, "wxid": request.from_wxid}, source="manual",
                            idempotency_key=f"friend-request:{request.id}:accept", now=now, settings=settings)
    if command.status == "refused":
        raise AccountError(f"风控拒绝了通过请求：{command.reason}")
    request.status = "accepted"
    request.handled_by = f"user:{user_id}"
    request.handled_at = now
    session.add(request)
    return command


def reject_request(session: Session, request_id: int, user_id: int, now: datetime) -> FriendRequest:
    """WeChat has no "reject": the request is closed here and simply never accepted."""
    request = _pending(session, request_id)
    request.status = "rejected"
    request.handled_by = f"user:{user_id}"
    request.handled_at = now
    session.add(request)
    return request


def handled_by_label(value: str, users: dict[int, str], rules: dict[int, str]) -> str:
    kind, _, ref = (value or "").partition(":")
    if kind == "user" and ref.isdigit():
        return "人工：" + users.get(int(ref), f"用户#{ref}")
    if kind == "rule" and ref.isdigit():
        return "规则：" + rules.get(int(ref), f"规则#{ref}")
    return value or "—"


# -- auto-accept rules ---------------------------------------------------------------------------

def _words(value) -> list[str]:
    """Keywords/sources typed one a line or separated by commas (either width), deduplicated."""
    if isinstance(value, str):
        value = re.split(r"[\n,，、;；]+", value)
    out: list[str] = []
    for item in value or []:
        word = str(item).strip()
        if word and word not in out:
            out.append(word)
    return out


def validate_rule(session: Session, data: dict) -> dict:
    """The cleaned rule, or AccountError naming every bad field in Chinese."""
    errors: dict[str, str] = {}
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = "请填写规则名称"
    elif len(name) > 100:
        errors["name"] = "规则名称不能超过 100 个字"
    keywords = _words(data.get("keywords"))
    if any(len(k) > 50 for k in keywords):
        errors["keywords"] = "每个关键词不能超过 50 个字"
    elif len(keywords) > 50:
        errors["keywords"] = "关键词最多 50 个"
    sources = _words(data.get("sources"))
    unknown = [s for s in sources if s not in SOURCE_LABELS]
    if unknown:
        errors["sources"] = "未知的来源：" + "、".join(unknown)
    try:
        cap = int(str(data.get("daily_cap", "")).strip())
        if not 0 <= cap <= MAX_DAILY_CAP:
            raise ValueError
    except ValueError:
        cap = 0
        errors["daily_cap"] = f"每日上限须是 0–{MAX_DAILY_CAP} 之间的整数"
    start, end = str(data.get("start_time") or "").strip(), str(data.get("end_time") or "").strip()
    for key, value in (("start_time", start), ("end_time", end)):
        try:
            value = normalize_clock(value, end=key == "end_time")
        except ClockError:
            errors[key] = "时间格式应为 HH:MM（如 09:00；结束可写 24:00）"
        start, end = (value, end) if key == "start_time" else (start, value)
    if "start_time" not in errors and "end_time" not in errors and start == end:
        errors["end_time"] = "结束时间不能与开始时间相同"
    account_ids = _account_ids(session, data.get("account_ids"), errors)
    if errors:
        raise AccountError("自动通过规则有误，请检查标红的项", errors)
    return {"name": name, "keywords": keywords, "sources": sources, "daily_cap": cap, "start_time": start,
            "end_time": end, "account_ids": account_ids, "enabled": bool(data.get("enabled", True))}


def _account_ids(session: Session, raw, errors: dict) -> list[int]:
    try:
        ids = sorted({int(v) for v in (raw or []) if str(v).strip()})
    except (TypeError, ValueError):
        errors["account_ids"] = "微信号选择无效"
        return []
    if ids:
        known = set(session.exec(select(WechatAccount.id).where(WechatAccount.id.in_(ids))).all())
        if set(ids) - known:
            errors["account_ids"] = "所选微信号不存在"
    return ids


def list_rules(session: Session) -> list[AutoAcceptRule]:
    return list(session.exec(select(AutoAcceptRule).order_by(AutoAcceptRule.position, AutoAcceptRule.id)).all())


def get_rule(session: Session, rule_id: int) -> AutoAcceptRule:
    rule = session.get(AutoAcceptRule, rule_id)
    if rule is None:
        raise AccountNotFound("自动通过规则")
    return rule


def create_rule(session: Session, data: dict) -> AutoAcceptRule:
    clean = validate_rule(session, data)
    last = session.exec(select(func.max(AutoAcceptRule.position))).one()
    rule = AutoAcceptRule(**clean, position=(last or 0) + 1)
    session.add(rule)
    session.flush()
    return rule


def update_rule(session: Session, rule_id: int, data: dict) -> AutoAcceptRule:
    rule = get_rule(session, rule_id)
    for key, value in validate_rule(session, data).items():
        setattr(rule, key, value)
    session.add(rule)
    return rule


def set_rule_enabled(session: Session, rule_id: int, enabled: bool) -> AutoAcceptRule:
    rule = get_rule(session, rule_id)
    rule.enabled = enabled
    session.add(rule)
    return rule


def delete_rule(session: Session, rule_id: int) -> None:
    session.delete(get_rule(session, rule_id))
