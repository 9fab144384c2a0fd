"""客户档案: creating and editing one customer — built-in fields and custom fields checked and
typed against 数据结构定义, mobile numbers and e-mails written in one normal form, and duplicates
(same mobile, then same e-mail) refused with the existing customer named.

Functions take a Session (inside `with db.write() as s:`); bad input raises CrmError with a
message per form field ("attr_<key>" for custom fields), and nothing is written.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlmodel import Session, select

from config.clock import utcnow
from config.pii import mask_text
from config.pii_column import blind_index
from crm.customers import attrs as attr_values
from crm.customers.fields import enum_items_by_field, list_fields
from crm.customers.growth import record_growth
from crm.customers.models import Company, Customer
from crm.customers.normalize import BadContact, normalize_email, normalize_mobile
from crm.errors import CrmError, NotFound
from crm.events_out import emit
from crm.scope import SYSTEM, Viewer, load, visible_ids

TEXT_FIELDS = {"name": ("姓名", 100), "wechat_id": ("微信号", 64), "city": ("城市", 64), "source": ("来源", 64)}
GENDERS = ("男", "女", "")
FIELD_CACHE = "ckb_customer_fields"  # session.info key, see _field_definitions
BUILTIN_INPUTS = ("name", "mobile", "email", "wechat_id", "gender", "birthday", "city", "source", "company_id",
                  "owner_id", "invited_by_id")


def get_customer(session: Session, customer_id: int, viewer: Viewer) -> Customer:
    """The customer if `viewer` may see it (crm.scope); NotFound for unknown and foreign alike."""
    return load(session, viewer, Customer, customer_id)


def find_duplicate(session: Session, mobile: Optional[str], email: Optional[str],
                   exclude_id: Optional[int] = None) -> tuple[Optional[str], Optional[Customer]]:
    """The customer already holding this mobile (checked first) or e-mail, and which field matched."""
    for field, value in (("mobile", mobile), ("email", email)):
        if not value:
            continue
        query = select(Customer).where(getattr(Customer, f"{field}_bidx") == blind_index(field, value))
        if exclude_id is not None:
            query = query.where(Customer.id != exclude_id)
        found = session.exec(query.limit(1)).first()
        if found is not None:
            return field, found
    return None, None


def _parse_birthday(raw) -> Optional[date]:
    if raw in (None, ""):
        return None
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    return date.fromisoformat(attr_values.to_date_text(raw))


def _optional_id(raw) -> Optional[int]:
    if raw in (None, ""):
        return None
    return int(raw)


def _builtin(session: Session, data: dict, errors: dict, existing: Optional[Customer]) -> dict:
    """Only the keys present in `data` are checked and returned (a partial update keeps the rest)."""
    clean = {}
    for key, (label, limit) in TEXT_FIELDS.items():
        if key in data:
            value = str(data.get(key) or "").strip()
            if len(value) > limit:
                errors[key] = f"{label}最多 {limit} 字"
            clean[key] = value
    if "wechat_id" in clean:
        clean["wechat_id"] = clean["wechat_id"] or None
    for key, fn in (("mobile", normalize_mobile), ("email", normalize_email)):
        if key in data:
            try:
                clean[key] = fn(data.get(key))
            except BadContact as exc:
                errors[key] = str(exc)
    if "gender" in data:
        clean["gender"] = str(data.get("gender") or "").strip()
        if clean["gender"] not in GENDERS:
            errors["gender"] = "性别只能是「男」或「女」"
    if "birthday" in data:
        try:
            clean["birthday"] = _parse_birthday(data.get("birthday"))
        except (ValueError, attr_values.BadAttr):
            errors["birthday"] = f"生日「{data.get('birthday')}」不是日期（例如 1990-05-01）"
    for key, label in (("company_id", "公司"), ("owner_id", "负责人"), ("invited_by_id", "邀请人")):
        if key in data:
            try:
                clean[key] = _optional_id(data.get(key))
            except (TypeError, ValueError):
                errors[key] = f"{label}无效"
    if clean.get("company_id") is not None and session.get(Company, clean["company_id"]) is None:
        errors["company_id"] = "公司不存在"
    if clean.get("invited_by_id") is not None:
        if existing is not None and clean["invited_by_id"] == existing.id:
            errors["invited_by_id"] = "邀请人不能是客户自己"
        elif session.get(Customer, clean["invited_by_id"]) is None:
            errors["invited_by_id"] = "邀请人（客户）不存在"
    name = clean.get("name", existing.name if existing else "")
    if not name and "name" not in errors:
        errors["name"] = "请填写姓名"
    return clean


def _field_definitions(session: Session) -> tuple[dict, list]:
    """(enum items by field, custom fields). A batch of leads creating customers in one
    transaction (crm.leads.batch) puts a dict under session.info[FIELD_CACHE]: read once there."""
    cache = session.info.get(FIELD_CACHE)
    if cache is None:
        return enum_items_by_field(session), list_fields(session)
    if "fields" not in cache:
        cache["fields"] = (enum_items_by_field(session), list_fields(session))
    return cache["fields"]


def _custom(session: Session, raw: dict, errors: dict, existing: Optional[Customer]) -> dict:
    """Typed custom values merged over the stored ones; a blank value removes the key."""
    merged = dict(existing.attrs or {}) if existing else {}
    items, fields = _field_definitions(session)
    for field in fields:
        if field.key in raw:
            try:
                value = attr_values.coerce(field, raw[field.key], items.get(field.key))
            except attr_values.BadAttr as exc:
                errors[f"attr_{field.key}"] = f"{field.label}：{exc}"
                continue
            if value is None:
                merged.pop(field.key, None)
            else:
                merged[field.key] = value
        if field.required and merged.get(field.key) is None and f"attr_{field.key}" not in errors:
            errors[f"attr_{field.key}"] = f"请填写{field.label}"
    return merged


def _duplicates(session: Session, clean: dict, errors: dict, exclude_id: Optional[int], viewer: Viewer) -> None:
    field, other = find_duplicate(session, clean.get("mobile") if "mobile" not in errors else None,
                                  clean.get("email") if "email" not in errors else None, exclude_id)
    if other is not None:
        what = "手机号" if field == "mobile" else "邮箱"
        if visible_ids(session, viewer, Customer, [other.id]):
            errors[field] = f"{what}已被客户「{other.name or '未命名'}」（编号 {other.id}）使用"
        else:  # someone else's customer: say it exists, never whose it is
            errors[field] = f"{what}已被另一位客户使用（不在你的可见范围内，请联系其负责人或管理员）"


def validate_customer(session: Session, data: dict, existing: Optional[Customer] = None,
                      viewer: Viewer = SYSTEM) -> tuple[dict, dict]:
    """(built-in values, merged attrs) or CrmError naming every bad field; a duplicate outside
    `viewer`'s scope is reported without its name."""
    errors: dict = {}
    clean = _builtin(session, data, errors, existing)
    attrs = _custom(session, data.get("attrs") or {}, errors, existing)
    _duplicates(session, clean, errors, existing.id if existing else None, viewer)
    if errors:
        raise CrmError("客户信息有误，请检查标红的字段", errors)
    return clean, attrs


def _refuse_unknown(data: dict) -> None:
    unknown = sorted(k for k in data if k not in BUILTIN_INPUTS and k != "attrs")
    if unknown:
        raise CrmError(f"未知字段：{'、'.join(unknown)}", {k: "未知字段" for k in unknown})


def create_customer(session: Session, data: dict, operator_id: Optional[int] = None,
                    source_note: str = "手工录入", viewer: Viewer = SYSTEM, *, strict: bool = False) -> Customer:
    """strict (the API): keys that are no customer field are refused instead of ignored."""
    if strict:
        _refuse_unknown(data)
    if not viewer.has("customers.view_all"):
        data = {**data, "owner_id": viewer.user_id}  # a salesperson's new customer is theirs, or they could not see it
    clean, attrs = validate_customer(session, data, viewer=viewer)
    now = utcnow()
    row = Customer(**clean, attrs=attrs, created_at=now, updated_at=now)
    session.add(row)
    session.flush()
    record_growth(session, row.id, "create", f"客户创建（{source_note}）", operator_id)
    emit(session, "crm.customer_created", {
        "customer_id": row.id, "customer_name": row.name, "mobile": row.mobile, "email": row.email,
        "owner_id": row.owner_id, "source": row.source, "city": row.city, "created_at": now.isoformat(),
        "operator_id": operator_id})
    return row


def update_customer(session: Session, customer_id: int, data: dict, operator_id: Optional[int] = None, *,
                    viewer: Viewer, strict: bool = False) -> Customer:
    """Updates the fields present in `data`; records which ones changed in the growth record.
    strict (the API): unknown keys are refused, and a contact sent back exactly as the masked
    form shown to a caller without pii.view keeps the stored value."""
    row = get_customer(session, customer_id, viewer)
    if strict:
        _refuse_unknown(data)
        data = {k: v for k, v in data.items()
                if not (k in ("mobile", "email") and getattr(row, k) and v == mask_text(getattr(row, k)))}
    clean, attrs = validate_customer(session, data, row, viewer)
    changed = [k for k, v in clean.items() if getattr(row, k) != v]
    for key in changed:
        setattr(row, key, clean[key])
    if attrs != (row.attrs or {}):
        changed.append("attrs")
        row.attrs = attrs
    if changed:
        row.updated_at = utcnow()
        session.add(row)
        session.flush()
        record_growth(session, row.id, "edit", f"编辑了客户资料（{len(changed)} 项）", operator_id)
    return row
