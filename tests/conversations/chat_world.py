"""A small 触客宝 world for service and web tests: two salespeople, each with a phone account, a
friend linked to a customer they own, and a stored inbound message on each account."""
from __future__ import annotations

from datetime import timedelta

from config.clock import utcnow
from conversations.device_messages import record_device_message
from crm.customers.models import Customer
from crm.people import service as people
from crm.people.permissions import BUILTIN_ROLES
from crm.scope import Viewer
from devices.models import ChatGroup, ChatGroupMember, Friend, WechatAccount

PASSWORD = "Sales12345"
SALES = frozenset(next(r for r in BUILTIN_ROLES if r.code == "sales").permissions)


def viewer(user_id: int, extra: tuple = ()) -> Viewer:
    return Viewer(user_id, SALES | frozenset(extra))


def report(db, account_id: int, data: dict, at=None, report_id: str = "r"):
    with db.write() as s:
        acc = s.get(WechatAccount, account_id)
        msg, _new = record_device_message(s, acc, data, at or utcnow(), report_id)
        return msg.conversation_id, msg.id


def build(db) -> dict:
    people.ensure_builtin_roles(db)
    a = people.create_user(db, "sales_a", PASSWORD, display_name="业务员甲", roles=["sales"]).id
    b = people.create_user(db, "sales_b", PASSWORD, display_name="业务员乙", roles=["sales"]).id
    with db.write() as s:
        acc_a = WechatAccount(wxid="wx_acc_a", nickname="甲的号", owner_user_id=a)
        acc_b = WechatAccount(wxid="wx_acc_b", nickname="乙的号", owner_user_id=b)
        cust_a = Customer(name="甲的客户", owner_id=a)
        cust_b = Customer(name="李四机密", owner_id=b)
        s.add_all([acc_a, acc_b, cust_a, cust_b])
        s.flush()
        s.add_all([Friend(account_id=acc_a.id, wxid="wx_f1", nickname="陈女士", customer_id=cust_a.id),
                   Friend(account_id=acc_a.id, wxid="wx_f2", nickname="王先生"),
                   Friend(account_id=acc_b.id, wxid="wx_f9", nickname="乙的好友", customer_id=cust_b.id)])
        room = ChatGroup(account_id=acc_a.id, chatroom_id="room@chatroom", name="宝妈群")
        s.add(room)
        s.flush()
        s.add_all([ChatGroupMember(group_id=room.id, wxid="wx_f1", nickname="陈女士"),
                   ChatGroupMember(group_id=room.id, wxid="wx_f2", nickname="王先生")])
        ids = {"a": a, "b": b, "acc_a": acc_a.id, "acc_b": acc_b.id, "cust_a": cust_a.id, "cust_b": cust_b.id}
    now = utcnow()
    ids["conv_a"], ids["msg_a"] = report(db, ids["acc_a"], {"from_wxid": "wx_f1", "text": "价格多少", "msg_id": "a1"},
                                        now - timedelta(minutes=5), "r1")
    ids["conv_a2"], _ = report(db, ids["acc_a"], {"from_wxid": "wx_f2", "text": "在吗", "msg_id": "a2"},
                               now - timedelta(minutes=4), "r2")
    ids["group_a"], _ = report(db, ids["acc_a"], {"from_wxid": "wx_f2", "chatroom_id": "room@chatroom", "text": "早",
                                                  "msg_id": "g1"}, now - timedelta(minutes=3), "r3")
    ids["conv_b"], _ = report(db, ids["acc_b"], {"from_wxid": "wx_f9", "text": "乙的秘密", "msg_id": "b1"},
                              now - timedelta(minutes=2), "r4")
    return ids
