"""/api/v1/tags and /api/v1/tag-categories: 标签管理 over the API — the category tree (create,
rename/move, delete an empty one), tags (search by name / category with its sub-categories /
kind, create, read, update, delete). Personal tags follow the console: only their owner sees them,
another's is 404 like an unknown id. An auto tag's rule is shown read-only (edited on the page);
the number of customers holding each tag is counted over every customer, as the console does."""
from __future__ import annotations

from flask import Blueprint, request

from crm.tags import categories, service
from crm.tags.models import TAG_KINDS
from web.api.common import BadRequest, int_arg, iso, json_body, ok
from web.api.fields import checked
from web.api.lookups import found, register_errors
from web.api.spec import ANY_OBJ, BOOL, INT, STR, api_route, obj
from web.auth.guards import api_auth, current_viewer, has_permission
from web.extensions import services
from web.input_limits import INT_MAX

bp = Blueprint("api_tags", __name__, url_prefix="/api/v1")
register_errors(bp)
VIEW, MANAGE = "tags.view", "tags.manage"
TAG = "标签管理"

CATEGORY_EXAMPLE = {"id": 2, "name": "消费能力", "parent_id": None, "position": 1, "depth": 0,
                    "children": [{"id": 5, "name": "高消费", "parent_id": 2, "position": 0, "depth": 1, "children": []}]}
CATEGORY_NODE = {**obj({"id": INT, "name": STR, "parent_id": {**INT, "nullable": True}, "position": INT, "depth": INT,
                        "children": {"type": "array", "items": ANY_OBJ}}), "example": CATEGORY_EXAMPLE}
CATEGORY_IN = {**obj({"name": {**STR, "maxLength": 100}, "parent_id": {**INT, "nullable": True},
                      "position": INT}, ("name",)),
               "additionalProperties": False, "example": {"name": "高消费", "parent_id": 2, "position": 0}}
CATEGORY_OUT = {**obj({"id": INT, "name": STR, "parent_id": {**INT, "nullable": True}, "position": INT,
                       "object_type": STR}),
                "example": {"id": 5, "name": "高消费", "parent_id": 2, "position": 0, "object_type": "customer"}}
TAG_EXAMPLE = {"id": 9, "name": "VIP", "kind": "manual", "category_id": 2, "category": "消费能力", "validity_days": 30,
               "score": 10, "enabled": True, "customers": 128, "last_run_at": None, "last_run_count": 0,
               "created_at": "2026-12-01T02:00:00+00:00", "updated_at": "2026-12-01T02:00:00+00:00"}
TAG_OUT = {**obj({"id": INT, "name": STR, "kind": {**STR, "enum": list(TAG_KINDS)}, "category_id": INT,
                  "category": STR, "validity_days": {**INT, "nullable": True}, "score": INT, "enabled": BOOL,
                  "customers": {**INT, "description": "持有此标签的客户数"}, "last_run_at": {**STR, "nullable": True},
                  "last_run_count": INT, "created_at": STR, "updated_at": STR,
                  "rule": {**ANY_OBJ, "description": "自动标签的规则（只读；有 tags.manage 时返回）"}}),
           "example": TAG_EXAMPLE}
TAG_IN = {**obj({"name": {**STR, "maxLength": 100},
                 "kind": {**STR, "enum": list(TAG_KINDS), "description": "auto 全局自动 / manual 全局手动 / personal 个人"},
                 "category_id": INT, "validity_days": {**INT, "nullable": True, "description": "有效期（自然日，空为永久）"},
                 "score": INT, "enabled": BOOL}, ("name", "category_id")),
          "additionalProperties": False,
          "example": {"name": "VIP", "kind": "manual", "category_id": 2, "validity_days": 30, "score": 10}}
TAG_LIST_OUT = {**obj({"items": {"type": "array", "items": TAG_OUT}, "total": INT, "page": INT, "per_page": INT}),
                "example": {"items": [TAG_EXAMPLE], "total": 1, "page": 1, "per_page": 20}}


def _tag_dict(tag, category: str = "", customers: int = 0) -> dict:
    out = {"id": tag.id, "name": tag.name, "kind": tag.kind, "category_id": tag.category_id, "category": category,
           "validity_days": tag.validity_days, "score": tag.score, "enabled": tag.enabled, "customers": customers,
           "last_run_at": iso(tag.last_run_at), "last_run_count": tag.last_run_count,
           "created_at": iso(tag.created_at), "updated_at": iso(tag.updated_at)}
    if tag.kind == "auto" and has_permission(MANAGE):
        out["rule"] = tag.rule or {}
    return out


def _category_dict(row) -> dict:
    return {"id": row.id, "name": row.name, "parent_id": row.parent_id, "position": row.position,
            "object_type": row.object_type}


def _category(session, category_id: int):
    return found(lambda: categories.get_category(session, category_id), "标签分类", category_id)


def _tag(session, tag_id: int):
    return found(lambda: service.get_tag(session, tag_id, current_viewer().user_id), "标签", tag_id)


def _described(session, tag) -> dict:
    """One tag as the list shows it (category name, holder count)."""
    rows, _ = service.list_tags(session, current_viewer().user_id, tag.category_id, False, tag.name, tag.kind,
                                per_page=100)
    row = next((r for r in rows if r["tag"].id == tag.id), {"category": "", "count": 0})
    return _tag_dict(tag, row["category"], row["count"])


@api_route(bp, "/tag-categories", "GET", "标签分类树（按显示顺序）", TAG, permission=VIEW, operation_id="listTagCategories",
           responses={"200": {**obj({"items": {"type": "array", "items": CATEGORY_NODE}}),
                              "example": {"items": [CATEGORY_EXAMPLE]}}},
           examples={"200": {"items": [CATEGORY_EXAMPLE]}})
@api_auth(VIEW)
def list_tag_categories():
    with services().db.read() as s:
        return ok({"items": categories.tree(s)})


@api_route(bp, "/tag-categories", "POST", "新建标签分类（可指定上级）", TAG, body=CATEGORY_IN, permission=MANAGE,
           operation_id="createTagCategory", responses={"201": CATEGORY_OUT, "422": "名称为空或重复、上级不存在"},
           examples={"request": CATEGORY_IN["example"], "201": CATEGORY_OUT["example"]})
@api_auth(MANAGE)
def create_tag_category():
    data = checked(json_body(), CATEGORY_IN)
    with services().db.write() as s:
        return ok(_category_dict(categories.create_category(s, data)), 201)


@api_route(bp, "/tag-categories/<int:category_id>", "PUT", "修改标签分类：改名、调整顺序或移动到其他上级（只改提交的字段）", TAG,
           body={k: v for k, v in CATEGORY_IN.items() if k != "required"}, permission=MANAGE,
           operation_id="updateTagCategory",
           responses={"200": CATEGORY_OUT, "404": "分类不存在", "422": "名称重复；不能移动到自己的下级"},
           examples={"request": {"name": "高消费人群"}, "200": {**CATEGORY_OUT["example"], "name": "高消费人群"}})
@api_auth(MANAGE)
def update_tag_category(category_id):
    raw = json_body()
    with services().db.write() as s:
        current = _category(s, category_id)
        data = checked(raw, CATEGORY_IN, partial=True)
        merged = {"name": current.name, "parent_id": current.parent_id, "position": current.position, **data}
        return ok(_category_dict(categories.update_category(s, current.id, merged)))


@api_route(bp, "/tag-categories/<int:category_id>", "DELETE", "删除标签分类（须先清空其中的标签和下级分类）", TAG,
           permission=MANAGE, operation_id="deleteTagCategory",
           responses={"200": {**obj({"deleted": INT}), "example": {"deleted": 5}}, "404": "分类不存在",
                      "422": "分类下还有标签或下级分类"}, examples={"200": {"deleted": 5}})
@api_auth(MANAGE)
def delete_tag_category(category_id):
    with services().db.write() as s:
        categories.delete_category(s, _category(s, category_id).id)
    return ok({"deleted": category_id})


@api_route(bp, "/tags", "GET", "标签列表（名称片段、分类含下级、类型；含持有客户数），分页", TAG, permission=VIEW,
           operation_id="listTags",
           query=[("q", "string", "名称片段"), ("category_id", "integer", "分类（含下级分类）"),
                  ("kind", "string", "auto / manual / personal"), ("page", "integer", "页码"),
                  ("per_page", "integer", "每页条数（最多 200）")],
           responses={"200": TAG_LIST_OUT}, examples={"200": TAG_LIST_OUT["example"]})
@api_auth(VIEW)
def list_tags():
    kind = request.args.get("kind") or ""
    if kind and kind not in TAG_KINDS:
        raise BadRequest("查询参数 kind 应为 auto / manual / personal 之一", {"kind": "kind 取值无效"})
    category_id = int_arg("category_id", maximum=INT_MAX)
    page, per_page = int_arg("page", 1), int_arg("per_page", 20, maximum=200)
    with services().db.read() as s:
        if category_id is not None:
            _category(s, category_id)
        rows, total = service.list_tags(s, current_viewer().user_id, category_id, True,
                                        (request.args.get("q") or "")[:100], kind, page, per_page)
        items = [_tag_dict(r["tag"], r["category"], r["count"]) for r in rows]
    return ok({"items": items, "total": total, "page": page, "per_page": per_page})


@api_route(bp, "/tags", "POST", "新建标签（个人标签只对创建人可见）", TAG, body=TAG_IN, permission=MANAGE,
           operation_id="createTag", responses={"201": TAG_OUT, "422": "字段无效（附字段名）；同分类下重名"},
           examples={"request": TAG_IN["example"], "201": TAG_EXAMPLE})
@api_auth(MANAGE)
def create_tag():
    data = checked(json_body(), TAG_IN)
    svc = services()
    with svc.db.write() as s:
        tag = service.create_tag(s, data, current_viewer().user_id, svc.now())
        return ok(_described(s, tag), 201)


@api_route(bp, "/tags/<int:tag_id>", "GET", "标签详情（自动标签含只读规则）", TAG, permission=VIEW, operation_id="getTag",
           responses={"200": TAG_OUT, "404": "标签不存在（或是他人的个人标签）"}, examples={"200": TAG_EXAMPLE})
@api_auth(VIEW)
def get_tag(tag_id):
    with services().db.read() as s:
        return ok(_described(s, _tag(s, tag_id)))


@api_route(bp, "/tags/<int:tag_id>", "PUT", "修改标签（只改提交的字段；分值和启停随之调整客户的标签分）", TAG,
           body={k: v for k, v in TAG_IN.items() if k != "required"}, permission=MANAGE, operation_id="updateTag",
           responses={"200": TAG_OUT, "404": "标签不存在", "422": "字段无效（附字段名）"},
           examples={"request": {"score": 20, "enabled": False}, "200": {**TAG_EXAMPLE, "score": 20, "enabled": False}})
@api_auth(MANAGE)
def update_tag(tag_id):
    raw = json_body()
    svc = services()
    with svc.db.write() as s:
        current = _tag(s, tag_id)
        data = checked(raw, TAG_IN, partial=True)
        merged = {"name": current.name, "kind": current.kind, "category_id": current.category_id,
                  "validity_days": current.validity_days, "score": current.score, "enabled": current.enabled, **data}
        tag = service.update_tag(s, current.id, merged, current_viewer().user_id, svc.now())
        return ok(_described(s, tag))


@api_route(bp, "/tags/<int:tag_id>", "DELETE", "删除标签（从所有客户身上移除并记入标签历史）", TAG, permission=MANAGE,
           operation_id="deleteTag",
           responses={"200": {**obj({"deleted": INT, "removed_from": {**INT, "description": "移除了此标签的客户数"}}),
                              "example": {"deleted": 9, "removed_from": 128}},
                      "404": "标签不存在", "422": "被其他自动标签的规则引用"},
           examples={"200": {"deleted": 9, "removed_from": 128}})
@api_auth(MANAGE)
def delete_tag(tag_id):
    svc = services()
    with svc.db.write() as s:
        removed = service.delete_tag(s, _tag(s, tag_id).id, current_viewer().user_id, svc.now())
    return ok({"deleted": tag_id, "removed_from": removed})
