"""One accepted push, stored in the callback's single write transaction:

- the fan row is found or created (subscribe / unsubscribe keep its state current);
- the message goes into the message store (channel "mp", account = the 公众号, private, peer = openid,
  external id = MsgId or the event key), so a retry that got past the in-memory guard is still stored
  once; unknown types are kept as "other" with their raw type;
- routing: a conversation nobody handles yet goes to the owner of the fan's bound customer, else to
  the account's 默认客服 (a transfer made in the chat console is never overridden); the handler gets a
  站内通知 when a conversation turns unread;
- the event (mp.message / mp.subscribe / mp.unsubscribe / mp.menu_click) enters the ledger, once."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional

from sqlmodel import Session, select

from config.dialect_insert import insert_for
from conversations.models import ChatMessage, Conversation
from conversations.store import NewMessage, record_message
from crm.customers.models import Customer
from crm.people.models import Notification
from integrations.mp import xmlmsg
from integrations.mp.models import MpAccount, MpFan
from integrations.mp.mp_events import emit_mp

EVENT_TEXT = {"subscribe": "关注了公众号", "unsubscribe": "取消关注了公众号", "CLICK": "点击了菜单",
              "VIEW": "点击菜单打开了网页", "SCAN": "扫描了带参数二维码", "LOCATION": "上报了地理位置"}


@dataclass(frozen=True)
class Stored:
    message: ChatMessage
    new: bool
    fan_needs_lookup: bool  # no unionid yet, or just subscribed: fetch user/info after the answer


def _sent_at(msg: dict, now: datetime) -> datetime:
    try:
        return datetime.fromtimestamp(int(msg.get("CreateTime") or 0), tz=timezone.utc) if msg.get("CreateTime") else now
    except (ValueError, OverflowError, OSError):
        return now


def fan_for(session: Session, account_id: int, openid: str, now: datetime) -> MpFan:
    """The fan row of (account, openid), created when new (race-safe)."""
    table = MpFan.__table__
    session.execute(insert_for(session)(table).values(
        account_id=account_id, openid=openid[:64], unionid="", nickname="", remark="", subscribed=True,
        subscribe_scene="", bound_by="", created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["account_id", "openid"]))
    return session.exec(select(MpFan).where(MpFan.account_id == account_id, MpFan.openid == openid[:64])).one()


def _content(msg: dict) -> tuple[str, str, dict]:
    """(msg_type for the store, text, payload) of a push."""
    kind = msg.get("MsgType", "")
    if kind == "text":
        return "text", msg.get("Content", ""), {}
    if kind == "image":
        return "image", "", {"url": msg.get("PicUrl", ""), "media_id": msg.get("MediaId", "")}
    if kind == "voice":
        return "voice", msg.get("Recognition", ""), {"media_id": msg.get("MediaId", ""), "format": msg.get("Format", "")}
    if kind in ("video", "shortvideo"):
        return "video", "", {"media_id": msg.get("MediaId", ""), "thumb_media_id": msg.get("ThumbMediaId", "")}
    if kind == "link":
        return "link", msg.get("Title", ""), {"title": msg.get("Title", ""), "description": msg.get("Description", ""),
                                              "url": msg.get("Url", "")}
    if kind == "location":
        return "location", msg.get("Label", ""), {"latitude": msg.get("Location_X", ""),
                                                  "longitude": msg.get("Location_Y", ""), "scale": msg.get("Scale", "")}
    if kind == "event":
        event = msg.get("Event", "")
        text = EVENT_TEXT.get(event, f"事件 {event}")
        return "event", text, {"event": event[:32], "event_key": msg.get("EventKey", "")[:128]}
    # An unknown type is kept as reported (the store files it as "other" with raw_type).
    return kind[:32] or "other", msg.get("Content", ""), {k: v[:200] for k, v in list(msg.items())[:20]}


def _update_fan(fan: MpFan, msg: dict, sent_at: datetime, now: datetime) -> None:
    event = msg.get("Event", "") if msg.get("MsgType") == "event" else ""
    if event == "subscribe":
        fan.subscribed, fan.subscribed_at, fan.unsubscribed_at = True, sent_at, None
        fan.subscribe_scene = msg.get("EventKey", "")[:64]
    elif event == "unsubscribe":
        fan.subscribed, fan.unsubscribed_at = False, sent_at
    elif not fan.subscribed and msg.get("MsgType") != "event":
        fan.subscribed = True  # only followers can message a 公众号
    fan.updated_at = now


def route(session: Session, account: MpAccount, conversation: Conversation) -> Optional[int]:
    """Who handles it: a transfer stands; else the bound customer's owner, else the 默认客服."""
    if conversation.assignee_id is None:
        owner = None
        if conversation.customer_id is not None:
            customer = session.get(Customer, conversation.customer_id)
            owner = customer.owner_id if customer is not None else None
        conversation.assignee_id = owner or account.default_user_id
        session.add(conversation)
    return conversation.assignee_id


def _title(fan: MpFan) -> str:
    return fan.remark or fan.nickname or f"粉丝 {fan.openid[-6:]}"


def store(session: Session, account: MpAccount, msg: dict, now: datetime) -> Stored:
    openid = msg["FromUserName"][:64]
    sent_at = _sent_at(msg, now)
    fan = fan_for(session, account.id, openid, now)
    was_subscribed = fan.subscribed
    msg_type, text, payload = _content(msg)
    key = xmlmsg.message_key(msg)
    row, new = record_message(session, NewMessage(
        channel="mp", account_id=account.id, kind="private", peer_id=openid, direction="in", msg_type=msg_type,
        text=text, payload=payload, sent_at=sent_at, external_id=key, title=_title(fan), sender_id=openid,
        sender_name=_title(fan), customer_id=fan.customer_id), now)
    if not new:
        return Stored(row, False, False)
    _update_fan(fan, msg, sent_at, now)
    session.add(fan)
    conversation = session.get(Conversation, row.conversation_id)
    assignee = route(session, account, conversation)
    event = payload.get("event", "") if msg_type == "event" else ""
    if assignee is not None and msg_type != "event" and conversation.unread_count == 1:
        session.add(Notification(user_id=assignee, title=f"公众号「{account.name}」新消息：{_title(fan)}",
                                 body=(text or f"[{msg_type}]")[:500], source=f"mp:{conversation.id}",
                                 link=f"/chat?conversation={conversation.id}", created_at=now))
    data = {"account_id": account.id, "appid": account.appid, "openid": openid, "unionid": fan.unionid,
            "customer_id": fan.customer_id, "assignee_id": assignee}
    data = {k: v for k, v in data.items() if v not in (None, "")}
    event_id = f"mp:{account.id}:{key}"
    if event == "subscribe":
        emit_mp(session, "mp.subscribe", {**data, "scene": payload.get("event_key", "")}, event_id, now)
    elif event == "unsubscribe":
        emit_mp(session, "mp.unsubscribe", data, event_id, now)
    elif event == "CLICK":
        emit_mp(session, "mp.menu_click", {**data, "event_key": payload.get("event_key", "")}, event_id, now)
    elif msg_type != "event":
        emit_mp(session, "mp.message", {**data, "msg_type": msg.get("MsgType", "")[:32], "text": text,
                                        "msg_id": msg.get("MsgId", ""), "conversation_id": conversation.id},
                event_id, now)
    # user/info once for a fan never looked up, and again when one comes back (unionid, remark may be new)
    lookup = event != "unsubscribe" and (fan.synced_at is None or (event == "subscribe" and not was_subscribed))
    return Stored(row, True, lookup)
