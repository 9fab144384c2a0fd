"""The risk budget inside issue_command: caps by health score, hourly caps, contact pressure,
quiet hours, paused/banned/offline accounts, pacing, idempotency and re-checking deferred work."""
from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from config.clock import as_utc, from_local
from devices.budget import usage
from devices.commands import (CommandError, cancel_command, issue_command, list_commands, on_issued,
                              recheck_deferred)
from devices.health import daily_caps
from devices.models import WechatAccount
from tests.devices.budget.conftest import make_account
from tests.support import with_settings

TZ = "Asia/Shanghai"


def issue(svc, account_id, kind="send_text", payload=None, **kw):
    payload = payload if payload is not None else {"to": "wxid_friend", "text": "您好"}
    with svc.db.write() as s:
        return issue_command(s, account_id, kind, payload, now=kw.pop("now", svc.now()), settings=svc.settings, **kw)


def local(y, mo, d, h, mi=0):
    return from_local(datetime(y, mo, d, h, mi), TZ)


@pytest.mark.parametrize("score,cap", [(100, 20), (90, 20), (89, 15), (70, 15), (69, 10), (50, 10), (49, 5), (30, 5)])
def test_add_friend_cap_follows_the_health_band(services, score, cap):
    assert daily_caps(score) == {"add_friend": cap, "accept_friend": cap}
    account = make_account(services, score=score)
    svc = with_settings(services, budget_private_gap_min_seconds=0, budget_private_gap_max_seconds=0)
    results = [issue(svc, account, "add_friend", {"wxid": f"w{i}", "greeting": "你好"}) for i in range(cap + 3)]
    assert Counter(c.status for c in results) == {"queued": cap, "deferred": 3}
    late = results[-1]
    assert as_utc(late.not_before) == local(2026, 11, 21, 0)  # next local midnight
    assert late.reason == f"今日加好友与通过好友合计已达上限 {cap} 个（健康分 {score}），明天再执行"
    # accepting a request adds a friend too: the same daily cap covers both, not one cap each
    accepted = issue(svc, account, "accept_friend", {"wxid": "w0"})
    assert accepted.status == "deferred" and accepted.reason == late.reason


def test_adds_and_accepts_share_one_daily_cap(services):
    svc = with_settings(services, budget_private_gap_min_seconds=0, budget_private_gap_max_seconds=0)
    account = make_account(svc, score=49)  # 警告: 5 a day
    kinds = ["add_friend", "accept_friend"] * 5
    results = [issue(svc, account, kind, {"wxid": f"w{i}"}) for i, kind in enumerate(kinds)]
    assert [c.status for c in results] == ["queued"] * 5 + ["deferred"] * 5
    with svc.db.read() as s:
        assert usage(s, s.get(WechatAccount, account), svc.now())["accept_friend"] == {"used": 5, "cap": 5}


def test_score_below_30_stops_using_the_account(services):
    """Seed 002 §6.2: below 30 (危险) → 停止使用 — nothing is sent, with the reason shown."""
    account = make_account(services, score=29)
    for kind, payload in (("add_friend", {"wxid": "w1"}), ("send_text", {"to": "wxid_friend", "text": "您好"}),
                          ("like_moment", {"moment_id": "m1"})):
        refused = issue(services, account, kind, payload)
        assert refused.status == "refused", kind
        assert refused.reason.startswith("健康分 29（危险，低于 30），按运营规范停止使用该微信号")
    assert issue(services, account, "sync_friends", {}).status == "queued"  # looking after the phone still works


def test_hourly_send_cap_defers_to_the_next_hour(services):
    svc = with_settings(services, budget_hourly_send_cap=5, budget_private_gap_min_seconds=0,
                        budget_private_gap_max_seconds=0)
    account = make_account(svc)
    results = [issue(svc, account, payload={"to": f"f{i}", "text": "hi"}) for i in range(7)]
    assert [c.status for c in results] == ["queued"] * 5 + ["deferred"] * 2
    assert as_utc(results[-1].not_before) == local(2026, 11, 20, 11)
    assert results[-1].reason == "本小时（10:00 起）发送已达上限 5 条"


def test_contact_pressure_caps_automated_touches_per_customer(services):
    svc = with_settings(services, budget_customer_daily_touches=2)
    account = make_account(svc)
    other = make_account(svc, wxid="wxid_acc2")
    touches = [issue(svc, acc, payload={"to": "f1", "text": "hi"}, customer_key="customer:7")
               for acc in (account, other, account)]
    assert [c.status for c in touches] == ["queued", "queued", "deferred"]
    assert touches[-1].reason == "该客户今日已被自动触达 2 次（上限），明天再执行"
    assert issue(svc, account, payload={"to": "f1", "text": "人工回复"}, customer_key="customer:7",
                 source="manual").status == "queued"
    assert issue(svc, account, payload={"to": "f2", "text": "hi"}, customer_key="customer:8").status == "queued"


@pytest.mark.parametrize("at,until", [((2026, 11, 20, 23, 30), (2026, 11, 21, 8)),
                                      ((2026, 11, 21, 7, 0), (2026, 11, 21, 8)),
                                      ((2026, 11, 20, 22, 0), (2026, 11, 21, 8))])
def test_quiet_hours_defer_to_their_end(services, clock, at, until):
    svc = with_settings(services, budget_quiet_hours="22:00-08:00")
    account = make_account(svc)
    clock.set(local(*at))
    command = issue(svc, account)
    assert (command.status, as_utc(command.not_before)) == ("deferred", local(*until))
    assert command.reason == "免打扰时段（22:00-08:00），结束后执行"
    clock.set(local(2026, 11, 21, 8, 0))
    assert issue(svc, account, payload={"to": "x", "text": "早"}).status == "queued"


def test_paused_banned_and_offline_accounts(services, clock):
    until = clock.now() + timedelta(hours=5)
    paused = make_account(services, wxid="wxid_p", status="paused", paused_until=until, pause_reason="操作过于频繁")
    command = issue(services, paused)
    assert (command.status, as_utc(command.not_before)) == ("deferred", until)
    assert command.reason == "微信号暂停中（操作过于频繁），11-20 15:00 后恢复"
    held = make_account(services, wxid="wxid_h", status="paused")
    assert issue(services, held).reason == "微信号已被手动暂停，请恢复后再发"
    banned = make_account(services, wxid="wxid_b", status="banned")
    assert (issue(services, banned).status, issue(services, banned, payload={"to": "y", "text": "z"}).reason) == (
        "refused", "微信号已被封禁，不能执行")
    offline = make_account(services, wxid="wxid_o", status="offline")
    command = issue(services, offline)
    assert (command.status, as_utc(command.not_before)) == ("deferred", clock.now() + timedelta(minutes=30))
    # syncing or restarting is never held back
    assert issue(services, banned, "sync_friends", {}).status == "queued"
    # an expired pause no longer holds anything back
    clock.advance(hours=6)
    assert issue(services, paused, payload={"to": "q", "text": "hi"}).status == "queued"


def test_thirty_concurrent_sends_keep_every_gap_inside_the_window(services):
    account = make_account(services)

    def send(i):
        with services.db.write() as s:
            return issue_command(s, account, "send_text", {"to": f"wxid_f{i}", "text": f"第{i}条"},
                                 now=services.now(), settings=services.settings).not_before

    with ThreadPoolExecutor(8) as pool:
        slots = sorted(as_utc(t) for t in pool.map(send, range(30)))
    gaps = [(b - a).total_seconds() for a, b in zip(slots, slots[1:])]
    assert slots[0] == services.now() and len(gaps) == 29
    assert all(5 <= g <= 10 for g in gaps), gaps
    assert len(set(round(g, 3) for g in gaps)) > 5  # jittered, not a fixed beat
    # group targets use the 3–8 s window
    group = [issue(services, account, payload={"to": f"{i}@chatroom", "text": "群发"}).not_before for i in range(5)]
    group_gaps = [(as_utc(b) - as_utc(a)).total_seconds() for a, b in zip([slots[-1]] + group[:-1], group)]
    assert all(3 <= g <= 8 for g in group_gaps), group_gaps


def test_idempotency_returns_the_first_command_and_spends_once(services):
    account = make_account(services)
    first = issue(services, account, "add_friend", {"wxid": "w1"}, idempotency_key="task-9:0")
    again = issue(services, account, "add_friend", {"wxid": "w1"}, idempotency_key="task-9:0")
    assert first.id == again.id
    with services.db.read() as s:
        assert len(list_commands(s, {"account_id": account})) == 1
        assert usage(s, s.get(WechatAccount, account), services.now())["add_friend"] == {"used": 1, "cap": 20}


def test_deferred_commands_are_rechecked_when_their_time_comes(services, clock):
    svc = with_settings(services, budget_private_gap_min_seconds=0, budget_private_gap_max_seconds=0)
    account = make_account(svc, score=35)  # cap 5
    results = [issue(svc, account, "add_friend", {"wxid": f"w{i}"}) for i in range(12)]
    assert Counter(c.status for c in results) == {"queued": 5, "deferred": 7}
    with svc.db.write() as s:
        assert recheck_deferred(s, clock.now(), svc.settings) == {}  # not due yet
    clock.set(local(2026, 11, 21, 0, 0))
    with svc.db.write() as s:
        assert recheck_deferred(s, clock.now(), svc.settings) == {"queued": 5, "deferred": 2}
        statuses = Counter(c.status for c in list_commands(s, {"account_id": account}))
    assert statuses == {"queued": 10, "deferred": 2}


def test_wake_up_hook_runs_after_commit_only(services):
    account = make_account(services)
    seen = []
    unregister = on_issued(seen.append)
    try:
        command = issue(services, account)
        assert [(c.id, c.kind, c.account_id) for c in seen] == [(command.id, "send_text", account)]
        with pytest.raises(RuntimeError):
            with services.db.write() as s:
                issue_command(s, account, "send_text", {"to": "a", "text": "b"}, now=services.now())
                raise RuntimeError("rolled back")
        issue(services, account, payload={"to": "c", "text": "d"})
        assert len(seen) == 2 and seen[1].id != command.id
        issue(services, make_account(services, wxid="wxid_x", status="banned"))  # refused: nothing to deliver
        assert len(seen) == 2
    finally:
        unregister()


def test_bad_commands_and_cancel(services):
    account = make_account(services)
    with services.db.write() as s:
        with pytest.raises(CommandError, match="不支持的指令类型：fly"):
            issue_command(s, account, "fly", {})
        with pytest.raises(CommandError, match="指令 send_text 缺少 text"):
            issue_command(s, account, "send_text", {"to": "x"})
        with pytest.raises(CommandError, match="微信号不存在"):
            issue_command(s, 999, "send_text", {"to": "x", "text": "y"})
    command = issue(services, account)
    with services.db.write() as s:
        assert cancel_command(s, command.id).status == "cancelled"
        with pytest.raises(CommandError, match="已无法取消"):
            cancel_command(s, command.id)
        assert [c.id for c in list_commands(s, {"status": ["cancelled"], "kind": "send_text"})] == [command.id]
        assert s.exec(select(WechatAccount)).first() is not None


def test_redis_store_paces_caps_hours_and_touches(services, redis_url):
    svc = with_settings(services, redis_url=redis_url, budget_hourly_send_cap=6, budget_customer_daily_touches=4)
    account = make_account(svc)
    results = [issue(svc, account, payload={"to": f"f{i}", "text": "hi"}, customer_key="customer:1" if i < 5 else "")
               for i in range(8)]
    assert [c.status for c in results] == ["queued"] * 4 + ["deferred"] + ["queued"] * 2 + ["deferred"]
    assert results[4].reason == "该客户今日已被自动触达 4 次（上限），明天再执行"
    assert (results[-1].reason, as_utc(results[-1].not_before)) == ("本小时（10:00 起）发送已达上限 6 条",
                                                                   local(2026, 11, 20, 11))
    slots = [as_utc(c.not_before) for c in results if c.status == "queued"]
    assert all(5 <= (b - a).total_seconds() <= 10 for a, b in zip(slots, slots[1:]))
    with svc.db.read() as s:
        assert usage(s, s.get(WechatAccount, account), svc.now(), svc.settings)["send"]["used"] == 6
