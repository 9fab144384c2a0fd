"""Shared set-up for the 智能回复 tests (no tests here): the 50-entry base and the labelled question
set from tests/data, and a wechat message stored the way the gateway stores it."""
from __future__ import annotations

import json
from pathlib import Path

from community.kb.entries import import_rows
from conversations.device_messages import record_device_message
from devices.models import WechatAccount

DATA = Path(__file__).resolve().parents[1] / "data"


def entries() -> list[dict]:
    return json.loads((DATA / "kb_entries.json").read_text("utf-8"))["entries"]


def questions() -> list[dict]:
    return json.loads((DATA / "kb_questions.json").read_text("utf-8"))


def load_base(db, now) -> dict[str, int]:
    """Imports the base; returns entry key → id."""
    with db.write() as s:
        import_rows(s, entries(), now=now)
    from community.kb.models import KbEntry
    from sqlmodel import select
    with db.read() as s:
        return {e.key: e.id for e in s.exec(select(KbEntry))}


def store_message(db, account_id: int, data: dict, at, report_id: str):
    with db.write() as s:
        account = s.get(WechatAccount, account_id)
        message, _new = record_device_message(s, account, data, at, report_id)
        return message.conversation_id
