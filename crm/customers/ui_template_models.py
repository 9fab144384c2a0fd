"""UI 模板 (seed 001 §3.1.1.3): a named view of 客户档案 — its 列表显示列 (columns with width, sorting,
fixed), 编辑模板 (the fields a form asks for) and 查询模板 (the fields a search offers), plus an
optional display template rendered in the sandbox; 客户详情TABS show one by its 模板编号."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlmodel import Field, SQLModel

from config.clock import utcnow
from config.db_types import JSONType


class UiTemplate(SQLModel, table=True):
    __tablename__ = "ui_template"

    id: Optional[int] = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)  # 模板编号: a 客户详情TABS 内容链接 names it
    name: str = Field(max_length=100)
    object_type: str = Field(default="customer", max_length=32)  # 表对象 (客户档案)
    # [{"field", "label", "width", "sortable", "fixed": "" | "left"}] in display order
    columns: list = Field(default_factory=list, sa_type=JSONType)
    form_fields: list = Field(default_factory=list, sa_type=JSONType)  # [field names]
    query_fields: list = Field(default_factory=list, sa_type=JSONType)  # [field names]
    body: str = Field(default="", max_length=5000)  # optional display template (Jinja sandbox)
    enabled: bool = True
    updated_at: datetime = Field(default_factory=utcnow)
