"""敏感词: the word lists every outgoing text is checked against. Words sit in named lists (默认,
广告, 政治 …); 拦截 stops the send, 提醒 lets it through but records it. The matching itself is
the risk budget's (devices/sensitive.py); this module only keeps the lists."""
from __future__ import annotations

import re
import unicodedata
from typing import Optional

from sqlalchemy import func
from sqlmodel import Session, select

from devices import sensitive
from devices.content import ContentError
from devices.models import SensitiveWord

LEVEL_LABELS = {"block": "拦截", "warn": "提醒"}
MAX_WORD = 100


def normalize(word: str) -> str:
    """Full-width letters/digits to half-width, trimmed: 'ＶＸ' and 'VX' are one word."""
    return unicodedata.normalize("NFKC", word or "").strip()


def _clean(list_name: str, level: str) -> tuple[str, str]:
    list_name = (list_name or "").strip() or "默认"
    if len(list_name) > 50:
        raise ContentError("词库名称不能超过 50 个字", {"list_name": "词库名称不能超过 50 个字"})
    if level not in LEVEL_LABELS:
        raise ContentError("处理方式无效", {"level": "处理方式无效"})
    return list_name, level


def add_words(session: Session, text: str, list_name: str = "默认", level: str = "block") -> tuple[int, int]:
    """Adds words typed one a line (or separated by commas/spaces); returns (added, already there)."""
    list_name, level = _clean(list_name, level)
    words = []
    for raw in re.split(r"[\n,，、;；\s]+", text or ""):
        word = normalize(raw)
        if word and word not in words:
            words.append(word)
    if not words:
        raise ContentError("请至少填写一个敏感词", {"words": "请至少填写一个敏感词"})
    too_long = [w for w in words if len(w) > MAX_WORD]
    if too_long:
        raise ContentError(f"敏感词不能超过 {MAX_WORD} 个字", {"words": f"「{too_long[0][:20]}…」过长"})
    added = sensitive.add_words(session, words, list_name=list_name, level=level)
    return added, len(words) - added


def list_words(session: Session, *, list_name: str = "", keyword: str = "", page: int = 1,
               per_page: int = 50) -> tuple[list[SensitiveWord], int]:
    conditions = []
    if list_name:
        conditions.append(SensitiveWord.list_name == list_name)
    if keyword:
        conditions.append(SensitiveWord.word.like(f"%{normalize(keyword)}%"))
    total = session.exec(select(func.count()).select_from(SensitiveWord).where(*conditions)).one()
    rows = session.exec(select(SensitiveWord).where(*conditions)
                        .order_by(SensitiveWord.list_name, SensitiveWord.word)
                        .offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), total


def list_counts(session: Session) -> list[tuple[str, int]]:
    """(list name, words) for the list tabs."""
    return [(n, c) for n, c in session.exec(select(SensitiveWord.list_name, func.count())
                                            .group_by(SensitiveWord.list_name).order_by(SensitiveWord.list_name)).all()]


def _get(session: Session, word_id: int) -> SensitiveWord:
    row = session.get(SensitiveWord, word_id)
    if row is None:
        raise ContentError("敏感词不存在或已删除")
    return row


def update_word(session: Session, word_id: int, *, level: Optional[str] = None,
                enabled: Optional[bool] = None) -> SensitiveWord:
    row = _get(session, word_id)
    if level is not None:
        row.level = _clean(row.list_name, level)[1]
    if enabled is not None:
        row.enabled = enabled
    session.add(row)
    session.flush()
    sensitive.invalidate()  # this process sees the change at once; others by the list signature
    return row


def delete_words(session: Session, word_ids: list[int]) -> int:
    return sensitive.remove_words(session, word_ids)
