"""目标客户群 of a product: edit its audience (condition rows over customer fields, 包含标签 /
不包含标签, a saved 查询方案) with a live 预览 count, and list the target customers — always only
those the signed-in user may see, mobile masked by 脱敏管理. Blueprint "product_audience"."""
from __future__ import annotations

from flask import Blueprint, abort, g, jsonify, render_template, request, url_for

from commerce import audience
from commerce.errors import ProductNotFound
from crm.customers.fieldset import customer_fields
from crm.customers.saved_queries import list_saved
from crm.errors import CrmError
from crm.tags import service as tag_service
from rules.conditions import operators_metadata
from web.auth.guards import current_viewer, permission_required
from web.auth.shell import pii
from web.console.forms_common import json_error, page_arg, pages, read, write
from web.extensions import services

bp = Blueprint("product_audience", __name__)
PER_PAGE = 20
PREVIEW_SIZE = 20


def _uid() -> int:
    return g.user.id


def _tz() -> str:
    return services().settings.timezone


def _product(s, spu_id):
    try:
        return audience.get_product(s, spu_id)
    except ProductNotFound:
        abort(404)


def _editor(s, spu) -> dict:
    aud = {**{"tag_ids": [], "exclude_tag_ids": [], "conditions": [], "saved_query_id": None}, **(spu.audience or {})}
    saved = list_saved(s, _uid())
    return {"rule": {"mode": "conditions", "rows": aud["conditions"], "include_tags": aud["tag_ids"],
                     "exclude_tags": aud["exclude_tag_ids"], "saved_query_id": aud["saved_query_id"], "sql": ""},
            "fields": [{"name": f["name"], "type": f["type"], "label": f["label"]} for f in customer_fields(s)],
            "operators": operators_metadata(),
            "tags": [{"id": t.id, "name": t.name, "kind": t.kind} for t in tag_service.choices(s, _uid())],
            "saved_queries": [{"id": q.id, "name": q.name} for q in saved],
            "save_url": url_for("product_audience.save", spu_id=spu.id),
            "preview_url": url_for("product_audience.preview", spu_id=spu.id),
            "back_url": url_for("product_audience.edit", spu_id=spu.id)}


@bp.get("/products/<int:spu_id>/audience")
@permission_required("products.view")
def edit(spu_id: int):
    page = page_arg()

    def load(s):
        spu = _product(s, spu_id)
        rows, total = audience.members(s, spu.audience or {}, current_viewer(), page, PER_PAGE, services().now(), _tz())
        saved_names = {q["id"]: q["name"] for q in _editor(s, spu)["saved_queries"]}
        return spu, rows, total, _editor(s, spu), saved_names

    spu, rows, total, editor, saved_names = read(load)
    can_edit = "products.manage" in g.permissions
    return render_template("product_audience/edit.html", spu=spu, customers=rows, total=total, page=page,
                           pages=pages(total, PER_PAGE), editor=editor, can_edit=can_edit, saved_names=saved_names,
                           empty=audience.is_empty(spu.audience or {}))


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise CrmError("目标客户群格式错误", {"rule": "请求内容应为 JSON 对象"})
    return body.get("rule") if isinstance(body.get("rule"), dict) else body


def _checked(s, rule: dict) -> dict:
    """The cleaned audience; someone else's personal tag is "not found", as everywhere else."""
    cleaned = audience.clean(s, rule, _tz())
    for tag_id in cleaned["tag_ids"] + cleaned["exclude_tag_ids"]:
        tag_service.get_tag(s, tag_id, _uid())
    return cleaned


@bp.post("/products/<int:spu_id>/audience")
@permission_required("products.manage")
def save(spu_id: int):
    def work(s):
        _product(s, spu_id)
        return audience.save(s, spu_id, _checked(s, _body()), _uid(), _tz())

    try:
        spu = write(work)
    except CrmError as exc:
        return json_error(exc, 422)
    return jsonify({"ok": True, "message": f"已保存「{spu.name}」的目标客户群",
                    "redirect": url_for("product_audience.edit", spu_id=spu.id)})


@bp.post("/products/<int:spu_id>/audience/preview")
@permission_required("products.manage")
def preview(spu_id: int):
    """预览: how many target customers the edited (unsaved) audience has among those this user may
    see, and the first few."""
    def load(s):
        _product(s, spu_id)
        return audience.members(s, _checked(s, _body()), current_viewer(), 1, PREVIEW_SIZE, services().now(), _tz())

    try:
        rows, total = read(load)
    except CrmError as exc:
        return json_error(exc, 422)
    return jsonify({"count": total, "customers": [
        {"id": c.id, "name": c.name, "mobile": pii(c.mobile), "city": c.city, "tag_score": c.tag_score} for c in rows]})
