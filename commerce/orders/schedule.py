"""订单超时取消: every minute (on the scheduler leader) unpaid orders whose stock hold has run out
(CKB_ORDER_RESERVE_MINUTES after creation) are cancelled and their units released, each in its
own transaction, so a payment arriving at the same moment either wins (the order is paid, the
sweep skips it) or finds the order cancelled. `CRON_SPECS` is read by engine/crm_wiring.py.
"""
from __future__ import annotations

from commerce.errors import CommerceError
from commerce.orders.flow import expire_one, expired_order_ids

BATCH = 500


def expire_orders(services) -> str:
    now, tz = services.now(), services.settings.timezone
    with services.db.read() as s:
        due = expired_order_ids(s, now, BATCH)
    cancelled = 0
    for order_id in due:
        try:
            with services.db.write() as s:
                cancelled += expire_one(s, order_id, now, tz)
        except CommerceError:  # paid or cancelled between the list and the lock: nothing to do
            continue
    return f"超时未支付订单 {len(due)} 个，已取消 {cancelled} 个"


CRON_SPECS = [("order_expiry", "订单超时取消", {"minute": "*"}, expire_orders)]
