"""Groups, members and group messages for the community tests, through the real store."""
from __future__ import annotations

from datetime import datetime

from conversations.store import NewMessage, record_message
from devices.models import ChatGroup, ChatGroupMember, WechatAccount

_seq = iter(range(1, 10 ** 9))


def make_group(s, account_id: int, room: str, members: list[str], joined_at: datetime, name: str = "",
               owner_wxid: str = "", via_sync: bool = False) -> int:
    group = ChatGroup(account_id=account_id, chatroom_id=room, name=name or room, member_count=len(members),
                      owner_wxid=owner_wxid, created_at=joined_at)
    s.add(group)
    s.flush()
    for wxid in members:
        s.add(ChatGroupMember(group_id=group.id, wxid=wxid, nickname=f"昵称{wxid}", joined_at=joined_at,
                              joined_via_sync=via_sync))
    return group.id


def make_account(s, wxid: str = "wx_staff", nickname: str = "小美", owner_user_id=None, device_id=None) -> int:
    account = WechatAccount(wxid=wxid, nickname=nickname, owner_user_id=owner_user_id, device_id=device_id)
    s.add(account)
    s.flush()
    return account.id


def say(s, account_id: int, room: str, group_id: int, sender: str, at: datetime, text: str = "你好") -> None:
    record_message(s, NewMessage(channel="wechat", account_id=account_id, kind="group", peer_id=room,
                                 direction="in", text=text, sent_at=at, external_id=f"m{next(_seq)}",
                                 sender_id=sender, sender_name=f"昵称{sender}", group_id=group_id), at)
