"""Per-customer lifecycle and RFM facts (customer_score) and the record of each scoring pass (rfm_run).

One row per customer, rebuilt by analytics.rfm.refresh_scores (nightly and on demand from the RFM page):
first contact (加好友 / 入群), the channel and scene of their first lead, first / second / last paid
order, order count and net amount, R/F/M scores and the segment. Dashboards and segment audiences
read this table, so a funnel step or an RFM segment is one indexed SQL clause, not a scan of orders."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel

from config.clock import utcnow
from config.db_types import JSONType


class CustomerScore(SQLModel, table=True):
    __tablename__ = "customer_score"

    customer_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    first_contact_at: Optional[datetime] = Field(default=None, index=True)  # earliest 加好友 or 入群 of this person
    contact_month: str = Field(default="", max_length=7, index=True)  # YYYY-MM (configured zone); "" = never
    channel_id: Optional[int] = Field(default=None, index=True)  # of the customer's first lead
    scene_id: Optional[int] = Field(default=None, index=True)
    first_order_at: Optional[datetime] = None
    second_order_at: Optional[datetime] = None
    last_order_at: Optional[datetime] = None
    order_count: int = 0
    monetary_fen: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    recency_days: Optional[int] = None
    r_score: int = 0  # 1..5; 0 = no purchase
    f_score: int = 0
    m_score: int = 0
    segment: str = Field(default="", max_length=24, index=True)  # analytics.rfm.SEGMENTS key; "" = no purchase
    computed_at: datetime = Field(default_factory=utcnow)


class RfmRun(SQLModel, table=True):
    """One scoring pass: when, how many customers, and the R/F/M cut points it used (quintiles of
    that day's buyers, or the configured thresholds)."""

    __tablename__ = "rfm_run"

    id: Optional[int] = Field(default=None, primary_key=True)
    computed_at: datetime = Field(default_factory=utcnow, index=True)
    customers: int = 0
    buyers: int = 0
    cuts: dict = Field(default_factory=dict, sa_type=JSONType)  # {"r": [...], "f": [...], "m": [...], "mode": ...}
    triggered_by: Optional[int] = None
    # The company-wide, unfiltered figures of this pass (analytics.snapshot): what an admin's dashboards
    # show without recomputing them per request. {"day", "persons", "rfm", "funnel", "cohorts"}
    snapshot: dict = Field(default_factory=dict, sa_type=JSONType)
