"""商品搜索: by name or code (SPU or SKU, substring, Chinese included), exact code, category (with its
sub-categories), brand, tag, price range and shelf state; paged, newest first.

Substring search stays fast at 100k SKUs through migration 0015: on SQLite an FTS5 trigram
index answers a phrase query for 3 or more characters (shorter words scan, which at that length is
what a person types into a small catalogue anyway); on PostgreSQL pg_trgm GIN indexes serve ILIKE.
bench/catalog.py measures both against a plain indexed code lookup."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from sqlalchemy import cast, exists, func, or_, select as sa_select, text, union
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Session, select

from commerce.catalog.categories import descendant_ids
from commerce.catalog.models import ProductSku, ProductSpu

MAX_PER_PAGE = 100
MATERIALIZE_LIMIT = 5000


@dataclass
class ProductQuery:
    q: str = ""  # name / SPU code / SKU code, substring
    code: str = ""  # exact SPU or SKU code
    category_id: Optional[int] = None
    brand_id: Optional[int] = None
    tag_id: Optional[int] = None
    price_min_fen: Optional[int] = None
    price_max_fen: Optional[int] = None
    shelf: str = ""  # "" | draft | on | off
    low_stock: bool = False  # only products with a SKU on sale at or below its warning level


@dataclass
class ProductRow:
    spu: ProductSpu
    sku_count: int
    price_min_fen: Optional[int]
    price_max_fen: Optional[int]
    on_hand: int
    available: int


def _like(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _text_match(session: Session, q: str):
    """Name or code containing `q`. Codes are ASCII only (letters, digits, - _ .), so a word with
    Chinese in it is looked up in names alone and never scans the SKU codes."""
    dialect = session.get_bind().dialect.name
    codes_too = q.isascii()
    if dialect == "sqlite" and len(q) >= 3:
        phrase = '"' + q.replace('"', '""') + '"'
        spu_hits = text("SELECT rowid FROM product_spu_search WHERE product_spu_search MATCH :p1").bindparams(p1=phrase)
        if not codes_too:
            return ProductSpu.id.in_(spu_hits)
        sku_hits = text("SELECT rowid FROM product_sku_search WHERE product_sku_search MATCH :p2").bindparams(p2=phrase)
        return or_(ProductSpu.id.in_(spu_hits),
                   ProductSpu.id.in_(sa_select(ProductSku.spu_id).where(ProductSku.id.in_(sku_hits))))
    pattern = _like(q)

    def has(column):
        if dialect == "postgresql":
            return column.ilike(pattern, escape="\\")
        return column.like(pattern, escape="\\")

    if not codes_too:
        return has(ProductSpu.name)
    # One IN over a UNION: each branch uses its own (trigram) index and the planner joins the ids
    # once; an OR of three conditions made PostgreSQL re-run the SKU lookup for every product.
    return _any_of(sa_select(ProductSpu.id).where(has(ProductSpu.name)),
                   sa_select(ProductSpu.id).where(has(ProductSpu.code)),
                   sa_select(ProductSku.spu_id).where(has(ProductSku.code)))


def _any_of(*selects):
    return ProductSpu.id.in_(sa_select(union(*selects).subquery().c[0]))


def _materialized(session: Session, condition):
    """The matching ids fetched once, so the count and the page don't each redo the text search;
    a very broad word keeps the subquery (an IN list of tens of thousands of ids helps nobody)."""
    ids = session.exec(select(ProductSpu.id).where(condition).limit(MATERIALIZE_LIMIT + 1)).all()
    if len(ids) > MATERIALIZE_LIMIT:
        return condition
    return ProductSpu.id.in_(ids) if ids else ProductSpu.id.is_(None)


def _has_tag(session: Session, tag_id: int):
    if session.get_bind().dialect.name == "postgresql":
        return cast(ProductSpu.tag_ids, JSONB).contains([tag_id])
    each = func.json_each(ProductSpu.tag_ids).table_valued("value")
    return exists(sa_select(each.c.value).where(each.c.value == tag_id))


def conditions(session: Session, query: ProductQuery) -> list:
    where = [ProductSpu.deleted_at.is_(None)]
    q = query.q.strip()[:100]
    if q:
        where.append(_materialized(session, _text_match(session, q)))
    if query.code.strip():
        code = query.code.strip()
        where.append(_materialized(session, _any_of(sa_select(ProductSpu.id).where(ProductSpu.code == code),
                                                    sa_select(ProductSku.spu_id).where(ProductSku.code == code))))
    if query.category_id is not None:
        where.append(ProductSpu.category_id.in_(descendant_ids(session, query.category_id)))
    if query.brand_id is not None:
        where.append(ProductSpu.brand_id == query.brand_id)
    if query.tag_id is not None:
        where.append(_has_tag(session, query.tag_id))
    if query.price_min_fen is not None or query.price_max_fen is not None:
        # Correlated EXISTS over ix_product_sku_spu_id: cheap per candidate product, so a selective
        # name/category filter is never multiplied by a scan of every SKU's price.
        priced = [ProductSku.spu_id == ProductSpu.id, ProductSku.status == "active"]
        if query.price_min_fen is not None:
            priced.append(ProductSku.price_fen >= query.price_min_fen)
        if query.price_max_fen is not None:
            priced.append(ProductSku.price_fen <= query.price_max_fen)
        where.append(exists(sa_select(ProductSku.id).where(*priced)))
    if query.shelf:
        where.append(ProductSpu.shelf == query.shelf)
    if query.low_stock:
        where.append(exists(sa_select(ProductSku.id).where(
            ProductSku.spu_id == ProductSpu.id, ProductSku.status == "active", ProductSku.low_stock_threshold > 0,
            ProductSku.on_hand - ProductSku.reserved <= ProductSku.low_stock_threshold)))
    return where


def search(session: Session, query: ProductQuery, page: int = 1, per_page: int = 20) -> tuple[list[ProductRow], int]:
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    where = conditions(session, query)
    total = session.exec(select(func.count()).select_from(ProductSpu).where(*where)).one()
    spus = session.exec(select(ProductSpu).where(*where).order_by(ProductSpu.id.desc())
                        .offset((max(page, 1) - 1) * per_page).limit(per_page)).all()
    return rows_for(session, list(spus)), total


def rows_for(session: Session, spus: list[ProductSpu]) -> list[ProductRow]:
    """Each SPU with its SKU count, price range (of SKUs on sale) and stock, in one grouped query."""
    ids = [s.id for s in spus]
    stats = {}
    if ids:
        active = ProductSku.status == "active"
        for row in session.exec(select(
                ProductSku.spu_id, func.count(), func.min(ProductSku.price_fen).filter(active),
                func.max(ProductSku.price_fen).filter(active), func.sum(ProductSku.on_hand),
                func.sum(ProductSku.on_hand - ProductSku.reserved)).where(ProductSku.spu_id.in_(ids))
                .group_by(ProductSku.spu_id)):
            stats[row[0]] = row[1:]
    out = []
    for spu in spus:
        count, low, high, on_hand, available = stats.get(spu.id, (0, None, None, 0, 0))
        out.append(ProductRow(spu, count, low, high, on_hand or 0, available or 0))
    return out
