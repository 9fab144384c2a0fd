"""What a device step points at: the account that acts, the friend, group or moment it acts on,
and the customer behind a friend (for the daily touch cap) — from the step's settings with
${变量}, else from the device event's own fields (account_id, from_wxid, chatroom_id, wxids …)."""
from __future__ import annotations

import json
import re

from sqlmodel import Session, or_, select

from devices.models import Friend, WechatAccount
from events.placeholders import PlaceholderError, render_message
from handlers.errors import PermanentError


def rendered(config: dict, name: str, data: dict, default: str = "") -> str:
    """A step setting with ${变量} filled; a missing variable is a permanent, named failure."""
    raw = config.get(name)
    if raw in (None, ""):
        return default
    try:
        return str(render_message(str(raw), data)).strip()
    except PlaceholderError as exc:
        raise PermanentError(f"变量替换失败：{exc}") from exc


def required_text(config: dict, name: str, data: dict, label: str) -> str:
    text = rendered(config, name, data)
    if not text:
        raise PermanentError(f"{label}为空")
    return text


def first_of(data: dict, *names: str) -> str:
    return next((str(data[n]).strip() for n in names if data.get(n) not in (None, "")), "")


def as_list(text) -> list[str]:
    """"a,b" / "a、b" / '["a","b"]' (a list variable rendered as JSON) / a real list → items."""
    if isinstance(text, list):
        return [str(x).strip() for x in text if str(x).strip()]
    text = str(text or "").strip()
    if text.startswith("["):
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, list):
            return [str(x.get("wxid") if isinstance(x, dict) else x).strip() for x in value if x]
    return [part.strip() for part in re.split(r"[,，、;；\s]+", text) if part.strip()]


def resolve_account(session: Session, config: dict, data: dict) -> WechatAccount:
    raw = rendered(config, "account", data) or first_of(data, "account_id")
    if not raw:
        raise PermanentError("未指定微信号：请在步骤中填写微信号，或使用带 account_id 的设备事件")
    number = raw[:-2] if raw.endswith(".0") else raw
    account = session.exec(select(WechatAccount).where(or_(
        WechatAccount.id == (int(number) if number.isdigit() else -1), WechatAccount.wxid == raw,
        WechatAccount.alias == raw))).first()
    if account is None:
        raise PermanentError(f"微信号不存在：{raw}")
    return account


def customer_key(session: Session, data: dict, account: WechatAccount, target: str) -> str:
    """Who is being touched, for the per-customer daily cap: the CRM customer when known, else the wxid."""
    known = first_of(data, "customer_id", "customerId")
    if known:
        return f"customer:{known[:-2] if known.endswith('.0') else known}"
    if not target or target.endswith("@chatroom"):
        return ""
    linked = session.exec(select(Friend.customer_id).where(Friend.account_id == account.id,
                                                           Friend.wxid == target)).first()
    return f"customer:{linked}" if linked else f"wxid:{target}"


def moment_id_of(config: dict, data: dict) -> str:
    value = rendered(config, "moment_id", data) or first_of(data, "moment_id")
    if not value:
        raise PermanentError("未指定朋友圈：事件中没有 moment_id，步骤中也未填写")
    return value


def members_of(config: dict, data: dict) -> list[str]:
    members = as_list(rendered(config, "members", data)) or as_list(data.get("wxids") or [])
    if not members:
        raise PermanentError("未指定群成员")
    return members


def room_of(config: dict, data: dict) -> str:
    room = rendered(config, "chatroom_id", data) or first_of(data, "chatroom_id")
    if not room:
        raise PermanentError("未指定群：步骤中未填写群ID，事件中也没有 chatroom_id")
    return room


def target_of(config: dict, data: dict) -> str:
    """The step's 发送对象, else the group the event happened in, else the friend it came from."""
    to = rendered(config, "to", data)
    if to:
        return to
    if data.get("chatroom_id") and data.get("is_group", True) not in (False, "false", 0):
        return str(data["chatroom_id"])
    return first_of(data, "from_wxid", "wxid", "friend_wxid")
