"""A small company seen by the 工作台 panels, shared by the analytics and web tests.

Now is 2026-11-20 10:00 Beijing (02:00 UTC). 业务员甲 (A) and 业务员乙 (B) are in 销售一部 with 经理丙
(M); 业务员丁 (D) is in 销售二部. Rows straddle the Beijing midnight: a customer created at
2026-11-19 16:00:00 UTC is today's (00:00:00 Beijing), one at 15:59:59 UTC is yesterday's."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from analytics import rollup_store
from analytics.models import MetricTarget
from crm.customers.models import Customer
from crm.leads.models import Lead, LeadScene
from crm.people import service as people
from crm.people.models import Department, UserDepartment
from crm.sales.models import Task
from crm.tags.models import CustomerTag, Tag, TagCategory
from devices.models import Device, DeviceCommand, Friend, WechatAccount
from events.models import EventRecord

UTC = timezone.utc
NOW = datetime(2026, 11, 20, 2, 0, 0, tzinfo=UTC)
TODAY = date(2026, 11, 20)
YESTERDAY = date(2026, 11, 19)
MIDNIGHT = datetime(2026, 11, 19, 16, 0, 0, tzinfo=UTC)  # 2026-11-20 00:00:00 Beijing
PASSWORD = "Sales12345"


def _message(account_id: int, wxid: str, at: datetime, n: int, group: bool = False) -> EventRecord:
    data = {"account_id": account_id, "from_wxid": wxid, "text": "在吗", "is_group": group,
            "chatroom_id": "room1@chatroom" if group else ""}
    return EventRecord(source="device", event_code="device.message", dedupe_key=f"device:1:m{n}", data=data,
                       occurred_at=at, received_at=at, status="accepted")


def seed(db) -> dict:
    people.ensure_builtin_roles(db)
    a = people.create_user(db, "sales_a", PASSWORD, display_name="业务员甲", roles=["sales"]).id
    b = people.create_user(db, "sales_b", PASSWORD, display_name="业务员乙", roles=["sales"]).id
    m = people.create_user(db, "manager_c", PASSWORD, display_name="经理丙", roles=["manager"]).id
    d = people.create_user(db, "sales_d", PASSWORD, display_name="业务员丁", roles=["sales"]).id
    with db.write() as s:
        one, two = Department(name="销售一部"), Department(name="销售二部")
        s.add_all([one, two])
        s.flush()
        s.add_all([UserDepartment(user_id=u, department_id=one.id) for u in (a, b, m)]
                  + [UserDepartment(user_id=d, department_id=two.id)])
        a_today = Customer(name="甲今日客户", owner_id=a, created_at=MIDNIGHT)
        a_old = Customer(name="甲昨日客户", owner_id=a, created_at=MIDNIGHT - timedelta(seconds=1))
        b_today = Customer(name="乙今日客户", owner_id=b, created_at=NOW - timedelta(hours=1))
        gone = Customer(name="甲回收客户", owner_id=a, created_at=NOW, status="recycled")
        s.add_all([a_today, a_old, b_today, gone])
        s.flush()
        cat = TagCategory(name="意向")
        s.add(cat)
        s.flush()
        hot, vip, private = Tag(category_id=cat.id, name="高意向"), Tag(category_id=cat.id, name="VIP"), \
            Tag(category_id=cat.id, name="乙的私人标签", owner_id=b)
        s.add_all([hot, vip, private])
        s.flush()
        s.add_all([CustomerTag(customer_id=c, tag_id=hot.id) for c in (a_today.id, a_old.id, b_today.id, gone.id)]
                  + [CustomerTag(customer_id=a_today.id, tag_id=vip.id),
                     CustomerTag(customer_id=b_today.id, tag_id=private.id)])
        # 任务中心: A's task due tonight, A's overdue one, A's finished one, B's.
        s.add_all([Task(title="回访甲今日客户", owner_id=a, creator_id=a, customer_id=a_today.id,
                        deadline=NOW + timedelta(hours=10)),
                   Task(title="昨天该打的电话", owner_id=a, creator_id=a, deadline=NOW - timedelta(hours=20), priority="high"),
                   Task(title="已完成的事", owner_id=a, creator_id=a, deadline=NOW + timedelta(hours=2), status="done"),
                   Task(title="乙的任务", owner_id=b, creator_id=b, deadline=NOW + timedelta(hours=3))])
        scene = LeadScene(name="官网", key="site", scene_type="WEB_FORM")
        s.add(scene)
        s.flush()
        s.add_all([Lead(scene_id=scene.id, name="今日线索", status="ASSIGNED", assignee_user_id=a, assigned_at=MIDNIGHT),
                   Lead(scene_id=scene.id, name="昨日线索", status="ASSIGNED", assignee_user_id=a,
                        assigned_at=MIDNIGHT - timedelta(seconds=1)),
                   Lead(scene_id=scene.id, name="乙的线索", status="ASSIGNED", assignee_user_id=b, assigned_at=NOW)])
        # 矩阵管理: one device offline, one online; accounts low / paused / fine.
        dev_off = Device(name="备用二号机", token_hash="h1", token_prefix="p1", online=False,
                         last_seen_at=NOW - timedelta(hours=5))
        dev_on = Device(name="运营一号机", token_hash="h2", token_prefix="p2", online=True)
        s.add_all([dev_off, dev_on])
        s.flush()
        acc_a = WechatAccount(device_id=dev_on.id, wxid="wx_acc_a", nickname="甲的微信", owner_user_id=a, health_score=40)
        acc_b = WechatAccount(device_id=dev_on.id, wxid="wx_acc_b", nickname="乙的微信", owner_user_id=b,
                              paused_until=NOW + timedelta(hours=3), pause_reason="操作过于频繁")
        acc_ok = WechatAccount(device_id=dev_on.id, wxid="wx_acc_ok", nickname="正常号", health_score=95)
        s.add_all([acc_a, acc_b, acc_ok])
        s.flush()
        s.add_all([Friend(account_id=acc_b.id, wxid="wx_b_friend", customer_id=a_old.id),
                   Friend(account_id=acc_b.id, wxid="wx_b_other", customer_id=b_today.id)])
        # 待回复: on A's account wx1 waits, wx2 was answered, a group message and yesterday's don't count;
        # the two chats on B's account wait for B (and count for those who see every account).
        s.add_all([_message(acc_a.id, "wx1", NOW - timedelta(hours=2), 1),
                   _message(acc_a.id, "wx1", NOW - timedelta(hours=1), 2),
                   _message(acc_a.id, "wx2", NOW - timedelta(hours=2), 3),
                   _message(acc_a.id, "wx3", NOW - timedelta(hours=2), 4, group=True),
                   _message(acc_a.id, "wx4", MIDNIGHT - timedelta(seconds=1), 5),
                   _message(acc_b.id, "wx_b_friend", NOW - timedelta(minutes=30), 6),
                   _message(acc_b.id, "wx_b_other", NOW - timedelta(minutes=30), 7),
                   DeviceCommand(account_id=acc_a.id, kind="send_text", payload={"to": "wx2", "text": "在的"},
                                 created_at=NOW - timedelta(hours=1, minutes=30)),
                   DeviceCommand(account_id=acc_a.id, kind="send_text", payload={"to": "wx1", "text": "早"},
                                 created_at=NOW - timedelta(hours=1, minutes=30))])  # before wx1's second message
        rollup_store.put(s, TODAY, "new_friends", {("user", a): 3, ("user", b): 6, rollup_store.COMPANY: 9})
        rollup_store.put(s, YESTERDAY, "followups", {("user", a): 4, ("user", b): 7, ("user", d): 10,
                                                     rollup_store.COMPANY: 21})
        rollup_store.put(s, TODAY - timedelta(days=4), "followups", {("user", a): 5})  # Monday: this week
        rollup_store.put(s, TODAY - timedelta(days=5), "followups", {("user", a): 50})  # last week's Sunday
        s.add_all([MetricTarget(metric="new_friends", dim="user", dim_id=a, period="day", value=5),
                   MetricTarget(metric="followups", dim="user", dim_id=a, period="week", value=20),
                   MetricTarget(metric="gmv_fen", dim="user", dim_id=a, period="month", value=1000000),
                   MetricTarget(metric="new_friends", dim="user", dim_id=b, period="day", value=99)])
        rollup_store.put(s, TODAY - timedelta(days=19), "gmv_fen", {("user", a): 250000})  # 11-01
        rollup_store.put(s, date(2026, 10, 31), "gmv_fen", {("user", a): 999999})  # last month
        ids = {"a": a, "b": b, "m": m, "d": d, "a_today": a_today.id, "a_old": a_old.id, "b_today": b_today.id,
               "hot": hot.id, "vip": vip.id, "private": private.id, "dev_off": dev_off.id, "acc_a": acc_a.id,
               "acc_b": acc_b.id, "acc_ok": acc_ok.id}
    return ids
