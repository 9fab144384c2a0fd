"""参数配置 storage: one row per parameter set in the console, and the change log.

A stored value overrides the environment; deleting the row (恢复默认) lets the environment or
the built-in default win again. Values are JSON text; a secret's is sealed with the secret box.
The change log never holds a secret: its old/new read 已设置 / 已修改.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from config.clock import utcnow


class ParameterValue(SQLModel, table=True):
    __tablename__ = "parameter_value"

    key: str = Field(primary_key=True, max_length=100)
    value: str = Field(sa_column=Column(Text, nullable=False))  # JSON, or the sealed token of a secret
    updated_by: str = Field(default="", max_length=100)
    updated_at: datetime = Field(default_factory=utcnow)


class ParameterChange(SQLModel, table=True):
    """Who changed what when. Its highest id is also the version other processes poll."""
    __tablename__ = "parameter_change"

    id: Optional[int] = Field(default=None, primary_key=True)
    key: str = Field(max_length=100, index=True)
    action: str = Field(default="set", max_length=16)  # set / reset
    old_value: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    new_value: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    changed_by: str = Field(default="", max_length=100)
    changed_at: datetime = Field(default_factory=utcnow, index=True)
