"""获客统计 on a seeded dataset: exact counts per scene, channel and Beijing calendar day (a lead at
23:59:59 and one at 00:00:00 land on different days), conversion and duplicate ratios, the
first-assignment latency percentiles, the funnel, dead letters and refused webhooks."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from config.clock import UTC
from crm.customers.service import create_customer
from crm.leads import stats
from crm.leads.errors import LeadsError
from crm.leads.models import Lead, LeadAssignment, LeadChannel, LeadDeadLetter, LeadScene, WebhookRejection

TZ = "Asia/Shanghai"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def world(db):
    """Two scenes, two channels (plus leads with no channel), leads around Beijing midnights."""
    with db.write() as s:
        form = LeadScene(name="官网表单", key="form", scene_type="WEB_FORM")
        call = LeadScene(name="400电话", key="call", scene_type="PHONE_CALL")
        baidu = LeadChannel(name="百度推广", channel_type="PAID_SEARCH", code="bd")
        douyin = LeadChannel(name="抖音", channel_type="PAID_SOCIAL", code="dy")
        s.add_all([form, call, baidu, douyin])
        s.flush()
        known = create_customer(s, {"name": "老客户", "mobile": "13900000001"})
        fresh = create_customer(s, {"name": "新客户", "mobile": "13900000002"})

        def lead(scene, at, channel=None, status="NEW", **extra):
            row = Lead(scene_id=scene.id, channel_id=channel.id if channel else None, status=status,
                       created_at=at, **extra)
            s.add(row)
            s.flush()
            return row

        leads = [
            # 2026-11-18 Beijing (16:00 UTC on the 17th is 00:00 on the 18th)
            lead(form, utc(2026, 11, 17, 16, 0, 0), baidu, "CONVERTED", assigned_at=utc(2026, 11, 17, 16, 1)),
            lead(form, utc(2026, 11, 18, 15, 59, 59), baidu, "ASSIGNED", assigned_at=utc(2026, 11, 18, 16)),
            lead(call, utc(2026, 11, 18, 3, 0), douyin, "PROCESSING", assigned_at=utc(2026, 11, 18, 3, 5),
                 customer_id=known.id, customer_is_new=False),
            # 2026-11-19 Beijing
            lead(form, utc(2026, 11, 18, 16, 0, 0), baidu, "DISQUALIFIED"),
            lead(form, utc(2026, 11, 19, 1, 0), douyin, "CONVERTED", assigned_at=utc(2026, 11, 19, 1, 1),
                 customer_id=fresh.id, customer_is_new=True),
            lead(call, utc(2026, 11, 19, 2, 0), None, "CLOSED", assigned_at=utc(2026, 11, 19, 2, 1)),
            # 2026-11-20 Beijing, up to its last second
            lead(form, utc(2026, 11, 20, 15, 59, 59), baidu, "NEW"),
            lead(call, utc(2026, 11, 20, 4, 0), douyin, "ASSIGNED", assigned_at=utc(2026, 11, 20, 4, 2),
                 customer_id=known.id, customer_is_new=False),
        ]
        leads.append(lead(form, utc(2026, 11, 20, 5, 0), baidu, "NEW", duplicate_of_id=leads[0].id))
        leads.append(lead(call, utc(2026, 11, 20, 6, 0), douyin, "ASSIGNED", duplicate_of_id=leads[2].id,
                          assigned_at=utc(2026, 11, 20, 6, 1), customer_id=known.id, customer_is_new=False))
        # Outside the period: the 17th's last Beijing second and the 21st's first one.
        outside = [lead(form, utc(2026, 11, 17, 15, 59, 59), baidu, "CONVERTED"),
                   lead(form, utc(2026, 11, 20, 16, 0, 0), baidu, "CONVERTED")]
        # First assignments of the ten period leads: 10 … 100 s; a later reassignment and the
        # assignments of leads outside the period must not count.
        for i, row in enumerate(leads):
            s.add(LeadAssignment(lead_id=row.id, scene_id=row.scene_id, to_user_id=None, method="round_robin",
                                 latency_seconds=10.0 * (i + 1), created_at=row.created_at + timedelta(seconds=10)))
        s.flush()
        s.add(LeadAssignment(lead_id=leads[0].id, scene_id=form.id, method="manual", latency_seconds=5000))
        for row in outside:
            s.add(LeadAssignment(lead_id=row.id, scene_id=form.id, method="manual", latency_seconds=9999))
        s.add_all([LeadDeadLetter(scene_id=form.id, reason="手机号格式不正确", created_at=utc(2026, 11, 19, 8)),
                   LeadDeadLetter(scene_id=form.id, reason="x", status="redriven", created_at=utc(2026, 11, 20, 8)),
                   LeadDeadLetter(scene_id=form.id, reason="太早", created_at=utc(2026, 11, 17, 8)),
                   WebhookRejection(adapter="douyin", reason="signature", created_at=utc(2026, 11, 19, 9)),
                   WebhookRejection(adapter="douyin", reason="signature", created_at=utc(2026, 11, 19, 10)),
                   WebhookRejection(adapter="douyin", reason="replay", created_at=utc(2026, 11, 20, 15, 59, 59)),
                   WebhookRejection(adapter="douyin", reason="replay", created_at=utc(2026, 11, 20, 16))])
    return {"form": form.id, "call": call.id, "baidu": baidu.id, "douyin": douyin.id}


def test_days_split_at_beijing_midnight_and_totals_are_exact(db, world):
    period = stats.make_period(date(2026, 11, 18), date(2026, 11, 20), TZ)
    with db.read() as s:
        out = stats.lead_stats(s, period)
    assert out["days"] == [date(2026, 11, 18), date(2026, 11, 19), date(2026, 11, 20)]
    assert out["total"] == 10
    assert out["daily"] == [3, 3, 4]
    scenes = {r["name"]: r for r in out["scenes"]}
    assert scenes["官网表单"]["daily"] == [2, 2, 2]
    assert scenes["400电话"]["daily"] == [1, 1, 2]
    assert [r["name"] for r in out["scenes"]] == ["官网表单", "400电话"]  # biggest first
    channels = {r["name"]: r for r in out["channels"]}
    assert channels["百度推广"]["daily"] == [2, 1, 2]
    assert channels["抖音"]["daily"] == [1, 1, 2]
    assert channels[stats.NO_CHANNEL]["daily"] == [0, 1, 0]
    # 转化率: CONVERTED ÷ all.
    assert (out["converted"], out["conversion_rate"]) == (2, 0.2)
    assert (scenes["官网表单"]["converted"], scenes["官网表单"]["conversion_rate"]) == (2, round(2 / 6, 4))
    assert scenes["400电话"]["conversion_rate"] == 0.0
    assert channels["抖音"]["conversion_rate"] == 0.25
    # 重复线索 (duplicate_of_id) and 老客户线索 (matched an existing customer), separately.
    assert (out["duplicates"], out["duplicate_ratio"]) == (2, 0.2)
    assert (out["existing"], out["existing_ratio"]) == (3, 0.3)
    assert scenes["400电话"]["existing"] == 3 and scenes["官网表单"]["existing"] == 0
    assert out["dead_letters"] == {"total": 2, "open": 1, "by_status": {"open": 1, "redriven": 1}}
    assert out["rejections"] == {"total": 3, "by_reason": {"signature": 2, "replay": 1}}


def test_one_day_period_keeps_only_that_beijing_day(db, world):
    with db.read() as s:
        out = stats.lead_stats(s, stats.make_period(date(2026, 11, 19), date(2026, 11, 19), TZ))
    assert out["total"] == 3 and out["daily"] == [3]
    assert out["period"].start == utc(2026, 11, 18, 16) and out["period"].end == utc(2026, 11, 19, 16)


def test_first_assignment_latency_percentiles(db, world):
    with db.read() as s:
        out = stats.lead_stats(s, stats.make_period(date(2026, 11, 18), date(2026, 11, 20), TZ))
    # Ten first assignments of 10, 20 … 100 s; nearest rank: p50 = 5th = 50, p90 = 9th = 90.
    assert out["latency"] == {"count": 10, "avg": 55.0, "p50": 50.0, "p90": 90.0}
    scenes = {r["name"]: r for r in out["scenes"]}
    # 官网表单 leads are the 1st, 2nd, 4th, 5th, 7th and 9th: (10+20+40+50+70+90)/6.
    assert scenes["官网表单"]["avg_latency"] == 46.7
    assert scenes["400电话"]["avg_latency"] == 67.5  # (30+60+80+100)/4


def test_latency_of_an_odd_count(db, world):
    with db.read() as s:
        out = stats.latency(s, stats.make_period(date(2026, 11, 18), date(2026, 11, 18), TZ))
    assert out == {"count": 3, "avg": 20.0, "p50": 20.0, "p90": 30.0}


def test_funnel_and_status_distribution(db, world):
    with db.read() as s:
        out = stats.lead_stats(s, stats.make_period(date(2026, 11, 18), date(2026, 11, 20), TZ))
    assert [(f["label"], f["count"]) for f in out["funnel"]] == [("收到线索", 10), ("已分配", 7), ("跟进中", 3),
                                                                  ("已转化", 2)]
    by = {r["status"]: r["count"] for r in out["statuses"]}
    assert by == {"NEW": 2, "QUALIFIED": 0, "DISQUALIFIED": 1, "ASSIGNED": 3, "PROCESSING": 1, "CONVERTED": 2,
                  "CLOSED": 1}


def test_an_empty_period_has_no_ratios(db, world):
    with db.read() as s:
        out = stats.lead_stats(s, stats.make_period(date(2025, 1, 1), date(2025, 1, 2), TZ))
    assert out["total"] == 0 and out["conversion_rate"] is None and out["duplicate_ratio"] is None
    assert out["latency"] == {"count": 0, "avg": None, "p50": None, "p90": None}
    assert out["scenes"] == [] and out["daily"] == [0, 0]


def test_daylight_saving_zone_buckets_by_the_local_offset_of_each_instant(db, world):
    """New York leaves DST on 2026-11-01 06:00 UTC: a lead at 04:30 UTC that morning is 00:30
    EDT on the 1st, one at 04:30 UTC the next day is 23:30 EST on the 1st."""
    with db.write() as s:
        scene = LeadScene(name="海外表单", key="intl", scene_type="WEB_FORM")
        s.add(scene)
        s.flush()
        s.add_all([Lead(scene_id=scene.id, created_at=utc(2026, 11, 1, 4, 30)),
                   Lead(scene_id=scene.id, created_at=utc(2026, 11, 2, 4, 30)),
                   Lead(scene_id=scene.id, created_at=utc(2026, 11, 2, 5, 30))])
    with db.read() as s:
        out = stats.lead_stats(s, stats.make_period(date(2026, 10, 31), date(2026, 11, 2), "America/New_York"))
    assert out["daily"] == [0, 2, 1]


def test_bad_periods_are_refused_in_chinese():
    with pytest.raises(LeadsError, match="结束日期不能早于开始日期"):
        stats.make_period(date(2026, 11, 2), date(2026, 11, 1), TZ)
    with pytest.raises(LeadsError, match="最长"):
        stats.make_period(date(2024, 1, 1), date(2026, 1, 1), TZ)
    assert stats.last_days(date(2026, 11, 20), 14, TZ).first == date(2026, 11, 7)
