"""个人标签 for whoever holds 管理自己的个人标签 (a 业务员 without 管理标签): their own tags — only they see
them and apply them to their customers — listed, added, deleted and copied; and 复制 for the ticked
tags of 标签管理 (every visible tag with 管理标签, one's own personal tags otherwise). Routes of
the tags blueprint (web/console/tags.py)."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for

from crm.errors import CrmError, NotFound
from crm.tags import categories, service
from crm.tags.copying import copy_tags
from web.auth.guards import permission_required
from web.console.forms_common import error_map, read, selected_ids
from web.console.tags import _tree_options, bp, uid, write
from web.extensions import services


def _page(values: dict, errors: dict, status: int = 200):
    def load(s):
        rows, _total = service.list_tags(s, uid(), kind="personal", per_page=500)
        return [r for r in rows if r["tag"].owner_id == uid()], categories.flatten(categories.tree(s))

    rows, flat = read(load)
    return render_template("tags/personal.html", rows=rows, values=values, errors=errors,
                           category_options=_tree_options(flat)), status


@bp.route("/tags/personal", methods=["GET", "POST"])
@permission_required("tags.personal")
def personal():
    values = {"name": "", "category_id": "", "score": "0", "validity_days": ""}
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in values}
        try:
            tag = write(lambda s: service.create_tag(s, {**values, "kind": "personal"}, uid(), services().now()))
        except CrmError as exc:
            return _page(values, error_map(exc), 400)
        flash(f"已添加个人标签「{tag.name}」", "success")
        return redirect(url_for("tags.personal"))
    return _page(values, {})


@bp.post("/tags/personal/<int:tag_id>/delete")
@permission_required("tags.personal")
def personal_delete(tag_id: int):
    def delete(s):
        if service.get_tag(s, tag_id, uid()).kind != "personal":
            raise NotFound("标签不存在")
        return service.delete_tag(s, tag_id, uid(), services().now())

    try:
        removed = write(delete)
    except NotFound:
        abort(404)
    flash(f"已删除个人标签（从 {removed} 位客户身上移除）", "success")
    return redirect(url_for("tags.personal"))


@bp.post("/tags/copy")
@permission_required("tags.view")
def copy():
    """复制 the ticked tags (rules included); a copied auto tag starts 禁用."""
    manage = "tags.manage" in g.permissions
    if not manage and "tags.personal" not in g.permissions:
        abort(403)
    ids = selected_ids("ids")
    back = url_for("tags.index") if manage else url_for("tags.personal")
    if not ids:
        flash("请先勾选标签", "error")
        return redirect(back)
    try:
        copies = write(lambda s: copy_tags(s, ids, uid(), personal_only=not manage, now=services().now()))
    except NotFound:
        abort(404)
    names = "、".join(f"「{t.name}」" for t in copies)
    off = "（复制的自动标签已禁用，修改规则后再启用）" if any(t.kind == "auto" for t in copies) else ""
    flash(f"已复制 {len(copies)} 个标签：{names}{off}", "success")
    return redirect(back)
