"""The precomputed tables ranking reads. All of them are rebuilt by commerce.recommend.refresh
(hourly, and on demand); the product ⇄ tag index is also refreshed for one product whenever its
目标客户群 is saved. Stock, shelf and deletion are never taken from here: they are read live."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from config.clock import utcnow


class RecommendProductTag(SQLModel, table=True):
    """A product aims at a tag: its 目标客户群 tags (weight 100) or its own product tags (70)."""

    __tablename__ = "recommend_product_tag"
    __table_args__ = (Index("ix_recommend_product_tag_spu", "spu_id"),)

    tag_id: int = Field(primary_key=True)
    spu_id: int = Field(primary_key=True)
    weight: int = 100


class RecommendCoPurchase(SQLModel, table=True):
    """Customers who bought `spu_id` also bought `other_id`: `buyers` bought both; `score` is the
    cosine buyers / sqrt(buyers(spu) × buyers(other)). Only the strongest pairs per product are kept."""

    __tablename__ = "recommend_co_purchase"

    spu_id: int = Field(primary_key=True)
    other_id: int = Field(primary_key=True)
    buyers: int = 0
    score: float = 0.0


class RecommendPopularity(SQLModel, table=True):
    """What sells within a segment (customers holding `tag_id`; 0 = everyone), recent purchases
    counting more: `score` is the segment's recency-weighted share of buyers of `spu_id`."""

    __tablename__ = "recommend_popularity"

    tag_id: int = Field(primary_key=True)
    spu_id: int = Field(primary_key=True)
    buyers: int = 0
    score: float = 0.0


class RecommendBuild(SQLModel, table=True):
    """One rebuild of the tables above: when, from how much, how long."""

    __tablename__ = "recommend_build"

    id: Optional[int] = Field(default=None, primary_key=True)
    built_at: datetime = Field(default_factory=utcnow, index=True)
    purchases: int = 0
    pairs: int = 0
    segments: int = 0
    seconds: float = 0.0
