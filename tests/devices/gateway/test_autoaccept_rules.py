"""自动通过规则 without sockets: keywords, sources, accounts, the time window (also across
midnight) and the per-account daily cap, tried in order."""
from __future__ import annotations

from datetime import datetime, timedelta

from devices.autoaccept import choose_rule, in_window, rule_matches
from devices.models import AutoAcceptRule, FriendRequest

LOCAL = datetime(2026, 11, 20, 10, 0)


def request(**kw) -> FriendRequest:
    return FriendRequest(account_id=kw.pop("account_id", 1), from_wxid="wxid_x", **kw)


def test_keywords_sources_and_accounts():
    rule = AutoAcceptRule(name="r", keywords=["课程", "报名"], sources=["search", "qrcode"], account_ids=[1, 2])
    assert rule_matches(rule, request(greeting="想报名试听", source="search"), LOCAL)
    assert not rule_matches(rule, request(greeting="你好", source="search"), LOCAL)
    assert not rule_matches(rule, request(greeting="课程", source="group"), LOCAL)
    assert not rule_matches(rule, request(greeting="课程", source="search", account_id=3), LOCAL)
    assert rule_matches(AutoAcceptRule(name="any"), request(greeting="", source=""), LOCAL)


def test_time_windows():
    day = AutoAcceptRule(name="d", start_time="09:00", end_time="18:00")
    night = AutoAcceptRule(name="n", start_time="22:00", end_time="08:00")
    assert in_window(day, LOCAL) and not in_window(day, LOCAL.replace(hour=20))
    assert in_window(night, LOCAL.replace(hour=23)) and in_window(night, LOCAL.replace(hour=7))
    assert not in_window(night, LOCAL)


def test_daily_cap_counts_todays_accepts(db, clock):
    now = clock.now()  # 10:00 in Asia/Shanghai
    with db.write() as s:
        s.add(AutoAcceptRule(name="cap", daily_cap=2, position=0))
        for i, at in enumerate([now - timedelta(hours=1), now - timedelta(hours=11)]):  # the second is yesterday
            s.add(FriendRequest(account_id=1, from_wxid=f"w{i}", status="accepted", handled_at=at))
        s.flush()
        pending = FriendRequest(account_id=1, from_wxid="new", greeting="hi")
        s.add(pending)
        s.flush()
        assert choose_rule(s, pending, now, "Asia/Shanghai").name == "cap"
        s.add(FriendRequest(account_id=1, from_wxid="w9", status="accepted", handled_at=now))
        s.flush()
        assert choose_rule(s, pending, now, "Asia/Shanghai") is None
