"""数据结构定义: the custom customer fields an operator defines (key, label, type, enum, required,
order, shown in the list). Each field gets an expression index on its JSON path when it is
created and loses it when it is deleted, so filtering 1M customers on a custom field is an index
search on SQLite and PostgreSQL alike.

Key and type are fixed once created (the index and every stored value depend on them).
Functions take a Session (inside `with db.write() as s:`); bad input raises CrmError.
"""
from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session, select

from crm.customers.enums import get_enum
from crm.customers.fieldset import BUILTIN_FIELDS, KEY_RE, attr_expression
from crm.customers.models import CUSTOM_FIELD_TYPES, CustomField, EnumType
from crm.errors import CrmError, NotFound

TYPE_LABELS = {"text": "文本", "number": "数字", "boolean": "是/否", "date": "日期", "enum": "枚举"}
RESERVED_KEYS = set(BUILTIN_FIELDS) | {"id", "status", "attrs", "tags", "groups", "company", "owner",
                                       "invited_by_id", "company_name"}


def index_name(key: str) -> str:
    return f"ix_customer_attr_{key.lower()}"


def index_ddl(dialect, key: str, field_type: str) -> str:
    """CREATE INDEX on exactly the expression fieldset.attr_expression renders in queries.

    The expression is compiled, not retyped, so queries and index cannot drift apart. The index
    form drops the "customer." qualifier: SQLite forbids "." in index expressions, and both
    databases match an unqualified column in the index against the qualified one in queries.
    """
    expr = attr_expression(key, field_type)
    compiled = str(expr.compile(dialect=dialect, compile_kwargs={"literal_binds": True, "include_table": False}))
    compiled = compiled.replace("customer.attrs", "attrs")
    return f"CREATE INDEX IF NOT EXISTS {index_name(key)} ON customer ({compiled})"


def create_index(session: Session, key: str, field_type: str) -> None:
    conn = session.connection()
    conn.execute(text(index_ddl(conn.dialect, key, field_type)))


def drop_index(session: Session, key: str) -> None:
    session.connection().execute(text(f"DROP INDEX IF EXISTS {index_name(key)}"))


def list_fields(session: Session) -> list[CustomField]:
    return list(session.exec(select(CustomField).order_by(CustomField.position, CustomField.id)))


def get_field(session: Session, field_id: int) -> CustomField:
    row = session.get(CustomField, field_id)
    if row is None:
        raise NotFound("字段不存在或已删除")
    return row


def enum_items_by_field(session: Session) -> dict[str, list[dict]]:
    """{field key: enum items} for every enum field (one query for lists and imports)."""
    enums = {e.id: e.items or [] for e in session.exec(select(EnumType))}
    return {f.key: enums.get(f.enum_id, []) for f in list_fields(session) if f.type == "enum"}


def _flag(value) -> bool:
    return value in (True, "1", "true", "on", "yes", 1)


def _validate(session: Session, data: dict, existing: CustomField | None) -> dict:
    errors = {}
    clean = {"label": str(data.get("label") or "").strip(), "required": _flag(data.get("required")),
             "show_in_list": _flag(data.get("show_in_list"))}
    if not clean["label"] or len(clean["label"]) > 50:
        errors["label"] = "请填写显示名称（最多 50 字）"
    else:
        clash = session.exec(select(CustomField).where(CustomField.label == clean["label"])).first()
        if clash is not None and (existing is None or clash.id != existing.id):
            errors["label"] = f"显示名称「{clean['label']}」已被字段 {clash.key} 使用"
        if clean["label"] in {lbl for _, lbl, _ in BUILTIN_FIELDS.values()}:
            errors["label"] = f"显示名称「{clean['label']}」与内置字段重复"
    try:
        clean["position"] = int(data.get("position") or 0)
    except (TypeError, ValueError):
        errors["position"] = "排序须为整数"
    if existing is None:
        key = str(data.get("key") or "").strip()
        if not KEY_RE.match(key):
            errors["key"] = "字段编码须以字母或下划线开头，只含字母、数字和下划线（最多 32 位）"
        elif key.lower() in RESERVED_KEYS:
            errors["key"] = f"「{key}」是内置字段名，请换一个"
        elif session.exec(select(CustomField).where(CustomField.key == key)).first() is not None:
            errors["key"] = f"字段编码「{key}」已存在"
        clean["key"] = key
        ftype = str(data.get("type") or "text")
        if ftype not in CUSTOM_FIELD_TYPES:
            errors["type"] = "请选择字段类型"
        clean["type"] = ftype
    else:
        ftype = existing.type
    if ftype == "enum":
        try:
            clean["enum_id"] = int(data.get("enum_id") or 0)
            get_enum(session, clean["enum_id"])
        except (TypeError, ValueError, NotFound):
            errors["enum_id"] = "枚举类型的字段需要选择一个枚举"
    else:
        clean["enum_id"] = None
    if errors:
        raise CrmError("字段定义有误，请检查", errors)
    return clean


def create_field(session: Session, data: dict) -> CustomField:
    clean = _validate(session, data, None)
    row = CustomField(**clean)
    session.add(row)
    session.flush()
    create_index(session, row.key, row.type)
    return row


def update_field(session: Session, field_id: int, data: dict) -> CustomField:
    row = get_field(session, field_id)
    for key, value in _validate(session, data, row).items():
        setattr(row, key, value)
    session.add(row)
    session.flush()
    return row


def delete_field(session: Session, field_id: int) -> None:
    """Removes the definition, its index and its stored values (set-based, one UPDATE)."""
    row = get_field(session, field_id)
    drop_index(session, row.key)
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(text("UPDATE customer SET attrs = attrs - :k WHERE attrs ? :k"), {"k": row.key})
    else:
        path = f'$."{row.key}"'
        conn.execute(text("UPDATE customer SET attrs = json_remove(attrs, :p) WHERE json_type(attrs, :p) IS NOT NULL"),
                     {"p": path})
    session.delete(row)
    session.flush()


def reorder_fields(session: Session, order: list[int]) -> None:
    for position, field_id in enumerate(order):
        row = session.get(CustomField, field_id)
        if row is not None:
            row.position = position
            session.add(row)
    session.flush()
