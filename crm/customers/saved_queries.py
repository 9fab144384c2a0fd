"""查询方案: a user's named advanced filters on 客户档案 (condition rows, 包含/不包含标签, sort),
private to that user. Functions take a Session."""
from __future__ import annotations

from sqlmodel import Session, select

from config.clock import utcnow
from crm.customers.listing import check_query
from crm.customers.models import SavedQuery
from crm.errors import CrmError, NotFound

QUERY_KEYS = ("rows", "include_tags", "exclude_tags", "sort")


def clean_query(raw) -> dict:
    raw = raw if isinstance(raw, dict) else {}
    rows = raw.get("rows") if isinstance(raw.get("rows"), list) else []

    def ids(value):
        out = []
        for v in value if isinstance(value, list) else []:
            try:
                out.append(int(v))
            except (TypeError, ValueError):
                continue
        return out

    return {"rows": rows, "include_tags": ids(raw.get("include_tags")), "exclude_tags": ids(raw.get("exclude_tags")),
            "sort": str(raw.get("sort") or "")[:64]}


def list_saved(session: Session, user_id: int) -> list[SavedQuery]:
    return list(session.exec(select(SavedQuery).where(SavedQuery.user_id == user_id).order_by(SavedQuery.name)))


def get_saved(session: Session, user_id: int, query_id: int) -> SavedQuery:
    row = session.get(SavedQuery, query_id)
    if row is None or row.user_id != user_id:
        raise NotFound(f"查询方案不存在（编号 {query_id}）", {"query_id": "查询方案不存在"})
    return row


def save_query(session: Session, user_id: int, name: str, query: dict, tz: str | None = None) -> SavedQuery:
    """Creates the scheme, or overwrites this user's scheme of the same name; a filter that
    would not run (unknown field, unbalanced brackets, bad sort) is refused naming the row."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise CrmError("请填写方案名称（最多 100 字）", {"name": "请填写方案名称（最多 100 字）"})
    check_query(session, clean_query(query), tz)
    row = session.exec(select(SavedQuery).where(SavedQuery.user_id == user_id, SavedQuery.name == name)).first()
    if row is None:
        row = SavedQuery(user_id=user_id, name=name, created_at=utcnow())
    row.query = clean_query(query)
    session.add(row)
    session.flush()
    return row


def delete_saved(session: Session, user_id: int, query_id: int) -> None:
    session.delete(get_saved(session, user_id, query_id))
    session.flush()
