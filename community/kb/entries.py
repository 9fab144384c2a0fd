"""Topics and entries: create, edit, delete, and import from JSON or xlsx (re-importing an entry
with the same key updates it). A document's body is split into passages here."""
from __future__ import annotations

import io
import json
import re
from datetime import datetime
from typing import Optional

from sqlmodel import Session, delete, select

from community.errors import CommunityError, CommunityNotFound
from community.kb import index
from community.kb.models import ENTRY_KINDS, KbEntry, KbPassage, KbTopic
from config.clock import utcnow

PASSAGE_CHARS = 220  # a passage: whole sentences up to about this long
MAX_IMPORT_ROWS = 5000
_SENTENCE = re.compile(r"(?<=[。！？!?；;\n])")


def split_passages(body: str) -> list[str]:
    parts, current = [], ""
    for paragraph in re.split(r"\n\s*\n", body or ""):
        for sentence in _SENTENCE.split(paragraph):
            sentence = sentence.strip()
            if not sentence:
                continue
            if current and len(current) + len(sentence) > PASSAGE_CHARS:
                parts.append(current)
                current = ""
            current = f"{current}{sentence}"
        if current:
            parts.append(current)
            current = ""
    return parts


def _lines(value) -> list[str]:
    if isinstance(value, list):
        items = value
    else:
        items = re.split(r"[\n|｜]", str(value or ""))
    return [str(i).strip()[:300] for i in items if str(i).strip()][:50]


def topic_id(session: Session, name: str, now: datetime) -> Optional[int]:
    name = (name or "").strip()[:50]
    if not name:
        return None
    topic = session.exec(select(KbTopic).where(KbTopic.name == name)).first()
    if topic is None:
        topic = KbTopic(name=name, created_at=now)
        session.add(topic)
        session.flush()
    return topic.id


def save_entry(session: Session, data: dict, *, entry_id: Optional[int] = None, now: Optional[datetime] = None) -> KbEntry:
    """Validates and stores one entry; raises CommunityError with per-field Chinese messages."""
    now = now or utcnow()
    errors = {}
    kind = str(data.get("kind") or "qa")
    question = str(data.get("question") or "").strip()
    answer = str(data.get("answer") or "").strip()
    if kind not in ENTRY_KINDS:
        errors["kind"] = "类型只能是问答或文档"
    if not question:
        errors["question"] = "问题（文档标题）不能为空"
    elif len(question) > 300:
        errors["question"] = "问题最多 300 字"
    if not answer:
        errors["answer"] = "答案（文档正文）不能为空"
    elif len(answer) > 20000:
        errors["answer"] = "答案最多 20000 字"
    if errors:
        raise CommunityError(next(iter(errors.values())), errors)
    entry = session.get(KbEntry, entry_id) if entry_id else None
    if entry_id and entry is None:
        raise CommunityNotFound("知识条目不存在")
    key = str(data.get("key") or "").strip()[:64]
    if entry is None and key:
        entry = session.exec(select(KbEntry).where(KbEntry.key == key)).first()
    if entry is None:
        entry = KbEntry(question=question, created_at=now)
    entry.kind, entry.question, entry.answer = kind, question, answer
    entry.key = key or entry.key
    entry.alternatives = _lines(data.get("alternatives"))
    entry.keywords = [w[:20] for w in _lines(data.get("keywords"))]
    entry.topic_id = topic_id(session, str(data.get("topic") or ""), now) if "topic" in data else (
        int(data["topic_id"]) if data.get("topic_id") else entry.topic_id)
    entry.enabled = bool(data.get("enabled", True))
    entry.updated_at = now
    session.add(entry)
    session.flush()
    session.exec(delete(KbPassage).where(KbPassage.entry_id == entry.id))
    if kind == "doc":
        for seq, text in enumerate(split_passages(answer)):
            session.add(KbPassage(entry_id=entry.id, seq=seq, text=text))
    index.invalidate()
    return entry


def delete_entry(session: Session, entry_id: int) -> None:
    entry = session.get(KbEntry, entry_id)
    if entry is None:
        raise CommunityNotFound("知识条目不存在")
    session.exec(delete(KbPassage).where(KbPassage.entry_id == entry_id))
    session.delete(entry)
    index.invalidate()


def parse_import(filename: str, raw: bytes) -> list[dict]:
    """Rows from a .json ({"entries": [...]} or a list) or .xlsx (header: 主题, 类型, 问题, 相似问法, 答案, 关键词)."""
    name = (filename or "").lower()
    if name.endswith(".json"):
        try:
            data = json.loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise CommunityError("JSON 文件无法解析", {"file": "JSON 文件无法解析"}) from None
        rows = data.get("entries") if isinstance(data, dict) else data
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise CommunityError("JSON 应为条目列表或 {\"entries\": [...]}", {"file": "格式不对"})
    elif name.endswith(".xlsx"):
        rows = _xlsx_rows(raw)
    else:
        raise CommunityError("只支持 .json 或 .xlsx 文件", {"file": "只支持 .json 或 .xlsx 文件"})
    if not rows:
        raise CommunityError("文件里没有条目", {"file": "文件里没有条目"})
    if len(rows) > MAX_IMPORT_ROWS:
        raise CommunityError(f"一次最多导入 {MAX_IMPORT_ROWS} 条", {"file": "条目过多"})
    return rows


HEADERS = {"主题": "topic", "类型": "kind", "问题": "question", "相似问法": "alternatives", "答案": "answer",
           "关键词": "keywords", "编号": "key"}


def _xlsx_rows(raw: bytes) -> list[dict]:
    from openpyxl import load_workbook

    try:
        sheet = load_workbook(io.BytesIO(raw), read_only=True, data_only=True).worksheets[0]
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        raise CommunityError("xlsx 文件无法读取", {"file": "xlsx 文件无法读取"}) from None
    it = sheet.iter_rows(values_only=True)
    header = [HEADERS.get(str(h or "").strip(), "") for h in next(it, ())]
    if "question" not in header or "answer" not in header:
        raise CommunityError("表头需要包含「问题」和「答案」列", {"file": "缺少问题/答案列"})
    rows = []
    for values in it:
        row = {k: v for k, v in zip(header, values) if k and v is not None}
        if row:
            row["kind"] = {"文档": "doc", "问答": "qa"}.get(str(row.get("kind") or "问答"), str(row.get("kind")))
            rows.append(row)
    return rows


def import_rows(session: Session, rows: list[dict], now: Optional[datetime] = None) -> int:
    """All or nothing: the first bad row stops the import with its row number."""
    for n, row in enumerate(rows, start=1):
        try:
            save_entry(session, row, now=now)
        except CommunityError as exc:
            raise CommunityError(f"第 {n} 条：{exc.message}", {"file": f"第 {n} 条：{exc.message}"}) from None
    return len(rows)


def rename_topic(session: Session, topic_id: int, name: str) -> KbTopic:
    topic = session.get(KbTopic, topic_id)
    if topic is None:
        raise CommunityNotFound("主题不存在")
    name = (name or "").strip()
    if not name or len(name) > 50:
        raise CommunityError("主题名称为 1–50 个字", {"name": "主题名称为 1–50 个字"})
    clash = session.exec(select(KbTopic).where(KbTopic.name == name, KbTopic.id != topic_id)).first()
    if clash is not None:
        raise CommunityError(f"已有主题「{name}」", {"name": f"已有主题「{name}」"})
    topic.name = name
    session.add(topic)
    return topic


def delete_topic(session: Session, topic_id: int, now: Optional[datetime] = None) -> int:
    """Removes the topic; its entries stay (without a topic). Returns how many entries it had."""
    topic = session.get(KbTopic, topic_id)
    if topic is None:
        raise CommunityNotFound("主题不存在")
    entries = session.exec(select(KbEntry).where(KbEntry.topic_id == topic_id)).all()
    for entry in entries:
        entry.topic_id, entry.updated_at = None, now or utcnow()
        session.add(entry)
    session.delete(topic)
    index.invalidate()
    return len(entries)
