"""敏感词: every text a phone is told to send (messages, greetings, comments, moments,
announcements) is checked against the editable word lists first.

A "block" word stops the send (the refusal names the word); a "warn" word lets it through with
a warning in history. Matching is Chinese-aware: full-width letters and digits count as their
half-width forms, case is ignored, and spaces or punctuation slipped between the characters of
a word ("微 信-转*账", "ＶＸ") do not hide it.
"""
from __future__ import annotations

import threading
import time
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Optional

from sqlalchemy import case, func
from sqlmodel import Session, select

from devices.models import SensitiveWord

LEVELS = ("block", "warn")
# A cached matcher is trusted this long before the list is re-read even if it looks unchanged
# (another process may have edited a word in a way the cheap signature cannot see).
CACHE_SECONDS = 60.0


def _is_word_char(ch: str) -> bool:
    # Letters, digits and combining marks carry meaning; spaces, punctuation, symbols and
    # control characters are what people insert to dodge a filter.
    return unicodedata.category(ch)[0] in ("L", "N", "M")


def normalize(text: str) -> str:
    """The comparable form of a word: NFKC (full-width → half-width), case-folded, only letters/digits."""
    folded = unicodedata.normalize("NFKC", text or "").casefold()
    return "".join(ch for ch in folded if _is_word_char(ch))


@dataclass(frozen=True)
class Hit:
    word: str  # as written in the list
    level: str


class Matcher:
    """A character trie over normalized words; one scan of the text finds every listed word."""

    def __init__(self, entries: Iterable[tuple[str, str]]):
        self.root: dict = {}
        self.size = 0
        for word, level in entries:
            key = normalize(word)
            if not key:
                continue
            node = self.root
            for ch in key:
                node = node.setdefault(ch, {})
            previous = node.get("")
            # The same normalized word in two lists: blocking wins over warning.
            if previous is None or (previous.level == "warn" and level == "block"):
                node[""] = Hit(word, level)
            self.size += 1

    def scan(self, text: str) -> list[Hit]:
        compact = normalize(text)
        hits: list[Hit] = []
        seen: set[str] = set()
        for start in range(len(compact)):
            node = self.root
            for ch in compact[start:]:
                node = node.get(ch)
                if node is None:
                    break
                hit = node.get("")
                if hit is not None and hit.word not in seen:
                    seen.add(hit.word)
                    hits.append(hit)
        return hits


_lock = threading.Lock()
# One cached matcher per database (a process normally has one; tests have many).
_cache: dict[str, tuple] = {}  # url → (signature, matcher, loaded_at)


def _signature(session: Session) -> tuple:
    # Cheap enough to run per check; changes whenever a word is added, removed, re-levelled,
    # enabled/disabled or (almost always) edited.
    row = session.exec(select(
        func.count(SensitiveWord.id), func.coalesce(func.sum(SensitiveWord.id), 0),
        func.coalesce(func.sum(func.length(SensitiveWord.word)), 0),
        func.coalesce(func.sum(case((SensitiveWord.enabled, SensitiveWord.id), else_=0)), 0),
        func.coalesce(func.sum(case((SensitiveWord.level == "warn", SensitiveWord.id), else_=0)), 0),
    )).one()
    return tuple(int(v or 0) for v in row)


def matcher(session: Session) -> Matcher:
    """The current word lists as a matcher, rebuilt only when the lists changed."""
    url = str(session.get_bind().engine.url)
    signature = _signature(session)
    with _lock:
        cached = _cache.get(url)
    if cached is not None and cached[0] == signature and time.monotonic() - cached[2] < CACHE_SECONDS:
        return cached[1]
    rows = session.exec(select(SensitiveWord.word, SensitiveWord.level).where(SensitiveWord.enabled)).all()
    built = Matcher((w, lvl) for w, lvl in rows)
    with _lock:
        _cache[url] = (signature, built, time.monotonic())
    return built


def invalidate() -> None:
    with _lock:
        _cache.clear()


def check_text(session: Session, text: str) -> tuple[Optional[str], list[str]]:
    """(the first blocking word found or None, the warning words found)."""
    if not text or not str(text).strip():
        return None, []
    hits = matcher(session).scan(str(text))
    blocked = next((h.word for h in hits if h.level == "block"), None)
    return blocked, [h.word for h in hits if h.level == "warn"]


def add_words(session: Session, words: Iterable[str], *, list_name: str = "默认", level: str = "block") -> int:
    """Adds words to a list (existing ones are left as they are); returns how many were new."""
    if level not in LEVELS:
        raise ValueError(f"敏感词级别只能是 {'/'.join(LEVELS)}")
    existing = set(session.exec(select(SensitiveWord.word).where(SensitiveWord.list_name == list_name)).all())
    added = 0
    for word in words:
        word = (word or "").strip()
        if not word or word in existing or not normalize(word):
            continue
        session.add(SensitiveWord(list_name=list_name, word=word[:100], level=level))
        existing.add(word)
        added += 1
    session.flush()
    invalidate()
    return added


def remove_words(session: Session, ids: Iterable[int]) -> int:
    removed = 0
    for word_id in ids:
        row = session.get(SensitiveWord, word_id)
        if row is not None:
            session.delete(row)
            removed += 1
    session.flush()
    invalidate()
    return removed
