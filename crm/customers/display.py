"""How customers read in lists and exports: company and owner names instead of ids, tag names,
enum labels instead of stored values, 是/否 for booleans. One lookup per page, not per row."""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import select
from sqlmodel import Session

from config.clock import format_local
from crm.customers import attrs as attr_values
from crm.customers.fields import enum_items_by_field, list_fields
from crm.customers.models import Company, Customer
from crm.people.models import User
from crm.tags.models import CustomerTag, Tag


def _names(session: Session, model, ids: set, label) -> dict:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {row.id: label(row) for row in session.scalars(select(model).where(model.id.in_(ids)))}


def tag_names(session: Session, customer_ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    if not customer_ids:
        return out
    rows = session.execute(select(CustomerTag.customer_id, Tag.name).join(Tag, Tag.id == CustomerTag.tag_id)
                           .where(CustomerTag.customer_id.in_(customer_ids), Tag.kind != "personal")
                           .order_by(Tag.name))
    for cid, name in rows:
        out.setdefault(cid, []).append(name)
    return out


class Presenter:
    """Formats one page (or export chunk) of customers for the chosen columns."""

    def __init__(self, session: Session, tz: str | None = None):
        self.session = session
        self.fields = {f.key: f for f in list_fields(session)}
        self.enum_items = enum_items_by_field(session)
        self.tz = tz  # None: the configured zone; the list page and the export read the same times

    def rows(self, customers: Iterable[Customer], columns: list[dict]) -> list[dict]:
        customers = list(customers)
        keys = {c["key"] for c in columns}
        companies = _names(self.session, Company, {c.company_id for c in customers}, lambda r: r.name) if "company" in keys else {}
        owners = (_names(self.session, User, {c.owner_id for c in customers}, lambda r: r.display_name or r.username)
                  if "owner" in keys else {})
        tags = tag_names(self.session, [c.id for c in customers]) if "tags" in keys else {}
        out = []
        for c in customers:
            row = {"id": c.id}
            for col in columns:
                row[col["key"]] = self.value(c, col["key"], companies, owners, tags)
            out.append(row)
        return out

    def value(self, c: Customer, key: str, companies: dict, owners: dict, tags: dict) -> str:
        if key == "company":
            return companies.get(c.company_id, "")
        if key == "owner":
            return owners.get(c.owner_id, "")
        if key == "tags":
            return "、".join(tags.get(c.id, []))
        if key in self.fields:
            return attr_values.display(self.fields[key], (c.attrs or {}).get(key), self.enum_items.get(key))
        value = getattr(c, key, None)
        if value is None:
            return ""
        if key in ("created_at", "updated_at", "last_followed_at"):
            return format_local(value, tz_name=self.tz, empty="")
        if key == "birthday":
            return value.isoformat()
        return str(value)
