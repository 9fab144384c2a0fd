"""群活 rollup: per group and Beijing day — messages, speakers, joins, quits, members, lurker rate,
top speakers — incremental from a watermark and equal to a recount of the day from the messages."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlmodel import select

from community.activity.days import day_of
from community.activity.figures import top_speakers, trend
from community.activity.models import GroupActivityDay
from community.activity.rollup import recompute_day, roll_up
from community.groups.listing import GroupFilter, list_groups
from crm.scope import SYSTEM
from devices.models import ChatGroupMember
from tests.community.support import make_account, make_group, say

TZ = "Asia/Shanghai"
# 2026-11-20 15:30 UTC is 23:30 Beijing; 16:30 UTC is 00:30 the next Beijing day.
LATE = datetime(2026, 11, 20, 15, 30, tzinfo=timezone.utc)


def _days(db, group_id):
    with db.read() as s:
        return {r.day.isoformat(): (r.messages, r.speakers, r.joins, r.quits, r.members)
                for r in s.exec(select(GroupActivityDay).where(GroupActivityDay.group_id == group_id))}


def test_messages_count_on_their_beijing_day_and_incrementally(db):
    with db.write() as s:
        acc = make_account(s)
        gid = make_group(s, acc, "r1@chatroom", ["a", "b", "c", "d"], LATE - timedelta(days=3))
        say(s, acc, "r1@chatroom", gid, "a", LATE)
        say(s, acc, "r1@chatroom", gid, "a", LATE + timedelta(minutes=1))
        say(s, acc, "r1@chatroom", gid, "b", LATE + timedelta(hours=1))  # next Beijing day
    now = LATE + timedelta(hours=2)
    with db.write() as s:
        assert roll_up(s, now, TZ)["messages"] == 3
    assert _days(db, gid)["2026-11-20"][:2] == (2, 1)
    assert _days(db, gid)["2026-11-21"][:2] == (1, 1)
    with db.write() as s:  # nothing new: nothing counted twice
        assert roll_up(s, now, TZ)["messages"] == 0
        say(s, acc, "r1@chatroom", gid, "c", now)
    with db.write() as s:  # too fresh (settle window): left for the next run
        assert roll_up(s, now + timedelta(seconds=1), TZ)["messages"] == 0
    with db.write() as s:
        assert roll_up(s, now + timedelta(seconds=30), TZ)["messages"] == 1
    assert _days(db, gid)["2026-11-21"][:2] == (2, 2)
    with db.write() as s:  # a recount of the day from the messages agrees with the increments
        recompute_day(s, day_of(now, TZ), TZ, now + timedelta(seconds=30))
    assert _days(db, gid)["2026-11-21"][:2] == (2, 2)


def test_joins_quits_and_sync_seen_members(db):
    start = LATE - timedelta(days=2)
    with db.write() as s:
        acc = make_account(s)
        gid = make_group(s, acc, "r2@chatroom", ["old1", "old2"], start, via_sync=True)
        s.add(ChatGroupMember(group_id=gid, wxid="new1", joined_at=LATE - timedelta(hours=1)))
        s.add(ChatGroupMember(group_id=gid, wxid="gone", joined_at=start, left_at=LATE - timedelta(minutes=5),
                              joined_via_sync=True))
    with db.write() as s:
        roll_up(s, LATE, TZ)
    today = _days(db, gid)["2026-11-20"]
    assert today[2:4] == (1, 1)  # the two old members a sync saw are not joins; one quit
    with db.write() as s:
        recompute_day(s, day_of(start, TZ), TZ, LATE)
    assert _days(db, gid)["2026-11-18"][2:] == (0, 0, 3)  # sync-seen: no joins on their day either; 3 members


def test_lurker_rate_top_speakers_trend_and_owner_by_name(db):
    with db.write() as s:
        acc = make_account(s, nickname="运营小美")
        gid = make_group(s, acc, "r3@chatroom", [f"m{i}" for i in range(10)], LATE - timedelta(days=10),
                         owner_wxid="m0", name="宝妈交流群")
        for i, sender in enumerate(["m1", "m1", "m1", "m2", "m2", "stranger"]):
            say(s, acc, "r3@chatroom", gid, sender, LATE - timedelta(days=i % 3, minutes=i))
    now = LATE + timedelta(minutes=5)
    with db.write() as s:
        roll_up(s, now, TZ)
    with db.read() as s:
        rows, total = list_groups(s, SYSTEM, GroupFilter(), day_of(now, TZ))
        top = top_speakers(s, gid, day_of(now, TZ))
        days = trend(s, gid, day_of(now, TZ), 30)
    row = rows[0]
    assert total == 1 and row["name"] == "宝妈交流群" and row["group_owner"] == "昵称m0"
    assert row["account"] == "运营小美" and "wx" not in row["group_owner"]
    assert row["week_messages"] == 6 and row["week_speakers"] == 3
    assert row["lurker_rate"] == 80.0  # 2 of 10 members spoke (the stranger is not a member)
    assert top[0] == {"name": "昵称m1", "messages": 3} and top[1]["messages"] == 2
    assert len(days) == 30 and sum(d["messages"] for d in days) == 6


def test_list_filters_by_activity_range_tag_and_account(db):
    from community.groups.models import GroupTag

    with db.write() as s:
        a1, a2 = make_account(s, "wx1", "一号"), make_account(s, "wx2", "二号")
        busy = make_group(s, a1, "b@chatroom", ["x", "y"], LATE - timedelta(days=1))
        quiet = make_group(s, a2, "q@chatroom", ["x"], LATE - timedelta(days=1))
        for i in range(5):
            say(s, a1, "b@chatroom", busy, "x", LATE - timedelta(minutes=i))
        s.add(GroupTag(group_id=quiet, name="VIP"))
    with db.write() as s:
        roll_up(s, LATE + timedelta(minutes=1), TZ)
    today = day_of(LATE, TZ)
    with db.read() as s:
        ids = lambda f: [r["id"] for r in list_groups(s, SYSTEM, f, today)[0]]  # noqa: E731
        assert ids(GroupFilter(min_messages=1)) == [busy]
        assert ids(GroupFilter(max_messages=0)) == [quiet]
        assert ids(GroupFilter(tag="VIP")) == [quiet]
        assert ids(GroupFilter(account_id=a1)) == [busy]
        assert ids(GroupFilter()) == [busy, quiet]  # busiest first
