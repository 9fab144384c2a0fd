"""站内通知管理: compose a notice (title, body, attachments), choose recipients by user, role or
department, keep drafts, send; 已发送 lists what went out. Recipients open it from their 站内通知."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from sqlmodel import select

from crm.errors import CrmError, NotFound
from crm.people.models import Department, Role
from crm.sales import notices as service
from web.auth.guards import has_permission, login_required, permission_required
from web.console.forms_common import PER_PAGE, error_map, page_arg, pages, read
from web.console.worktasks_forms import me, now, save, user_choices
from web.extensions import runtime

bp = Blueprint("notices", __name__)
TABS = {"draft": "草稿箱", "sent": "已发送"}


def _var_dir():
    return runtime().settings.var_dir


@bp.get("/notices")
@permission_required("notices.send")
def index():
    tab = request.args.get("tab", "draft")
    tab = tab if tab in TABS else "draft"
    rows, total = read(lambda s: service.list_notices(s, tab, page_arg(), PER_PAGE))
    return render_template("notices/list.html", tab=tab, tabs=TABS, rows=rows, total=total, page=page_arg(),
                           pages=pages(total))


def _choices(session) -> dict:
    return {"users": user_choices(session),
            "roles": [(r.id, r.name) for r in session.exec(select(Role).order_by(Role.id))],
            "departments": [(d.id, d.name) for d in session.exec(select(Department).order_by(Department.position,
                                                                                           Department.id))]}


def _form() -> dict:
    f = request.form
    return {"title": f.get("title", ""), "body": f.get("body", ""), **{k: f.getlist(k) for k in service.RECIPIENT_KINDS}}


def _page(notice, values, errors, status=200):
    return render_template("notices/form.html", notice=notice, values=values, errors=errors,
                           choices=read(_choices), max_mb=service.MAX_ATTACHMENT_BYTES // (1024 * 1024)), status


def _save_and_maybe_send(notice_id):
    values = _form()
    try:
        notice = save(lambda s: service.save_draft(s, values, me(), notice_id, now()))
    except CrmError as exc:
        current = read(lambda s: s.get(service.Notice, notice_id)) if notice_id else None
        return _page(current, {**values, "recipients": {k: values[k] for k in service.RECIPIENT_KINDS}},
                     error_map(exc), 400)
    try:
        upload = request.files.get("attachment")
        if upload is not None and upload.filename:
            save(lambda s: service.add_attachment(s, notice.id, upload.filename, upload.stream, _var_dir()))
        if request.form.get("action") == "send":
            count = save(lambda s: service.send_notice(s, notice.id, now()))
            flash(f"通知已发送给 {count} 位用户", "success")
            return redirect(url_for("notices.index", tab="sent"))
    except CrmError as exc:
        # The draft itself is saved; say what stopped the rest and stay on it.
        flash(exc.message, "error")
        return redirect(url_for("notices.edit", notice_id=notice.id))
    flash("草稿已保存", "success")
    return redirect(url_for("notices.edit", notice_id=notice.id))


@bp.route("/notices/new", methods=["GET", "POST"])
@permission_required("notices.send")
def new():
    if request.method == "POST":
        return _save_and_maybe_send(None)
    return _page(None, {"title": "", "body": "", "recipients": {}}, {})


@bp.route("/notices/<int:notice_id>", methods=["GET", "POST"])
@permission_required("notices.send")
def edit(notice_id: int):
    try:
        notice = read(lambda s: service.get_notice(s, notice_id))
    except NotFound:
        abort(404)
    if notice.status != "draft":
        return redirect(url_for("notices.read_notice", notice_id=notice_id))
    if request.method == "POST":
        return _save_and_maybe_send(notice_id)
    return _page(notice, {"title": notice.title, "body": notice.body, "recipients": notice.recipients}, {})


@bp.post("/notices/<int:notice_id>/attachments/<att_id>/delete")
@permission_required("notices.send")
def remove_attachment(notice_id: int, att_id: str):
    try:
        save(lambda s: service.remove_attachment(s, notice_id, att_id, _var_dir()))
    except CrmError as exc:
        flash(exc.message, "error")
    return redirect(url_for("notices.edit", notice_id=notice_id))


@bp.post("/notices/<int:notice_id>/delete")
@permission_required("notices.send")
def delete(notice_id: int):
    try:
        save(lambda s: service.delete_draft(s, notice_id, _var_dir()))
    except CrmError as exc:
        flash(exc.message, "error")
    else:
        flash("草稿已删除", "success")
    return redirect(url_for("notices.index"))


def _readable(notice_id: int):
    def load(s):
        notice = service.get_notice(s, notice_id)
        if not service.can_read(s, notice, me(), has_permission("notices.send")):
            abort(404)
        return notice

    try:
        return read(load)
    except NotFound:
        abort(404)


@bp.get("/notices/<int:notice_id>/read")
@login_required
def read_notice(notice_id: int):
    """What a recipient opens from their 站内通知 (the notification links here)."""
    return render_template("notices/read.html", notice=_readable(notice_id))


@bp.get("/notices/<int:notice_id>/attachments/<att_id>")
@login_required
def attachment(notice_id: int, att_id: str):
    notice = _readable(notice_id)
    try:
        path, name = service.attachment_file(notice, att_id, _var_dir())
    except NotFound:
        abort(404)
    return send_file(path, as_attachment=True, download_name=name)
