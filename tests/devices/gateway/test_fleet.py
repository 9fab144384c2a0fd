"""The simulator as the test peer: a fleet connects and syncs; a friend request with a matching
greeting is auto-accepted by rule, the accept_friend command reaches the phone and its result
(and the new friend) come back."""
from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select

from devices.models import (AutoAcceptRule, ChatGroup, ChatGroupMember, Device, DeviceCommand, Friend, FriendRequest,
                            WechatAccount)
from events.models import EventRecord


def test_twenty_phones_connect_and_sync(fleet, make_devices, app_db):
    devices = make_devices(20)
    f = fleet([token for _id, token in devices], friends=5, groups=2, members=3)
    stats = f.stats()
    assert stats["connected"] == 20 and stats["refused"] == 0
    with app_db.read() as s:
        assert s.exec(select(func.count()).select_from(Device).where(Device.online == True)).one() == 20  # noqa: E712
        assert s.exec(select(func.count()).select_from(WechatAccount)).one() == stats["accounts"]
        assert s.exec(select(func.count()).select_from(Friend)).one() == 5 * stats["accounts"]
        assert s.exec(select(func.count()).select_from(ChatGroup)).one() == 2 * stats["accounts"]
        assert s.exec(select(func.count()).select_from(ChatGroupMember)).one() == 6 * stats["accounts"]
        accounts = s.exec(select(WechatAccount)).all()
        assert all(a.friends_count == 5 and a.groups_count == 2 and a.device_id for a in accounts)


def test_friend_request_is_auto_accepted_by_rule(fleet, make_devices, app_db):
    with app_db.write() as s:
        s.add(AutoAcceptRule(name="不相关来源", sources=["phone"], position=0))
        rule = AutoAcceptRule(name="课程咨询自动通过", keywords=["课程", "报名"], daily_cap=5, position=1)
        s.add(rule)
        s.flush()
        rule_id = rule.id
    [(_id, token)] = make_devices()
    f = fleet([token], friends=3, groups=1, members=2)
    phone = f.phones[0]
    answer = f.report(0, "friend_request", {"from_wxid": "wxid_lead1", "nickname": "陈女士",
                                            "greeting": "你好，想了解课程", "source": "search"})
    assert answer["ok"] is True
    ignored = f.report(0, "friend_request", {"from_wxid": "wxid_lead2", "greeting": "在吗", "source": "search"})
    assert ignored["ok"] is True

    assert f.wait_for(lambda: any(kind == "accept_friend" for _c, kind, _p in phone.stats.received))
    [(command_id, _kind, payload)] = [r for r in phone.stats.received if r[1] == "accept_friend"]
    assert payload["wxid"] == "wxid_lead1"

    def friend_arrived():
        with app_db.read() as s:
            return s.exec(select(Friend).where(Friend.wxid == "wxid_lead1")).first() is not None
    assert f.wait_for(friend_arrived)
    with app_db.read() as s:
        cmd = s.get(DeviceCommand, command_id)
        assert cmd.status == "succeeded" and cmd.source == "system" and cmd.idempotency_key.startswith("autoaccept:")
        requests = {r.from_wxid: r for r in s.exec(select(FriendRequest))}
        assert requests["wxid_lead1"].status == "accepted" and requests["wxid_lead1"].handled_by == f"rule:{rule_id}"
        assert requests["wxid_lead2"].status == "pending" and requests["wxid_lead2"].handled_by == ""
        codes = [e.event_code for e in s.exec(select(EventRecord).order_by(EventRecord.id))]
        assert codes.count("device.friend_request") == 2
        assert "device.command_result" in codes and "device.friend_added" in codes
    assert len([r for r in phone.stats.received if r[1] == "accept_friend"]) == 1


def test_sends_faster_than_the_gap_give_a_risk_signal(fleet, make_devices, app_db, clock, gateway):
    """Two sends to one simulated account inside its gap: the second fails with 操作过于频繁
    and the phone reports the risk signal (the budget and the send gate normally prevent this;
    here the commands are placed straight in the queue and the gate is off, as a misbehaving
    second server would)."""
    gateway.delivery.gate.floor = gateway.delivery.gate.jitter = 0
    [(_id, token)] = make_devices()
    f = fleet([token], friends=2, groups=1, members=1, min_send_gap=60)
    acc = f.phones[0].account(0)
    with app_db.write() as s:
        account = s.exec(select(WechatAccount).where(WechatAccount.wxid == acc.wxid)).one()
        for i in range(2):
            s.add(DeviceCommand(account_id=account.id, kind="send_text", payload={"to": next(iter(acc.friends)), "text": f"第{i}条"},
                                status="queued", created_at=clock.now()))
    assert f.wait_for(lambda: f.phones[0].stats.risk_signals == 1)

    def risk_stored():
        with app_db.read() as s:
            return s.exec(select(EventRecord).where(EventRecord.event_code == "device.risk_signal")).first() is not None
    assert f.wait_for(risk_stored)
    with app_db.read() as s:
        statuses = sorted(c.status for c in s.exec(select(DeviceCommand)))
        assert statuses == ["failed", "succeeded"]
        assert s.exec(select(DeviceCommand).where(DeviceCommand.status == "failed")).one().error.startswith("操作过于频繁")


def test_risk_signal_pauses_the_account_lowers_health_and_tells_its_owner(fleet, make_devices, app_db, admin_user):
    """风控: the phone reports 操作过于频繁 → the account pauses itself for the configured period,
    loses 15 health points, and its owner gets a 站内通知 — once, even if the report is re-sent."""
    from crm.people.models import Notification

    [(_id, token)] = make_devices()
    f = fleet([token], friends=1, groups=0, members=0)
    acc = f.phones[0].account(0)
    with app_db.write() as s:
        account = s.exec(select(WechatAccount).where(WechatAccount.wxid == acc.wxid)).one()
        account.owner_user_id = admin_user.id
        s.add(account)
    for _ in range(2):  # the second is a re-send of the same report id
        assert f.report(0, "risk_signal", {"kind": "too_frequent", "text": "操作过于频繁，请稍后再试"}, report_id="77")["ok"]

    def paused():
        with app_db.read() as s:
            return s.exec(select(WechatAccount).where(WechatAccount.wxid == acc.wxid)).one().status == "paused"
    assert f.wait_for(paused)
    with app_db.read() as s:
        account = s.exec(select(WechatAccount).where(WechatAccount.wxid == acc.wxid)).one()
        assert account.health_score == 85 and account.paused_until is not None and "操作过于频繁" in account.pause_reason
        notes = s.exec(select(Notification).where(Notification.user_id == admin_user.id)).all()
    assert len(notes) == 1 and "已暂停" in notes[0].title


def test_each_account_of_a_multi_account_phone_accepts_its_own_requests(fleet, make_devices, app_db, clock):
    """Issue 12's routing defect: with three accounts on one phone, requests to each are accepted on
    that account — the command frame names it — never on the phone's first account."""
    with app_db.write() as s:
        s.add(AutoAcceptRule(name="全部通过", keywords=[], daily_cap=50, position=0))
    [(_id, token)] = make_devices()
    f = fleet([token], accounts=(3, 3), friends=1, groups=0, members=0)
    phone = f.phones[0]
    assert len(phone.accounts) == 3
    expected = {}
    for i in range(3):
        for j in range(3):
            wxid = f"wxid_req_{i}_{j}"
            expected[wxid] = phone.account(i).wxid
            assert f.report(0, "friend_request", {"from_wxid": wxid, "greeting": "你好", "source": "search"}, account=i)["ok"]

    def accepted_all():  # the risk budget paces each account's accepts: move the clock along
        clock.advance(seconds=30)
        return len([r for r in phone.stats.received if r[1] == "accept_friend"]) == 9
    assert f.wait_for(accepted_all, timeout=30, interval=0.3)

    def all_added():
        with app_db.read() as s:
            return s.exec(select(func.count()).select_from(Friend).where(Friend.wxid.like("wxid_req_%"))).one() == 9
    assert f.wait_for(all_added, timeout=30)
    for wxid, owner in expected.items():
        holders = [acc.wxid for acc in phone.accounts if wxid in acc.friends]
        assert holders == [owner], (wxid, holders)
    with app_db.read() as s:
        accounts = {a.id: a.wxid for a in s.exec(select(WechatAccount))}
        landed = {fr.wxid: accounts[fr.account_id] for fr in s.exec(select(Friend).where(Friend.wxid.like("wxid_req_%")))}
    assert landed == expected


def test_a_command_for_an_account_the_phone_does_not_hold_is_refused_by_name(fleet, make_devices, app_db, clock):
    [(_id, token)] = make_devices()
    f = fleet([token], accounts=(2, 2), friends=1, groups=0, members=0)
    phone = f.phones[0]
    gone = phone.accounts.pop()  # logged out on the phone after the server learned of it
    with app_db.write() as s:
        account = s.exec(select(WechatAccount).where(WechatAccount.wxid == gone.wxid)).one()
        cmd = DeviceCommand(account_id=account.id, kind="sync_friends", payload={}, status="queued", created_at=clock.now())
        s.add(cmd)
        s.flush()
        command_id = cmd.id

    def failed():
        with app_db.read() as s:
            return s.get(DeviceCommand, command_id).status == "failed"
    assert f.wait_for(failed, timeout=15)
    with app_db.read() as s:
        cmd = s.get(DeviceCommand, command_id)
        assert cmd.result["code"] == "account_not_on_device" and gone.wxid in cmd.error
    assert phone.stats.executed_on[-1] == (command_id, gone.wxid)
