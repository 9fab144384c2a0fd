"""/api/v1/companies: 公司管理 over the API — list (name / industry search, each with its number of
active customers), read, create, update and delete (the company's customers stay, without a
company). The same rules and the same permission (companies.manage) as the console page; a
company's customer list shows only the customers the token's user may see (crm.scope)."""
from __future__ import annotations

from flask import Blueprint, request

from crm.customers import companies as service
from web.api.common import BadRequest, int_arg, iso, json_body, masked, ok
from web.api.lookups import found, register_errors
from web.api.spec import INT, STR, api_route, obj
from web.auth.guards import api_auth, current_viewer
from web.extensions import services

bp = Blueprint("api_companies", __name__, url_prefix="/api/v1")
register_errors(bp)
MANAGE = "companies.manage"
FIELDS = ("name", "industry", "address", "phone", "remark")

EXAMPLE = {"id": 4, "name": "上海星辰贸易有限公司", "industry": "零售", "address": "上海市浦东新区世纪大道 100 号",
           "phone": "021-5888****", "remark": "年度大客户", "customers": 12, "created_at": "2026-12-01T02:00:00+00:00"}
COMPANY_OUT = {**obj({"id": INT, "name": STR, "industry": STR, "address": STR, "phone": STR, "remark": STR,
                      "customers": {**INT, "description": "在册客户数（详情中为你可见的联系人数）"}, "created_at": STR}), "example": EXAMPLE}
COMPANY_IN = {**obj({"name": {**STR, "maxLength": 200}, "industry": {**STR, "maxLength": 100},
                     "address": {**STR, "maxLength": 300}, "phone": {**STR, "maxLength": 32},
                     "remark": {**STR, "maxLength": 1000}}, ("name",)),
              "additionalProperties": False,
              "example": {"name": "上海星辰贸易有限公司", "industry": "零售", "address": "上海市浦东新区世纪大道 100 号"}}
LIST_OUT = {**obj({"items": {"type": "array", "items": COMPANY_OUT}, "total": INT, "page": INT, "per_page": INT}),
            "example": {"items": [EXAMPLE], "total": 1, "page": 1, "per_page": 20}}
CUSTOMER_OUT = obj({"id": INT, "name": STR, "mobile": STR, "owner_id": INT, "status": STR})
NOT_FOUND = "公司不存在"


def company_dict(row, customers: int | None = None) -> dict:
    return {"id": row.id, "name": row.name, "industry": row.industry, "address": row.address,
            "phone": masked(row.phone), "remark": row.remark, "customers": customers,
            "created_at": iso(getattr(row, "created_at", None))}


def _company(session, company_id: int):
    return found(lambda: service.get_company(session, company_id), "公司", company_id)


def company_body(data: dict, partial: bool) -> dict:
    """The posted fields as strings (a list or number is refused naming the field); PUT keeps
    what it does not name."""
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise BadRequest(f"未知字段：{'、'.join(unknown)}", {k: "未知字段" for k in unknown}, status=422, code="invalid")
    for key, value in data.items():
        if value is not None and not isinstance(value, str):
            raise BadRequest(f"{key} 应为字符串", {key: "应为字符串"}, status=422, code="invalid")
    if not partial and "name" not in data:
        raise BadRequest("请填写公司名称", {"name": "请填写公司名称"}, status=422, code="invalid")
    return data


@api_route(bp, "/companies", "GET", "公司列表（按名称 / 行业搜索，含客户数）", "公司管理", permission=MANAGE,
           operation_id="listCompanies",
           query=[("q", "string", "名称或行业的片段"), ("page", "integer", "页码"), ("per_page", "integer", "每页条数（最多 100）")],
           responses={"200": LIST_OUT}, examples={"200": LIST_OUT["example"]})
@api_auth(MANAGE)
def list_companies():
    q = (request.args.get("q") or "").strip()[:100]
    page, per_page = int_arg("page", 1), int_arg("per_page", 20, maximum=100)
    with services().db.read() as s:
        rows, total = service.list_companies(s, q, page, per_page)
        items = [company_dict(r["company"], r["customers"]) for r in rows]
    return ok({"items": items, "total": total, "page": page, "per_page": per_page})


@api_route(bp, "/companies", "POST", "新建公司", "公司管理", body=COMPANY_IN, permission=MANAGE,
           operation_id="createCompany", responses={"201": COMPANY_OUT, "422": "字段无效（附字段名）；名称重复"},
           examples={"request": COMPANY_IN["example"], "201": EXAMPLE})
@api_auth(MANAGE)
def create_company():
    data = company_body(json_body(), partial=False)
    with services().db.write() as s:
        return ok(company_dict(service.create_company(s, data), 0), 201)


@api_route(bp, "/companies/<int:company_id>", "GET", "公司详情（含本人可见的联系人）", "公司管理", permission=MANAGE,
           operation_id="getCompany",
           responses={"200": {**obj({**COMPANY_OUT["properties"], "contacts": {"type": "array", "items": CUSTOMER_OUT}}),
                              "example": {**EXAMPLE, "contacts": [{"id": 31, "name": "王经理", "mobile": "139****9000",
                                                                   "owner_id": 7, "status": "active"}]}},
                      "404": NOT_FOUND}, examples={"200": EXAMPLE})
@api_auth(MANAGE)
def get_company(company_id):
    with services().db.read() as s:
        row = _company(s, company_id)
        contacts = service.company_customers(s, row.id, current_viewer())
        out = company_dict(row, len(contacts))
        out["contacts"] = [{"id": c.id, "name": c.name, "mobile": masked(c.mobile or ""), "owner_id": c.owner_id,
                            "status": c.status} for c in contacts]
    return ok(out)


@api_route(bp, "/companies/<int:company_id>", "PUT", "修改公司（只改提交的字段）", "公司管理",
           body={k: v for k, v in COMPANY_IN.items() if k != "required"}, permission=MANAGE,
           operation_id="updateCompany", responses={"200": COMPANY_OUT, "404": NOT_FOUND, "422": "字段无效（附字段名）"},
           examples={"request": {"industry": "批发"}, "200": {**EXAMPLE, "industry": "批发"}})
@api_auth(MANAGE)
def update_company(company_id):
    raw = json_body()
    with services().db.write() as s:
        current = _company(s, company_id)
        data = company_body(raw, partial=True)
        merged = {k: data[k] if k in data else getattr(current, k) for k in FIELDS}
        return ok(company_dict(service.update_company(s, company_id, merged)))


@api_route(bp, "/companies/<int:company_id>", "DELETE", "删除公司（其客户保留，不再关联公司）", "公司管理",
           permission=MANAGE, operation_id="deleteCompany",
           responses={"200": {**obj({"deleted": INT}), "example": {"deleted": 4}}, "404": NOT_FOUND},
           examples={"200": {"deleted": 4}})
@api_auth(MANAGE)
def delete_company(company_id):
    with services().db.write() as s:
        service.delete_company(s, _company(s, company_id).id)
    return ok({"deleted": company_id})
