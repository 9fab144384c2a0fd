"""功能注册: every menu group and item as declared in web/navigation.py, with its permission and
whether its page exists here; an admin reorders (drag or ↑/↓), hides/shows, renames, or 恢复默认.
Changes are stored as overrides (crm/people/menu.py) and reach every user's sidebar on their next
request. Hiding is presentation only: a hidden page still opens for whoever holds its permission."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for

from crm.people import menu as store
from crm.people.errors import PeopleError
from crm.people.permissions import label as permission_label
from web import menu_registry
from web.auth.guards import permission_required
from web.extensions import services

bp = Blueprint("menu_admin", __name__)
KIND = "<any(group, item):kind>"


def _user() -> str:
    return g.user.username if g.get("user") is not None else ""


def _write(fn):
    """Menu overrides touch no engine definition: a plain unit of work, no engine reload."""
    with services().db.write() as session:
        return fn(session)


def _back(anchor: str = ""):
    return redirect(url_for("menu_admin.index") + (f"#{anchor}" if anchor else ""))


def _checked(kind: str, key: str) -> None:
    try:
        menu_registry.check_key(kind, key)
    except PeopleError:
        abort(404)


@bp.get("/system/menu")
@permission_required("menu.manage")
def index():
    groups = menu_registry.arranged()
    return render_template("menu_admin/index.html", groups=groups, views=set(current_app.view_functions),
                           permission_label=permission_label, overridden=bool(menu_registry.overrides()))


@bp.post(f"/system/menu/{KIND}/<key>/<any(hide, show):action>")
@permission_required("menu.manage")
def toggle(kind: str, key: str, action: str):
    _checked(kind, key)
    _write(lambda s: store.set_hidden(s, kind, key, action == "hide", _user()))
    flash(("已隐藏" if action == "hide" else "已显示") + "；所有用户的菜单刷新后生效", "success")
    return _back(key)


@bp.post(f"/system/menu/{KIND}/<key>/rename")
@permission_required("menu.manage")
def rename(kind: str, key: str):
    _checked(kind, key)
    try:
        _write(lambda s: store.rename(s, kind, key, request.form.get("label", ""), _user()))
    except PeopleError as exc:
        flash("改名失败：" + exc.message, "error")
        return _back(key)
    flash("名称已保存" if request.form.get("label", "").strip() else "已恢复默认名称", "success")
    return _back(key)


def _current_order(kind: str, group_key: str) -> list[str]:
    groups = menu_registry.arranged()
    if kind == "group":
        return [grp.key for grp in groups]
    return [i.endpoint for grp in groups if grp.key == group_key for i in grp.items]


def _group_of(endpoint: str) -> str:
    return next(grp.key for grp in menu_registry.arranged() for i in grp.items if i.endpoint == endpoint)


@bp.post(f"/system/menu/{KIND}/<key>/move/<any(up, down):direction>")
@permission_required("menu.manage")
def move(kind: str, key: str, direction: str):
    _checked(kind, key)
    order = _current_order(kind, "" if kind == "group" else _group_of(key))
    index = order.index(key)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(order):
        order[index], order[other] = order[other], order[index]
        _write(lambda s: store.set_order(s, kind, order, _user()))
    return _back(key)


@bp.post(f"/system/menu/{KIND}/reorder")
@permission_required("menu.manage")
def reorder(kind: str):
    """Drag and drop: {"order": [keys…]} for the groups, or for the items of ?group=<key>."""
    body = request.get_json(silent=True) or {}
    order = body.get("order")
    group_key = request.args.get("group", "")
    if not isinstance(order, list) or not all(isinstance(k, str) for k in order):
        return jsonify({"error": {"message": "顺序格式不正确", "errors": {}}}), 400
    try:
        menu_registry.check_order(kind, order, group_key)
        _write(lambda s: store.set_order(s, kind, order, _user()))
    except PeopleError as exc:
        return jsonify({"error": {"message": exc.message, "errors": {}}}), 400
    return jsonify({"order": order})


@bp.post("/system/menu/reset")
@permission_required("menu.manage")
def reset():
    count = _write(store.reset)
    flash(f"已恢复默认菜单（清除了 {count} 项调整）" if count else "菜单本来就是默认的", "success")
    return _back()
