"""复制标签 (seed 001 标签管理 toolbar: 添加 复制 自动打标签 …): a copy keeps the category, type, validity,
score and the whole rule (every rule of a multi-rule tag), under the name 「<name> - 副本」 (numbered
when taken). A copied auto tag starts 禁用: two enabled tags with one rule would tag the same
customers twice until the copy's rule is edited. A personal tag copies to its owner only (someone
else's is not found); the copy is the copier's.

Functions take the caller's Session and never commit.
"""
from __future__ import annotations

import copy

from sqlalchemy import select
from sqlmodel import Session

from config.clock import utcnow
from crm.errors import NotFound
from crm.tags.models import Tag
from crm.tags.service import get_tag, visible_clause

MAX_NAME = 100


def _free_name(session: Session, tag: Tag, viewer_id: int | None) -> str:
    taken = set(session.scalars(select(Tag.name).where(Tag.category_id == tag.category_id, visible_clause(viewer_id))))
    base = f"{tag.name[:MAX_NAME - 10]} - 副本"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}{n}", n + 1
    return name


def copy_tag(session: Session, tag_id: int, viewer_id: int | None, now=None) -> Tag:
    tag = get_tag(session, tag_id, viewer_id)
    now = now or utcnow()
    twin = Tag(category_id=tag.category_id, name=_free_name(session, tag, viewer_id), kind=tag.kind,
               owner_id=viewer_id if tag.kind == "personal" else None, validity_days=tag.validity_days,
               score=tag.score, enabled=tag.enabled and tag.kind != "auto", rule=copy.deepcopy(tag.rule or {}),
               created_at=now, updated_at=now)
    session.add(twin)
    session.flush()
    return twin


def copy_tags(session: Session, tag_ids: list[int], viewer_id: int | None, personal_only: bool = False,
              now=None) -> list[Tag]:
    """Copies each ticked tag; with `personal_only` (a user without 管理标签) only their own
    personal tags — a global one answers NotFound like an unknown id."""
    out = []
    for tag_id in tag_ids:
        if personal_only and get_tag(session, tag_id, viewer_id).kind != "personal":
            raise NotFound("标签不存在")
        out.append(copy_tag(session, tag_id, viewer_id, now))
    return out
