"""素材管理 (upload, preview, delete) and 朋友圈采集 (mark friends, collect a moment on demand or
every marked friend's new moments) on the 内容库 blueprint."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, send_file, url_for

from devices import accounts, content, materials
from web.auth.guards import permission_required
from web.console.content import bp
from web.console.devices_common import flash_refusal, int_arg, read, uid, write, safe_next
from web.console.forms_common import page_arg, pages, query_args, selected_ids
from web.extensions import services

PER_PAGE = 24


@bp.get("/content/materials", endpoint="materials")
@permission_required("content.view")
def materials_index():
    keyword, page = request.args.get("q", "").strip(), page_arg()
    rows, total = read(lambda s: materials.list_materials(s, keyword, page, PER_PAGE))
    limit = materials.max_bytes(services().settings)
    return render_template("content/materials.html", rows=rows, total=total, page=page, pages=pages(total, PER_PAGE),
                           keyword=keyword, limit_mb=limit // (1024 * 1024), args=query_args("q"))


@bp.post("/content/materials")
@permission_required("content.manage")
def materials_upload():
    svc = services()
    files = [f for f in request.files.getlist("file") if f and f.filename]
    if not files:
        flash("请选择要上传的图片", "error")
        return redirect(url_for("content.materials"))
    saved, limit = 0, materials.max_bytes(svc.settings)
    for upload in files:
        data = upload.stream.read(limit + 1)  # one byte over is enough to know it is too big
        try:
            write(lambda s: materials.save_upload(s, svc.settings, upload.filename, data, uid(), svc.now()))
            saved += 1
        except content.ContentError as exc:
            flash_refusal(exc, f"「{upload.filename}」未上传：")
    if saved:
        flash(f"已上传 {saved} 张图片", "success")
    return redirect(url_for("content.materials"))


@bp.get("/content/materials/<int:material_id>/preview")
@permission_required("content.view")
def material_preview(material_id: int):
    settings = services().settings
    try:
        material = read(lambda s: materials.get_material(s, material_id))
    except content.ContentError:
        abort(404)
    path = materials.file_path(settings, material)
    if path is None or material.mime not in materials.IMAGE_TYPES.values():
        abort(404)
    response = send_file(path, mimetype=material.mime, max_age=3600, conditional=True)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    return response


@bp.post("/content/materials/<int:material_id>/delete")
@permission_required("content.manage")
def material_delete(material_id: int):
    try:
        write(lambda s: materials.delete_material(s, services().settings, material_id))
    except content.ContentError as exc:
        flash_refusal(exc, "不能删除：")
        return redirect(url_for("content.materials"))
    flash("已删除素材", "success")
    return redirect(url_for("content.materials"))


@bp.get("/content/collect")
@permission_required("content.view")
def collect():
    show = request.args.get("show", "new")
    account_id, page = int_arg(request.args.get("account")), page_arg()
    collected = {"new": False, "done": True}.get(show)

    def load(s):
        moments, total = content.list_moments(s, collected=collected, account_id=account_id, page=page)
        return moments, total, content.collecting_friends(s), accounts.account_names(s)

    moments, total, marked, account_names = read(load)
    return render_template("content/collect.html", moments=moments, total=total, page=page, pages=pages(total, 20),
                           marked=marked, account_names=account_names, show=show, account_id=account_id,
                           args=query_args("show", "account"))


@bp.post("/content/collect/moments/<int:moment_id>")
@permission_required("content.manage")
def collect_moment(moment_id: int):
    try:
        item = write(lambda s: content.collect_moment(s, moment_id, services().now()))
    except content.ContentError:
        abort(404)
    flash(f"已采集到内容库：「{item.title}」", "success")
    return redirect(safe_next(url_for("content.collect")))


@bp.post("/content/collect/run")
@permission_required("content.manage")
def collect_run():
    saved = write(lambda s: content.collect_marked(s, services().now()))
    flash(f"已采集 {saved} 条朋友圈到内容库" if saved else "采集对象暂无新的朋友圈", "success")
    return redirect(url_for("content.collect"))


@bp.post("/content/collect/friends")
@permission_required("content.manage")
def collect_friends():
    """Marks (on=1) or unmarks friends found by wxid/nickname search or ticked ids."""
    on = request.form.get("on", "1") == "1"
    ids = selected_ids("friend_ids")
    keyword = request.form.get("q", "").strip()
    if keyword and on:
        found, _ = read(lambda s: accounts.search_friends(s, accounts.FriendQuery(keyword=keyword), per_page=50))
        ids += [f.id for f in found]
    if not ids:
        flash("没有找到要设置的好友", "error")
        return redirect(url_for("content.collect"))
    changed = write(lambda s: content.set_collecting(s, ids, on))
    flash(f"已{'添加' if on else '移除'} {changed} 位采集对象", "success")
    return redirect(url_for("content.collect"))
