"""功能注册: an admin's changes to the console menu, stored over the built-in declaration
(web/navigation.py). One row per changed group ("group", group key) or item ("item", endpoint);
a missing row means "as declared". `menu_revision` counts changes so each web process can keep
the merged menu in memory and re-read it only when another process has changed it."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlmodel import Field, SQLModel

from config.clock import utcnow


class MenuOverride(SQLModel, table=True):
    __tablename__ = "menu_override"

    kind: str = Field(primary_key=True, max_length=8)  # group | item
    key: str = Field(primary_key=True, max_length=128)  # the group key or the item's endpoint
    position: Optional[int] = None  # None: declared order
    hidden: bool = False
    label: str = Field(default="", max_length=40)  # "": declared label
    updated_by: str = Field(default="", max_length=64)
    updated_at: datetime = Field(default_factory=utcnow)


class MenuRevision(SQLModel, table=True):
    __tablename__ = "menu_revision"

    id: int = Field(default=1, primary_key=True)
    revision: int = 0
