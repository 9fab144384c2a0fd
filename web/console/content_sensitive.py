"""敏感词 lists on the 内容库 blueprint: add words (one a line) to a list as 拦截 or 提醒,
enable/disable, delete."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from devices import content, sensitive_admin as service
from web.auth.guards import permission_required
from web.console.content import bp
from web.console.devices_common import flash_refusal, read, write, safe_next
from web.console.forms_common import page_arg, pages, query_args, selected_ids

PER_PAGE = 50


@bp.get("/content/sensitive")
@permission_required("content.view")
def sensitive():
    list_name, keyword, page = request.args.get("list", ""), request.args.get("q", "").strip(), page_arg()
    rows, total, counts = read(lambda s: (*service.list_words(s, list_name=list_name, keyword=keyword, page=page,
                                                             per_page=PER_PAGE), service.list_counts(s)))
    return render_template("content/sensitive.html", rows=rows, total=total, page=page, pages=pages(total, PER_PAGE),
                           list_name=list_name, keyword=keyword, counts=counts, level_labels=service.LEVEL_LABELS,
                           args=query_args("list", "q"))


@bp.post("/content/sensitive")
@permission_required("content.manage")
def sensitive_add():
    list_name = request.form.get("list_name", "")
    try:
        added, skipped = write(lambda s: service.add_words(s, request.form.get("words", ""), list_name,
                                                           request.form.get("level", "block")))
    except content.ContentError as exc:
        flash_refusal(exc, "添加失败：")
        return redirect(url_for("content.sensitive"))
    flash(f"已添加 {added} 个敏感词" + (f"，{skipped} 个已存在或无效" if skipped else ""), "success")
    return redirect(url_for("content.sensitive", list=list_name.strip() or "默认"))


@bp.post("/content/sensitive/<int:word_id>")
@permission_required("content.manage")
def sensitive_update(word_id: int):
    enabled = request.form.get("enabled")
    try:
        write(lambda s: service.update_word(s, word_id, level=request.form.get("level") or None,
                                            enabled=None if enabled is None else enabled == "1"))
    except content.ContentError:
        abort(404)
    flash("已更新敏感词", "success")
    return redirect(safe_next(url_for("content.sensitive")))


@bp.post("/content/sensitive/delete")
@permission_required("content.manage")
def sensitive_delete():
    removed = write(lambda s: service.delete_words(s, selected_ids("ids")))
    flash(f"已删除 {removed} 个敏感词", "success")
    return redirect(safe_next(url_for("content.sensitive")))
