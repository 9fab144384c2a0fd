"""An order's lines as sent (API JSON, the console form, a platform's order) → checked and priced.

Every problem names its field the way the caller sent it ("lines[1].quantity"), and one bad line
refuses the whole order before anything is written. The unit price defaults to the SKU's price;
another price needs 改价 (orders.manage). Name, code and specs are copied, so a later rename of
the product keeps the order's history.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from sqlmodel import Session, col, select

from commerce.catalog.models import ProductSku, ProductSpu
from commerce.errors import CommerceError
from commerce.orders.money import check_fen
from commerce.stock.ledger import check_quantity

MAX_LINES = 100


@dataclass
class LineInput:
    sku_id: Optional[int] = None
    sku_code: str = ""
    quantity: int = 1
    unit_price_fen: Optional[int] = None  # None: the SKU's price
    discount_fen: int = 0
    name: str = ""  # only for a platform line with no SKU of ours
    specs: dict = field(default_factory=dict)
    field: str = "lines[0]"


@dataclass
class PricedLine:
    sku_id: Optional[int]
    spu_id: Optional[int]
    sku_code: str
    name: str
    specs: dict
    quantity: int
    unit_price_fen: int
    discount_fen: int

    @property
    def amount_fen(self) -> int:
        return self.quantity * self.unit_price_fen - self.discount_fen

    def row(self) -> dict:
        return {"sku_id": self.sku_id, "spu_id": self.spu_id, "sku_code": self.sku_code, "name": self.name[:200],
                "specs": self.specs, "quantity": self.quantity, "unit_price_fen": self.unit_price_fen,
                "discount_fen": self.discount_fen, "amount_fen": self.amount_fen}


def _sku_ref(item: dict, where: str) -> tuple[Optional[int], str]:
    sku_id, code = item.get("sku_id"), item.get("sku_code")
    if sku_id not in (None, ""):
        if isinstance(sku_id, bool) or isinstance(sku_id, float) or not str(sku_id).strip().isdigit():
            raise CommerceError("SKU 无效", {f"{where}.sku_id": "SKU ID 应为整数"})
        return int(sku_id), ""
    if isinstance(code, str) and code.strip():
        return None, code.strip()
    raise CommerceError("请选择商品规格（SKU）", {f"{where}.sku_id": "请选择商品规格（SKU）"})


def parse_lines(raw) -> list[LineInput]:
    """[{"sku_id" | "sku_code", "quantity", "unit_price_fen"?, "discount_fen"?}, …] → LineInputs."""
    if not isinstance(raw, list) or not raw:
        raise CommerceError("订单至少需要一个商品", {"lines": "订单至少需要一个商品"})
    if len(raw) > MAX_LINES:
        raise CommerceError(f"一个订单最多 {MAX_LINES} 行", {"lines": f"一个订单最多 {MAX_LINES} 行"})
    out = []
    for i, item in enumerate(raw):
        where = f"lines[{i}]"
        if not isinstance(item, dict):
            raise CommerceError("订单行格式错误", {where: "订单行应为对象"})
        unknown = sorted(set(item) - {"sku_id", "sku_code", "quantity", "unit_price_fen", "discount_fen"})
        if unknown:
            raise CommerceError(f"订单行含未知字段：{'、'.join(unknown)}", {f"{where}.{unknown[0]}": "未知字段"})
        sku_id, code = _sku_ref(item, where)
        price = item.get("unit_price_fen")
        out.append(LineInput(
            sku_id=sku_id, sku_code=code, quantity=check_quantity(item.get("quantity", 1), f"{where}.quantity"),
            unit_price_fen=None if price in (None, "") else check_fen(price, f"{where}.unit_price_fen", "单价"),
            discount_fen=check_fen(item.get("discount_fen") or 0, f"{where}.discount_fen", "行优惠"), field=where))
    return out


def _skus(session: Session, lines: list[LineInput]) -> dict:
    ids = {line.sku_id for line in lines if line.sku_id is not None}
    codes = {line.sku_code for line in lines if line.sku_id is None and line.sku_code}
    found = {}
    if ids or codes:
        query = select(ProductSku, ProductSpu).join(ProductSpu, ProductSpu.id == ProductSku.spu_id)
        for sku, spu in session.exec(query.where(col(ProductSku.id).in_(ids) | col(ProductSku.code).in_(codes))):
            found[sku.id] = found[sku.code] = (sku, spu)
    return found


def priced_lines(session: Session, lines: list[LineInput], *, can_set_price: bool,
                 allow_unknown: bool = False) -> list[PricedLine]:
    """Checks each line against the catalogue. `allow_unknown` (platform orders): a line whose SKU
    code is not ours is kept by name with the platform's price and reserves nothing."""
    skus, out = _skus(session, lines), []
    for line in lines:
        where = line.field
        hit = skus.get(line.sku_id if line.sku_id is not None else line.sku_code)
        if hit is None:
            if allow_unknown and line.sku_id is None and line.unit_price_fen is not None:
                out.append(_checked(PricedLine(None, None, line.sku_code[:64], line.name or line.sku_code or "商品",
                                               line.specs, line.quantity, line.unit_price_fen, line.discount_fen), where))
                continue
            ref = line.sku_id if line.sku_id is not None else line.sku_code
            raise CommerceError(f"SKU {ref} 不存在", {f"{where}.sku_id": f"SKU {ref} 不存在"})
        sku, spu = hit
        if not allow_unknown and (sku.status != "active" or spu.deleted_at is not None or spu.shelf != "on"):
            message = f"{spu.name}（{sku.code}）未上架或已停售"
            raise CommerceError(message, {f"{where}.sku_id": message})
        price = sku.price_fen if line.unit_price_fen is None else line.unit_price_fen
        if price != sku.price_fen and not can_set_price and not allow_unknown:
            raise CommerceError("没有改价权限", {f"{where}.unit_price_fen": "修改单价需要「代客下单、改价」权限"})
        out.append(_checked(PricedLine(sku.id, spu.id, sku.code, spu.name, dict(sku.specs or {}), line.quantity, price,
                                       line.discount_fen), where))
    return out


def _checked(line: PricedLine, where: str) -> PricedLine:
    if line.amount_fen < 0:
        raise CommerceError("行优惠不能超过该行金额", {f"{where}.discount_fen": "行优惠不能超过该行金额"})
    return line
