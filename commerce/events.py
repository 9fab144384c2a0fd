"""The events 商品与订单 emits (order.*, product.stock_low) go through the one door into the event
ledger (crm.events_out.emit, source "commerce") inside the writing transaction. Their definitions
must exist or the ledger stores them as refused, so every emitter calls ensure_definitions first;
it is idempotent and cheap after the first time in a process."""
from __future__ import annotations

from sqlmodel import Session

from crm.events_out import emit
from events.builtin import COMMERCE_EVENT_KEYS
from events.definitions import ensure_builtin

SOURCE = "commerce"


def ensure_definitions(session: Session) -> None:
    """Creates the missing commerce event definitions in the caller's transaction."""
    ensure_builtin(session, COMMERCE_EVENT_KEYS)


def emit_stock_low(session: Session, *, sku_id: int, sku_code: str, spu_id: int, product_name: str,
                   available: int, threshold: int, movement_id: int) -> None:
    """One event per crossing: the movement that took available stock to the threshold or below
    names it, so a retried transaction that commits once emits once."""
    ensure_definitions(session)
    emit(session, "product.stock_low",
         {"sku_id": sku_id, "sku_code": sku_code, "spu_id": spu_id, "product_name": product_name,
          "available": available, "threshold": threshold},
         source=SOURCE, event_id=f"stock_low:{sku_id}:{movement_id}")
