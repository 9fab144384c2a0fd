"""What a phone reports, kept on our side: friend requests, friends, groups and their members,
friends' moments — and the event each report becomes for strategies (欢迎语, 关键词回复, 自动点赞…).

Every write here is idempotent (upserts keyed by wxid / chatroom / moment id), because the
gateway does it before storing the event and a phone re-sends a report until it is acknowledged.

Times are when it happened on the phone (the report's `at`). Reports arrive out of order (a
phone re-sends after a reconnect): a report about a friend or member whose present state began
later does not change it, and the device log says it was superseded (devices/sync.py).
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlmodel import Session, select

from config.clock import as_utc
from devices.errors import ProtocolError
from devices.models import FriendRequest, Moment, WechatAccount
from devices.registry import write_log
from devices.sync import find_friend, friend_changed_at
from devices.sync import apply_members, sync_friends, sync_groups, upsert_friend, upsert_group
from events.safe_json import problems

RISK_KINDS = ("too_frequent", "verification", "complaint", "banned", "deleted_by_friend")
RISK_LABELS = {"too_frequent": "操作过于频繁", "verification": "需要安全验证", "complaint": "被投诉",
               "banned": "账号被封", "deleted_by_friend": "被好友删除"}
SYNCS = {"friends_sync": ("friends", sync_friends), "groups_sync": ("groups", sync_groups)}


def _s(value, limit: int) -> str:
    return str(value or "")[:limit]


def _need(data: dict, *names: str) -> None:
    for name in names:
        if not data.get(name):
            raise ProtocolError("missing_field", f"上报缺少字段 data.{name}")


def _superseded(session: Session, device_id: int, account: WechatAccount, what: str, now: datetime) -> None:
    write_log(session, device_id, "report",
              f"微信号 {account.wxid} 的上报「{what}」已被更晚发生的事件取代（此后已有更晚的变更），未改变记录", now)


def record_report(session: Session, device_id: int, account: WechatAccount, kind: str, data: dict,
                  now: datetime) -> Optional[dict]:
    """Applies one report; returns {"event": code, "data": {...}} for the ledger, or None when the
    report is bookkeeping only (friends_sync, groups_sync)."""
    unstorable = problems(data, "data")
    if unstorable:  # refused before anything is written, like every other entrance
        raise ProtocolError("bad_value", "；".join(p["message"] for p in unstorable))
    base = {"account_id": account.id, "account_wxid": account.wxid}
    if kind in SYNCS:
        field, apply = SYNCS[kind]
        if not isinstance(data.get(field), list):
            raise ProtocolError("missing_field", f"{kind} 需要 data.{field} 数组")
        apply(session, account, data[field], data.get("complete", True) is not False, now)
        return None
    if kind == "friend_request":
        _need(data, "from_wxid")
        request = session.exec(select(FriendRequest).where(
            FriendRequest.account_id == account.id, FriendRequest.from_wxid == _s(data["from_wxid"], 64),
            FriendRequest.status == "pending")).first()
        if request is None:
            request = FriendRequest(account_id=account.id, from_wxid=_s(data["from_wxid"], 64), created_at=now)
            friend = find_friend(session, account.id, data["from_wxid"])
            if friend is not None and friend.deleted_at is None and as_utc(friend.added_at) >= now:
                # Reported late: they became friends after asking, so there is nothing left to accept.
                request.status, request.handled_at = "accepted", friend.added_at
        request.nickname = _s(data.get("nickname"), 100)
        request.greeting = _s(data.get("greeting"), 500)
        request.source = _s(data.get("source"), 32)
        session.add(request)
        session.flush()
        return {"event": "device.friend_request", "data": {
            **base, "from_wxid": request.from_wxid, "nickname": request.nickname, "greeting": request.greeting,
            "source": request.source, "request_id": request.id}}
    if kind in ("friend_added", "friend_deleted"):
        _need(data, "wxid")
        friend = find_friend(session, account.id, data["wxid"])
        alive = friend is not None and friend.deleted_at is None
        if friend is not None and friend_changed_at(friend) > now:
            _superseded(session, device_id, account, f"{'添加' if kind == 'friend_added' else '删除'}好友 {friend.wxid}", now)
        elif kind == "friend_added":
            friend = upsert_friend(session, account.id, data, now, friend)
            for request in session.exec(select(FriendRequest).where(
                    FriendRequest.account_id == account.id, FriendRequest.from_wxid == friend.wxid,
                    FriendRequest.status == "pending", FriendRequest.created_at <= now)):
                request.status, request.handled_at = "accepted", now
                session.add(request)
            if not alive:  # a re-sent report must not count the friend twice
                account.friends_count += 1
                session.add(account)
        else:
            friend = friend or upsert_friend(session, account.id, {"wxid": data["wxid"]}, now)
            friend.deleted_at = now
            session.add(friend)
            if alive:
                account.friends_count = max(0, account.friends_count - 1)
                session.add(account)
        if kind == "friend_deleted":
            return {"event": "device.friend_deleted", "data": {
                **base, "wxid": friend.wxid, "nickname": friend.nickname, "by_friend": bool(data.get("by_friend", True))}}
        return {"event": "device.friend_added", "data": {
            **base, "wxid": friend.wxid, "nickname": friend.nickname, "mobile": friend.mobile, "source": friend.source}}
    if kind == "message":
        # Stored in the message store by the gateway's report sink (conversations); here only the event.
        direction = data.get("direction") or "in"
        if direction not in ("in", "out"):
            raise ProtocolError("bad_value", "data.direction 应为 in 或 out")
        room = _s(data.get("chatroom_id"), 64)
        if direction == "out":
            if not room and not data.get("to_wxid"):
                raise ProtocolError("missing_field", "发出的消息需要 data.to_wxid 或 data.chatroom_id")
            return None  # what our own account said is history, not a trigger for 关键词回复
        _need(data, "from_wxid")
        return {"event": "device.message", "data": {
            **base, "from_wxid": _s(data["from_wxid"], 64), "nickname": _s(data.get("nickname"), 100),
            "chatroom_id": room, "is_group": bool(room), "text": _s(data.get("text"), 5000),
            "msg_type": _s(data.get("msg_type") or "text", 16), "msg_id": _s(data.get("msg_id"), 64)}}
    if kind in ("group_member_joined", "group_member_left"):
        _need(data, "chatroom_id")
        members = [m for m in data.get("members") or [] if isinstance(m, dict) and m.get("wxid")]
        if not members:
            raise ProtocolError("missing_field", "上报缺少字段 data.members")
        group = upsert_group(session, account.id, _s(data["chatroom_id"], 64), data.get("group_name"))
        _changed, late = apply_members(session, group, members, kind == "group_member_joined", now)
        if late:
            _superseded(session, device_id, account, f"群 {group.chatroom_id} 成员{'入群' if kind == 'group_member_joined' else '退群'}"
                        f" {'、'.join(m['wxid'] for m in late)}", now)
        clean = [{"wxid": _s(m["wxid"], 64), "nickname": _s(m.get("nickname"), 100)} for m in members]
        return {"event": f"device.{kind}", "data": {
            "account_id": account.id, "chatroom_id": group.chatroom_id, "group_id": group.id, "group_name": group.name,
            "members": clean, "wxids": [m["wxid"] for m in clean]}}
    if kind == "moment_posted":
        _need(data, "moment_id", "friend_wxid")
        media = [str(u)[:500] for u in data.get("media") or [] if isinstance(u, str)][:9]
        moment = session.exec(select(Moment).where(Moment.account_id == account.id,
                                                   Moment.moment_id == _s(data["moment_id"], 64))).first()
        if moment is None:
            moment = Moment(account_id=account.id, moment_id=_s(data["moment_id"], 64), friend_wxid=_s(data["friend_wxid"], 64),
                            text=_s(data.get("text"), 5000), media=media, posted_at=now)
            session.add(moment)
        return {"event": "device.moment_posted", "data": {
            "account_id": account.id, "moment_id": moment.moment_id, "friend_wxid": moment.friend_wxid,
            "text": moment.text, "has_media": bool(moment.media)}}
    if kind == "risk_signal":
        signal = data.get("kind")
        if signal not in RISK_KINDS:
            raise ProtocolError("bad_value", f"风控信号类型应为 {'/'.join(RISK_KINDS)}")
        text = _s(data.get("text") or RISK_LABELS[signal], 500)
        write_log(session, device_id, "alert", f"微信号 {account.wxid} 风控信号：{RISK_LABELS[signal]}（{text}）", now)
        return {"event": "device.risk_signal", "data": {"account_id": account.id, "kind": signal, "text": text}}
    raise ProtocolError("unknown_report", f"未知的上报类型：{_s(kind, 32)}")
