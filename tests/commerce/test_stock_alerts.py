"""库存预警: crossing the threshold from above emits product.stock_low once, in the same transaction."""
from __future__ import annotations

import pytest
from sqlmodel import select

from commerce.catalog.products import skus_of
from commerce.errors import InsufficientStock
from commerce.events import ensure_definitions
from commerce.stock import ledger
from events.builtin import COMMERCE_EVENT_KEYS
from events.models import EventDefinition, EventRecord
from tests.commerce.catalog_fixtures import create, tee


def _alerts(db):
    with db.read() as s:
        return s.exec(select(EventRecord).where(EventRecord.event_code == "product.stock_low")).all()


def test_crossing_the_threshold_emits_one_accepted_event_per_crossing(db):
    spu_id = create(db, tee())  # 5 on hand, threshold 2
    with db.read() as s:
        sku = skus_of(s, spu_id)[0]
    with db.write() as s:
        ledger.reserve(s, sku.id, 2, order_id=1)  # available 3: above
    assert _alerts(db) == []
    with db.write() as s:
        ledger.reserve(s, sku.id, 1, order_id=2)  # available 2: crossing
        ledger.reserve(s, sku.id, 1, order_id=3)  # available 1: already below, no new alert
    alerts = _alerts(db)
    assert len(alerts) == 1 and alerts[0].status == "accepted" and alerts[0].source == "commerce"
    assert alerts[0].data["sku_id"] == sku.id and alerts[0].data["available"] == 2 and alerts[0].data["threshold"] == 2
    with db.write() as s:
        ledger.receive(s, sku.id, 10, operator_id=1, reason="补货")  # back above
        ledger.issue(s, sku.id, 11, operator_id=1, reason="报损")  # crossing again
    assert len(_alerts(db)) == 2


def test_a_refused_movement_emits_nothing(db):
    spu_id = create(db, tee())
    with db.read() as s:
        sku = skus_of(s, spu_id)[0]
    with pytest.raises(InsufficientStock), db.write() as s:
        ledger.issue(s, sku.id, 4, operator_id=1, reason="报损")  # available 1 → crossing …
        ledger.issue(s, sku.id, 5, operator_id=1, reason="报损")  # … but the transaction fails
    assert _alerts(db) == []


def test_ensure_definitions_is_idempotent(db):
    for _ in range(2):
        with db.write() as s:
            ensure_definitions(s)
    with db.read() as s:
        keys = s.exec(select(EventDefinition.builtin_key).where(EventDefinition.builtin_key.in_(COMMERCE_EVENT_KEYS))).all()
    assert sorted(keys) == sorted(COMMERCE_EVENT_KEYS)
