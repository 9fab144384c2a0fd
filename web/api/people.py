"""/api/v1/users and /api/v1/departments: 用户管理 and 组织架构, read-only over the API — what the
console's user list shows (name, roles, departments, enabled, 待改密码, last login; mobile and
e-mail masked unless the caller holds pii.view) and the department tree with member counts and a
department's members. Never a password hash, a token or a lockout counter. Permissions as the
console: users.view for users, org.manage for the department tree."""
from __future__ import annotations

from flask import Blueprint, request

from crm.people import departments, users
from crm.people.errors import PeopleError
from web.api.common import BadRequest, error_response, int_arg, iso, masked, ok
from web.api.lookups import register_errors
from web.api.spec import BOOL, INT, STR, api_route, obj
from web.auth.guards import api_auth
from web.extensions import services
from web.input_limits import INT_MAX

bp = Blueprint("api_people", __name__, url_prefix="/api/v1")
register_errors(bp)
bp.register_error_handler(PeopleError, error_response)
USERS, ORG = "users.view", "org.manage"
TAG = "用户与组织"

ROLE_OUT = obj({"code": STR, "name": STR})
DEPT_REF = obj({"id": INT, "name": STR})
USER_EXAMPLE = {"id": 7, "username": "sales_li", "display_name": "李娜", "mobile": "139****9000",
                "email": "l***@example.com", "enabled": True, "is_admin": False, "must_change_password": False,
                "roles": [{"code": "sales", "name": "业务员"}], "departments": [{"id": 2, "name": "电销一部"}],
                "last_login_at": "2026-12-07T01:20:00+00:00", "created_at": "2026-11-01T02:00:00+00:00"}
USER_OUT = {**obj({"id": INT, "username": STR, "display_name": STR,
                   "mobile": {**STR, "description": "无 pii.view 时脱敏"}, "email": {**STR, "description": "无 pii.view 时脱敏"},
                   "enabled": BOOL, "is_admin": BOOL, "must_change_password": BOOL,
                   "roles": {"type": "array", "items": ROLE_OUT}, "departments": {"type": "array", "items": DEPT_REF},
                   "last_login_at": {**STR, "nullable": True}, "created_at": STR}), "example": USER_EXAMPLE}
DEPT_EXAMPLE = {"id": 1, "name": "销售中心", "parent_id": None, "position": 0, "member_count": 3, "depth": 0,
                "children": [{"id": 2, "name": "电销一部", "parent_id": 1, "position": 0, "member_count": 8, "depth": 1,
                              "children": []}]}
DEPT_OUT = {**obj({"id": INT, "name": STR, "parent_id": {**INT, "nullable": True}, "position": INT,
                   "member_count": {**INT, "description": "直属成员数"}, "depth": INT,
                   "children": {"type": "array", "items": {"type": "object", "additionalProperties": True}}}),
            "example": DEPT_EXAMPLE}


def _user_dict(user, roles, deps) -> dict:
    return {"id": user.id, "username": user.username, "display_name": user.display_name,
            "mobile": masked(user.mobile or ""), "email": masked(user.email or ""), "enabled": user.enabled,
            "is_admin": user.is_admin, "must_change_password": user.must_change_password,
            "roles": [{"code": r.code, "name": r.name} for r in roles],
            "departments": [{"id": d.id, "name": d.name} for d in deps],
            "last_login_at": iso(user.last_login_at), "created_at": iso(user.created_at)}


def _node(node) -> dict:
    return {"id": node.id, "name": node.name, "parent_id": node.parent_id, "position": node.position,
            "member_count": node.member_count, "depth": node.depth, "children": [_node(c) for c in node.children]}


def _department_users(department_id: int, include_children: bool) -> list:
    try:
        return departments.department_users(services().db, department_id, include_children=include_children)
    except PeopleError:
        raise BadRequest(f"部门 {department_id} 不存在", status=404, code="not_found") from None


def _users(rows) -> list[dict]:
    deps = departments.departments_of(services().db, [u.id for u, _ in rows])
    return [_user_dict(u, roles, deps.get(u.id, [])) for u, roles in rows]


@api_route(bp, "/users", "GET", "用户列表（按用户名、姓名或手机号搜索；手机号与邮箱按权限脱敏）", TAG, permission=USERS,
           operation_id="listUsers",
           query=[("q", "string", "用户名、姓名或手机号的片段"), ("department_id", "integer", "只看此部门（含下级）的成员")],
           responses={"200": {**obj({"items": {"type": "array", "items": USER_OUT}}), "example": {"items": [USER_EXAMPLE]}},
                      "404": "部门不存在"},
           examples={"200": {"items": [USER_EXAMPLE]}})
@api_auth(USERS)
def list_users():
    q = (request.args.get("q") or "").strip()[:64]
    department_id = int_arg("department_id", maximum=INT_MAX)
    rows = users.list_users(services().db, q)
    if department_id is not None:
        members = {u.id for u in _department_users(department_id, True)}
        rows = [(u, roles) for u, roles in rows if u.id in members]
    return ok({"items": _users(rows)})


@api_route(bp, "/users/<int:user_id>", "GET", "用户详情（角色、部门、最近登录）", TAG, permission=USERS,
           operation_id="getUser", responses={"200": USER_OUT, "404": "用户不存在"}, examples={"200": USER_EXAMPLE})
@api_auth(USERS)
def get_user(user_id):
    db = services().db
    user = users.get_user(db, user_id)
    if user is None:
        raise BadRequest(f"用户 {user_id} 不存在", status=404, code="not_found")
    return ok(_users([(user, users.roles_of(db, user.id))])[0])


@api_route(bp, "/departments", "GET", "部门树（按显示顺序，含直属成员数）", TAG, permission=ORG,
           operation_id="listDepartments",
           responses={"200": {**obj({"items": {"type": "array", "items": DEPT_OUT}}), "example": {"items": [DEPT_EXAMPLE]}}},
           examples={"200": {"items": [DEPT_EXAMPLE]}})
@api_auth(ORG)
def list_departments():
    return ok({"items": [_node(n) for n in departments.tree(services().db)]})


@api_route(bp, "/departments/<int:department_id>/users", "GET", "部门成员（默认含下级部门）", TAG, permission=ORG,
           operation_id="listDepartmentUsers",
           query=[("include_children", "boolean", "含下级部门（默认 true）")],
           responses={"200": {**obj({"items": {"type": "array", "items": USER_OUT}}), "example": {"items": [USER_EXAMPLE]}},
                      "404": "部门不存在"},
           examples={"200": {"items": [USER_EXAMPLE]}})
@api_auth(ORG)
def list_department_users(department_id):
    flag = request.args.get("include_children", "true")
    if flag not in ("true", "false", "1", "0"):
        raise BadRequest("查询参数 include_children 应为 true 或 false", {"include_children": "取值无效"})
    db = services().db
    members = _department_users(department_id, flag in ("true", "1"))
    roles = {u.id: users.roles_of(db, u.id) for u in members}
    return ok({"items": _users([(u, roles[u.id]) for u in members])})
