"""客户群 sync: groupchat/list (cursor paging) then groupchat/get for each chat; a chat no longer
listed is marked dismissed. `upsert` is shared with the change_external_chat callback."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlmodel import Session, select

from config.clock import utcnow
from integrations.wecom.models import WecomGroupChat

LIMIT = 100


def fetch_ids(client) -> list[str]:
    ids, cursor = [], ""
    while True:
        page = client.post("/cgi-bin/externalcontact/groupchat/list",
                           {"status_filter": 0, "cursor": cursor, "limit": LIMIT})
        ids += [c["chat_id"] for c in page.get("group_chat_list") or []]
        cursor = page.get("next_cursor") or ""
        if not cursor:
            return ids


def fetch_one(client, chat_id: str) -> dict:
    return client.post("/cgi-bin/externalcontact/groupchat/get", {"chat_id": chat_id, "need_name": 1})["group_chat"]


def fetch(client) -> list[dict]:
    return [fetch_one(client, chat_id) for chat_id in fetch_ids(client)]


def upsert(session: Session, corp_pk: int, chat: dict, now=None) -> tuple[WecomGroupChat, bool]:
    row = session.exec(select(WecomGroupChat).where(WecomGroupChat.corp_pk == corp_pk,
                                                    WecomGroupChat.chat_id == chat["chat_id"])).first()
    created = row is None
    row = row or WecomGroupChat(corp_pk=corp_pk, chat_id=chat["chat_id"])
    members = [{"userid": m.get("userid", ""), "type": m.get("type", 0), "name": m.get("name", ""),
                "join_time": datetime.fromtimestamp(int(m.get("join_time") or 0), timezone.utc).isoformat()}
               for m in chat.get("member_list") or []]
    row.name, row.owner_userid = str(chat.get("name") or "")[:200], str(chat.get("owner") or "")
    row.notice = str(chat.get("notice") or "")[:2000]
    row.members, row.member_count, row.dismissed_at = members, len(members), None
    row.synced_at = now or utcnow()
    session.add(row)
    return row, created


def dismiss(session: Session, corp_pk: int, chat_id: str, now=None) -> WecomGroupChat | None:
    row = session.exec(select(WecomGroupChat).where(WecomGroupChat.corp_pk == corp_pk,
                                                    WecomGroupChat.chat_id == chat_id)).first()
    if row is not None and row.dismissed_at is None:
        row.dismissed_at = now or utcnow()
        session.add(row)
    return row


def apply(session: Session, corp_pk: int, chats: list[dict]) -> dict:
    now = utcnow()
    seen, new = set(), 0
    for chat in chats:
        _, created = upsert(session, corp_pk, chat, now)
        new += int(created)
        seen.add(chat["chat_id"])
    dismissed = 0
    for row in session.exec(select(WecomGroupChat).where(WecomGroupChat.corp_pk == corp_pk,
                                                         WecomGroupChat.dismissed_at == None)):  # noqa: E711
        if row.chat_id not in seen:
            dismiss(session, corp_pk, row.chat_id, now)
            dismissed += 1
    session.flush()
    return {"groups": len(seen), "new": new, "dismissed": dismissed}
