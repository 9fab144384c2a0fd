"""The customer fields conditions can use — built-in columns and operator-defined custom
fields — in the condition language's field format, and the SQL expression behind each.

Custom fields are read from the `attrs` JSON column through `AttrValue`, which renders the JSON
path literally (never as a bound parameter). That is what lets the expression index created for
each custom field (crm.customers.fields) be used by SQLite and PostgreSQL: the query's
expression and the index's expression are the same text.
"""
from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import Boolean, Float, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlmodel import Session, select

from config.clock import to_local
from crm.customers.models import Customer, CustomField
from crm.customers.sealed_search import SealedContact
from rules.conditions.nodes import Comparison

KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")

# name → (condition type, label, column)
BUILTIN_FIELDS: dict[str, tuple[str, str, object]] = {
    "name": ("text", "姓名", Customer.name),
    "mobile": ("text", "手机号", Customer.mobile),
    "email": ("text", "邮箱", Customer.email),
    "wechat_id": ("text", "微信号", Customer.wechat_id),
    "gender": ("text", "性别", Customer.gender),
    "birthday": ("datetime", "生日", Customer.birthday),
    "city": ("text", "城市", Customer.city),
    "source": ("text", "来源", Customer.source),
    "company_id": ("number", "公司", Customer.company_id),
    "owner_id": ("number", "负责人", Customer.owner_id),
    "tag_score": ("number", "标签分值", Customer.tag_score),
    "follow_count": ("number", "跟进次数", Customer.follow_count),
    "last_followed_at": ("datetime", "最后跟进时间", Customer.last_followed_at),
    "created_at": ("datetime", "创建时间", Customer.created_at),
    "updated_at": ("datetime", "更新时间", Customer.updated_at),
}
# Fields other packages add at start (analytics: RFM 分层, 生命周期阶段), so audiences, saved queries and
# tag rules can use them while crm never imports those packages. name → (type, label, column expression).
REGISTERED_FIELDS: dict[str, tuple[str, str, object]] = {}


def register_field(name: str, field_type: str, label: str, column) -> None:
    """Adds (or replaces, on re-import) a condition field computed outside crm."""
    REGISTERED_FIELDS[name] = (field_type, label, column)


DATE_COLUMNS = {"birthday"}
SEALED_FIELDS = {"mobile", "email"}  # encrypted at rest: compared through blind indexes
CUSTOM_TO_CONDITION_TYPE = {"text": "text", "number": "number", "boolean": "boolean", "date": "datetime", "enum": "text"}
_SQL_TYPES = {"number": Float(), "boolean": Boolean(), "text": String(), "date": String(), "enum": String()}


class AttrValue(ColumnElement):
    """customer.attrs[key] typed for comparison; compiled per dialect with a literal path."""

    inherit_cache = True
    # All three are part of the statement cache key (SQLAlchemy's traversal protocol); the column
    # is a child so that CREATE INDEX finds the table and queries render it with their aliases.
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement),
                           ("key", InternalTraversal.dp_string), ("field_type", InternalTraversal.dp_string)]

    def __init__(self, key: str, field_type: str):
        if not KEY_RE.match(key):
            raise ValueError(f"invalid custom field key {key!r}")
        self.column = Customer.__table__.c.attrs
        self.key = key
        self.field_type = field_type
        self.type = _SQL_TYPES.get(field_type, String())

    def get_children(self, **kw):
        return (self.column,)


@compiles(AttrValue)
def _compile_generic(element: AttrValue, compiler, **kw):
    # SQLite: json_extract returns the JSON value natively (numbers as numbers, true as 1).
    return f"json_extract({compiler.process(element.column, **kw)}, '$.\"{element.key}\"')"


@compiles(AttrValue, "postgresql")
def _compile_pg(element: AttrValue, compiler, **kw):
    text = f"({compiler.process(element.column, **kw)} ->> '{element.key}')"
    if element.field_type == "number":
        return f"({text}::double precision)"
    if element.field_type == "boolean":
        return f"({text}::boolean)"
    return text


def custom_fields(session: Session) -> list[CustomField]:
    return list(session.exec(select(CustomField).order_by(CustomField.position, CustomField.id)))


def customer_fields(session: Session) -> list[dict]:
    """Built-in then custom fields as {"name", "type", "label", "custom", "custom_type"}."""
    out = [{"name": n, "type": t, "label": lbl, "custom": False}
           for n, (t, lbl, _) in {**BUILTIN_FIELDS, **REGISTERED_FIELDS}.items()]
    for f in custom_fields(session):
        out.append({"name": f.key, "type": CUSTOM_TO_CONDITION_TYPE.get(f.type, "text"), "label": f.label,
                    "custom": True, "custom_type": f.type, "enum_id": f.enum_id})
    return out


def attr_expression(key: str, custom_type: str) -> ColumnElement:
    """The exact expression used both in queries and in the field's expression index."""
    return AttrValue(key, custom_type)


def make_column_for(session: Session):
    """column_for(leaf) for rules.conditions.sql.to_sql, knowing this database's custom fields."""
    custom = {f.key: f.type for f in custom_fields(session)}

    def column_for(leaf: Comparison):
        if leaf.field in SEALED_FIELDS:
            return SealedContact(Customer, leaf.field, BUILTIN_FIELDS[leaf.field][1])
        if leaf.field in BUILTIN_FIELDS:
            return BUILTIN_FIELDS[leaf.field][2]
        if leaf.field in REGISTERED_FIELDS:
            return REGISTERED_FIELDS[leaf.field][2]
        return attr_expression(leaf.field, custom.get(leaf.field, "text"))

    return column_for


def make_value_for(session: Session, tz: str):
    """Adapts parsed condition values to how each column stores them."""
    custom = {f.key: f.type for f in custom_fields(session)}

    def value_for(leaf: Comparison, value):
        if isinstance(value, datetime):
            if leaf.field in DATE_COLUMNS:
                return to_local(value, tz).date()
            if custom.get(leaf.field) == "date":
                return to_local(value, tz).date().isoformat()  # stored as ISO text in attrs
        if isinstance(value, date) and custom.get(leaf.field) == "date":
            return value.isoformat()
        return value

    return value_for
