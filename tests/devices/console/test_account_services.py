"""微信号管理 services: today's adds/sends against the score's caps, pause/resume, friend search
(keyword, WeChat label, linked), linking friends to CRM customers, auto-accept rule validation."""
from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from crm.customers.models import Customer
from devices import accounts, friend_requests_admin as requests_admin
from devices.models import AutoAcceptRule, BudgetCounter, Friend, FriendRequest, WechatAccount
from engine.friend_links import link_friends_to_customers
from tests.devices.console.seed import FRIEND_MOBILE, seed_fleet


@pytest.fixture
def world(db, clock):
    with db.write() as s:
        return seed_fleet(s, clock.now())


def test_today_usage_reads_the_local_day_and_caps_follow_the_score(db, clock, settings, world):
    # 2026-11-20 02:00 UTC is 10:00 on the 20th in Shanghai; yesterday's counter must not count.
    with db.write() as s:
        s.add_all([BudgetCounter(scope=f"account:{world['a1']}", day=date(2026, 11, 20), kind="add_friend", count=7),
                   BudgetCounter(scope=f"account:{world['a1']}", day=date(2026, 11, 20), kind="send", count=31),
                   BudgetCounter(scope=f"account:{world['a1']}", day=date(2026, 11, 19), kind="add_friend", count=19),
                   BudgetCounter(scope=f"account:{world['a2']}", day=date(2026, 11, 20), kind="send_hour:10", count=4)])
    with db.read() as s:
        rows = {r.account.id: r for r in accounts.list_accounts(s, clock.now(), settings)}
    assert rows[world["a1"]].usage == {"add_friend": 7, "send": 31}
    assert rows[world["a2"]].usage == {"add_friend": 0, "send": 0}
    assert rows[world["a1"]].caps["add_friend"] == 20  # 95 分
    assert rows[world["a2"]].caps["add_friend"] == 10  # 62 分
    assert rows[world["a3"]].caps["add_friend"] == 5  # 40 分
    assert rows[world["a1"]].device_name == "运营一号机" and rows[world["a1"]].device_online
    assert not rows[world["a3"]].device_online


def test_pause_and_resume_by_hand(db, clock, world):
    with db.write() as s:
        with pytest.raises(accounts.AccountError, match="1–720"):
            accounts.pause(s, world["a1"], 0, "", clock.now())
        account = accounts.pause(s, world["a1"], 2, "  换绑手机 ", clock.now())
        assert (account.status, account.pause_reason) == ("paused", "换绑手机")
        assert account.paused_until.replace(tzinfo=None) == clock.now().replace(tzinfo=None).replace(hour=4)
    with db.write() as s:
        accounts.resume(s, world["a1"])
    with db.read() as s:
        account = s.get(WechatAccount, world["a1"])
        assert (account.status, account.paused_until, account.pause_reason) == ("normal", None, "")
    with db.write() as s:
        with pytest.raises(accounts.AccountNotFound):
            accounts.resume(s, 999)


def test_health_history_is_oldest_first(db, world):
    with db.read() as s:
        history = accounts.health_history(s, world["a2"])
    assert [h.score_after for h in history] == [85, 65, 62]


@pytest.mark.parametrize("query, expected", [
    (accounts.FriendQuery(keyword="张总"), {"张三"}),  # remark
    (accounts.FriendQuery(keyword="wxid_li"), {"李四"}),
    (accounts.FriendQuery(keyword="1391234"), {"张三"}),  # mobile
    (accounts.FriendQuery(tag="意向客户"), {"张三", "赵六"}),
    (accounts.FriendQuery(tag="意向"), set()),  # a label matches whole, not by substring
    (accounts.FriendQuery(keyword="已删"), set()),
    (accounts.FriendQuery(keyword="已删", include_deleted=True), {"已删好友"}),
])
def test_friend_search(db, world, query, expected):
    with db.read() as s:
        rows, total = accounts.search_friends(s, query)
    assert {r.nickname for r in rows} == expected and total == len(expected)


def test_friend_search_by_account_and_tags(db, world):
    with db.read() as s:
        rows, total = accounts.search_friends(s, accounts.FriendQuery(account_id=world["a1"]), per_page=2)
        assert total == 3 and len(rows) == 2
        assert accounts.friend_tags(s) == ["上海", "意向客户", "老客户"]


def test_friends_link_to_customers_by_mobile_then_wxid(db, world):
    with db.write() as s:
        s.add_all([Customer(name="张三", mobile=FRIEND_MOBILE), Customer(name="李四客户", wechat_id="wxid_li"),
                   Customer(name="无关", mobile="13000000000")])
    with db.write() as s:
        assert link_friends_to_customers(s) == 2
    with db.read() as s:
        linked = {f.nickname: f.customer_id for f in s.exec(select(Friend)).all()}
        customers = {c.name: c.id for c in s.exec(select(Customer)).all()}
        assert linked["张三"] == customers["张三"] and linked["李四"] == customers["李四客户"]
        assert linked["王五"] is None and linked["赵六"] is None
        rows, _ = accounts.search_friends(s, accounts.FriendQuery(linked="yes"))
        assert {r.nickname for r in rows} == {"张三", "李四"}
        rows, _ = accounts.search_friends(s, accounts.FriendQuery(linked="no"))
        assert {r.nickname for r in rows} == {"王五", "赵六"}
    with db.write() as s:
        assert link_friends_to_customers(s) == 0  # idempotent


def test_groups_and_members(db, world):
    with db.read() as s:
        groups = accounts.list_groups(s, keyword="体验")
        assert [g.name for g in groups] == ["存客宝体验群"]
        assert [m.nickname for m in accounts.group_members(s, world["group"])] == ["张三", "李四"]
        assert len(accounts.group_members(s, world["group"], include_left=True)) == 3


GOOD_RULE = {"name": "课程咨询自动通过", "keywords": "课程，报名\n课程", "sources": ["search", "qrcode"],
             "daily_cap": "30", "start_time": "09:00", "end_time": "21:30"}


def test_auto_accept_rule_is_cleaned_and_saved(db, world):
    with db.write() as s:
        rule = requests_admin.create_rule(s, {**GOOD_RULE, "account_ids": [str(world["a1"])]})
    with db.read() as s:
        rule = s.get(AutoAcceptRule, rule.id)
        assert (rule.keywords, rule.sources, rule.daily_cap) == (["课程", "报名"], ["search", "qrcode"], 30)
        assert (rule.start_time, rule.end_time, rule.account_ids, rule.position) == ("09:00", "21:30", [world["a1"]], 1)


@pytest.mark.parametrize("change, field, message", [
    ({"name": " "}, "name", "请填写规则名称"),
    ({"daily_cap": "101"}, "daily_cap", "0–100"),
    ({"daily_cap": "-1"}, "daily_cap", "0–100"),
    ({"daily_cap": "十"}, "daily_cap", "0–100"),
    ({"start_time": "9:0"}, "start_time", "HH:MM"),  # "9:00" is read as 09:00 (config.timewindow)
    ({"end_time": "24:30"}, "end_time", "HH:MM"),  # 24:00 is a valid end: until midnight
    ({"end_time": "09:00"}, "end_time", "不能与开始时间相同"),
    ({"sources": ["douyin"]}, "sources", "douyin"),
    ({"account_ids": ["999"]}, "account_ids", "不存在"),
    ({"keywords": "x" * 51}, "keywords", "50"),
])
def test_auto_accept_rule_validation(db, world, change, field, message):
    with db.write() as s:
        with pytest.raises(accounts.AccountError) as info:
            requests_admin.create_rule(s, {**GOOD_RULE, **change})
    assert message in info.value.errors[field]
    with db.read() as s:
        assert s.exec(select(AutoAcceptRule)).all() == []


def test_zero_cap_and_overnight_window_are_valid(db):
    with db.write() as s:
        rule = requests_admin.create_rule(s, {**GOOD_RULE, "daily_cap": "0", "start_time": "22:00",
                                              "end_time": "06:00"})
        requests_admin.set_rule_enabled(s, rule.id, False)
        assert not requests_admin.get_rule(s, rule.id).enabled
        requests_admin.delete_rule(s, rule.id)
        assert requests_admin.list_rules(s) == []


def test_reject_request_closes_it_once(db, clock, world):
    with db.read() as s:
        pending, total = requests_admin.list_requests(s, status="pending")
    assert total == 1
    with db.write() as s:
        requests_admin.reject_request(s, pending[0].id, 7, clock.now())
    with db.write() as s:
        with pytest.raises(accounts.AccountError, match="已处理"):
            requests_admin.reject_request(s, pending[0].id, 7, clock.now())
    with db.read() as s:
        row = s.get(FriendRequest, pending[0].id)
    assert (row.status, row.handled_by) == ("rejected", "user:7")
    assert requests_admin.handled_by_label("user:7", {7: "小王"}, {}) == "人工：小王"
    assert requests_admin.handled_by_label("rule:1", {}, {1: "课程"}) == "规则：课程"
