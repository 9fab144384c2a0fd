"""Writing one chunk of checked import rows in a handful of set-based statements: the rows go
into a temporary table (executemany), are matched to existing customers (mobile first, then
e-mail), existing customers are updated field by field (an empty cell keeps the old value, custom
fields are merged), new ones are inserted with INSERT … SELECT, then group links, tags and growth
records are added for the whole chunk at once. Existing group relations are never touched."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Optional

from sqlalchemy import (Boolean, Date, Integer, String, Text, case, cast, column, delete, func, insert, literal,
                        select, table, text, update)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Session

from config.pii_column import CONTACT_FIELDS, seal, with_indexes
from crm.customers.growth import record_growth_bulk
from crm.customers.import_rows import RowError
from crm.customers.models import Customer
from crm.scope import SYSTEM, Viewer, customers as customer_scope

TMP = "tmp_customer_import"
_COLUMNS = (("row_no", Integer), ("customer_id", Integer), ("name", String), ("mobile", String), ("email", String),
            ("wechat_id", String), ("gender", String), ("birthday", Date), ("city", String), ("source", String),
            ("company_id", Integer), ("attrs", Text), ("missing_new", String), ("is_new", Boolean),
            ("mobile_bidx", String), ("mobile_tail_bidx", String), ("email_bidx", String))
_SQL_TYPES = {Integer: "INTEGER", String: "TEXT", Date: "DATE", Text: "TEXT", Boolean: "BOOLEAN"}
UPDATABLE = ("name", "mobile", "email", "wechat_id", "gender", "birthday", "city", "source", "company_id",
             "mobile_bidx", "mobile_tail_bidx", "email_bidx")

tmp = table(TMP, *(column(n, t()) for n, t in _COLUMNS))


def _create(session: Session, pg: bool) -> None:
    session.execute(text(f"DROP TABLE IF EXISTS {TMP}"))
    cols = ", ".join(f"{n} {_SQL_TYPES[t]}" for n, t in _COLUMNS)
    session.execute(text(f"CREATE TEMP TABLE {TMP} ({cols}){' ON COMMIT DROP' if pg else ''}"))
    for name in ("mobile_bidx", "email_bidx", "customer_id"):
        session.execute(text(f"CREATE INDEX {TMP}_{name} ON {TMP} ({name})"))


def _load(session: Session, rows: list[dict], company_ids: dict[str, int]) -> None:
    params = []
    for r in rows:
        # Contacts enter even the temporary table sealed, with their blind indexes beside them.
        contacts = with_indexes({"mobile": r.get("mobile"), "email": r.get("email")}, CONTACT_FIELDS)
        contacts.update(mobile=seal(r.get("mobile")), email=seal(r.get("email")))
        params.append({"row_no": r["row_no"], "customer_id": None, "name": r.get("name"), **contacts,
                       "wechat_id": r.get("wechat_id"), "gender": r.get("gender"),
                       "birthday": r.get("birthday"), "city": r.get("city"), "source": r.get("source"),
                       "company_id": company_ids.get(r.get("company") or ""),
                       "attrs": json.dumps(r["attrs"], ensure_ascii=False) if r.get("attrs") else None,
                       "missing_new": r.get("missing_new"), "is_new": False})
    if params:
        session.execute(insert(tmp), params)


def _match(session: Session) -> None:
    for key in ("mobile_bidx", "email_bidx"):
        found = select(Customer.id).where(getattr(Customer, key) == tmp.c[key]).limit(1).scalar_subquery()
        session.execute(update(tmp).values(customer_id=found)
                        .where(tmp.c.customer_id.is_(None), tmp.c[key].is_not(None)))


def _reject(session: Session, stmt, column_label: str, reason) -> list[RowError]:
    errors = [RowError(row[0], column_label, reason(row)) for row in session.execute(stmt)]
    if errors:
        session.execute(delete(tmp).where(tmp.c.row_no.in_([e.row for e in errors])))
    return errors


def _conflicts(session: Session, viewer: Viewer) -> list[RowError]:
    errors = []
    if not viewer.system:  # an import updates only customers its uploader may see (crm.scope), naming none else
        visible = select(Customer.id).where(customer_scope(viewer))
        errors += _reject(
            session, select(tmp.c.row_no).where(tmp.c.customer_id.is_not(None), ~tmp.c.customer_id.in_(visible)),
            "手机号", lambda r: "手机号或邮箱已属于另一位客户（不在你的可见范围内），未导入")
        errors += _reject(
            session, select(tmp.c.row_no).join(Customer, Customer.email_bidx == tmp.c.email_bidx)
            .where(tmp.c.customer_id.is_not(None), Customer.id != tmp.c.customer_id, ~Customer.id.in_(visible)),
            "邮箱", lambda r: "邮箱已被另一位客户使用（不在你的可见范围内）")
    errors += _reject(
        session,
        select(tmp.c.row_no, Customer.id, Customer.name).join(Customer, Customer.email_bidx == tmp.c.email_bidx)
        .where(tmp.c.customer_id.is_not(None), Customer.id != tmp.c.customer_id),
        "邮箱", lambda r: f"邮箱已被另一个客户「{r[2] or '未命名'}」（编号 {r[1]}）使用")
    first = select(tmp.c.customer_id, func.min(tmp.c.row_no).label("first")).where(
        tmp.c.customer_id.is_not(None)).group_by(tmp.c.customer_id).having(func.count() > 1).subquery()
    errors += _reject(
        session,
        select(tmp.c.row_no, first.c.first).join(first, first.c.customer_id == tmp.c.customer_id)
        .where(tmp.c.row_no > first.c.first),
        "手机号", lambda r: f"与第 {r[1]} 行对应同一个已有客户")
    errors += _reject(
        session,
        select(tmp.c.row_no, tmp.c.missing_new).where(tmp.c.customer_id.is_(None), tmp.c.missing_new.is_not(None)),
        "姓名", lambda r: f"新客户需要填写：{r[1]}")
    return errors


def _merged_attrs(pg: bool):
    if pg:
        return case((tmp.c.attrs.is_(None), Customer.attrs), else_=Customer.attrs.op("||")(cast(tmp.c.attrs, JSONB)))
    return case((tmp.c.attrs.is_(None), Customer.attrs), else_=func.json_patch(Customer.attrs, tmp.c.attrs))


def _update_existing(session: Session, now: datetime, pg: bool) -> None:
    values = {k: func.coalesce(tmp.c[k], getattr(Customer, k)) for k in UPDATABLE}
    values["attrs"] = _merged_attrs(pg)
    values["updated_at"] = literal(now, Customer.__table__.c.updated_at.type)
    session.execute(update(Customer.__table__).values(**values).where(Customer.__table__.c.id == tmp.c.customer_id))


def _insert_new(session: Session, now: datetime, pg: bool) -> None:
    session.execute(update(tmp).values(is_new=True).where(tmp.c.customer_id.is_(None)))
    c = Customer.__table__.c
    attrs = func.coalesce(cast(tmp.c.attrs, JSONB), text("'{}'::jsonb")) if pg else func.coalesce(tmp.c.attrs, "{}")
    source = select(
        func.coalesce(tmp.c.name, ""), tmp.c.mobile, tmp.c.email, tmp.c.wechat_id, func.coalesce(tmp.c.gender, ""),
        tmp.c.birthday, func.coalesce(tmp.c.city, ""), func.coalesce(tmp.c.source, ""), tmp.c.company_id,
        literal("active"), literal(0), literal(0), attrs, literal(now, c.created_at.type),
        literal(now, c.updated_at.type), tmp.c.mobile_bidx, tmp.c.mobile_tail_bidx, tmp.c.email_bidx,
    ).where(tmp.c.is_new.is_(True)).order_by(tmp.c.row_no)
    session.execute(insert(Customer.__table__).from_select(
        ["name", "mobile", "email", "wechat_id", "gender", "birthday", "city", "source", "company_id", "status",
         "tag_score", "follow_count", "attrs", "created_at", "updated_at", "mobile_bidx", "mobile_tail_bidx",
         "email_bidx"], source))
    _match(session)  # the new rows now find the customers just inserted


def write_chunk(session: Session, rows: list[dict], *, company_ids: dict[str, int], group_id: Optional[int],
                tag_ids: list[int], operator_id: Optional[int], now: datetime, tz: str,
                viewer: Viewer = SYSTEM) -> tuple[int, int, list[RowError]]:
    """Writes one chunk inside the caller's transaction; returns (created, updated, row errors).
    With a person's `viewer`, rows matching a customer outside their scope are refused."""
    pg = session.get_bind().dialect.name == "postgresql"
    _create(session, pg)
    try:
        _load(session, rows, company_ids)
        _match(session)
        errors = _conflicts(session, viewer)
        _update_existing(session, now, pg)
        _insert_new(session, now, pg)
        ids = select(tmp.c.customer_id).where(tmp.c.customer_id.is_not(None))
        created = session.scalar(select(func.count()).where(tmp.c.is_new.is_(True)).select_from(tmp)) or 0
        total = session.scalar(select(func.count()).select_from(tmp)) or 0
        record_growth_bulk(session, select(tmp.c.customer_id).where(tmp.c.is_new.is_(True)), "import",
                           "通过导入创建", operator_id, now)
        record_growth_bulk(session, select(tmp.c.customer_id).where(tmp.c.is_new.is_(False)), "import",
                           "通过导入更新资料", operator_id, now)
        if group_id is not None:
            from crm.groups.membership import add_to_group

            add_to_group(session, ids, group_id, operator_id, reason="客户导入", now=now)
        if tag_ids:
            from crm.tags.apply import apply_tags

            customer_ids = list(session.scalars(ids))
            apply_tags(session, customer_ids, tag_ids, operator_id, source="import", now=now, tz=tz)
        return created, total - created, errors
    finally:
        if not pg:
            session.execute(text(f"DROP TABLE IF EXISTS {TMP}"))
