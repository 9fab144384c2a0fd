"""付款码 payments and 订单同步 (pushed or pulled) platform orders become orders of the customer the
lead pipeline identified — once: the trade number / the platform's order number is the order's
external id (source payment_code / order_pull), so a platform resending its notification, a
re-driven lead or a retried step finds the order already made.

The money has already been paid on the platform, so the order is created and paid in the same
transaction (order.created then order.paid). A platform line names a SKU of ours by its code
(付款码 parameter `sku`, or the order item's `sku`); other lines are kept by title and price.
"""
from __future__ import annotations

from typing import Optional

from sqlmodel import Session

from commerce.errors import CommerceError
from commerce.orders.flow import transition
from commerce.orders.lines import LineInput
from commerce.orders.money import yuan_to_fen
from commerce.orders.service import Created, by_external, create_order
from commerce.stock.ledger import check_quantity
from crm.leads.models import Lead, LeadScene
from crm.scope import SYSTEM

MAX_ITEMS = 100


def order_source(lead: Lead, scene: Optional[LeadScene]) -> Optional[str]:
    """payment_code, order_pull, or None for a lead that is not a sale."""
    meta = lead.meta or {}
    if meta.get("payment_code_id") and lead.external_id:
        return "payment_code"
    if scene is not None and scene.scene_type == "ORDER_SYNC" and lead.external_id \
            and meta.get("pull_kind", "orders") == "orders":
        return "order_pull"
    return None


def _text(value, limit: int = 200) -> str:
    return str(value if value is not None else "").strip()[:limit]


def _payment_lines(raw: dict) -> tuple[list[LineInput], int]:
    amount = yuan_to_fen(raw.get("value"), "value", "支付金额")
    title = _text(raw.get("product") or raw.get("payment_code") or "付款码收款")
    return [LineInput(sku_code=_text(raw.get("sku"), 64), name=title, quantity=1, unit_price_fen=amount,
                      field="lines[0]")], 0


def _platform_order(raw: dict) -> dict:
    """The order inside a lead's raw data: the adapters flatten it, but a scene fed by a pull or an
    import may keep it nested as {"order": {...}} (mapped with order.* paths)."""
    nested = raw.get("order")
    if isinstance(nested, dict) and "items" not in raw and "total_amount" not in raw:
        return nested
    return raw


def _platform_lines(raw: dict) -> tuple[list[LineInput], int]:
    """The order's items and its discount (what the items sum to above the total paid)."""
    raw = _platform_order(raw)
    items = raw.get("items") if isinstance(raw.get("items"), list) else []
    total = raw.get("total_amount")
    if items and total not in (None, "") and all(isinstance(i, dict) and i.get("price") in (None, "") for i in items):
        # Only titles and a total (many platforms' order lists): one line for the whole order.
        titles = "、".join(_text(i.get("title"), 60) for i in items if i.get("title"))
        return [LineInput(name=_text(titles) or f"订单 {_text(raw.get('order_no'), 64)}", quantity=1,
                          unit_price_fen=yuan_to_fen(total, "total_amount", "订单金额"), field="items[0]")], 0
    lines = []
    for i, item in enumerate(items[:MAX_ITEMS]):
        if not isinstance(item, dict):
            raise CommerceError("订单商品格式错误", {f"items[{i}]": "商品应为对象"})
        lines.append(LineInput(sku_code=_text(item.get("sku"), 64), name=_text(item.get("title")) or "商品",
                               quantity=check_quantity(item.get("quantity", 1), f"items[{i}].quantity"),
                               unit_price_fen=yuan_to_fen(item.get("price"), f"items[{i}].price", "商品单价"),
                               field=f"items[{i}]"))
    total_fen = yuan_to_fen(total, "total_amount", "订单金额") if total not in (None, "") else None
    if not lines:
        if total_fen is None:
            raise CommerceError("平台订单没有商品也没有金额", {"total_amount": "平台订单没有商品也没有金额"})
        return [LineInput(name=_text(raw.get("product")) or f"订单 {_text(raw.get('order_no'), 64)}", quantity=1,
                          unit_price_fen=total_fen, field="items[0]")], 0
    goods = sum(line.quantity * line.unit_price_fen for line in lines)
    if total_fen is not None and total_fen > goods:  # freight or a fee the items do not show
        lines.append(LineInput(name="运费及其他费用", quantity=1, unit_price_fen=total_fen - goods, field="total_amount"))
    return lines, (goods - total_fen if total_fen is not None and total_fen < goods else 0)


def order_for_lead(session: Session, lead: Lead, scene: Optional[LeadScene], *, reserve_minutes: int,
                   tz: Optional[str] = None, now=None) -> Optional[Created]:
    """The lead's order (made now, or the one made before); None when the lead is not a sale."""
    source = order_source(lead, scene)
    if source is None:
        return None
    external_id = _text(lead.external_id, 128)
    seen = by_external(session, source, external_id)
    if seen is not None:
        return Created(seen, False)
    if lead.customer_id is None:
        raise CommerceError("线索尚未识别客户：「线索·生成订单」应在「线索·识别客户」之后",
                            {"customer_id": "线索尚未识别客户"})
    raw = dict(lead.raw_data or {})
    lines, discount = _payment_lines(raw) if source == "payment_code" else _platform_lines(raw)
    data = {"customer_id": lead.customer_id, "external_id": external_id, "discount_fen": discount,
            "channel_id": lead.channel_id, "scene_id": lead.scene_id, "lead_id": lead.id,
            "remark": f"{'付款码' if source == 'payment_code' else '平台订单'} {external_id}"}
    created = create_order(session, data, SYSTEM, source=source, reserve_minutes=reserve_minutes, tz=tz, now=now,
                           lines=lines, platform=True)
    if created.created:
        transition(session, created.order.id, "pay", SYSTEM, reason="平台已收款", now=now, tz=tz)
    return created
