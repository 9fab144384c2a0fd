"""Report building blocks: periods (ISO weeks, months, 环比/同比 periods), targets (元/%, fallback of a
week to the daily target × 7), figures' 达成率/环比/同比 from rollups, scopes, and the pushed daily
report (站内通知 per person, once per slot; the e-mail event when configured)."""
from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from analytics import periods, reports, report_push, rollup_store as store, targets
from analytics.errors import AnalyticsError, ScopeNotFound
from analytics.kpis import DAILY
from analytics.scopes import Scope, resolve
from config.timewindow import ClockError
from crm.people import service as people
from crm.people.models import Notification
from crm.scope import Viewer
from events.models import EventRecord
from tests.analytics.month_seed import bj


def test_periods_parse_and_step():
    today = date(2026, 12, 7)
    week = periods.parse("week", "2026-W01", today)
    assert (week.first, week.last) == (date(2025, 12, 29), date(2026, 1, 4))
    assert week.previous().key == "2025-W52" and week.year_ago().key == "2025-W01"
    month = periods.parse("month", "2024-03", today)
    assert month.previous().key == "2024-02" and month.previous().days == 29 and month.year_ago().key == "2023-03"
    assert periods.parse("day", "", today).key == "2026-12-07"
    assert periods.parse("day", "2024-02-29", today).year_ago().key == "2023-02-28"
    for kind, bad in (("day", "2026-02-30"), ("week", "2026-W60"), ("month", "2026-13"), ("week", "49")):
        with pytest.raises(AnalyticsError):
            periods.parse(kind, bad, today)


def test_target_values_are_parsed_in_yuan_and_percent():
    assert targets.parse_value("gmv_fen", "2,000.5") == 200050
    assert targets.parse_value("effective_rate", "60") == 60
    assert targets.parse_value("new_friends", " ") is None
    for key, text in (("effective_rate", "101"), ("new_friends", "1.5"), ("new_friends", "-1"), ("buyers", "x"),
                      ("gmv_fen", "nan")):
        with pytest.raises(AnalyticsError):
            targets.parse_value(key, text)


def test_figures_achievement_and_changes(db):
    day = date(2026, 11, 18)
    with db.write() as s:
        store.put(s, day, "new_friends", {("user", 5): 120})
        store.put(s, date(2026, 11, 17), "new_friends", {("user", 5): 100})
        store.put(s, date(2025, 11, 18), "new_friends", {("user", 5): 80})
        store.put(s, day, "effective_friends", {("user", 5): 60})
        targets.save(s, "user", 5, "day", {"new_friends": 100, "effective_rate": 60}, None)
    with db.read() as s:
        figs = {f.key: f for f in reports.figures(s, Scope("user", 5, "张三"), periods.day_of(day), DAILY)}
        week = {f.key: f for f in reports.figures(s, Scope("user", 5, "张三"), periods.week_of(day), DAILY)}
    nf = figs["new_friends"]
    assert (nf.actual, nf.target, nf.achieved, nf.previous, nf.mom, nf.year_ago, nf.yoy) == \
        (120, 100, 120.0, 100, 20.0, 80, 50.0)
    rate = figs["effective_rate"]
    assert (rate.actual, rate.target, rate.achieved) == (50.0, 60, 83.3)
    assert figs["buyers"].target is None and figs["buyers"].achieved is None and figs["buyers"].mom is None
    assert week["new_friends"].target == 700 and week["new_friends"].actual == 220
    assert week["effective_rate"].target == 60  # a rate is not multiplied by days


def test_scopes_follow_permissions(db):
    people.ensure_builtin_roles(db)
    a = people.create_user(db, "sa", "Passw0rd!x", roles=["sales"])
    b = people.create_user(db, "sb", "Passw0rd!x", roles=["sales"])
    with db.read() as s:
        mine = Viewer(a.id, frozenset({"reports.view"}))
        assert resolve(s, mine, None, None) == Scope("user", a.id, "sa")
        with pytest.raises(ScopeNotFound):
            resolve(s, mine, "user", b.id)
        with pytest.raises(ScopeNotFound):
            resolve(s, mine, "company", 0)
        boss = Viewer(b.id, frozenset({"reports.view", "reports.view_all"}))
        assert resolve(s, boss, None, None).dim == "company"
        assert resolve(s, boss, "user", a.id).name == "sa"


def test_daily_report_push_notifies_each_person_once(services, clock):
    db = services.db
    people.ensure_builtin_roles(db)
    a = people.create_user(db, "sa", "Passw0rd!x", roles=["sales"], email="sa@example.com")
    people.create_user(db, "nobody", "Passw0rd!x", roles=[])
    with db.write() as s:
        store.put(s, date(2026, 11, 19), "new_friends", {("user", a.id): 7})
        targets.save(s, "user", a.id, "day", {"new_friends": 10}, None)
    clock.set(bj(date(2026, 11, 20), 9, 0))
    assert report_push.push(services, clock.now(), "09:00") == 1
    assert report_push.push(services, clock.now(), "09:00") == 0  # a repeated run does not notify twice
    with db.read() as s:
        note = s.exec(select(Notification).where(Notification.user_id == a.id)).one()
        assert s.exec(select(EventRecord).where(EventRecord.event_code == "analytics.daily_report")).all() == []
    assert note.title == "每日数据报表 11-19"  # before noon: yesterday's whole day
    assert "新增好友数：7（目标 10，达成率 70.0%）" in note.body
    assert note.link == f"/reports/daily?day=2026-11-19&dim=user&id={a.id}"
    clock.set(bj(date(2026, 11, 20), 17, 0))
    services.settings.report_push_email = True
    assert report_push.push(services, clock.now(), "17:00") == 1
    with db.read() as s:
        titles = [n.title for n in s.exec(select(Notification).where(Notification.user_id == a.id))]
        event = s.exec(select(EventRecord).where(EventRecord.event_code == "analytics.daily_report")).one()
    assert "每日数据报表 11-20（截至当前）" in titles
    assert event.status == "accepted" and event.data["email"] == "sa@example.com"
    assert event.data["subject"].startswith("每日数据报表 11-20")


def test_push_times_are_parsed():
    assert [t.strftime("%H:%M") for t in report_push.push_times("17:00, 09:00")] == ["09:00", "17:00"]
    with pytest.raises(ClockError):
        report_push.push_times("9am")
