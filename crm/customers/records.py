"""Customers as plain records for machine readers (/api/v1): stored values (not display text),
company and owner names beside their ids, the tags the reader may see (someone else's personal
tags never), and for one customer its groups. One lookup per page, not per row. Callers mask
mobile numbers and e-mails for readers without 查看敏感信息."""
from __future__ import annotations

from typing import Iterable, Optional

from sqlalchemy import or_, select
from sqlmodel import Session

from crm.customers.detail import group_links
from crm.customers.fields import enum_items_by_field
from crm.customers.fieldset import customer_fields
from crm.customers.listing import VIEWS, ListQuery, list_customers
from crm.customers.models import Company, Customer
from crm.customers.saved_queries import get_saved
from crm.customers.service import get_customer
from crm.scope import Viewer
from crm.people.models import User
from crm.tags.models import CustomerTag, Tag
from rules.conditions import operators_metadata

FIELDS = ("id", "name", "mobile", "email", "wechat_id", "gender", "birthday", "city", "source", "company_id",
          "owner_id", "invited_by_id", "status", "tag_score", "follow_count", "last_followed_at", "first_order_at",
          "last_order_at", "order_count", "total_spent_fen", "created_at", "updated_at")


def _iso(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def _names(session: Session, model, ids: set, label) -> dict:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {row.id: label(row) for row in session.scalars(select(model).where(model.id.in_(ids)))}


def _tags(session: Session, customer_ids: list[int], reader_id: Optional[int]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    if not customer_ids:
        return out
    rows = session.execute(select(CustomerTag.customer_id, Tag.id, Tag.name, CustomerTag.source, CustomerTag.expires_at)
                           .join(Tag, Tag.id == CustomerTag.tag_id)
                           .where(CustomerTag.customer_id.in_(customer_ids),
                                  or_(Tag.kind != "personal", Tag.owner_id == reader_id))
                           .order_by(Tag.name))
    for cid, tag_id, name, source, expires in rows:
        out.setdefault(cid, []).append({"id": tag_id, "name": name, "source": source, "expires_at": _iso(expires)})
    return out


def customer_records(session: Session, customers: Iterable[Customer], reader_id: Optional[int]) -> list[dict]:
    customers = list(customers)
    companies = _names(session, Company, {c.company_id for c in customers}, lambda r: r.name)
    owners = _names(session, User, {c.owner_id for c in customers}, lambda r: r.display_name or r.username)
    tags = _tags(session, [c.id for c in customers], reader_id)
    out = []
    for c in customers:
        record = {k: _iso(getattr(c, k)) for k in FIELDS}
        record.update(company=companies.get(c.company_id, ""), owner=owners.get(c.owner_id, ""),
                      attrs=dict(c.attrs or {}), tags=tags.get(c.id, []))
        out.append(record)
    return out


def customer_record(session: Session, customer: Customer, reader_id: Optional[int]) -> dict:
    """One customer with its groups (分组, 跟进人) as well."""
    [record] = customer_records(session, [customer], reader_id)
    record["groups"] = [{k: _iso(v) for k, v in link.items()} for link in group_links(session, customer.id)]
    return record


def read_customer(session: Session, customer_id: int, viewer: Viewer) -> dict:
    """The customer as a record if `viewer` may see it; NotFound otherwise."""
    return customer_record(session, get_customer(session, customer_id, viewer), viewer.user_id)


def search_page(session: Session, viewer: Viewer, q: ListQuery, saved_query_id: Optional[int] = None,
                now=None, tz: str | None = None) -> dict:
    """One page of the 客户档案 list as records: the same views, quick filters, condition rows, tag
    filters and sort as the console; with `saved_query_id` the viewer's 查询方案 supplies the rows
    and tags (and the sort unless one is given). CrmError names a bad filter."""
    if saved_query_id is not None:
        saved = get_saved(session, viewer.user_id, saved_query_id).query or {}
        q.rows, q.include_tags = saved.get("rows") or [], saved.get("include_tags") or []
        q.exclude_tags, q.sort = saved.get("exclude_tags") or [], q.sort or saved.get("sort") or "-id"
    page = list_customers(session, viewer.user_id, viewer.permissions, q, now=now, tz=tz)
    return {"items": customer_records(session, page["customers"], viewer.user_id), "total": page["total"],
            "page": page["page"], "pages": page["pages"], "size": page["per_page"]}


def search_vocabulary(session: Session) -> dict:
    """What condition rows may say: every field (built-in, registered, custom — enum fields with
    their items), every operator with the field types it takes, and the list's views."""
    items = enum_items_by_field(session)
    fields = [{**f, "items": items.get(f["name"], [])} if f.get("custom_type") == "enum" else f
              for f in customer_fields(session)]
    return {"fields": fields, "operators": operators_metadata(), "views": dict(VIEWS)}
