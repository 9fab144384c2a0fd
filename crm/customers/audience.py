"""Audiences: which customers a tag rule, grouping or allocation rule, or marketing plan means.

A spec is {"mode": "conditions"|"sql", "rows": [...], "include_tags": [ids], "exclude_tags": [ids],
"sql": "..."}: condition rows over customer fields (built-in and custom) compiled to SQL by the
one condition language, plus 包含标签 (any of) and 不包含标签 (none of); or a custom SELECT run in
the read-only sandbox. Customers in the recycle bin are never part of an audience.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable, Optional

from sqlalchemy import exists, func, or_, select
from sqlalchemy.sql import Select
from sqlmodel import Session

from config.clock import utcnow
from config.db import Database
from crm.customers.fieldset import customer_fields, make_column_for, make_value_for
from crm.customers.models import Customer
from crm.customers.sql_sandbox import run_readonly_select
from crm.customers.visibility import visible_customers_clause
from crm.errors import CrmError
from crm.tags.models import CustomerTag, Tag
from rules.conditions import ConditionError, parse_conditions
from rules.conditions.errors import NotExpressible
from rules.conditions.sql import to_sql

MODES = ("conditions", "sql")
CHUNK = 900  # below SQLite's default host-parameter limit


def _tag_ids(spec: dict, key: str) -> list[int]:
    values = spec.get(key) or []
    if not isinstance(values, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise CrmError("标签选择有误", {key: "应为标签 ID 列表"})
    return values


def _tag_clause(tag_ids: list[int], now: datetime):
    return exists().where(CustomerTag.customer_id == Customer.id, CustomerTag.tag_id.in_(tag_ids),
                          or_(CustomerTag.expires_at.is_(None), CustomerTag.expires_at > now))


def validate_spec(session: Session, spec: dict, tz: str | None = None) -> None:
    """Raises CrmError naming every problem; a valid spec compiles."""
    if not isinstance(spec, dict):
        raise CrmError("规则格式错误", {"rule": "规则应为对象"})
    mode = spec.get("mode", "conditions")
    if mode not in MODES:
        raise CrmError("规则类型无效", {"mode": "规则类型应为 自定义条件 或 自定义SQL"})
    include, exclude = _tag_ids(spec, "include_tags"), _tag_ids(spec, "exclude_tags")
    known = set(session.execute(select(Tag.id).where(Tag.id.in_(include + exclude))).scalars()) if include + exclude else set()
    missing = sorted(set(include + exclude) - known)
    if missing:
        raise CrmError("标签不存在", {"include_tags": f"标签 {missing} 不存在"})
    if mode == "sql":
        if not str(spec.get("sql") or "").strip():
            raise CrmError("SQL 不能为空", {"sql": "请填写一条 SELECT 语句"})
        return
    rows = spec.get("rows") or []
    if not rows and not include and not exclude:
        raise CrmError("规则为空", {"rows": "自定义条件与标签不能同时为空"})
    try:
        node = parse_conditions(rows, customer_fields(session), tz)
        to_sql(node, make_column_for(session), utcnow(), make_value_for(session, tz))
    except (ConditionError, NotExpressible) as exc:
        raise CrmError("条件有误", {"rows": getattr(exc, "message", str(exc))}) from None


def audience_select(session: Session, spec: dict, now: datetime | None = None, tz: str | None = None) -> Select:
    """SELECT customer.id of a conditions-mode spec (set-based; use as a subquery)."""
    if spec.get("mode", "conditions") != "conditions":
        raise CrmError("自定义SQL 规则没有条件查询", {"mode": "请用 audience_ids 读取自定义SQL 的结果"})
    now = now or utcnow()
    stmt = select(Customer.id).where(Customer.status == "active")
    rows = spec.get("rows") or []
    if rows:
        node = parse_conditions(rows, customer_fields(session), tz)
        stmt = stmt.where(to_sql(node, make_column_for(session), now, make_value_for(session, tz)))
    include, exclude = _tag_ids(spec, "include_tags"), _tag_ids(spec, "exclude_tags")
    if include:
        stmt = stmt.where(_tag_clause(include, now))
    if exclude:
        stmt = stmt.where(~_tag_clause(exclude, now))
    return stmt


def _filter_ids(session: Session, ids: list[int], spec: dict, now: datetime, visible=None) -> list[int]:
    """Sandbox ids narrowed to active customers, the spec's tag filters and (when given) the
    customers a viewer may see, in chunks."""
    out: list[int] = []
    include, exclude = _tag_ids(spec, "include_tags"), _tag_ids(spec, "exclude_tags")
    for start in range(0, len(ids), CHUNK):
        stmt = select(Customer.id).where(Customer.id.in_(ids[start:start + CHUNK]), Customer.status == "active")
        if visible is not None:
            stmt = stmt.where(visible)
        if include:
            stmt = stmt.where(_tag_clause(include, now))
        if exclude:
            stmt = stmt.where(~_tag_clause(exclude, now))
        out.extend(session.execute(stmt).scalars())
    return sorted(out)


def audience_ids(db: Database, spec: dict, now: datetime | None = None, tz: str | None = None) -> list[int]:
    """Every customer of the audience (jobs: no viewer); a SQL audience runs in the sandbox with
    the configured timeout (CKB_SQL_SANDBOX_TIMEOUT_SECONDS)."""
    now = now or utcnow()
    if spec.get("mode", "conditions") == "sql":
        ids = sorted(set(run_readonly_select(db, spec.get("sql") or "")))
        with db.read() as session:
            return _filter_ids(session, ids, spec, now)
    with db.read() as session:
        return list(session.execute(audience_select(session, spec, now, tz).order_by(Customer.id)).scalars())


Viewer = tuple[Optional[int], Iterable[str]]  # (user id, permissions) of whoever asks


def preview(db: Database, spec: dict, limit: int = 20, now: datetime | None = None, tz: str | None = None,
            viewer: Optional[Viewer] = None) -> dict:
    """How many customers match, and the first few (highest tag score first) to show before saving;
    with a viewer, only among the customers that user may see (a count is information too)."""
    with db.read() as session:
        validate_spec(session, spec, tz)
    now = now or utcnow()
    if spec.get("mode", "conditions") == "sql":
        ids = sorted(set(run_readonly_select(db, spec.get("sql") or "")))
        with db.read() as session:
            visible = visible_customers_clause(session, *viewer) if viewer is not None else None
            ids = _filter_ids(session, ids, spec, now, visible)
            count, sample_ids = len(ids), ids[:limit]
            customers = list(session.execute(select(Customer).where(Customer.id.in_(sample_ids))).scalars())
    else:
        with db.read() as session:
            stmt = audience_select(session, spec, now, tz)
            if viewer is not None:
                stmt = stmt.where(visible_customers_clause(session, *viewer))
            sub = stmt.subquery()
            count = session.execute(select(func.count()).select_from(sub)).scalar() or 0
            customers = list(session.execute(
                select(Customer).where(Customer.id.in_(select(sub.c.id)))
                .order_by(Customer.tag_score.desc(), Customer.id).limit(limit)).scalars())
    return {"count": count, "customers": customers}
