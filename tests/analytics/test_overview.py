"""私域运营看板: 总用户数 de-duplicated by person as documented; figures equal the DailyMetric rows for
the company, a filter dimension and a scoped user; the pass's snapshot equals the live computation."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from analytics import overview, rfm, rollup_store, segments, snapshot
from config.clock import UTC
from crm.customers.models import Customer
from crm.scope import SYSTEM, Viewer
from devices.models import ChatGroup, ChatGroupMember, Friend, WechatAccount
from tests.analytics.lifecycle_data import NOW, build

T = datetime(2026, 11, 1, tzinfo=UTC)


def test_total_users_are_people_not_rows(db):
    with db.write() as s:
        acct, other = WechatAccount(wxid="ours1", owner_user_id=7), WechatAccount(wxid="ours2")
        a, b = Customer(name="甲", wechat_id="wa", owner_id=7), Customer(name="乙", owner_id=7)
        c, d = Customer(name="丙"), Customer(name="丁", wechat_id="wd", status="recycled")
        s.add_all([acct, other, a, b, c, d])
        s.flush()
        g = ChatGroup(account_id=acct.id, chatroom_id="r1", name="群")
        s.add(g)
        s.flush()
        s.add_all([Friend(account_id=acct.id, wxid="wa", added_at=T),  # = 甲 by wechat_id
                   Friend(account_id=acct.id, wxid="fb", customer_id=b.id, added_at=T),  # = 乙 by link
                   Friend(account_id=other.id, wxid="wa", added_at=T),  # 甲 again, on another account
                   Friend(account_id=acct.id, wxid="x1", added_at=T),  # a stranger
                   Friend(account_id=acct.id, wxid="gone", added_at=T, deleted_at=T + timedelta(days=1)),
                   Friend(account_id=acct.id, wxid="wd", added_at=T),  # 丁 is recycled: the wxid is a stranger
                   ChatGroupMember(group_id=g.id, wxid="fb", joined_at=T),  # 乙 through the linked friend
                   ChatGroupMember(group_id=g.id, wxid="wa", joined_at=T),  # 甲
                   ChatGroupMember(group_id=g.id, wxid="x1", joined_at=T),  # the same stranger
                   ChatGroupMember(group_id=g.id, wxid="left", joined_at=T, left_at=T + timedelta(days=1))])
    with db.read() as s:
        everyone = overview.totals(s, SYSTEM)
        own = overview.totals(s, Viewer(7, frozenset()))
    # 甲, 乙, 丙, x1, and wd: 丁's wxid counts as a stranger's because 丁 is in the recycle bin
    assert everyone["users"] == 5 and everyone["friends"] == 4 and everyone["customers"] == 3 and everyone["groups"] == 1
    # user 7: their customers 甲 乙, friends/members of their account: wa(甲) fb(乙) x1 wd
    assert own["users"] == 4 and own["customers"] == 2


def test_figures_equal_the_rollup_rows(db):
    world = build(db, n=30, seed=1, owner_ids=(5, 6))
    start, end = date(2026, 11, 1), date(2026, 11, 20)
    with db.write() as s:
        for i, day in enumerate((date(2026, 10, 31), start, date(2026, 11, 10), end)):
            rollup_store.put(s, day, "gmv_fen", {("company", 0): 1000 + i, ("user", 5): 100 + i,
                                                 ("channel", world.channels[0]): 10 + i})
            rollup_store.put(s, day, "buyers", {("company", 0): 3, ("user", 5): 1})
            rollup_store.put(s, day, "active_friends", {("company", 0): 2 + i})
    seg = segments.Segment(kind="buyers", start=start, end=end)
    with db.read() as s:
        company = overview.compute(s, SYSTEM, seg)
        channel = overview.compute(s, SYSTEM, segments.Segment(kind="buyers", start=start, end=end,
                                                             channel_id=world.channels[0]))
        mine = overview.compute(s, Viewer(5, frozenset({"customers.view"})), seg)
    assert company["gmv_fen"] == 1001 + 1002 + 1003 and company["buyers"] == 9
    assert company["active_last"] == 5 and company["active_avg"] == round((3 + 4 + 5) / 20, 1)
    assert company["trends"]["gmv_fen"][0] == 1001 and len(company["days"]) == 20
    assert channel["gmv_fen"] == 11 + 12 + 13 and channel["dim"] == "channel"
    assert mine["gmv_fen"] == 101 + 102 + 103 and mine["dim"] == "user"
    assert [r["value"] for r in company["contribution"]["user"]] == [306]
    assert mine["contribution"]["channel"] == []  # a 业务员 sees no company-wide split
    assert mine["customers"] == sum(1 for p in world.people if p.owner_id == 5 and p.status == "active")


def test_snapshot_equals_live_for_an_admin_and_is_skipped_when_filtered(db):
    world = build(db, n=80, seed=17)
    with db.write() as s:
        run = snapshot.rebuild(s, NOW)
    today = NOW.date()
    admin = Viewer(1, frozenset({"customers.view_all"}))
    every = segments.Segment(kind="funnel", step="contact")
    with db.read() as s:
        assert snapshot.funnel_steps(s, admin, every) == run.snapshot["funnel"]
        live = __import__("analytics.funnel", fromlist=["compute"]).compute(s, admin, every)
        assert run.snapshot["funnel"]["steps"] == live["steps"]
        assert run.snapshot["rfm"] == rfm.summary(s, segments.in_scope_scores(admin))
        snap_totals = snapshot.totals(s, admin)
        assert {k: v for k, v in snap_totals.items() if k != "as_of"} == overview.totals(s, admin)
        filtered = segments.Segment(kind="funnel", step="contact", channel_id=world.channels[0])
        assert snapshot.funnel_steps(s, admin, filtered)["steps"][0]["count"] < live["steps"][0]["count"]
        table = snapshot.retention(s, admin, every, today, 12)
        assert table == run.snapshot["cohorts"] and len(table["rows"]) == 12


def test_the_nightly_job_is_registered_and_stores_a_snapshot(services):
    from engine.crm_wiring import all_cron_jobs

    world = build(services.db, n=20, seed=3)
    job = next(j for j in all_cron_jobs(services.settings) if j.key == "rfm_scores")
    assert job.cron == {"hour": 4, "minute": 40}
    buyers = sum(1 for p in world.people if p.purchases)
    assert snapshot.nightly(services) == f"20 位客户，{buyers} 位有购买"
    with services.db.read() as s:
        assert set(rfm.last_run(s).snapshot) == {"day", "totals", "rfm", "funnel", "cohorts"}
