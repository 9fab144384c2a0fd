"""周复盘 (卡若五步法): one review per team (department, or the whole company) and ISO week, with the
five sections written by the team lead and the week's figures as they were when it was saved."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from config.clock import utcnow
from config.db_types import JSONType

# key → (title, the prompt from the seed's template shown as the placeholder)
REVIEW_SECTIONS = {
    "goals": ("一、目标&结果", "本周目标：…\n实际结果：…\n完成率：…%"),
    "process": ("二、过程", "关键动作1：结果\n关键动作2：结果\n关键动作3：结果"),
    "reflection": ("三、反思", "做得好的：…\n做得不好的：…\n根本原因：…"),
    "summary": ("四、总结", "核心结论"),
    "actions": ("五、执行", "下周行动1\n下周行动2\n下周行动3"),
}


class WeeklyReview(SQLModel, table=True):
    __tablename__ = "weekly_review"
    __table_args__ = (UniqueConstraint("dim", "dim_id", "iso_year", "iso_week", name="uq_weekly_review"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    dim: str = Field(max_length=16)  # department | company
    dim_id: int = 0
    iso_year: int
    iso_week: int
    goals: str = Field(default="", sa_type=Text)
    process: str = Field(default="", sa_type=Text)
    reflection: str = Field(default="", sa_type=Text)
    summary: str = Field(default="", sa_type=Text)
    actions: str = Field(default="", sa_type=Text)
    figures: list = Field(default_factory=list, sa_type=JSONType)  # the KPI rows when saved
    author_id: Optional[int] = None
    saved_at: datetime = Field(default_factory=utcnow)
