"""/api/v1/customer-groups: 客户分组 over the API — every group with its staff (管理员 / 业务员) and
its counts (in the group, in its pool, assigned), create, read, update (members replaced when
given), delete (only an empty group no rule uses), and a group's member list. Permissions as the
console: groups.view to read, groups.manage to change. Customers move between groups through the
customers API (assign / move to group or pool)."""
from __future__ import annotations

from flask import Blueprint

from crm.groups import service
from crm.groups.links import get_group
from web.api.common import json_body, ok
from web.api.fields import checked, invalid
from web.api.lookups import found, register_errors
from web.api.spec import BOOL, INT, STR, api_route, obj
from web.auth.guards import api_auth
from web.extensions import services

bp = Blueprint("api_customer_groups", __name__, url_prefix="/api/v1")
register_errors(bp)
VIEW, MANAGE = "groups.view", "groups.manage"
TAG = "客户分组"

MEMBER = obj({"user_id": INT, "role": {**STR, "enum": list(service.ROLES)}}, ("user_id", "role"))
MEMBER_OUT = {**obj({"user_id": INT, "username": STR, "display_name": STR, "role": STR, "role_label": STR}),
              "example": {"user_id": 7, "username": "sales_li", "display_name": "李娜", "role": "sales",
                          "role_label": "业务员"}}
EXAMPLE = {"id": 3, "name": "电销一组", "remark": "华东区", "allow_requests": True, "requests_per_day": 2,
           "customers_per_request": 20, "position": 1, "total": 120, "pooled": 30, "assigned": 90,
           "members": [MEMBER_OUT["example"]]}
GROUP_OUT = {**obj({"id": INT, "name": STR, "remark": STR, "allow_requests": BOOL, "requests_per_day": INT,
                    "customers_per_request": INT, "position": INT,
                    "total": {**INT, "description": "组内客户数"}, "pooled": {**INT, "description": "组公海客户数"},
                    "assigned": {**INT, "description": "已分配客户数"},
                    "members": {"type": "array", "items": MEMBER_OUT}}), "example": EXAMPLE}
GROUP_IN = {**obj({"name": {**STR, "maxLength": 100}, "remark": {**STR, "maxLength": 500},
                   "allow_requests": {**BOOL, "description": "业务员完成任务后可申请更多客户"},
                   "requests_per_day": {**INT, "minimum": 0, "maximum": service.MAX_PER_DAY},
                   "customers_per_request": {**INT, "minimum": 0, "maximum": service.MAX_PER_REQUEST},
                   "members": {"type": "array", "items": MEMBER, "description": "分组成员（提交时整体替换）"}}, ("name",)),
            "additionalProperties": False,
            "example": {"name": "电销一组", "remark": "华东区", "members": [{"user_id": 7, "role": "sales"},
                                                                      {"user_id": 3, "role": "manager"}]}}
NOT_FOUND = "分组不存在"


def _members(rows: list[dict]) -> list[dict]:
    return [{"user_id": m["user"].id, "username": m["user"].username, "display_name": m["user"].display_name,
             "role": m["role"], "role_label": m["role_label"]} for m in rows]


def _dict(row: dict) -> dict:
    g = row["group"]
    return {"id": g.id, "name": g.name, "remark": g.remark, "allow_requests": g.allow_requests,
            "requests_per_day": g.requests_per_day, "customers_per_request": g.customers_per_request,
            "position": g.position, "total": row["total"], "pooled": row["pooled"], "assigned": row["assigned"],
            "members": _members(row["members"])}


def _group(session, group_id: int):
    return found(lambda: get_group(session, group_id), "客户分组", group_id)


def _one(session, group_id: int) -> dict:
    return _dict(next(r for r in service.list_groups(session) if r["group"].id == group_id))


def _body(data: dict, partial: bool) -> dict:
    checked(data, GROUP_IN, partial=partial)
    for i, member in enumerate(data.get("members") or []):
        if not isinstance(member, dict) or isinstance(member.get("user_id"), bool) \
                or not isinstance(member.get("user_id"), int) or member.get("role", "sales") not in service.ROLES:
            raise invalid(f"members.{i}", "应为 {user_id: 整数, role: manager|sales}")
    return data


@api_route(bp, "/customer-groups", "GET", "客户分组列表（成员、组内 / 组公海 / 已分配客户数）", TAG, permission=VIEW,
           operation_id="listCustomerGroups",
           responses={"200": {**obj({"items": {"type": "array", "items": GROUP_OUT}}), "example": {"items": [EXAMPLE]}}},
           examples={"200": {"items": [EXAMPLE]}})
@api_auth(VIEW)
def list_customer_groups():
    with services().db.read() as s:
        return ok({"items": [_dict(r) for r in service.list_groups(s)]})


@api_route(bp, "/customer-groups", "POST", "新建客户分组（含成员）", TAG, body=GROUP_IN, permission=MANAGE,
           operation_id="createCustomerGroup", responses={"201": GROUP_OUT, "422": "字段无效（附字段名）；重名；成员不存在"},
           examples={"request": GROUP_IN["example"], "201": EXAMPLE})
@api_auth(MANAGE)
def create_customer_group():
    data = _body(json_body(), partial=False)
    with services().db.write() as s:
        group = service.create_group(s, data)
        return ok(_one(s, group.id), 201)


@api_route(bp, "/customer-groups/<int:group_id>", "GET", "客户分组详情", TAG, permission=VIEW,
           operation_id="getCustomerGroup", responses={"200": GROUP_OUT, "404": NOT_FOUND}, examples={"200": EXAMPLE})
@api_auth(VIEW)
def get_customer_group(group_id):
    with services().db.read() as s:
        return ok(_one(s, _group(s, group_id).id))


@api_route(bp, "/customer-groups/<int:group_id>", "PUT", "修改客户分组（只改提交的字段；提交 members 时整体替换成员）", TAG,
           body={k: v for k, v in GROUP_IN.items() if k != "required"}, permission=MANAGE,
           operation_id="updateCustomerGroup", responses={"200": GROUP_OUT, "404": NOT_FOUND, "422": "字段无效（附字段名）"},
           examples={"request": {"remark": "华东与华南"}, "200": {**EXAMPLE, "remark": "华东与华南"}})
@api_auth(MANAGE)
def update_customer_group(group_id):
    raw = json_body()
    with services().db.write() as s:
        g = _group(s, group_id)
        data = _body(raw, partial=True)
        merged = {"name": g.name, "remark": g.remark, "allow_requests": g.allow_requests,
                  "requests_per_day": g.requests_per_day, "customers_per_request": g.customers_per_request, **data}
        service.update_group(s, g.id, merged)
        return ok(_one(s, g.id))


@api_route(bp, "/customer-groups/<int:group_id>", "DELETE", "删除客户分组（须先移出或退回其客户，且没有分组规则使用它）", TAG,
           permission=MANAGE, operation_id="deleteCustomerGroup",
           responses={"200": {**obj({"deleted": INT}), "example": {"deleted": 3}}, "404": NOT_FOUND,
                      "422": "分组不为空或被规则引用"}, examples={"200": {"deleted": 3}})
@api_auth(MANAGE)
def delete_customer_group(group_id):
    with services().db.write() as s:
        service.delete_group(s, _group(s, group_id).id)
    return ok({"deleted": group_id})


@api_route(bp, "/customer-groups/<int:group_id>/members", "GET", "客户分组的成员（管理员与业务员）", TAG, permission=VIEW,
           operation_id="listCustomerGroupMembers",
           responses={"200": {**obj({"items": {"type": "array", "items": MEMBER_OUT}}),
                              "example": {"items": [MEMBER_OUT["example"]]}}, "404": NOT_FOUND},
           examples={"200": {"items": [MEMBER_OUT["example"]]}})
@api_auth(VIEW)
def list_customer_group_members(group_id):
    with services().db.read() as s:
        gid = _group(s, group_id).id
        return ok({"items": _members(service.members_by_group(s).get(gid, []))})
