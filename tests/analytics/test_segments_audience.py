"""Acceptance: an RFM segment → audience → 定向营销 sends to exactly those customers, through the real
marketing run (engine.marketing) into the SMS outbox; and the segment as a condition field
(RFM 分层, registered by analytics) selects the same customers in any audience spec."""
from __future__ import annotations


import pytest
from sqlmodel import select

from analytics import audience_fields, rfm, segments
from config.clock import as_utc
from crm.customers.audience import audience_ids
from crm.customers.models import Customer
from crm.sales.marketing import create_plan, get_plan
from crm.sales.templates import create_template
from crm.scope import SYSTEM
from crm.tags.apply import apply_tags
from engine.marketing import run_due_plans
from engine.runtime import Runtime
from handlers.models import SmsMessage
from tests.analytics.lifecycle_data import build, make_tag
from tests.support import with_settings


@pytest.fixture
def runtime(services, smtp_sink):
    rt = Runtime(with_settings(services, http_allow_private_hosts=["127.0.0.1"], **smtp_sink.settings_update()))
    yield rt
    rt.stop()


def test_segment_to_marketing_sends_to_exactly_its_customers(runtime):
    svc = runtime.services
    db, clock = svc.db, svc.clock
    build(db, n=80, seed=13)
    with db.write() as s:
        for c in s.exec(select(Customer)):
            c.mobile = f"139{c.id:08d}"
        rfm.refresh_scores(s, clock.now())
        tag_id = make_tag(s, "重要价值客户")
        seg = segments.Segment(kind="rfm", key="important_value")
        ids = segments.customer_ids(s, seg, SYSTEM)
        assert len(ids) >= 3
        apply_tags(s, ids, [tag_id], None, source="manual", now=clock.now())  # 批量打标签 on the segment
        tpl = create_template(s, {"code": "rfm1", "name": "回馈", "channel": "sms", "body": "${name}您好，专享回馈"})
        plan = create_plan(s, {"name": "重要价值回馈", "include_tags": [tag_id], "exclude_tags": [],
                               "template_id": tpl.id, "schedule": "once", "run_time": "10:30",
                               "refresh_audience": True}, now=clock.now(), tz=svc.settings.timezone)
        plan_id = plan.id
    with db.read() as s:
        due = as_utc(get_plan(s, plan_id).next_run_at)
    clock.advance(seconds=(due - clock.now()).total_seconds() + 60)
    assert f"推送 {len(ids)} 人：成功 {len(ids)}" in run_due_plans(runtime)
    with db.read() as s:
        sent = sorted(m.mobile for m in s.exec(select(SmsMessage)))
    assert sent == sorted(f"139{i:08d}" for i in ids)


def test_rfm_segment_field_selects_the_same_customers(db):
    build(db, n=60, seed=21)
    audience_fields.register()
    with db.write() as s:
        rfm.refresh_scores(s)
    for key in ("important_value", "general_retain"):
        seg = segments.Segment(kind="rfm", key=key)
        with db.read() as s:
            want = segments.customer_ids(s, seg, SYSTEM)
        spec = {"mode": "conditions", "rows": audience_fields.saved_query_rows(seg)}
        assert audience_ids(db, spec) == want
    for step in ("contact", "first", "repeat"):
        seg = segments.Segment(kind="funnel", step=step)
        with db.read() as s:
            want = segments.customer_ids(s, seg, SYSTEM)
        assert audience_ids(db, {"mode": "conditions", "rows": audience_fields.saved_query_rows(seg)}) == want
