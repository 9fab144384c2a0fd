"""Which customers a grouping or allocation rule means: the rule's audience spec (自定义条件 with
包含/不包含标签, or 自定义SQL) turned into filters on Customer.id.

A SQL audience runs in the read-only sandbox before the rule's write transaction opens, so the
marketer's SELECT never runs inside a write; its ids come back as batches, a conditions audience
as one sub-SELECT. Recycled customers are never part of an audience.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterator, Optional

from sqlmodel import Session

from config.db import Database
from crm.customers.audience import audience_ids, audience_select, validate_spec
from crm.customers.models import Customer
from crm.errors import CrmError

BATCH = 5000


def is_sql(spec: dict) -> bool:
    return (spec or {}).get("mode", "conditions") == "sql"


def resolve(db: Database, spec: dict, now: datetime, tz: str) -> Optional[list[int]]:
    """The ids of a SQL audience (run read-only, outside any write), None for a conditions one."""
    return audience_ids(db, spec, now, tz) if is_sql(spec) else None


def filters(session: Session, spec: dict, sql_ids: Optional[list[int]], now: datetime, tz: str) -> Iterator:
    """Boolean filters on Customer.id, one per batch, whose union is the audience."""
    if sql_ids is None:
        yield Customer.id.in_(audience_select(session, spec, now, tz))
        return
    for start in range(0, len(sql_ids), BATCH):
        yield Customer.id.in_(sql_ids[start:start + BATCH])


def check(session: Session, spec, tz: str, errors: dict) -> dict:
    """A clean copy of the spec; what is wrong goes into `errors` (field → Chinese message)."""
    spec = dict(spec) if isinstance(spec, dict) else {}
    spec.setdefault("mode", "conditions")
    try:
        validate_spec(session, spec, tz)
    except CrmError as exc:
        errors.update({"rule": exc.message, **exc.errors})
        return {}
    keep = ("mode", "rows", "include_tags", "exclude_tags", "sql")
    return {k: spec[k] for k in keep if k in spec}
