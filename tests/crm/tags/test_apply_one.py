"""apply_tags for one customer takes a path without scratch tables; it must leave exactly what
the set-based path leaves: links with expiry, 标签历史, tag_score and crm.tag_added events."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from config.clock import UTC
from crm.customers.models import Customer
from crm.tags.apply import apply_tags
from crm.tags.models import CustomerTag, TagHistory
from events.models import EventRecord

MISSING = 987654  # no such customer: forces the set-based path for a single real customer


def _state(services, customer_id):
    with services.db.read() as s:
        tag_links = s.execute(select(CustomerTag.tag_id, CustomerTag.source, CustomerTag.added_by,
                                     CustomerTag.added_at, CustomerTag.expires_at)
                              .where(CustomerTag.customer_id == customer_id).order_by(CustomerTag.tag_id)).all()
        history = s.execute(select(TagHistory.tag_id, TagHistory.tag_name, TagHistory.action, TagHistory.source,
                                   TagHistory.operator_id, TagHistory.created_at)
                            .where(TagHistory.customer_id == customer_id).order_by(TagHistory.id)).all()
        score = s.scalar(select(Customer.tag_score).where(Customer.id == customer_id))
        events = [{k: v for k, v in e.data.items() if k != "customer_id"}
                  for e in s.scalars(select(EventRecord).where(EventRecord.event_code == "crm.tag_added")
                                     .order_by(EventRecord.id)) if e.data.get("customer_id") == customer_id]
    return tag_links, history, score, events


def test_one_customer_path_matches_the_set_based_path(services, make_customers, make_tag, users):
    operator, _ = users
    one, other = make_customers({"name": "单个"}, {"name": "对照"})
    forever = make_tag("永久", kind="manual", score=2)
    week = make_tag("七天", kind="manual", score=5, validity_days=7)
    month = make_tag("三十天", kind="manual", score=1, validity_days=30)
    earlier = datetime(2024, 5, 1, 3, 0, tzinfo=UTC)
    later = earlier + timedelta(days=3)
    for ids in ([one], [other, MISSING]):
        with services.db.write() as s:
            assert apply_tags(s, ids, [week], operator_id=operator, now=earlier) == 1
        with services.db.write() as s:  # 七天 restarts its validity, the other two are new
            assert apply_tags(s, ids, [forever, week, month], operator_id=operator, source="strategy",
                              now=later) == 2
        with services.db.write() as s:  # nothing new: no history, no event
            assert apply_tags(s, ids, [forever], operator_id=operator, now=later) == 0
    assert _state(services, one) == _state(services, other)
    links, history, score, events = _state(services, one)
    assert score == 8 and len(history) == 3 and len(events) == 2
    assert {t: e for t, *_, e in links}[week] is not None


def test_one_missing_customer_is_left_alone(services, make_tag):
    tag = make_tag("永久", kind="manual")
    with services.db.write() as s:
        assert apply_tags(s, [MISSING], [tag], now=services.now()) == 0
        assert s.scalar(select(TagHistory.id)) is None
