"""Acceptance (issue 12): a 1:1 broadcast to 200 friends by tag over real sockets with the simulated
fleet — every friend gets it once on the phone, gaps on each account stay within the configured
window, a friend over the weekly guard is skipped with the reason, the delivery report is exact.
And a send to a friend who deleted the account fails with the phone's named reason (raw phone)."""
from __future__ import annotations

import time
from collections import Counter, defaultdict

from sqlmodel import func, select

from config.clock import as_utc
from conversations.broadcast import runner, service
from conversations.broadcast.models import BroadcastRecipient
from crm.customers.models import Customer
from crm.people import service as people
from crm.scope import Viewer
from crm.tags.models import CustomerTag, Tag, TagCategory
from devices.models import DeviceCommand, Friend, WechatAccount
from tests.devices.gateway.conftest import fleet, gateway, make_devices, raw_phone, ws_url  # noqa: F401
from tests.web.api_helpers import Api
from tests.web.conftest import admin_user, app, app_db, live_server  # noqa: F401

ADMIN = Viewer(None, frozenset({"broadcasts.manage", "conversations.view_all"}))
GAP = (10.0, 12.0)
TEXT = "双十二活动今晚开始"


def _tag(s, name: str) -> int:
    cat = s.exec(select(TagCategory)).first() or TagCategory(name="运营")
    s.add(cat)
    s.flush()
    tag = Tag(category_id=cat.id, name=name)
    s.add(tag)
    s.flush()
    return tag.id


def _link_customers(app_db, friends: list[Friend], tag_id: int) -> None:
    with app_db.write() as s:
        for f in friends:
            customer = Customer(name=f"客户{f.wxid[-6:]}")
            s.add(customer)
            s.flush()
            s.add(CustomerTag(customer_id=customer.id, tag_id=tag_id))
            row = s.get(Friend, f.id)
            row.customer_id = customer.id
            s.add(row)


def _pump(clock, app_db, done, every_minute=None, timeout=240.0):
    """Moves the server's clock a second at a time so paced commands fall due, until done(). The
    clock waits while a due command has not left yet, so a slow machine delays the test, not the
    delivery times it measures. `every_minute` stands in for the scheduler's minute tick."""
    deadline, minute = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        if done():
            return True
        if every_minute is not None and minute != clock.now().replace(second=0, microsecond=0):
            minute = clock.now().replace(second=0, microsecond=0)
            every_minute()
        with app_db.read() as s:
            waiting = s.exec(select(func.count()).select_from(DeviceCommand).where(
                DeviceCommand.status == "queued", DeviceCommand.not_before <= clock.now())).one()
        if not waiting:
            clock.advance(seconds=1)
        time.sleep(0.03)
    return done()


def test_broadcast_to_200_friends_by_tag(app, app_db, admin_user, fleet, make_devices, clock):  # noqa: F811
    devices = make_devices(4)
    f = fleet([t for _i, t in devices], accounts=(3, 3), friends=17, groups=0, members=0, min_send_gap=0.0,
              heartbeat_seconds=0.2, result_delay=(0.01, 0.03))
    assert f.wait_for(lambda: _count(app_db, Friend) == 204, timeout=30)
    with app_db.read() as s:
        friends = list(s.exec(select(Friend).order_by(Friend.id)))
        accounts = {a.id: a.wxid for a in s.exec(select(WechatAccount))}
    with app_db.write() as s:
        main_tag, old_tag = _tag(s, "双十二意向"), _tag(s, "老客户")
    tagged, guarded = friends[:200], friends[7]
    _link_customers(app_db, tagged, main_tag)
    with app_db.write() as s:
        s.add(CustomerTag(customer_id=s.get(Friend, guarded.id).customer_id, tag_id=old_tag))
    svc = app.extensions["ckb"].services
    for name in ("上周活动", "周中关怀"):  # two 群发 already reached the guarded friend this week
        with app_db.write() as s:
            earlier = service.create(s, {"name": name, "target": {"mode": "tags", "tag_ids": [old_tag]},
                                         "content": {"msg_type": "text", "text": name}}, ADMIN, svc.now()).id
        runner.run(svc, earlier)

    api = Api(app.test_client(), people.create_token(app_db, "admin", "群发脚本"))
    created = api.ok("POST", "/api/v1/broadcasts", {
        "name": "双十二", "scene": "activity", "target": {"mode": "tags", "tag_ids": [main_tag]},
        "content": {"msg_type": "text", "text": "${name}您好，" + TEXT},
        "gap_min_seconds": GAP[0], "gap_max_seconds": GAP[1]}, 201)
    bid = created["id"]
    assert created["recipient_count"] == 200 and created["counts"]["skipped"] == 1

    def all_sent():
        with app_db.read() as s:
            return s.exec(select(func.count()).select_from(DeviceCommand).where(
                DeviceCommand.status == "succeeded")).one() == 201
    assert _pump(clock, app_db, all_sent, lambda: runner.run_due(svc)), Counter(c.status for c in _commands(app_db))

    # the phones: every tagged friend but the guarded one got the broadcast exactly once, on its own account
    received = Counter()
    for phone in f.phones:
        on = dict(phone.stats.executed_on)
        for cid, kind, payload in phone.stats.received:
            if kind == "send_text" and payload.get("text", "").endswith(TEXT):
                received[(on[cid], payload["to"])] += 1
    expected = {(accounts[fr.account_id], fr.wxid) for fr in tagged if fr.id != guarded.id}
    assert set(received) == expected and set(received.values()) == {1}

    # gaps on each account: planned within the window, delivered within it give or take the clock's step
    with app_db.read() as s:
        recs = list(s.exec(select(BroadcastRecipient).where(BroadcastRecipient.broadcast_id == bid)))
        commands = {c.id: c for c in s.exec(select(DeviceCommand))}
    per_account = defaultdict(list)
    for rec in recs:
        if rec.command_id:
            per_account[rec.account_id].append(commands[rec.command_id])
    for cmds in per_account.values():
        planned = sorted(as_utc(c.not_before) for c in cmds)
        sent = sorted(as_utc(c.sent_at) for c in cmds)
        for times, low, high in ((planned, GAP[0], GAP[1]), (sent, GAP[0] - 1, GAP[1] + 1)):
            gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:])]
            assert all(low <= g <= high for g in gaps), gaps

    # the report: exact, and the guarded friend skipped with the reason
    report = api.ok("GET", f"/api/v1/broadcasts/{bid}")
    assert report["status"] == "done"
    assert report["counts"] == {"pending": 0, "queued": 0, "deferred": 0, "sent": 199, "failed": 0, "skipped": 1}
    skipped = api.ok("GET", f"/api/v1/broadcasts/{bid}/recipients?state=skipped")["items"]
    assert [r["wxid"] for r in skipped] == [guarded.wxid]
    assert "近 7 天已收到 2 次群发（上限 2 次）" in skipped[0]["reason"]
    sent = api.ok("GET", f"/api/v1/broadcasts/{bid}/recipients?state=sent&size=500")["items"]
    assert {(accounts[r["account_id"]], r["wxid"]) for r in sent} == expected


def test_a_friend_who_deleted_the_account_fails_with_the_named_reason(app, app_db, gateway, raw_phone, make_devices,  # noqa: F811
                                                                     clock):
    [(_id, token)] = make_devices()
    phone = raw_phone()
    phone.login(token, [{"wxid": "wx_staff", "nickname": "客服"}])
    phone.request({"type": "report", "id": "r1", "kind": "friends_sync", "account": "wx_staff",
                   "data": {"complete": True, "friends": [{"wxid": "wx_gone", "nickname": "已删"},
                                                          {"wxid": "wx_here", "nickname": "还在"}]}})
    svc = app.extensions["ckb"].services
    with app_db.read() as s:
        account_id = s.exec(select(WechatAccount.id)).one()
    with app_db.write() as s:
        bid = service.create(s, {"name": "关怀", "target": {"mode": "accounts", "account_ids": [account_id]},
                                 "content": {"msg_type": "text", "text": "周末愉快"}, "gap_min_seconds": 6,
                                 "gap_max_seconds": 6}, ADMIN, svc.now()).id
    runner.run(svc, bid)
    answered = set()
    deadline = time.monotonic() + 30
    while len(answered) < 2 and time.monotonic() < deadline:
        clock.advance(seconds=2)
        try:
            frame = phone.next_command(timeout=0.3)
        except TimeoutError:
            continue
        to = frame["payload"]["to"]
        if to == "wx_gone":
            phone.send({"type": "result", "id": frame["id"], "ok": False, "code": "friend_deleted",
                        "error": "对方开启了朋友验证，你还不是他（她）朋友"})
        else:
            phone.send({"type": "result", "id": frame["id"], "ok": True, "result": {"msg_id": "m1"}})
        answered.add(to)
    assert answered == {"wx_gone", "wx_here"}

    def settled():
        runner.refresh_open(svc)
        with app_db.read() as s:
            return {r.wxid: (r.status, r.reason) for r in s.exec(select(BroadcastRecipient))}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and {v[0] for v in settled().values()} != {"sent", "failed"}:
        time.sleep(0.1)
    states = settled()
    assert states["wx_here"][0] == "sent"
    assert states["wx_gone"][0] == "failed" and "对方已删除好友（friend_deleted）" in states["wx_gone"][1]


def _count(app_db, model) -> int:
    with app_db.read() as s:
        return s.exec(select(func.count()).select_from(model)).one()


def _commands(app_db):
    with app_db.read() as s:
        return list(s.exec(select(DeviceCommand)))
