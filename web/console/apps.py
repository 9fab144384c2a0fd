"""应用管理: the third-party systems allowed to post events, their keys, secrets and IP allow-lists.

A secret is shown exactly once (on creation and on rotation) and never again: the page that
shows it is a direct answer to the POST and is marked no-store.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for

from events import apps as service
from events.errors import EventsError, NotFound
from web.auth.forms import form_value
from web.auth.guards import permission_required
from web.console.forms_common import error_map, read, write
from web.extensions import runtime

bp = Blueprint("apps", __name__)


@bp.get("/apps")
@permission_required("apps.view")
def index():
    rt = runtime()
    return render_template("apps/list.html", rows=read(service.list_apps), now=rt.services.now(),
                           grace_hours=rt.settings.secret_rotation_grace_hours)


def _form_data() -> dict:
    return {"name": form_value("name"), "ip_allowlist": request.form.get("ip_allowlist", ""),
            "remark": form_value("remark"), "enabled": request.form.get("enabled", "1") == "1"}


def _show_secret(app, secret: str, rotated: bool):
    grace = runtime().settings.secret_rotation_grace_hours
    response = make_response(render_template("apps/secret.html", app=app, secret=secret, rotated=rotated,
                                             grace_hours=grace))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/apps/new", methods=["GET", "POST"])
@permission_required("apps.manage")
def new():
    values = {"name": "", "ip_allowlist": "", "remark": "", "enabled": True}
    if request.method == "POST":
        values = _form_data()
        box = runtime().services.secret_box
        try:
            app, secret = write(lambda s: service.create_app_record(s, box, values))
        except EventsError as exc:
            return render_template("apps/form.html", app=None, values=values, errors=error_map(exc)), 400
        return _show_secret(app, secret, rotated=False)
    return render_template("apps/form.html", app=None, values=values, errors={})


@bp.route("/apps/<int:app_id>/edit", methods=["GET", "POST"])
@permission_required("apps.manage")
def edit(app_id: int):
    try:
        app = read(lambda s: service.get_app(s, app_id))
    except NotFound:
        abort(404)
    values = {"name": app.name, "ip_allowlist": "\n".join(app.ip_allowlist or []), "remark": app.remark,
              "enabled": app.enabled}
    if request.method == "POST":
        values = _form_data()
        try:
            write(lambda s: service.update_app_record(s, app_id, values))
        except EventsError as exc:
            return render_template("apps/form.html", app=app, values=values, errors=error_map(exc)), 400
        flash(f"已保存应用「{values['name']}」", "success")
        return redirect(url_for("apps.index"))
    return render_template("apps/form.html", app=app, values=values, errors={})


@bp.post("/apps/<int:app_id>/enabled")
@permission_required("apps.manage")
def set_enabled(app_id: int):
    enabled = request.form.get("enabled") == "1"
    try:
        app = write(lambda s: service.set_app_enabled(s, app_id, enabled))
    except NotFound:
        abort(404)
    flash(f"已{'启用' if enabled else '禁用'}应用「{app.name}」", "success")
    return redirect(url_for("apps.index"))


@bp.post("/apps/<int:app_id>/rotate")
@permission_required("apps.manage")
def rotate(app_id: int):
    svc = runtime().services
    try:
        secret = write(lambda s: service.rotate_secret(s, svc.secret_box, app_id, svc.now(),
                                                       svc.settings.secret_rotation_grace_hours))
        app = read(lambda s: service.get_app(s, app_id))
    except NotFound:
        abort(404)
    return _show_secret(app, secret, rotated=True)


@bp.post("/apps/<int:app_id>/delete")
@permission_required("apps.manage")
def delete(app_id: int):
    try:
        write(lambda s: service.delete_app_record(s, app_id))
    except NotFound:
        abort(404)
    flash("已删除应用；使用该应用密钥的请求将被拒绝", "success")
    return redirect(url_for("apps.index"))
