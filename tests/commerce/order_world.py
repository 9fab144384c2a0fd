"""A small shop for order tests: two salespeople, their customers, a product with SKUs in stock."""
from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import func, select

from commerce.catalog.models import ProductSku, ProductSpu
from commerce.stock import ledger
from commerce.stock.models import StockMovement
from crm.customers.models import Customer
from crm.people.models import User
from crm.scope import Viewer

SALES = frozenset({"orders.view", "orders.manage", "orders.refund", "customers.view"})


@dataclass
class World:
    alice: int
    bob: int
    mine: int  # alice's customer
    theirs: int  # bob's customer
    sku: int  # 990 fen, 20 in stock
    sku2: int  # 5000 fen, 5 in stock

    @property
    def a(self) -> Viewer:
        return Viewer(self.alice, SALES)

    @property
    def b(self) -> Viewer:
        return Viewer(self.bob, SALES)


def make_sku(s, code: str, price: int, stock: int, spu_code: str = "SPU-T", name: str = "体验课") -> int:
    spu = s.exec(select(ProductSpu).where(ProductSpu.code == spu_code)).first()
    if spu is None:
        spu = ProductSpu(code=spu_code, name=name, shelf="on")
        s.add(spu)
        s.flush()
    sku = ProductSku(spu_id=spu.id, code=code, spec_key=code, specs={"规格": code}, price_fen=price)
    s.add(sku)
    s.flush()
    if stock:
        ledger.receive(s, sku.id, stock, reason="期初入库")
    return sku.id


def make_world(db) -> World:
    with db.write() as s:
        alice, bob = (User(username=n, display_name=d, password_hash="x") for n, d in (("alice", "小爱"), ("bob", "小博")))
        s.add(alice)
        s.add(bob)
        s.flush()
        mine, theirs = Customer(name="张三", owner_id=alice.id), Customer(name="李四", owner_id=bob.id)
        s.add(mine)
        s.add(theirs)
        s.flush()
        return World(alice.id, bob.id, mine.id, theirs.id, make_sku(s, "SKU-A", 990, 20),
                     make_sku(s, "SKU-B", 5000, 5, "SPU-U", "会员年卡"))


def ledger_matches_stock(s, sku_id: int) -> bool:
    on_hand, reserved = s.exec(select(func.coalesce(func.sum(StockMovement.on_hand_delta), 0),
                                      func.coalesce(func.sum(StockMovement.reserved_delta), 0))
                               .where(StockMovement.sku_id == sku_id)).one()
    sku = s.get(ProductSku, sku_id, populate_existing=True)
    return (on_hand, reserved) == (sku.on_hand, sku.reserved)
