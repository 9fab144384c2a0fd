"""Acceptance (issue 13): a KOC starts a check-in from their H5, members check in over a real device
socket, the points land in the ledger under f"checkin:{checkin_id}:{member_wxid}", a topic task is
found done in the group's messages, and the KOC's board shows the group's numbers."""
from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
import requests
from sqlmodel import select

from commerce.orders.models import SalesOrder
from community import commission
from community.koc.models import Koc, KocTask
from community.ledger_models import PointsEntry
from config.clock import format_local
from crm.customers.models import Customer
from crm.tags.models import CustomerTag, Tag
from devices.models import ChatGroup, CheckIn, DeviceCommand, Friend
from tests.devices.gateway.conftest import gateway, make_devices, raw_phone, ws_url  # noqa: F401 - real sockets
from tests.web.conftest import admin_user, app, app_db, get_csrf_token, live_server, login  # noqa: F401

ROBOT = {"wxid": "wx_robot", "alias": "bbl_kf", "nickname": "贝贝乐客服", "mobile": "13800000009"}
MEMBERS = {"wx_koc": "小美", "wx_m1": "跑友一", "wx_m2": "跑友二", "wx_m3": "跑友三", "wx_m4": "路人"}


@pytest.fixture
def settings(settings):
    # No pacing between one account's commands: this test is about the flow, not the risk budget.
    return settings.model_copy(update={"budget_group_gap_min_seconds": 0.0, "budget_group_gap_max_seconds": 0.0,
                                       "budget_delivery_floor_seconds": 0.0, "budget_delivery_jitter_seconds": 0.0})


def _report(phone, n, kind, data):
    answer = phone.request({"type": "report", "id": f"r-{n}", "kind": kind, "account": "wx_robot", "data": data})
    assert answer["ok"], answer


def _say(phone, n, sender, text):
    _report(phone, n, "message", {"from_wxid": sender, "nickname": MEMBERS.get(sender, sender), "chatroom_id": "run@chatroom",
                                  "text": text, "msg_type": "text", "msg_id": f"msg-{n}"})


@pytest.fixture
def world(app, app_db, admin_user, raw_phone, make_devices, login):  # noqa: F811
    [(_device, token)] = make_devices()
    phone = raw_phone()
    phone.login(token, [ROBOT])
    _report(phone, 1, "friends_sync", {"friends": [{"wxid": w, "nickname": n} for w, n in MEMBERS.items() if w != "wx_m4"]})
    _report(phone, 2, "groups_sync", {"groups": [{"chatroom_id": "run@chatroom", "name": "跑步打卡群", "owner_wxid": "wx_robot",
                                                  "members": [{"wxid": w, "nickname": n} for w, n in MEMBERS.items()]}]})
    customers = {}
    with app_db.write() as s:
        for wxid in ("wx_koc", "wx_m1", "wx_m2", "wx_m3"):
            c = Customer(name=f"客户{MEMBERS[wxid]}")
            s.add(c)
            s.flush()
            s.exec(select(Friend).where(Friend.wxid == wxid)).one().customer_id = c.id
            customers[wxid] = c.id
    console = app.test_client()
    assert login(console).status_code == 302
    return {"phone": phone, "console": console, "csrf": get_csrf_token(console, "/koc"), "customers": customers}


def _post(w, url, data):
    return w["console"].post(url, data={**data, "csrf_token": w["csrf"]})


def test_a_koc_starts_a_checkin_members_check_in_and_the_board_counts(app, app_db, world, live_server):  # noqa: F811
    rt = app.extensions["ckb"]
    now = rt.services.now()
    phone, koc_customer = world["phone"], world["customers"]["wx_koc"]
    # Staff mark the customer KOC (tag 「KOC」), link the group, give a check-in and a topic task.
    assert _post(world, "/koc/mark", {"customer_id": str(koc_customer)}).status_code == 302
    with app_db.read() as s:
        koc = s.exec(select(Koc)).one()
        tag = s.exec(select(Tag).where(Tag.name == "KOC")).one()
        assert s.exec(select(CustomerTag).where(CustomerTag.customer_id == koc_customer, CustomerTag.tag_id == tag.id)).one()
        group_id = s.exec(select(ChatGroup)).one().id
    assert koc.wxid == "wx_koc"
    assert _post(world, f"/koc/{koc.id}/groups", {"group_ids": [str(group_id)]}).status_code == 302
    due = format_local(now + timedelta(days=1), "%Y-%m-%dT%H:%M")
    for kind, title, keyword in (("checkin", "发起早起打卡", ""), ("topic", "聊聊跑步路线", "跑步")):
        resp = _post(world, f"/koc/{koc.id}/tasks", {"kind": kind, "title": title, "group_id": str(group_id),
                                                      "keyword": keyword, "min_chars": "5", "min_replies": "2", "due_at": due})
        assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    page = world["console"].get(f"/koc?koc={koc.id}").get_data(as_text=True)
    link = unescape(re.search(r'data-testid="koc-h5-link"[^>]*|value="([^"]+/k/[^"]+)"', page).group(0))
    path = "/k/" + re.search(r"/k/([A-Za-z0-9_.\-]+)", link).group(1)

    # The KOC opens the H5 on their phone (no login) and starts 打卡 in their group.
    h5 = requests.get(live_server.url + path, timeout=10)
    assert h5.status_code == 200 and "发起群打卡" in h5.text and "跑步打卡群" in h5.text
    form_token = re.search(r'name="form_token" value="([^"]+)"', h5.text).group(1)
    started = requests.post(live_server.url + path + "/checkin", data={"form_token": form_token, "group_id": str(group_id),
                                                                        "keyword": "打卡", "points": "2"}, timeout=10)
    assert started.status_code == 200 and "已在群里发起打卡「打卡」" in started.text
    again = requests.post(live_server.url + path + "/checkin", data={"form_token": form_token, "group_id": str(group_id),
                                                                      "keyword": "打卡", "points": "2"}, timeout=10)
    assert "已在进行中" in again.text  # a double tap starts one check-in
    announce = phone.next_command()
    assert announce["kind"] == "send_text" and announce["payload"]["to"] == "run@chatroom"
    assert "小美 发起了打卡" in announce["payload"]["text"]
    phone.send({"type": "ack", "id": announce["id"]})
    phone.send({"type": "result", "id": announce["id"], "ok": True, "result": {"msg_id": "out-1"}, "error": ""})

    # Members check in from the group; one of them twice; wx_m4 is nobody's customer yet (the check-in
    # makes them one, so their points land too).
    for n, who in enumerate(["wx_m1", "wx_m2", "wx_m1", "wx_m3", "wx_m4"], start=10):
        _say(phone, n, who, "打卡")
    _say(phone, 20, "wx_koc", "今天大家跑步了吗？分享一下你们的跑步路线吧")
    _say(phone, 21, "wx_m1", "我绕西湖跑了5公里")
    _say(phone, 22, "wx_m2", "我在小区里跑")
    rt.tick()
    with app_db.read() as s:
        checkins = {c.member_wxid: c for c in s.exec(select(CheckIn))}
        assert set(checkins) == {"wx_m1", "wx_m2", "wx_m3", "wx_m4"}
        entries = s.exec(select(PointsEntry).where(PointsEntry.source == "checkin")).all()
        refs = {e.source_ref: (e.customer_id, e.delta) for e in entries}
        replies = s.exec(select(DeviceCommand).where(DeviceCommand.kind == "send_text")).all()
    expected = {f"checkin:{checkins[w].id}:{w}": (world["customers"][w], 2) for w in ("wx_m1", "wx_m2", "wx_m3")}
    newcomer = refs.pop(f"checkin:{checkins['wx_m4'].id}:wx_m4")
    assert refs == expected and newcomer[1] == 2 and newcomer[0] not in world["customers"].values()
    assert sum("打卡成功" in (c.payload.get("text") or "") for c in replies) == 4

    # Orders and commission through the KOC's group: a paid order of a member, a commission credit.
    with app_db.write() as s:
        s.add(SalesOrder(order_no="KOC-1", customer_id=world["customers"]["wx_m1"], status="paid", total_fen=19900,
                         paid_fen=19900, paid_at=rt.services.now()))
        commission.credit(s, amount_fen=995, source="fission", source_ref="order:koc-1:level:1", reason="分销佣金",
                          beneficiary_customer_id=koc_customer, group_id=group_id, now=rt.services.now())
    board = requests.get(live_server.url + path, timeout=10).text
    stats = dict((label, value) for value, label in re.findall(r"<strong>([^<]+)</strong><span>([^<]+)</span>", board))
    assert stats["新成员"] == "5" and stats["引流客户"] == "4" and stats["订单"] == "1"
    assert stats["成交额"] == "¥199.00" and stats["我的佣金"] == "¥9.95"
    assert stats["核销"] == "0"  # coupons exist (权益), none redeemed by these members
    with app_db.read() as s:
        states = {t.kind: (t.status, t.evidence) for t in s.exec(select(KocTask))}
    assert states["checkin"][0] == "done", states
    assert "4 人打卡" in states["checkin"][1]
    assert states["topic"][0] == "done" and "2 条回复" in states["topic"][1]
    assert board.count("已完成") == 2

    # Another link (forged or reset) sees nothing.
    assert requests.get(live_server.url + path[:-3] + "xyz", timeout=10).status_code == 404
    assert _post(world, f"/koc/{koc.id}/link", {}).status_code == 302
    assert requests.get(live_server.url + path, timeout=10).status_code == 404
