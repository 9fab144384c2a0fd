"""客户档案 list: the four views (我的客户 / 全部客户 / 已分组 / 公海), header quick filters, the
advanced filter (condition rows + 包含标签/不包含标签 + sort, an audience spec), the column
chooser (built-in and custom fields) and paging — all as one SQL query, restricted to what the
user may see (crm.customers.visibility). Exports run the very same query without paging.

Functions take a Session; a bad filter raises CrmError with a Chinese message.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable, Optional

from sqlalchemy import exists, func, select
from sqlalchemy.sql import Select
from sqlmodel import Session

from config.clock import utcnow
from crm.customers.audience import audience_select, validate_spec
from crm.customers.fields import enum_items_by_field, list_fields
from crm.customers.fieldset import BUILTIN_FIELDS, attr_expression, customer_fields
from crm.customers.models import Customer
from crm.customers.visibility import visible_customers_clause
from crm.errors import CrmError
from crm.groups.models import GroupLink
from rules.conditions import ConditionError
from rules.conditions.errors import NotExpressible

VIEWS = {"mine": "我的客户", "all": "全部客户", "grouped": "已分组", "pool": "公海"}
BUILTIN_COLUMNS = {
    "name": "姓名", "mobile": "手机号", "email": "邮箱", "wechat_id": "微信号", "gender": "性别", "birthday": "生日",
    "city": "城市", "source": "来源", "company": "公司", "owner": "负责人", "tags": "标签", "tag_score": "标签分值",
    "follow_count": "跟进次数", "last_followed_at": "最后跟进", "created_at": "创建时间", "updated_at": "更新时间",
}
DEFAULT_COLUMNS = ("name", "mobile", "email", "city", "source", "owner", "tags", "tag_score", "created_at")
QUICK_FILTERS = ("name", "mobile", "email", "city", "source")
SORTABLE_BUILTIN = set(BUILTIN_FIELDS) | {"id"}


@dataclass
class ListQuery:
    view: str = "all"
    quick: dict = field(default_factory=dict)      # {field name: typed text} from the header filters
    rows: list = field(default_factory=list)       # advanced filter condition rows
    include_tags: list = field(default_factory=list)
    exclude_tags: list = field(default_factory=list)
    sort: str = "-id"
    page: int = 1
    per_page: int = 20

    def spec(self) -> dict:
        return {"mode": "conditions", "rows": list(self.rows), "include_tags": list(self.include_tags),
                "exclude_tags": list(self.exclude_tags)}


def available_columns(session: Session) -> list[dict]:
    """Built-in columns, then custom fields, as {"key", "label", "custom", "default"}."""
    cols = [{"key": k, "label": v, "custom": False, "default": k in DEFAULT_COLUMNS} for k, v in BUILTIN_COLUMNS.items()]
    for f in customer_fields(session):
        if f.get("custom"):
            cols.append({"key": f["name"], "label": f["label"], "custom": True, "custom_type": f["custom_type"],
                         "default": False})
    shown = {f.key for f in list_fields(session) if f.show_in_list}
    for c in cols:
        c["default"] = c["default"] or c["key"] in shown
    return cols


def chosen_columns(session: Session, keys: Optional[Iterable[str]]) -> list[dict]:
    cols = available_columns(session)
    keys = [k for k in (keys or []) if k]
    if not keys:
        return [c for c in cols if c["default"]]
    by_key = {c["key"]: c for c in cols}
    picked = [by_key[k] for k in keys if k in by_key]
    return picked or [c for c in cols if c["default"]]


def _quick_rows(session: Session, quick: dict) -> list[dict]:
    """Header filters as condition rows: text contains, enum/number/boolean equals."""
    fields = {f["name"]: f for f in customer_fields(session)}
    enum_items = enum_items_by_field(session)
    rows = []
    for name, value in (quick or {}).items():
        value = str(value or "").strip()
        f = fields.get(name)
        if not value or f is None or f["type"] == "datetime":
            continue
        op = "contains" if f["type"] == "text" and f.get("custom_type") != "enum" else "eq"
        if f.get("custom_type") == "enum":  # the operator types the label (进取); the value is stored
            value = next((i["value"] for i in enum_items.get(name, []) if value in (i["label"], i["value"])), value)
        rows.append({"field": name, "op": op, "value": value, "join": "and"})
    return rows


def _view_clause(view: str, user_id: Optional[int]):
    linked = exists().where(GroupLink.customer_id == Customer.id)
    if view == "mine":
        return Customer.owner_id == user_id
    if view == "grouped":
        return linked
    if view == "pool":
        return ~linked
    return None


def _order_by(session: Session, sort: str):
    desc = sort.startswith("-")
    name = sort.lstrip("-") or "id"
    if name == "id":
        col = Customer.id
    elif name in BUILTIN_FIELDS:
        col = BUILTIN_FIELDS[name][2]
    else:
        custom = {f["name"]: f for f in customer_fields(session) if f.get("custom")}
        if name not in custom:
            raise CrmError(f"不能按「{name}」排序", {"sort": f"不认识的排序字段「{name}」"})
        col = attr_expression(name, custom[name]["custom_type"])
    return [col.desc() if desc else col.asc(), Customer.id.desc() if desc else Customer.id.asc()]


def filtered_select(session: Session, user_id: Optional[int], permissions: Iterable[str], q: ListQuery,
                    now: Optional[datetime] = None, tz: str | None = None) -> Select:
    """SELECT Customer … for the list (unsorted, unpaged); raises CrmError on a bad filter."""
    if q.view not in VIEWS:
        raise CrmError("未知的客户视图", {"view": f"视图只能是 {'、'.join(VIEWS.values())}"})
    stmt = select(Customer).where(Customer.status == "active", visible_customers_clause(session, user_id, permissions))
    view = _view_clause(q.view, user_id)
    if view is not None:
        stmt = stmt.where(view)
    spec = q.spec()
    spec["rows"] = _quick_rows(session, q.quick) + _joined(spec["rows"])
    if spec["rows"] or spec["include_tags"] or spec["exclude_tags"]:
        try:
            validate_spec(session, spec, tz)
            audience = audience_select(session, spec, now or utcnow(), tz)
        except (ConditionError, NotExpressible) as exc:
            raise CrmError("筛选条件有误", {"rows": getattr(exc, "message", str(exc))}) from None
        # The audience's WHERE applies directly (no IN subquery), so indexes drive the plan.
        stmt = stmt.where(audience.whereclause)
    return stmt


def _joined(rows: list) -> list:
    """Quick-filter rows are AND-ed in front of the advanced rows; brackets keep OR groups intact."""
    rows = [dict(r) for r in rows if isinstance(r, dict)]
    if rows:
        rows[0]["lparen"] = int(rows[0].get("lparen") or 0) + 1
        rows[-1]["rparen"] = int(rows[-1].get("rparen") or 0) + 1
    return rows


def check_query(session: Session, query: dict, tz: str | None = None) -> None:
    """Refuses (CrmError naming `rows` or `sort`) an advanced filter that could not run, so a saved
    查询方案 never fails later when someone opens it."""
    q = ListQuery(rows=query.get("rows") or [], include_tags=query.get("include_tags") or [],
                  exclude_tags=query.get("exclude_tags") or [], sort=query.get("sort") or "-id")
    filtered_select(session, None, (), q, tz=tz)
    _order_by(session, q.sort)


def list_customers(session: Session, user_id: Optional[int], permissions: Iterable[str], q: ListQuery,
                   now: Optional[datetime] = None, tz: str | None = None) -> dict:
    """{"total", "page", "pages", "customers": [Customer]} for one page."""
    stmt = filtered_select(session, user_id, permissions, q, now, tz)
    total = session.scalar(select(func.count()).select_from(stmt.with_only_columns(Customer.id).subquery())) or 0
    per_page = max(1, min(q.per_page, 200))
    pages = max(1, (total + per_page - 1) // per_page)
    page = max(1, min(q.page, pages))
    rows = list(session.scalars(stmt.order_by(*_order_by(session, q.sort or "-id"))
                                .offset((page - 1) * per_page).limit(per_page)))
    return {"total": total, "page": page, "pages": pages, "per_page": per_page, "customers": rows}


def iter_filtered(session: Session, user_id: Optional[int], permissions: Iterable[str], q: ListQuery,
                  now: Optional[datetime] = None, tz: str | None = None, chunk: int = 2000):
    """Every matching customer, sorted, in keyset chunks (exports of any size)."""
    stmt = filtered_select(session, user_id, permissions, q, now, tz).order_by(*_order_by(session, q.sort or "-id"))
    offset = 0
    while True:
        batch = list(session.scalars(stmt.offset(offset).limit(chunk)))
        if not batch:
            return
        yield batch
        offset += len(batch)
