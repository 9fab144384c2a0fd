"""/api/v1/customers: 客户档案 over the API — list (the console's views, quick filters, tag filters,
sort, paging, a saved 查询方案), read one (with tags and groups), create, update (built-in and
custom fields checked as the console's form checks them) and delete (移入回收站, as the console
does: the customer leaves its groups and owner and can be restored from 回收站客户).

A 业务员's token sees and changes only their own customers (crm.scope): another's customer
answers 404 like an unknown id. Mobile numbers and e-mails are masked without pii.view.
"""
from __future__ import annotations

from flask import Blueprint, request

from crm.customers import records, service
from crm.customers.bulk import BulkAction, run_bulk
from crm.customers.listing import QUICK_FILTERS, VIEWS, ListQuery
from crm.errors import CrmError
from web.api.common import BadRequest, error_response, int_arg, json_body, masked, ok
from web.api.spec import ANY_OBJ, INT, STR, api_route, obj
from web.auth.guards import api_auth, current_viewer
from web.extensions import services

bp = Blueprint("api_customers", __name__, url_prefix="/api/v1")
bp.register_error_handler(CrmError, error_response)  # CrmError 422 naming the field, NotFound 404

TAG = "客户"
TEXT_INPUTS = ("name", "mobile", "email", "wechat_id", "gender", "birthday", "city", "source")
ID_INPUTS = ("company_id", "owner_id", "invited_by_id")
NULLABLE_STR = {"type": "string", "nullable": True}
NULLABLE_INT = {"type": "integer", "nullable": True}
CUSTOMER_FIELDS = {
    "name": {**STR, "maxLength": 100, "description": "姓名（必填）"}, "mobile": {**NULLABLE_STR, "description": "手机号"},
    "email": {**NULLABLE_STR, "description": "邮箱"}, "wechat_id": {**NULLABLE_STR, "description": "微信号"},
    "gender": {"type": "string", "enum": ["男", "女", ""]}, "birthday": {**NULLABLE_STR, "description": "生日，如 1990-05-01"},
    "city": STR, "source": STR, "company_id": NULLABLE_INT,
    "owner_id": {**NULLABLE_INT, "description": "负责人（无「查看全部客户」时总是本人）"},
    "invited_by_id": {**NULLABLE_INT, "description": "邀请人（客户编号）"},
    "attrs": {**ANY_OBJ, "description": "自定义字段：{字段键: 值}，按「数据结构定义」校验；空值删除该字段"},
}
CUSTOMER_IN = {**obj(CUSTOMER_FIELDS), "additionalProperties": False}
TAG_OUT = obj({"id": INT, "name": STR, "source": STR, "expires_at": NULLABLE_STR})
CUSTOMER_EXAMPLE = {
    "id": 12, "name": "张三", "mobile": "138****8000", "email": "z***@example.com", "wechat_id": "zhangsan_wx",
    "gender": "男", "birthday": "1990-05-01", "city": "上海", "source": "官网表单", "company_id": 3, "company": "星辰科技",
    "owner_id": 5, "owner": "业务员甲", "invited_by_id": None, "status": "active", "tag_score": 30, "follow_count": 2,
    "last_followed_at": "2026-12-06T02:00:00+00:00", "first_order_at": None, "last_order_at": None, "order_count": 0,
    "total_spent_fen": 0, "created_at": "2026-12-01T01:00:00+00:00", "updated_at": "2026-12-06T02:00:00+00:00",
    "attrs": {"level": "vip"}, "tags": [{"id": 7, "name": "高意向", "source": "manual", "expires_at": None}]}
CUSTOMER_OUT = {**obj({**{k: v for k, v in CUSTOMER_FIELDS.items() if k != "attrs"}, "id": INT, "company": STR,
                       "owner": STR, "status": {"type": "string", "enum": ["active", "recycled"]}, "tag_score": INT,
                       "follow_count": INT, "last_followed_at": NULLABLE_STR, "order_count": INT,
                       "total_spent_fen": INT, "created_at": STR, "updated_at": STR, "attrs": ANY_OBJ,
                       "tags": {"type": "array", "items": TAG_OUT}}), "additionalProperties": True}
DETAIL_EXAMPLE = {**CUSTOMER_EXAMPLE, "groups": [{"group_id": 2, "group": "电销一组", "assignee_id": 5,
                                                  "assignee": "业务员甲", "grouped_at": "2026-12-02T01:00:00+00:00",
                                                  "assigned_at": "2026-12-02T01:00:00+00:00",
                                                  "last_followed_at": None}]}
PAGE_OUT = obj({"items": {"type": "array", "items": CUSTOMER_OUT}, "total": INT, "page": INT, "pages": INT,
                "size": INT})
PAGE_EXAMPLE = {"items": [CUSTOMER_EXAMPLE], "total": 1, "page": 1, "pages": 1, "size": 20}
LIST_QUERY = [("view", "string", "视图：mine 我的客户 / all 全部客户 / grouped 已分组 / pool 公海（默认 all）"),
              *[(k, "string", f"快速筛选：{k}（文本包含，枚举/数字相等）") for k in QUICK_FILTERS],
              ("include_tags", "string", "包含标签（逗号分隔的标签编号，全部包含）"),
              ("exclude_tags", "string", "不包含标签（逗号分隔的标签编号）"),
              ("sort", "string", "排序：id、-id、-tag_score、-follow_count、-last_followed_at 或自定义数字/日期字段（- 为倒序）"),
              ("saved_query_id", "integer", "按本人保存的查询方案筛选"),
              ("page", "integer", "页码"), ("size", "integer", "每页条数（最多 200）")]
DELETED_OUT = obj({"id": INT, "status": STR, "changed": INT})


def refuse_wrong_types(data: dict) -> None:
    """JSON types the customer form cannot mistake: a list must not be saved as its repr."""
    errors = {}
    for key in TEXT_INPUTS:
        if data.get(key) is not None and not isinstance(data[key], str):
            errors[key] = f"{key} 应为字符串"
    for key in ID_INPUTS:
        if data.get(key) is not None and (not isinstance(data[key], int) or isinstance(data[key], bool)):
            errors[key] = f"{key} 应为整数"
    attrs = data.get("attrs")
    if attrs is not None and not isinstance(attrs, dict):
        errors["attrs"] = "attrs 应为对象 {字段键: 值}"
    elif attrs:
        errors.update({f"attr_{k}": f"自定义字段 {k} 的值应为字符串、数字或布尔" for k, v in attrs.items()
                       if v is not None and not isinstance(v, (str, int, float, bool))})
    if errors:
        raise BadRequest("客户信息有误：" + "；".join(errors.values()), errors, status=422, code="invalid")


def tag_ids_arg(name: str) -> list[int]:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return []
    try:
        ids = [int(p) for p in raw.split(",") if p.strip()]
    except ValueError:
        raise BadRequest(f"查询参数 {name} 应为逗号分隔的标签编号", {name: "应为逗号分隔的整数"}) from None
    if len(ids) > 100:
        raise BadRequest(f"查询参数 {name} 最多 100 个标签", {name: "最多 100 个"})
    return ids


def view_arg(value) -> str:
    if value in (None, ""):
        return "all"
    if value not in VIEWS:
        raise BadRequest(f"view 应为 {' / '.join(VIEWS)} 之一", {"view": "视图无效"})
    return value


@api_route(bp, "/customers", "GET", "客户列表（视图、快速筛选、标签筛选、排序、分页、查询方案）", TAG,
           permission="customers.view", query=LIST_QUERY, operation_id="listCustomers",
           responses={"200": PAGE_OUT, "404": "查询方案不存在", "422": "筛选条件有误（附字段）"},
           examples={"200": PAGE_EXAMPLE})
@api_auth("customers.view")
def list_customers():
    quick = {k: request.args[k][:100] for k in QUICK_FILTERS if (request.args.get(k) or "").strip()}
    q = ListQuery(view=view_arg(request.args.get("view")), quick=quick, include_tags=tag_ids_arg("include_tags"),
                  exclude_tags=tag_ids_arg("exclude_tags"), sort=(request.args.get("sort") or "")[:64],
                  page=int_arg("page", 1), per_page=int_arg("size", 20, maximum=200))
    svc = services()
    with svc.db.read() as session:
        page = records.search_page(session, current_viewer(), q, int_arg("saved_query_id"), now=svc.now(),
                                   tz=svc.settings.timezone)
    return ok(masked(page))


@api_route(bp, "/customers/<int:customer_id>", "GET", "客户详情（含标签、分组与跟进人）", TAG, permission="customers.view",
           operation_id="getCustomer", responses={"200": CUSTOMER_OUT, "404": "客户不存在或无权查看"},
           examples={"200": DETAIL_EXAMPLE})
@api_auth("customers.view")
def get_customer(customer_id):
    with services().db.read() as session:
        return ok(masked(records.read_customer(session, customer_id, current_viewer())))


def _answer(customer_id: int, status: int = 200):
    with services().db.read() as session:
        return ok(masked(records.read_customer(session, customer_id, current_viewer())), status)


@api_route(bp, "/customers", "POST", "新建客户（内置字段与自定义字段按数据结构定义校验；手机号/邮箱查重）", TAG,
           body={**CUSTOMER_IN, "required": ["name"]}, permission="customers.manage", operation_id="createCustomer",
           responses={"201": CUSTOMER_OUT, "422": "字段无效或手机号/邮箱重复（附字段名）"},
           examples={"request": {"name": "张三", "mobile": "13912345678", "city": "上海", "source": "官网表单",
                                 "attrs": {"level": "vip"}}, "201": CUSTOMER_EXAMPLE})
@api_auth("customers.manage")
def create_customer():
    data = json_body()
    refuse_wrong_types(data)
    with services().db.write() as session:
        created = service.create_customer(session, data, current_viewer().user_id, "API", current_viewer(), strict=True)
    return _answer(created.id, 201)


@api_route(bp, "/customers/<int:customer_id>", "PUT", "修改客户（只改请求中给出的字段；脱敏显示的手机号/邮箱原样传回则不变）",
           TAG, body=CUSTOMER_IN, permission="customers.manage", operation_id="updateCustomer",
           responses={"200": CUSTOMER_OUT, "404": "客户不存在或无权查看", "422": "字段无效（附字段名）"},
           examples={"request": {"city": "杭州", "attrs": {"level": "normal"}}, "200": CUSTOMER_EXAMPLE})
@api_auth("customers.manage")
def update_customer(customer_id):
    data = json_body()
    refuse_wrong_types(data)
    with services().db.write() as session:
        service.update_customer(session, customer_id, data, current_viewer().user_id, viewer=current_viewer(),
                                strict=True)
    return _answer(customer_id)


@api_route(bp, "/customers/<int:customer_id>", "DELETE", "删除客户：移入回收站（离开分组与负责人，可在回收站客户中退回公海）",
           TAG, permission="customers.manage", operation_id="deleteCustomer",
           query=[("reason", "string", "回收原因（最多 500 字）")],
           responses={"200": DELETED_OUT, "404": "客户不存在或无权查看"},
           examples={"200": {"id": 12, "status": "recycled", "changed": 1}})
@api_auth("customers.manage")
def delete_customer(customer_id):
    svc = services()
    req = BulkAction("recycle", [customer_id], reason=(request.args.get("reason") or "").strip())
    with svc.db.write() as session:
        changed = run_bulk(session, current_viewer(), req, strict=True, now=svc.now(), tz=svc.settings.timezone)
    return ok({"id": customer_id, "status": "recycled", "changed": changed})
