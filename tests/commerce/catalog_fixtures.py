"""Small builders the catalogue tests share (real services, real database)."""
from __future__ import annotations

from commerce.catalog import products
from crm.tags.models import Tag, TagCategory


def make_tag(session, name: str) -> int:
    category = TagCategory(name=f"商品-{name}")
    session.add(category)
    session.flush()
    tag = Tag(category_id=category.id, name=name)
    session.add(tag)
    session.flush()
    return tag.id


def tee(code: str = "T100", name: str = "夏季纯棉T恤", **extra) -> dict:
    """A SPU with 颜色 × 尺码 (4 SKUs), priced and stocked."""
    dims = [{"name": "颜色", "values": ["红", "蓝"]}, {"name": "尺码", "values": ["M", "L"]}]
    skus = [{"specs": {"颜色": c, "尺码": s}, "code": f"{code}-{c == '红' and 'R' or 'B'}{s}", "price_fen": 9900,
             "market_price_fen": 12900, "on_hand": 5, "low_stock_threshold": 2}
            for c in ("红", "蓝") for s in ("M", "L")]
    return {"code": code, "name": name, "spec_dims": dims, "skus": skus, **extra}


def create(db, data: dict, user_id: int = 1):
    with db.write() as s:
        return products.create_spu(s, data, user_id=user_id).id
