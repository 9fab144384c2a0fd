"""/api/v1/customers/search and /api/v1/customers/saved-queries: 高级筛选 over the API — the
console's condition rows (左括号 · 字段 · 操作符 · 值 · 右括号 · 并且/或者, the one condition
language compiled to SQL as audiences are), 包含/不包含标签 and sort, and the caller's own saved
查询方案 (list, save or overwrite by name, delete, run). A bad row is refused naming it; another
user's 查询方案 answers 404 like an unknown id.
"""
from __future__ import annotations

from flask import Blueprint, g

from crm.customers import records, saved_queries
from crm.customers.listing import QUICK_FILTERS, ListQuery
from crm.errors import CrmError
from web.api.common import BadRequest, error_response, iso, json_body, masked, ok
from web.api.customers import PAGE_EXAMPLE, PAGE_OUT, TAG, view_arg
from web.api.spec import INT, STR, api_route, obj
from web.auth.guards import api_auth, current_viewer
from web.extensions import services
from web.input_limits import INT_MAX, INT_MIN

bp = Blueprint("api_customer_search", __name__, url_prefix="/api/v1")
bp.register_error_handler(CrmError, error_response)

MAX_ROWS, MAX_TAGS = 100, 100
ROW = {**obj({"lparen": INT, "field": STR, "op": STR, "value": {"description": "值（类型随字段）"}, "rparen": INT,
              "join": {"type": "string", "enum": ["and", "or"]}}, ("field", "op")), "additionalProperties": True}
TAG_IDS = {"type": "array", "items": INT, "maxItems": MAX_TAGS}
QUERY_FIELDS = {"rows": {"type": "array", "items": ROW, "maxItems": MAX_ROWS}, "include_tags": TAG_IDS,
                "exclude_tags": TAG_IDS, "sort": STR}
QUERY = {**obj(QUERY_FIELDS), "additionalProperties": False}
ROWS_EXAMPLE = [{"lparen": 1, "field": "city", "op": "eq", "value": "上海", "rparen": 0, "join": "or"},
                {"lparen": 0, "field": "city", "op": "eq", "value": "杭州", "rparen": 1, "join": "and"},
                {"field": "tag_score", "op": "gte", "value": 20}]
SEARCH_IN = {**obj({**QUERY_FIELDS, "view": {"type": "string", "enum": ["mine", "all", "grouped", "pool"]},
                    "quick": {"type": "object", "description": "快速筛选 {字段: 文本}：" + "、".join(QUICK_FILTERS),
                              "additionalProperties": {"type": "string"}},
                    "saved_query_id": {**INT, "description": "按本人的查询方案筛选（不能与 rows/标签 同时给出）"},
                    "page": {**INT, "minimum": 1}, "size": {**INT, "minimum": 1, "maximum": 200}}),
             "additionalProperties": False}
SAVED_OUT = obj({"id": INT, "name": STR, "query": QUERY, "created_at": STR})
SAVED_EXAMPLE = {"id": 3, "name": "沪杭高分客户", "query": {"rows": ROWS_EXAMPLE, "include_tags": [7], "exclude_tags": [],
                                                           "sort": "-tag_score"}, "created_at": "2026-12-07T01:00:00+00:00"}
SAVE_IN = {**obj({"name": {**STR, "maxLength": 100}, "query": QUERY}, ("name", "query")), "additionalProperties": False}


def _refuse_unknown(data: dict, allowed) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise BadRequest(f"未知字段：{'、'.join(unknown)}", {k: "未知字段" for k in unknown}, status=422, code="invalid")


def _int_list(data: dict, name: str, limit: int) -> list[int]:
    value = data.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(i, int) and not isinstance(i, bool)
                                              and INT_MIN <= i <= INT_MAX for i in value):
        raise BadRequest(f"{name} 应为整数数组", {name: "应为整数数组"}, status=422, code="invalid")
    if len(value) > limit:
        raise BadRequest(f"{name} 最多 {limit} 个", {name: f"最多 {limit} 个"}, status=422, code="invalid")
    return value


def _int(data: dict, name: str, default=None, low: int = 1, high: int = INT_MAX):
    value = data.get(name)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise BadRequest(f"{name} 应为 {low} 到 {high} 之间的整数", {name: "整数无效"}, status=422, code="invalid")
    return value


def parse_query(data: dict) -> dict:
    """The advanced-filter part of a body, typed; the condition rows themselves are judged by the
    condition language (unknown field, wrong value type, unbalanced brackets → 422 naming the row)."""
    rows = data.get("rows")
    if rows is not None and (not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows)):
        raise BadRequest("rows 应为条件行对象的数组", {"rows": "应为对象数组"}, status=422, code="invalid")
    if rows and len(rows) > MAX_ROWS:
        raise BadRequest(f"rows 最多 {MAX_ROWS} 行", {"rows": f"最多 {MAX_ROWS} 行"}, status=422, code="invalid")
    sort = data.get("sort")
    if sort is not None and (not isinstance(sort, str) or len(sort) > 64):
        raise BadRequest("sort 应为字段名（最多 64 字）", {"sort": "排序无效"}, status=422, code="invalid")
    return {"rows": rows or [], "include_tags": _int_list(data, "include_tags", MAX_TAGS),
            "exclude_tags": _int_list(data, "exclude_tags", MAX_TAGS), "sort": sort or ""}


@api_route(bp, "/customers/search", "POST", "高级筛选客户：条件行（括号、并且/或者）+ 包含/不包含标签 + 排序，或运行查询方案",
           TAG, body=SEARCH_IN, permission="customers.view", operation_id="searchCustomers",
           responses={"200": PAGE_OUT, "404": "查询方案不存在", "422": "条件行有误（指明第几行、哪个字段）"},
           examples={"request": {"view": "all", "rows": ROWS_EXAMPLE, "include_tags": [7], "sort": "-tag_score",
                                 "page": 1, "size": 20}, "200": PAGE_EXAMPLE})
@api_auth("customers.view")
def search_customers():
    data = json_body()
    _refuse_unknown(data, SEARCH_IN["properties"])
    query = parse_query(data)
    saved_id = _int(data, "saved_query_id")
    if saved_id is not None and (query["rows"] or query["include_tags"] or query["exclude_tags"]):
        raise BadRequest("saved_query_id 不能与 rows / include_tags / exclude_tags 同时给出",
                         {"saved_query_id": "与条件行互斥"}, status=422, code="invalid")
    quick = data.get("quick") or {}
    if not isinstance(quick, dict) or any(k not in QUICK_FILTERS or not isinstance(v, str) for k, v in quick.items()):
        raise BadRequest("quick 应为 {字段: 文本}，字段为 " + "、".join(QUICK_FILTERS), {"quick": "快速筛选无效"},
                         status=422, code="invalid")
    q = ListQuery(view=view_arg(data.get("view")), quick={k: v[:100] for k, v in quick.items() if v.strip()},
                  rows=query["rows"], include_tags=query["include_tags"], exclude_tags=query["exclude_tags"],
                  sort=query["sort"], page=_int(data, "page", 1), per_page=_int(data, "size", 20, high=200))
    svc = services()
    with svc.db.read() as session:
        page = records.search_page(session, current_viewer(), q, saved_id, now=svc.now(), tz=svc.settings.timezone)
    return ok(masked(page))


VOCABULARY_EXAMPLE = {
    "fields": [{"name": "city", "type": "text", "label": "城市", "custom": False},
               {"name": "risk", "type": "text", "label": "风险偏好", "custom": True, "custom_type": "enum", "enum_id": 1,
                "items": [{"value": "low", "label": "保守"}]}],
    "operators": [{"key": "eq", "label": "等于", "types": ["text", "number"], "arity": 1}],
    "views": {"mine": "我的客户", "all": "全部客户", "grouped": "已分组", "pool": "公海"}}


@api_route(bp, "/customers/search/fields", "GET", "高级筛选可用的字段（含自定义字段与枚举项）、操作符与视图", TAG,
           permission="customers.view", operation_id="listCustomerSearchFields",
           responses={"200": obj({"fields": {"type": "array", "items": {"type": "object", "additionalProperties": True}},
                                  "operators": {"type": "array", "items": {"type": "object", "additionalProperties": True}},
                                  "views": {"type": "object", "additionalProperties": STR}})},
           examples={"200": VOCABULARY_EXAMPLE})
@api_auth("customers.view")
def search_fields():
    with services().db.read() as session:
        return ok(records.search_vocabulary(session))


def _saved(row) -> dict:
    return {"id": row.id, "name": row.name, "query": row.query, "created_at": iso(row.created_at)}


@api_route(bp, "/customers/saved-queries", "GET", "我的查询方案", TAG, permission="customers.view",
           operation_id="listSavedCustomerQueries", responses={"200": obj({"items": {"type": "array", "items": SAVED_OUT}})},
           examples={"200": {"items": [SAVED_EXAMPLE]}})
@api_auth("customers.view")
def list_saved_queries():
    with services().db.read() as session:
        return ok({"items": [_saved(r) for r in saved_queries.list_saved(session, g.user.id)]})


@api_route(bp, "/customers/saved-queries", "POST", "保存查询方案（同名则覆盖本人的方案；条件不能运行时拒绝）", TAG,
           body=SAVE_IN, permission="customers.view", operation_id="saveCustomerQuery",
           responses={"201": SAVED_OUT, "422": "名称或条件行有误"},
           examples={"request": {"name": SAVED_EXAMPLE["name"], "query": SAVED_EXAMPLE["query"]}, "201": SAVED_EXAMPLE})
@api_auth("customers.view")
def save_query():
    data = json_body()
    _refuse_unknown(data, SAVE_IN["properties"])
    if not isinstance(data.get("name"), str):
        raise BadRequest("name 应为字符串", {"name": "请填写方案名称"}, status=422, code="invalid")
    raw = data.get("query")
    if not isinstance(raw, dict):
        raise BadRequest("query 应为对象 {rows, include_tags, exclude_tags, sort}", {"query": "应为对象"},
                         status=422, code="invalid")
    _refuse_unknown(raw, QUERY_FIELDS)
    svc = services()
    with svc.db.write() as session:
        row = saved_queries.save_query(session, g.user.id, data["name"], parse_query(raw), tz=svc.settings.timezone)
        return ok(_saved(row), 201)


@api_route(bp, "/customers/saved-queries/<int:query_id>", "DELETE", "删除我的查询方案", TAG, permission="customers.view",
           operation_id="deleteSavedCustomerQuery", responses={"200": obj({"deleted": INT}), "404": "查询方案不存在"},
           examples={"200": {"deleted": 3}})
@api_auth("customers.view")
def delete_saved_query(query_id):
    with services().db.write() as session:
        saved_queries.delete_saved(session, g.user.id, query_id)
    return ok({"deleted": query_id})

