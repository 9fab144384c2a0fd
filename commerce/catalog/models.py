"""Catalogue tables. A SPU (商品) is what a marketer talks about (「夏季新款T恤」); its SKUs (规格)
are what is stocked and sold (红色 / M). Prices are integers in 分."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from config.clock import utcnow
from config.db_types import JSONType

SHELF_STATES = {"draft": "草稿", "on": "已上架", "off": "已下架"}
SKU_STATES = {"active": "在售", "disabled": "停用"}


class ProductCategory(SQLModel, table=True):
    """类目: a tree (parent_id); position orders siblings."""

    __tablename__ = "product_category"

    id: Optional[int] = Field(default=None, primary_key=True)
    parent_id: Optional[int] = Field(default=None, foreign_key="product_category.id", index=True)
    name: str = Field(max_length=50)
    position: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class ProductBrand(SQLModel, table=True):
    __tablename__ = "product_brand"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    logo_material_id: Optional[int] = None  # devices.Material (素材管理)
    remark: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow)


class ProductSpu(SQLModel, table=True):
    """商品 (SPU). `spec_dims` is [{"name": "颜色", "values": ["红", "蓝"]}, …] and generates the SKUs;
    `attributes` is [{"name": "材质", "value": "纯棉"}, …]; `images` are Material ids (素材管理);
    `audience` is the 目标客户群: {"tag_ids": [...], "conditions": [...晓售 rows...], "saved_query_id": n};
    `one_time` products (a course, a membership) are not recommended again to a buyer."""

    __tablename__ = "product_spu"

    id: Optional[int] = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200, index=True)
    subtitle: str = Field(default="", max_length=300)
    category_id: Optional[int] = Field(default=None, foreign_key="product_category.id", index=True)
    brand_id: Optional[int] = Field(default=None, foreign_key="product_brand.id", index=True)
    attributes: list = Field(default_factory=list, sa_type=JSONType)
    spec_dims: list = Field(default_factory=list, sa_type=JSONType)
    images: list = Field(default_factory=list, sa_type=JSONType)
    description: str = Field(default="", max_length=50000)  # markdown-ish text, rendered escaped
    tag_ids: list = Field(default_factory=list, sa_type=JSONType)  # tags on the product itself
    audience: dict = Field(default_factory=dict, sa_type=JSONType)
    link_url: str = Field(default="", max_length=500)  # 商品链接 sent as a link card
    miniprogram: dict = Field(default_factory=dict, sa_type=JSONType)  # {appid, path, title}
    shelf: str = Field(default="draft", max_length=8, index=True)  # SHELF_STATES
    one_time: bool = False
    version: int = 1
    created_by: Optional[int] = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    deleted_at: Optional[datetime] = None


class ProductSku(SQLModel, table=True):
    """规格 (SKU). `on_hand` units are in the warehouse; `reserved` of them are held for unpaid
    orders; what can still be sold is on_hand - reserved. Only commerce.stock changes these two,
    with a conditional UPDATE, so neither goes negative under concurrency."""

    __tablename__ = "product_sku"
    __table_args__ = (UniqueConstraint("spu_id", "spec_key", name="uq_product_sku_spec"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    spu_id: int = Field(foreign_key="product_spu.id", index=True)
    code: str = Field(max_length=64, unique=True)
    spec_key: str = Field(default="", max_length=300)  # canonical "颜色=红;尺码=M", "" for a single SKU
    specs: dict = Field(default_factory=dict, sa_type=JSONType)  # {"颜色": "红", "尺码": "M"}
    price_fen: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    market_price_fen: Optional[int] = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    on_hand: int = 0
    reserved: int = 0
    low_stock_threshold: int = 0  # 0: no alert
    status: str = Field(default="active", max_length=16)  # SKU_STATES
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ProductVersion(SQLModel, table=True):
    """Every change of a product (SPU with its SKUs) as a snapshot, like SceneVersion."""

    __tablename__ = "product_version"
    __table_args__ = (UniqueConstraint("spu_id", "version", name="uq_product_version"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    spu_id: int = Field(index=True)
    version: int
    snapshot: dict = Field(default_factory=dict, sa_type=JSONType)
    summary: str = Field(default="", max_length=500)
    changed_by: Optional[int] = None
    created_at: datetime = Field(default_factory=utcnow)
