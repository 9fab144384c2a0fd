"""内容库: reusable texts, pictures, links and mini-program cards with tags and categories —
list with search and filters, 新建/编辑/删除. 素材管理 and 朋友圈采集 are in content_materials.py,
敏感词 in content_sensitive.py, all on this blueprint."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from devices import content as service, materials
from web.auth.guards import permission_required
from web.console.devices_common import read, write
from web.console.forms_common import error_map, page_arg, pages, query_args
from web.input_limits import int_values

bp = Blueprint("content", __name__)
PER_PAGE = 20


@bp.get("/content")
@permission_required("content.view")
def index():
    q = service.ContentQuery(keyword=request.args.get("q", "").strip(), kind=request.args.get("kind", ""),
                             category=request.args.get("category", ""), tag=request.args.get("tag", ""),
                             source=request.args.get("source", ""))
    page = page_arg()
    rows, total, (categories, tags) = read(lambda s: (*service.search_items(s, q, page, PER_PAGE), service.facets(s)))
    return render_template("content/index.html", rows=rows, total=total, page=page, pages=pages(total, PER_PAGE), q=q,
                           categories=categories, tags=tags, kind_labels=service.KIND_LABELS,
                           source_labels=service.SOURCE_LABELS, args=query_args("q", "kind", "category", "tag", "source"))


def _values(item=None) -> dict:
    if item is None:
        return {"kind": request.args.get("kind", "text"), "title": "", "text": "", "material_ids": [], "tags": "",
                "category": "", "enabled": True, "link": {}}
    return {"kind": item.kind, "title": item.title, "text": item.text, "material_ids": list(item.material_ids or []),
            "tags": "，".join(item.tags or []), "category": item.category, "enabled": item.enabled,
            "link": dict(item.link or {})}


def _posted() -> dict:
    data = {k: request.form.get(k, "") for k in ("kind", "title", "text", "tags", "category")}
    data["material_ids"] = request.form.getlist("material_ids")
    data["enabled"] = request.form.get("enabled") == "1"
    for key in ("url", "title", "desc", "thumb", "appid", "page"):
        data[f"link_{key}"] = request.form.get(f"link_{key}", "")
    return data


def _form(item, values: dict, errors: dict, status: int = 200):
    library, _ = read(lambda s: materials.list_materials(s, per_page=200))
    if "link" not in values:  # a re-shown post: link fields come back flat
        values["link"] = {k[5:]: v for k, v in values.items() if k.startswith("link_")}
    values["material_ids"] = int_values(values.get("material_ids") or [])
    return render_template("content/form.html", item=item, values=values, errors=errors, library=library,
                           kind_options=list(service.KIND_LABELS.items())), status


@bp.route("/content/new", methods=["GET", "POST"])
@permission_required("content.manage")
def new():
    if request.method == "POST":
        data = _posted()
        try:
            item = write(lambda s: service.create_item(s, data))
        except service.ContentError as exc:
            return _form(None, data, error_map(exc), 400)
        flash(f"已添加内容「{item.title}」", "success")
        return redirect(url_for("content.index"))
    return _form(None, _values(), {})


@bp.route("/content/<int:item_id>/edit", methods=["GET", "POST"])
@permission_required("content.manage")
def edit(item_id: int):
    try:
        item = read(lambda s: service.get_item(s, item_id))
    except service.ContentError:
        abort(404)
    if request.method == "POST":
        data = _posted()
        if item.kind == "moment":
            data = {k: v for k, v in data.items() if not k.startswith("link_")}  # keep the collected media
        try:
            write(lambda s: service.update_item(s, item_id, data))
        except service.ContentError as exc:
            return _form(item, data, error_map(exc), 400)
        flash(f"已保存内容「{data['title'].strip()}」", "success")
        return redirect(url_for("content.index"))
    return _form(item, _values(item), {})


@bp.post("/content/<int:item_id>/delete")
@permission_required("content.manage")
def delete(item_id: int):
    try:
        write(lambda s: service.delete_item(s, item_id))
    except service.ContentError:
        abort(404)
    flash("已删除内容", "success")
    return redirect(url_for("content.index"))


from web.console import content_materials, content_sensitive  # noqa: E402,F401 - routes on this blueprint
