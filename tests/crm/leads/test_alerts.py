"""获客告警: each alert is raised once per episode (not every 5 minutes while it lasts), closes when
its figure drops below the threshold, and a new crossing is a new episode with a new event; the
events are accepted by their registered definitions so strategies can act on them."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from crm.leads.alerts import check_alerts
from crm.leads.models import LeadDeadLetter, LeadScene, PullCursor, WebhookRejection
from events.episodes import AlertState
from events.models import EventRecord


@pytest.fixture
def scene(db):
    with db.write() as s:
        row = LeadScene(name="抖音订单同步", key="dy_orders", scene_type="ORDER_SYNC")
        s.add(row)
        s.flush()
        return row.id


def _events(db, code):
    with db.read() as s:
        return s.exec(select(EventRecord).where(EventRecord.event_code == code).order_by(EventRecord.id)).all()


def _dead_letters(db, scene, n):
    with db.write() as s:
        for _ in range(n):
            s.add(LeadDeadLetter(scene_id=scene, source="pull", reason="平台订单没有商品也没有金额"))


def test_dead_letters_piling_raise_once_per_episode(services, db, clock, scene):
    services.settings.lead_alert_deadletters = 5
    _dead_letters(db, scene, 4)
    check_alerts(services)
    assert _events(db, "lead.deadletter_piling") == []
    _dead_letters(db, scene, 1)
    for _ in range(3):  # the job runs every 5 minutes while the pile stays
        check_alerts(services)
        clock.advance(minutes=5)
    [first] = _events(db, "lead.deadletter_piling")
    assert first.status == "accepted" and first.data["open_count"] == 5 and first.data["episode"] == 1
    assert first.data["by_scene"] == [{"scene_id": scene, "scene_name": "抖音订单同步", "count": 5}]
    with db.write() as s:  # the operator discards them: the episode closes
        for row in s.exec(select(LeadDeadLetter)).all():
            row.status = "discarded"
            s.add(row)
    check_alerts(services)
    with db.read() as s:
        state = s.exec(select(AlertState).where(AlertState.key == "lead.deadletter_piling")).one()
        assert state.is_open is False and state.closed_at is not None
    _dead_letters(db, scene, 6)
    check_alerts(services)
    check_alerts(services)
    assert [e.data["episode"] for e in _events(db, "lead.deadletter_piling")] == [1, 2]


def test_refused_callbacks_in_the_last_hour(services, db, clock, scene):
    services.settings.lead_alert_refused_per_hour = 10
    with db.write() as s:
        s.add(WebhookRejection(adapter="douyin", scene_id=scene, reason="signature", hits=7, created_at=clock.now()))
        s.add(WebhookRejection(adapter="douyin", scene_id=scene, reason="replay", hits=3, created_at=clock.now()))
        s.add(WebhookRejection(adapter="douyin", scene_id=scene, reason="signature", hits=50,
                               created_at=clock.now() - timedelta(hours=2)))  # too old to count
    check_alerts(services)
    check_alerts(services)
    [event] = _events(db, "lead.callbacks_refused")
    assert event.data["count"] == 10
    assert event.data["by_reason"][0] == {"reason": "signature", "label": "签名错误", "count": 7}
    clock.advance(hours=1, minutes=1)  # an hour without refusals closes it
    check_alerts(services)
    with db.read() as s:
        assert s.exec(select(AlertState).where(AlertState.key == "lead.callbacks_refused")).one().is_open is False


def test_pull_failures_per_scene(services, db, clock, scene):
    services.settings.lead_alert_pull_failures = 3
    with db.write() as s:
        s.add(PullCursor(scene_id=scene, failures=2, last_error="HTTP 500"))
    check_alerts(services)
    with db.write() as s:
        cursor = s.get(PullCursor, scene)
        cursor.failures, cursor.last_error = 3, "HTTP 503 服务不可用"
        s.add(cursor)
    check_alerts(services)
    check_alerts(services)
    [event] = _events(db, "lead.pull_failing")
    assert event.data["scene_id"] == scene and event.data["failures"] == 3
    assert event.data["last_error"] == "HTTP 503 服务不可用"
