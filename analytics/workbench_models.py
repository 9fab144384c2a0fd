"""工作台 layouts: the panels a person chose for their home, in their order (个性化工作台), and
the default list an administrator set per role (默认工作台). Panel keys are the stable keys of
analytics.panels; one row per user / per role."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel

from config.clock import utcnow
from config.db_types import JSONType


class WorkbenchLayout(SQLModel, table=True):
    __tablename__ = "workbench_layout"

    id: Optional[int] = Field(default=None, primary_key=True)
    # Rows go with their user / role (a deleted role's id must not hand its default to a new role).
    user_id: int = Field(sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False,
                                          unique=True))
    panels: list = Field(default_factory=list, sa_type=JSONType)
    updated_at: datetime = Field(default_factory=utcnow)


class RoleDefaultPanels(SQLModel, table=True):
    __tablename__ = "role_default_panels"

    id: Optional[int] = Field(default=None, primary_key=True)
    role_id: int = Field(sa_column=Column(Integer, ForeignKey("role.id", ondelete="CASCADE"), nullable=False,
                                          unique=True))
    panels: list = Field(default_factory=list, sa_type=JSONType)
    set_by: Optional[int] = None
    updated_at: datetime = Field(default_factory=utcnow)
