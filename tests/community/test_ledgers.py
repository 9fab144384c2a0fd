"""The points and commission ledgers: entries sum to the balance, no negative balance, one award per key."""
from __future__ import annotations

import pytest
from sqlmodel import select

from community import commission, points
from community.errors import InsufficientPoints
from community.ledger_models import PointsEntry


def test_earn_is_idempotent_and_spend_never_goes_negative(db):
    with db.write() as s:
        _, new = points.earn(s, 1, 10, reason="群打卡", source="checkin", source_ref="checkin:1")
        _, again = points.earn(s, 1, 10, reason="群打卡", source="checkin", source_ref="checkin:1")
        points.earn(s, 1, 5, reason="裂变奖励", source="fission", source_ref="c:1")
    assert new is True and again is False
    with db.write() as s:
        points.debit(s, 1, 12, reason="兑换", source="redeem", source_ref="r1")
    with pytest.raises(InsufficientPoints):
        with db.write() as s:
            points.debit(s, 1, 4, reason="兑换", source="redeem", source_ref="r2")
    with db.read() as s:
        assert points.balance(s, 1) == 3
        entries = s.exec(select(PointsEntry).where(PointsEntry.customer_id == 1)).all()
        assert sum(e.delta for e in entries) == 3
        assert sum(e.remaining for e in entries if e.kind == "earn") == 3


def test_commission_credit_once_settle_and_reverse(db, clock):
    with db.write() as s:
        _, new = commission.credit(s, amount_fen=500, source="fission", source_ref="order:1:level:1", reason="分销",
                                   beneficiary_customer_id=3, order_id=1, settle_after=clock.now())
        _, again = commission.credit(s, amount_fen=500, source="fission", source_ref="order:1:level:1", reason="分销",
                                     beneficiary_customer_id=3, order_id=1, settle_after=clock.now())
    assert new is True and again is False
    with db.write() as s:
        assert commission.settle_due(s, clock.now()) == 1
        assert commission.reverse_for_order(s, 1, "退款") == 1
