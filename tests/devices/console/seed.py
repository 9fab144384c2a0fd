"""Seeded device rows for the console tests (no simulator needed): two phones, three accounts,
friends with labels and phone numbers, a group with members, requests and moments."""
from __future__ import annotations

from datetime import timedelta

from devices.models import (ChatGroup, ChatGroupMember, Device, DeviceLog, Friend, FriendRequest, HealthEvent,
                            Moment, WechatAccount)

FRIEND_MOBILE = "13912345678"


def seed_fleet(session, now) -> dict:
    online = Device(name="运营一号机", token_hash="a" * 64, token_prefix="ckbd_aaaa", online=True,
                    last_seen_at=now - timedelta(seconds=20), battery=87, network="wifi", model="Redmi 12")
    offline = Device(name="备用二号机", token_hash="b" * 64, token_prefix="ckbd_bbbb", online=False,
                     last_seen_at=now - timedelta(hours=3), battery=12, network="4g")
    session.add_all([online, offline])
    session.flush()
    a1 = WechatAccount(device_id=online.id, wxid="wxid_sales01", alias="kefu_xiaomei", nickname="小美客服",
                       health_score=95, friends_count=3, groups_count=1)
    a2 = WechatAccount(device_id=online.id, wxid="wxid_sales02", alias="kefu_ajie", nickname="阿杰",
                       health_score=62, status="paused", paused_until=now + timedelta(hours=5),
                       pause_reason="操作过于频繁")
    a3 = WechatAccount(device_id=offline.id, wxid="wxid_sales03", nickname="备用号", health_score=40)
    session.add_all([a1, a2, a3])
    session.flush()
    session.add_all([
        Friend(account_id=a1.id, wxid="wxid_zhang", nickname="张三", remark="张总-上海", mobile=FRIEND_MOBILE,
               tags=["意向客户", "上海"]),
        Friend(account_id=a1.id, wxid="wxid_li", nickname="李四", tags=["老客户"]),
        Friend(account_id=a1.id, wxid="wxid_wang", nickname="王五", mobile="13700001111", tags=[]),
        Friend(account_id=a2.id, wxid="wxid_zhao", nickname="赵六", tags=["意向客户"]),
        Friend(account_id=a1.id, wxid="wxid_gone", nickname="已删好友", deleted_at=now),
    ])
    group = ChatGroup(account_id=a1.id, chatroom_id="123@chatroom", name="存客宝体验群", member_count=2,
                      owner_wxid="wxid_sales01")
    session.add(group)
    session.flush()
    session.add_all([ChatGroupMember(group_id=group.id, wxid="wxid_zhang", nickname="张三"),
                     ChatGroupMember(group_id=group.id, wxid="wxid_li", nickname="李四"),
                     ChatGroupMember(group_id=group.id, wxid="wxid_left", nickname="已退群", left_at=now)])
    session.add_all([
        FriendRequest(account_id=a1.id, from_wxid="wxid_new1", nickname="新朋友", greeting="想了解课程",
                      source="search", created_at=now - timedelta(minutes=5)),
        FriendRequest(account_id=a1.id, from_wxid="wxid_new2", nickname="老王", greeting="你好", source="qrcode",
                      status="accepted", handled_by="rule:1", handled_at=now),
    ])
    session.add_all([HealthEvent(account_id=a2.id, delta=-15, score_after=85, reason="操作过于频繁",
                                 created_at=now - timedelta(days=2)),
                     HealthEvent(account_id=a2.id, delta=-20, score_after=65, reason="消息轰炸/被投诉",
                                 created_at=now - timedelta(days=1)),
                     HealthEvent(account_id=a2.id, delta=-3, score_after=62, reason="被好友删除", created_at=now)])
    session.add_all([DeviceLog(device_id=online.id, kind="online", message="设备上线", created_at=now - timedelta(hours=1)),
                     DeviceLog(device_id=offline.id, kind="offline", message="心跳超时，设备离线",
                               created_at=now - timedelta(hours=3))])
    session.add_all([Moment(account_id=a1.id, moment_id="m1", friend_wxid="wxid_zhang", text="今天的课程分享\n第二行",
                            media=["https://img.example.com/1.jpg"], posted_at=now - timedelta(hours=2)),
                     Moment(account_id=a1.id, moment_id="m2", friend_wxid="wxid_li", text="周末去爬山",
                            posted_at=now - timedelta(hours=1))])
    session.flush()
    return {"online": online.id, "offline": offline.id, "a1": a1.id, "a2": a2.id, "a3": a3.id, "group": group.id}
