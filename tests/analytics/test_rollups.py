"""Keeping metric_daily current: the live job counts today (and yesterday just after midnight), the
nightly job puts a late event on the day it happened, a recompute replaces values that went away,
and the jobs are registered with the engine's cron."""
from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

from analytics import rollup_store as store
from analytics import rollups
from devices.models import DeviceCommand, Friend, WechatAccount
from engine.crm_wiring import all_cron_jobs
from events.models import EventRecord
from tests.analytics.month_seed import bj



def _account(db, owner=None) -> int:
    with db.write() as s:
        acc = WechatAccount(wxid="acc_r", owner_user_id=owner)
        s.add(acc)
        s.flush()
        return acc.id


def _friend(db, account, wxid, added, deleted=None):
    with db.write() as s:
        s.add(Friend(account_id=account, wxid=wxid, added_at=added, deleted_at=deleted))


def _company(db, metric, day):
    with db.read() as s:
        return store.series(s, metric, "company", [0], day, day)[day]


def test_a_late_event_lands_on_its_day_after_the_nightly_recompute(services, clock):
    db = services.db
    clock.set(bj(date(2026, 11, 20), 10, 0))
    account = _account(db)
    jobs = {j.key: j for j in all_cron_jobs(services.settings)}
    runtime = SimpleNamespace(services=services)
    _friend(db, account, "wx_today", bj(date(2026, 11, 20), 9, 0))
    jobs["rollup_live"].run(runtime)
    assert _company(db, "new_friends", date(2026, 11, 20)) == 1
    # Reported two days late: it happened on the 18th.
    _friend(db, account, "wx_late", bj(date(2026, 11, 18), 21, 30))
    jobs["rollup_live"].run(runtime)
    assert _company(db, "new_friends", date(2026, 11, 18)) == 0  # the live job only touches today
    clock.set(bj(date(2026, 11, 21), 3, 30))
    summary = jobs["rollup_nightly"].run(runtime)
    assert "重算最近 3 天" in summary
    assert _company(db, "new_friends", date(2026, 11, 18)) == 1
    assert _company(db, "new_friends", date(2026, 11, 20)) == 1


def test_the_live_job_finishes_yesterday_just_after_midnight(services, clock):
    db = services.db
    account = _account(db)
    _friend(db, account, "wx_a", bj(date(2026, 11, 20), 23, 59, 59))
    _friend(db, account, "wx_b", bj(date(2026, 11, 21), 0, 0, 0))
    assert rollups.live_days(bj(date(2026, 11, 21), 0, 5)) == (date(2026, 11, 20), date(2026, 11, 21))
    assert rollups.live_days(bj(date(2026, 11, 21), 0, 30)) == (date(2026, 11, 21), date(2026, 11, 21))
    rollups.run_live(db, bj(date(2026, 11, 21), 0, 5))
    assert _company(db, "new_friends", date(2026, 11, 20)) == 1
    assert _company(db, "new_friends", date(2026, 11, 21)) == 1


def test_a_recompute_replaces_values_that_went_away(services):
    """A new friend who replied is 有效粉 until they delete us within the 7 days."""
    db = services.db
    account = _account(db, owner=None)
    added = bj(date(2026, 11, 10), 12, 0)
    _friend(db, account, "wx_x", added)
    with db.write() as s:
        s.add(EventRecord(source="device", event_code="device.message", occurred_at=added + timedelta(hours=5),
                          data={"account_id": account, "from_wxid": "wx_x", "chatroom_id": ""}))
        s.add(DeviceCommand(account_id=account, kind="send_text", payload={"to": "wx_x", "text": "hi"},
                            status="succeeded", finished_at=added + timedelta(days=8)))
    day = date(2026, 11, 10)
    with db.write() as s:
        rollups.recompute(s, day, day + timedelta(days=8))
    assert _company(db, "effective_friends", day) == 1
    assert _company(db, "consulted", day) == 1
    assert _company(db, "reached", day + timedelta(days=8)) == 1
    with db.write() as s:
        friend = s.exec(Friend.__table__.select()).first()
        s.execute(Friend.__table__.update().where(Friend.id == friend.id)
                  .values(deleted_at=added + timedelta(days=2)))
    with db.write() as s:
        rollups.recompute(s, day, day)
    assert _company(db, "effective_friends", day) == 0
    assert _company(db, "new_friends", day) == 1


def test_cron_jobs_follow_the_settings(settings):
    jobs = {j.key: j for j in all_cron_jobs(settings)}
    assert jobs["rollup_live"].cron == {"minute": "*"}
    assert jobs["rollup_nightly"].cron == {"hour": 3, "minute": 30}
    assert jobs["report_push_0900"].cron == {"hour": 9, "minute": 0}
    assert jobs["report_push_1700"].cron == {"hour": 17, "minute": 0}
    custom = settings.model_copy(update={"report_push_times": "08:30", "rollup_nightly_at": "02:15",
                                         "rollup_live_minutes": 5})
    keys = {j.key: j.cron for j in all_cron_jobs(custom)}
    assert keys["rollup_live"] == {"minute": "*/5"}
    assert keys["report_push_0830"] == {"hour": 8, "minute": 30} and "report_push_0900" not in keys
    assert keys["rollup_nightly"] == {"hour": 2, "minute": 15}
