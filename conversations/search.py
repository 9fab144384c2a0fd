"""消息搜索: Chinese substring search over stored chat messages (their text and a link's title),
scoped like the chat, filtered by account / conversation / direction / local days, newest first.

Migration 0030 indexes character bigrams (SQLite: FTS5, PostgreSQL: GIN over ckb_bigrams()); a
query of two or more characters asks the index for messages holding all of its bigrams and checks
each candidate with LIKE, so a hit really contains the words (only the first 2,000 characters of a
message are indexed). A one-character query has no bigram and scans, newest first, until a page is full. Paging is by "more" (LIMIT n+1) with a count capped
at COUNT_CAP: counting every "你好" in three million messages helps nobody.
bench/chat_search.py measures it against an indexed equality lookup."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Callable, Optional

from sqlalchemy import and_, false, func, literal_column, select as sa_select, text, true, union
from sqlmodel import Session, col, select

from config.clock import from_local
from conversations.errors import ConversationError
from conversations.models import ChatMessage, Conversation
from crm.scope import Viewer
from devices.models import WechatAccount

MAX_QUERY = 100
MAX_PER_PAGE = 100
COUNT_CAP = 1000
SCAN_LIMIT = 20_000  # messages in a narrow scope read without the text index (see _narrow)
SNIPPET_CONTEXT = 24
# unicode61 splits tokens at anything but letters, digits and private-use characters; a bigram
# holding such a character is left out of the index query (the LIKE check still applies).
_SEPARATOR = re.compile(r"[^\w]|_", re.UNICODE)


@dataclass
class MessageFilter:
    account_id: Optional[int] = None
    conversation_id: Optional[int] = None
    direction: str = ""  # "" | in | out
    since: Optional[date] = None  # local days, inclusive
    until: Optional[date] = None


@dataclass
class MessageHit:
    message: ChatMessage
    conversation: Conversation
    snippet: list  # [(text, matched: bool)], ready for <mark>


@dataclass
class SearchPage:
    hits: list
    page: int
    per_page: int
    has_more: bool
    total: int  # capped at COUNT_CAP
    capped: bool


def conversation_scope(viewer: Viewer):
    """Conversations `viewer` may read: all with conversations.view_all; with conversations.view those of
    the accounts assigned to them (WechatAccount.owner_user_id) and those transferred to them."""
    if viewer.has("conversations.view_all"):
        return true()
    if viewer.user_id is None or not viewer.has("conversations.view"):
        return false()
    own_accounts = sa_select(WechatAccount.id).where(WechatAccount.owner_user_id == viewer.user_id)
    # A UNION of two index lookups (account, assignee): an OR of the two read every conversation.
    mine = union(sa_select(Conversation.id).where(Conversation.channel == "wechat",
                                                  col(Conversation.account_id).in_(own_accounts)),
                 sa_select(Conversation.id).where(Conversation.assignee_id == viewer.user_id))
    return col(Conversation.id).in_(sa_select(mine.subquery().c[0]))


def _like(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# The searchable text of a message — the same expression migration 0030 indexes.
_DOCUMENT = {"postgresql": "(coalesce(chat_message.text, '') || ' ' || coalesce(chat_message.payload ->> 'title', ''))",
             "sqlite": "(coalesce(chat_message.text, '') || ' ' || coalesce(json_extract(chat_message.payload, '$.title'), ''))"}


def _fts_query(q: str) -> str:
    """The FTS5 query for `q`: every indexable bigram, quoted, ANDed; "" when none is indexable."""
    grams = {q[i:i + 2].lower() for i in range(len(q) - 1)}
    grams = sorted(g for g in grams if not _SEPARATOR.search(g))
    return " AND ".join('"' + g.replace('"', '""') + '"' for g in grams)


def text_condition(session: Session, q: str, use_index: bool = True):
    """A condition on ChatMessage: its text or link title contains `q` (case-insensitive for ASCII);
    without `use_index` a plain LIKE (for a few thousand messages in scope, cheaper than the index)."""
    dialect = session.get_bind().dialect.name
    doc = literal_column(_DOCUMENT["postgresql" if dialect == "postgresql" else "sqlite"])
    pattern = _like(q)
    if dialect == "postgresql":
        contains = doc.ilike(pattern, escape="\\")
        if len(q) >= 2 and use_index:
            indexed = text(f"ckb_bigrams({_DOCUMENT['postgresql']}) @> ckb_bigrams(:ckb_q)").bindparams(ckb_q=q)
            return and_(indexed, contains)
        return contains
    contains = doc.like(pattern, escape="\\")
    match = _fts_query(q) if len(q) >= 2 and use_index else ""
    if not match:
        return contains
    hits = text("SELECT rowid FROM chat_message_search WHERE chat_message_search MATCH :ckb_match") \
        .bindparams(ckb_match=match)
    return and_(col(ChatMessage.id).in_(hits), contains)


def _day_start(day: date, tz: Optional[str]) -> datetime:
    return from_local(datetime.combine(day, time.min), tz)


def _narrow(session: Session, where: list) -> bool:
    """Whether the messages in scope (before the text condition) are few enough to read them all.
    A 业务员's own accounts or one conversation hold a few thousand messages: reading them through
    their conversations beats collecting every hit of a common word in the whole store (measured at
    3M messages: 1.6 s → a few ms for 「价格」 seen by one account's owner)."""
    sample = (sa_select(ChatMessage.id).join(Conversation, Conversation.id == ChatMessage.conversation_id)
              .where(*where).limit(SCAN_LIMIT + 1).subquery())
    return session.execute(sa_select(func.count()).select_from(sample)).scalar_one() <= SCAN_LIMIT


def _conditions(session: Session, viewer: Viewer, q: str, flt: MessageFilter, tz: Optional[str]) -> list:
    where = [conversation_scope(viewer)]
    if flt.account_id is not None:
        where.append(ChatMessage.account_id == flt.account_id)
    if flt.conversation_id is not None:
        where.append(ChatMessage.conversation_id == flt.conversation_id)
    if flt.direction:
        where.append(ChatMessage.direction == flt.direction)
    if flt.since is not None:
        where.append(ChatMessage.sent_at >= _day_start(flt.since, tz))
    if flt.until is not None:
        where.append(ChatMessage.sent_at < _day_start(flt.until + timedelta(days=1), tz))
    narrow = not viewer.has("conversations.view_all") or flt.account_id is not None or flt.conversation_id is not None
    if narrow and _narrow(session, where):
        # Drive the query from the conversations in scope (their message index), not from the text index.
        scoped = sa_select(Conversation.id).where(*where[:1])
        return [*where, col(ChatMessage.conversation_id).in_(scoped), text_condition(session, q, use_index=False)]
    return [*where, text_condition(session, q)]


def _int(args, name: str, errors: dict) -> Optional[int]:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        errors[name] = "应为正整数"
        return None
    return int(raw)


def _day(args, name: str, errors: dict) -> Optional[date]:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = "日期格式应为 YYYY-MM-DD"
        return None


def parse_filter(args) -> MessageFilter:
    """The filter from request arguments (console and API alike): account, conversation, direction
    (in/out), since/until (YYYY-MM-DD, local days). Bad values raise ConversationError naming the field."""
    errors: dict = {}
    flt = MessageFilter(account_id=_int(args, "account", errors), conversation_id=_int(args, "conversation", errors),
                        direction=(args.get("direction") or "").strip(), since=_day(args, "since", errors),
                        until=_day(args, "until", errors))
    if flt.direction not in ("", "in", "out"):
        errors["direction"] = "消息方向只能是 in（收到）或 out（发出）"
    if flt.since and flt.until and flt.since > flt.until:
        errors["until"] = "结束日期不能早于开始日期"
    if errors:
        raise ConversationError("搜索条件有误", errors)
    return flt


def searchable_accounts(session: Session, viewer: Viewer) -> list:
    """The accounts the viewer's search may be narrowed to (the filter's choices)."""
    query = select(WechatAccount).order_by(WechatAccount.id)
    if not viewer.has("conversations.view_all"):
        query = query.where(WechatAccount.owner_user_id == viewer.user_id)
    return list(session.exec(query).all())


def clean_query(q: str) -> str:
    q = " ".join((q or "").split())
    if not q:
        raise ConversationError("请输入要搜索的内容", {"q": "请输入要搜索的内容"})
    if len(q) > MAX_QUERY:
        raise ConversationError(f"搜索内容最多 {MAX_QUERY} 个字", {"q": f"搜索内容最多 {MAX_QUERY} 个字"})
    return q


def search_messages(session: Session, viewer: Viewer, q: str, flt: Optional[MessageFilter] = None, page: int = 1,
                    per_page: int = 20, tz: Optional[str] = None,
                    mask: Optional[Callable[[str], str]] = None) -> SearchPage:
    """Messages containing `q` that `viewer` may read, newest first (by storage order). `mask` (脱敏)
    is applied to the text before the snippet is cut, so a query matching part of a phone number
    never marks the digits around it."""
    q, flt = clean_query(q), flt or MessageFilter()
    if flt.direction and flt.direction not in ("in", "out"):
        raise ConversationError("消息方向只能是 in 或 out", {"direction": "消息方向只能是 in 或 out"})
    if flt.since and flt.until and flt.since > flt.until:
        raise ConversationError("结束日期不能早于开始日期", {"until": "结束日期不能早于开始日期"})
    page, per_page = max(1, int(page)), max(1, min(int(per_page), MAX_PER_PAGE))
    where = _conditions(session, viewer, q, flt, tz)
    joined = select(ChatMessage, Conversation).join(Conversation, Conversation.id == ChatMessage.conversation_id)
    rows = session.exec(joined.where(*where).order_by(col(ChatMessage.id).desc())
                        .offset((page - 1) * per_page).limit(per_page + 1)).all()
    has_more = len(rows) > per_page
    rows = rows[:per_page]
    ids = (sa_select(ChatMessage.id).join(Conversation, Conversation.id == ChatMessage.conversation_id)
           .where(*where).limit(COUNT_CAP + 1).subquery())
    total = session.execute(sa_select(func.count()).select_from(ids)).scalar_one()
    hits = [MessageHit(m, c, snippet(mask(_searchable(m)) if mask else _searchable(m), q)) for m, c in rows]
    return SearchPage(hits, page, per_page, has_more, min(total, COUNT_CAP), total > COUNT_CAP)


def _searchable(message: ChatMessage) -> str:
    title = (message.payload or {}).get("title") or ""
    return f"{message.text or ''} {title}".strip() if title and title not in (message.text or "") else message.text or ""


def snippet(body: str, q: str, context: int = SNIPPET_CONTEXT) -> list:
    """The part of `body` around the first match of `q`, cut into (text, matched) pieces; every
    occurrence inside the window is marked."""
    lower, needle = body.lower(), q.lower()
    first = lower.find(needle)
    if first < 0:
        return [(body[:context * 2], False)]
    start, end = max(0, first - context), min(len(body), first + len(q) + context * 2)
    pieces, cursor = [], start
    if start > 0:
        pieces.append(("…", False))
    while True:
        at = lower.find(needle, cursor, end)
        if at < 0 or at + len(q) > end:
            break
        if at > cursor:
            pieces.append((body[cursor:at], False))
        pieces.append((body[at:at + len(q)], True))
        cursor = at + len(q)
    pieces.append((body[cursor:end] + ("…" if end < len(body) else ""), False))
    return [p for p in pieces if p[0]]
