"""The in-memory search index over enabled entries, rebuilt when the base changes (a cheap stamp
query per search decides) and shared by threads: a build happens under a lock, a search reads an
immutable snapshot."""
from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from community.kb import tokenize
from community.kb.bm25 import BM25
from community.kb.models import KbEntry, KbPassage


@dataclass(frozen=True)
class Doc:
    entry_id: int
    passage_id: int | None
    text: str  # what is answered when this document wins


@dataclass(frozen=True)
class Match:
    entry_id: int
    passage_id: int | None
    answer: str
    question: str
    score: float  # raw BM25
    confidence: float  # 0..1, compared with the threshold


class Snapshot:
    def __init__(self, docs: list[Doc], token_lists: list[list[str]], questions: dict[int, str]):
        self.docs = docs
        self.bm25 = BM25(token_lists)
        self.questions = questions

    def search(self, text: str, limit: int = 3) -> list[Match]:
        out, seen = [], set()
        for hit in self.bm25.search(tokenize.tokens(text), limit * 3):
            doc = self.docs[hit.doc]
            if doc.entry_id in seen:
                continue
            seen.add(doc.entry_id)
            out.append(Match(doc.entry_id, doc.passage_id, doc.text, self.questions.get(doc.entry_id, ""),
                             hit.score, hit.confidence))
            if len(out) == limit:
                break
        return out


def entry_text(entry: KbEntry) -> str:
    """A Q&A pair is found by its phrasings (the main question counted twice) and its answer's words."""
    return " ".join([entry.question, *entry.alternatives, entry.question, entry.answer])


def build(session: Session) -> Snapshot:
    entries = session.exec(select(KbEntry).where(KbEntry.enabled == True).order_by(KbEntry.id)).all()  # noqa: E712
    tokenize.add_words(w for e in entries for w in (e.keywords or []))
    passages: dict[int, list[KbPassage]] = {}
    doc_ids = [e.id for e in entries if e.kind == "doc"]
    if doc_ids:
        for p in session.exec(select(KbPassage).where(KbPassage.entry_id.in_(doc_ids)).order_by(KbPassage.seq)):
            passages.setdefault(p.entry_id, []).append(p)
    docs, tokens = [], []
    for e in entries:
        if e.kind == "doc":
            for p in passages.get(e.id, []):
                docs.append(Doc(e.id, p.id, p.text))
                tokens.append(tokenize.tokens(f"{e.question} {' '.join(e.alternatives)} {p.text}"))
        else:
            docs.append(Doc(e.id, None, e.answer))
            tokens.append(tokenize.tokens(entry_text(e)))
    return Snapshot(docs, tokens, {e.id: e.question for e in entries})


_lock = threading.Lock()
_cache: dict[str, tuple[tuple, Snapshot]] = {}


def stamp(session: Session) -> tuple:
    count, latest, last_id = session.exec(select(func.count(), func.max(KbEntry.updated_at), func.max(KbEntry.id))).one()
    return count, str(latest), last_id


def snapshot(session: Session) -> Snapshot:
    """The index of this database, rebuilt only when an entry was added, edited or removed."""
    key = str(session.get_bind().url)
    current = stamp(session)
    cached = _cache.get(key)
    if cached and cached[0] == current:
        return cached[1]
    with _lock:
        cached = _cache.get(key)
        if cached and cached[0] == current:
            return cached[1]
        snap = build(session)
        _cache[key] = (current, snap)
        return snap


def invalidate() -> None:
    with _lock:
        _cache.clear()
