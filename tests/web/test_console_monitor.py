"""运行监控: the engine telemetry that used to be everyone's home — today's counts in the configured
zone, latest events, unsigned requests — for holders of monitor.view only."""
from __future__ import annotations

import re
from datetime import timedelta

from crm.people import service as people
from events.models import EventRecord


def test_monitor_counts_today_in_the_configured_zone(client, login, admin_user, app_db, app):
    now = app.extensions["ckb"].services.now()  # 2026-11-20 10:00 Beijing
    midnight = now - timedelta(hours=10)
    with app_db.write() as s:
        s.add_all([EventRecord(event_code="order_paid", dedupe_key="api:1:a", received_at=midnight, status="accepted"),
                   EventRecord(event_code="order_paid", dedupe_key="api:1:b", received_at=now, status="rejected",
                               reject_reason="unknown_event"),
                   EventRecord(event_code="order_paid", dedupe_key="api:1:c", received_at=midnight - timedelta(seconds=1),
                               status="accepted")])  # 23:59:59 yesterday, Beijing
    login(client)
    html = client.get("/monitor").get_data(as_text=True)
    assert "<title>运行监控" in html and "今日（2026-11-20）" in html
    assert re.search(r'今日接收事件</span><span class="stat-value">2<', html)
    assert re.search(r'接入失败</span><span class="stat-value">1<', html)
    assert 'href="/monitor"' in html  # the menu item 运行监控 now exists


def test_monitor_is_refused_without_monitor_view(client, login, admin_user, app_db):
    people.create_user(app_db, "sales_a", "Sales12345", roles=["sales"])
    login(client, "sales_a", "Sales12345")
    resp = client.get("/monitor")
    assert resp.status_code == 403 and "运行监控（monitor.view）" in resp.get_data(as_text=True)
    assert 'href="/monitor"' not in client.get("/").get_data(as_text=True)
