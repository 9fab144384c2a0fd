"""工作台 panels compute their numbers for one viewer on Beijing-day boundaries, scoped to what
that viewer may see; a failing panel turns into 「该模块暂时无法加载」 and a log line."""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from analytics import panels
from analytics.panels.base import Door, PanelContext
from crm.people.permissions import ALL_PERMISSIONS, BUILTIN_ROLES
from crm.scope import Viewer
from crm.tags.models import CustomerTag
from tests.analytics import panel_world as world

ROLE = {r.code: r.permissions for r in BUILTIN_ROLES}


@pytest.fixture
def ids(db):
    return world.seed(db)


def ctx_for(user_id: int, perms, providers=None) -> PanelContext:
    return PanelContext(viewer=Viewer(user_id, frozenset(perms)), user_id=user_id, today=world.TODAY, now=world.NOW,
                        tz="Asia/Shanghai", providers=providers or {})


def data(db, key: str, ctx: PanelContext) -> dict:
    with db.read() as s:
        result = panels.run(s, panels.get(key), ctx)
    assert result.error is None
    return result.data


def test_registry_has_every_panel_with_title_permission_and_template():
    assert list(panels.PANELS) == ["my_info", "today_tasks", "customer_moves", "my_targets", "followup_ranking",
                                   "tag_top", "device_health", "engine_runs"]
    for p in panels.PANELS.values():
        assert p.title and p.permission in ALL_PERMISSIONS and p.template == f"home/panels/{p.key}.html"
    sales = {p.key for p in panels.available(ROLE["sales"])}
    assert sales == {"my_info", "today_tasks", "customer_moves", "my_targets", "followup_ranking", "tag_top"}
    assert {p.key for p in panels.available(ALL_PERMISSIONS)} == set(panels.PANELS)
    with pytest.raises(ValueError):
        panels.register(type(panels.get("tag_top")))


def test_my_info(db, ids):
    d = data(db, "my_info", ctx_for(ids["a"], ROLE["sales"]))
    assert d["name"] == "业务员甲" and d["roles"] == ["业务员"] and d["departments"] == ["销售一部"]
    assert d["customers"] == 2  # the recycled one is not followed any more
    assert d["customers_door"] == Door("customers.index", {"view": "mine"})


def test_today_tasks_counts_open_tasks_due_today_and_overdue(db, ids):
    d = data(db, "today_tasks", ctx_for(ids["a"], ROLE["sales"]))
    assert (d["today_total"], d["overdue_total"]) == (1, 1)
    assert [t.title for t in d["today"]] == ["回访甲今日客户"] and [t.title for t in d["overdue"]] == ["昨天该打的电话"]
    assert data(db, "today_tasks", ctx_for(ids["d"], ROLE["sales"]))["today_total"] == 0


def test_customer_moves_on_the_beijing_day_and_scoped(db, ids):
    mine = data(db, "customer_moves", ctx_for(ids["a"], ROLE["sales"]))
    # 00:00:00 Beijing is today, 23:59:59 the day before; B's customer is not A's to see.
    assert mine["new_customers"] == 1 and mine["leads"] == 1 and mine["new_friends"] == 3
    # wx1 wrote again after the answer; wx2 was answered; the group and yesterday's messages don't count;
    # the chats on B's account are B's to answer.
    assert mine["waiting"] == 1 and mine["waiting_capped"] is False
    everyone = data(db, "customer_moves", ctx_for(ids["m"], ALL_PERMISSIONS))
    assert everyone["new_customers"] == 2 and everyone["new_friends"] == 9 and everyone["waiting"] == 3
    assert '"between"' in mine["customers_door"].args["adv"] and "2026-11-20 23:59:59" in mine["customers_door"].args["adv"]


def test_followup_ranking_names_only_what_the_viewer_may_see(db, ids):
    sales = data(db, "followup_ranking", ctx_for(ids["a"], ROLE["sales"]))
    assert [(r["name"], r["count"]) for r in sales["rows"]] == [("业务员甲", 4)]
    assert (sales["place"], sales["ranked"], sales["scope"]) == (2, 2, "本部门")  # behind 乙 in 销售一部
    manager = data(db, "followup_ranking", ctx_for(ids["m"], ROLE["manager"]))
    assert [(r["name"], r["count"]) for r in manager["rows"]] == [("业务员乙", 7), ("业务员甲", 4)]
    boss = data(db, "followup_ranking", ctx_for(ids["m"], ALL_PERMISSIONS))
    assert [r["count"] for r in boss["rows"]] == [10, 7, 4] and boss["scope"] == "全公司" and boss["day"] == world.YESTERDAY


def test_tag_top_counts_visible_active_customers(db, ids):
    mine = data(db, "tag_top", ctx_for(ids["a"], ROLE["sales"]))
    assert [(r["name"], r["count"]) for r in mine["rows"]] == [("高意向", 2), ("VIP", 1)]
    assert mine["rows"][0]["door"].args == {"adv": '{"include_tags": [%d]}' % ids["hot"]}
    b = data(db, "tag_top", ctx_for(ids["b"], ROLE["sales"]))
    assert [(r["name"], r["count"]) for r in b["rows"]] == [("高意向", 1), ("乙的私人标签", 1)]  # ties by tag id
    admin = data(db, "tag_top", ctx_for(ids["m"], ALL_PERMISSIONS))
    assert [(r["name"], r["count"]) for r in admin["rows"]] == [("高意向", 3), ("VIP", 1)]  # 乙's personal tag hidden
    option = panels.get("tag_top").chart(mine, lambda door: "/customers?x=1")
    assert option["yAxis"]["data"] == ["VIP", "高意向"]  # largest on top
    assert option["series"][0]["data"] == [{"value": 1, "link": "/customers?x=1"}, {"value": 2, "link": "/customers?x=1"}]


def test_tag_top_keeps_a_snapshot_per_viewer_for_ten_minutes(db, ids):
    def writer(fn):
        with db.write() as s:
            fn(s)

    sales = {"write": writer}
    assert [r["count"] for r in data(db, "tag_top", ctx_for(ids["a"], ROLE["sales"], sales))["rows"]] == [2, 1]
    with db.write() as s:
        s.add(CustomerTag(customer_id=ids["a_old"], tag_id=ids["vip"]))
    cached = data(db, "tag_top", ctx_for(ids["a"], ROLE["sales"], sales))
    assert [r["count"] for r in cached["rows"]] == [2, 1] and cached["taken_at"] == world.NOW  # the snapshot
    assert [r["count"] for r in data(db, "tag_top", ctx_for(ids["a"], ROLE["sales"]))["rows"]] == [2, 1]
    later = ctx_for(ids["a"], ROLE["sales"], sales)
    later = PanelContext(later.viewer, later.user_id, later.today, world.NOW + timedelta(minutes=11), later.tz,
                         later.providers)
    fresh = data(db, "tag_top", later)
    assert [(r["name"], r["count"]) for r in fresh["rows"]] == [("高意向", 2), ("VIP", 2)]  # ties by tag id
    # the company snapshot is separate from A's and counts everyone's customers
    assert [r["count"] for r in data(db, "tag_top", ctx_for(ids["m"], ALL_PERMISSIONS, sales))["rows"]] == [3, 2]


def test_my_targets_against_the_rollups_per_period(db, ids):
    rows = data(db, "my_targets", ctx_for(ids["a"], ROLE["sales"]))["rows"]
    got = [(r["metric"], r["period"], r["target"], r["actual"]) for r in rows]
    # week = Monday 11-16 … today (50 on Sunday 11-15 is last week); month from 11-01 (10-31 excluded).
    assert got == [("new_friends", "day", 5, 3), ("followups", "week", 20, 9), ("gmv_fen", "month", 1000000, 250000)]
    assert [r["rate"] for r in rows] == [0.6, 0.45, 0.25] and rows[2]["money"] is True
    assert rows[1]["start"].isoformat() == "2026-11-16" and rows[1]["end"].isoformat() == "2026-11-22"


def test_device_health_alerts(db, ids):
    d = data(db, "device_health", ctx_for(ids["m"], ALL_PERMISSIONS))
    assert d["offline_total"] == 1 and [x["name"] for x in d["devices"]] == ["备用二号机"]
    assert d["accounts_total"] == 2
    reasons = {a["name"]: a["reasons"] for a in d["accounts"]}
    assert reasons == {"甲的微信": ["健康分 40（警告）"], "乙的微信": ["已暂停：操作过于频繁"]}


def test_engine_runs_reads_the_injected_counters(db, ids):
    counts = {"received": 5, "rejected": 1, "matched": 2, "done": 3, "failed": 0, "dead": 0, "dead_total": 4,
              "accepted": 4, "pending_delayed": 1}
    d = data(db, "engine_runs", ctx_for(ids["m"], ALL_PERMISSIONS, {"engine_today": lambda s: counts}))
    assert d["counts"] == counts and d["door"] == Door("monitor.index", {})


def test_a_failing_panel_is_unavailable_and_logged(db, ids, caplog):
    ctx = ctx_for(ids["m"], ALL_PERMISSIONS)  # no engine provider: the panel raises KeyError
    with caplog.at_level(logging.ERROR, logger="analytics.panels"), db.read() as s:
        result = panels.run(s, panels.get("engine_runs"), ctx)
    assert result.data is None and result.error == panels.UNAVAILABLE == "该模块暂时无法加载"
    assert "engine_runs" in caplog.text
