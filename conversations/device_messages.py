"""A phone's `message` report (PROTOCOL.md) into the message store: the gateway calls
`record_device_message` in the report's transaction (web registers it as a report sink).

Private messages belong to the conversation with the friend (the sender when inbound, `to_wxid` when
our account spoke), group messages to the group's conversation with the speaker kept per message.
The phone's `msg_id` is the dedupe key; a phone that sends none is deduped on its report id, which it
keeps when it re-sends an unacknowledged report."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from conversations.store import NewMessage, record_message
from devices.models import ChatGroup, Friend, WechatAccount

PAYLOAD_FIELDS = {"url": 1000, "title": 200, "description": 500, "appid": 64, "pagepath": 500,
                  "file_name": 200, "thumb_url": 1000, "material_id": 0, "size": 0, "duration": 0}


def _payload(data: dict) -> dict:
    payload = {}
    for name, limit in PAYLOAD_FIELDS.items():
        value = data.get(name)
        if value in (None, ""):
            continue
        if limit:
            payload[name] = str(value)[:limit]
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            payload[name] = value
    ats = data.get("at_wxids")
    if isinstance(ats, list):
        payload["at_wxids"] = [str(w)[:64] for w in ats if isinstance(w, str)][:50]
    return payload


def record_device_message(session: Session, account: WechatAccount, data: dict, at: datetime, report_id: str):
    """Stores one reported message; returns (ChatMessage, new). The report was validated by
    devices.reports.record_report before this runs."""
    direction = data.get("direction") or "in"
    room = str(data.get("chatroom_id") or "")[:64]
    sender = str(data.get("from_wxid") or (account.wxid if direction == "out" else ""))[:64]
    msg = NewMessage(
        channel="wechat", account_id=account.id, kind="group" if room else "private", peer_id="",
        direction=direction, msg_type=str(data.get("msg_type") or "text")[:32], text=str(data.get("text") or ""),
        payload=_payload(data), sent_at=at, external_id=str(data.get("msg_id") or f"report:{report_id}")[:64],
        sender_id=sender, sender_name=str(data.get("nickname") or "")[:100])
    if room:
        msg.peer_id = room
        group = session.exec(select(ChatGroup).where(ChatGroup.account_id == account.id,
                                                     ChatGroup.chatroom_id == room)).first()
        if group is not None:
            msg.group_id, msg.title = group.id, group.name
    else:
        msg.peer_id = sender if direction == "in" else str(data.get("to_wxid") or "")[:64]
        friend = session.exec(select(Friend).where(Friend.account_id == account.id,
                                                   Friend.wxid == msg.peer_id)).first()
        if friend is not None:
            msg.friend_id, msg.customer_id = friend.id, friend.customer_id
            msg.title = friend.remark or friend.nickname or msg.peer_id
        elif direction == "in":
            msg.title = msg.sender_name or msg.peer_id
    return record_message(session, msg, at)
